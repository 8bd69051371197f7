/* The pacing in front of the rate limiter (pacer.h) with a fake clock:
 * slots one interval apart after a small burst, first come first served
 * across threads, never more than the limit in any window, 429s pushing the
 * schedule back; and through the request path, that a saturated client
 * spreads its waits instead of stalling for a minute. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/pacer.h"
#include "core/ratehook.h"
#include "core/ratelimit.h"
#include "http-fakes.h"

#define MIN NEONFLOW__RL_MINUTE_WINDOW_MS
#define SEC NEONFLOW__RL_SECOND_WINDOW_MS

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Most starts in any half-open window [t, t + span) of sorted starts. */
static int32_t max_in_window(const int64_t *t, int n, int64_t span)
{
    int32_t best = 0;
    for (int i = 0, j = 0; i < n; i++) {
        while (t[i] - t[j] >= span)
            j++;
        if (i - j + 1 > best)
            best = i - j + 1;
    }
    return best;
}

static void test_burst_then_even_slots(void **state)
{
    (void)state;
    neonflow__pacer *p = neonflow__pacer_new(700, 0);
    assert_non_null(p);
    int32_t b = neonflow__pacer_burst(700, NEONFLOW__PACER_BURST_SHARE_MINUTE);
    assert_int_equal(b, 7);
    int64_t iv = neonflow__pacer_interval_us(700, b, MIN);
    /* 7 at once, then one per interval: no burst of 700 and no stall */
    int64_t t = 1000000, prev = 0;
    for (int i = 0; i < 2000; i++) {
        int which = -1;
        int64_t s = neonflow__pacer_reserve(p, "GET /a", t, -1, &which);
        if (i < b) {
            assert_int_equal(s, t);
            assert_int_equal(which, 0);
        } else {
            assert_int_equal(which, 1);
            assert_int_equal(s, t + ((i - b + 1) * iv + 999) / 1000);
            assert_true(s - prev <= iv / 1000 + 1); /* never a longer gap */
        }
        prev = s;
    }
    /* idle time gives the burst back */
    int64_t later = prev + 10 * MIN;
    for (int i = 0; i < b; i++)
        assert_int_equal(neonflow__pacer_reserve(p, "GET /a", later, -1, NULL), later);
    assert_true(neonflow__pacer_reserve(p, "GET /a", later, -1, NULL) > later);
    neonflow__pacer_free(p);
    /* off: never waits; NULL admits too */
    p = neonflow__pacer_new(0, 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(neonflow__pacer_reserve(p, "GET /a", 5, -1, NULL), 5);
    neonflow__pacer_free(p);
    assert_int_equal(neonflow__pacer_reserve(NULL, "GET /a", 5, -1, NULL), 5);
    neonflow__pacer_throttle(NULL, 5, 100);
}

/* Arrivals in bursts, pauses and steady streams: the starts never hold more
 * than the limit in any window of the server's length plus the margin, for
 * the account and for each route. */
static void test_never_over_the_limit_in_any_window(void **state)
{
    (void)state;
    const int32_t limits[][2] = {{700, 40}, {50, 3}, {7000, 400}, {1, 1}};
    for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
        int32_t per_min = limits[l][0], per_sec = limits[l][1];
        neonflow__pacer *p = neonflow__pacer_new(per_min, per_sec);
        enum { N = 3000 };
        static int64_t all[N], r0[N], r1[N];
        int n0 = 0, n1 = 0;
        uint64_t x = 88172645463325252ULL;
        int64_t now = 0;
        for (int i = 0; i < N; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int pause = (int)(x % 100);
            now += pause < 60 ? 0 : pause < 95 ? (int64_t)(x % 50) : (int64_t)(x % 90000);
            int route = (int)((x >> 20) & 1);
            int64_t s = neonflow__pacer_reserve(p, route ? "GET /b" : "GET /a", now, -1, NULL);
            assert_true(s >= now);
            all[i] = s;
            if (route)
                r1[n1++] = s;
            else
                r0[n0++] = s;
        }
        qsort(all, N, sizeof(all[0]), cmp64);
        qsort(r0, (size_t)n0, sizeof(r0[0]), cmp64);
        qsort(r1, (size_t)n1, sizeof(r1[0]), cmp64);
        assert_true(max_in_window(all, N, MIN) <= per_min);
        assert_true(max_in_window(r0, n0, SEC) <= per_sec);
        assert_true(max_in_window(r1, n1, SEC) <= per_sec);
        neonflow__pacer_free(p);
    }
}

/* A 429 holds every route until its Retry-After, without a burst after it;
 * without one, only the burst is gone; longer than a minute counts as one. */
static void test_throttle_pushes_everyone(void **state)
{
    (void)state;
    neonflow__pacer *p = neonflow__pacer_new(700, 40);
    assert_int_equal(neonflow__pacer_reserve(p, "GET /a", 100, -1, NULL), 100);
    neonflow__pacer_throttle(p, 200, 3000);
    int which = 0;
    assert_int_equal(neonflow__pacer_reserve(p, "GET /other", 300, -1, &which), 3200);
    assert_int_equal(which, 3);
    assert_true(neonflow__pacer_reserve(p, "GET /a", 300, -1, NULL) > 3200);
    neonflow__pacer_throttle(p, 100000, -1);
    assert_int_equal(neonflow__pacer_reserve(p, "GET /c", 100000, -1, NULL), 100000);
    int64_t iv = neonflow__pacer_interval_us(700, neonflow__pacer_burst(700, NEONFLOW__PACER_BURST_SHARE_MINUTE), MIN);
    assert_int_equal(neonflow__pacer_reserve(p, "GET /c", 100000, -1, NULL), 100000 + (iv + 999) / 1000);
    neonflow__pacer_throttle(p, 200000, 3600 * 1000);
    assert_int_equal(neonflow__pacer_reserve(p, "GET /d", 200000, -1, NULL), 260000);
    neonflow__pacer_free(p);
}

/* A caller that cannot wait for its slot (its deadline is closer) takes
 * none: a loop of such calls must not push the schedule back forever. */
static void test_refused_wait_takes_no_slot(void **state)
{
    (void)state;
    neonflow__pacer *p = neonflow__pacer_new(60, 0); /* burst 1, about 1 s apart */
    int64_t iv = neonflow__pacer_interval_us(60, 1, MIN);
    assert_int_equal(neonflow__pacer_reserve(p, "GET /a", 0, -1, NULL), 0);
    int64_t next = (iv + 999) / 1000;
    for (int i = 0; i < 100; i++)
        assert_int_equal(neonflow__pacer_reserve(p, "GET /a", 0, 10, NULL), next);
    /* exactly enough time is enough */
    assert_int_equal(neonflow__pacer_reserve(p, "GET /a", 0, next, NULL), next);
    assert_int_equal(neonflow__pacer_reserve(p, "GET /a", 0, -1, NULL), (2 * iv + 999) / 1000);
    neonflow__pacer_free(p);
}

/* ---- first come, first served across threads ---------------------------- */

#define THREADS 8
#define ROUNDS 50

typedef struct relay {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int turn; /* the ask whose turn it is, over all threads */
    neonflow__pacer *p;
    int64_t starts[THREADS * ROUNDS];
} relay;

typedef struct asker {
    relay *r;
    int id;
} asker;

/* Thread id asks at turns id, id + THREADS, ...: each ask happens after
 * the previous one (of another thread) was granted. */
static void *ask(void *arg)
{
    asker *a = arg;
    relay *r = a->r;
    for (int k = 0; k < ROUNDS; k++) {
        int my = k * THREADS + a->id;
        pthread_mutex_lock(&r->mu);
        while (r->turn != my)
            pthread_cond_wait(&r->cv, &r->mu);
        pthread_mutex_unlock(&r->mu);
        r->starts[my] = neonflow__pacer_reserve(r->p, a->id % 2 ? "GET /a" : "GET /b", 0, -1, NULL);
        pthread_mutex_lock(&r->mu);
        r->turn++;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    return NULL;
}

static void test_fifo_across_threads(void **state)
{
    (void)state;
    static relay r;
    memset(&r, 0, sizeof(r));
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    r.p = neonflow__pacer_new(700, 40);
    pthread_t th[THREADS];
    asker a[THREADS];
    for (int i = 0; i < THREADS; i++) {
        a[i] = (asker){&r, i};
        assert_int_equal(pthread_create(&th[i], NULL, ask, &a[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    /* grants in the order of asking, whichever thread asked; after the
     * burst each one interval after the previous: nobody is skipped */
    int32_t b = neonflow__pacer_burst(700, NEONFLOW__PACER_BURST_SHARE_MINUTE);
    int64_t iv = neonflow__pacer_interval_us(700, b, MIN);
    for (int i = 1; i < THREADS * ROUNDS; i++) {
        assert_true(r.starts[i] >= r.starts[i - 1]);
        if (i >= b)
            assert_int_equal(r.starts[i], ((i - b + 1) * iv + 999) / 1000);
    }
    neonflow__pacer_free(r.p);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
}

/* ---- through the request path --------------------------------------------- */

/* A saturated client waits a short, even time per call; the limiter
 * before pacing let the whole budget through and then held the next call
 * a whole minute. Calls go to a closed port (refused: nothing is sent, the
 * limiter runs all the same). */
static void test_saturated_calls_wait_evenly(void **state)
{
    (void)state;
    uint16_t port;
    int fd = listen_socket(&port, 0); /* bound, not listening: connections are refused */
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)port);
    neonflow_client_options *o = NULL;
    neonflow_client_options_new(&o);
    neonflow_client_options_set_api_key(o, KEY);
    neonflow_client_options_set_base_url(o, url);
    neonflow_client_options_set_max_retries(o, 0);
    neonflow_client_options_set_rate_limit(o, 20, 0);
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    fake f = {.now = 50000};
    neonflow__sys s = fake_sys(&f);
    neonflow__client_set_sys(c, &s);
    neonflow__request req = {"GET", "/projects/p/branches", "/projects/{project_id}/branches", NULL};
    int64_t iv = neonflow__pacer_interval_us(20, 1, MIN) / 1000 + 1, longest = 0;
    for (int i = 0; i < 60; i++) {
        int before = f.nsleeps;
        assert_int_equal(neonflow__http_call(c, NULL, &req, NULL, NULL), NEONFLOW_ECONNECT);
        int64_t waited = 0;
        for (int j = before; j < f.nsleeps && j < 64; j++)
            waited += f.sleeps[j];
        if (waited > longest)
            longest = waited;
        if (f.nsleeps >= 60)
            f.nsleeps = 0;
    }
    assert_true(longest <= iv);
    neonflow_client_free(c);
    close(fd);
}

static void test_project_from_path(void **state)
{
    (void)state;
    char out[64];
    const char *route = "/projects/{project_id}/branches/{branch_id}";
    assert_string_equal(neonflow__project_from_path(route, "/projects/p-1/branches/br-2", out, sizeof(out)), "p-1");
    assert_string_equal(neonflow__project_from_path("/projects/{project_id}", "/projects/abc?x=1", out, sizeof(out)), "abc");
    assert_null(neonflow__project_from_path("/projects", "/projects", out, sizeof(out)));
    assert_null(neonflow__project_from_path(NULL, "/projects/p-1", out, sizeof(out)));
    /* not an ID, or empty, or too long for the buffer */
    assert_null(neonflow__project_from_path(route, "/projects/P%20Q/branches/b", out, sizeof(out)));
    assert_null(neonflow__project_from_path(route, "/projects//branches/b", out, sizeof(out)));
    assert_null(neonflow__project_from_path(route, "/projects/p-1/branches/b", out, 3));
    /* a path shorter than its template */
    assert_null(neonflow__project_from_path("/x/{project_id}", "/x", out, sizeof(out)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_even_slots),
        cmocka_unit_test(test_never_over_the_limit_in_any_window),
        cmocka_unit_test(test_throttle_pushes_everyone),
        cmocka_unit_test(test_refused_wait_takes_no_slot),
        cmocka_unit_test(test_fifo_across_threads),
        cmocka_unit_test(test_saturated_calls_wait_evenly),
        cmocka_unit_test(test_project_from_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
