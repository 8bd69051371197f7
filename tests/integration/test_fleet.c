/* Fleet calls against the in-process emulator with several projects: all
 * succeed, one failing project leaves the others done, stop-on-failure,
 * cancel mid-fleet then resume with the same fleet run id, derived run ids,
 * the JSON report, per-entry run options, refresh and rollback fleets, the
 * arguments refused before anything runs. (Deadlines and the rate limiter:
 * test_fleet_limits.c.) */
#include <pthread.h>

#include "test_fleet_common.h"

/* ---- fleet events ----------------------------------------------------------------- */
typedef struct flog {
    pthread_mutex_t mu;
    int n, started, entry_started, entry_done, entry_failed, ended, concurrent, in_hook, bad_entry;
    int first_kind, last_kind;
    char run_id[40];
    size_t last_done_count, total;
    neonflow_cancel *cancel_after_first_done;
} flog;

static void on_fleet(const neonflow_fleet_event *ev, void *payload)
{
    flog *l = payload;
    /* never two hook calls at once: a second thread would find in_hook set */
    if (__atomic_exchange_n(&l->in_hook, 1, __ATOMIC_SEQ_CST))
        l->concurrent = 1;
    int32_t k = neonflow_fleet_event_kind(ev);
    if (l->n++ == 0) {
        l->first_kind = k;
        snprintf(l->run_id, sizeof(l->run_id), "%s", neonflow_fleet_event_run_id(ev));
    }
    l->last_kind = k;
    l->total = neonflow_fleet_event_total(ev);
    switch (k) {
    case NEONFLOW_FLEET_EVENT_STARTED: l->started++; break;
    case NEONFLOW_FLEET_EVENT_ENTRY_STARTED:
        l->entry_started++;
        /* no cmocka asserts here: the hook runs on worker threads */
        if (neonflow_fleet_entry_status(neonflow_fleet_event_entry(ev)) != NEONFLOW_FLEET_ENTRY_RUNNING ||
            !*neonflow_fleet_entry_run_id(neonflow_fleet_event_entry(ev)))
            l->bad_entry = 1;
        break;
    case NEONFLOW_FLEET_EVENT_ENTRY_DONE:
        l->entry_done++;
        l->last_done_count = neonflow_fleet_event_count(ev, NEONFLOW_FLEET_ENTRY_DONE);
        if (l->cancel_after_first_done)
            neonflow_cancel_trigger(l->cancel_after_first_done);
        break;
    case NEONFLOW_FLEET_EVENT_ENTRY_FAILED: l->entry_failed++; break;
    case NEONFLOW_FLEET_EVENT_ENDED:
        l->ended++;
        if (neonflow_fleet_event_entry(ev))
            l->bad_entry = 1;
        break;
    default: break;
    }
    __atomic_store_n(&l->in_hook, 0, __ATOMIC_SEQ_CST);
}

/* ---- tests ----------------------------------------------------------------------------- */
static void test_all_succeed(void **state)
{
    (void)state;
    fleet_fx *f = fx_new(20, -1);
    neonflow_fleet_options *fo = fleet_of(f, NPROJ);
    flog l = {0};
    assert_int_equal(neonflow_fleet_options_set_concurrency(fo, 3), NEONFLOW_OK);
    assert_int_equal(neonflow_fleet_options_set_event_hook(fo, on_fleet, &l, NULL), NEONFLOW_OK);
    neonflow_fleet_report *r = NULL;
    RUN_OK(neonflow_fleet_promote(&r, f->c, fo, NULL, &err_));
    assert_non_null(r);
    assert_int_equal(neonflow_fleet_report_result(r), NEONFLOW_OK);
    assert_int_equal(neonflow_fleet_report_workflow(r), NEONFLOW_WORKFLOW_PROMOTE);
    assert_int_equal(neonflow_fleet_report_entry_count(r), NPROJ);
    assert_int_equal(neonflow_fleet_report_count(r, NEONFLOW_FLEET_ENTRY_DONE), NPROJ);
    assert_int_equal(strlen(neonflow_fleet_report_run_id(r)), 8); /* generated */
    assert_non_null(strstr(neonflow_fleet_report_message(r), "6 of 6 entries done"));
    int64_t calls = 0;
    for (int i = 0; i < NPROJ; i++) {
        const neonflow_fleet_entry *e = neonflow_fleet_report_entry_at(r, (size_t)i);
        assert_int_equal(neonflow_fleet_entry_index(e), (size_t)i);
        assert_string_equal(neonflow_fleet_entry_project_id(e), f->pid[i]);
        assert_string_equal(neonflow_fleet_entry_source(e), "dev");
        assert_string_equal(neonflow_fleet_entry_target(e), "production");
        assert_int_equal(neonflow_fleet_entry_status(e), NEONFLOW_FLEET_ENTRY_DONE);
        const neonflow_report *wr = neonflow_fleet_entry_report(e);
        assert_non_null(wr);
        assert_string_equal(neonflow_report_run_id(wr), neonflow_fleet_entry_run_id(e));
        calls += neonflow_report_api_calls(wr);
        char *want = NULL;
        assert_int_equal(neonflow_fleet_derive_run_id(&want, neonflow_fleet_report_run_id(r),
                                                      NEONFLOW_WORKFLOW_PROMOTE, f->pid[i], "production"),
                         NEONFLOW_OK);
        assert_string_equal(neonflow_fleet_entry_run_id(e), want);
        neonflow_free(want);
        assert_promoted_once(f, i);
    }
    assert_int_equal(neonflow_fleet_report_api_calls(r), calls);
    assert_null(neonflow_fleet_report_entry_at(r, NPROJ));
    /* events: STARTED first with the run id, ENDED last, one start and end per entry, serialised */
    assert_int_equal(l.first_kind, NEONFLOW_FLEET_EVENT_STARTED);
    assert_int_equal(l.last_kind, NEONFLOW_FLEET_EVENT_ENDED);
    assert_string_equal(l.run_id, neonflow_fleet_report_run_id(r));
    assert_int_equal(l.entry_started, NPROJ);
    assert_int_equal(l.entry_done, NPROJ);
    assert_int_equal(l.entry_failed, 0);
    assert_int_equal(l.last_done_count, NPROJ);
    assert_int_equal(l.total, NPROJ);
    assert_int_equal(l.concurrent, 0);
    assert_int_equal(l.bad_entry, 0);
    assert_int_equal(l.started, 1);
    assert_int_equal(l.ended, 1);
    neonflow_fleet_report_free(r);
    neonflow_fleet_options_free(fo);
    fx_free(f);
}

static void test_one_failure_leaves_others_done(void **state)
{
    (void)state;
    fleet_fx *f = fx_new(0, 2); /* fleet-2 has no dev */
    neonflow_fleet_options *fo = fleet_of(f, NPROJ);
    flog l = {0};
    neonflow_fleet_options_set_event_hook(fo, on_fleet, &l, NULL);
    neonflow_fleet_report *r = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_fleet_promote(&r, f->c, fo, NULL, &err);
    assert_int_equal(rc, NEONFLOW_EFLEET_FAILED);
    assert_int_equal(neonflow_error_code(err), NEONFLOW_EFLEET_FAILED);
    assert_non_null(strstr(neonflow_error_message(err), "fleet-2"));
    assert_non_null(strstr(neonflow_error_message(err), neonflow_fleet_report_run_id(r)));
    assert_int_equal(neonflow_fleet_report_result(r), NEONFLOW_EFLEET_FAILED);
    assert_int_equal(neonflow_fleet_report_count(r, NEONFLOW_FLEET_ENTRY_DONE), NPROJ - 1);
    assert_int_equal(neonflow_fleet_report_count(r, NEONFLOW_FLEET_ENTRY_FAILED), 1);
    const neonflow_fleet_entry *bad = neonflow_fleet_report_entry_at(r, 2);
    assert_int_equal(neonflow_fleet_entry_status(bad), NEONFLOW_FLEET_ENTRY_FAILED);
    assert_int_equal(neonflow_fleet_entry_result(bad), NEONFLOW_EBRANCH_MISSING);
    assert_non_null(neonflow_fleet_entry_report(bad));
    assert_true(*neonflow_fleet_entry_message(bad));
    assert_int_equal(l.entry_failed, 1);
    for (int i = 0; i < NPROJ; i++) {
        if (i == 2)
            assert_untouched(f, i);
        else
            assert_promoted_once(f, i);
    }
    neonflow_error_free(err);
    neonflow_fleet_report_free(r);
    neonflow_fleet_options_free(fo);
    fx_free(f);
}

static void test_stop_on_failure_then_resume(void **state)
{
    (void)state;
    fleet_fx *f = fx_new(0, 1); /* fleet-1 has no dev */
    neonflow_fleet_options *fo = fleet_of(f, 4);
    neonflow_fleet_options_set_concurrency(fo, 1); /* in order: 0 done, 1 fails, 2 and 3 never start */
    neonflow_fleet_options_set_stop_on_failure(fo, 1);
    neonflow_fleet_options_set_run_id(fo, "rollout-7");
    neonflow_fleet_report *r = NULL;
    assert_int_equal(neonflow_fleet_promote(&r, f->c, fo, NULL, NULL), NEONFLOW_EFLEET_FAILED);
    assert_string_equal(neonflow_fleet_report_run_id(r), "rollout-7");
    int32_t want[4] = {NEONFLOW_FLEET_ENTRY_DONE, NEONFLOW_FLEET_ENTRY_FAILED, NEONFLOW_FLEET_ENTRY_NOT_STARTED,
                       NEONFLOW_FLEET_ENTRY_NOT_STARTED};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(neonflow_fleet_entry_status(neonflow_fleet_report_entry_at(r, i)), want[i]);
    const neonflow_fleet_entry *ns = neonflow_fleet_report_entry_at(r, 2);
    assert_null(neonflow_fleet_entry_report(ns));
    assert_int_equal(neonflow_fleet_entry_result(ns), NEONFLOW_OK);
    assert_true(*neonflow_fleet_entry_run_id(ns)); /* known before it runs */
    assert_untouched(f, 2);
    assert_untouched(f, 3);
    neonflow_fleet_report_free(r);

    /* fix fleet-1, run the same fleet again: 0 is found done, the rest run */
    char dev[64];
    assert_int_equal(emu_add_branch(f->s, f->pid[1], "dev", NULL, 1, dev, NULL), 0);
    assert_int_equal(emu_write(f->s, f->pid[1], dev, "dev-1", NULL), 0);
    int64_t posts0 = emu_requests(f->s, "POST", "/projects/fleet-0/**");
    RUN_OK(neonflow_fleet_promote(&r, f->c, fo, NULL, &err_));
    const neonflow_report *r0 = neonflow_fleet_entry_report(neonflow_fleet_report_entry_at(r, 0));
    assert_int_equal(neonflow_step_status(step_named(r0, "finalize")), NEONFLOW_STEP_RESUMED);
    /* the finished project got no second snapshot or restore (only its lease) */
    assert_int_equal(emu_requests(f->s, "POST", "/projects/fleet-0/**") - posts0, 1);
    for (int i = 0; i < 4; i++)
        assert_promoted_once(f, i);
    neonflow_fleet_report_free(r);
    neonflow_fleet_options_free(fo);
    fx_free(f);
}

static void test_cancel_mid_fleet_then_resume(void **state)
{
    (void)state;
    fleet_fx *f = fx_new(60, -1);
    neonflow_fleet_options *fo = fleet_of(f, NPROJ);
    neonflow_cancel *tok = NULL;
    assert_int_equal(neonflow_cancel_new(&tok), NEONFLOW_OK);
    flog l = {0};
    l.cancel_after_first_done = tok;
    neonflow_fleet_options_set_concurrency(fo, 2);
    neonflow_fleet_options_set_cancel(fo, tok);
    neonflow_fleet_options_set_run_id(fo, "fleet-cancel");
    neonflow_fleet_options_set_event_hook(fo, on_fleet, &l, NULL);
    neonflow_fleet_report *r = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_fleet_promote(&r, f->c, fo, NULL, &err), NEONFLOW_ECANCELLED);
    assert_int_equal(neonflow_fleet_report_result(r), NEONFLOW_ECANCELLED);
    size_t done = neonflow_fleet_report_count(r, NEONFLOW_FLEET_ENTRY_DONE);
    size_t cancelled = neonflow_fleet_report_count(r, NEONFLOW_FLEET_ENTRY_CANCELLED);
    size_t waiting = neonflow_fleet_report_count(r, NEONFLOW_FLEET_ENTRY_NOT_STARTED);
    assert_true(done >= 1);
    assert_true(waiting >= 1); /* the pool started nothing after the cancel */
    assert_int_equal(done + cancelled + waiting, NPROJ);
    for (int i = 0; i < NPROJ; i++) {
        const neonflow_fleet_entry *e = neonflow_fleet_report_entry_at(r, (size_t)i);
        if (neonflow_fleet_entry_status(e) == NEONFLOW_FLEET_ENTRY_DONE)
            assert_promoted_once(f, i);
        else if (neonflow_fleet_entry_status(e) == NEONFLOW_FLEET_ENTRY_NOT_STARTED)
            assert_untouched(f, i);
        else
            assert_int_equal(neonflow_fleet_entry_result(e), NEONFLOW_ECANCELLED);
    }
    neonflow_error_free(err);
    neonflow_fleet_report_free(r);

    /* the same fleet run id with a fresh token completes every project, once */
    neonflow_cancel *tok2 = NULL;
    assert_int_equal(neonflow_cancel_new(&tok2), NEONFLOW_OK);
    neonflow_fleet_options_set_cancel(fo, tok2);
    l.cancel_after_first_done = NULL;
    RUN_OK(neonflow_fleet_promote(&r, f->c, fo, NULL, &err_));
    for (int i = 0; i < NPROJ; i++)
        assert_promoted_once(f, i);
    neonflow_fleet_report_free(r);
    neonflow_fleet_options_free(fo);
    neonflow_cancel_free(tok);
    neonflow_cancel_free(tok2);
    fx_free(f);
}

static void test_derived_run_ids(void **state)
{
    (void)state;
    char *a = NULL, *b = NULL;
    assert_int_equal(neonflow_fleet_derive_run_id(&a, "f1", NEONFLOW_WORKFLOW_PROMOTE, "proj-a", "production"), 0);
    assert_int_equal(neonflow_fleet_derive_run_id(&b, "f1", NEONFLOW_WORKFLOW_PROMOTE, "proj-a", "production"), 0);
    assert_string_equal(a, b); /* stable */
    assert_true(neonflow__run_id_valid(a));
    assert_int_equal(strncmp(a, "f1-", 3), 0);
    assert_int_equal(strlen(a), 13);
    neonflow_free(b);
    const char *vary[][4] = {
        {"f2", "promote", "proj-a", "production"},
        {"f1", "refresh", "proj-a", "production"},
        {"f1", "promote", "proj-b", "production"},
        {"f1", "promote", "proj-a", "main"},
    };
    for (size_t i = 0; i < 4; i++) {
        int32_t w = strcmp(vary[i][1], "refresh") == 0 ? NEONFLOW_WORKFLOW_REFRESH : NEONFLOW_WORKFLOW_PROMOTE;
        assert_int_equal(neonflow_fleet_derive_run_id(&b, vary[i][0], w, vary[i][2], vary[i][3]), 0);
        assert_string_not_equal(a, b);
        neonflow_free(b);
    }
    neonflow_free(a);
    /* a long fleet id is cut, yet two ids sharing the first 21 characters differ */
    const char *long1 = "abcdefghijklmnopqrstuvwxyz012345", *long2 = "abcdefghijklmnopqrstuvwxyz012346";
    assert_int_equal(neonflow_fleet_derive_run_id(&a, long1, NEONFLOW_WORKFLOW_ROLLBACK, "p", "production"), 0);
    assert_int_equal(neonflow_fleet_derive_run_id(&b, long2, NEONFLOW_WORKFLOW_ROLLBACK, "p", "production"), 0);
    assert_int_equal(strlen(a), 32);
    assert_true(neonflow__run_id_valid(a));
    assert_string_not_equal(a, b);
    neonflow_free(a);
    neonflow_free(b);
    /* refused: bad fleet id, setup workflow, bad project */
    assert_int_equal(neonflow_fleet_derive_run_id(&a, "Bad_Id", NEONFLOW_WORKFLOW_PROMOTE, "p", "x"), NEONFLOW_EINVAL);
    assert_null(a);
    assert_int_equal(neonflow_fleet_derive_run_id(&a, "f", NEONFLOW_WORKFLOW_SETUP, "p", "x"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_fleet_derive_run_id(&a, "f", NEONFLOW_WORKFLOW_PROMOTE, "p/../x", "x"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_fleet_derive_run_id(NULL, "f", NEONFLOW_WORKFLOW_PROMOTE, "p", "x"), NEONFLOW_EINVAL);
}

static void test_json_report(void **state)
{
    (void)state;
    fleet_fx *f = fx_new(0, 1);
    neonflow_fleet_options *fo = fleet_of(f, 3);
    neonflow_fleet_options_set_concurrency(fo, 1);
    neonflow_fleet_options_set_stop_on_failure(fo, 1);
    neonflow_fleet_options_set_run_id(fo, "json-1");
    neonflow_fleet_report *r = NULL;
    assert_int_equal(neonflow_fleet_promote(&r, f->c, fo, NULL, NULL), NEONFLOW_EFLEET_FAILED);
    char *text = NULL, *compact = NULL;
    RUN_OK(neonflow_fleet_report_to_json(&text, r, 0, &err_));
    RUN_OK(neonflow_fleet_report_to_json(&compact, r, NEONFLOW_FLEET_JSON_COMPACT, &err_));
    assert_null(strchr(compact, '\n'));
    assert_non_null(strchr(text, '\n'));
    json_error_t je;
    json_t *j = json_loads(compact, 0, &je);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "schema_version")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "fleet");
    assert_string_equal(json_string_value(json_object_get(j, "workflow")), "promote");
    assert_string_equal(json_string_value(json_object_get(j, "run_id")), "json-1");
    assert_string_equal(json_string_value(json_object_get(j, "result_name")), "NEONFLOW_EFLEET_FAILED");
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 3);
    json_t *counts = json_object_get(j, "counts");
    assert_int_equal(json_integer_value(json_object_get(counts, "done")), 1);
    assert_int_equal(json_integer_value(json_object_get(counts, "failed")), 1);
    assert_int_equal(json_integer_value(json_object_get(counts, "not_started")), 1);
    assert_int_equal(json_integer_value(json_object_get(counts, "cancelled")), 0);
    json_t *entries = json_object_get(j, "entries");
    assert_int_equal(json_array_size(entries), 3);
    json_t *e0 = json_array_get(entries, 0), *e1 = json_array_get(entries, 1), *e2 = json_array_get(entries, 2);
    assert_string_equal(json_string_value(json_object_get(e0, "status")), "done");
    assert_string_equal(json_string_value(json_object_get(e0, "project_id")), "fleet-0");
    json_t *rep0 = json_object_get(e0, "report");
    assert_true(json_is_object(rep0));
    assert_string_equal(json_string_value(json_object_get(rep0, "run_id")),
                        json_string_value(json_object_get(e0, "run_id")));
    assert_int_equal(json_integer_value(json_object_get(rep0, "schema_version")), 1);
    assert_string_equal(json_string_value(json_object_get(e1, "result_name")), "NEONFLOW_EBRANCH_MISSING");
    assert_string_equal(json_string_value(json_object_get(e2, "status")), "not_started");
    assert_true(json_is_null(json_object_get(e2, "report")));
    json_decref(j);
    neonflow_free(text);
    neonflow_free(compact);
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_fleet_report_to_json(&text, r, 0x8, &err), NEONFLOW_EINVAL);
    assert_null(text);
    neonflow_error_free(err);
    assert_int_equal(neonflow_fleet_report_to_json(&text, NULL, 0, NULL), NEONFLOW_EINVAL);
    neonflow_fleet_report_free(r);
    neonflow_fleet_options_free(fo);
    fx_free(f);
}

static void test_entry_run_options_and_template(void **state)
{
    (void)state;
    fleet_fx *f = fx_new(0, -1);
    neonflow_fleet_options *fo = NULL;
    assert_int_equal(neonflow_fleet_options_new(&fo), NEONFLOW_OK);
    neonflow_run_options *dry = NULL;
    assert_int_equal(neonflow_run_options_new(&dry), NEONFLOW_OK);
    assert_int_equal(neonflow_run_options_set_dry_run(dry, 1), NEONFLOW_OK);
    assert_int_equal(neonflow_fleet_options_add_entry(fo, f->pid[0], NULL, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_fleet_options_add_entry_with_run_options(fo, f->pid[1], NULL, NULL, dry), NEONFLOW_OK);
    neonflow_run_options_free(dry); /* copied */
    /* the template's source replaces the default; the entry's own wins over it */
    neonflow_promote_options *po = NULL;
    assert_int_equal(neonflow_promote_options_new(&po), NEONFLOW_OK);
    assert_int_equal(neonflow_promote_options_set_source(po, "dev"), NEONFLOW_OK);
    assert_int_equal(neonflow_fleet_options_entry_count(fo), 2);
    neonflow_fleet_report *r = NULL;
    RUN_OK(neonflow_fleet_promote(&r, f->c, fo, po, &err_));
    assert_int_equal(neonflow_report_is_dry_run(neonflow_fleet_entry_report(neonflow_fleet_report_entry_at(r, 0))), 0);
    assert_int_equal(neonflow_report_is_dry_run(neonflow_fleet_entry_report(neonflow_fleet_report_entry_at(r, 1))), 1);
    assert_promoted_once(f, 0);
    assert_untouched(f, 1);
    neonflow_fleet_report_free(r);
    neonflow_promote_options_free(po);
    neonflow_fleet_options_free(fo);
    fx_free(f);
}

static void test_refresh_and_rollback_fleets(void **state)
{
    (void)state;
    fleet_fx *f = fx_new(0, -1);
    neonflow_fleet_options *fo = fleet_of(f, 3);
    neonflow_fleet_report *r = NULL;
    RUN_OK(neonflow_fleet_promote(&r, f->c, fo, NULL, &err_));
    neonflow_fleet_report_free(r);
    /* rollback: every production back to its own data */
    RUN_OK(neonflow_fleet_rollback(&r, f->c, fo, NULL, &err_));
    assert_int_equal(neonflow_fleet_report_workflow(r), NEONFLOW_WORKFLOW_ROLLBACK);
    assert_string_equal(neonflow_fleet_entry_source(neonflow_fleet_report_entry_at(r, 0)), "");
    neonflow_fleet_report_free(r);
    for (int i = 0; i < 3; i++) {
        char content[64], want[32];
        live_content(f, i, "production", content, sizeof(content));
        snprintf(want, sizeof(want), "prod-%d", i);
        assert_string_equal(content, want);
    }
    /* refresh: dev gets production's data (default source and target) */
    RUN_OK(neonflow_fleet_refresh(&r, f->c, fo, NULL, &err_));
    assert_string_equal(neonflow_fleet_entry_target(neonflow_fleet_report_entry_at(r, 2)), "dev");
    neonflow_fleet_report_free(r);
    for (int i = 0; i < 3; i++) {
        char content[64], want[32];
        live_content(f, i, "dev", content, sizeof(content));
        snprintf(want, sizeof(want), "prod-%d", i);
        assert_string_equal(content, want);
    }
    neonflow_fleet_options_free(fo);
    fx_free(f);
}

static void test_refused_before_running(void **state)
{
    (void)state;
    fleet_fx *f = fx_new(0, -1);
    neonflow_fleet_options *fo = NULL;
    neonflow_fleet_report *r = (neonflow_fleet_report *)1;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_fleet_options_new(&fo), NEONFLOW_OK);
    /* no entries */
    assert_int_equal(neonflow_fleet_promote(&r, f->c, fo, NULL, &err), NEONFLOW_EINVAL);
    assert_null(r);
    neonflow_error_free(err);
    err = NULL;
    /* setters refuse bad values */
    assert_int_equal(neonflow_fleet_options_add_entry(fo, "bad/id", NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_fleet_options_add_entry(fo, f->pid[0], "", NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_fleet_options_add_entry(NULL, f->pid[0], NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_fleet_options_set_concurrency(fo, 0), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_fleet_options_set_concurrency(fo, 65), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_fleet_options_set_run_id(fo, "UPPER"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_fleet_options_entry_count(fo), 0);
    /* the same project and target twice (the second by default) */
    neonflow_fleet_options_add_entry(fo, f->pid[0], NULL, "production");
    neonflow_fleet_options_add_entry(fo, f->pid[0], NULL, NULL);
    int64_t before = emu_requests(f->s, NULL, NULL);
    assert_int_equal(neonflow_fleet_promote(&r, f->c, fo, NULL, &err), NEONFLOW_EINVAL);
    assert_null(r);
    assert_non_null(strstr(neonflow_error_message(err), "entries 1 and 2"));
    neonflow_error_free(err);
    err = NULL;
    assert_int_equal(emu_requests(f->s, NULL, NULL), before); /* nothing was sent */
    /* a rollback snapshot id for several projects */
    neonflow_fleet_options_free(fo);
    fo = fleet_of(f, 2);
    neonflow_rollback_options *bo = NULL;
    neonflow_rollback_options_new(&bo);
    neonflow_rollback_options_set_snapshot_id(bo, "snap-1");
    assert_int_equal(neonflow_fleet_rollback(&r, f->c, fo, bo, NULL), NEONFLOW_EINVAL);
    neonflow_rollback_options_free(bo);
    assert_int_equal(neonflow_fleet_promote(&r, NULL, fo, NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_fleet_promote(&r, f->c, NULL, NULL, NULL), NEONFLOW_EINVAL);
    neonflow_fleet_options_free(fo);
    fx_free(f);
}

/* A fleet started from a verify hook of a run on the same client. */
typedef struct nested {
    neonflow_client *c;
    const char *pid;
    int rc;
} nested;

static int nested_verify(const neonflow_branch_hook_ctx *ctx, void *payload)
{
    (void)ctx;
    nested *n = payload;
    neonflow_fleet_options *fo = NULL;
    neonflow_fleet_options_new(&fo);
    neonflow_fleet_options_add_entry(fo, n->pid, NULL, NULL);
    neonflow_fleet_report *r = NULL;
    n->rc = neonflow_fleet_promote(&r, n->c, fo, NULL, NULL);
    neonflow_fleet_report_free(r);
    neonflow_fleet_options_free(fo);
    return 0;
}

static void test_recursive_refused(void **state)
{
    (void)state;
    fleet_fx *f = fx_new(0, -1);
    nested n = {f->c, f->pid[1], 0};
    neonflow_run_options *ro = NULL;
    neonflow_run_options_new(&ro);
    neonflow_run_options_set_project_id(ro, f->pid[0]);
    neonflow_promote_options *po = NULL;
    neonflow_promote_options_new(&po);
    neonflow_promote_options_set_verify_hook(po, nested_verify, &n, NULL);
    neonflow_report *r = NULL;
    RUN_OK(neonflow_promote(&r, f->c, ro, po, &err_));
    assert_int_equal(n.rc, NEONFLOW_ERECURSIVE);
    assert_untouched(f, 1);
    neonflow_report_free(r);
    neonflow_promote_options_free(po);
    neonflow_run_options_free(ro);
    fx_free(f);
}

/* A clock that jumps instead of sleeping: the rate limiter's waits of a
 * minute take no real time. */
static void test_names(void **state)
{
    (void)state;
    assert_string_equal(neonflow_fleet_entry_status_name(NEONFLOW_FLEET_ENTRY_CANCELLED), "cancelled");
    assert_string_equal(neonflow_fleet_entry_status_name(99), "unknown");
    assert_string_equal(neonflow_fleet_event_kind_name(NEONFLOW_FLEET_EVENT_ENTRY_FAILED), "entry_failed");
    assert_string_equal(neonflow_fleet_event_kind_name(0), "unknown");
    assert_string_equal(neonflow_error_name(NEONFLOW_EFLEET_FAILED), "NEONFLOW_EFLEET_FAILED");
    /* NULL-safe getters */
    assert_string_equal(neonflow_fleet_report_run_id(NULL), "");
    assert_null(neonflow_fleet_entry_report(NULL));
    assert_int_equal(neonflow_fleet_event_count(NULL, 0), 0);
    neonflow_fleet_report_free(NULL);
    neonflow_fleet_options_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_succeed),
        cmocka_unit_test(test_one_failure_leaves_others_done),
        cmocka_unit_test(test_stop_on_failure_then_resume),
        cmocka_unit_test(test_cancel_mid_fleet_then_resume),
        cmocka_unit_test(test_derived_run_ids),
        cmocka_unit_test(test_json_report),
        cmocka_unit_test(test_entry_run_options_and_template),
        cmocka_unit_test(test_refresh_and_rollback_fleets),
        cmocka_unit_test(test_refused_before_running),
        cmocka_unit_test(test_recursive_refused),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
