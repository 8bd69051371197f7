/* Client options and client creation: validation, env fallback (when
 * enabled; test_control_plane_options.c has the opt-in itself), hooks, and
 * that bad input gives a clear error without a crash or stderr output. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "neonflow/neonflow.h"

static int setup_env(void **state)
{
    (void)state;
    unsetenv("NEON_API_KEY");
    unsetenv("NEON_API_HOST");
    return 0;
}

static neonflow_client_options *opts_with_key(const char *url)
{
    neonflow_client_options *o = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(o, "napi_test_key_0123"), NEONFLOW_OK);
    if (url)
        assert_int_equal(neonflow_client_options_set_base_url(o, url), NEONFLOW_OK);
    return o;
}

static void test_null_out_and_null_options(void **state)
{
    (void)state;
    assert_int_equal(neonflow_client_options_new(NULL), NEONFLOW_EINVAL);
    neonflow_client_options *o = opts_with_key(NULL);
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_client_new(NULL, o, &err), NEONFLOW_EINVAL);
    assert_non_null(strstr(neonflow_error_message(err), "out"));
    neonflow_error_free(err);
    err = NULL;

    neonflow_client *c = (neonflow_client *)0x1;
    assert_int_equal(neonflow_client_new(&c, NULL, &err), NEONFLOW_EINVAL);
    assert_null(c);
    assert_int_equal(neonflow_error_code(err), NEONFLOW_EINVAL);
    assert_non_null(strstr(neonflow_error_message(err), "options"));
    neonflow_error_free(err);
    /* err itself may be NULL */
    assert_int_equal(neonflow_client_new(&c, NULL, NULL), NEONFLOW_EINVAL);
    neonflow_client_options_free(o);
    neonflow_client_options_free(NULL);
    neonflow_client_free(NULL);
}

static void test_setters_reject_null_options(void **state)
{
    (void)state;
    assert_int_equal(neonflow_client_options_set_api_key(NULL, "k"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_base_url(NULL, "https://x"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_user_agent_suffix(NULL, "x"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_connect_timeout_ms(NULL, 1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_request_timeout_ms(NULL, 1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_max_retries(NULL, 1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_retry_backoff(NULL, 1, 2), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_rate_limit(NULL, 1, 1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_max_response_bytes(NULL, 4096), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_ca_file(NULL, "/x"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_allow_insecure_http(NULL, 1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_log_hook(NULL, NULL, NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_log_level(NULL, NEONFLOW_LOG_INFO), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_trace_hook(NULL, NULL, NULL, NULL), NEONFLOW_EINVAL);
}

static void test_setter_ranges(void **state)
{
    (void)state;
    neonflow_client_options *o = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(o, ""), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_api_key(o, "has space"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_api_key(o, "line\nbreak"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_api_key(o, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_connect_timeout_ms(o, 0), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_request_timeout_ms(o, -5), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_max_retries(o, -1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_max_retries(o, 101), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_max_retries(o, 0), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_retry_backoff(o, 0, 10), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_retry_backoff(o, 100, 50), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_retry_backoff(o, 100, 100), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_rate_limit(o, -1, 0), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_rate_limit(o, 0, 0), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_max_response_bytes(o, 10), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_ca_file(o, ""), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_ca_file(o, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_user_agent_suffix(o, "ctl\x01"), NEONFLOW_EINVAL);
    char big[300];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(neonflow_client_options_set_user_agent_suffix(o, big), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_user_agent_suffix(o, "my-tool/1.2"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_level(o, 9), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_log_level(o, -1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_log_level(o, NEONFLOW_LOG_DEBUG), NEONFLOW_OK);
    neonflow_client_options_free(o);
}

static void test_malformed_base_urls(void **state)
{
    (void)state;
    neonflow_client_options *o = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    const char *bad[] = {
        "", "console.neon.tech/api/v2", "ftp://console.neon.tech", "https://",
        "https:///api/v2", "https://host/api?x=1", "https://host/api#frag",
        "https://user:pw@host/api", "https://ho st/api", "http:/127.0.0.1/api", "not a url",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (neonflow_client_options_set_base_url(o, bad[i]) != NEONFLOW_EINVAL)
            fail_msg("accepted bad base URL \"%s\"", bad[i]);
    }
    assert_int_equal(neonflow_client_options_set_base_url(o, "https://console.neon.tech/api/v2"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(o, "http://127.0.0.1:8080/api/v2/"), NEONFLOW_OK);
    neonflow_client_options_free(o);
}

static void test_missing_key_is_config_error(void **state)
{
    (void)state;
    neonflow_client_options *o = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    neonflow_client *c = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_client_new(&c, o, &err), NEONFLOW_ECONFIG);
    assert_null(c);
    assert_non_null(strstr(neonflow_error_message(err), "NEON_API_KEY"));
    neonflow_error_free(err);

    /* an empty variable counts as missing */
    assert_int_equal(neonflow_client_options_set_use_environment(o, 1), NEONFLOW_OK);
    setenv("NEON_API_KEY", "", 1);
    err = NULL;
    assert_int_equal(neonflow_client_new(&c, o, &err), NEONFLOW_ECONFIG);
    neonflow_error_free(err);
    unsetenv("NEON_API_KEY");
    neonflow_client_options_free(o);
}

static void test_env_fallback(void **state)
{
    (void)state;
    setenv("NEON_API_KEY", "env_key_123", 1);
    setenv("NEON_API_HOST", "http://127.0.0.1:9/api/v2/", 1);
    neonflow_client_options *o = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_use_environment(o, 1), NEONFLOW_OK);
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    assert_string_equal(neonflow_client_base_url(c), "http://127.0.0.1:9/api/v2");
    neonflow_client_free(c);

    /* explicit options win over the environment */
    assert_int_equal(neonflow_client_options_set_base_url(o, "https://example.test/api/v2"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    assert_string_equal(neonflow_client_base_url(c), "https://example.test/api/v2");
    neonflow_client_free(c);

    /* a malformed NEON_API_HOST is a config error */
    setenv("NEON_API_HOST", "not a url", 1);
    assert_int_equal(neonflow_client_options_set_base_url(o, NULL), NEONFLOW_OK);
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_client_new(&c, o, &err), NEONFLOW_ECONFIG);
    assert_non_null(strstr(neonflow_error_message(err), "NEON_API_HOST"));
    neonflow_error_free(err);

    /* no NEON_API_HOST: the documented default */
    unsetenv("NEON_API_HOST");
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    assert_string_equal(neonflow_client_base_url(c), NEONFLOW_DEFAULT_BASE_URL);
    neonflow_client_free(c);
    unsetenv("NEON_API_KEY");
    neonflow_client_options_free(o);
}

static void test_plain_http_needs_loopback_or_permission(void **state)
{
    (void)state;
    neonflow_client_options *o = opts_with_key("http://api.example.test/api/v2");
    neonflow_client *c = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_client_new(&c, o, &err), NEONFLOW_EINSECURE);
    assert_null(c);
    assert_non_null(strstr(neonflow_error_message(err), "allow_insecure_http"));
    /* the message must never carry the key */
    assert_null(strstr(neonflow_error_message(err), "napi_test_key"));
    neonflow_error_free(err);
    assert_int_equal(neonflow_client_options_set_allow_insecure_http(o, 1), NEONFLOW_OK);
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_free(c);
    neonflow_client_options_free(o);

    const char *loop[] = {"http://127.0.0.1:1/api/v2", "http://localhost:1/api/v2",
                          "http://[::1]:1/api/v2", "http://127.9.9.9/api/v2"};
    for (size_t i = 0; i < sizeof(loop) / sizeof(loop[0]); i++) {
        o = opts_with_key(loop[i]);
        if (neonflow_client_new(&c, o, NULL) != NEONFLOW_OK)
            fail_msg("loopback URL refused: %s", loop[i]);
        neonflow_client_free(c);
        neonflow_client_options_free(o);
    }
    /* 127.x look-alikes are not loopback */
    o = opts_with_key("http://127.0.0.1.evil.test/api/v2");
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_EINSECURE);
    neonflow_client_options_free(o);
}

static int destroyed;
static void count_destroy(void *p)
{
    (void)p;
    destroyed++;
}
static void log_noop(const neonflow_log_record *rec, void *payload)
{
    (void)rec;
    (void)payload;
}

static void test_hook_destroy_runs_once_after_last_user(void **state)
{
    (void)state;
    destroyed = 0;
    neonflow_client_options *o = opts_with_key("http://127.0.0.1:1/api/v2");
    assert_int_equal(neonflow_client_options_set_log_hook(o, log_noop, &destroyed, count_destroy), NEONFLOW_OK);
    neonflow_client *c1 = NULL, *c2 = NULL;
    assert_int_equal(neonflow_client_new(&c1, o, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_client_new(&c2, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o); /* clients still use the payload */
    assert_int_equal(destroyed, 0);
    neonflow_client_free(c1);
    assert_int_equal(destroyed, 0);
    neonflow_client_free(c2);
    assert_int_equal(destroyed, 1);

    /* replacing a hook destroys the old payload at once */
    destroyed = 0;
    o = opts_with_key(NULL);
    assert_int_equal(neonflow_client_options_set_log_hook(o, log_noop, NULL, count_destroy), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_hook(o, log_noop, NULL, count_destroy), NEONFLOW_OK);
    assert_int_equal(destroyed, 1);
    assert_int_equal(neonflow_client_options_set_trace_hook(o, NULL, NULL, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    assert_int_equal(destroyed, 2);
    /* a rejected setter still releases the payload it was given */
    destroyed = 0;
    assert_int_equal(neonflow_client_options_set_log_hook(NULL, log_noop, NULL, count_destroy), NEONFLOW_EINVAL);
    assert_int_equal(destroyed, 1);
}

static void test_nothing_written_to_stderr(void **state)
{
    (void)state;
    char path[] = "/tmp/neonflow-stderr-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);

    /* a spread of failing and succeeding calls */
    neonflow_client_options *o = NULL;
    neonflow_client_options_new(&o);
    neonflow_client *c = NULL;
    neonflow_error *err = NULL;
    neonflow_client_new(&c, o, &err);
    neonflow_error_free(err);
    neonflow_client_options_set_base_url(o, "bogus");
    neonflow_client_options_set_api_key(o, "k");
    neonflow_client_options_set_base_url(o, "http://example.test");
    neonflow_client_new(&c, o, NULL);
    neonflow_client_options_set_base_url(o, "http://127.0.0.1:1");
    neonflow_client_new(&c, o, NULL);
    neonflow_client_free(c);
    neonflow_client_options_free(o);
    (void)neonflow_strerror(-777);

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    close(fd);
    unlink(path);
    assert_int_equal(st.st_size, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_null_out_and_null_options, setup_env),
        cmocka_unit_test_setup(test_setters_reject_null_options, setup_env),
        cmocka_unit_test_setup(test_setter_ranges, setup_env),
        cmocka_unit_test_setup(test_malformed_base_urls, setup_env),
        cmocka_unit_test_setup(test_missing_key_is_config_error, setup_env),
        cmocka_unit_test_setup(test_env_fallback, setup_env),
        cmocka_unit_test_setup(test_plain_http_needs_loopback_or_permission, setup_env),
        cmocka_unit_test_setup(test_hook_destroy_runs_once_after_last_user, setup_env),
        cmocka_unit_test_setup(test_nothing_written_to_stderr, setup_env),
    };
    return cmocka_run_group_tests_name("client_options", tests, NULL, NULL);
}
