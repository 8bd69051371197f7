/* Emulator: HTTP faults, counters, connections (keep-alive), rate limits. */
#include "emu_http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

static int setup(void **state)
{
    static emu_fixture fx;
    if (fx_start(&fx, NULL) != 0)
        return -1;
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fx_stop(*state);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void add(emu_fixture *fx, const char *method, const char *path, int kind, int status, int ra,
                int skip, int count)
{
    emu_fault f;
    emu_fault_init(&f);
    f.method = method;
    f.path = path;
    f.kind = kind;
    f.status = status;
    f.retry_after_s = ra;
    f.skip = skip;
    f.count = count;
    assert_int_equal(emu_fault_add(fx->s, &f), 0);
}

static void test_status_faults(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    add(fx, "GET", "/projects/*/branches", EMU_FAULT_STATUS, 503, 7, 0, 1);
    http_req(fx->s, "GET", "/projects/proj/branches", NULL, &r);
    assert_int_equal(r.status, 503);
    assert_true(r.has_retry_after);
    assert_string_equal(r.retry_after, "7");
    assert_non_null(jstr(r.json, "message"));
    assert_string_equal(jstr(r.json, "request_id"), r.request_id);
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/proj/branches", NULL, 200, &r);
    http_free(&r);
    /* without Retry-After; skip 1 then 2 */
    add(fx, NULL, "/projects/**", EMU_FAULT_STATUS, 429, -1, 1, 2);
    http_expect(fx->s, "GET", "/projects/proj", NULL, 200, &r);
    http_free(&r);
    for (int i = 0; i < 2; i++) {
        http_req(fx->s, "GET", "/projects/proj/endpoints", NULL, &r);
        assert_int_equal(r.status, 429);
        assert_false(r.has_retry_after);
        http_free(&r);
    }
    http_expect(fx->s, "GET", "/projects/proj", NULL, 200, &r);
    http_free(&r);
    /* method filter and '*' segments */
    add(fx, "POST", "/projects/*/branches/*/snapshot", EMU_FAULT_STATUS, 500, -1, 0, 1);
    char path[160];
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/snapshot", fx->bid);
    http_expect(fx->s, "GET", "/projects/proj/snapshots", NULL, 200, &r);
    http_free(&r);
    http_expect(fx->s, "POST", path, NULL, 500, &r);
    http_free(&r);
    assert_int_equal(emu_count_snapshots(fx->s, "proj"), 0); /* not applied */
    http_expect(fx->s, "POST", path, NULL, 200, &r);
    http_free(&r);
    /* clear */
    add(fx, NULL, NULL, EMU_FAULT_STATUS, 502, -1, 0, 100);
    emu_faults_clear(fx->s);
    http_expect(fx->s, "GET", "/projects/proj", NULL, 200, &r);
    http_free(&r);
    emu_fault bad;
    emu_fault_init(&bad);
    bad.kind = 42;
    assert_int_not_equal(emu_fault_add(fx->s, &bad), 0);
}

static void test_drops(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    add(fx, "POST", "/projects/*/branches", EMU_FAULT_DROP_BEFORE, 0, -1, 0, 1);
    http_req(fx->s, "POST", "/projects/proj/branches", "{\"branch\":{\"name\":\"lost1\"}}", &r);
    assert_int_not_equal(r.rc, CURLE_OK);
    http_free(&r);
    assert_int_equal(emu_count_branches(fx->s, "proj"), 1); /* not applied */

    add(fx, "POST", "/projects/*/branches", EMU_FAULT_DROP_AFTER, 0, -1, 0, 1);
    http_req(fx->s, "POST", "/projects/proj/branches", "{\"branch\":{\"name\":\"lost2\"}}", &r);
    assert_int_not_equal(r.rc, CURLE_OK);
    http_free(&r);
    assert_int_equal(emu_count_branches(fx->s, "proj"), 2); /* applied, answer lost */
    /* a retry of the lost POST sees the duplicate */
    http_expect(fx->s, "POST", "/projects/proj/branches", "{\"branch\":{\"name\":\"lost2\"}}", 409, &r);
    http_free(&r);
    assert_int_equal(emu_responses_with_status(fx->s, 409), 1);
}

static void test_delay_truncate_malformed(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    emu_fault f;
    emu_fault_init(&f);
    f.kind = EMU_FAULT_DELAY;
    f.delay_ms = 300;
    f.path = "/projects/*";
    assert_int_equal(emu_fault_add(fx->s, &f), 0);
    double t0 = now_s();
    http_expect(fx->s, "GET", "/projects/proj", NULL, 200, &r);
    assert_true(now_s() - t0 >= 0.29);
    http_free(&r);
    t0 = now_s();
    http_expect(fx->s, "GET", "/projects/proj", NULL, 200, &r);
    assert_true(now_s() - t0 < 0.25);
    http_free(&r);

    add(fx, "POST", "/projects/*/branches", EMU_FAULT_TRUNCATE, 0, -1, 0, 1);
    http_req(fx->s, "POST", "/projects/proj/branches", "{\"branch\":{\"name\":\"t1\"}}", &r);
    assert_int_equal(r.rc, CURLE_PARTIAL_FILE);
    assert_true(r.len > 10);
    assert_null(r.json);
    http_free(&r);
    assert_int_equal(emu_count_branches(fx->s, "proj"), 2); /* applied */

    add(fx, "GET", "/projects/*/branches", EMU_FAULT_MALFORMED, 0, -1, 0, 1);
    http_req(fx->s, "GET", "/projects/proj/branches", NULL, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_non_null(r.body);
    assert_null(r.json);
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/proj/branches", NULL, 200, &r);
    assert_non_null(r.json);
    http_free(&r);
}

static int probability_pattern(uint64_t seed, char *out, int n)
{
    emu_fixture fx;
    emu_config c;
    http_resp r;
    int hits = 0;
    emu_config_init(&c);
    c.seed = seed;
    c.rate_per_minute = c.rate_per_second_route = 0;
    assert_int_equal(fx_start(&fx, &c), 0);
    emu_fault f;
    emu_fault_init(&f);
    f.kind = EMU_FAULT_STATUS;
    f.status = 503;
    f.probability = 0.5;
    assert_int_equal(emu_fault_add(fx.s, &f), 0);
    for (int i = 0; i < n; i++) {
        http_req(fx.s, "GET", "/projects/proj", NULL, &r);
        out[i] = r.status == 503 ? 'x' : '.';
        hits += r.status == 503;
        http_free(&r);
    }
    out[n] = '\0';
    fx_stop(&fx);
    return hits;
}

static void test_probability_is_seeded(void **state)
{
    (void)state;
    char a[101], b[101];
    int hits = probability_pattern(77, a, 100);
    assert_true(hits > 20 && hits < 80);
    probability_pattern(77, b, 100);
    assert_string_equal(a, b);
}

static void test_counters_and_connections(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    emu_counters_reset(fx->s);
    http_reset();
    for (int i = 0; i < 10; i++) {
        http_expect(fx->s, "GET", "/projects/proj/branches", NULL, 200, &r);
        http_free(&r);
    }
    http_expect(fx->s, "GET", "/projects/proj/branches/br-nope-nope-nope", NULL, 404, &r);
    http_free(&r);
    http_expect(fx->s, "POST", "/projects/proj/branches", NULL, 201, &r);
    http_free(&r);
    assert_int_equal(emu_connections(fx->s), 1); /* keep-alive: one connection */
    http_reset();
    http_expect(fx->s, "GET", "/projects/proj", NULL, 200, &r);
    http_free(&r);
    assert_int_equal(emu_connections(fx->s), 2);
    assert_int_equal(emu_requests(fx->s, "GET", "/projects/*/branches"), 10);
    assert_int_equal(emu_requests(fx->s, "GET", "/projects/*/branches/*"), 1);
    assert_int_equal(emu_requests(fx->s, "POST", NULL), 1);
    assert_int_equal(emu_requests(fx->s, NULL, "/projects/**"), 13);
    assert_int_equal(emu_requests(fx->s, NULL, NULL), 13);
    assert_int_equal(emu_responses_with_status(fx->s, 200), 11);
    assert_int_equal(emu_responses_with_status(fx->s, 404), 1);
    assert_int_equal(emu_responses_with_status(fx->s, 201), 1);
    /* control routes are not counted */
    http_expect(fx->s, "GET", "/__emulator/counters?method=GET&path=/projects/*/branches", NULL, 200, &r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "count")), 10);
    assert_int_equal(json_integer_value(json_object_get(r.json, "connections")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "responses"), "404")), 1);
    http_free(&r);
    assert_int_equal(emu_requests(fx->s, NULL, NULL), 13);
    emu_counters_reset(fx->s);
    assert_int_equal(emu_requests(fx->s, NULL, NULL), 0);
    assert_int_equal(emu_responses_with_status(fx->s, 200), 0);
    assert_int_equal(emu_connections(fx->s), 0);
}

/* A client that sends a request and goes away (a killed process) during a
 * delay fault: the request is still applied when the delay ends, and the
 * in_flight gauge stays above 0 until then, so a harness reading it knows when
 * no late change can land any more. */
static void test_in_flight_outlives_its_client(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    emu_fault f;
    emu_fault_init(&f);
    f.method = "POST";
    f.path = "/projects/*/branches";
    f.kind = EMU_FAULT_DELAY;
    f.delay_ms = 1000;
    f.count = 1;
    assert_int_equal(emu_fault_add(fx->s, &f), 0);
    static const char body[] = "{\"branch\":{\"name\":\"late\"}}";
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "POST /api/v2/projects/proj/branches HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Bearer emulator-key\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", sizeof(body) - 1, body);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(emu_port(fx->s));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(write(fd, req, (size_t)n), n);
    /* gone once the emulator has the request (it is counted before its delay) */
    for (int i = 0; i < 2000 && emu_requests(fx->s, "POST", "/projects/*/branches") == 0; i++)
        usleep(5000);
    assert_int_equal(emu_requests(fx->s, "POST", "/projects/*/branches"), 1);
    close(fd);
    json_int_t left = 1;
    for (int i = 0; i < 2000 && left > 0; i++) {
        http_expect(fx->s, "GET", "/__emulator/counters", NULL, 200, &r);
        json_t *v = json_object_get(r.json, "in_flight");
        assert_non_null(v);
        left = json_integer_value(v);
        http_free(&r);
        if (left > 0)
            usleep(5000);
    }
    assert_int_equal(left, 0);
    /* in_flight 0: the gone client's request has been applied */
    http_expect(fx->s, "GET", "/projects/proj/branches?search=late", NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "branches")), 1);
    http_free(&r);
}

static void test_rate_limits(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    emu_set_rate_limit(fx->s, 0, 5); /* per route per second */
    for (int i = 0; i < 5; i++) {
        http_expect(fx->s, "GET", "/projects/proj/branches", NULL, 200, &r);
        http_free(&r);
    }
    http_req(fx->s, "GET", "/projects/proj/branches", NULL, &r);
    assert_int_equal(r.status, 429);
    assert_true(r.has_retry_after);
    assert_string_equal(r.retry_after, "1");
    assert_non_null(jstr(r.json, "message"));
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/proj/endpoints", NULL, 200, &r); /* other route */
    http_free(&r);
    usleep(1050 * 1000);
    http_expect(fx->s, "GET", "/projects/proj/branches", NULL, 200, &r);
    http_free(&r);

    emu_set_rate_limit(fx->s, 3, 0); /* per account per minute */
    for (int i = 0; i < 3; i++) {
        http_expect(fx->s, "GET", i % 2 ? "/projects/proj" : "/projects/proj/snapshots", NULL, 200, &r);
        http_free(&r);
    }
    http_req(fx->s, "GET", "/projects/proj/operations", NULL, &r);
    assert_int_equal(r.status, 429);
    int ra = atoi(r.retry_after);
    assert_true(ra >= 59 && ra <= 60);
    http_free(&r);
    assert_true(emu_responses_with_status(fx->s, 429) == 2);
    emu_set_rate_limit(fx->s, 0, 0);
    http_expect(fx->s, "GET", "/projects/proj", NULL, 200, &r);
    http_free(&r);
}

static void test_throughput(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    const int n = 3000;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        http_req(fx->s, "GET", "/projects/proj", NULL, &r);
        assert_int_equal(r.status, 200);
        http_free(&r);
    }
    double rate = n / (now_s() - t0);
    printf("# %.0f GET/s over one keep-alive connection\n", rate);
    assert_true(rate > 300); /* lenient: sanitizers and busy CI machines */
    assert_int_equal(emu_connections(fx->s), 1);
}

int main(void)
{
    alarm(100);
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_status_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delay_truncate_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_flight_outlives_its_client, setup, teardown),
        cmocka_unit_test(test_probability_is_seeded),
        cmocka_unit_test_setup_teardown(test_counters_and_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_throughput, setup, teardown),
    };
    int rc = cmocka_run_group_tests_name("emulator.faults", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
