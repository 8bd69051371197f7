/* The promotion lease's scope (issue 11 §1): the lock hook replaces it;
 * finalize re-checks the target; setup and prune take it; prune never lists it
 * and keeps a backup that holds a live lease. */
#include "test_lease_common.h"

/* ---- the lock hook ------------------------------------------------------------------ */
static void test_lock_hook_replaces_lease(void **state)
{
    wf_fixture *f = *state;
    lock_rec l = {0};
    lease_log log = {0};
    neonflow_run_options *ro = run_opts("hooked", 0, &log);
    assert_int_equal(neonflow_run_options_set_lock_hook(ro, lock_fn, &l, lock_destroy), NEONFLOW_OK);
    emu_counters_reset(f->s);
    neonflow_report *r = NULL;
    RUN_OK(neonflow_promote(&r, f->c, ro, NULL, &err_));
    neonflow_report_free(r);
    assert_int_equal(l.acquire, 1);
    assert_int_equal(l.release, 1);
    assert_string_equal(l.targets[0], "production");
    assert_string_equal(l.run, "hooked");
    assert_int_equal(l.workflow, NEONFLOW_WORKFLOW_PROMOTE);
    assert_int_equal(l.ttl, 600000);
    assert_int_equal(emu_requests(f->s, "POST", "/projects/" PROJECT "/branches"), 0); /* no lease branch */
    assert_int_equal(lease_branches_in(f->s, PROJECT), 0);
    assert_true(log.hook_events >= 2);
    /* a refusal: ELEASE_HELD with the holder the hook reported, nothing changed */
    l.refuse = 1;
    emu_counters_reset(f->s);
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, ro, NULL, &err), NEONFLOW_ELEASE_HELD);
    assert_non_null(strstr(neonflow_error_message(err), "other-run"));
    assert_int_equal(mutating_requests(f->s), 0);
    assert_int_equal(l.release, 1); /* nothing to release */
    neonflow_error_free(err);
    neonflow_report_free(r);
    /* dry runs take no lock */
    l.refuse = 0;
    neonflow_run_options_set_dry_run(ro, 1);
    int before = l.acquire;
    RUN_OK(neonflow_promote(&r, f->c, ro, NULL, &err_));
    assert_int_equal(l.acquire, before);
    neonflow_report_free(r);
    /* destroy exactly once: replacing the hook keeps it alive for nobody */
    assert_int_equal(l.destroyed, 0);
    neonflow_run_options_free(ro);
    assert_int_equal(l.destroyed, 1);
    /* NULL options: the payload is destroyed, EINVAL */
    assert_int_equal(neonflow_run_options_set_lock_hook(NULL, lock_fn, &l, lock_destroy), NEONFLOW_EINVAL);
    assert_int_equal(l.destroyed, 2);
    assert_int_equal(neonflow_lock_request_kind(NULL), 0);
    assert_null(neonflow_lock_request_target(NULL));
}

/* ---- finalize re-checks the target --------------------------------------------------- */
typedef struct renamer {
    neonflow_client *c;
    const char *branch_id;
} renamer;

static int rename_before_finalize(const neonflow_step *st, void *payload)
{
    renamer *x = payload;
    if (strcmp(neonflow_step_name(st), "finalize") != 0)
        return 0;
    neonflow_branch_update_options *uo = NULL;
    neonflow_branch_update_options_new(&uo);
    neonflow_branch_update_options_set_name(uo, "production-moved");
    assert_int_equal(neonflow_branch_update(NULL, NULL, x->c, PROJECT, x->branch_id, uo, NULL, NULL), NEONFLOW_OK);
    neonflow_branch_update_options_free(uo);
    return 0;
}

static void test_finalize_rechecks_target(void **state)
{
    wf_fixture *f = *state;
    renamer x = {make_client(f->s), f->prod_id};
    neonflow_run_options *ro = run_opts("recheck", 0, NULL);
    neonflow_run_options_set_gate_hook(ro, rename_before_finalize, &x, NULL);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, ro, NULL, &err), NEONFLOW_ESTATE);
    assert_non_null(strstr(neonflow_error_message(err), "nothing was finalized"));
    assert_int_equal(neonflow_step_status(step_named(r, "finalize")), NEONFLOW_STEP_FAILED);
    /* nothing was finalized: the endpoint stays, the preview is still only restored */
    char ep_branch[64], status[32];
    endpoint_branch(f->s, f->prod_ep, ep_branch, sizeof(ep_branch));
    assert_string_equal(ep_branch, f->prod_id);
    state_lookup(f->s, "branches", "id", neonflow_report_preview_branch_id(r), "restore_status", status,
                 sizeof(status));
    assert_string_equal(status, "restored");
    state_lookup(f->s, "branches", "id", f->prod_id, "name", status, sizeof(status));
    assert_string_equal(status, "production-moved");
    neonflow_error_free(err);
    neonflow_report_free(r);
    neonflow_run_options_free(ro);
    neonflow_client_free(x.c);
}

/* ---- a resumed run whose target was replaced since its preview ------------------------ */
typedef struct replacer {
    neonflow_client *c;
    int done;
} replacer;

/* Another run (its own lock service) promotes production while this run is at its finalize gate. */
static int promote_other_before_finalize(const neonflow_step *st, void *payload)
{
    replacer *x = payload;
    if (x->done || strcmp(neonflow_step_name(st), "finalize") != 0)
        return 0;
    x->done = 1;
    lock_rec l = {0};
    neonflow_run_options *ro = run_opts("replacer", 0, NULL);
    assert_int_equal(neonflow_run_options_set_lock_hook(ro, lock_fn, &l, NULL), NEONFLOW_OK);
    neonflow_report *r = NULL;
    RUN_OK(neonflow_promote(&r, x->c, ro, NULL, &err_));
    neonflow_report_free(r);
    neonflow_run_options_free(ro);
    return 0;
}

/* The run stops at the finalize re-check (ESTATE); resumed with its run id, its
 * preview is still aimed at the replaced branch (restored_as): the preflight
 * refuses, at no extra request, instead of finalizing onto that old branch. */
static void test_resume_refuses_preview_of_replaced_target(void **state)
{
    wf_fixture *f = *state;
    replacer x = {make_client(f->s), 0};
    neonflow_run_options *ro = run_opts("stale", 0, NULL);
    neonflow_run_options_set_gate_hook(ro, promote_other_before_finalize, &x, NULL);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, ro, NULL, &err), NEONFLOW_ESTATE);
    assert_int_equal(x.done, 1);
    assert_non_null(strstr(neonflow_error_message(err), "nothing was finalized"));
    char preview[64], prod_now[64], old_name[300], status[32];
    snprintf(preview, sizeof(preview), "%s", neonflow_report_preview_branch_id(r));
    neonflow_error_free(err);
    neonflow_report_free(r);
    branch_id_by_name(f->s, "production", prod_now, sizeof(prod_now));
    assert_string_not_equal(prod_now, f->prod_id);
    state_lookup(f->s, "branches", "id", f->prod_id, "name", old_name, sizeof(old_name));

    neonflow_run_options_set_gate_hook(ro, NULL, NULL, NULL);
    emu_counters_reset(f->s);
    err = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, ro, NULL, &err), NEONFLOW_ESTATE);
    assert_non_null(strstr(neonflow_error_message(err), "changed since the preview"));
    assert_non_null(strstr(neonflow_error_message(err), preview));
    assert_int_equal(neonflow_step_status(step_named(r, "preflight")), NEONFLOW_STEP_FAILED);
    assert_int_equal(mutating_requests(f->s), LEASE_REQUESTS); /* nothing but its lease */
    neonflow_error_free(err);
    neonflow_report_free(r);
    /* names and the endpoint where the other run left them; the preview is still only restored */
    char id[64], name[300], ep_branch[64];
    branch_id_by_name(f->s, "production", id, sizeof(id));
    assert_string_equal(id, prod_now);
    state_lookup(f->s, "branches", "id", f->prod_id, "name", name, sizeof(name));
    assert_string_equal(name, old_name);
    endpoint_branch(f->s, f->prod_ep, ep_branch, sizeof(ep_branch));
    assert_string_equal(ep_branch, prod_now);
    state_lookup(f->s, "branches", "id", preview, "restore_status", status, sizeof(status));
    assert_string_equal(status, "restored");
    assert_int_equal(lease_branches_in(f->s, PROJECT), 0);
    neonflow_run_options_free(ro);
    neonflow_client_free(x.c);
}

/* ---- setup, prune, backups list -------------------------------------------------------- */
static void test_setup_takes_lease(void **state)
{
    wf_fixture *f = *state;
    neonflow_setup_options *so = NULL;
    neonflow_setup_options_new(&so);
    neonflow_setup_options_set_dev_name(so, "dev2");
    neonflow_run_options *crash = run_opts("s-crash", 0, NULL);
    neonflow__workflow_set_interrupt_after(1);
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_setup(&r, f->c, crash, so, NULL), NEONFLOW_ECANCELLED);
    neonflow_report_free(r);
    neonflow__workflow_set_interrupt_after(0);
    char holder[64], lid[64];
    lease_holder(f, "dev2", holder, sizeof(holder), lid, sizeof(lid));
    assert_string_equal(holder, "s-crash");
    neonflow_run_options *other = run_opts("s-other", 0, NULL);
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_setup(&r, f->c, other, so, &err), NEONFLOW_ELEASE_HELD);
    assert_non_null(strstr(neonflow_error_message(err), "s-crash"));
    assert_non_null(strstr(neonflow_error_message(err), "setup"));
    neonflow_error_free(err);
    neonflow_report_free(r);
    char dev2[64];
    branch_id_by_name(f->s, "dev2", dev2, sizeof(dev2));
    assert_string_equal(dev2, "");
    /* the backups list does not show the lease */
    RUN_OK(neonflow_backups_list(&r, f->c, other, NULL, &err_));
    const neonflow_step *st = neonflow_report_step_at(r, 0);
    for (size_t i = 0; i < neonflow_step_resource_count(st); i++)
        assert_null(strstr(neonflow_resource_name(neonflow_step_resource_at(st, i)), "lease"));
    neonflow_report_free(r);
    RUN_OK(neonflow_setup(&r, f->c, crash, so, &err_));
    neonflow_report_free(r);
    branch_id_by_name(f->s, "dev2", dev2, sizeof(dev2));
    assert_string_not_equal(dev2, "");
    assert_int_equal(lease_branches_in(f->s, PROJECT), 0);
    neonflow_setup_options_free(so);
    neonflow_run_options_free(crash);
    neonflow_run_options_free(other);
}


static void promote_as(wf_fixture *f, const char *run_id)
{
    neonflow_run_options *ro = run_opts(run_id, 0, NULL);
    neonflow_report *r = NULL;
    RUN_OK(neonflow_promote(&r, f->c, ro, NULL, &err_));
    neonflow_report_free(r);
    neonflow_run_options_free(ro);
}

static void test_prune_takes_lease(void **state)
{
    wf_fixture *f = *state;
    promote_as(f, "p1");
    promote_as(f, "p2");
    /* a refresh of dev leaves a backup of another target */
    neonflow_run_options *ro = run_opts("rf1", 0, NULL);
    neonflow_report *r = NULL;
    RUN_OK(neonflow_refresh(&r, f->c, ro, NULL, &err_));
    neonflow_report_free(r);
    neonflow_run_options_free(ro);
    /* a crashed promotion holds production's lease */
    neonflow_run_options *crash = run_opts("p-crash", 0, NULL);
    neonflow__workflow_set_interrupt_after(1);
    assert_int_equal(neonflow_promote(&r, f->c, crash, NULL, NULL), NEONFLOW_ECANCELLED);
    neonflow_report_free(r);
    neonflow__workflow_set_interrupt_after(0);
    assert_int_equal(lease_branches_in(f->s, PROJECT), 1);

    neonflow_prune_options *po = NULL;
    neonflow_prune_options_new(&po);
    neonflow_prune_options_set_keep_newest(po, 0);
    neonflow_prune_options_set_snapshots(po, 0);
    neonflow_prune_options_set_branches(po, 1);
    int branches = emu_count_branches(f->s, PROJECT);
    neonflow_run_options *pr = run_opts("prune1", 0, NULL);
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_prune(&r, f->c, pr, po, &err), NEONFLOW_ELEASE_HELD);
    assert_non_null(strstr(neonflow_error_message(err), "p-crash"));
    neonflow_error_free(err);
    /* the plan never lists the lease; nothing of production's was deleted */
    for (size_t i = 0; i < neonflow_report_step_count(r); i++) {
        const neonflow_step *st = neonflow_report_step_at(r, i);
        for (size_t k = 0; k < neonflow_step_resource_count(st); k++)
            assert_null(strstr(neonflow_resource_name(neonflow_step_resource_at(st, k)), "/lease"));
    }
    neonflow_report_free(r);
    assert_int_equal(backups_of(f->s, "production"), 2);
    assert_true(emu_count_branches(f->s, PROJECT) >= branches - 1); /* at most dev's backup went */
    char holder[64], lid[64];
    lease_holder(f, "production", holder, sizeof(holder), lid, sizeof(lid));
    assert_string_equal(holder, "p-crash");

    /* the crashed run finishes; a prune through a lock hook leases one target at a time */
    RUN_OK(neonflow_promote(&r, f->c, crash, NULL, &err_));
    neonflow_report_free(r);
    lock_rec l = {0};
    assert_int_equal(neonflow_run_options_set_lock_hook(pr, lock_fn, &l, NULL), NEONFLOW_OK);
    RUN_OK(neonflow_prune(&r, f->c, pr, po, &err_));
    neonflow_report_free(r);
    assert_int_equal(count_kind(f->s, "branches", "promote-backup") + count_kind(f->s, "branches", "refresh-backup"), 0);
    assert_true(l.acquire >= 1);
    assert_int_equal(l.max_held, 1);
    assert_int_equal(l.held, 0);
    assert_int_equal(l.acquire, l.release);
    assert_int_equal(lease_branches_in(f->s, PROJECT), 0);
    neonflow_prune_options_free(po);
    neonflow_run_options_free(pr);
    neonflow_run_options_free(crash);
}


/* production is the default branch, so the lease is its child; a run that
 * crashed right after its switch leaves the lease under the backup: prune
 * keeps that backup (with a warning) until the lease is gone. */
static void test_prune_keeps_backup_with_lease_child(void **state)
{
    wf_fixture *f = *state;
    neonflow_run_options *crash = run_opts("sw-crash", 0, NULL);
    neonflow__workflow_set_interrupt_after(6); /* right after finalize */
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, crash, NULL, NULL), NEONFLOW_ECANCELLED);
    neonflow_report_free(r);
    neonflow__workflow_set_interrupt_after(0);
    char holder[64], lid[64], parent[64];
    lease_holder(f, "production", holder, sizeof(holder), lid, sizeof(lid));
    state_lookup(f->s, "branches", "id", lid, "parent_id", parent, sizeof(parent));
    assert_string_equal(parent, f->prod_id); /* the old production, now the backup */
    assert_int_equal(backups_of(f->s, "production"), 1);

    neonflow_prune_options *po = NULL;
    neonflow_prune_options_new(&po);
    neonflow_prune_options_set_keep_newest(po, 0);
    neonflow_prune_options_set_snapshots(po, 0);
    event_log log = {0};
    neonflow_run_options *pr = run_opts("prune2", 0, NULL);
    neonflow_run_options_set_event_hook(pr, log_event, &log, NULL);
    RUN_OK(neonflow_prune(&r, f->c, pr, po, &err_));
    neonflow_report_free(r);
    assert_int_equal(backups_of(f->s, "production"), 1);
    assert_non_null(strstr(log.last_warning, "keeping backup"));
    assert_non_null(strstr(log.last_warning, lid));

    RUN_OK(neonflow_promote(&r, f->c, crash, NULL, &err_)); /* resumed: releases its lease */
    neonflow_report_free(r);
    assert_int_equal(lease_branches_in(f->s, PROJECT), 0);
    RUN_OK(neonflow_prune(&r, f->c, pr, po, &err_));
    neonflow_report_free(r);
    assert_int_equal(backups_of(f->s, "production"), 0);
    neonflow_prune_options_free(po);
    neonflow_run_options_free(pr);
    neonflow_run_options_free(crash);
}

/* A prune killed right after its last delete on production holds production's
 * lease; resumed, it has nothing left to delete there, so it never re-enters
 * that lease: it releases it from its listing. Another prune's run id does not. */
static void test_resumed_prune_releases_its_old_lease(void **state)
{
    wf_fixture *f = *state;
    promote_as(f, "p1");
    neonflow_prune_options *po = NULL;
    neonflow_prune_options_new(&po);
    neonflow_prune_options_set_keep_newest(po, 0);
    neonflow_prune_options_set_snapshots(po, 0);
    neonflow_run_options *pr = run_opts("prune-k", 0, NULL);
    neonflow_report *r = NULL;
    neonflow__workflow_set_interrupt_after(2); /* plan, then the one delete: as if the process died */
    assert_int_equal(neonflow_prune(&r, f->c, pr, po, NULL), NEONFLOW_ECANCELLED);
    neonflow__workflow_set_interrupt_after(0);
    neonflow_report_free(r);
    assert_int_equal(backups_of(f->s, "production"), 0);
    char holder[64], lid[64];
    lease_holder(f, "production", holder, sizeof(holder), lid, sizeof(lid));
    assert_string_equal(holder, "prune-k");

    neonflow_run_options *other = run_opts("prune-o", 0, NULL);
    RUN_OK(neonflow_prune(&r, f->c, other, po, &err_));
    neonflow_report_free(r);
    assert_int_equal(lease_branches_in(f->s, PROJECT), 1); /* not its lease */
    RUN_OK(neonflow_prune(&r, f->c, pr, po, &err_));
    neonflow_report_free(r);
    assert_int_equal(lease_branches_in(f->s, PROJECT), 0);
    neonflow_run_options_free(other);
    neonflow_run_options_free(pr);
    neonflow_prune_options_free(po);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lock_hook_replaces_lease, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_finalize_rechecks_target, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_resume_refuses_preview_of_replaced_target, setup_instant,
                                        teardown_fixture),
        cmocka_unit_test_setup_teardown(test_setup_takes_lease, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_prune_takes_lease, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_prune_keeps_backup_with_lease_child, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_resumed_prune_releases_its_old_lease, setup_instant, teardown_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
