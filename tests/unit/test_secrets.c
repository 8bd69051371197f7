/* The API key never leaves the library, whole or in part: a server or proxy
 * reflecting it (in X-Request-ID, the error body's message, code or
 * request_id, percent-encoded, past the length where fields are cut, in a
 * page that is not JSON), or the key passed by mistake as a project ID, gets
 * it into no error field, log line or trace line. Real libcurl against a
 * scripted responder on loopback. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http-fakes.h"
#include "core/scrub.h"
#include "neonflow/neonflow.h"

/* KEY (http-fakes.h) is "napi_unit_secret_key_0123456789". */
#define KEY_PCT "napi%5Funit%5Fsecret%5Fkey%5F0123456789"

static char alltrace[262144];
static size_t alltrace_len;
static void on_any_trace(const neonflow_trace_record *rec, void *payload)
{
    int32_t kind = neonflow_trace_record_kind(rec);
    const char *data = neonflow_trace_record_data(rec);
    size_t len = neonflow_trace_record_data_len(rec);
    (void)kind, (void)payload;
    if (alltrace_len + len + 1 < sizeof(alltrace)) {
        memcpy(alltrace + alltrace_len, data, len);
        alltrace_len += len;
        alltrace[alltrace_len++] = '\n';
    }
}

static neonflow_client *client_with_key(uint16_t port, const char *key)
{
    neonflow_client_options *o = NULL;
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v2", (unsigned)port);
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(o, key), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(o, url), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_max_retries(o, 0), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_level(o, NEONFLOW_LOG_DEBUG), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_hook(o, on_log, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_trace_hook(o, on_any_trace, NULL, NULL), NEONFLOW_OK);
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    logbuf[0] = '\0';
    alltrace_len = 0;
    return c;
}

/* No field of e, no log line, no trace line holds the key in any form. */
static void assert_key_nowhere(const neonflow_error *e, const char *key, const char *what)
{
    const char *fields[] = {neonflow_error_message(e), neonflow_error_request_id(e), neonflow_error_neon_code(e),
                            neonflow_error_path(e), neonflow_error_method(e)};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (neonflow__scrub_found(fields[i], strlen(fields[i]), key))
            fail_msg("%s: error field %zu holds the key: %s", what, i, fields[i]);
    if (neonflow__scrub_found(logbuf, strlen(logbuf), key))
        fail_msg("%s: a log line holds the key:\n%s", what, logbuf);
    if (neonflow__scrub_found(alltrace, alltrace_len, key))
        fail_msg("%s: a trace line holds the key", what);
    /* and no piece of it survives a cut either */
    if (strstr(neonflow_error_message(e), "napi_u") || strstr(neonflow_error_request_id(e), "napi_u") ||
        strstr(neonflow_error_neon_code(e), "napi_u"))
        fail_msg("%s: a cut piece of the key is left: %s / %s / %s", what, neonflow_error_message(e),
                 neonflow_error_request_id(e), neonflow_error_neon_code(e));
}

static int branch_get(neonflow_client *c, const char *project, neonflow_error **err)
{
    neonflow_branch *b = NULL;
    int rc = neonflow_branch_get(&b, c, project, "br-1", NULL, err);
    neonflow_branch_free(b);
    return rc;
}

static void test_server_reflects_the_key(void **state)
{
    (void)state;
    char pad[700];
    memset(pad, 'p', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    char body_long[2000], rid_hdr[400], body_cut[2000];
    /* the message is cut at 512 bytes and the header value at 128: the key
     * straddles both cuts */
    snprintf(body_long, sizeof(body_long), "{\"message\":\"%.500s %s\",\"code\":\"X-%s\",\"request_id\":\"%s\"}",
             pad, KEY, KEY, KEY);
    snprintf(rid_hdr, sizeof(rid_hdr), "X-Request-ID: %.120s%s\r\n", pad, KEY);
    snprintf(body_cut, sizeof(body_cut), "<html>%.190s %s</html>", pad, KEY);
    const step steps[] = {
        {mk("401 Unauthorized", "X-Request-ID: reflected-" KEY "\r\nX-Echo: " KEY "\r\n",
            "{\"message\":\"bad token " KEY "\",\"code\":\"" KEY "\",\"request_id\":\"" KEY "\"}")},
        {mk("403 Forbidden", rid_hdr, body_long)},
        {mk("400 Bad Request", "", "{\"message\":\"token=" KEY_PCT " and \\u006eapi_unit_secret_key_0123456789\"}")},
        {mk("502 Bad Gateway", "Content-Type: text/html\r\n", body_cut)},
        {mk("404 Not Found", "", "{\"error\":{\"message\":\"" KEY "\",\"code\":\"" KEY "\"},\"request_id\":\"" KEY "\"}")},
    };
    const char *what[] = {"reflected everywhere", "reflected past the cuts", "percent- and JSON-escaped",
                          "proxy page", "nested error"};
    responder r;
    responder_start(&r, steps, 5);
    neonflow_client *c = client_with_key(r.port, KEY);
    for (int i = 0; i < 5; i++) {
        neonflow_error *err = NULL;
        logbuf[0] = '\0';
        alltrace_len = 0;
        assert_int_not_equal(branch_get(c, "p-1", &err), NEONFLOW_OK);
        assert_non_null(err);
        assert_key_nowhere(err, KEY, what[i]);
        neonflow_error_free(err);
    }
    neonflow_client_free(c);
    responder_stop(&r);
    mk_free_all();
}

/* The key given as the project ID: refused as an ID (it holds '_'), and the
 * message names the problem without it. */
static void test_key_as_project_id(void **state)
{
    (void)state;
    responder r;
    responder_start(&r, NULL, 0);
    neonflow_client *c = client_with_key(r.port, KEY);
    neonflow_error *err = NULL;
    assert_int_equal(branch_get(c, KEY, &err), NEONFLOW_EINVAL);
    assert_non_null(strstr(neonflow_error_message(err), "project_id"));
    assert_key_nowhere(err, KEY, "key as project id");
    neonflow_error_free(err);
    /* a control character in an ID is escaped in the message */
    err = NULL;
    assert_int_equal(branch_get(c, "p-\x1b[2J", &err), NEONFLOW_EINVAL);
    assert_null(strchr(neonflow_error_message(err), '\x1b'));
    assert_non_null(strstr(neonflow_error_message(err), "\\x1b[2J"));
    neonflow_error_free(err);
    neonflow_client_free(c);
    responder_stop(&r);
}

/* A key that is a valid ID goes into the URL: the path field, the message
 * and the server's echo of the path are scrubbed. */
static void test_id_shaped_key_in_the_path(void **state)
{
    (void)state;
    const char *key = "abcdefghij0123456789klmnopqrst";
    const step steps[] = {
        {mk("404 Not Found", "", "{\"message\":\"no project /projects/abcdefghij0123456789klmnopqrst\"}")},
    };
    responder r;
    responder_start(&r, steps, 1);
    neonflow_client *c = client_with_key(r.port, key);
    neonflow_error *err = NULL;
    assert_int_equal(branch_get(c, key, &err), NEONFLOW_ENOTFOUND);
    assert_key_nowhere(err, key, "key in the path");
    assert_non_null(strstr(neonflow_error_path(err), "/projects/***/branches/br-1"));
    neonflow_error_free(err);
    neonflow_client_free(c);
    responder_stop(&r);
    mk_free_all();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_reflects_the_key),
        cmocka_unit_test(test_key_as_project_id),
        cmocka_unit_test(test_id_shaped_key_in_the_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
