/* The plain-http loopback check accepts only canonical spellings: every
 * integer, octal, hex, short-dotted or overflowing form of 127.x is refused
 * (a resolver may read "4294967423.0.0.1" as anything). Table-driven, on
 * the host check and through a whole client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/client-private.h"
#include "neonflow/neonflow.h"

static const char *const loopback[] = {
    "localhost", "127.0.0.1", "127.1.2.3", "127.255.255.255", "127.0.0.0", "[::1]", "::1",
};

static const char *const not_loopback[] = {
    "4294967423.0.0.1", /* wraps to 127 in a 32-bit parse */
    "2130706433",       /* 127.0.0.1 as one integer */
    "0x7f.1", "0x7f000001", "0x7f.0.0.1", "0177.0.0.1", "0177.1", "127.1", "127.0.1",
    "127.0.0.01", "127.00.0.1", "127.0.0.256", "127.0.0.1.", "127.0.0.1.1", " 127.0.0.1",
    "127.0.0.1 ", "127.0.0.1x", "+127.0.0.1", "127.0.0.-1", "127..0.1", "1270.0.0.1",
    "128.0.0.1", "0.0.0.0", "", "[0:0:0:0:0:0:0:1]", "[::0:1]", "[0::1]", "[::ffff:127.0.0.1]",
    "[::1%25lo]", "localhost.", "localhost.evil.test", "127.0.0.1.evil.test", "LOCALHOST.",
};

static void test_host_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++)
        if (!neonflow__url_is_loopback_host(loopback[i]))
            fail_msg("refused canonical loopback \"%s\"", loopback[i]);
    for (size_t i = 0; i < sizeof(not_loopback) / sizeof(not_loopback[0]); i++)
        if (neonflow__url_is_loopback_host(not_loopback[i]))
            fail_msg("accepted \"%s\" as loopback", not_loopback[i]);
    assert_false(neonflow__url_is_loopback_host(NULL));
}

/* 1 when a client with plain http to `host` is created (loopback accepted). */
static int http_client_ok(const char *host)
{
    char url[200];
    snprintf(url, sizeof(url), "http://%s:1/api/v2", host);
    neonflow_client_options *o = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(o, "napi_loopback_test_key_000"), NEONFLOW_OK);
    int ok = 0;
    if (neonflow_client_options_set_base_url(o, url) == NEONFLOW_OK) {
        neonflow_client *c = NULL;
        neonflow_error *err = NULL;
        int rc = neonflow_client_new(&c, o, &err);
        ok = rc == NEONFLOW_OK;
        if (!ok && rc != NEONFLOW_EINSECURE)
            fail_msg("%s: unexpected %s", url, neonflow_error_name(rc));
        neonflow_client_free(c);
        neonflow_error_free(err);
    }
    neonflow_client_options_free(o);
    return ok;
}

static void test_through_the_client(void **state)
{
    (void)state;
    const char *ok[] = {"localhost", "127.0.0.1", "127.9.9.9", "[::1]"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!http_client_ok(ok[i]))
            fail_msg("plain http to %s refused", ok[i]);
    /* libcurl normalises several of these to 127.0.0.1: the check must
     * judge what was written */
    const char *bad[] = {"4294967423.0.0.1", "2130706433", "0x7f.1", "0177.0.0.1", "127.1",
                         "0x7f000001", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]", "127.0.0.01"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (http_client_ok(bad[i]))
            fail_msg("plain http to %s accepted as loopback", bad[i]);
}

int main(void)
{
    unsetenv("NEON_API_HOST");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_table),
        cmocka_unit_test(test_through_the_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
