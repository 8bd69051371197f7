/* Emulator as other people's test dependency: the save route writes only the
 * file fixed at start, counters stay small whatever clients send, and slow
 * clients neither outlive the connection timeout nor starve others. */
#include "emu_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

static int file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* ---- save ---- */

static void test_save_without_file_is_refused(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char file[] = "/tmp/emu-victim-XXXXXX", body[128];
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    close(fd);
    unlink(file);
    snprintf(body, sizeof(body), "{\"path\":\"%s\"}", file);
    http_req(fx->s, "POST", "/__emulator/save", body, &r);
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(jstr(r.json, "message"), "--save"));
    http_free(&r);
    assert_false(file_exists(file)); /* nothing written where the client asked */
    http_expect(fx->s, "POST", "/__emulator/save", NULL, 409, &r);
    http_free(&r);
}

static void test_save_writes_only_the_fixed_file(void **state)
{
    (void)state;
    char fixed[] = "/tmp/emu-fixed-XXXXXX", other[] = "/tmp/emu-other-XXXXXX", body[128];
    int fd = mkstemp(fixed);
    assert_true(fd >= 0);
    close(fd);
    unlink(fixed);
    fd = mkstemp(other);
    assert_true(fd >= 0);
    close(fd);
    unlink(other);

    emu_config c;
    emu_fixture fx;
    emu_config_init(&c);
    c.rate_per_minute = c.rate_per_second_route = 0;
    c.save_path = fixed;
    assert_int_equal(fx_start(&fx, &c), 0);
    http_resp r;
    snprintf(body, sizeof(body), "{\"path\":\"%s\"}", other);
    http_req(fx.s, "POST", "/__emulator/save", body, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(jstr(r.json, "message"), "fixed at start"));
    http_free(&r);
    assert_false(file_exists(other));
    assert_false(file_exists(fixed));
    http_expect(fx.s, "POST", "/__emulator/save", "{\"path\":7}", 400, &r);
    http_free(&r);

    json_t *j = http_expect(fx.s, "POST", "/__emulator/save", NULL, 200, &r);
    assert_string_equal(jstr(j, "path"), fixed);
    http_free(&r);
    json_t *saved = json_load_file(fixed, 0, NULL);
    assert_non_null(saved);
    assert_string_equal(jstr(saved, "projects.0.id"), "proj");
    json_decref(saved);
    unlink(fixed);
    /* naming the fixed file itself is accepted */
    snprintf(body, sizeof(body), "{\"path\":\"%s\"}", fixed);
    http_expect(fx.s, "POST", "/__emulator/save", body, 200, &r);
    http_free(&r);
    assert_true(file_exists(fixed));
    unlink(fixed);
    fx_stop(&fx);
}

/* ---- other control routes: bounded input ---- */

static void test_control_inputs_are_bounded(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    /* overlong strings are refused */
    char big[2100], body[2300];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    const char *member[][2] = { /* route, body up to the long string */
        {"/__emulator/faults", "{\"kind\":\"status\",\"path\":\"/"},
        {"/__emulator/op_faults", "{\"kind\":\"error\",\"action\":\""},
        {"/__emulator/write", "{\"project_id\":\"proj\",\"branch_id\":\"x\",\"content\":\""},
        {"/__emulator/branches", "{\"project_id\":\"proj\",\"name\":\""},
    };
    for (size_t i = 0; i < sizeof(member) / sizeof(*member); i++) {
        snprintf(body, sizeof(body), "%s%s\"}", member[i][1], big);
        http_req(fx->s, "POST", member[i][0], body, &r);
        assert_int_equal(r.status, 400);
        assert_non_null(strstr(jstr(r.json, "message"), "longer than"));
        http_free(&r);
    }
    /* fault rules are capped, so a loop of POSTs cannot grow the list forever */
    int refused = 0;
    for (int i = 0; i < 1100 && !refused; i++) {
        http_req(fx->s, "POST", "/__emulator/faults", "{\"path\":\"/nothing/here\",\"kind\":\"status\"}", &r);
        if (r.status == 409)
            refused = i;
        else
            assert_int_equal(r.status, 200);
        http_free(&r);
    }
    assert_int_equal(refused, 1000);
    http_expect(fx->s, "DELETE", "/__emulator/faults", NULL, 200, &r);
    http_free(&r);
    http_expect(fx->s, "POST", "/__emulator/faults", "{\"kind\":\"status\",\"path\":\"/x\"}", 200, &r);
    http_free(&r);
    refused = 0;
    for (int i = 0; i < 1100 && !refused; i++) {
        http_req(fx->s, "POST", "/__emulator/op_faults", "{\"action\":\"nothing\",\"kind\":\"error\"}", &r);
        if (r.status == 409)
            refused = i;
        else
            assert_int_equal(r.status, 200);
        http_free(&r);
    }
    assert_int_equal(refused, 1000);
    /* out-of-range numbers are refused instead of wrapping */
    const char *bad[][2] = {
        {"/__emulator/faults", "{\"kind\":\"delay\",\"delay_ms\":3600001}"},
        {"/__emulator/faults", "{\"kind\":\"status\",\"count\":4294967297}"},
        {"/__emulator/faults", "{\"kind\":\"status\",\"skip\":-1}"},
        {"/__emulator/op_duration", "{\"ms\":3600001}"},
        {"/__emulator/rate_limit", "{\"per_minute\":4294967297,\"per_second_route\":0}"},
        {"/__emulator/rate_limit", "{\"per_minute\":-1,\"per_second_route\":0}"},
        {"/__emulator/rate_limit", "{\"per_minute\":100000000,\"per_second_route\":0}"},
        {"/__emulator/limits", "{\"project_id\":\"proj\",\"max_snapshots\":4294967297}"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        http_req(fx->s, "POST", bad[i][0], bad[i][1], &r);
        if (r.status != 400)
            fprintf(stderr, "# %s %s -> %ld\n", bad[i][0], bad[i][1], r.status);
        assert_int_equal(r.status, 400);
        http_free(&r);
    }
}

/* ---- counters ---- */

static void big_path(char *out, size_t len, const char *prefix, int i)
{
    int n = snprintf(out, len, "%s%d-", prefix, i);
    memset(out + n, 'a', len - (size_t)n - 1);
    out[len - 1] = '\0';
}

static void test_counters_stay_small(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char path[4096];
    emu_counters_reset(fx->s);
    http_reset();
    /* unauthenticated: not counted at all, whatever the path */
    for (int i = 0; i < 1000; i++) {
        big_path(path, sizeof(path), "/projects/proj/branches/", i);
        http_req_ex(fx->s, "GET", path, NULL, "wrong-key", NULL, &r);
        assert_int_equal(r.status, 401);
        http_free(&r);
    }
    assert_int_equal(emu_requests(fx->s, NULL, NULL), 0);
    /* authenticated, unknown paths and wrong methods: one bucket per method */
    for (int i = 0; i < 500; i++) {
        big_path(path, sizeof(path), "/zzz/", i);
        http_req(fx->s, i % 2 ? "GET" : "POST", path, NULL, &r);
        assert_int_equal(r.status, 404);
        http_free(&r);
    }
    http_expect(fx->s, "PUT", "/projects/proj/branches", "{}", 405, &r);
    http_free(&r);
    /* known routes keep counting by concrete path */
    for (int i = 0; i < 3; i++) {
        http_expect(fx->s, "GET", "/projects/proj/branches", NULL, 200, &r);
        http_free(&r);
    }
    assert_int_equal(emu_requests(fx->s, NULL, NULL), 504);
    assert_int_equal(emu_requests(fx->s, "GET", NULL), 253);
    assert_int_equal(emu_requests(fx->s, "GET", "/projects/*/branches"), 3);
    assert_int_equal(emu_requests(fx->s, NULL, "/projects/**"), 3);
    assert_int_equal(emu_requests(fx->s, NULL, "(unmatched)"), 501);
    assert_int_equal(emu_responses_with_status(fx->s, 401), 1000);

    json_t *j = http_expect(fx->s, "GET", "/__emulator/counters", NULL, 200, &r);
    json_t *req = json_object_get(j, "requests");
    assert_int_equal(json_object_size(req), 4);
    assert_int_equal(json_integer_value(json_object_get(req, "GET /projects/proj/branches")), 3);
    assert_int_equal(json_integer_value(json_object_get(req, "GET (unmatched)")), 250);
    assert_int_equal(json_integer_value(json_object_get(req, "POST (unmatched)")), 250);
    assert_int_equal(json_integer_value(json_object_get(req, "PUT (unmatched)")), 1);
    http_free(&r);
}

static void test_counter_keys_are_capped(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char path[128];
    emu_counters_reset(fx->s);
    const int n = 4200; /* a matched route with ever new IDs: one key each until the cap */
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "/projects/proj/branches/br-%d", i);
        http_req(fx->s, "GET", path, NULL, &r);
        assert_int_equal(r.status, 404);
        http_free(&r);
    }
    assert_int_equal(emu_requests(fx->s, NULL, NULL), n);
    json_t *j = http_expect(fx->s, "GET", "/__emulator/counters", NULL, 200, &r);
    json_t *req = json_object_get(j, "requests");
    assert_int_equal(json_object_size(req), 4096 + 1);
    assert_int_equal(json_integer_value(json_object_get(req, "GET (overflow)")), n - 4096);
    http_free(&r);
}

/* ---- connections ---- */

static int connect_nb(uint16_t port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* 1 once the server has closed fd (EOF or reset), 0 if still open after ms. */
static int closed_within(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0)
        return 0;
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static void test_connection_timeout_closes_tricklers(void **state)
{
    (void)state;
    emu_config c;
    emu_fixture fx;
    emu_config_init(&c);
    c.rate_per_minute = c.rate_per_second_route = 0;
    c.connection_timeout_s = 1;
    assert_int_equal(fx_start(&fx, &c), 0);
    int fd = connect_nb(emu_port(fx.s));
    assert_true(fd >= 0);
    /* a byte every 200 ms: never idle, but the request is never complete */
    const char *req = "GET /api/v2/projects/proj HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    int closed = 0;
    for (size_t i = 0; i < strlen(req) && !closed; i++) {
        if (send(fd, req + i, 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN)
            closed = 1;
        else
            closed = closed_within(fd, 200);
    }
    close(fd);
    assert_true(closed); /* about 50 bytes: 10 s of trickling, the timeout is 1 s */

    /* an idle keep-alive connection is closed too; a fresh one is served */
    http_resp r;
    http_expect(fx.s, "GET", "/projects/proj", NULL, 200, &r);
    http_free(&r);
    fd = connect_nb(emu_port(fx.s));
    assert_true(fd >= 0);
    assert_true(closed_within(fd, 8000));
    close(fd);
    http_reset();
    http_expect(fx.s, "GET", "/projects/proj", NULL, 200, &r);
    http_free(&r);
    fx_stop(&fx);
}

/* Raises RLIMIT_NOFILE to the hard limit; returns the usable soft limit. */
static long raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = rl;
        want.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl = want;
    }
    return (long)rl.rlim_cur;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* Twelve requests at once, each on its own connection; returns how many got a 200. */
static int legit_requests(emu_server *s, int n)
{
    CURLM *m = curl_multi_init();
    CURL *h[16];
    struct curl_slist *hl = curl_slist_append(NULL, "Authorization: Bearer emulator-key");
    char url[256];
    snprintf(url, sizeof(url), "%s/projects/proj", emu_base_url(s));
    for (int i = 0; i < n; i++) {
        h[i] = curl_easy_init();
        curl_easy_setopt(h[i], CURLOPT_URL, url);
        curl_easy_setopt(h[i], CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h[i], CURLOPT_TIMEOUT_MS, 8000L);
        curl_easy_setopt(h[i], CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h[i], CURLOPT_FORBID_REUSE, 1L);
        curl_multi_add_handle(m, h[i]);
    }
    int running = 1;
    while (running) {
        curl_multi_perform(m, &running);
        if (running)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    int ok = 0;
    for (int i = 0; i < n; i++) {
        long status = 0;
        curl_easy_getinfo(h[i], CURLINFO_RESPONSE_CODE, &status);
        ok += status == 200;
        curl_multi_remove_handle(m, h[i]);
        curl_easy_cleanup(h[i]);
    }
    curl_slist_free_all(hl);
    curl_multi_cleanup(m);
    return ok;
}

static void test_slow_clients_do_not_starve_others(void **state)
{
    emu_fixture *fx = *state;
    /* each slow connection costs two descriptors here (both ends live in this process) */
    long room = (raise_nofile() - 256) / 2;
    int n = room < 1500 ? (int)room : 1500;
    const char *env = getenv("EMU_SLOW_CLIENTS");
    if (env && atoi(env) > 0 && atoi(env) < n)
        n = atoi(env);
    printf("# %d slow connections\n", n);
    int *fds = calloc((size_t)n, sizeof(int));
    assert_non_null(fds);
    int opened = 0;
    for (int i = 0; i < n; i++) {
        fds[i] = connect_nb(emu_port(fx->s));
        if (fds[i] < 0)
            break;
        opened++;
    }
    /* one byte each once connected: a request that never completes */
    char *sent = calloc((size_t)n + 1, 1);
    assert_non_null(sent);
    struct timespec pause = {0, 20 * 1000000L};
    for (int round = 0; round < 100; round++) {
        int pending = 0;
        for (int i = 0; i < opened; i++) {
            if (sent[i])
                continue;
            if (send(fds[i], "G", 1, MSG_NOSIGNAL) == 1)
                sent[i] = 1;
            else if (errno == EAGAIN || errno == ENOTCONN)
                pending++;
            else
                sent[i] = 1; /* refused by the server: nothing more to send */
        }
        if (!pending)
            break;
        nanosleep(&pause, NULL);
    }
    free(sent);
    /* let the server take them in (bounded) */
    int64_t last = -1;
    for (int i = 0; i < 100 && emu_connections(fx->s) < opened; i++) {
        int64_t now = emu_connections(fx->s);
        if (now == last && i > 20)
            break;
        last = now;
        nanosleep(&pause, NULL);
    }
    printf("# server accepted %lld of %d\n", (long long)emu_connections(fx->s), opened);

    int ok = legit_requests(fx->s, 12);
    for (int i = 0; i < opened; i++)
        close(fds[i]);
    free(fds);
    assert_int_equal(opened, n);
    assert_int_equal(ok, 12);
}

int main(void)
{
    alarm(110);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_save_without_file_is_refused, setup, teardown),
        cmocka_unit_test(test_save_writes_only_the_fixed_file),
        cmocka_unit_test_setup_teardown(test_control_inputs_are_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters_stay_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_keys_are_capped, setup, teardown),
        cmocka_unit_test(test_connection_timeout_closes_tricklers),
        cmocka_unit_test_setup_teardown(test_slow_clients_do_not_starve_others, setup, teardown),
    };
    int rc = cmocka_run_group_tests_name("emulator.hardening", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
