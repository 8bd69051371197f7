/* A run id belongs to one workflow, target and source: reusing it for
 * anything else fails with NEONFLOW_ERUN_MISMATCH before any mutation (never
 * a false "done"), including for resources named by neonflow 0.1.0. And the
 * lost-write window never ends before the switch, also after a resume. */
#include <unistd.h>

#include "test_workflow_common.h"

static void set_run(wf_fixture *f, const char *id)
{
    assert_int_equal(neonflow_run_options_set_run_id(f->ro, id), NEONFLOW_OK);
}

static void promote_ok(wf_fixture *f, const char *run_id)
{
    set_run(f, run_id);
    neonflow_report *r = NULL;
    RUN_OK(neonflow_promote(&r, f->c, f->ro, NULL, &err_));
    neonflow_report_free(r);
}

/* Branches (with their data) and snapshots of the project as lines, lease
 * branches left out: what a refused run must leave exactly as it was. */
static char *project_fingerprint(emu_server *s)
{
    json_t *p = project_state(s);
    json_t *lines = json_array();
    const char *arrays[2] = {"branches", "snapshots"};
    for (int a = 0; a < 2; a++) {
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(p, arrays[a]), i, x) {
            const char *name = json_string_value(json_object_get(x, "name"));
            if (neonflow__lease_name_is(name))
                continue;
            const char *id = json_string_value(json_object_get(x, "id"));
            char content[128] = "";
            if (a == 0)
                assert_int_equal(emu_read(s, PROJECT, id, content, sizeof(content), NULL), 0);
            char line[600];
            snprintf(line, sizeof(line), "%s %s=%s %s", arrays[a], id, name ? name : "", content);
            json_array_append_new(lines, json_string(line));
        }
    }
    json_decref(p);
    char *out = json_dumps(lines, JSON_COMPACT);
    json_decref(lines);
    return out;
}

/* The call must fail with ERUN_MISMATCH, change nothing and name the run id.
 * Its only mutating requests may be its lease's (a create refused with 409, a
 * renewal and a release of this run id's own lease). */
#define EXPECT_MISMATCH(f, call, run_id)                                                                        \
    do {                                                                                                       \
        neonflow_report *r_ = NULL;                                                                            \
        neonflow_error *err_ = NULL;                                                                           \
        char *before_ = project_fingerprint((f)->s);                                                           \
        int leases_ = lease_branches_in((f)->s, PROJECT);                                                      \
        emu_counters_reset((f)->s);                                                                            \
        int rc_ = (call);                                                                                      \
        if (rc_ != NEONFLOW_ERUN_MISMATCH)                                                                     \
            fail_msg("%s -> %s (%s), not ERUN_MISMATCH", #call, neonflow_error_name(rc_),                      \
                     err_ ? neonflow_error_message(err_) : "");                                                \
        char *after_ = project_fingerprint((f)->s);                                                            \
        assert_string_equal(before_, after_);                                                                  \
        free(before_);                                                                                         \
        free(after_);                                                                                          \
        assert_true(lease_branches_in((f)->s, PROJECT) <= leases_);                                            \
        assert_true(mutating_requests((f)->s) <= LEASE_REQUESTS + 1);                                          \
        assert_non_null(strstr(neonflow_error_message(err_), run_id));                                         \
        assert_non_null(r_);                                                                                   \
        assert_int_equal(neonflow_report_result(r_), NEONFLOW_ERUN_MISMATCH);                                  \
        neonflow_report_free(r_);                                                                              \
        neonflow_error_free(err_);                                                                             \
    } while (0)

static void assert_live_content(wf_fixture *f, const char *name, const char *want_id, const char *want_content)
{
    char id[64], content[64];
    branch_id_by_name(f->s, name, id, sizeof(id));
    assert_string_equal(id, want_id);
    content_of(f->s, id, content, sizeof(content));
    assert_string_equal(content, want_content);
}

/* promote r1, a write to production, rollback r1: not "holds snapshot ... again" */
static void test_promote_then_rollback_same_id(void **state)
{
    wf_fixture *f = *state;
    promote_ok(f, "r1");
    char prod[64];
    branch_id_by_name(f->s, "production", prod, sizeof(prod));
    assert_int_equal(emu_write(f->s, PROJECT, prod, "written-after-promote", NULL), 0);
    EXPECT_MISMATCH(f, neonflow_rollback(&r_, f->c, f->ro, NULL, &err_), "r1");
    assert_live_content(f, "production", prod, "written-after-promote");
    /* the dry run says so too */
    neonflow_run_options_set_dry_run(f->ro, 1);
    EXPECT_MISMATCH(f, neonflow_rollback(&r_, f->c, f->ro, NULL, &err_), "r1");
}

/* rollback r1, then promote r1 */
static void test_rollback_then_promote_same_id(void **state)
{
    wf_fixture *f = *state;
    promote_ok(f, "p0");
    set_run(f, "r1");
    neonflow_report *r = NULL;
    RUN_OK(neonflow_rollback(&r, f->c, f->ro, NULL, &err_));
    neonflow_report_free(r);
    char prod[64];
    branch_id_by_name(f->s, "production", prod, sizeof(prod));
    assert_int_equal(emu_write(f->s, PROJECT, prod, "written-after-rollback", NULL), 0);
    EXPECT_MISMATCH(f, neonflow_promote(&r_, f->c, f->ro, NULL, &err_), "r1");
    assert_live_content(f, "production", prod, "written-after-rollback");
}

/* promote r1, then refresh r1 (another workflow and another target) */
static void test_promote_then_refresh_same_id(void **state)
{
    wf_fixture *f = *state;
    promote_ok(f, "r1");
    EXPECT_MISMATCH(f, neonflow_refresh(&r_, f->c, f->ro, NULL, &err_), "r1");
    assert_live_content(f, "dev", f->dev_id, "dev-v1");
}

/* an interrupted promote r1 is not continued by a refresh or rollback either */
static void test_interrupted_promote_not_resumed_by_others(void **state)
{
    wf_fixture *f = *state;
    set_run(f, "r1");
    neonflow__workflow_set_interrupt_after(3); /* candidate and preview exist */
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, NULL, NULL), NEONFLOW_ECANCELLED);
    neonflow__workflow_set_interrupt_after(0);
    neonflow_report_free(r);
    EXPECT_MISMATCH(f, neonflow_rollback(&r_, f->c, f->ro, NULL, &err_), "r1");
    EXPECT_MISMATCH(f, neonflow_refresh(&r_, f->c, f->ro, NULL, &err_), "r1");
    assert_live_content(f, "production", f->prod_id, "prod-v1");
    /* and the promotion itself still resumes */
    RUN_OK(neonflow_promote(&r, f->c, f->ro, NULL, &err_));
    neonflow_report_free(r);
}

/* the same run id with another target */
/* A promotion stopped before or after its switch resumes after another run
 * switched its source (a refresh of dev): the source is the same by name,
 * its old branch now a backup. The soak campaign found every such resume
 * refused with ERUN_MISMATCH and "Nothing was changed" after a switch. */
static void test_resume_after_source_switched(void **state)
{
    wf_fixture *f = *state;
    const int stops[2] = {3, 6}; /* after the preview exists; right after finalize */
    for (int i = 0; i < 2; i++) {
        char run[16], dev[64], data[64];
        snprintf(run, sizeof(run), "s%d", i);
        branch_id_by_name(f->s, "dev", dev, sizeof(dev));
        content_of(f->s, dev, data, sizeof(data));
        set_run(f, run);
        neonflow__workflow_set_interrupt_after(stops[i]);
        neonflow_report *r = NULL;
        assert_int_equal(neonflow_promote(&r, f->c, f->ro, NULL, NULL), NEONFLOW_ECANCELLED);
        neonflow__workflow_set_interrupt_after(0);
        neonflow_report_free(r);
        char other[16];
        snprintf(other, sizeof(other), "s%d-refresh", i);
        set_run(f, other);
        RUN_OK(neonflow_refresh(&r, f->c, f->ro, NULL, &err_));
        neonflow_report_free(r);
        set_run(f, run);
        RUN_OK(neonflow_promote(&r, f->c, f->ro, NULL, &err_));
        neonflow_report_free(r);
        char prod[64], now[64];
        branch_id_by_name(f->s, "production", prod, sizeof(prod));
        content_of(f->s, prod, now, sizeof(now));
        assert_string_equal(now, data); /* the candidate taken before the refresh */
        char mark[32];
        snprintf(mark, sizeof(mark), "dev-after-%d", i);
        branch_id_by_name(f->s, "dev", dev, sizeof(dev));
        assert_int_equal(emu_write(f->s, PROJECT, dev, mark, NULL), 0);
    }
}

static void test_same_id_other_target(void **state)
{
    wf_fixture *f = *state;
    char staging[64];
    assert_int_equal(emu_add_branch(f->s, PROJECT, "staging", NULL, 1, staging, NULL), 0);
    assert_int_equal(emu_write(f->s, PROJECT, staging, "staging-v1", NULL), 0);
    promote_ok(f, "r1");
    neonflow_promote_options *o = NULL;
    neonflow_promote_options_new(&o);
    neonflow_promote_options_set_target(o, "staging");
    EXPECT_MISMATCH(f, neonflow_promote(&r_, f->c, f->ro, o, &err_), "r1");
    neonflow_promote_options_free(o);
    assert_live_content(f, "staging", staging, "staging-v1");
    /* and a rollback aimed at it */
    neonflow_rollback_options *ro = NULL;
    neonflow_rollback_options_new(&ro);
    neonflow_rollback_options_set_target(ro, "staging");
    EXPECT_MISMATCH(f, neonflow_rollback(&r_, f->c, f->ro, ro, &err_), "r1");
    neonflow_rollback_options_free(ro);
    assert_live_content(f, "staging", staging, "staging-v1");
}

/* setup r1, then promote r1 (and the other way round) */
static void test_setup_then_promote_same_id(void **state)
{
    (void)state;
    wf_fixture *f = fixture_new(0, 0);
    set_run(f, "r1");
    neonflow_report *r = NULL;
    RUN_OK(neonflow_setup(&r, f->c, f->ro, NULL, &err_));
    neonflow_report_free(r);
    EXPECT_MISMATCH(f, neonflow_promote(&r_, f->c, f->ro, NULL, &err_), "r1");
    assert_live_content(f, "production", f->prod_id, "prod-v1");
    set_run(f, "r2");
    RUN_OK(neonflow_promote(&r, f->c, f->ro, NULL, &err_));
    neonflow_report_free(r);
    neonflow_setup_options *so = NULL;
    neonflow_setup_options_new(&so);
    neonflow_setup_options_set_dev_name(so, "dev-b");
    EXPECT_MISMATCH(f, neonflow_setup(&r_, f->c, f->ro, so, &err_), "r2");
    neonflow_setup_options_free(so);
    char devb[64];
    branch_id_by_name(f->s, "dev-b", devb, sizeof(devb));
    assert_string_equal(devb, "");
    fixture_free(f);
}

/* A rollback resumed with another snapshot is another run. */
static void test_rollback_other_snapshot(void **state)
{
    wf_fixture *f = *state;
    promote_ok(f, "p0");
    promote_ok(f, "p1");
    set_run(f, "r1");
    neonflow__workflow_set_interrupt_after(3); /* pre-rollback snapshot and preview exist */
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_rollback(&r, f->c, f->ro, NULL, NULL), NEONFLOW_ECANCELLED);
    neonflow__workflow_set_interrupt_after(0);
    const char *restored = neonflow_report_candidate_snapshot_id(r);
    /* the other rollback point, not the one the run restores */
    char p0_rb[64] = "";
    json_t *p = project_state(f->s);
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(p, "snapshots"), i, x) {
        const char *id = json_string_value(json_object_get(x, "id"));
        if (neonflow__name_matches(json_string_value(json_object_get(x, "name")), "production", "rollback", NULL) &&
            strcmp(id, restored) != 0)
            snprintf(p0_rb, sizeof(p0_rb), "%s", id);
    }
    json_decref(p);
    assert_string_not_equal(p0_rb, "");
    assert_string_not_equal(p0_rb, restored);
    neonflow_report_free(r);
    neonflow_rollback_options *ro = NULL;
    neonflow_rollback_options_new(&ro);
    neonflow_rollback_options_set_snapshot_id(ro, p0_rb);
    EXPECT_MISMATCH(f, neonflow_rollback(&r_, f->c, f->ro, ro, &err_), "r1");
    neonflow_rollback_options_free(ro);
}

/* Only the backup is left (snapshots pruned): still attributable to promote. */
static void test_backup_only_left(void **state)
{
    wf_fixture *f = *state;
    promote_ok(f, "r1");
    neonflow_snapshot_list *l = NULL;
    RUN_OK(neonflow_snapshots_list(&l, f->c, PROJECT, NULL, &err_));
    for (size_t i = 0; i < neonflow_snapshot_list_count(l); i++)
        RUN_OK(neonflow_snapshot_delete(NULL, f->c, PROJECT, neonflow_snapshot_id(neonflow_snapshot_list_at(l, i)), NULL,
                                        &err_));
    neonflow_snapshot_list_free(l);
    EXPECT_MISMATCH(f, neonflow_rollback(&r_, f->c, f->ro, NULL, &err_), "r1");
    EXPECT_MISMATCH(f, neonflow_refresh(&r_, f->c, f->ro, NULL, &err_), "r1");
    /* promote r1 cannot check its source any more: refused, not a blind "done" */
    EXPECT_MISMATCH(f, neonflow_promote(&r_, f->c, f->ro, NULL, &err_), "r1");
}

/* ---- neonflow 0.1.0 names: preview/backup shared by promote, refresh and rollback ---------------------- */
#define STAMP "20250101T000000Z"

/* What a 0.1.0 rollback run `run` left: restored `snap` as nf/production/preview/.. and finalized it
 * with the old production kept as nf/production/backup/... */
static void legacy_switch(wf_fixture *f, const char *snap, const char *run)
{
    char pv[300], bk[300], prod[64];
    snprintf(pv, sizeof(pv), "nf/production/preview/" STAMP "/%s", run);
    snprintf(bk, sizeof(bk), "nf/production/backup/" STAMP "/%s", run);
    branch_id_by_name(f->s, "production", prod, sizeof(prod));
    neonflow_snapshot_restore_options *o = NULL;
    neonflow_snapshot_restore_options_new(&o);
    neonflow_snapshot_restore_options_set_name(o, pv);
    neonflow_snapshot_restore_options_set_target_branch_id(o, prod);
    neonflow_branch_result *res = NULL;
    RUN_OK(neonflow_snapshot_restore(&res, f->c, PROJECT, snap, o, NULL, &err_));
    neonflow_snapshot_restore_options_free(o);
    char nid[64];
    snprintf(nid, sizeof(nid), "%s", neonflow_branch_id(neonflow_branch_result_branch(res)));
    neonflow_branch_result_free(res);
    RUN_OK(neonflow_branch_finalize_restore(NULL, f->c, PROJECT, nid, bk, NULL, &err_));
}

static const char *snapshot_named(wf_fixture *f, const char *target, const char *kind, const char *run, char *out,
                                  size_t len)
{
    out[0] = '\0';
    json_t *p = project_state(f->s);
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(p, "snapshots"), i, x) {
        if (neonflow__name_matches(json_string_value(json_object_get(x, "name")), target, kind, run))
            snprintf(out, len, "%s", json_string_value(json_object_get(x, "id")));
    }
    json_decref(p);
    return out;
}

static void test_legacy_rollback_names(void **state)
{
    wf_fixture *f = *state;
    promote_ok(f, "p0");
    char rb[64];
    snapshot_named(f, "production", "rollback", "p0", rb, sizeof(rb));
    legacy_switch(f, rb, "old1"); /* a finished 0.1.0 rollback */
    /* a promotion with its id would have claimed "done" */
    set_run(f, "old1");
    EXPECT_MISMATCH(f, neonflow_promote(&r_, f->c, f->ro, NULL, &err_), "old1");
    /* the rollback itself is recognised as finished */
    neonflow_report *r = NULL;
    emu_counters_reset(f->s);
    RUN_OK(neonflow_rollback(&r, f->c, f->ro, NULL, &err_));
    assert_int_equal(mutating_requests(f->s), LEASE_REQUESTS); /* only its lease */
    assert_int_equal(neonflow_step_status(step_named(r, "finalize")), NEONFLOW_STEP_RESUMED);
    neonflow_report_free(r);
    /* backups list still classifies the 0.1.0 backup as a backup */
    r = NULL;
    RUN_OK(neonflow_backups_list(&r, f->c, f->ro, NULL, &err_));
    int legacy = 0, current = 0;
    for (size_t i = 0; i < neonflow_report_step_count(r); i++) {
        const neonflow_step *st = neonflow_report_step_at(r, i);
        for (size_t k = 0; k < neonflow_step_resource_count(st); k++) {
            const neonflow_resource *x = neonflow_step_resource_at(st, k);
            if (neonflow_resource_kind(x) != NEONFLOW_RESOURCE_BRANCH)
                continue;
            assert_string_equal(neonflow_resource_role(x), "backup");
            assert_string_equal(neonflow_resource_target(x), "production");
            legacy += neonflow__name_matches(neonflow_resource_name(x), "production", "backup", "old1");
            current += neonflow__name_matches(neonflow_resource_name(x), "production", "promote-backup", "p0");
        }
    }
    assert_int_equal(legacy, 1);
    assert_int_equal(current, 1);
    neonflow_report_free(r);
}

static void test_legacy_names_without_evidence(void **state)
{
    wf_fixture *f = *state;
    promote_ok(f, "p0");
    char rb[64];
    snapshot_named(f, "production", "rollback", "p0", rb, sizeof(rb));
    legacy_switch(f, rb, "old2");
    RUN_OK(neonflow_snapshot_delete(NULL, f->c, PROJECT, rb, NULL, &err_));
    /* nothing tells which workflow made nf/production/backup/.../old2 any more */
    set_run(f, "old2");
    EXPECT_MISMATCH(f, neonflow_promote(&r_, f->c, f->ro, NULL, &err_), "old2");
    EXPECT_MISMATCH(f, neonflow_rollback(&r_, f->c, f->ro, NULL, &err_), "old2");
}

/* ---- the lost-write window's end ------------------------------------------------------------------------- */
/* The emulator's own record: when the last operation on endpoint ep (on
 * either branch of the switch) finished, in ms (rounded down). */
static int64_t emu_switch_done_ms(wf_fixture *f, const char *ep, const char *new_id, const char *old_id)
{
    json_t *p = project_state(f->s);
    size_t i;
    json_t *x;
    int64_t best = 0;
    json_array_foreach(json_object_get(p, "operations"), i, x) {
        const char *e = json_string_value(json_object_get(x, "endpoint_id"));
        const char *b = json_string_value(json_object_get(x, "branch_id"));
        const char *fin = json_string_value(json_object_get(x, "finished_at_us"));
        if (!e || !b || strcmp(e, ep) != 0 || (strcmp(b, new_id) != 0 && strcmp(b, old_id) != 0))
            continue;
        assert_non_null(fin); /* terminal by now */
        int64_t ms = 0;
        assert_int_equal(neonflow__rfc3339_ms(fin, &ms), 0);
        if (ms > best)
            best = ms;
    }
    json_decref(p);
    assert_true(best > 0);
    return best;
}

static void check_window(wf_fixture *f, const neonflow_report *r)
{
    char live[64];
    branch_id_by_name(f->s, "production", live, sizeof(live));
    int64_t done = emu_switch_done_ms(f, f->prod_ep, live, f->prod_id);
    int64_t end = neonflow_report_lost_writes_end_ms(r);
    if (end < done)
        fail_msg("lost_writes_end %s (%lld) is %lld ms before the switch", neonflow_report_lost_writes_end(r),
                 (long long)end, (long long)(done - end));
    int64_t parsed = 0;
    assert_int_equal(neonflow__rfc3339_ms(neonflow_report_lost_writes_end(r), &parsed), 0);
    assert_true(parsed >= done);
    assert_string_equal(neonflow_report_lost_writes_end_source(r), "finalize-operations");
}

static void test_window_end_after_resume(void **state)
{
    (void)state;
    static const int64_t durations[] = {30, 120, 250, 60, 400};
    for (size_t t = 0; t < sizeof(durations) / sizeof(durations[0]); t++) {
        wf_fixture *f = fixture_new(durations[t], 1);
        set_run(f, "lw-resume");
        neonflow__workflow_set_interrupt_after(6); /* right after finalize */
        neonflow_report *r = NULL;
        assert_int_equal(neonflow_promote(&r, f->c, f->ro, NULL, NULL), NEONFLOW_ECANCELLED);
        neonflow__workflow_set_interrupt_after(0);
        neonflow_report_free(r);
        r = NULL;
        RUN_OK(neonflow_promote(&r, f->c, f->ro, NULL, &err_));
        assert_int_equal(neonflow_step_status(step_named(r, "finalize")), NEONFLOW_STEP_RESUMED);
        check_window(f, r);
        neonflow_report_free(r);
        fixture_free(f);
    }
}

static void test_window_end_fresh_run(void **state)
{
    (void)state;
    wf_fixture *f = fixture_new(80, 1);
    set_run(f, "lw-fresh");
    neonflow_report *r = NULL;
    RUN_OK(neonflow_promote(&r, f->c, f->ro, NULL, &err_));
    check_window(f, r);
    char *json = NULL;
    RUN_OK(neonflow_report_to_json(&json, r, 0, &err_));
    assert_non_null(strstr(json, "\"end_source\": \"finalize-operations\""));
    neonflow_free(json);
    neonflow_report_free(r);
    fixture_free(f);
}

/* A target without an endpoint: the switch is the rename (the backup's updated_at, rounded up). */
static void test_window_end_without_endpoint(void **state)
{
    (void)state;
    wf_fixture *f = fixture_new(0, 0);
    char dev[64];
    assert_int_equal(emu_add_branch(f->s, PROJECT, "dev", NULL, 0, dev, NULL), 0);
    set_run(f, "lw-noep");
    neonflow__workflow_set_interrupt_after(4); /* refresh: right after finalize */
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_refresh(&r, f->c, f->ro, NULL, NULL), NEONFLOW_ECANCELLED);
    neonflow__workflow_set_interrupt_after(0);
    neonflow_report_free(r);
    r = NULL;
    RUN_OK(neonflow_refresh(&r, f->c, f->ro, NULL, &err_));
    assert_string_equal(neonflow_report_lost_writes_end_source(r), "backup-renamed");
    /* the emulator gives the rename time in whole seconds: the end is the last ms of that second */
    char bk[64], upd[64];
    branch_id_by_name(f->s, neonflow_report_backup_branch_name(r), bk, sizeof(bk));
    assert_string_equal(bk, dev);
    state_lookup(f->s, "branches", "id", dev, "updated_at", upd, sizeof(upd));
    int64_t renamed = 0;
    assert_int_equal(neonflow__rfc3339_ms(upd, &renamed), 0);
    assert_int_equal(neonflow_report_lost_writes_end_ms(r), renamed / 1000 * 1000 + 999);
    neonflow_report_free(r);
    fixture_free(f);
}

/* Times are rounded up to what they can stand for, never down. */
static void test_time_upper_bound(void **state)
{
    (void)state;
    int64_t base = 0;
    assert_int_equal(neonflow__rfc3339_ms("2026-12-01T15:06:45Z", &base), 0);
    assert_int_equal(neonflow__time_upper_ms("2026-12-01T15:06:45Z"), base + 999);
    assert_int_equal(neonflow__time_upper_ms("2026-12-01T15:06:45.5Z"), base + 599);
    assert_int_equal(neonflow__time_upper_ms("2026-12-01T15:06:45.12Z"), base + 129);
    assert_int_equal(neonflow__time_upper_ms("2026-12-01T15:06:45.123Z"), base + 123);
    assert_int_equal(neonflow__time_upper_ms("2026-12-01T15:06:45.123000Z"), base + 123);
    assert_int_equal(neonflow__time_upper_ms("2026-12-01T15:06:45.123001Z"), base + 124);
    assert_int_equal(neonflow__time_upper_ms("not a time"), 0);
    assert_int_equal(neonflow__time_upper_ms(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_promote_then_rollback_same_id, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_rollback_then_promote_same_id, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_promote_then_refresh_same_id, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_interrupted_promote_not_resumed_by_others, setup_instant,
                                        teardown_fixture),
        cmocka_unit_test_setup_teardown(test_same_id_other_target, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_resume_after_source_switched, setup_instant, teardown_fixture),
        cmocka_unit_test(test_setup_then_promote_same_id),
        cmocka_unit_test_setup_teardown(test_rollback_other_snapshot, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_backup_only_left, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_legacy_rollback_names, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_legacy_names_without_evidence, setup_instant, teardown_fixture),
        cmocka_unit_test(test_window_end_after_resume),
        cmocka_unit_test(test_window_end_fresh_run),
        cmocka_unit_test(test_window_end_without_endpoint),
        cmocka_unit_test(test_time_upper_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
