/* Await logic with a fake clock and a scripted poll function: schedule,
 * terminal statuses, `failed` not final, deadline, transient poll errors,
 * cancellation, progress events, ctx deadline and counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/api-private.h"
#include "core/error.h"
#include "neonflow/neonflow.h"

/* ---- fake system ------------------------------------------------------------ */
static int64_t fake_now;
static int sleeps;
static neonflow_cancel *trigger_during_sleep;
static int64_t fake_now_ms(void *ctx)
{
    (void)ctx;
    return fake_now;
}
static int fake_sleep(void *ctx, int64_t ms, neonflow_cancel *cancel)
{
    (void)ctx;
    sleeps++;
    if (trigger_during_sleep && sleeps == 3) {
        neonflow_cancel_trigger(trigger_during_sleep);
        fake_now += 1;
        return 1;
    }
    if (neonflow_cancel_is_triggered(cancel))
        return 1;
    fake_now += ms;
    return 0;
}
static uint64_t fake_random(void *ctx)
{
    (void)ctx;
    return 0;
}
static const neonflow__sys fake_sys = {fake_now_ms, fake_now_ms, fake_sleep, fake_random, NULL};

/* ---- scripted operations -------------------------------------------------------
 * Each op: status is `before` until done_at, then `after`; `fail_window`
 * makes it `failed` in [fail_from, done_at). poll_error: return this code for
 * the polls numbered in [err_from, err_to). */
struct script {
    const char *id;
    int64_t done_at;
    const char *after;
    int64_t fail_from;
    int rc_error;
    int err_from, err_to;
    int polls;
    int64_t poll_times[64];
};
static struct script scripts[4];
static size_t nscripts;

static int fake_poll(void *payload, neonflow_client *c, neonflow__call_ctx *ctx, const char *project_id,
                     const char *operation_id, neonflow_operation **out, neonflow_error **err)
{
    (void)payload;
    (void)c;
    (void)project_id;
    ctx->calls++;
    for (size_t i = 0; i < nscripts; i++) {
        struct script *s = &scripts[i];
        if (strcmp(s->id, operation_id) != 0)
            continue;
        int n = s->polls++;
        if (n < 64)
            s->poll_times[n] = fake_now;
        fake_now += 2; /* request latency */
        if (s->rc_error && n >= s->err_from && n < s->err_to)
            return neonflow__error_set(err, s->rc_error, "scripted poll failure");
        const char *status = fake_now >= s->done_at ? s->after
                             : (s->fail_from >= 0 && fake_now >= s->fail_from) ? "failed"
                                                                                 : "running";
        json_t *root = json_pack("{s:{s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:i,s:s}}", "operation", "id", s->id,
                                 "project_id", "p-1", "action", "create_branch", "status", status, "failures_count",
                                 strcmp(status, "failed") == 0 ? 3 : 0, "created_at", "2025-01-01T00:00:00Z",
                                 "updated_at", "2025-01-01T00:00:01Z", "total_duration_ms", 5, "error",
                                 "disk on fire");
        int rc = neonflow__parse_operation_response(root, out, err);
        json_decref(root);
        return rc;
    }
    return neonflow__error_set(err, NEONFLOW_ENOTFOUND, "no such operation");
}

static void add_script(const char *id, int64_t done_at, const char *after)
{
    struct script *s = &scripts[nscripts++];
    memset(s, 0, sizeof(*s));
    s->id = id;
    s->done_at = done_at;
    s->after = after;
    s->fail_from = -1;
}

static neonflow_client *client;

static int setup(void **state)
{
    (void)state;
    neonflow_client_options *o;
    neonflow_client_options_new(&o);
    neonflow_client_options_set_api_key(o, "k");
    neonflow_client_options_set_base_url(o, "http://127.0.0.1:9/api/v2");
    assert_int_equal(neonflow_client_new(&client, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    neonflow__client_set_sys(client, &fake_sys);
    fake_now = 1000000;
    sleeps = 0;
    nscripts = 0;
    trigger_during_sleep = NULL;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    neonflow_client_free(client);
    return 0;
}

static int wait_ids(const char *const *ids, size_t n, const neonflow_await_options *opts,
                    neonflow_await_result **out, neonflow__call_ctx *ctx, neonflow_error **err)
{
    return neonflow__operations_await_ctx(out, client, ctx, "p-1", NULL, ids, n, opts, fake_poll, NULL, err);
}

static void test_schedule_and_lateness(void **state)
{
    (void)state;
    int64_t t0 = fake_now;
    add_script("op-short", t0 + 300, "finished");
    add_script("op-long", t0 + 20000, "finished");
    const char *ids[] = {"op-short", "op-long"};
    neonflow_await_result *r = NULL;
    assert_int_equal(wait_ids(ids, 2, NULL, &r, NULL, NULL), NEONFLOW_OK);
    /* first round after 100 ms, gaps grow by 1.5 (start to start) */
    assert_int_equal(scripts[0].poll_times[0] - t0, 100);
    assert_int_equal(scripts[0].poll_times[1] - t0, 250);
    assert_int_equal(scripts[0].poll_times[2] - t0, 475);
    assert_int_equal(scripts[0].polls, 3); /* noticed at 475 ms: 175 ms late */
    /* the long one: gaps capped below one second */
    for (int i = 1; i < scripts[1].polls; i++)
        assert_true(scripts[1].poll_times[i] - scripts[1].poll_times[i - 1] <= 980);
    int64_t last = scripts[1].poll_times[scripts[1].polls - 1];
    assert_true(last - (t0 + 20000) < 1000);
    assert_int_equal(neonflow_await_result_polls(r), scripts[0].polls + scripts[1].polls);
    assert_true(scripts[1].polls <= 30);
    assert_true(neonflow_await_result_elapsed_ms(r) >= 20000);
    const neonflow_operation_list *ops = neonflow_await_result_operations(r);
    assert_int_equal(neonflow_operation_list_count(ops), 2);
    assert_int_equal(neonflow_operation_status(neonflow_operation_list_at(ops, 1)), NEONFLOW_OP_STATUS_FINISHED);
    neonflow_await_result_free(r);
}

static void test_failed_then_recovers(void **state)
{
    (void)state;
    add_script("op-1", fake_now + 3000, "finished");
    scripts[0].fail_from = fake_now + 500;
    const char *ids[] = {"op-1"};
    assert_int_equal(wait_ids(ids, 1, NULL, NULL, NULL, NULL), NEONFLOW_OK);
}

static void test_skipped_is_success(void **state)
{
    (void)state;
    add_script("op-1", fake_now + 200, "skipped");
    const char *ids[] = {"op-1"};
    assert_int_equal(wait_ids(ids, 1, NULL, NULL, NULL, NULL), NEONFLOW_OK);
}

static void test_error_is_opfailed(void **state)
{
    (void)state;
    add_script("op-ok", fake_now + 100000, "finished");
    add_script("op-bad", fake_now + 400, "error");
    const char *ids[] = {"op-ok", "op-bad"};
    neonflow_error *e = NULL;
    neonflow_await_result *r = NULL;
    assert_int_equal(wait_ids(ids, 2, NULL, &r, NULL, &e), NEONFLOW_EOPFAILED);
    assert_non_null(strstr(neonflow_error_message(e), "op-bad"));
    assert_non_null(strstr(neonflow_error_message(e), "create_branch"));
    assert_non_null(strstr(neonflow_error_message(e), "disk on fire"));
    assert_non_null(r); /* the result describes the last known state even on failure */
    assert_true(neonflow_await_result_polls(r) >= 2);
    neonflow_await_result_free(r);
    neonflow_error_free(e);
}

static void test_cancelled_is_opcancelled(void **state)
{
    (void)state;
    add_script("op-1", fake_now + 150, "cancelled");
    const char *ids[] = {"op-1"};
    neonflow_error *e = NULL;
    assert_int_equal(wait_ids(ids, 1, NULL, NULL, NULL, &e), NEONFLOW_EOPCANCELLED);
    assert_non_null(strstr(neonflow_error_message(e), "op-1"));
    neonflow_error_free(e);
}

static void test_failed_until_deadline(void **state)
{
    (void)state;
    add_script("op-1", fake_now + 999999, "finished");
    scripts[0].fail_from = fake_now;
    neonflow_await_options *o;
    neonflow_await_options_new(&o);
    neonflow_await_options_set_timeout_ms(o, 5000);
    const char *ids[] = {"op-1"};
    neonflow_error *e = NULL;
    int64_t t0 = fake_now;
    assert_int_equal(wait_ids(ids, 1, o, NULL, NULL, &e), NEONFLOW_EOPFAILED);
    assert_true(fake_now - t0 >= 5000 && fake_now - t0 < 6100);
    assert_non_null(strstr(neonflow_error_message(e), "failures_count 3"));
    neonflow_error_free(e);
    neonflow_await_options_free(o);
}

static void test_timeout_lists_pending(void **state)
{
    (void)state;
    add_script("op-slow", fake_now + 999999, "finished");
    add_script("op-fast", fake_now + 100, "finished");
    neonflow_await_options *o;
    neonflow_await_options_new(&o);
    neonflow_await_options_set_timeout_ms(o, 3000);
    const char *ids[] = {"op-slow", "op-fast"};
    neonflow_error *e = NULL;
    assert_int_equal(wait_ids(ids, 2, o, NULL, NULL, &e), NEONFLOW_EOPTIMEOUT);
    assert_non_null(strstr(neonflow_error_message(e), "op-slow (create_branch, running)"));
    assert_null(strstr(neonflow_error_message(e), "op-fast"));
    neonflow_error_free(e);
    neonflow_await_options_free(o);
}

static void test_transient_poll_errors(void **state)
{
    (void)state;
    static const int transient[] = {NEONFLOW_ESERVER, NEONFLOW_ELOCKED, NEONFLOW_ERATELIMIT, NEONFLOW_ECONNECT,
                                    NEONFLOW_EPROTOCOL, NEONFLOW_ENETTIMEOUT};
    for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++) {
        nscripts = 0;
        add_script("op-1", fake_now + 1000, "finished");
        scripts[0].rc_error = transient[i];
        scripts[0].err_from = 0;
        scripts[0].err_to = 3;
        const char *ids[] = {"op-1"};
        assert_int_equal(wait_ids(ids, 1, NULL, NULL, NULL, NULL), NEONFLOW_OK);
        assert_true(scripts[0].polls >= 4);
    }
    /* not transient: ends the wait with that error */
    nscripts = 0;
    add_script("op-1", fake_now + 1000, "finished");
    scripts[0].rc_error = NEONFLOW_EAUTH;
    scripts[0].err_to = 1;
    const char *ids[] = {"op-1"};
    neonflow_error *e = NULL;
    assert_int_equal(wait_ids(ids, 1, NULL, NULL, NULL, &e), NEONFLOW_EAUTH);
    assert_int_equal(neonflow_error_code(e), NEONFLOW_EAUTH);
    neonflow_error_free(e);
    const char *missing[] = {"op-unknown"};
    e = NULL;
    assert_int_equal(wait_ids(missing, 1, NULL, NULL, NULL, &e), NEONFLOW_ENOTFOUND);
    neonflow_error_free(e);
}

static void test_cancellation(void **state)
{
    (void)state;
    add_script("op-1", fake_now + 999999, "finished");
    const char *ids[] = {"op-1"};
    neonflow_await_options *o;
    neonflow_await_options_new(&o);
    neonflow_cancel *tok;
    neonflow_cancel_new(&tok);
    neonflow_await_options_set_cancel(o, tok);
    /* token triggered during a sleep: returns at once */
    trigger_during_sleep = tok;
    neonflow_error *e = NULL;
    assert_int_equal(wait_ids(ids, 1, o, NULL, NULL, &e), NEONFLOW_ECANCELLED);
    assert_int_equal(sleeps, 3);
    neonflow_error_free(e);
    trigger_during_sleep = NULL;
    /* already triggered: no poll at all */
    scripts[0].polls = 0;
    assert_int_equal(wait_ids(ids, 1, o, NULL, NULL, NULL), NEONFLOW_ECANCELLED);
    assert_int_equal(scripts[0].polls, 0);
    neonflow_await_options_set_cancel(o, NULL);
    neonflow_cancel_free(tok);
    neonflow_await_options_free(o);
    /* a ctx token works too */
    neonflow_cancel *tok2;
    neonflow_cancel_new(&tok2);
    neonflow_cancel_trigger(tok2);
    neonflow__call_ctx ctx = {0};
    ctx.cancel = tok2;
    assert_int_equal(wait_ids(ids, 1, NULL, NULL, &ctx, NULL), NEONFLOW_ECANCELLED);
    neonflow_cancel_free(tok2);
}

static char seen[8][32];
static int nseen;
static int record_progress(const neonflow_operation *op, void *payload)
{
    if (nseen < 8)
        snprintf(seen[nseen++], sizeof(seen[0]), "%s:%s", neonflow_operation_id(op), neonflow_operation_status_raw(op));
    /* the hook's operation has its raw text too; the wait frees it */
    char status[48];
    snprintf(status, sizeof(status), "\"status\":\"%s\"", neonflow_operation_status_raw(op));
    assert_non_null(strstr(neonflow_operation_json(op), status));
    return payload ? (nseen >= *(int *)payload) : 0;
}

static void test_progress_events(void **state)
{
    (void)state;
    add_script("op-1", fake_now + 2000, "finished");
    scripts[0].fail_from = fake_now + 700;
    neonflow_await_options *o;
    neonflow_await_options_new(&o);
    neonflow_await_options_set_progress_hook(o, record_progress, NULL, NULL);
    nseen = 0;
    const char *ids[] = {"op-1"};
    neonflow_await_result *r = NULL;
    assert_int_equal(wait_ids(ids, 1, o, &r, NULL, NULL), NEONFLOW_OK);
    /* the result's copy makes its own text (the hook's was the wait's) */
    assert_non_null(strstr(neonflow_operation_json(neonflow_operation_list_at(neonflow_await_result_operations(r), 0)),
                           "\"status\":\"finished\""));
    neonflow_await_result_free(r);
    assert_int_equal(nseen, 3); /* running, failed, finished: only changes */
    assert_string_equal(seen[0], "op-1:running");
    assert_string_equal(seen[1], "op-1:failed");
    assert_string_equal(seen[2], "op-1:finished");
    /* non-zero return stops with ECALLBACK */
    static int stop_at = 1;
    nscripts = 0;
    add_script("op-1", fake_now + 2000, "finished");
    neonflow_await_options_set_progress_hook(o, record_progress, &stop_at, NULL);
    nseen = 0;
    neonflow_error *e = NULL;
    assert_int_equal(wait_ids(ids, 1, o, NULL, NULL, &e), NEONFLOW_ECALLBACK);
    neonflow_error_free(e);
    neonflow_await_options_free(o);
}

static void test_input_list_states(void **state)
{
    (void)state;
    json_t *root = json_loads("{\"operations\":["
                              "{\"id\":\"op-a\",\"project_id\":\"p-1\",\"action\":\"create_branch\",\"status\":\"finished\","
                              "\"failures_count\":0,\"created_at\":\"2025-01-01T00:00:00Z\",\"updated_at\":\"2025-01-01T00:00:00Z\",\"total_duration_ms\":1},"
                              "{\"id\":\"op-b\",\"project_id\":\"p-1\",\"action\":\"start_compute\",\"status\":\"running\","
                              "\"failures_count\":0,\"created_at\":\"2025-01-01T00:00:00Z\",\"updated_at\":\"2025-01-01T00:00:00Z\",\"total_duration_ms\":1}]}",
                              0, NULL);
    neonflow_operation_list *ops = NULL;
    assert_int_equal(neonflow__parse_operations_response(root, 1, &ops, NULL), NEONFLOW_OK);
    json_decref(root);
    add_script("op-b", fake_now + 300, "finished");
    const char *a_text = neonflow_operation_json(neonflow_operation_list_at(ops, 0)); /* copies must not share it */
    assert_non_null(strstr(a_text, "\"id\":\"op-a\""));
    neonflow_await_result *r = NULL;
    assert_int_equal(neonflow__operations_await_ctx(&r, client, NULL, "p-1", ops, NULL, 0, NULL, fake_poll, NULL, NULL),
                     NEONFLOW_OK);
    assert_int_equal(scripts[0].polls, 3); /* op-a (finished) is never polled */
    assert_int_equal(neonflow_await_result_polls(r), 3);
    const neonflow_operation_list *l = neonflow_await_result_operations(r);
    assert_int_equal(neonflow_operation_list_count(l), 2);
    assert_string_equal(neonflow_operation_id(neonflow_operation_list_at(l, 0)), "op-a");
    assert_string_equal(neonflow_operation_status_raw(neonflow_operation_list_at(l, 1)), "finished");
    neonflow_operation_list_free(ops); /* the result keeps its own references */
    assert_string_equal(neonflow_operation_action_raw(neonflow_operation_list_at(l, 0)), "create_branch");
    assert_non_null(strstr(neonflow_operation_json(neonflow_operation_list_at(l, 0)), "\"id\":\"op-a\""));
    neonflow_await_result_free(r);
}

static void test_ctx_deadline_and_counters(void **state)
{
    (void)state;
    add_script("op-1", fake_now + 999999, "finished");
    neonflow__call_ctx ctx = {0};
    ctx.deadline_ms = fake_now + 2000;
    const char *ids[] = {"op-1"};
    neonflow_error *e = NULL;
    int64_t t0 = fake_now;
    assert_int_equal(wait_ids(ids, 1, NULL, NULL, &ctx, &e), NEONFLOW_EOPTIMEOUT);
    assert_true(fake_now - t0 < 3000);
    assert_int_equal(ctx.calls, scripts[0].polls);
    neonflow_error_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schedule_and_lateness, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_then_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skipped_is_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_is_opfailed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancelled_is_opcancelled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_until_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_lists_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transient_poll_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancellation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_list_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctx_deadline_and_counters, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
