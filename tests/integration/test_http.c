/* The HTTP layer against the in-process emulator: retries of 423/429/503,
 * Retry-After, the GET/POST rules for 5xx and lost responses, deadlines,
 * cancellation, connection reuse, and the client-side rate limiter under
 * 8 threads against the emulator's Neon limits. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/http.h"
#include "emulator.h"

#define PROJECT "p-1"

typedef struct fixture {
    emu_server *s;
    neonflow_client *c;
    char branch_id[64];
    /* recording sleep: returns at once (unless cancelled) */
    pthread_mutex_t lock;
    int64_t sleeps[256];
    int nsleeps;
    neonflow__sys real;
} fixture;

static int fx_sleep(void *ctx, int64_t ms, neonflow_cancel *cancel)
{
    fixture *f = ctx;
    pthread_mutex_lock(&f->lock);
    if (f->nsleeps < 256)
        f->sleeps[f->nsleeps++] = ms;
    pthread_mutex_unlock(&f->lock);
    return neonflow_cancel_is_triggered(cancel);
}
static int64_t fx_now(void *ctx) { return ((fixture *)ctx)->real.now_ms(NULL); }
static int64_t fx_wall(void *ctx) { return ((fixture *)ctx)->real.wall_ms(NULL); }
static uint64_t fx_random(void *ctx) { return ((fixture *)ctx)->real.random(NULL); }

static neonflow_client *client_for(fixture *f, int rate_limit_defaults, int32_t retries)
{
    neonflow_client_options *o = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(o, "emulator-key"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(o, emu_base_url(f->s)), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_max_retries(o, retries), NEONFLOW_OK);
    if (!rate_limit_defaults)
        assert_int_equal(neonflow_client_options_set_rate_limit(o, 0, 0), NEONFLOW_OK);
    neonflow_client *c = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_client_new(&c, o, &err);
    if (rc != NEONFLOW_OK)
        fail_msg("client: %s", neonflow_error_message(err));
    neonflow_client_options_free(o);
    return c;
}

/* Swaps in the recording sleep (real clock and randomness). */
static void use_recording_sleep(fixture *f)
{
    f->real = *neonflow__client_sys(f->c);
    neonflow__sys s = {fx_now, fx_wall, fx_sleep, fx_random, f};
    neonflow__client_set_sys(f->c, &s);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    emu_config cfg;
    emu_config_init(&cfg);
    if (emu_start(&f->s, &cfg) != 0)
        return -1;
    if (emu_add_project(f->s, PROJECT, "main", f->branch_id, NULL) != 0)
        return -1;
    f->c = client_for(f, 0, 6);
    use_recording_sleep(f);
    emu_counters_reset(f->s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    neonflow_client_free(f->c);
    emu_stop(f->s);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return 0;
}

static const neonflow__request list_branches = {"GET", "/projects/" PROJECT "/branches",
                                                "/projects/{project_id}/branches", NULL};

static int create_branch(fixture *f, neonflow__call_ctx *ctx, const char *name, neonflow_error **err)
{
    json_t *body = json_pack("{s:{s:s}}", "branch", "name", name);
    neonflow__request req = {"POST", "/projects/" PROJECT "/branches",
                             "/projects/{project_id}/branches", body};
    neonflow__response resp;
    int rc = neonflow__http_call(f->c, ctx, &req, &resp, err);
    neonflow__response_clear(&resp);
    json_decref(body);
    return rc;
}

static void add_fault(fixture *f, const char *method, int kind, int status, int retry_after, int count)
{
    emu_fault ft;
    emu_fault_init(&ft);
    ft.method = method;
    ft.path = "/projects/*/branches";
    ft.kind = kind;
    ft.status = status;
    ft.retry_after_s = retry_after;
    ft.count = count;
    assert_int_equal(emu_fault_add(f->s, &ft), 0);
}

static void test_locked_throttled_unavailable_retried(void **state)
{
    fixture *f = *state;
    static const int statuses[] = {423, 429, 503};
    for (int i = 0; i < 3; i++) {
        emu_counters_reset(f->s);
        /* every method: a GET ... */
        add_fault(f, "GET", EMU_FAULT_STATUS, statuses[i], -1, 2);
        neonflow__call_ctx ctx = {0};
        neonflow__response resp;
        neonflow_error *err = NULL;
        assert_int_equal(neonflow__http_call(f->c, &ctx, &list_branches, &resp, &err), NEONFLOW_OK);
        assert_int_equal(resp.attempts, 3);
        assert_int_equal(ctx.calls, 3);
        assert_int_equal(ctx.retries, 2);
        assert_true(json_is_array(json_object_get(resp.json, "branches")));
        neonflow__response_clear(&resp);
        assert_int_equal(emu_requests(f->s, "GET", "/projects/*/branches"), 3);
        /* ... and a POST */
        add_fault(f, "POST", EMU_FAULT_STATUS, statuses[i], -1, 2);
        char name[32];
        snprintf(name, sizeof(name), "retried-%d", statuses[i]);
        memset(&ctx, 0, sizeof(ctx));
        assert_int_equal(create_branch(f, &ctx, name, &err), NEONFLOW_OK);
        assert_int_equal(ctx.retries, 2);
        assert_int_equal(emu_requests(f->s, "POST", "/projects/*/branches"), 3);
        assert_int_equal(emu_responses_with_status(f->s, statuses[i]), 4);
    }
    /* retries exhausted: the status's own code, marked retryable */
    add_fault(f, "GET", EMU_FAULT_STATUS, 423, -1, 100);
    neonflow_error *err = NULL;
    assert_int_equal(neonflow__http_call(f->c, NULL, &list_branches, NULL, &err), NEONFLOW_ELOCKED);
    assert_int_equal(neonflow_error_http_status(err), 423);
    assert_int_equal(neonflow_error_is_retryable(err), 1);
    assert_non_null(strstr(neonflow_error_message(err), "gave up after 7 attempts"));
    assert_true(neonflow_error_request_id(err)[0] != '\0');
    neonflow_error_free(err);
    emu_faults_clear(f->s);
}

static void test_retry_after_honoured(void **state)
{
    fixture *f = *state;
    add_fault(f, "GET", EMU_FAULT_STATUS, 429, 3, 1);
    add_fault(f, "GET", EMU_FAULT_STATUS, 503, 1, 1);
    neonflow__response resp;
    assert_int_equal(neonflow__http_call(f->c, NULL, &list_branches, &resp, NULL), NEONFLOW_OK);
    neonflow__response_clear(&resp);
    assert_int_equal(f->nsleeps, 2);
    assert_true(f->sleeps[0] >= 3000);
    assert_true(f->sleeps[1] >= 1000);
    assert_true(f->sleeps[1] < 3000); /* jitter of the 2nd retry is < 500 ms */
}

static void test_500_get_retried_post_not(void **state)
{
    fixture *f = *state;
    add_fault(f, "GET", EMU_FAULT_STATUS, 500, -1, 1);
    assert_int_equal(neonflow__http_call(f->c, NULL, &list_branches, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(emu_requests(f->s, "GET", "/projects/*/branches"), 2);

    add_fault(f, "POST", EMU_FAULT_STATUS, 500, -1, 1);
    neonflow__call_ctx ctx = {0};
    neonflow_error *err = NULL;
    assert_int_equal(create_branch(f, &ctx, "five-hundred", &err), NEONFLOW_ESERVER);
    assert_int_equal(ctx.calls, 1);
    assert_int_equal(emu_requests(f->s, "POST", "/projects/*/branches"), 1);
    assert_int_equal(neonflow_error_http_status(err), 500);
    assert_int_equal(neonflow_error_is_retryable(err), 0);
    assert_string_equal(neonflow_error_method(err), "POST");
    neonflow_error_free(err);
}

static void test_lost_response_post_uncertain(void **state)
{
    fixture *f = *state;
    int before = emu_count_branches(f->s, PROJECT);
    add_fault(f, "POST", EMU_FAULT_DROP_AFTER, 0, -1, 1);
    neonflow__call_ctx ctx = {0};
    neonflow_error *err = NULL;
    assert_int_equal(create_branch(f, &ctx, "lost-response", &err), NEONFLOW_EUNCERTAIN);
    assert_int_equal(emu_requests(f->s, "POST", "/projects/*/branches"), 1);
    assert_int_equal(ctx.calls, 1);
    assert_int_equal(ctx.retries, 0);
    /* it was applied: exactly once */
    assert_int_equal(emu_count_branches(f->s, PROJECT), before + 1);
    assert_non_null(strstr(neonflow_error_message(err), "read the state back"));
    assert_int_equal(neonflow_error_is_retryable(err), 0);
    neonflow_error_free(err);

    /* a truncated answer to a POST is just as uncertain */
    add_fault(f, "POST", EMU_FAULT_TRUNCATE, 0, -1, 1);
    err = NULL;
    assert_int_equal(create_branch(f, NULL, "truncated", &err), NEONFLOW_EUNCERTAIN);
    assert_int_equal(emu_requests(f->s, "POST", "/projects/*/branches"), 2);
    neonflow_error_free(err);
}

/* Regression: libcurl silently re-sends a request whose reused keep-alive
 * connection died without an answer. For a POST that is a replay of an
 * applied mutation; non-idempotent requests must go out on a fresh
 * connection so a lost answer surfaces as NEONFLOW_EUNCERTAIN. */
static void test_lost_response_post_on_reused_connection(void **state)
{
    fixture *f = *state;
    int64_t conns_before = emu_connections(f->s);
    for (int i = 0; i < 3; i++) { /* warm the keep-alive connection */
        neonflow__response resp;
        assert_int_equal(neonflow__http_call(f->c, NULL, &list_branches, &resp, NULL), NEONFLOW_OK);
        neonflow__response_clear(&resp);
    }
    assert_true(emu_connections(f->s) - conns_before <= 1);
    int before = emu_count_branches(f->s, PROJECT);
    add_fault(f, "POST", EMU_FAULT_DROP_AFTER, 0, -1, 1);
    neonflow_error *err = NULL;
    assert_int_equal(create_branch(f, NULL, "lost-on-reused", &err), NEONFLOW_EUNCERTAIN);
    neonflow_error_free(err);
    assert_int_equal(emu_requests(f->s, "POST", "/projects/*/branches"), 1);
    assert_int_equal(emu_count_branches(f->s, PROJECT), before + 1);
    /* GETs still reuse connections afterwards */
    int64_t conns_mid = emu_connections(f->s);
    for (int i = 0; i < 20; i++) {
        neonflow__response resp;
        assert_int_equal(neonflow__http_call(f->c, NULL, &list_branches, &resp, NULL), NEONFLOW_OK);
        neonflow__response_clear(&resp);
    }
    assert_true(emu_connections(f->s) - conns_mid <= 1);
}

static void test_lost_response_get_retried(void **state)
{
    fixture *f = *state;
    add_fault(f, "GET", EMU_FAULT_DROP_BEFORE, 0, -1, 1);
    add_fault(f, "GET", EMU_FAULT_TRUNCATE, 0, -1, 1);
    add_fault(f, "GET", EMU_FAULT_DROP_AFTER, 0, -1, 1);
    neonflow__call_ctx ctx = {0};
    neonflow__response resp;
    assert_int_equal(neonflow__http_call(f->c, &ctx, &list_branches, &resp, NULL), NEONFLOW_OK);
    assert_int_equal(resp.attempts, 4);
    assert_non_null(resp.json);
    neonflow__response_clear(&resp);
    assert_int_equal(emu_requests(f->s, "GET", "/projects/*/branches"), 4);

    /* a malformed 200 is a protocol error, not retried */
    add_fault(f, "GET", EMU_FAULT_MALFORMED, 0, -1, 1);
    neonflow_error *err = NULL;
    assert_int_equal(neonflow__http_call(f->c, NULL, &list_branches, &resp, &err), NEONFLOW_EPROTOCOL);
    assert_non_null(strstr(neonflow_error_message(err), "not valid JSON"));
    neonflow_error_free(err);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_deadline_respected(void **state)
{
    fixture *f = *state;
    neonflow__client_set_sys(f->c, NULL); /* real sleeps */
    add_fault(f, "GET", EMU_FAULT_STATUS, 503, 1, 1000);
    const neonflow__sys *sys = neonflow__client_sys(f->c);
    neonflow__call_ctx ctx = {.deadline_ms = sys->now_ms(sys->ctx) + 2500};
    int64_t t0 = mono_ms();
    neonflow_error *err = NULL;
    assert_int_equal(neonflow__http_call(f->c, &ctx, &list_branches, NULL, &err), NEONFLOW_ETIMEOUT);
    int64_t took = mono_ms() - t0;
    assert_true(took < 2600);
    assert_true(ctx.calls >= 2);
    assert_non_null(strstr(neonflow_error_message(err), "HTTP 503"));
    neonflow_error_free(err);

    /* a slow answer is cut at the deadline too */
    emu_faults_clear(f->s);
    emu_fault ft;
    emu_fault_init(&ft);
    ft.kind = EMU_FAULT_DELAY;
    ft.delay_ms = 3000;
    ft.path = "/projects/*/branches";
    emu_fault_add(f->s, &ft);
    ctx.deadline_ms = sys->now_ms(sys->ctx) + 500;
    t0 = mono_ms();
    err = NULL;
    assert_int_equal(neonflow__http_call(f->c, &ctx, &list_branches, NULL, &err), NEONFLOW_ETIMEOUT);
    took = mono_ms() - t0;
    assert_true(took < 1500);
    neonflow_error_free(err);
}

typedef struct canceller {
    neonflow_cancel *token;
    int delay_ms;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *cl = arg;
    struct timespec ts = {cl->delay_ms / 1000, (cl->delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    neonflow_cancel_trigger(cl->token);
    return NULL;
}

static void test_cancel_wakes_retry_sleep(void **state)
{
    fixture *f = *state;
    neonflow__client_set_sys(f->c, NULL);
    add_fault(f, "GET", EMU_FAULT_STATUS, 503, 30, 5); /* Retry-After: 30 s */
    canceller cl = {NULL, 300};
    neonflow_cancel_new(&cl.token);
    neonflow__call_ctx ctx = {.cancel = cl.token};
    pthread_t th;
    pthread_create(&th, NULL, cancel_later, &cl);
    int64_t t0 = mono_ms();
    neonflow_error *err = NULL;
    assert_int_equal(neonflow__http_call(f->c, &ctx, &list_branches, NULL, &err), NEONFLOW_ECANCELLED);
    int64_t took = mono_ms() - t0;
    pthread_join(th, NULL);
    assert_true(took >= 250);
    assert_true(took < 1500);
    assert_int_equal(ctx.calls, 1);
    neonflow_error_free(err);
    neonflow_cancel_free(cl.token);
}

static void test_sequential_gets_reuse_connections(void **state)
{
    fixture *f = *state;
    emu_set_rate_limit(f->s, 0, 0);
    emu_counters_reset(f->s);
    neonflow__request get = {"GET", "/projects/" PROJECT, "/projects/{project_id}", NULL};
    for (int i = 0; i < 1000; i++) {
        neonflow__response resp;
        neonflow_error *err = NULL;
        int rc = neonflow__http_call(f->c, NULL, &get, &resp, &err);
        if (rc != NEONFLOW_OK)
            fail_msg("call %d: %s", i, neonflow_error_message(err));
        neonflow__response_clear(&resp);
    }
    assert_int_equal(emu_requests(f->s, "GET", "/projects/*"), 1000);
    int64_t conns = emu_connections(f->s);
    print_message("# 1000 sequential GETs used %lld TCP connection(s)\n", (long long)conns);
    assert_true(conns >= 1 && conns <= 2);
}

/* ---- 8 threads x 250 calls with Neon's limits on both sides -------------- */

typedef struct worker_arg {
    fixture *f;
    int index;
    int failures;
    int64_t calls, retries;
    char first_error[256];
} worker_arg;

static void *worker(void *p)
{
    worker_arg *w = p;
    static const char *const paths[][2] = {
        {"/projects/" PROJECT "/branches", "/projects/{project_id}/branches"},
        {"/projects/" PROJECT "/endpoints", "/projects/{project_id}/endpoints"},
        {"/projects/" PROJECT "/snapshots", "/projects/{project_id}/snapshots"},
        {"/projects/" PROJECT, "/projects/{project_id}"},
    };
    neonflow__call_ctx ctx = {0};
    for (int i = 0; i < 250; i++) {
        /* half the traffic on one hot route, so the per-route limit binds too */
        int r = (i % 2 == 0) ? 0 : 1 + (w->index + i) % 3;
        neonflow__request req = {"GET", paths[r][0], paths[r][1], NULL};
        neonflow__response resp;
        neonflow_error *err = NULL;
        if (neonflow__http_call(w->f->c, &ctx, &req, &resp, &err) != NEONFLOW_OK) {
            if (!w->failures++)
                snprintf(w->first_error, sizeof(w->first_error), "%s", neonflow_error_message(err));
        }
        neonflow_error_free(err);
        neonflow__response_clear(&resp);
    }
    w->calls = ctx.calls;
    w->retries = ctx.retries;
    return NULL;
}

static void test_threads_stay_under_neon_limits(void **state)
{
    fixture *f = *state;
    /* a fresh client with every default (700/min, 40/s per route), real clock */
    neonflow_client_free(f->c);
    f->c = client_for(f, 1, 6);
    emu_counters_reset(f->s);
    pthread_t th[8];
    worker_arg args[8];
    int64_t t0 = mono_ms();
    for (int i = 0; i < 8; i++) {
        memset(&args[i], 0, sizeof(args[i]));
        args[i].f = f;
        args[i].index = i;
        pthread_create(&th[i], NULL, worker, &args[i]);
    }
    int failures = 0;
    int64_t calls = 0, retries = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        failures += args[i].failures;
        calls += args[i].calls;
        retries += args[i].retries;
        if (args[i].failures)
            print_message("# thread %d: %s\n", i, args[i].first_error);
    }
    int64_t took = mono_ms() - t0;
    int64_t throttled = emu_responses_with_status(f->s, 429);
    print_message("# 2000 calls from 8 threads in %lld ms: %lld attempts, %lld retries, %lld x 429\n",
                  (long long)took, (long long)calls, (long long)retries, (long long)throttled);
    assert_int_equal(failures, 0);
    assert_int_equal(throttled, 0);
    assert_int_equal(retries, 0);
    assert_int_equal(calls, 2000);
    assert_int_equal(emu_requests(f->s, "GET", NULL), 2000);
    /* 2000 requests at 700 per minute cannot finish in under two minutes */
    assert_true(took >= 2 * 60000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_locked_throttled_unavailable_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_honoured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_500_get_retried_post_not, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_response_post_uncertain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_response_post_on_reused_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_response_get_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_respected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_wakes_retry_sleep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequential_gets_reuse_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_stay_under_neon_limits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
