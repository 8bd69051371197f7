/* neonflow_setup, neonflow_refresh, neonflow_rollback, neonflow_backups_list and
 * neonflow_prune against the emulator. */
#include "test_workflow_common.h"

static int setup_no_dev(void **state)
{
    *state = fixture_new(0, 0);
    return 0;
}

static void set_run(wf_fixture *f, const char *id)
{
    assert_int_equal(neonflow_run_options_set_run_id(f->ro, id), NEONFLOW_OK);
}

/* ---- setup ------------------------------------------------------------------------- */
static void test_setup_creates_dev(void **state)
{
    wf_fixture *f = *state;
    neonflow_report *r = NULL;
    RUN_OK(neonflow_setup(&r, f->c, f->ro, NULL, &err_));
    char dev[64], content[64], epb[64];
    branch_id_by_name(f->s, "dev", dev, sizeof(dev));
    assert_string_equal(dev, neonflow_report_target_branch_id(r));
    content_of(f->s, dev, content, sizeof(content));
    assert_string_equal(content, "prod-v1");
    /* dev has its own read-write endpoint; prod keeps its own */
    const char *ep = neonflow_report_target_endpoint_id(r);
    assert_string_not_equal(ep, "");
    assert_string_not_equal(ep, f->prod_ep);
    endpoint_branch(f->s, ep, epb, sizeof(epb));
    assert_string_equal(epb, dev);
    endpoint_branch(f->s, f->prod_ep, epb, sizeof(epb));
    assert_string_equal(epb, f->prod_id);
    assert_int_equal(count_kind(f->s, "snapshots", "setup"), 1);
    assert_int_equal(emu_count_branches(f->s, PROJECT), 2);
    neonflow_report_free(r);

    /* a second setup changes nothing */
    set_run(f, "again");
    emu_counters_reset(f->s);
    RUN_OK(neonflow_setup(&r, f->c, f->ro, NULL, &err_));
    assert_int_equal(mutating_requests(f->s), LEASE_REQUESTS); /* the lease on "dev" only */
    assert_int_equal(lease_branches_in(f->s, PROJECT), 0);
    assert_non_null(strstr(neonflow_report_message(r), "Already set up"));
    assert_int_equal(neonflow_step_status(step_named(r, "restore-dev")), NEONFLOW_STEP_SKIPPED);
    neonflow_report_free(r);

    /* then develop and promote: prod gets dev's data, divergence is the setup snapshot */
    assert_int_equal(emu_write(f->s, PROJECT, dev, "dev-v2", NULL), 0);
    set_run(f, "promo");
    RUN_OK(neonflow_promote(&r, f->c, f->ro, NULL, &err_));
    content_of(f->s, neonflow_report_target_branch_id(r), content, sizeof(content));
    assert_string_equal(content, "dev-v2");
    assert_string_not_equal(neonflow_report_divergence_start(r), "");
    assert_string_equal(neonflow_report_target_endpoint_id(r), f->prod_ep);
    neonflow_report_free(r);
}

static void test_setup_errors_and_veto(void **state)
{
    wf_fixture *f = *state;
    char child[64];
    neonflow_setup_options *o = NULL;
    assert_int_equal(neonflow_setup_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_setup_options_set_dev_name(o, "nf/bad"), NEONFLOW_EINVAL);
    assert_int_equal(emu_add_branch(f->s, PROJECT, "dev", f->prod_id, 0, child, NULL), 0);
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_setup(&r, f->c, f->ro, o, NULL), NEONFLOW_ENOT_ROOT);
    neonflow_report_free(r);
    neonflow_setup_options_set_source(o, "missing");
    neonflow_setup_options_set_dev_name(o, "dev2");
    assert_int_equal(neonflow_setup(&r, f->c, f->ro, o, NULL), NEONFLOW_EBRANCH_MISSING);
    neonflow_report_free(r);
    neonflow_setup_options_free(o);
}

static int veto_restore_dev(const neonflow_step *st, void *payload)
{
    (void)payload;
    return strcmp(neonflow_step_name(st), "restore-dev") == 0;
}

static void test_setup_gate_veto(void **state)
{
    wf_fixture *f = *state;
    neonflow_run_options_set_gate_hook(f->ro, veto_restore_dev, NULL, NULL);
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_setup(&r, f->c, f->ro, NULL, NULL), NEONFLOW_ECALLBACK);
    assert_int_equal(neonflow_step_status(step_named(r, "snapshot-source")), NEONFLOW_STEP_UNDONE);
    assert_int_equal(emu_count_snapshots(f->s, PROJECT), 0);
    assert_int_equal(emu_count_branches(f->s, PROJECT), 1);
    neonflow_report_free(r);
}

/* ---- refresh ---------------------------------------------------------------------------- */
static void test_refresh(void **state)
{
    wf_fixture *f = *state;
    assert_int_equal(emu_write(f->s, PROJECT, f->prod_id, "prod-v2", NULL), 0);
    neonflow_report *r = NULL;
    RUN_OK(neonflow_refresh(&r, f->c, f->ro, NULL, &err_));
    char dev[64], content[64], epb[64];
    branch_id_by_name(f->s, "dev", dev, sizeof(dev));
    assert_string_equal(dev, neonflow_report_target_branch_id(r));
    assert_string_not_equal(dev, f->dev_id);
    content_of(f->s, dev, content, sizeof(content));
    assert_string_equal(content, "prod-v2");
    endpoint_branch(f->s, f->dev_ep, epb, sizeof(epb));
    assert_string_equal(epb, dev);
    assert_true(neonflow__name_matches(neonflow_report_backup_branch_name(r), "dev", "refresh-backup", NULL));
    content_of(f->s, f->dev_id, content, sizeof(content));
    assert_string_equal(content, "dev-v1");
    assert_int_equal(count_kind(f->s, "snapshots", "refresh"), 1);
    /* prod untouched */
    branch_id_by_name(f->s, "production", epb, sizeof(epb));
    assert_string_equal(epb, f->prod_id);
    neonflow_report_free(r);

    /* with delete_backup the replaced dev goes away */
    neonflow_refresh_options *o = NULL;
    neonflow_refresh_options_new(&o);
    neonflow_refresh_options_set_delete_backup(o, 1);
    set_run(f, "refresh-2");
    int before = emu_count_branches(f->s, PROJECT);
    RUN_OK(neonflow_refresh(&r, f->c, f->ro, o, &err_));
    assert_int_equal(emu_count_branches(f->s, PROJECT), before);
    assert_int_equal(neonflow_step_status(step_named(r, "delete-backup")), NEONFLOW_STEP_DONE);
    neonflow_report_free(r);
    neonflow_refresh_options_free(o);
}

/* ---- rollback ------------------------------------------------------------------------------ */
static void test_rollback_after_promote(void **state)
{
    wf_fixture *f = *state;
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    /* nothing to roll back to yet */
    assert_int_equal(neonflow_rollback(&r, f->c, f->ro, NULL, &err), NEONFLOW_ENO_ROLLBACK);
    assert_non_null(strstr(neonflow_error_message(err), "rollback point"));
    neonflow_error_free(err);
    neonflow_report_free(r);

    set_run(f, "promo");
    RUN_OK(neonflow_promote(&r, f->c, f->ro, NULL, &err_));
    char rb[64];
    snprintf(rb, sizeof(rb), "%s", neonflow_report_rollback_snapshot_id(r));
    neonflow_report_free(r);
    char content[64], live[64], epb[64];
    branch_id_by_name(f->s, "production", live, sizeof(live));
    content_of(f->s, live, content, sizeof(content));
    assert_string_equal(content, "dev-v1");

    set_run(f, "undo");
    RUN_OK(neonflow_rollback(&r, f->c, f->ro, NULL, &err_));
    assert_string_equal(neonflow_report_candidate_snapshot_id(r), rb);
    branch_id_by_name(f->s, "production", live, sizeof(live));
    assert_string_equal(live, neonflow_report_target_branch_id(r));
    content_of(f->s, live, content, sizeof(content));
    assert_string_equal(content, "prod-v1");
    endpoint_branch(f->s, f->prod_ep, epb, sizeof(epb));
    assert_string_equal(epb, live);
    assert_int_equal(count_kind(f->s, "snapshots", "pre-rollback"), 1);
    assert_string_not_equal(neonflow_report_rollback_snapshot_id(r), "");
    neonflow_report_free(r);

    /* roll back the rollback: an explicit snapshot, without a pre-rollback snapshot */
    neonflow_rollback_options *o = NULL;
    neonflow_rollback_options_new(&o);
    char pre[64];
    json_t *p = project_state(f->s);
    size_t i;
    json_t *s;
    pre[0] = '\0';
    json_array_foreach(json_object_get(p, "snapshots"), i, s) {
        if (neonflow__name_matches(json_string_value(json_object_get(s, "name")), "production", "pre-rollback",
                                   NULL))
            snprintf(pre, sizeof(pre), "%s", json_string_value(json_object_get(s, "id")));
    }
    json_decref(p);
    neonflow_rollback_options_set_snapshot_id(o, pre);
    neonflow_rollback_options_set_snapshot_first(o, 0);
    set_run(f, "redo");
    RUN_OK(neonflow_rollback(&r, f->c, f->ro, o, &err_));
    branch_id_by_name(f->s, "production", live, sizeof(live));
    content_of(f->s, live, content, sizeof(content));
    assert_string_equal(content, "dev-v1");
    assert_int_equal(count_kind(f->s, "snapshots", "pre-rollback"), 1);
    assert_null(step_named(r, "snapshot-pre-rollback"));
    neonflow_report_free(r);
    neonflow_rollback_options_set_snapshot_id(o, "snap-missing-1");
    set_run(f, "gone");
    assert_int_equal(neonflow_rollback(&r, f->c, f->ro, o, NULL), NEONFLOW_ENO_ROLLBACK);
    neonflow_report_free(r);
    neonflow_rollback_options_free(o);
}

/* ---- backups and prune -------------------------------------------------------------------------- */
static void promote_n(wf_fixture *f, int n)
{
    for (int i = 0; i < n; i++) {
        char run[32], data[32];
        snprintf(run, sizeof(run), "p%d", i);
        snprintf(data, sizeof(data), "dev-%d", i);
        assert_int_equal(emu_write(f->s, PROJECT, f->dev_id, data, NULL), 0);
        set_run(f, run);
        neonflow_report *r = NULL;
        RUN_OK(neonflow_promote(&r, f->c, f->ro, NULL, &err_));
        neonflow_report_free(r);
    }
}

static size_t count_res(const neonflow_step *st, int32_t kind, int32_t action, const char *role)
{
    size_t n = 0;
    for (size_t i = 0; i < neonflow_step_resource_count(st); i++) {
        const neonflow_resource *x = neonflow_step_resource_at(st, i);
        if (neonflow_resource_kind(x) == kind && neonflow_resource_action(x) == action &&
            (!role || strcmp(neonflow_resource_role(x), role) == 0))
            n++;
    }
    return n;
}

static void test_backups_list(void **state)
{
    wf_fixture *f = *state;
    promote_n(f, 3);
    /* a backup left by a plain finalized restore: "dev (old)" */
    neonflow_snapshot *snap = NULL;
    neonflow_operation_list *ops = NULL;
    RUN_OK(neonflow_snapshot_create(&snap, &ops, f->c, PROJECT, f->prod_id, NULL, NULL, &err_));
    neonflow_operation_list_free(ops);
    neonflow_snapshot_restore_options *ro = NULL;
    neonflow_snapshot_restore_options_new(&ro);
    neonflow_snapshot_restore_options_set_target_branch_id(ro, f->dev_id);
    neonflow_snapshot_restore_options_set_finalize(ro, 1);
    neonflow_branch_result *res = NULL;
    RUN_OK(neonflow_snapshot_restore(&res, f->c, PROJECT, neonflow_snapshot_id(snap), ro, NULL, &err_));
    neonflow_branch_result_free(res);
    neonflow_snapshot_restore_options_free(ro);
    neonflow_snapshot_free(snap);

    emu_counters_reset(f->s);
    neonflow_report *r = NULL;
    RUN_OK(neonflow_backups_list(&r, f->c, f->ro, NULL, &err_));
    assert_int_equal(mutating_requests(f->s), 0);
    const neonflow_step *st = neonflow_report_step_at(r, 0);
    assert_int_equal(count_res(st, NEONFLOW_RESOURCE_BRANCH, NEONFLOW_ACTION_KEEP, NULL), 4);
    assert_int_equal(count_res(st, NEONFLOW_RESOURCE_SNAPSHOT, NEONFLOW_ACTION_KEEP, "candidate"), 3);
    assert_int_equal(count_res(st, NEONFLOW_RESOURCE_SNAPSHOT, NEONFLOW_ACTION_KEEP, "rollback"), 3);
    int old_seen = 0;
    for (size_t i = 0; i < neonflow_step_resource_count(st); i++) {
        const neonflow_resource *x = neonflow_step_resource_at(st, i);
        if (neonflow_resource_kind(x) != NEONFLOW_RESOURCE_BRANCH)
            continue;
        assert_string_not_equal(neonflow_resource_replaced_by(x), "");
        assert_true(neonflow_resource_created_at_ms(x) > 0);
        if (strcmp(neonflow_resource_name(x), "dev (old)") == 0) {
            old_seen = 1;
            assert_string_equal(neonflow_resource_target(x), "dev");
        } else {
            assert_string_equal(neonflow_resource_target(x), "production");
            assert_string_not_equal(neonflow_resource_run_id(x), "");
        }
    }
    assert_true(old_seen);
    neonflow_report_free(r);

    /* filters: one target, one kind, one half, one run, an age */
    neonflow_backups_list_options *o = NULL;
    assert_int_equal(neonflow_backups_list_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_backups_list_options_set_target(o, "dev"), NEONFLOW_OK);
    RUN_OK(neonflow_backups_list(&r, f->c, f->ro, o, &err_));
    st = neonflow_report_step_at(r, 0);
    assert_int_equal(neonflow_step_resource_count(st), 1);
    assert_string_equal(neonflow_resource_name(neonflow_step_resource_at(st, 0)), "dev (old)");
    neonflow_report_free(r);
    assert_int_equal(neonflow_backups_list_options_set_target(o, "production"), NEONFLOW_OK);
    assert_int_equal(neonflow_backups_list_options_set_kind(o, "rollback"), NEONFLOW_OK);
    RUN_OK(neonflow_backups_list(&r, f->c, f->ro, o, &err_));
    st = neonflow_report_step_at(r, 0);
    assert_int_equal(neonflow_step_resource_count(st), 3);
    assert_int_equal(count_res(st, NEONFLOW_RESOURCE_SNAPSHOT, NEONFLOW_ACTION_KEEP, "rollback"), 3);
    char run_id[64];
    snprintf(run_id, sizeof(run_id), "%s", neonflow_resource_run_id(neonflow_step_resource_at(st, 0)));
    neonflow_report_free(r);
    assert_int_equal(neonflow_backups_list_options_set_kind(o, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_backups_list_options_set_snapshots(o, 0), NEONFLOW_OK);
    RUN_OK(neonflow_backups_list(&r, f->c, f->ro, o, &err_));
    st = neonflow_report_step_at(r, 0);
    assert_int_equal(count_res(st, NEONFLOW_RESOURCE_BRANCH, NEONFLOW_ACTION_KEEP, NULL), 3);
    assert_int_equal(neonflow_step_resource_count(st), 3);
    neonflow_report_free(r);
    assert_int_equal(neonflow_backups_list_options_set_snapshots(o, 1), NEONFLOW_OK);
    assert_int_equal(neonflow_backups_list_options_set_branches(o, 0), NEONFLOW_OK);
    assert_int_equal(neonflow_backups_list_options_set_run_id(o, run_id), NEONFLOW_OK);
    RUN_OK(neonflow_backups_list(&r, f->c, f->ro, o, &err_));
    st = neonflow_report_step_at(r, 0);
    assert_true(neonflow_step_resource_count(st) >= 1);
    for (size_t i = 0; i < neonflow_step_resource_count(st); i++)
        assert_string_equal(neonflow_resource_run_id(neonflow_step_resource_at(st, i)), run_id);
    neonflow_report_free(r);
    assert_int_equal(neonflow_backups_list_options_set_run_id(o, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_backups_list_options_set_older_than_s(o, 86400), NEONFLOW_OK);
    RUN_OK(neonflow_backups_list(&r, f->c, f->ro, o, &err_));
    assert_int_equal(neonflow_step_resource_count(neonflow_report_step_at(r, 0)), 0);
    neonflow_report_free(r);
    assert_int_equal(neonflow_backups_list_options_set_kind(o, "Not A Kind"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_backups_list_options_set_older_than_s(o, -1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_backups_list_options_set_run_id(o, "bad run id"), NEONFLOW_EINVAL);
    neonflow_backups_list_options_free(o);
}

static void test_prune(void **state)
{
    wf_fixture *f = *state;
    promote_n(f, 4);
    int branches = emu_count_branches(f->s, PROJECT); /* prod, dev, 4 backups */
    assert_int_equal(branches, 6);
    /* protect the oldest backup: prune must leave it */
    char oldest[64];
    branch_id_by_name(f->s, "production", oldest, sizeof(oldest));
    {
        json_t *p = project_state(f->s);
        size_t i;
        json_t *b;
        json_array_foreach(json_object_get(p, "branches"), i, b) {
            if (neonflow__name_matches(json_string_value(json_object_get(b, "name")), "production", "promote-backup", "p0"))
                snprintf(oldest, sizeof(oldest), "%s", json_string_value(json_object_get(b, "id")));
        }
        json_decref(p);
    }
    assert_string_equal(oldest, f->prod_id);
    neonflow_branch_update_options *uo = NULL;
    neonflow_branch_update_options_new(&uo);
    neonflow_branch_update_options_set_protected(uo, 1);
    RUN_OK(neonflow_branch_update(NULL, NULL, f->c, PROJECT, oldest, uo, NULL, &err_));
    neonflow_branch_update_options_free(uo);

    neonflow_prune_options *o = NULL;
    neonflow_prune_options_new(&o);
    neonflow_prune_options_set_keep_newest(o, 1);
    /* dry run: the plan, no mutation */
    neonflow_run_options_set_dry_run(f->ro, 1);
    set_run(f, "prune-plan");
    emu_counters_reset(f->s);
    neonflow_report *r = NULL;
    RUN_OK(neonflow_prune(&r, f->c, f->ro, o, &err_));
    assert_int_equal(mutating_requests(f->s), 0);
    size_t planned = neonflow_report_step_count(r) - 1;
    if (getenv("WF_DEBUG")) {
        char *js = NULL;
        neonflow_report_to_json(&js, r, 0, NULL);
        fprintf(stderr, "%s\n", js);
        neonflow_free(js);
    }
    assert_int_equal(planned, 2 + 3 + 3); /* 2 branches (one protected), 3 candidates, 3 rollbacks */
    for (size_t i = 1; i < neonflow_report_step_count(r); i++)
        assert_int_equal(neonflow_step_status(neonflow_report_step_at(r, i)), NEONFLOW_STEP_PLANNED);
    neonflow_report_free(r);

    neonflow_run_options_set_dry_run(f->ro, 0);
    set_run(f, "prune-1");
    RUN_OK(neonflow_prune(&r, f->c, f->ro, o, &err_));
    neonflow_report_free(r);
    assert_int_equal(emu_count_branches(f->s, PROJECT), 4); /* prod, dev, newest + protected backup */
    assert_int_equal(count_kind(f->s, "snapshots", "candidate"), 1);
    assert_int_equal(count_kind(f->s, "snapshots", "rollback"), 1);
    char id[64];
    branch_id_by_name(f->s, "production", id, sizeof(id));
    assert_string_not_equal(id, "");
    branch_id_by_name(f->s, "dev", id, sizeof(id));
    assert_string_equal(id, f->dev_id);
    /* nothing left to prune */
    set_run(f, "prune-2");
    emu_counters_reset(f->s);
    RUN_OK(neonflow_prune(&r, f->c, f->ro, o, &err_));
    if (getenv("WF_DEBUG")) {
        char *js = NULL;
        neonflow_report_to_json(&js, r, 0, NULL);
        fprintf(stderr, "%s\n", js);
        neonflow_free(js);
    }
    assert_int_equal(mutating_requests(f->s), 0);
    neonflow_report_free(r);
    neonflow_prune_options_free(o);
}

static int veto_all(const neonflow_step *st, void *payload)
{
    (void)st;
    (*(int *)payload)++;
    return 1;
}

static void test_prune_gate_and_age(void **state)
{
    wf_fixture *f = *state;
    promote_n(f, 2);
    neonflow_prune_options *o = NULL;
    neonflow_prune_options_new(&o);
    neonflow_prune_options_set_keep_newest(o, 0);
    neonflow_prune_options_set_older_than_s(o, 3600); /* all are younger: nothing */
    neonflow_report *r = NULL;
    emu_counters_reset(f->s);
    RUN_OK(neonflow_prune(&r, f->c, f->ro, o, &err_));
    assert_int_equal(mutating_requests(f->s), 0);
    neonflow_report_free(r);
    neonflow_prune_options_set_older_than_s(o, 0);
    neonflow_prune_options_set_snapshots(o, 0);
    int calls = 0;
    neonflow_run_options_set_gate_hook(f->ro, veto_all, &calls, NULL);
    assert_int_equal(neonflow_prune(&r, f->c, f->ro, o, NULL), NEONFLOW_ECALLBACK);
    assert_int_equal(calls, 1);
    assert_int_equal(mutating_requests(f->s), 0);
    neonflow_report_free(r);
    neonflow_run_options_set_gate_hook(f->ro, NULL, NULL, NULL);
    RUN_OK(neonflow_prune(&r, f->c, f->ro, o, &err_));
    assert_int_equal(emu_count_branches(f->s, PROJECT), 2);
    assert_int_equal(emu_count_snapshots(f->s, PROJECT), 4);
    neonflow_report_free(r);
    neonflow_prune_options_free(o);
}

/* ---- naming ----------------------------------------------------------------------------- */
static void test_naming(void **state)
{
    (void)state;
    char name[300];
    assert_int_equal(neonflow__name_build(name, sizeof(name), "team/prod db", "candidate", "20261124T203808Z", "ab12"),
                     NEONFLOW_OK);
    assert_string_equal(name, "nf/team/prod db/candidate/20261124T203808Z/ab12");
    neonflow__name_parts p;
    assert_true(neonflow__name_parse(name, &p));
    assert_string_equal(p.target, "team/prod db");
    assert_string_equal(p.kind, "candidate");
    assert_string_equal(p.stamp, "20261124T203808Z");
    assert_string_equal(p.run_id, "ab12");
    assert_true(neonflow__name_matches(name, "team/prod db", "candidate", NULL));
    assert_false(neonflow__name_matches(name, "team", NULL, NULL));
    const char *bad[] = {"production", "nf/x/candidate/2026/ab", "nf//candidate/20261124T203808Z/ab",
                         "nf/x/Cand/20261124T203808Z/ab", "nf/x/candidate/20261124T203808Z/AB",
                         "nf/x/candidate/20261124T203808Z/", "xx/x/candidate/20261124T203808Z/ab"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(neonflow__name_parse(bad[i], NULL));
    char longt[260];
    memset(longt, 'a', 250);
    longt[250] = '\0';
    assert_int_equal(neonflow__name_build(name, sizeof(name), longt, "backup", "20261124T203808Z", "ab"),
                     NEONFLOW_EINVAL);
    assert_int_equal(neonflow__stamp_ms("20261124T203808Z"), 1795552688000LL);
    char stamp[17];
    neonflow__stamp_format(1795552688123LL, stamp);
    assert_string_equal(stamp, "20261124T203808Z");
    char base[64];
    assert_true(neonflow__old_name_parse("prod (old)", base, sizeof(base)));
    assert_string_equal(base, "prod");
    assert_true(neonflow__old_name_parse("my db (old 12)", base, sizeof(base)));
    assert_string_equal(base, "my db");
    assert_false(neonflow__old_name_parse("(old)", base, sizeof(base)));
    assert_false(neonflow__old_name_parse("prod (older)", base, sizeof(base)));
    assert_true(neonflow__run_id_valid("a-1"));
    assert_false(neonflow__run_id_valid(""));
    assert_false(neonflow__run_id_valid("a_b"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_naming),
        cmocka_unit_test_setup_teardown(test_setup_creates_dev, setup_no_dev, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_setup_errors_and_veto, setup_no_dev, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_setup_gate_veto, setup_no_dev, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_refresh, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_rollback_after_promote, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_backups_list, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_prune, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_prune_gate_and_age, setup_instant, teardown_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
