/* The pure policy of the HTTP layer: the retry decision table, status and
 * curl error mapping, full-jitter backoff, Retry-After, Neon error bodies,
 * request ids, and redaction of the trace and of messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/scrub.h"
#include "core/alloc.h"
#include "core/transport-private.h"

#define R NEONFLOW__RD_RETRY
#define U NEONFLOW__RD_UNCERTAIN
#define F NEONFLOW__RD_FAIL
#define S NEONFLOW__RD_SUCCESS

static void test_idempotent_methods(void **state)
{
    (void)state;
    assert_true(neonflow__method_idempotent("GET"));
    assert_true(neonflow__method_idempotent("HEAD"));
    assert_true(neonflow__method_idempotent("OPTIONS"));
    assert_false(neonflow__method_idempotent("POST"));
    assert_false(neonflow__method_idempotent("PUT"));
    assert_false(neonflow__method_idempotent("PATCH"));
    assert_false(neonflow__method_idempotent("DELETE"));
    assert_false(neonflow__method_idempotent("get"));
    assert_false(neonflow__method_idempotent(NULL));
}

/* method x HTTP status -> decision */
static void test_decision_status_table(void **state)
{
    (void)state;
    static const char *const methods[] = {"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"};
    static const struct {
        int32_t status;
        int idem, nonidem;
    } rows[] = {
        {200, S, S}, {201, S, S}, {202, S, S}, {204, S, S},
        {423, R, R}, {429, R, R}, {503, R, R},
        {500, R, F}, {502, R, F}, {504, R, F}, {599, R, F},
        {400, F, F}, {401, F, F}, {403, F, F}, {404, F, F}, {409, F, F}, {412, F, F},
        {422, F, F}, {301, F, F}, {100, F, F},
    };
    for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
        int idem = neonflow__method_idempotent(methods[m]);
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            int want = idem ? rows[i].idem : rows[i].nonidem;
            int got = neonflow__retry_decision(methods[m], rows[i].status, CURLE_OK, 1);
            if (got != want)
                fail_msg("%s HTTP %d: decision %d, want %d", methods[m], (int)rows[i].status, got, want);
        }
    }
}

/* method x curl failure x sent -> decision */
static void test_decision_transport_table(void **state)
{
    (void)state;
    static const struct {
        CURLcode cc;
        int sent;
        int get, post;
    } rows[] = {
        /* provably not sent: every method retries */
        {CURLE_COULDNT_CONNECT, 0, R, R},
        {CURLE_COULDNT_RESOLVE_HOST, 0, R, R},
        {CURLE_COULDNT_RESOLVE_PROXY, 0, R, R},
        {CURLE_SSL_CONNECT_ERROR, 0, R, R},
        /* lost response after the request went out */
        {CURLE_GOT_NOTHING, 1, R, U},
        {CURLE_RECV_ERROR, 1, R, U},
        {CURLE_SEND_ERROR, 1, R, U},
        {CURLE_PARTIAL_FILE, 1, R, U},
        {CURLE_OPERATION_TIMEDOUT, 1, R, U},
        {CURLE_HTTP2, 1, R, U},
        {CURLE_HTTP2_STREAM, 1, R, U},
        /* the same failures before anything was sent */
        {CURLE_OPERATION_TIMEDOUT, 0, R, R},
        {CURLE_GOT_NOTHING, 0, R, R},
        {CURLE_SEND_ERROR, 0, R, R},
        /* never retried */
        {CURLE_PEER_FAILED_VERIFICATION, 0, F, F},
        {CURLE_SSL_CACERT_BADFILE, 0, F, F},
        {CURLE_SSL_CERTPROBLEM, 0, F, F},
        {CURLE_FILESIZE_EXCEEDED, 1, F, F},
        {CURLE_WRITE_ERROR, 1, F, F},
        {CURLE_URL_MALFORMAT, 0, F, F},
        {CURLE_UNSUPPORTED_PROTOCOL, 0, F, F},
        {CURLE_ABORTED_BY_CALLBACK, 1, F, F},
        {CURLE_OUT_OF_MEMORY, 0, F, F},
        {CURLE_OUT_OF_MEMORY, 1, F, U}, /* a sent mutation may have been applied */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int g = neonflow__retry_decision("GET", 0, rows[i].cc, rows[i].sent);
        int p = neonflow__retry_decision("POST", 0, rows[i].cc, rows[i].sent);
        if (g != rows[i].get || p != rows[i].post)
            fail_msg("curl %d sent=%d: GET %d (want %d), POST %d (want %d)", (int)rows[i].cc,
                     rows[i].sent, g, rows[i].get, p, rows[i].post);
        /* every non-idempotent method behaves like POST, HEAD like GET */
        assert_int_equal(neonflow__retry_decision("DELETE", 0, rows[i].cc, rows[i].sent), p);
        assert_int_equal(neonflow__retry_decision("PUT", 0, rows[i].cc, rows[i].sent), p);
        assert_int_equal(neonflow__retry_decision("PATCH", 0, rows[i].cc, rows[i].sent), p);
        assert_int_equal(neonflow__retry_decision("HEAD", 0, rows[i].cc, rows[i].sent), g);
    }
    assert_true(neonflow__curl_never_sent(CURLE_COULDNT_CONNECT));
    assert_false(neonflow__curl_never_sent(CURLE_GOT_NOTHING));
}

static void test_status_mapping(void **state)
{
    (void)state;
    assert_int_equal(neonflow__status_to_code(400), NEONFLOW_EBADREQUEST);
    assert_int_equal(neonflow__status_to_code(422), NEONFLOW_EBADREQUEST);
    assert_int_equal(neonflow__status_to_code(401), NEONFLOW_EAUTH);
    assert_int_equal(neonflow__status_to_code(403), NEONFLOW_EAUTH);
    assert_int_equal(neonflow__status_to_code(404), NEONFLOW_ENOTFOUND);
    assert_int_equal(neonflow__status_to_code(409), NEONFLOW_ECONFLICT);
    assert_int_equal(neonflow__status_to_code(423), NEONFLOW_ELOCKED);
    assert_int_equal(neonflow__status_to_code(429), NEONFLOW_ERATELIMIT);
    assert_int_equal(neonflow__status_to_code(500), NEONFLOW_ESERVER);
    assert_int_equal(neonflow__status_to_code(503), NEONFLOW_ESERVER);
    assert_int_equal(neonflow__status_to_code(406), NEONFLOW_EAPI);
    assert_int_equal(neonflow__status_to_code(412), NEONFLOW_EAPI);
    assert_int_equal(neonflow__status_to_code(302), NEONFLOW_EPROTOCOL);

    assert_true(neonflow__status_retryable("POST", 423));
    assert_true(neonflow__status_retryable("POST", 429));
    assert_true(neonflow__status_retryable("DELETE", 503));
    assert_false(neonflow__status_retryable("POST", 500));
    assert_true(neonflow__status_retryable("GET", 500));
    assert_false(neonflow__status_retryable("GET", 404));

    assert_int_equal(neonflow__curl_to_code(CURLE_COULDNT_RESOLVE_HOST), NEONFLOW_ERESOLVE);
    assert_int_equal(neonflow__curl_to_code(CURLE_COULDNT_CONNECT), NEONFLOW_ECONNECT);
    assert_int_equal(neonflow__curl_to_code(CURLE_OPERATION_TIMEDOUT), NEONFLOW_ENETTIMEOUT);
    assert_int_equal(neonflow__curl_to_code(CURLE_PEER_FAILED_VERIFICATION), NEONFLOW_ETLS);
    assert_int_equal(neonflow__curl_to_code(CURLE_SSL_CONNECT_ERROR), NEONFLOW_ETLS);
    assert_int_equal(neonflow__curl_to_code(CURLE_FILESIZE_EXCEEDED), NEONFLOW_ETOOBIG);
    assert_int_equal(neonflow__curl_to_code(CURLE_PARTIAL_FILE), NEONFLOW_EPROTOCOL);
    assert_int_equal(neonflow__curl_to_code(CURLE_ABORTED_BY_CALLBACK), NEONFLOW_ECANCELLED);
    assert_int_equal(neonflow__curl_to_code(CURLE_GOT_NOTHING), NEONFLOW_ETRANSPORT);
    assert_int_equal(neonflow__curl_to_code(CURLE_RECV_ERROR), NEONFLOW_ETRANSPORT);
}

static void test_backoff(void **state)
{
    (void)state;
    /* ceiling doubles from base up to cap */
    assert_int_equal(neonflow__backoff_ms(250, 10000, 0, 249), 249); /* [0, 250) */
    assert_int_equal(neonflow__backoff_ms(250, 10000, 0, 250), 0);
    assert_int_equal(neonflow__backoff_ms(250, 10000, 0, UINT64_MAX), (int64_t)(UINT64_MAX % 250));
    assert_int_equal(neonflow__backoff_ms(250, 10000, 1, 499), 499);
    assert_int_equal(neonflow__backoff_ms(250, 10000, 1, 500), 0);
    assert_int_equal(neonflow__backoff_ms(250, 10000, 2, 999), 999);
    assert_int_equal(neonflow__backoff_ms(250, 10000, 5, 7999), 7999);
    assert_int_equal(neonflow__backoff_ms(250, 10000, 6, 9999), 9999); /* 16000 capped to 10000 */
    assert_int_equal(neonflow__backoff_ms(250, 10000, 6, 10000), 0);
    assert_int_equal(neonflow__backoff_ms(250, 10000, 0, 0), 0);
    /* no overflow for huge attempt numbers or caps */
    assert_int_equal(neonflow__backoff_ms(250, 10000, 63, 123456), 123456 % 10000);
    assert_int_equal(neonflow__backoff_ms(250, 10000, 100000, 3), 3);
    int64_t big = 24LL * 3600 * 1000;
    assert_int_equal(neonflow__backoff_ms(1, big, 40, UINT64_MAX), (int64_t)(UINT64_MAX % (uint64_t)big));
    /* degenerate inputs stay in range */
    assert_int_equal(neonflow__backoff_ms(0, 0, 0, 99), 0);
    assert_int_equal(neonflow__backoff_ms(10, 5, -3, 17), 7);
    /* the full range is reachable: every value < ceiling appears for rnd = 0..ceiling-1 */
    for (uint64_t r = 0; r < 1000; r++)
        assert_int_equal(neonflow__backoff_ms(250, 10000, 2, r), (int64_t)r);
}

static void test_retry_after(void **state)
{
    (void)state;
    int64_t now = 1445412480000LL; /* Wed, 21 Oct 2015 07:28:00 GMT */
    assert_int_equal(neonflow__retry_after_ms("0", now), 0);
    assert_int_equal(neonflow__retry_after_ms("1", now), 1000);
    assert_int_equal(neonflow__retry_after_ms("  120 ", now), 120000);
    assert_int_equal(neonflow__retry_after_ms("3\r\n", now), 3000);
    assert_true(neonflow__retry_after_ms("99999999999999", now) >= 999999999LL * 1000);
    assert_int_equal(neonflow__retry_after_ms("Wed, 21 Oct 2015 07:28:30 GMT", now), 30000);
    assert_int_equal(neonflow__retry_after_ms("Wed, 21 Oct 2015 07:29:00 GMT", now), 60000);
    /* a date in the past means "now" */
    assert_int_equal(neonflow__retry_after_ms("Wed, 21 Oct 2015 07:00:00 GMT", now), 0);
    /* RFC 850 and asctime forms are legal HTTP-dates too */
    assert_int_equal(neonflow__retry_after_ms("Wednesday, 21-Oct-15 07:28:10 GMT", now), 10000);
    assert_int_equal(neonflow__retry_after_ms("Wed Oct 21 07:28:05 2015", now), 5000);
    /* garbage */
    assert_int_equal(neonflow__retry_after_ms(NULL, now), -1);
    assert_int_equal(neonflow__retry_after_ms("", now), -1);
    assert_int_equal(neonflow__retry_after_ms("   ", now), -1);
    assert_int_equal(neonflow__retry_after_ms("-5", now), -1);
    assert_int_equal(neonflow__retry_after_ms("1.5", now), -1);
    assert_int_equal(neonflow__retry_after_ms("soon", now), -1);
    assert_int_equal(neonflow__retry_after_ms("12abc", now), -1);
    char longv[300];
    memset(longv, '1', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    assert_int_equal(neonflow__retry_after_ms(longv, now), -1);
}

static void test_request_id(void **state)
{
    (void)state;
    char id[40];
    neonflow__request_id_make(id, sizeof(id), 0x0123456789abcdefULL, 0xfedcba9876543210ULL);
    assert_string_equal(id, "nf-0123456789abcdeffedcba9876543210");
    neonflow__request_id_make(id, sizeof(id), 0, 1);
    assert_string_equal(id, "nf-00000000000000000000000000000001");
    assert_int_equal(strlen(id), 35);
}

static void parse_text(const char *text, neonflow__error_body *eb)
{
    json_t *j = json_loads(text, 0, NULL);
    neonflow__error_body_parse(j, text, strlen(text), NULL, eb);
    json_decref(j);
}

static void test_error_body_shapes(void **state)
{
    (void)state;
    neonflow__error_body eb;
    parse_text("{\"code\":\"ROOT_BRANCHES_LIMIT_EXCEEDED\",\"message\":\"too many roots\","
               "\"request_id\":\"rq-1\",\"extra\":[1,2]}", &eb);
    assert_string_equal(eb.code, "ROOT_BRANCHES_LIMIT_EXCEEDED");
    assert_string_equal(eb.message, "too many roots");
    assert_string_equal(eb.request_id, "rq-1");

    parse_text("{\"code\":\"\",\"message\":\"branch not found\"}", &eb);
    assert_string_equal(eb.code, "");
    assert_string_equal(eb.message, "branch not found");
    assert_string_equal(eb.request_id, "");

    /* nested shape, request_id beside it */
    parse_text("{\"error\":{\"code\":\"LOCKED\",\"message\":\"project is locked\"},"
               "\"request_id\":\"rq-2\"}", &eb);
    assert_string_equal(eb.code, "LOCKED");
    assert_string_equal(eb.message, "project is locked");
    assert_string_equal(eb.request_id, "rq-2");

    /* nested shape with its own request_id */
    parse_text("{\"error\":{\"message\":\"m\",\"request_id\":\"rq-3\"}}", &eb);
    assert_string_equal(eb.code, "");
    assert_string_equal(eb.message, "m");
    assert_string_equal(eb.request_id, "rq-3");

    /* "error" as a plain string */
    parse_text("{\"error\":\"bad thing\"}", &eb);
    assert_string_equal(eb.message, "bad thing");

    /* numeric code, wrong types, missing fields */
    parse_text("{\"code\":42,\"message\":17}", &eb);
    assert_string_equal(eb.code, "42");
    assert_string_equal(eb.message, "17");
    parse_text("{\"code\":null,\"message\":{\"x\":1},\"request_id\":true}", &eb);
    assert_string_equal(eb.code, "");
    assert_string_equal(eb.message, "");
    assert_string_equal(eb.request_id, "");
    parse_text("{}", &eb);
    assert_string_equal(eb.code, "");
    assert_string_equal(eb.message, "");
    parse_text("[1,2,3]", &eb);
    assert_string_equal(eb.message, "");

    /* control characters never reach a message: they are escaped visibly */
    parse_text("{\"message\":\"line1\\nline2\\u0007\"}", &eb);
    assert_string_equal(eb.message, "line1\\nline2\\x07");
}

static void test_error_body_not_json(void **state)
{
    (void)state;
    neonflow__error_body eb;
    const char *html = "<html><body>502 Bad Gateway</body></html>\r\n";
    neonflow__error_body_parse(NULL, html, strlen(html), NULL, &eb);
    assert_string_equal(eb.message, "<html><body>502 Bad Gateway</body></html>");
    assert_string_equal(eb.code, "");

    char big[1000];
    memset(big, 'x', sizeof(big));
    neonflow__error_body_parse(NULL, big, sizeof(big), NULL, &eb);
    assert_int_equal(strlen(eb.message), 203);
    assert_memory_equal(eb.message + 200, "...", 3);

    neonflow__error_body_parse(NULL, NULL, 0, NULL, &eb);
    assert_string_equal(eb.message, "");
    /* long fields are cut, never overflow */
    char longmsg[2000];
    strcpy(longmsg, "{\"message\":\"");
    memset(longmsg + 12, 'y', 1500);
    strcpy(longmsg + 1512, "\"}");
    parse_text(longmsg, &eb);
    assert_int_equal(strlen(eb.message), sizeof(eb.message) - 1);
}

static void redact_mode(const char *in, const char *secret, int headers, const char *want)
{
    size_t n = 0;
    char *out = neonflow__trace_redact(in, strlen(in), secret, headers, &n);
    assert_non_null(out);
    assert_int_equal(n, strlen(want));
    assert_string_equal(out, want);
    neonflow__free(out);
}

static void redact(const char *in, const char *secret, const char *want)
{
    redact_mode(in, secret, 1, want);
}

static void test_trace_redaction(void **state)
{
    (void)state;
    const char *key = "napi_supersecret123";
    redact("GET /api/v2/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer napi_supersecret123\r\n"
           "Accept: application/json\r\n\r\n",
           key,
           "GET /api/v2/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ***\r\n"
           "Accept: application/json\r\n\r\n");
    /* case-insensitive name, bare \n, last line without newline */
    redact("authorization: bearer zzz\nX: 1\nAUTHORIZATION:Basic abc", NULL,
           "Authorization: Bearer ***\nX: 1\nAuthorization: Bearer ***");
    redact("Proxy-Authorization: Basic Zm9v\r\n", NULL, "Authorization: Bearer ***\r\n");
    /* the key anywhere else is scrubbed too */
    redact("X-Debug: napi_supersecret123 and napi_supersecret123\r\n", key,
           "X-Debug: *** and ***\r\n");
    /* a header merely mentioning the word is kept */
    redact("X-Authorization-Mode: none\r\n", key, "X-Authorization-Mode: none\r\n");
    redact("", key, "");
    /* short secrets are masked without growing */
    redact("aaaa\n", "a", "****\n");
    /* bodies: only the key is scrubbed, lines are otherwise untouched */
    redact_mode("authorization: kept\n{\"k\":\"napi_supersecret123\"}", key, 0,
                "authorization: kept\n{\"k\":\"***\"}");
}

static void test_trace_redaction_binary_safe(void **state)
{
    (void)state;
    const char in[] = {'A', 'u', 't', 'h', 'o', 'r', 'i', 'z', 'a', 't', 'i', 'o', 'n', ':', ' ', 'k',
                       '\r', '\n', 'x', '\0', 'y', '\n'};
    size_t n = 0;
    char *out = neonflow__trace_redact(in, sizeof(in), "k", 1, &n);
    assert_non_null(out);
    const char want[] = "Authorization: Bearer ***\r\nx\0y\n";
    assert_int_equal(n, sizeof(want) - 1);
    assert_memory_equal(out, want, n);
    neonflow__free(out);
}

static void test_scrub(void **state)
{
    (void)state;
    char buf[64] = "key=SECRET99, again SECRET99!";
    neonflow__scrub(buf, "SECRET99");
    assert_string_equal(buf, "key=***, again ***!");
    /* keys shorter than 3 become as many stars: never longer */
    char small[8] = "ab";
    neonflow__scrub(small, "b");
    assert_string_equal(small, "a*");
    char star[16] = "a*b";
    neonflow__scrub(star, "*");
    assert_string_equal(star, "a*b");
    char same[16] = "abc";
    neonflow__scrub(same, NULL);
    neonflow__scrub(same, "");
    assert_string_equal(same, "abc");
}

static void test_trace_kinds(void **state)
{
    (void)state;
    assert_int_equal(neonflow__trace_kind(CURLINFO_TEXT), NEONFLOW_TRACE_INFO);
    assert_int_equal(neonflow__trace_kind(CURLINFO_HEADER_OUT), NEONFLOW_TRACE_HEADER_OUT);
    assert_int_equal(neonflow__trace_kind(CURLINFO_DATA_OUT), NEONFLOW_TRACE_DATA_OUT);
    assert_int_equal(neonflow__trace_kind(CURLINFO_HEADER_IN), NEONFLOW_TRACE_HEADER_IN);
    assert_int_equal(neonflow__trace_kind(CURLINFO_DATA_IN), NEONFLOW_TRACE_DATA_IN);
    assert_int_equal(neonflow__trace_kind(CURLINFO_SSL_DATA_IN), -1);
    assert_int_equal(neonflow__trace_kind(CURLINFO_SSL_DATA_OUT), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idempotent_methods),
        cmocka_unit_test(test_decision_status_table),
        cmocka_unit_test(test_decision_transport_table),
        cmocka_unit_test(test_status_mapping),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_error_body_shapes),
        cmocka_unit_test(test_error_body_not_json),
        cmocka_unit_test(test_trace_redaction),
        cmocka_unit_test(test_trace_redaction_binary_safe),
        cmocka_unit_test(test_scrub),
        cmocka_unit_test(test_trace_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
