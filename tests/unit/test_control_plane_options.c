/* What a control plane configures: the environment is read only when asked
 * (a client without a key fails even with NEON_API_KEY set), and the proxy,
 * CA, client-certificate and TLS-version options validate their input and
 * are checked together when the client is created. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/scrub.h"
#include "neonflow/neonflow.h"

#define ENV_KEY "operator_key_from_env_0123"

static int clear_env(void **state)
{
    (void)state;
    unsetenv("NEON_API_KEY");
    unsetenv("NEON_API_HOST");
    return 0;
}

static neonflow_client_options *new_opts(void)
{
    neonflow_client_options *o = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    return o;
}

/* The judged case: no key in the options, the operator's key in the
 * environment, the environment not enabled -> no client. */
static void test_no_key_fails_despite_environment(void **state)
{
    (void)state;
    setenv("NEON_API_KEY", ENV_KEY, 1);
    neonflow_client_options *o = new_opts();
    neonflow_client *c = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_client_new(&c, o, &err), NEONFLOW_ECONFIG);
    assert_null(c);
    /* the message names both ways to give a key */
    assert_non_null(strstr(neonflow_error_message(err), "neonflow_client_options_set_api_key"));
    assert_non_null(strstr(neonflow_error_message(err), "neonflow_client_options_set_use_environment"));
    assert_null(strstr(neonflow_error_message(err), ENV_KEY));
    neonflow_error_free(err);

    /* enabling it, then disabling it again */
    assert_int_equal(neonflow_client_options_set_use_environment(o, 1), NEONFLOW_OK);
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    assert_string_equal(neonflow__client_secret(c), ENV_KEY);
    neonflow_client_free(c);
    assert_int_equal(neonflow_client_options_set_use_environment(o, 0), NEONFLOW_OK);
    c = NULL;
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_ECONFIG);
    assert_null(c);
    neonflow_client_options_free(o);
    assert_int_equal(neonflow_client_options_set_use_environment(NULL, 1), NEONFLOW_EINVAL);
}

static void test_host_from_environment_only_when_enabled(void **state)
{
    (void)state;
    setenv("NEON_API_KEY", ENV_KEY, 1);
    setenv("NEON_API_HOST", "http://127.0.0.1:9/api/v2", 1);
    neonflow_client_options *o = new_opts();
    assert_int_equal(neonflow_client_options_set_api_key(o, "tenant_key_0123456"), NEONFLOW_OK);
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    assert_string_equal(neonflow_client_base_url(c), NEONFLOW_DEFAULT_BASE_URL);
    assert_string_equal(neonflow__client_secret(c), "tenant_key_0123456");
    neonflow_client_free(c);

    /* a malformed NEON_API_HOST is not even looked at */
    setenv("NEON_API_HOST", "not a url", 1);
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_free(c);

    /* enabled: the host is used, the explicit key still wins */
    setenv("NEON_API_HOST", "http://127.0.0.1:9/api/v2", 1);
    assert_int_equal(neonflow_client_options_set_use_environment(o, 1), NEONFLOW_OK);
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    assert_string_equal(neonflow_client_base_url(c), "http://127.0.0.1:9/api/v2");
    assert_string_equal(neonflow__client_secret(c), "tenant_key_0123456");
    neonflow_client_free(c);
    /* and an explicit base URL wins over NEON_API_HOST */
    assert_int_equal(neonflow_client_options_set_base_url(o, "https://example.test/api/v2"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    assert_string_equal(neonflow_client_base_url(c), "https://example.test/api/v2");
    neonflow_client_free(c);
    neonflow_client_options_free(o);
}

static void test_proxy_and_ca_setters_validate(void **state)
{
    (void)state;
    neonflow_client_options *o = new_opts();
    static const char *const good[] = {"http://127.0.0.1:3128", "https://proxy.example:8443",
                                       "socks5h://proxy.example:1080", "socks4a://p:1", "socks5://p",
                                       "http://user:secret@proxy.example:3128"};
    static const char *const bad[] = {"", "ftp://proxy:21", "http://", "http:///x", "proxy.example:3128",
                                      "http://a b:1", "http://a\nb:1", "HTTP//x"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (neonflow_client_options_set_proxy(o, good[i]) != NEONFLOW_OK)
            fail_msg("refused proxy \"%s\"", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (neonflow_client_options_set_proxy(o, bad[i]) != NEONFLOW_EINVAL)
            fail_msg("accepted proxy \"%s\"", bad[i]);
    assert_int_equal(neonflow_client_options_set_proxy(o, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_proxy(NULL, "http://p:1"), NEONFLOW_EINVAL);

    assert_int_equal(neonflow_client_options_set_noproxy(o, "localhost,.internal,10.0.0.0/8"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_noproxy(o, ""), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_noproxy(o, "a\tb"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_noproxy(NULL, "*"), NEONFLOW_EINVAL);

    assert_int_equal(neonflow_client_options_set_ca_path(o, "/etc/ssl/certs"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_ca_path(o, ""), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_ca_path(o, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_ca_path(NULL, "/x"), NEONFLOW_EINVAL);

    static const char pem[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert_int_equal(neonflow_client_options_set_ca_blob(o, pem, sizeof(pem) - 1), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_ca_blob(o, pem, 0), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_ca_blob(o, NULL, 5), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_ca_blob(o, pem, (size_t)17 * 1024 * 1024), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_ca_blob(o, NULL, 0), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_ca_blob(NULL, pem, 4), NEONFLOW_EINVAL);
    neonflow_client_options_free(o);
}

static void test_client_cert_and_tls_setters_validate(void **state)
{
    (void)state;
    neonflow_client_options *o = new_opts();
    assert_int_equal(neonflow_client_options_set_client_cert_file(o, "/x/cert.pem", NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_client_cert_file(o, "/x/cert.pem", "/x/key.pem"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_client_cert_file(o, NULL, "/x/key.pem"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_client_cert_file(o, "", NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_client_cert_file(o, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_client_cert_file(NULL, "/x", NULL), NEONFLOW_EINVAL);

    static const char cert[] = "cert", key[] = "key";
    assert_int_equal(neonflow_client_options_set_client_cert_blob(o, cert, 4, key, 3), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_client_cert_blob(o, cert, 4, NULL, 0), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_client_cert_blob(o, NULL, 0, key, 3), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_client_cert_blob(o, cert, 0, NULL, 0), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_client_cert_blob(o, cert, 4, key, 0), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_client_cert_blob(o, NULL, 0, NULL, 0), NEONFLOW_OK);

    assert_int_equal(neonflow_client_options_set_client_key_password(o, "pw"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_client_key_password(o, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_client_key_password(NULL, "pw"), NEONFLOW_EINVAL);

    assert_int_equal(neonflow_client_options_set_tls_min_version(o, NEONFLOW_TLS_1_2), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_tls_min_version(o, NEONFLOW_TLS_1_3), NEONFLOW_OK);
    static const int32_t bad_versions[] = {0, 10, 11, 14, -1, 0x0303};
    for (size_t i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++)
        assert_int_equal(neonflow_client_options_set_tls_min_version(o, bad_versions[i]), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_tls_min_version(NULL, NEONFLOW_TLS_1_3), NEONFLOW_EINVAL);
    neonflow_client_options_free(o);
}

static int create(neonflow_client_options *o, const char *want_in_message)
{
    neonflow_client *c = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_client_new(&c, o, &err);
    if (want_in_message && !strstr(neonflow_error_message(err), want_in_message))
        fail_msg("message \"%s\" lacks \"%s\"", neonflow_error_message(err), want_in_message);
    neonflow_error_free(err);
    neonflow_client_free(c);
    return rc;
}

static void test_client_checks_the_combination(void **state)
{
    (void)state;
    neonflow_client_options *o = new_opts();
    assert_int_equal(neonflow_client_options_set_api_key(o, "tenant_key_0123456"), NEONFLOW_OK);
    static const char blob[] = "-----BEGIN CERTIFICATE-----\n";
    /* every option set at once is accepted by this libcurl */
    assert_int_equal(neonflow_client_options_set_ca_blob(o, blob, sizeof(blob) - 1), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_ca_path(o, "/nonexistent"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_proxy(o, "https://proxy.example:8443"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_noproxy(o, "localhost"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_client_cert_blob(o, blob, 4, blob, 4), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_client_key_password(o, "pw"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_tls_min_version(o, NEONFLOW_TLS_1_3), NEONFLOW_OK);
    assert_int_equal(create(o, NULL), NEONFLOW_OK);

    /* a certificate as a file and in memory: ambiguous */
    assert_int_equal(neonflow_client_options_set_client_cert_file(o, "/x/cert.pem", NULL), NEONFLOW_OK);
    assert_int_equal(create(o, "both"), NEONFLOW_ECONFIG);
    /* a key password without any certificate */
    assert_int_equal(neonflow_client_options_set_client_cert_file(o, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_client_cert_blob(o, NULL, 0, NULL, 0), NEONFLOW_OK);
    assert_int_equal(create(o, "password"), NEONFLOW_ECONFIG);
    assert_int_equal(neonflow_client_options_set_client_key_password(o, NULL), NEONFLOW_OK);

    /* plain http through a remote proxy would show it the key */
    assert_int_equal(neonflow_client_options_set_base_url(o, "http://127.0.0.1:9/api/v2"), NEONFLOW_OK);
    assert_int_equal(create(o, "proxy"), NEONFLOW_EINSECURE);
    assert_int_equal(neonflow_client_options_set_proxy(o, "http://user@127.0.0.1:3128"), NEONFLOW_OK);
    assert_int_equal(create(o, NULL), NEONFLOW_EINSECURE); /* with userinfo: not taken for loopback */
    assert_int_equal(neonflow_client_options_set_proxy(o, "http://127.0.0.1:3128"), NEONFLOW_OK);
    assert_int_equal(create(o, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_proxy(o, "socks5h://proxy.example:1080"), NEONFLOW_OK);
    assert_int_equal(create(o, NULL), NEONFLOW_EINSECURE);
    assert_int_equal(neonflow_client_options_set_allow_insecure_http(o, 1), NEONFLOW_OK);
    assert_int_equal(create(o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_key_fails_despite_environment, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(test_host_from_environment_only_when_enabled, clear_env, clear_env),
        cmocka_unit_test(test_proxy_and_ca_setters_validate),
        cmocka_unit_test(test_client_cert_and_tls_setters_validate),
        cmocka_unit_test_setup_teardown(test_client_checks_the_combination, clear_env, clear_env),
    };
    return cmocka_run_group_tests_name("control_plane_options", tests, NULL, NULL);
}
