/* The request budget of the workflows does not grow with the project: setup,
 * promote, refresh, rollback and a promotion resumed after each of its steps
 * send exactly as many requests in a project with 1,200 other branches and
 * 100 snapshots as in one with 10, and at most 15 (instant operations; 16 for
 * a resume right after the preflight). The branches are made through the
 * emulator's C API, so building the project costs no HTTP requests. */
#include "test_workflow_common.h"

#define BUDGET 15
#define RESUME_STEPS 7 /* a promotion's steps up to after-switch */

enum { W_SETUP, W_PROMOTE, W_REFRESH, W_ROLLBACK, W_RESUME, W_COUNT };
static const char *const wf_names[W_COUNT] = {"setup", "promote", "refresh", "rollback", "resume"};

/* A project with `extra` other branches (children of dev, as previews are)
 * and `snapshots` manual snapshots of production. */
static wf_fixture *big_fixture(int extra, int snapshots)
{
    wf_fixture *f = fixture_new(0, 1);
    assert_int_equal(emu_set_limits(f->s, PROJECT, 1000, 1000), 0);
    for (int i = 0; i < extra; i++) {
        char name[64];
        snprintf(name, sizeof(name), "feature-%05d", i);
        assert_int_equal(emu_add_branch(f->s, PROJECT, name, f->dev_id, 0, NULL, NULL), 0);
    }
    for (int i = 0; i < snapshots; i++) {
        neonflow_snapshot_create_options *so = NULL;
        assert_int_equal(neonflow_snapshot_create_options_new(&so), NEONFLOW_OK);
        char name[64];
        snprintf(name, sizeof(name), "manual-%03d", i);
        assert_int_equal(neonflow_snapshot_create_options_set_name(so, name), NEONFLOW_OK);
        neonflow_snapshot *s = NULL;
        neonflow_operation_list *ops = NULL;
        assert_int_equal(neonflow_snapshot_create(&s, &ops, f->c, PROJECT, f->prod_id, so, NULL, NULL), NEONFLOW_OK);
        neonflow_snapshot_free(s);
        neonflow_operation_list_free(ops);
        neonflow_snapshot_create_options_free(so);
    }
    return f;
}

static int64_t requests(wf_fixture *f) { return emu_requests(f->s, NULL, NULL); }

static void check(int rc, neonflow_report *r, neonflow_error *err, const char *what)
{
    if (rc != NEONFLOW_OK)
        fail_msg("%s: %s (%s)", what, neonflow_error_name(rc), neonflow_error_message(err));
    if (getenv("BUDGET_STEPS"))
        for (size_t i = 0; i < neonflow_report_step_count(r); i++)
            print_message("#   %s %s: %lld\n", what, neonflow_step_name(neonflow_report_step_at(r, i)),
                          (long long)neonflow_step_api_calls(neonflow_report_step_at(r, i)));
    neonflow_report_free(r);
    neonflow_error_free(err);
}

/* Runs the five workflows in order and records what each sent. */
static void measure(wf_fixture *f, int64_t out[W_COUNT], int64_t resume[RESUME_STEPS + 1])
{
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    int64_t before;
    int rc;

    neonflow_setup_options *so = NULL;
    assert_int_equal(neonflow_setup_options_new(&so), NEONFLOW_OK);
    assert_int_equal(neonflow_setup_options_set_dev_name(so, "staging"), NEONFLOW_OK);
    neonflow_run_options_set_run_id(f->ro, "setup1");
    before = requests(f);
    rc = neonflow_setup(&r, f->c, f->ro, so, &err);
    check(rc, r, err, "setup");
    out[W_SETUP] = requests(f) - before;
    neonflow_setup_options_free(so);

    r = NULL;
    err = NULL;
    neonflow_run_options_set_run_id(f->ro, "promote1");
    before = requests(f);
    rc = neonflow_promote(&r, f->c, f->ro, NULL, &err);
    check(rc, r, err, "promote");
    out[W_PROMOTE] = requests(f) - before;

    r = NULL;
    err = NULL;
    neonflow_run_options_set_run_id(f->ro, "refresh1");
    before = requests(f);
    rc = neonflow_refresh(&r, f->c, f->ro, NULL, &err);
    check(rc, r, err, "refresh");
    out[W_REFRESH] = requests(f) - before;

    r = NULL;
    err = NULL;
    neonflow_run_options_set_run_id(f->ro, "rollback1");
    before = requests(f);
    rc = neonflow_rollback(&r, f->c, f->ro, NULL, &err);
    check(rc, r, err, "rollback");
    out[W_ROLLBACK] = requests(f) - before;

    /* a promotion interrupted after each of its steps, then resumed: the
     * resumed run finds what the first attempt made by the run's names */
    for (int k = 1; k <= RESUME_STEPS; k++) {
        char run_id[32];
        snprintf(run_id, sizeof(run_id), "resume%d", k);
        neonflow_run_options_set_run_id(f->ro, run_id);
        r = NULL;
        err = NULL;
        neonflow__workflow_set_interrupt_after(k);
        rc = neonflow_promote(&r, f->c, f->ro, NULL, &err);
        neonflow__workflow_set_interrupt_after(0);
        assert_int_equal(rc, NEONFLOW_ECANCELLED);
        neonflow_report_free(r);
        neonflow_error_free(err);
        r = NULL;
        err = NULL;
        before = requests(f);
        rc = neonflow_promote(&r, f->c, f->ro, NULL, &err);
        check(rc, r, err, "resumed promote");
        resume[k] = requests(f) - before;
    }
    out[W_RESUME] = resume[3];
}

static void test_budget_independent_of_size(void **state)
{
    (void)state;
    int64_t small[W_COUNT], big[W_COUNT], rs[RESUME_STEPS + 1], rb[RESUME_STEPS + 1];
    wf_fixture *f = big_fixture(10, 100);
    measure(f, small, rs);
    fixture_free(f);
    f = big_fixture(1200, 100);
    measure(f, big, rb);
    fixture_free(f);
    for (int i = 0; i < W_COUNT; i++)
        print_message("# %-8s %lld requests at 10 branches, %lld at 1,200\n", wf_names[i], (long long)small[i],
                      (long long)big[i]);
    for (int k = 1; k <= RESUME_STEPS; k++)
        print_message("# resume after step %d: %lld requests at 10 branches, %lld at 1,200\n", k, (long long)rs[k],
                      (long long)rb[k]);
    for (int i = 0; i < W_COUNT; i++) {
        if (big[i] != small[i] || big[i] > BUDGET)
            fail_msg("%s sent %lld requests with 1,200 branches, %lld with 10 (budget %d)", wf_names[i],
                     (long long)big[i], (long long)small[i], BUDGET);
    }
    for (int k = 1; k <= RESUME_STEPS; k++) {
        /* after the preflight alone the lease is re-entered (409, then a PATCH) and nothing else is
         * found: the one case a request over the budget */
        int64_t budget = k == 1 ? BUDGET + 1 : BUDGET;
        if (rb[k] != rs[k] || rb[k] > budget)
            fail_msg("resume after step %d sent %lld requests with 1,200 branches, %lld with 10 (budget %lld)", k,
                     (long long)rb[k], (long long)rs[k], (long long)budget);
    }
}

/* Neon's search is a substring match on name or ID: lookups must pick the
 * exact name, and read every page when more than a page matches. Here 150
 * branches contain "production", 150 contain "dev", and the run id "br"
 * matches every branch ID ("br-..."): the promotion still acts on the right
 * branches. */
static void test_substring_matches_are_not_exact(void **state)
{
    (void)state;
    wf_fixture *f = fixture_new(0, 1);
    for (int i = 0; i < 150; i++) {
        char name[64];
        snprintf(name, sizeof(name), "production-shadow-%03d", i);
        assert_int_equal(emu_add_branch(f->s, PROJECT, name, f->prod_id, 0, NULL, NULL), 0);
        snprintf(name, sizeof(name), "dev-feature-%03d", i);
        assert_int_equal(emu_add_branch(f->s, PROJECT, name, f->dev_id, 0, NULL, NULL), 0);
    }
    neonflow_run_options_set_run_id(f->ro, "br");
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    int64_t before = requests(f);
    int rc = neonflow_promote(&r, f->c, f->ro, NULL, &err);
    if (rc != NEONFLOW_OK)
        fail_msg("promote: %s (%s)", neonflow_error_name(rc), neonflow_error_message(err));
    assert_string_equal(neonflow_report_old_target_branch_id(r), f->prod_id);
    assert_string_equal(neonflow_report_source_branch_id(r), f->dev_id);
    /* more than a page for each lookup: every page was read */
    assert_true(requests(f) - before > BUDGET);
    char live[64];
    state_lookup(f->s, "branches", "name", "production", "id", live, sizeof(live));
    assert_string_equal(live, neonflow_report_target_branch_id(r));
    neonflow_report_free(r);
    fixture_free(f);
}

/* A restore made by someone else, finalized with a backup name of its own:
 * only the restored_as of the branch that replaced it says it is a backup. */
static void foreign_restore(wf_fixture *f, const char *backup_name)
{
    char live[64];
    state_lookup(f->s, "branches", "name", "production", "id", live, sizeof(live));
    neonflow_snapshot *snap = NULL;
    neonflow_operation_list *ops = NULL;
    assert_int_equal(neonflow_snapshot_create(&snap, &ops, f->c, PROJECT, live, NULL, NULL, NULL), NEONFLOW_OK);
    neonflow_operation_list_free(ops);
    neonflow_snapshot_restore_options *ro = NULL;
    assert_int_equal(neonflow_snapshot_restore_options_new(&ro), NEONFLOW_OK);
    assert_int_equal(neonflow_snapshot_restore_options_set_target_branch_id(ro, live), NEONFLOW_OK);
    neonflow_branch_result *res = NULL;
    assert_int_equal(neonflow_snapshot_restore(&res, f->c, PROJECT, neonflow_snapshot_id(snap), ro, NULL, NULL),
                     NEONFLOW_OK);
    ops = NULL;
    assert_int_equal(neonflow_branch_finalize_restore(&ops, f->c, PROJECT,
                                                      neonflow_branch_id(neonflow_branch_result_branch(res)),
                                                      backup_name, NULL, NULL),
                     NEONFLOW_OK);
    neonflow_operation_list_free(ops);
    neonflow_branch_result_free(res);
    neonflow_snapshot_restore_options_free(ro);
    neonflow_snapshot_free(snap);
}

/* Requests of `backups list --target production`; checks it finds both the
 * promotion's backup and the one named by someone else. */
static int64_t list_target(wf_fixture *f)
{
    neonflow_backups_list_options *o = NULL;
    assert_int_equal(neonflow_backups_list_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_backups_list_options_set_target(o, "production"), NEONFLOW_OK);
    assert_int_equal(neonflow_backups_list_options_set_snapshots(o, 0), NEONFLOW_OK);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    int64_t before = requests(f);
    int rc = neonflow_backups_list(&r, f->c, f->ro, o, &err);
    int64_t n = requests(f) - before;
    if (rc != NEONFLOW_OK)
        fail_msg("backups list: %s (%s)", neonflow_error_name(rc), neonflow_error_message(err));
    const neonflow_step *st = neonflow_report_step_at(r, 0);
    assert_int_equal(neonflow_step_resource_count(st), 2);
    int ours = 0, foreign = 0;
    for (size_t i = 0; i < 2; i++) {
        const neonflow_resource *x = neonflow_step_resource_at(st, i);
        assert_string_equal(neonflow_resource_target(x), "production");
        assert_string_not_equal(neonflow_resource_replaced_by(x), "");
        ours += strncmp(neonflow_resource_name(x), "nf/production/promote-backup/", 29) == 0;
        foreign += strcmp(neonflow_resource_name(x), "keepsake") == 0;
    }
    assert_int_equal(ours, 1);
    assert_int_equal(foreign, 1);
    neonflow_report_free(r);
    neonflow_backups_list_options_free(o);
    return n;
}

/* A listing of one target's backups looks them up (the target's name, then
 * along restored_as), whatever the size of the project. */
static void test_backups_of_a_target_are_looked_up(void **state)
{
    (void)state;
    int64_t n[2];
    const int sizes[2] = {10, 1200};
    for (int k = 0; k < 2; k++) {
        wf_fixture *f = big_fixture(sizes[k], 0);
        neonflow_report *r = NULL;
        neonflow_error *err = NULL;
        int rc = neonflow_promote(&r, f->c, f->ro, NULL, &err);
        if (rc != NEONFLOW_OK)
            fail_msg("promote: %s (%s)", neonflow_error_name(rc), neonflow_error_message(err));
        neonflow_report_free(r);
        foreign_restore(f, "keepsake");
        n[k] = list_target(f);
        fixture_free(f);
    }
    print_message("# backups list --target: %lld requests at 10 branches, %lld at 1,200\n", (long long)n[0],
                  (long long)n[1]);
    assert_int_equal(n[1], n[0]);
    assert_true(n[1] <= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget_independent_of_size),
        cmocka_unit_test(test_substring_matches_are_not_exact),
        cmocka_unit_test(test_backups_of_a_target_are_looked_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
