/* One client shared by 8 threads under the emulator's rate limits (scaled
 * so that a saturated run is short): zero errors and zero 429s, and GETs
 * reuse connections across threads (at most 2 per thread), while every
 * mutation still gets a fresh one. Public API only. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emulator.h"
#include "neonflow/neonflow.h"

#define PROJECT "p-pacing"
#define KEY "pacing-key-0123456789"
#define THREADS 8
#define CALLS 15
/* 120 GETs to one route at 20/s saturate the route for about 6 s */
#define PER_MINUTE 6000
#define PER_SECOND_ROUTE 20

typedef struct worker {
    neonflow_client *c;
    int calls;
    int errors;
    pthread_t th;
} worker;

static void *run(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < w->calls; i++) {
        neonflow_branch_list *l = NULL;
        if (neonflow_branches_list(&l, w->c, PROJECT, NULL, NULL, NULL) != NEONFLOW_OK)
            w->errors++;
        neonflow_branch_list_free(l);
    }
    return NULL;
}

static neonflow_client *client(emu_server *s, int32_t per_minute, int32_t per_second_route)
{
    neonflow_client_options *o = NULL;
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(o, KEY), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(o, emu_base_url(s)), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_rate_limit(o, per_minute, per_second_route), NEONFLOW_OK);
    /* a 429 would be retried and hidden: fail on it instead */
    assert_int_equal(neonflow_client_options_set_max_retries(o, 0), NEONFLOW_OK);
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    return c;
}

/* THREADS threads make `calls` GETs each; returns the errors. */
static int hammer(neonflow_client *c, int calls)
{
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){c, calls, 0, 0};
        assert_int_equal(pthread_create(&w[i].th, NULL, run, &w[i]), 0);
    }
    int errors = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(w[i].th, NULL);
        errors += w[i].errors;
    }
    return errors;
}

static emu_server *start(void)
{
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.api_key = KEY;
    cfg.rate_per_minute = PER_MINUTE;
    cfg.rate_per_second_route = PER_SECOND_ROUTE;
    emu_server *s = NULL;
    assert_int_equal(emu_start(&s, &cfg), 0);
    assert_int_equal(emu_add_project(s, PROJECT, "main", NULL, NULL), 0);
    return s;
}

static void test_saturated_run_has_no_429(void **state)
{
    (void)state;
    emu_server *s = start();
    neonflow_client *c = client(s, PER_MINUTE, PER_SECOND_ROUTE);
    emu_counters_reset(s);
    assert_int_equal(hammer(c, CALLS), 0);
    assert_int_equal(emu_responses_with_status(s, 429), 0);
    assert_int_equal(emu_requests(s, "GET", NULL), THREADS * CALLS);
    assert_true(emu_connections(s) <= 2 * THREADS);
    neonflow_client_free(c);
    emu_stop(s);
}

/* Without limits all threads are in transfers at once: the shared cache
 * must keep a connection per thread (curl's default for a one-handle multi
 * kept 4, and the others reconnected on every call). */
static void test_threads_share_connections(void **state)
{
    (void)state;
    emu_server *s = start();
    emu_set_rate_limit(s, 0, 0);
    neonflow_client *c = client(s, 0, 0);
    emu_counters_reset(s);
    assert_int_equal(hammer(c, 200), 0);
    assert_int_equal(emu_requests(s, "GET", NULL), THREADS * 200);
    int64_t conns = emu_connections(s);
    assert_true(conns >= 1);
    assert_true(conns <= 2 * THREADS);

    /* mutations: each on a fresh connection, as before */
    for (int i = 0; i < 3; i++) {
        neonflow_branch_result *r = NULL;
        assert_int_equal(neonflow_branch_create(&r, c, PROJECT, NULL, NULL, NULL), NEONFLOW_OK);
        neonflow_branch_result_free(r);
    }
    assert_int_equal(emu_connections(s), conns + 3);
    neonflow_client_free(c);
    emu_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_saturated_run_has_no_429),
        cmocka_unit_test(test_threads_share_connections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
