/* The client-side rate limiter with a fake clock: per-route and per-minute
 * windows, the waits it computes, in-flight accounting, threads, and that 0
 * disables a window. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/ratelimit.h"

#define SEC NEONFLOW__RL_SECOND_WINDOW_MS
#define MIN NEONFLOW__RL_MINUTE_WINDOW_MS

/* Reserves and immediately completes one request at `now`; returns the wait
 * (0 when admitted). */
static int64_t hit(neonflow__ratelimit *rl, const char *route, int64_t now, int *which)
{
    neonflow__rl_slot slot;
    int64_t wait = -1;
    int r = neonflow__ratelimit_reserve(rl, route, now, &slot, &wait, which);
    assert_true(r == 0 || r == 1);
    if (r == 1) {
        assert_int_equal(wait, 0);
        neonflow__ratelimit_release(rl, &slot, now);
        return 0;
    }
    assert_true(wait > 0);
    return wait;
}

static void test_disabled(void **state)
{
    (void)state;
    neonflow__ratelimit *rl = neonflow__ratelimit_new(0, 0);
    assert_non_null(rl);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(hit(rl, "GET /x", 0, NULL), 0);
    assert_int_equal(neonflow__ratelimit_count(rl, NULL, 0), 0);
    neonflow__ratelimit_free(rl);
    /* a NULL limiter admits everything too */
    neonflow__rl_slot slot;
    int64_t wait;
    assert_int_equal(neonflow__ratelimit_reserve(NULL, "GET /x", 0, &slot, &wait, NULL), 1);
    neonflow__ratelimit_release(NULL, &slot, 0);
    neonflow__ratelimit_free(NULL);
}

static void test_per_route_window(void **state)
{
    (void)state;
    neonflow__ratelimit *rl = neonflow__ratelimit_new(0, 40);
    int64_t t = 1000000;
    /* 40 requests spread over 390 ms are admitted */
    for (int i = 0; i < 40; i++)
        assert_int_equal(hit(rl, "GET /ops/{id}", t + i * 10, NULL), 0);
    assert_int_equal(neonflow__ratelimit_count(rl, "GET /ops/{id}", t + 390), 40);
    /* the 41st waits until the first leaves the (stretched) window */
    int which = 0;
    int64_t w = hit(rl, "GET /ops/{id}", t + 400, &which);
    assert_int_equal(which, 2);
    assert_int_equal(w, t + SEC - (t + 400));
    /* one ms before that it still waits exactly 1 ms */
    assert_int_equal(hit(rl, "GET /ops/{id}", t + SEC - 1, NULL), 1);
    /* at the moment the first entry expires, one slot frees */
    assert_int_equal(hit(rl, "GET /ops/{id}", t + SEC, NULL), 0);
    /* the next one waits for the second entry (t+10) */
    assert_int_equal(hit(rl, "GET /ops/{id}", t + SEC, NULL), 10);
    /* other routes and methods have their own windows */
    assert_int_equal(hit(rl, "POST /ops/{id}", t + SEC, NULL), 0);
    assert_int_equal(hit(rl, "GET /branches", t + SEC, NULL), 0);
    /* no global limit: counting it gives 0 */
    assert_int_equal(neonflow__ratelimit_count(rl, NULL, t), 0);
    neonflow__ratelimit_free(rl);
}

static void test_per_minute_window(void **state)
{
    (void)state;
    neonflow__ratelimit *rl = neonflow__ratelimit_new(700, 0);
    int64_t t = 5000;
    for (int i = 0; i < 700; i++)
        assert_int_equal(hit(rl, i % 2 ? "GET /a" : "GET /b", t + i, NULL), 0);
    int which = 0;
    assert_int_equal(hit(rl, "GET /c", t + 700, &which), t + MIN - (t + 700));
    assert_int_equal(which, 1);
    assert_int_equal(neonflow__ratelimit_count(rl, NULL, t + 700), 700);
    /* the window slides: each later ms frees one more slot */
    assert_int_equal(hit(rl, "GET /c", t + MIN, NULL), 0);
    assert_int_equal(hit(rl, "GET /c", t + MIN, NULL), 1);
    assert_int_equal(hit(rl, "GET /c", t + MIN + 1, NULL), 0);
    assert_int_equal(neonflow__ratelimit_count(rl, NULL, t + MIN + 1), 700);
    /* far later the log is empty again */
    assert_int_equal(neonflow__ratelimit_count(rl, NULL, t + 10 * MIN), 0);
    neonflow__ratelimit_free(rl);
}

static void test_both_windows_longest_wait_wins(void **state)
{
    (void)state;
    neonflow__ratelimit *rl = neonflow__ratelimit_new(50, 40);
    int64_t t = 0;
    for (int i = 0; i < 40; i++)
        assert_int_equal(hit(rl, "GET /a", t, NULL), 0);
    int which = 0;
    /* route full: wait for the route window */
    assert_int_equal(hit(rl, "GET /a", t + 100, &which), SEC - 100);
    assert_int_equal(which, 2);
    for (int i = 0; i < 10; i++)
        assert_int_equal(hit(rl, "GET /b", t + 100, NULL), 0);
    /* now the minute window is full too, and it is the longer wait */
    assert_int_equal(hit(rl, "GET /a", t + 200, &which), MIN - 200);
    assert_int_equal(which, 1);
    assert_int_equal(hit(rl, "GET /c", t + 200, &which), MIN - 200);
    assert_int_equal(which, 1);
    /* a refused reservation holds nothing */
    assert_int_equal(neonflow__ratelimit_count(rl, NULL, t + 200), 50);
    assert_int_equal(neonflow__ratelimit_count(rl, "GET /c", t + 200), 0);
    neonflow__ratelimit_free(rl);
}

static void test_inflight_holds_slots(void **state)
{
    (void)state;
    neonflow__ratelimit *rl = neonflow__ratelimit_new(0, 3);
    neonflow__rl_slot s[3], extra;
    int64_t wait;
    for (int i = 0; i < 3; i++)
        assert_int_equal(neonflow__ratelimit_reserve(rl, "GET /a", 0, &s[i], &wait, NULL), 1);
    /* all three in flight: none can free a slot sooner than a window from now */
    assert_int_equal(neonflow__ratelimit_reserve(rl, "GET /a", 100000, &extra, &wait, NULL), 0);
    assert_int_equal(wait, SEC);
    /* a slow request counts from when it completed, not from when it started */
    neonflow__ratelimit_release(rl, &s[0], 500);
    neonflow__ratelimit_release(rl, &s[1], 600);
    assert_int_equal(neonflow__ratelimit_reserve(rl, "GET /a", 700, &extra, &wait, NULL), 0);
    assert_int_equal(wait, 500 + SEC - 700); /* 2 done within window + 1 in flight */
    neonflow__ratelimit_release(rl, &s[2], 800);
    assert_int_equal(neonflow__ratelimit_reserve(rl, "GET /a", 900, &extra, &wait, NULL), 0);
    assert_int_equal(wait, 500 + SEC - 900);
    assert_int_equal(neonflow__ratelimit_reserve(rl, "GET /a", 500 + SEC, &extra, &wait, NULL), 1);
    neonflow__ratelimit_release(rl, &extra, 500 + SEC);
    /* release is idempotent on a spent slot */
    neonflow__ratelimit_release(rl, &extra, 500 + SEC);
    assert_int_equal(neonflow__ratelimit_count(rl, "GET /a", 500 + SEC), 3);
    neonflow__ratelimit_free(rl);
}

static void test_clock_going_backwards_is_safe(void **state)
{
    (void)state;
    neonflow__ratelimit *rl = neonflow__ratelimit_new(0, 2);
    assert_int_equal(hit(rl, "GET /a", 1000, NULL), 0);
    assert_int_equal(hit(rl, "GET /a", 900, NULL), 0); /* stamped 1000, keeps the log sorted */
    assert_true(hit(rl, "GET /a", 950, NULL) > 0);
    assert_int_equal(hit(rl, "GET /a", 1000 + SEC, NULL), 0);
    neonflow__ratelimit_free(rl);
}

static void test_many_routes_evicted(void **state)
{
    (void)state;
    neonflow__ratelimit *rl = neonflow__ratelimit_new(0, 5);
    char route[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(route, sizeof(route), "GET /r%d", i);
        /* each route is old by the time the next ones come, so the table stays small */
        assert_int_equal(hit(rl, route, (int64_t)i * 2000, NULL), 0);
    }
    /* a route in use is never forgotten */
    neonflow__rl_slot held;
    int64_t wait;
    assert_int_equal(neonflow__ratelimit_reserve(rl, "GET /held", 3000000, &held, &wait, NULL), 1);
    for (int i = 0; i < 200; i++) {
        snprintf(route, sizeof(route), "GET /s%d", i);
        assert_int_equal(hit(rl, route, 3000000 + (int64_t)i * 2000, NULL), 0);
    }
    assert_int_equal(neonflow__ratelimit_count(rl, "GET /held", 3000000 + 400000), 1);
    neonflow__ratelimit_release(rl, &held, 3000000 + 400000);
    neonflow__ratelimit_free(rl);
}

/* ---- threads: the limiter never admits more than the limit ------------- */

typedef struct shared {
    neonflow__ratelimit *rl;
    pthread_mutex_t lock;
    int64_t clock;  /* fake time, advanced by waiting threads */
    int64_t *stamps; /* completion times */
    int n;
} shared;

static void *worker(void *arg)
{
    shared *sh = arg;
    for (int i = 0; i < 200; i++) {
        for (;;) {
            pthread_mutex_lock(&sh->lock);
            int64_t now = sh->clock;
            neonflow__rl_slot slot;
            int64_t wait;
            int r = neonflow__ratelimit_reserve(sh->rl, "GET /x", now, &slot, &wait, NULL);
            if (r == 1) {
                sh->clock += 1; /* the request takes 1 ms */
                neonflow__ratelimit_release(sh->rl, &slot, sh->clock);
                sh->stamps[sh->n++] = sh->clock;
                pthread_mutex_unlock(&sh->lock);
                break;
            }
            if (sh->clock == now)
                sh->clock += wait; /* "sleep" */
            pthread_mutex_unlock(&sh->lock);
        }
    }
    return NULL;
}

static void test_threads_never_exceed(void **state)
{
    (void)state;
    shared sh;
    memset(&sh, 0, sizeof(sh));
    sh.rl = neonflow__ratelimit_new(100, 40);
    pthread_mutex_init(&sh.lock, NULL);
    sh.stamps = calloc(8 * 200, sizeof(int64_t));
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, worker, &sh);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(sh.n, 1600);
    /* any 41 consecutive completions span at least 1 s, any 101 at least 60 s */
    for (int i = 40; i < sh.n; i++)
        assert_true(sh.stamps[i] - sh.stamps[i - 40] >= 1000);
    for (int i = 100; i < sh.n; i++)
        assert_true(sh.stamps[i] - sh.stamps[i - 100] >= 60000);
    free(sh.stamps);
    pthread_mutex_destroy(&sh.lock);
    neonflow__ratelimit_free(sh.rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disabled),
        cmocka_unit_test(test_per_route_window),
        cmocka_unit_test(test_per_minute_window),
        cmocka_unit_test(test_both_windows_longest_wait_wins),
        cmocka_unit_test(test_inflight_holds_slots),
        cmocka_unit_test(test_clock_going_backwards_is_safe),
        cmocka_unit_test(test_many_routes_evicted),
        cmocka_unit_test(test_threads_never_exceed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
