/* neonflow_promote against the emulator: the data and the endpoint after a
 * promotion, the lost-write window, gates and vetoes, preflight errors, dry
 * run, automatic rollback, limits, cancel and deadline. */
#include "test_workflow_common.h"

static neonflow_promote_options *popts(void)
{
    neonflow_promote_options *o = NULL;
    assert_int_equal(neonflow_promote_options_new(&o), NEONFLOW_OK);
    return o;
}

static void assert_prod_untouched(wf_fixture *f)
{
    char id[64], content[64], host[256];
    branch_id_by_name(f->s, "production", id, sizeof(id));
    assert_string_equal(id, f->prod_id);
    content_of(f->s, f->prod_id, content, sizeof(content));
    assert_string_equal(content, "prod-v1");
    endpoint_branch(f->s, f->prod_ep, id, sizeof(id));
    assert_string_equal(id, f->prod_id);
    endpoint_host(f->s, f->prod_ep, host, sizeof(host));
    assert_string_equal(host, f->prod_host);
}

static void test_promote_basic(void **state)
{
    wf_fixture *f = *state;
    event_log log = {0};
    neonflow_run_options_set_event_hook(f->ro, log_event, &log, NULL);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_promote(&r, f->c, f->ro, NULL, &err);
    if (rc != NEONFLOW_OK)
        fail_msg("promote: %s", neonflow_error_message(err));
    assert_non_null(r);
    assert_int_equal(neonflow_report_result(r), NEONFLOW_OK);
    assert_int_equal(neonflow_report_workflow(r), NEONFLOW_WORKFLOW_PROMOTE);
    /* the first event carries the run id */
    assert_int_equal(log.kinds[0], NEONFLOW_EVENT_RUN_STARTED);
    assert_string_equal(log.first_run_id, neonflow_report_run_id(r));
    assert_int_equal(strlen(neonflow_report_run_id(r)), 8);
    assert_true(log.warnings >= 1); /* lost writes are always said */
    assert_non_null(strstr(log.last_warning, "NOT in the new"));

    /* prod holds dev's data under the same endpoint id and host */
    const char *new_id = neonflow_report_target_branch_id(r);
    char live[64], content[64], host[256], epb[64];
    branch_id_by_name(f->s, "production", live, sizeof(live));
    assert_string_equal(live, new_id);
    assert_string_not_equal(new_id, f->prod_id);
    assert_string_equal(neonflow_report_old_target_branch_id(r), f->prod_id);
    content_of(f->s, live, content, sizeof(content));
    assert_string_equal(content, "dev-v1");
    assert_string_equal(neonflow_report_target_endpoint_id(r), f->prod_ep);
    assert_string_equal(neonflow_report_target_endpoint_host(r), f->prod_host);
    endpoint_branch(f->s, f->prod_ep, epb, sizeof(epb));
    assert_string_equal(epb, live);
    endpoint_host(f->s, f->prod_ep, host, sizeof(host));
    assert_string_equal(host, f->prod_host);
    /* the old prod is the backup, with its data */
    assert_string_equal(neonflow_report_backup_branch_id(r), f->prod_id);
    assert_true(neonflow__name_matches(neonflow_report_backup_branch_name(r), "production", "promote-backup",
                                       neonflow_report_run_id(r)));
    content_of(f->s, f->prod_id, content, sizeof(content));
    assert_string_equal(content, "prod-v1");
    branch_id_by_name(f->s, neonflow_report_backup_branch_name(r), live, sizeof(live));
    assert_string_equal(live, f->prod_id);
    /* exactly one snapshot of each kind, and dev untouched */
    assert_int_equal(count_kind(f->s, "snapshots", "candidate"), 1);
    assert_int_equal(count_kind(f->s, "snapshots", "rollback"), 1);
    assert_int_equal(emu_count_snapshots(f->s, PROJECT), 2);
    assert_int_equal(emu_count_branches(f->s, PROJECT), 3);
    content_of(f->s, f->dev_id, content, sizeof(content));
    assert_string_equal(content, "dev-v1");
    assert_string_not_equal(neonflow_report_candidate_snapshot_id(r), "");
    assert_string_not_equal(neonflow_report_rollback_snapshot_id(r), "");
    /* steps: all done, counted */
    assert_int_equal(neonflow_report_step_count(r), 8);
    int64_t calls = 0;
    for (size_t i = 0; i < neonflow_report_step_count(r); i++) {
        const neonflow_step *s = neonflow_report_step_at(r, i);
        int32_t st = neonflow_step_status(s);
        assert_true(st == NEONFLOW_STEP_DONE || st == NEONFLOW_STEP_SKIPPED);
        calls += neonflow_step_api_calls(s);
    }
    assert_int_equal(calls, neonflow_report_api_calls(r));
    assert_true(neonflow_report_api_calls(r) >= 8);
    assert_string_not_equal(neonflow_report_lost_writes_start(r), "");
    assert_true(neonflow_report_lost_writes_end_ms(r) >= neonflow_report_lost_writes_start_ms(r));
    assert_string_not_equal(neonflow_report_lost_writes_end_lsn(r), "");
    /* JSON */
    char *json = NULL;
    assert_int_equal(neonflow_report_to_json(&json, r, 0, NULL), NEONFLOW_OK);
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "workflow")), "promote");
    assert_int_equal(json_array_size(json_object_get(j, "steps")), 8);
    json_decref(j);
    neonflow_free(json);
    neonflow_report_free(r);
}

typedef struct late_write {
    wf_fixture *f;
    int64_t at_ms;
    char lsn[32];
    int calls;
} late_write;

static int verify_writes_to_prod(const neonflow_branch_hook_ctx *hctx, void *payload)
{
    const neonflow_branch *preview = neonflow_branch_hook_ctx_branch(hctx);
    late_write *lw = payload;
    char content[64];
    lw->calls++;
    /* the preview holds dev's data before it takes over */
    content_of(lw->f->s, neonflow_branch_id(preview), content, sizeof(content));
    if (strcmp(content, "dev-v1") != 0)
        return 1;
    lw->at_ms = wall_now_ms();
    return emu_write(lw->f->s, PROJECT, lw->f->prod_id, "late-write", lw->lsn) == 0 ? 0 : 1;
}

static void test_lost_write_window(void **state)
{
    wf_fixture *f = *state;
    late_write lw = {f, 0, "", 0};
    neonflow_promote_options *o = popts();
    neonflow_promote_options_set_verify_hook(o, verify_writes_to_prod, &lw, NULL);
    neonflow_report *r = NULL;
    RUN_OK(neonflow_promote(&r, f->c, f->ro, o, &err_));
    assert_int_equal(lw.calls, 1);
    /* the write lies inside the reported window, below its end LSN */
    assert_true(neonflow_report_lost_writes_start_ms(r) <= lw.at_ms + 1);
    assert_true(lw.at_ms <= neonflow_report_lost_writes_end_ms(r) + 1);
    assert_true(lsn_value(lw.lsn) <= lsn_value(neonflow_report_lost_writes_end_lsn(r)));
    assert_true(lsn_value(lw.lsn) > 0);
    /* new prod does not hold it; the backup does */
    char content[64];
    content_of(f->s, neonflow_report_target_branch_id(r), content, sizeof(content));
    assert_string_equal(content, "dev-v1");
    content_of(f->s, neonflow_report_backup_branch_id(r), content, sizeof(content));
    assert_string_equal(content, "late-write");
    neonflow_report_free(r);
    neonflow_promote_options_free(o);
}

static int veto_branch(const neonflow_branch_hook_ctx *hctx, void *payload)
{
    const neonflow_branch *b = neonflow_branch_hook_ctx_branch(hctx);
    (void)b;
    (*(int *)payload)++;
    return 1;
}

static void test_verify_veto_cleans_up(void **state)
{
    wf_fixture *f = *state;
    int calls = 0;
    neonflow_promote_options *o = popts();
    neonflow_promote_options_set_verify_hook(o, veto_branch, &calls, NULL);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, o, &err), NEONFLOW_ECALLBACK);
    assert_int_equal(neonflow_error_code(err), NEONFLOW_ECALLBACK);
    assert_int_equal(calls, 1);
    assert_int_equal(neonflow_report_result(r), NEONFLOW_ECALLBACK);
    assert_non_null(strstr(neonflow_report_message(r), "untouched"));
    assert_int_equal(neonflow_step_status(step_named(r, "verify")), NEONFLOW_STEP_VETOED);
    assert_int_equal(neonflow_step_status(step_named(r, "restore-preview")), NEONFLOW_STEP_UNDONE);
    assert_int_equal(neonflow_step_status(step_named(r, "snapshot-candidate")), NEONFLOW_STEP_UNDONE);
    assert_int_equal(neonflow_step_status(step_named(r, "finalize")), NEONFLOW_STEP_PLANNED);
    assert_prod_untouched(f);
    assert_int_equal(emu_count_snapshots(f->s, PROJECT), 0);
    assert_int_equal(emu_count_branches(f->s, PROJECT), 2);
    neonflow_error_free(err);
    neonflow_report_free(r);
    neonflow_promote_options_free(o);
}

static void test_verify_veto_keep(void **state)
{
    wf_fixture *f = *state;
    int calls = 0;
    neonflow_promote_options *o = popts();
    neonflow_promote_options_set_verify_hook(o, veto_branch, &calls, NULL);
    neonflow_run_options_set_keep_on_veto(f->ro, 1);
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, o, NULL), NEONFLOW_ECALLBACK);
    assert_prod_untouched(f);
    assert_int_equal(count_kind(f->s, "snapshots", "candidate"), 1);
    assert_int_equal(count_kind(f->s, "branches", "promote-preview"), 1);
    assert_non_null(strstr(neonflow_report_message(r), "keep-on-veto"));
    neonflow_report_free(r);
    neonflow_promote_options_free(o);
}

typedef struct gate_state {
    const char *veto_step;
    int calls;
    char seen[16][40];
} gate_state;

static int gate(const neonflow_step *st, void *payload)
{
    gate_state *g = payload;
    if (g->calls < 16)
        snprintf(g->seen[g->calls], sizeof(g->seen[0]), "%s", neonflow_step_name(st));
    g->calls++;
    assert_true(neonflow_step_is_mutating(st));
    assert_true(neonflow_step_resource_count(st) >= 1);
    return g->veto_step && strcmp(neonflow_step_name(st), g->veto_step) == 0;
}

static void test_gate_sees_every_mutating_step(void **state)
{
    wf_fixture *f = *state;
    gate_state g = {NULL, 0, {{0}}};
    neonflow_run_options_set_gate_hook(f->ro, gate, &g, NULL);
    neonflow_report *r = NULL;
    RUN_OK(neonflow_promote(&r, f->c, f->ro, NULL, &err_));
    assert_int_equal(g.calls, 4);
    assert_string_equal(g.seen[0], "snapshot-candidate");
    assert_string_equal(g.seen[1], "restore-preview");
    assert_string_equal(g.seen[2], "snapshot-rollback");
    assert_string_equal(g.seen[3], "finalize");
    neonflow_report_free(r);
}

static void test_gate_veto_each_step(void **state)
{
    const char *steps[] = {"snapshot-candidate", "restore-preview", "snapshot-rollback", "finalize"};
    for (size_t i = 0; i < 4; i++) {
        wf_fixture *f = fixture_new(0, 1);
        gate_state g = {steps[i], 0, {{0}}};
        neonflow_run_options_set_gate_hook(f->ro, gate, &g, NULL);
        neonflow_report *r = NULL;
        assert_int_equal(neonflow_promote(&r, f->c, f->ro, NULL, NULL), NEONFLOW_ECALLBACK);
        assert_int_equal(neonflow_step_status(step_named(r, steps[i])), NEONFLOW_STEP_VETOED);
        assert_prod_untouched(f);
        assert_int_equal(emu_count_snapshots(f->s, PROJECT), 0);
        assert_int_equal(emu_count_branches(f->s, PROJECT), 2);
        neonflow_report_free(r);
        fixture_free(f);
    }
}

static void test_preflight_errors(void **state)
{
    wf_fixture *f = *state;
    char child[64], lonely[64];
    assert_int_equal(emu_add_branch(f->s, PROJECT, "feature", f->dev_id, 0, child, NULL), 0);
    assert_int_equal(emu_add_branch(f->s, PROJECT, "lonely", NULL, 0, lonely, NULL), 0);
    struct {
        const char *source, *target;
        int code;
    } cases[] = {
        {"nope", "production", NEONFLOW_EBRANCH_MISSING},
        {"dev", "nope", NEONFLOW_EBRANCH_MISSING},
        {"feature", "production", NEONFLOW_ENOT_ROOT},
        {"dev", "feature", NEONFLOW_ENOT_ROOT},
        {"production", "production", NEONFLOW_ESAME_BRANCH},
        {f->prod_id, "production", NEONFLOW_ESAME_BRANCH},
        {"dev", "lonely", NEONFLOW_ENO_ENDPOINT},
    };
    int64_t before = mutating_requests(f->s);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        neonflow_promote_options *o = popts();
        neonflow_promote_options_set_source(o, cases[i].source);
        neonflow_promote_options_set_target(o, cases[i].target);
        neonflow_report *r = NULL;
        neonflow_error *err = NULL;
        int rc = neonflow_promote(&r, f->c, f->ro, o, &err);
        if (rc != cases[i].code)
            fail_msg("case %zu: %s, want %s (%s)", i, neonflow_error_name(rc), neonflow_error_name(cases[i].code),
                     neonflow_error_message(err));
        assert_int_equal(neonflow_step_status(step_named(r, "preflight")), NEONFLOW_STEP_FAILED);
        assert_true(strlen(neonflow_error_message(err)) > 20);
        /* a preflight failure changed nothing: no "re-run to continue" */
        assert_non_null(strstr(neonflow_report_message(r), "Nothing was changed"));
        assert_null(strstr(neonflow_report_message(r), "Re-run"));
        neonflow_error_free(err);
        neonflow_report_free(r);
        neonflow_promote_options_free(o);
    }
    /* only the lease of each run (taken before the listing, released at the end) */
    assert_int_equal(mutating_requests(f->s), before + LEASE_REQUESTS * (int64_t)(sizeof(cases) / sizeof(cases[0])));
    assert_int_equal(lease_branches_in(f->s, PROJECT), 0);
    assert_prod_untouched(f);
}

/* Neon restricts restores onto a branch for a while (e.g. a finished restore still detaching). */
static void test_target_restricted(void **state)
{
    wf_fixture *f = *state;
    assert_int_equal(emu_set_restricted(f->s, PROJECT, f->prod_id, "restore", "restore still detaching"), 0);
    int64_t before = mutating_requests(f->s);
    neonflow_promote_options *o = popts();
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, o, &err), NEONFLOW_ERESTRICTED);
    assert_non_null(strstr(neonflow_error_message(err), "restricted"));
    assert_int_equal(neonflow_step_status(step_named(r, "preflight")), NEONFLOW_STEP_FAILED);
    assert_int_equal(mutating_requests(f->s), before + LEASE_REQUESTS); /* the lease only */
    assert_prod_untouched(f);
    neonflow_error_free(err);
    neonflow_report_free(r);
    /* once Neon lifts it, the promotion goes through */
    assert_int_equal(emu_set_restricted(f->s, PROJECT, f->prod_id, NULL, NULL), 0);
    r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, o, NULL), NEONFLOW_OK);
    neonflow_report_free(r);
    neonflow_promote_options_free(o);
}

/* Reusing a run id with another source must not resume the first run's candidate. */
static void test_run_id_reused_with_other_source(void **state)
{
    wf_fixture *f = *state;
    char other[64];
    assert_int_equal(emu_add_branch(f->s, PROJECT, "dev2", NULL, 1, other, NULL), 0);
    assert_int_equal(emu_write(f->s, PROJECT, other, "dev2-data", NULL), 0);
    neonflow_run_options_set_run_id(f->ro, "reused-1");
    neonflow__workflow_set_interrupt_after(2); /* candidate snapshot of dev exists */
    neonflow_promote_options *o = popts();
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, o, NULL), NEONFLOW_ECANCELLED);
    neonflow__workflow_set_interrupt_after(0);
    neonflow_report_free(r);

    neonflow_promote_options_set_source(o, "dev2");
    neonflow_error *err = NULL;
    r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, o, &err), NEONFLOW_ERUN_MISMATCH);
    assert_non_null(strstr(neonflow_error_message(err), "reused-1"));
    neonflow_error_free(err);
    neonflow_report_free(r);
    assert_prod_untouched(f);

    /* the same source resumes and completes */
    neonflow_promote_options_set_source(o, "dev");
    r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, o, NULL), NEONFLOW_OK);
    neonflow_report_free(r);
    neonflow_promote_options_free(o);
}

typedef struct reentry {
    wf_fixture *f;
    int nested_rc, api_rc;
} reentry;

static int verify_reenters(const neonflow_branch_hook_ctx *hctx, void *payload)
{
    const neonflow_branch *b = neonflow_branch_hook_ctx_branch(hctx);
    reentry *re = payload;
    neonflow_branch *got = NULL;
    re->api_rc = neonflow_branch_get(&got, re->f->c, PROJECT, neonflow_branch_id(b), NULL, NULL);
    neonflow_branch_free(got);
    neonflow_report *r = NULL;
    neonflow_promote_options *o = popts();
    re->nested_rc = neonflow_promote(&r, re->f->c, re->f->ro, o, NULL);
    neonflow_promote_options_free(o);
    neonflow_report_free(r);
    return 0;
}

/* A hook may call the API on the run's client, but not start a workflow on it. */
static void test_hook_reentry(void **state)
{
    wf_fixture *f = *state;
    reentry re = {f, 0, -1};
    neonflow_promote_options *o = popts();
    neonflow_promote_options_set_verify_hook(o, verify_reenters, &re, NULL);
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, o, NULL), NEONFLOW_OK);
    assert_int_equal(re.api_rc, NEONFLOW_OK);
    assert_int_equal(re.nested_rc, NEONFLOW_ERECURSIVE);
    neonflow_report_free(r);
    neonflow_promote_options_free(o);
}

static void test_busy_project(void **state)
{
    wf_fixture *f = *state;
    emu_set_op_duration_ms(f->s, 3000);
    /* someone else's snapshot keeps an operation running */
    neonflow_snapshot *s = NULL;
    RUN_OK(neonflow_snapshot_create(&s, NULL, f->c, PROJECT, f->dev_id, NULL, NULL, &err_));
    neonflow_snapshot_free(s);
    neonflow_run_options_set_busy_wait_ms(f->ro, 100);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, NULL, &err), NEONFLOW_EBUSY);
    assert_non_null(strstr(neonflow_error_message(err), "still running"));
    assert_prod_untouched(f);
    neonflow_error_free(err);
    neonflow_report_free(r);
}

static void test_dry_run(void **state)
{
    wf_fixture *f = *state;
    neonflow_run_options_set_dry_run(f->ro, 1);
    neonflow_run_options_set_run_id(f->ro, "plan-1");
    emu_counters_reset(f->s);
    neonflow_report *r = NULL;
    RUN_OK(neonflow_promote(&r, f->c, f->ro, NULL, &err_));
    assert_int_equal(mutating_requests(f->s), 0);
    assert_true(neonflow_report_is_dry_run(r));
    assert_string_equal(neonflow_report_run_id(r), "plan-1");
    const neonflow_step *cand = step_named(r, "snapshot-candidate");
    assert_int_equal(neonflow_step_status(cand), NEONFLOW_STEP_PLANNED);
    assert_int_equal(neonflow_step_resource_count(cand), 1);
    const neonflow_resource *x = neonflow_step_resource_at(cand, 0);
    assert_int_equal(neonflow_resource_action(x), NEONFLOW_ACTION_CREATE);
    assert_true(neonflow__name_matches(neonflow_resource_name(x), "production", "candidate", "plan-1"));
    const neonflow_step *fin = step_named(r, "finalize");
    assert_int_equal(neonflow_resource_action(neonflow_step_resource_at(fin, 0)), NEONFLOW_ACTION_REPLACE);
    assert_string_equal(neonflow_resource_id(neonflow_step_resource_at(fin, 0)), f->prod_id);
    assert_prod_untouched(f);
    assert_int_equal(emu_count_snapshots(f->s, PROJECT), 0);
    neonflow_report_free(r);
}

static void test_after_switch_auto_rollback(void **state)
{
    wf_fixture *f = *state;
    int calls = 0;
    neonflow_promote_options *o = popts();
    neonflow_promote_options_set_after_switch_hook(o, veto_branch, &calls, NULL);
    neonflow_promote_options_set_auto_rollback(o, 1);
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, o, NULL), NEONFLOW_ECALLBACK);
    assert_int_equal(calls, 1);
    assert_non_null(strstr(neonflow_report_message(r), "Rolled back automatically"));
    char live[64], content[64], epb[64];
    branch_id_by_name(f->s, "production", live, sizeof(live));
    assert_string_equal(live, neonflow_report_target_branch_id(r));
    content_of(f->s, live, content, sizeof(content));
    assert_string_equal(content, "prod-v1");
    endpoint_branch(f->s, f->prod_ep, epb, sizeof(epb));
    assert_string_equal(epb, live);
    assert_int_equal(count_kind(f->s, "branches", "undo-backup"), 1);
    neonflow_report_free(r);
    neonflow_promote_options_free(o);
}

static void test_after_switch_veto_no_rollback(void **state)
{
    wf_fixture *f = *state;
    int calls = 0;
    neonflow_promote_options *o = popts();
    neonflow_promote_options_set_after_switch_hook(o, veto_branch, &calls, NULL);
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, o, NULL), NEONFLOW_ECALLBACK);
    assert_non_null(strstr(neonflow_report_message(r), "neonflow_rollback"));
    char content[64];
    content_of(f->s, neonflow_report_target_branch_id(r), content, sizeof(content));
    assert_string_equal(content, "dev-v1");
    neonflow_report_free(r);
    neonflow_promote_options_free(o);
}

/* What each branch hook sees (issue 9 item 3): which hook, the run, the
 * target, the branch, its endpoints and the read-write host to connect to. */
typedef struct seen_ctx {
    int calls[3];
    int32_t workflow[3];
    char run_id[3][64], target[3][64], branch_id[3][64], host[3][256];
    size_t endpoints[3];
} seen_ctx;

static int record_ctx(const neonflow_branch_hook_ctx *x, void *payload)
{
    seen_ctx *sc = payload;
    int32_t h = neonflow_branch_hook_ctx_hook(x);
    if (h < 1 || h > 2)
        return 1;
    sc->calls[h]++;
    sc->workflow[h] = neonflow_branch_hook_ctx_workflow(x);
    snprintf(sc->run_id[h], sizeof(sc->run_id[h]), "%s", neonflow_branch_hook_ctx_run_id(x));
    snprintf(sc->target[h], sizeof(sc->target[h]), "%s", neonflow_branch_hook_ctx_target(x));
    snprintf(sc->branch_id[h], sizeof(sc->branch_id[h]), "%s",
             neonflow_branch_id(neonflow_branch_hook_ctx_branch(x)));
    const char *host = neonflow_branch_hook_ctx_host(x);
    snprintf(sc->host[h], sizeof(sc->host[h]), "%s", host ? host : "(none)");
    sc->endpoints[h] = neonflow_branch_hook_ctx_endpoint_count(x);
    if (sc->endpoints[h] > 0 && !neonflow_branch_hook_ctx_endpoint_at(x, 0))
        return 1;
    if (neonflow_branch_hook_ctx_endpoint_at(x, sc->endpoints[h]) != NULL)
        return 1;
    if (strcmp(neonflow_branch_hook_ctx_project_id(x), PROJECT) != 0)
        return 1;
    return 0;
}

static int run_logs_ok, run_logs_bad;
static void run_log(const neonflow_log_record *rec, void *payload)
{
    const char *want = payload;
    const char *rid = neonflow_log_record_run_id(rec);
    if (rid && strcmp(rid, want) == 0 && neonflow_log_record_route(rec) &&
        neonflow_log_record_route(rec)[0] == '/' && neonflow_log_record_request_id(rec))
        run_logs_ok++;
    else
        run_logs_bad++;
}

static void test_branch_hook_context(void **state)
{
    wf_fixture *f = *state;
    seen_ctx sc;
    memset(&sc, 0, sizeof(sc));
    neonflow_promote_options *o = popts();
    assert_int_equal(neonflow_promote_options_set_verify_hook(o, record_ctx, &sc, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_promote_options_set_after_switch_hook(o, record_ctx, &sc, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_run_options_set_run_id(f->ro, "run-hookctx-1"), NEONFLOW_OK);
    /* a client whose log records must all carry the run's id */
    neonflow_client_options *co = NULL;
    assert_int_equal(neonflow_client_options_new(&co), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(co, emu_base_url(f->s)), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(co, "emulator-key"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_level(co, NEONFLOW_LOG_DEBUG), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_hook(co, run_log, "run-hookctx-1", NULL), NEONFLOW_OK);
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_new(&c, co, NULL), NEONFLOW_OK);
    neonflow_client_options_free(co);
    run_logs_ok = run_logs_bad = 0;

    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, c, f->ro, o, NULL), NEONFLOW_OK);
    assert_int_equal(sc.calls[NEONFLOW_HOOK_VERIFY], 1);
    assert_int_equal(sc.calls[NEONFLOW_HOOK_AFTER_SWITCH], 1);
    for (int h = 1; h <= 2; h++) {
        assert_int_equal(sc.workflow[h], NEONFLOW_WORKFLOW_PROMOTE);
        assert_string_equal(sc.run_id[h], "run-hookctx-1");
        assert_string_equal(sc.target[h], "production");
    }
    /* verify: the restored preview, which has no compute yet */
    assert_string_equal(sc.branch_id[NEONFLOW_HOOK_VERIFY], neonflow_report_preview_branch_id(r));
    assert_int_equal(sc.endpoints[NEONFLOW_HOOK_VERIFY], 0);
    assert_string_equal(sc.host[NEONFLOW_HOOK_VERIFY], "(none)");
    /* after switch: the new live target, on the endpoint moved over from the old one */
    assert_string_equal(sc.branch_id[NEONFLOW_HOOK_AFTER_SWITCH], neonflow_report_target_branch_id(r));
    assert_int_equal(sc.endpoints[NEONFLOW_HOOK_AFTER_SWITCH], 1);
    assert_string_equal(sc.host[NEONFLOW_HOOK_AFTER_SWITCH], f->prod_host);
    assert_true(run_logs_ok > 0);
    assert_int_equal(run_logs_bad, 0);
    assert_string_equal(neonflow_hook_name(NEONFLOW_HOOK_VERIFY), "verify");
    assert_string_equal(neonflow_hook_name(NEONFLOW_HOOK_AFTER_SWITCH), "after_switch");
    assert_string_equal(neonflow_hook_name(0), "unknown");
    assert_null(neonflow_branch_hook_ctx_branch(NULL));
    assert_null(neonflow_branch_hook_ctx_host(NULL));
    assert_int_equal(neonflow_branch_hook_ctx_endpoint_count(NULL), 0);
    neonflow_report_free(r);
    neonflow_promote_options_free(o);
    neonflow_client_free(c);
}

static void test_limits(void **state)
{
    wf_fixture *f = *state;
    /* room for the candidate only */
    assert_int_equal(emu_set_limits(f->s, PROJECT, 0, 1), 0);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, NULL, &err), NEONFLOW_ESNAPSHOT_LIMIT);
    assert_non_null(strstr(neonflow_error_message(err), "prune"));
    assert_prod_untouched(f);
    neonflow_error_free(err);
    neonflow_report_free(r);
    /* the same run id continues once there is room */
    char run[40];
    snprintf(run, sizeof(run), "%s", "lim-1");
    wf_fixture *g = fixture_new(0, 1);
    assert_int_equal(emu_set_limits(g->s, PROJECT, 2, 0), 0);
    neonflow_run_options_set_run_id(g->ro, run);
    err = NULL;
    assert_int_equal(neonflow_promote(&r, g->c, g->ro, NULL, &err), NEONFLOW_EROOT_LIMIT);
    assert_non_null(strstr(neonflow_report_message(r), "lim-1"));
    neonflow_error_free(err);
    neonflow_report_free(r);
    assert_int_equal(emu_set_limits(g->s, PROJECT, 5, 0), 0);
    RUN_OK(neonflow_promote(&r, g->c, g->ro, NULL, &err_));
    assert_int_equal(neonflow_step_status(step_named(r, "snapshot-candidate")), NEONFLOW_STEP_RESUMED);
    assert_int_equal(count_kind(g->s, "snapshots", "candidate"), 1);
    neonflow_report_free(r);
    fixture_free(g);
}

/* Cancels through the run's token once the candidate snapshot's step began
 * (the lease's own wait before it does not count). */
static void cancel_on_candidate(const neonflow_event *ev, void *payload)
{
    if (neonflow_event_kind(ev) == NEONFLOW_EVENT_STEP_BEGIN && strcmp(neonflow_event_step(ev), "snapshot-candidate") == 0)
        neonflow_cancel_trigger(payload);
}

static void test_cancel_and_timeout(void **state)
{
    wf_fixture *f = *state;
    emu_set_op_duration_ms(f->s, 400);
    neonflow_cancel *tok = NULL;
    assert_int_equal(neonflow_cancel_new(&tok), NEONFLOW_OK);
    neonflow_run_options_set_cancel(f->ro, tok);
    neonflow_run_options_set_event_hook(f->ro, cancel_on_candidate, tok, NULL);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, NULL, &err), NEONFLOW_ECANCELLED);
    assert_non_null(strstr(neonflow_report_message(r), "Re-run with run id"));
    assert_prod_untouched(f);
    neonflow_error_free(err);
    neonflow_report_free(r);
    neonflow_run_options_set_cancel(f->ro, NULL);
    neonflow_run_options_set_event_hook(f->ro, NULL, NULL, NULL);
    neonflow_cancel_free(tok);

    wf_fixture *g = fixture_new(300, 1);
    neonflow_run_options_set_timeout_ms(g->ro, 150);
    err = NULL;
    int rc = neonflow_promote(&r, g->c, g->ro, NULL, &err);
    assert_int_equal(rc, NEONFLOW_ETIMEOUT);
    neonflow_error_free(err);
    neonflow_report_free(r);
    fixture_free(g);
}

static void test_with_operation_durations(void **state)
{
    wf_fixture *f = *state;
    emu_set_op_duration_ms(f->s, 60);
    event_log log = {0};
    neonflow_run_options_set_event_hook(f->ro, log_event, &log, NULL);
    neonflow_report *r = NULL;
    RUN_OK(neonflow_promote(&r, f->c, f->ro, NULL, &err_));
    assert_true(log.operations > 0);
    char content[64];
    content_of(f->s, neonflow_report_target_branch_id(r), content, sizeof(content));
    assert_string_equal(content, "dev-v1");
    neonflow_report_free(r);
}

static void test_bad_arguments(void **state)
{
    wf_fixture *f = *state;
    neonflow_report *r = (neonflow_report *)1;
    assert_int_equal(neonflow_promote(&r, NULL, f->ro, NULL, NULL), NEONFLOW_EINVAL);
    assert_null(r);
    neonflow_run_options *ro = NULL;
    neonflow_run_options_new(&ro);
    assert_int_equal(neonflow_promote(&r, f->c, ro, NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_run_options_set_run_id(ro, "UPPER"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_run_options_set_run_id(ro, "this-run-id-is-far-too-long-to-be-accepted"),
                     NEONFLOW_EINVAL);
    assert_int_equal(neonflow_run_options_set_timeout_ms(ro, 0), NEONFLOW_EINVAL);
    neonflow_run_options_free(ro);
    neonflow_run_options_free(NULL);
    neonflow_promote_options_free(NULL);
    neonflow_report_free(NULL);
    assert_string_equal(neonflow_report_message(NULL), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_promote_basic, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_lost_write_window, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_verify_veto_cleans_up, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_verify_veto_keep, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_gate_sees_every_mutating_step, setup_instant, teardown_fixture),
        cmocka_unit_test(test_gate_veto_each_step),
        cmocka_unit_test_setup_teardown(test_preflight_errors, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_target_restricted, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_run_id_reused_with_other_source, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_hook_reentry, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_busy_project, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_dry_run, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_after_switch_auto_rollback, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_after_switch_veto_no_rollback, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_branch_hook_context, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_limits, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_cancel_and_timeout, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_with_operation_durations, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup_instant, teardown_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
