/* neonflow__http_call against a scripted HTTP responder on loopback (one
 * canned answer per connection), with the fake sys seam: headers sent, trace
 * redaction, success bodies, error mapping, Retry-After (seconds and date),
 * the GET/POST rules for 5xx and lost or truncated answers, size cap. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "http-fakes.h"

/* ---- scripted answers ----------------------------------------------------------- */


static void test_headers_trace_and_success(void **state)
{
    (void)state;
    const step steps[] = {
        {mk("200 OK", "Content-Type: application/json\r\n", "{\"branches\": [] }\n")},
        {mk("200 OK", "", "{\"id\":\"b1\"}")},
        {"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"},
    };
    responder r;
    responder_start(&r, steps, 3);
    fake f = {.rnd = 0xabcdef};
    neonflow_client *c = make_client(r.port, &f, 2, 1);
    neonflow__response resp;
    neonflow__request get = {"GET", "/projects/p-1/branches?limit=100", "/projects/{p}/branches", NULL};
    assert_int_equal(neonflow__http_call(c, NULL, &get, &resp, NULL), NEONFLOW_OK);
    assert_int_equal(resp.status, 200);
    assert_true(json_is_array(json_object_get(resp.json, "branches")));
    assert_int_equal(resp.attempts, 1);
    assert_string_equal(resp.request_id, "nf-0000000000abcdef0000000000abcdef");
    neonflow__response_clear(&resp);
    assert_null(resp.json);

    json_t *body = json_pack("{s:{s:s}}", "branch", "name", "dev");
    neonflow__request post = {"POST", "/projects/p-1/branches", "/projects/{p}/branches", body};
    assert_int_equal(neonflow__http_call(c, NULL, &post, &resp, NULL), NEONFLOW_OK);
    assert_string_equal(json_string_value(json_object_get(resp.json, "id")), "b1");
    neonflow__response_clear(&resp);
    json_decref(body);

    neonflow__request del = {"DELETE", "/projects/p-1/branches/b1", "/projects/{p}/branches/{b}", NULL};
    assert_int_equal(neonflow__http_call(c, NULL, &del, &resp, NULL), NEONFLOW_OK);
    assert_int_equal(resp.status, 204);
    assert_null(resp.json);
    responder_stop(&r);

    /* what the server saw */
    const char *g = r.reqs[0];
    assert_non_null(strstr(g, "GET /api/v2/projects/p-1/branches?limit=100 HTTP/1.1\r\n"));
    assert_non_null(strstr(g, "\r\nAuthorization: Bearer " KEY "\r\n"));
    assert_non_null(strstr(g, "\r\nAccept: application/json\r\n"));
    assert_non_null(strstr(g, "\r\nUser-Agent: libneonflow/"));
    assert_non_null(strstr(g, "\r\nX-Request-ID: nf-0000000000abcdef0000000000abcdef\r\n"));
    assert_null(strcasestr(g, "Content-Type"));
    assert_null(strcasestr(g, "Expect:"));
    const char *p = r.reqs[1];
    assert_non_null(strstr(p, "POST /api/v2/projects/p-1/branches HTTP/1.1\r\n"));
    assert_non_null(strstr(p, "\r\nContent-Type: application/json\r\n"));
    assert_non_null(strstr(p, "\r\n\r\n{\"branch\":{\"name\":\"dev\"}}"));
    const char *d = r.reqs[2];
    assert_non_null(strstr(d, "DELETE /api/v2/projects/p-1/branches/b1 HTTP/1.1\r\n"));
    assert_null(strcasestr(d, "Content-Type"));
    assert_null(strcasestr(d, "Content-Length"));

    /* the trace saw the headers, with the key redacted */
    assert_non_null(strstr(tracebuf, "Authorization: Bearer ***\r\n"));
    assert_non_null(strstr(tracebuf, "X-Request-ID: nf-"));
    assert_null(strstr(tracebuf, KEY));
    assert_null(strstr(logbuf, KEY));
    neonflow_client_free(c);
    mk_free_all();
}

static void test_error_mapping(void **state)
{
    (void)state;
    const step steps[] = {
        {mk("404 Not Found", "",
            "{\"code\":\"NOT_FOUND\",\"message\":\"branch not found\",\"request_id\":\"srv-1\"}")},
        {mk("409 Conflict", "X-Request-ID: hdr-2\r\n",
            "{\"error\":{\"code\":\"DUP\",\"message\":\"exists\"}}")},
        {mk("401 Unauthorized", "", "{\"code\":\"\",\"message\":\"bad key " KEY "\"}")},
        {mk("502 Bad Gateway", "", "<html></html>")},
        {mk("200 OK", "", "{\"id\": 1,")},
    };
    responder r;
    responder_start(&r, steps, 5);
    fake f = {.rnd = 1};
    neonflow_client *c = make_client(r.port, &f, 0, 0);
    neonflow__request get = {"GET", "/projects/p/branches/b", NULL, NULL};
    neonflow__response resp;
    neonflow_error *err = NULL;

    assert_int_equal(neonflow__http_call(c, NULL, &get, &resp, &err), NEONFLOW_ENOTFOUND);
    assert_int_equal(neonflow_error_http_status(err), 404);
    assert_string_equal(neonflow_error_neon_code(err), "NOT_FOUND");
    assert_string_equal(neonflow_error_request_id(err), "srv-1");
    assert_string_equal(neonflow_error_message(err),
                        "GET /projects/p/branches/b: HTTP 404: branch not found (code NOT_FOUND)");
    assert_int_equal(neonflow_error_is_retryable(err), 0);
    assert_int_equal(resp.status, 404);
    neonflow_error_free(err);
    err = NULL;

    neonflow__request post = {"POST", "/projects/p/branches", NULL, NULL};
    assert_int_equal(neonflow__http_call(c, NULL, &post, NULL, &err), NEONFLOW_ECONFLICT);
    assert_string_equal(neonflow_error_neon_code(err), "DUP");
    assert_string_equal(neonflow_error_request_id(err), "hdr-2");
    assert_non_null(strstr(neonflow_error_message(err), "HTTP 409: exists"));
    neonflow_error_free(err);
    err = NULL;

    assert_int_equal(neonflow__http_call(c, NULL, &get, NULL, &err), NEONFLOW_EAUTH);
    assert_non_null(strstr(neonflow_error_message(err), "bad key ***"));
    assert_int_equal(strncmp(neonflow_error_request_id(err), "nf-", 3), 0); /* the one sent */
    assert_no_key(err);
    neonflow_error_free(err);
    err = NULL;

    assert_int_equal(neonflow__http_call(c, NULL, &get, NULL, &err), NEONFLOW_ESERVER);
    assert_non_null(strstr(neonflow_error_message(err), "HTTP 502: <html></html>"));
    assert_int_equal(neonflow_error_is_retryable(err), 1);
    neonflow_error_free(err);
    err = NULL;

    assert_int_equal(neonflow__http_call(c, NULL, &get, &resp, &err), NEONFLOW_EPROTOCOL);
    assert_non_null(strstr(neonflow_error_message(err), "not valid JSON"));
    assert_null(resp.json);
    neonflow_error_free(err);
    responder_stop(&r);
    neonflow_client_free(c);
    mk_free_all();
}

static void test_retry_after_and_method_rules(void **state)
{
    (void)state;
    const step steps[] = {
        /* GET: 503 with Retry-After 2, then 500, then success */
        {mk("503 Service Unavailable", "Retry-After: 2\r\n", "{}")},
        {mk("500 Internal Server Error", "", "{}")},
        {mk("200 OK", "", "{}")},
        /* POST: 500 is final */
        {mk("500 Internal Server Error", "", "{}")},
        /* POST: 423 retried, then a truncated answer: uncertain, not replayed */
        {mk("423 Locked", "", "{}")},
        {TRUNCATED},
    };
    responder r;
    responder_start(&r, steps, 6);
    fake f = {.rnd = 0};
    neonflow_client *c = make_client(r.port, &f, 5, 0);
    notes nt = {0};
    neonflow__call_ctx ctx = {.notify = on_note, .notify_payload = &nt};
    neonflow__request get = {"GET", "/projects/p/operations", NULL, NULL};
    neonflow__request post = {"POST", "/projects/p/branches/b/snapshot", NULL, NULL};
    neonflow__response resp;
    neonflow_error *err = NULL;

    assert_int_equal(neonflow__http_call(c, &ctx, &get, &resp, &err), NEONFLOW_OK);
    assert_int_equal(resp.attempts, 3);
    assert_int_equal(ctx.retries, 2);
    assert_int_equal(f.nsleeps, 2);
    assert_int_equal(f.sleeps[0], 2000); /* Retry-After wins over jitter 0 */
    assert_int_equal(f.sleeps[1], 0);
    assert_int_equal(nt.retry, 2);
    neonflow__response_clear(&resp);

    f.nsleeps = 0;
    assert_int_equal(neonflow__http_call(c, &ctx, &post, &resp, &err), NEONFLOW_ESERVER);
    assert_int_equal(resp.attempts, 1);
    assert_int_equal(neonflow_error_is_retryable(err), 0);
    neonflow_error_free(err);
    err = NULL;

    assert_int_equal(neonflow__http_call(c, &ctx, &post, &resp, &err), NEONFLOW_EUNCERTAIN);
    assert_int_equal(resp.attempts, 2);
    assert_non_null(strstr(neonflow_error_message(err), "read the state back"));
    assert_non_null(strstr(logbuf, "not replayed"));
    neonflow_error_free(err);
    err = NULL;

    responder_stop(&r);
    assert_int_equal(r.served, 6);
    /* GET: a truncated answer, then a dropped connection: both retried */
    responder r2;
    const step get_steps[] = {{TRUNCATED}, {NULL}, {mk("200 OK", "", "{}")}};
    responder_start(&r2, get_steps, 3);
    neonflow_client_free(c);
    c = make_client(r2.port, &f, 5, 0);
    assert_int_equal(neonflow__http_call(c, NULL, &get, &resp, &err), NEONFLOW_OK);
    assert_int_equal(resp.attempts, 3);
    neonflow__response_clear(&resp);
    responder_stop(&r2);
    assert_int_equal(r2.served, 3);
    neonflow_client_free(c);
    mk_free_all();
}

static void test_retry_after_date_garbage_and_too_long(void **state)
{
    (void)state;
    const step steps[] = {
        /* an HTTP-date 10 s after the fake wall clock */
        {mk("503 Service Unavailable", "Retry-After: Wed, 21 Oct 2015 07:28:10 GMT\r\n", "{}")},
        {mk("200 OK", "", "{}")},
        /* garbage: plain jitter (0 with this random source) */
        {mk("429 Too Many Requests", "Retry-After: soon\r\n", "{}")},
        {mk("200 OK", "", "{}")},
        /* an hour: not waited for */
        {mk("429 Too Many Requests", "Retry-After: 3600\r\n",
            "{\"code\":\"RATE\",\"message\":\"slow down\"}")},
    };
    responder r;
    responder_start(&r, steps, 5);
    fake f = {.now = 0, .wall = 1445412480000LL, .rnd = 0};
    neonflow_client *c = make_client(r.port, &f, 3, 0);
    neonflow__request get = {"GET", "/projects", NULL, NULL};
    assert_int_equal(neonflow__http_call(c, NULL, &get, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(f.nsleeps, 1);
    assert_int_equal(f.sleeps[0], 10000);
    f.nsleeps = 0;
    assert_int_equal(neonflow__http_call(c, NULL, &get, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(f.nsleeps, 1);
    assert_int_equal(f.sleeps[0], 0);
    f.nsleeps = 0;
    neonflow_error *err = NULL;
    neonflow__response resp;
    assert_int_equal(neonflow__http_call(c, NULL, &get, &resp, &err), NEONFLOW_ERATELIMIT);
    /* only its paced slot (no burst right after a 429), never the hour */
    assert_int_equal(f.nsleeps, 1);
    assert_true(f.sleeps[0] > 0 && f.sleeps[0] < 1000);
    assert_int_equal(resp.attempts, 1);
    assert_int_equal(neonflow_error_is_retryable(err), 1);
    assert_string_equal(neonflow_error_neon_code(err), "RATE");
    assert_non_null(strstr(neonflow_error_message(err), "HTTP 429: slow down"));
    assert_non_null(strstr(neonflow_error_message(err), "5 minutes"));
    neonflow_error_free(err);
    responder_stop(&r);
    assert_int_equal(r.served, 5);
    neonflow_client_free(c);
    mk_free_all();
}

static void test_too_big(void **state)
{
    (void)state;
    static char big[8192];
    int n = snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3000\r\n\r\n\"");
    memset(big + n, 'a', 2998);
    big[n + 2998] = '"';
    big[n + 2999] = '\0';
    static char chunked[8192];
    n = snprintf(chunked, sizeof(chunked),
                 "HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nBB8\r\n\"");
    memset(chunked + n, 'b', 2998);
    snprintf(chunked + n + 2998, sizeof(chunked) - (size_t)n - 2998, "\"\r\n0\r\n\r\n");
    step steps[] = {{big}, {chunked}};
    responder r;
    responder_start(&r, steps, 2);
    neonflow_client_options *o = NULL;
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)r.port);
    neonflow_client_options_new(&o);
    neonflow_client_options_set_api_key(o, KEY);
    neonflow_client_options_set_base_url(o, url);
    neonflow_client_options_set_max_response_bytes(o, 1024);
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    neonflow__request get = {"GET", "/x", NULL, NULL};
    neonflow_error *err = NULL;
    /* with Content-Length, and without (streamed) */
    assert_int_equal(neonflow__http_call(c, NULL, &get, NULL, &err), NEONFLOW_ETOOBIG);
    assert_non_null(strstr(neonflow_error_message(err), "1024"));
    neonflow_error_free(err);
    err = NULL;
    assert_int_equal(neonflow__http_call(c, NULL, &get, NULL, &err), NEONFLOW_ETOOBIG);
    neonflow_error_free(err);
    responder_stop(&r);
    assert_int_equal(r.served, 2);
    neonflow_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers_trace_and_success),
        cmocka_unit_test(test_error_mapping),
        cmocka_unit_test(test_retry_after_and_method_rules),
        cmocka_unit_test(test_retry_after_date_garbage_and_too_long),
        cmocka_unit_test(test_too_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
