/* TLS: certificate verification is on by default (an untrusted certificate
 * is refused and not retried), and the CA-file option makes it trusted; so
 * does an in-memory CA bundle. The minimum TLS version refuses a server that
 * speaks only older ones. A proxy carries https requests in a CONNECT tunnel
 * (it never sees the key), and libcurl's proxy variables apply only when the
 * client enables the environment. The emulator serves HTTPS with the
 * self-signed certificate in tests/data/tls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emulator.h"
#include "loopback_proxy.h"
#include "neonflow/neonflow.h"

#define PROJECT "p-tls"
#define CERT TLS_DIR "/localhost.pem"
#define KEY TLS_DIR "/localhost.key"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (buf && n == 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

typedef struct tls_fixture {
    emu_server *s;
    char *cert, *key;
} tls_fixture;

static int setup_with(void **state, const char *priorities)
{
    tls_fixture *f = calloc(1, sizeof(*f));
    f->cert = slurp(CERT);
    f->key = slurp(KEY);
    if (!f->cert || !f->key)
        return -1;
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.api_key = "tls-key";
    cfg.tls_cert_pem = f->cert;
    cfg.tls_key_pem = f->key;
    cfg.tls_priorities = priorities;
    if (emu_start(&f->s, &cfg) != 0 || emu_add_project(f->s, PROJECT, "main", NULL, NULL) != 0)
        return -1;
    *state = f;
    return 0;
}

static int setup(void **state) { return setup_with(state, NULL); }

/* A server that speaks TLS 1.2 and nothing newer. */
static int setup_tls12_only(void **state) { return setup_with(state, "NORMAL:-VERS-TLS1.3"); }

static int teardown(void **state)
{
    tls_fixture *f = *state;
    emu_stop(f->s);
    free(f->cert);
    free(f->key);
    free(f);
    return 0;
}

static neonflow_client *client(tls_fixture *f, const char *ca_file)
{
    neonflow_client_options *o = NULL;
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(o, "tls-key"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(o, emu_base_url(f->s)), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_retry_backoff(o, 1, 5), NEONFLOW_OK);
    if (ca_file)
        assert_int_equal(neonflow_client_options_set_ca_file(o, ca_file), NEONFLOW_OK);
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    return c;
}

static void test_untrusted_certificate_refused(void **state)
{
    tls_fixture *f = *state;
    assert_true(strncmp(emu_base_url(f->s), "https://", 8) == 0);
    neonflow_client *c = client(f, NULL);
    neonflow_branch_list *l = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_branches_list(&l, c, PROJECT, NULL, NULL, &err), NEONFLOW_ETLS);
    assert_null(l);
    assert_int_equal(neonflow_error_is_retryable(err), 0);
    assert_null(strstr(neonflow_error_message(err), "tls-key"));
    neonflow_error_free(err);
    /* the request never reached the API */
    assert_int_equal(emu_requests(f->s, NULL, NULL), 0);
    neonflow_client_free(c);
}

static void test_ca_file_makes_it_trusted(void **state)
{
    tls_fixture *f = *state;
    neonflow_client *c = client(f, CERT);
    neonflow_branch_list *l = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_branches_list(&l, c, PROJECT, NULL, NULL, &err);
    if (rc != NEONFLOW_OK)
        fail_msg("%s: %s", neonflow_error_name(rc), neonflow_error_message(err));
    assert_int_equal(neonflow_branch_list_count(l), 1);
    neonflow_branch_list_free(l);
    neonflow_client_free(c);
}

/* Options on top of the key, base URL and fast retries. */
typedef struct extra {
    int ca_blob;         /* the emulator's certificate as an in-memory CA bundle */
    int32_t tls_min;     /* 0 = default */
    const char *proxy;
    int use_environment;
    int max_retries;     /* -1 = default */
} extra;

static int info_has_tls13;

static void trace(const neonflow_trace_record *rec, void *payload)
{
    int32_t kind = neonflow_trace_record_kind(rec);
    const char *data = neonflow_trace_record_data(rec);
    size_t len = neonflow_trace_record_data_len(rec);
    (void)payload;
    if (kind == NEONFLOW_TRACE_INFO && len >= 7 && memmem(data, len, "TLSv1.3", 7))
        info_has_tls13 = 1;
}

static int list_with(tls_fixture *f, const extra *x, neonflow_error **err)
{
    neonflow_client_options *o = NULL;
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(o, "tls-key"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(o, emu_base_url(f->s)), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_retry_backoff(o, 1, 5), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_trace_hook(o, trace, NULL, NULL), NEONFLOW_OK);
    if (x->max_retries >= 0)
        assert_int_equal(neonflow_client_options_set_max_retries(o, x->max_retries), NEONFLOW_OK);
    if (x->ca_blob)
        assert_int_equal(neonflow_client_options_set_ca_blob(o, f->cert, strlen(f->cert)), NEONFLOW_OK);
    if (x->tls_min)
        assert_int_equal(neonflow_client_options_set_tls_min_version(o, x->tls_min), NEONFLOW_OK);
    if (x->proxy)
        assert_int_equal(neonflow_client_options_set_proxy(o, x->proxy), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_use_environment(o, x->use_environment), NEONFLOW_OK);
    int rc = neonflow_client_new(&c, o, err);
    neonflow_client_options_free(o); /* the client keeps its own copy of the bundle */
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow_branch_list *l = NULL;
    rc = neonflow_branches_list(&l, c, PROJECT, NULL, NULL, err);
    if (rc == NEONFLOW_OK)
        assert_int_equal(neonflow_branch_list_count(l), 1);
    neonflow_branch_list_free(l);
    neonflow_client_free(c);
    return rc;
}

static void expect_ok(tls_fixture *f, const extra *x)
{
    neonflow_error *err = NULL;
    int rc = list_with(f, x, &err);
    if (rc != NEONFLOW_OK)
        fail_msg("%s: %s", neonflow_error_name(rc), neonflow_error_message(err));
    neonflow_error_free(err);
}

static void test_ca_blob_makes_it_trusted(void **state)
{
    tls_fixture *f = *state;
    extra x = {.ca_blob = 1, .max_retries = -1};
    expect_ok(f, &x);
    assert_int_equal(emu_requests(f->s, NULL, NULL), 1);
}

static void test_tls_1_3_minimum_is_applied(void **state)
{
    tls_fixture *f = *state;
    info_has_tls13 = 0;
    extra x = {.ca_blob = 1, .tls_min = NEONFLOW_TLS_1_3, .max_retries = -1};
    expect_ok(f, &x);
    assert_true(info_has_tls13); /* curl's own account of the handshake */
}

static void test_tls_1_3_minimum_refuses_a_tls_1_2_server(void **state)
{
    tls_fixture *f = *state;
    /* the default minimum (1.2) talks to it */
    extra x = {.ca_blob = 1, .max_retries = -1};
    expect_ok(f, &x);
    assert_int_equal(emu_requests(f->s, NULL, NULL), 1);
    x.tls_min = NEONFLOW_TLS_1_3;
    neonflow_error *err = NULL;
    assert_int_equal(list_with(f, &x, &err), NEONFLOW_ETLS);
    neonflow_error_free(err);
    assert_int_equal(emu_requests(f->s, NULL, NULL), 1); /* the refused one never reached the API */
}

static void test_proxy_tunnels_https_without_seeing_the_key(void **state)
{
    tls_fixture *f = *state;
    loopback_proxy *p = NULL;
    assert_int_equal(lp_start(&p), 0);
    extra x = {.ca_blob = 1, .proxy = lp_url(p), .max_retries = 0};
    expect_ok(f, &x);
    assert_int_equal(lp_tunnels(p), 1);
    assert_true(lp_bytes_up(p) > 0);
    assert_int_equal(emu_requests(f->s, NULL, NULL), 1);
    char heads[8192], want[128];
    lp_heads(p, heads, sizeof(heads));
    const char *port = strrchr(emu_base_url(f->s), ':') + 1;
    snprintf(want, sizeof(want), "CONNECT 127.0.0.1:%d HTTP/1.1\r\n", atoi(port));
    assert_non_null(strstr(heads, want));
    assert_null(strstr(heads, "tls-key"));
    assert_null(strstr(heads, "Authorization"));
    lp_stop(p);
}

/* libcurl reads https_proxy and no_proxy itself: that is environment too. */
static void test_proxy_variables_only_with_the_environment(void **state)
{
    tls_fixture *f = *state;
    loopback_proxy *p = NULL;
    assert_int_equal(lp_start(&p), 0);
    setenv("https_proxy", lp_url(p), 1);
    setenv("HTTPS_PROXY", lp_url(p), 1);
    extra x = {.ca_blob = 1, .max_retries = 0};
    expect_ok(f, &x);
    assert_int_equal(lp_tunnels(p), 0); /* straight to the server */
    x.use_environment = 1;
    expect_ok(f, &x);
    assert_int_equal(lp_tunnels(p), 1);
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");

    /* an explicit proxy is not bypassed by the process's no_proxy */
    setenv("no_proxy", "127.0.0.1", 1);
    setenv("NO_PROXY", "127.0.0.1", 1);
    extra y = {.ca_blob = 1, .proxy = lp_url(p), .max_retries = 0};
    expect_ok(f, &y);
    assert_int_equal(lp_tunnels(p), 2);
    y.use_environment = 1; /* with it: the variable applies */
    expect_ok(f, &y);
    assert_int_equal(lp_tunnels(p), 2);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    lp_stop(p);
}

int main(void)
{
    if (!emu_tls_supported()) {
        printf("1..0 # SKIP libmicrohttpd was built without TLS\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_untrusted_certificate_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_file_makes_it_trusted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_blob_makes_it_trusted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_1_3_minimum_is_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_1_3_minimum_refuses_a_tls_1_2_server, setup_tls12_only, teardown),
        cmocka_unit_test_setup_teardown(test_proxy_tunnels_https_without_seeing_the_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proxy_variables_only_with_the_environment, setup, teardown),
    };
    return cmocka_run_group_tests_name("tls", tests, NULL, NULL);
}
