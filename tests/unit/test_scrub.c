/* The key scrubber (core/scrub.h): whole key, runs of >= 12 of its
 * characters, percent-encoded, URL userinfo and JSON-escaped forms, short
 * keys, binary data, scrub-before-cut; the echo helpers (core/text.h):
 * control characters escaped, cuts at a UTF-8 boundary; and the error
 * boundary that applies both to every field of an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/scrub.h"
#include "core/text.h"
#include "neonflow/neonflow.h"

#define K "napi_abcdefghijklmnop0123456789"  /* 31 characters */
#define K2 "k3y+9f/2c7a1e5b@xyz:Q"           /* needs percent-encoding */

static void expect(const char *key, const char *in, const char *want)
{
    char *s = strdup(in);
    neonflow__scrub(s, key);
    if (strcmp(s, want) != 0)
        fail_msg("scrub(%s) of \"%s\": got \"%s\", want \"%s\"", key ? key : "(null)", in, s, want);
    free(s);
}

static void test_whole_and_partial(void **state)
{
    (void)state;
    static const struct {
        const char *key, *in, *want;
    } cases[] = {
        {K, "key " K " end", "key *** end"},
        {K, K K, "******"},
        {K, K "x" K, "***x***"},
        {K, "pre napi_abcdefg post", "pre *** post"},    /* a 12-character prefix */
        {K, "id=op0123456789.", "id=***."},              /* a 12-character suffix */
        {K, "[ghijklmnop0123]", "[***]"},               /* from the middle */
        {K, "napi_abcdef is 11", "napi_abcdef is 11"},   /* 11 characters: not the key */
        {K, "no key here", "no key here"},
        {K, "", ""},
        /* percent-encoded (any hex case), as in a URL path, query or userinfo */
        {K2, "/projects/k3y%2B9f%2F2c7a1e5b%40xyz%3AQ/branches", "/projects/***/branches"},
        {K2, "?q=k3y%2b9f%2f2c7a1e5b%40xyz%3aQ&x=1", "?q=***&x=1"},
        {K2, "https://user:k3y%2B9f%2F2c7a1e5b%40xyz%3AQ@host/api", "https://user:***@host/api"},
        {K2, "https://user:" K2 "@host/api", "https://user:***@host/api"},
        /* JSON-escaped, as in a reflected body */
        {K2, "{\"m\":\"k3y+9f\\/2c7a1e5b@xyz:Q\"}", "{\"m\":\"***\"}"},
        {K2, "{\"m\":\"\\u006b\\u0033y+9f\\/2c7a1e5b@xyz:Q\"}", "{\"m\":\"***\"}"},
        {K, "\\u006eapi_abcdefghijk", "***"},
        /* a literal '%' in the key still matches literally */
        {"pct%41pct%41pct", "x pct%41pct%41pct y", "x *** y"},
        /* short keys: the whole key, as many stars (never longer) */
        {"ab", "xaby ab", "x**y **"},
        {"abc", "abcabc", "******"},
        {NULL, K, K},
        {"", K, K},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect(cases[i].key, cases[i].in, cases[i].want);
}

static void test_binary_and_found(void **state)
{
    (void)state;
    char buf[] = "a\0" K "\0b";
    size_t n = neonflow__scrub_mem(buf, sizeof(buf) - 1, K);
    assert_int_equal(n, 7);
    assert_memory_equal(buf, "a\0***\0b", 7);
    assert_true(neonflow__scrub_found("x" K "y", strlen(K) + 2, K));
    assert_true(neonflow__scrub_found("klmnop012345", 12, K));
    assert_false(neonflow__scrub_found("klmnop01234", 11, K));
    assert_false(neonflow__scrub_found(NULL, 0, K));
}

/* A cut after scrubbing never leaves a piece of the key: the prefix window
 * reaches past the cut far enough to see the whole run. */
static void test_scrub_before_cut(void **state)
{
    (void)state;
    char in[400];
    memset(in, 'x', 100);
    strcpy(in + 100, "k3y%2B9f%2F2c7a1e5b%40xyz%3AQ and more text after it");
    for (size_t keep = 90; keep < 140; keep++) {
        size_t n = 0;
        char *p = neonflow__scrub_prefix(in, strlen(in), keep, K2, &n);
        assert_non_null(p);
        n = neonflow__utf8_cut(p, n, keep);
        p[n] = '\0';
        if (strstr(p, "k3y") || strstr(p, "%2B9f"))
            fail_msg("keep %zu left a piece of the key: %s", keep, p);
        neonflow__free(p);
    }
}

static void test_echo_escapes_and_cuts(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(neonflow__echo(out, sizeof(out), "a\x1b[31mb\nc\td\x7f"),
                        "a\\x1b[31mb\\nc\\td\\x7f");
    /* C1 controls (CSI U+009B), bidi overrides, invalid bytes */
    assert_string_equal(neonflow__echo(out, sizeof(out), "x\xc2\x9b" "2Jy"), "x\\u009b2Jy");
    assert_string_equal(neonflow__echo(out, sizeof(out), "\xe2\x80\xae" "abc"), "\\u202eabc");
    assert_string_equal(neonflow__echo(out, sizeof(out), "a\xff\xc3"), "a\\xff\\xc3");
    assert_string_equal(neonflow__echo(out, sizeof(out), "caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");
    assert_string_equal(neonflow__echo(out, sizeof(out), NULL), "(null)");
    /* cut: never half a code point, "..." marks it */
    for (size_t size = 4; size < 17; size++) {
        char small[20];
        neonflow__echo(small, size, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
        size_t n = strlen(small);
        assert_true(n < size);
        assert_true(n >= 3 && strcmp(small + n - 3, "...") == 0);
        assert_int_equal((n - 3) % 2, 0); /* whole two-byte characters only */
    }
    assert_int_equal(neonflow__utf8_cut("\xc3\xa9\xc3\xa9", 4, 3), 2);
    assert_int_equal(neonflow__utf8_cut("abc", 3, 10), 3);
    assert_int_equal(neonflow__utf8_cut("\xe2\x82\xac", 3, 2), 0);
}

static void test_echo_url(void **state)
{
    (void)state;
    char out[128];
    assert_string_equal(neonflow__echo_url(out, sizeof(out), "https://u:" K "@h.example/api/v2?k=" K "#f"),
                        "https://***@h.example/api/v2?***");
    assert_string_equal(neonflow__echo_url(out, sizeof(out), "http://127.0.0.1:8080/api/v2"),
                        "http://127.0.0.1:8080/api/v2");
    assert_string_equal(neonflow__echo_url(out, sizeof(out), "not a url\n"), "not a url\\n");
}

/* Every field of an error: scrubbed first, then escaped, then cut. */
static void test_error_boundary(void **state)
{
    (void)state;
    char big[6000];
    memset(big, 'm', sizeof(big));
    memcpy(big + NEONFLOW__MESSAGE_MAX - 10, K, strlen(K)); /* the key straddles the cut */
    big[sizeof(big) - 1] = '\0';
    big[20] = '\x1b';
    neonflow_error *e = NULL;
    neonflow__error_set_http(&e, NEONFLOW_EAUTH, 401, 0, "GET", "/projects/" K "/branches", "code-" K,
                             "rid-" K "-\x1b", big);
    assert_non_null(e);
    neonflow__error_scrub(e, K);
    const char *m = neonflow_error_message(e);
    assert_true(strlen(m) <= NEONFLOW__MESSAGE_MAX);
    assert_null(strstr(m, "napi_"));
    assert_null(strchr(m, '\x1b'));
    assert_non_null(strstr(m, "\\x1b"));
    assert_false(neonflow__scrub_found(m, strlen(m), K));
    assert_string_equal(neonflow_error_path(e), "/projects/***/branches");
    assert_string_equal(neonflow_error_neon_code(e), "code-***");
    assert_string_equal(neonflow_error_request_id(e), "rid-***-\\x1b");
    neonflow_error_free(e);
    neonflow__error_scrub(NULL, K);
}

static void test_public_redact(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(neonflow_secret_redact(&out, "a " K " b %2F", K), NEONFLOW_OK);
    assert_string_equal(out, "a *** b %2F");
    neonflow_free(out);
    assert_int_equal(neonflow_secret_redact(&out, "same", NULL), NEONFLOW_OK);
    assert_string_equal(out, "same");
    neonflow_free(out);
    assert_int_equal(neonflow_secret_redact(&out, NULL, K), NEONFLOW_EINVAL);
    assert_null(out);
    assert_int_equal(neonflow_secret_redact(NULL, "x", K), NEONFLOW_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_and_partial),
        cmocka_unit_test(test_binary_and_found),
        cmocka_unit_test(test_scrub_before_cut),
        cmocka_unit_test(test_echo_escapes_and_cuts),
        cmocka_unit_test(test_echo_url),
        cmocka_unit_test(test_error_boundary),
        cmocka_unit_test(test_public_redact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
