/* Crash safety: interrupt promote, refresh, setup and rollback right after
 * every step k (test seam), re-run with the same run id, and check the run
 * completes with exactly one resource of each kind it creates. */
#include <unistd.h>

#include "test_workflow_common.h"

static int run_wf(int wf, wf_fixture *f, neonflow_report **r, neonflow_error **err)
{
    switch (wf) {
    case NEONFLOW_WORKFLOW_PROMOTE: return neonflow_promote(r, f->c, f->ro, NULL, err);
    case NEONFLOW_WORKFLOW_REFRESH: return neonflow_refresh(r, f->c, f->ro, NULL, err);
    case NEONFLOW_WORKFLOW_SETUP: return neonflow_setup(r, f->c, f->ro, NULL, err);
    default: return neonflow_rollback(r, f->c, f->ro, NULL, err);
    }
}

/* Interrupts after step k, resumes; returns the number of steps of the workflow. */
static size_t interrupt_and_resume(int wf, wf_fixture *f, int k, const char *run_id, int pause)
{
    neonflow_run_options_set_run_id(f->ro, run_id);
    neonflow__workflow_set_interrupt_after(k);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    int rc = run_wf(wf, f, &r, &err);
    neonflow__workflow_set_interrupt_after(0);
    size_t steps = neonflow_report_step_count(r);
    if ((size_t)k <= steps && rc != NEONFLOW_ECANCELLED)
        fail_msg("wf %d step %d: %s (%s)", wf, k, neonflow_error_name(rc), neonflow_error_message(err));
    if (rc == NEONFLOW_ECANCELLED)
        assert_non_null(strstr(neonflow_report_message(r), run_id));
    neonflow_error_free(err);
    neonflow_report_free(r);
    if (pause)
        usleep(1100 * 1000); /* the resumed run starts in a later second: names must not change */
    err = NULL;
    rc = run_wf(wf, f, &r, &err);
    if (rc != NEONFLOW_OK)
        fail_msg("wf %d resume after step %d: %s (%s)", wf, k, neonflow_error_name(rc), neonflow_error_message(err));
    /* steps finished before the interruption are reported as resumed */
    if (k >= 2 && wf != NEONFLOW_WORKFLOW_SETUP) {
        int32_t st = neonflow_step_status(neonflow_report_step_at(r, 1));
        assert_true(st == NEONFLOW_STEP_RESUMED || st == NEONFLOW_STEP_SKIPPED);
    }
    neonflow_report_free(r);
    return steps;
}

static void check_promoted(wf_fixture *f)
{
    assert_int_equal(count_kind(f->s, "snapshots", "candidate"), 1);
    assert_int_equal(count_kind(f->s, "snapshots", "rollback"), 1);
    assert_int_equal(count_kind(f->s, "branches", "promote-backup"), 1);
    assert_int_equal(count_kind(f->s, "branches", "promote-preview"), 0);
    assert_int_equal(emu_count_snapshots(f->s, PROJECT), 2);
    assert_int_equal(emu_count_branches(f->s, PROJECT), 3);
    char live[64], content[64], epb[64];
    branch_id_by_name(f->s, "production", live, sizeof(live));
    content_of(f->s, live, content, sizeof(content));
    assert_string_equal(content, "dev-v1");
    endpoint_branch(f->s, f->prod_ep, epb, sizeof(epb));
    assert_string_equal(epb, live);
}

static void test_resume_promote(void **state)
{
    (void)state;
    for (int k = 1; k <= 8; k++) {
        wf_fixture *f = fixture_new(0, 1);
        size_t steps = interrupt_and_resume(NEONFLOW_WORKFLOW_PROMOTE, f, k, "resume-p", k == 3);
        assert_int_equal(steps, 8);
        check_promoted(f);
        fixture_free(f);
    }
}

static void test_resume_promote_with_durations(void **state)
{
    (void)state;
    /* operations still running when the run stops: the resumed run waits for them */
    for (int k = 2; k <= 6; k += 2) {
        wf_fixture *f = fixture_new(40, 1);
        interrupt_and_resume(NEONFLOW_WORKFLOW_PROMOTE, f, k, "resume-d", 0);
        check_promoted(f);
        fixture_free(f);
    }
}

static void test_resume_refresh(void **state)
{
    (void)state;
    for (int k = 1; k <= 6; k++) {
        wf_fixture *f = fixture_new(0, 1);
        size_t steps = interrupt_and_resume(NEONFLOW_WORKFLOW_REFRESH, f, k, "resume-r", k == 2);
        assert_int_equal(steps, 6);
        assert_int_equal(count_kind(f->s, "snapshots", "refresh"), 1);
        assert_int_equal(count_kind(f->s, "branches", "refresh-backup"), 1);
        assert_int_equal(count_kind(f->s, "branches", "refresh-preview"), 0);
        assert_int_equal(emu_count_snapshots(f->s, PROJECT), 1);
        assert_int_equal(emu_count_branches(f->s, PROJECT), 3);
        char dev[64], content[64];
        branch_id_by_name(f->s, "dev", dev, sizeof(dev));
        content_of(f->s, dev, content, sizeof(content));
        assert_string_equal(content, "prod-v1");
        fixture_free(f);
    }
}

static void test_resume_setup(void **state)
{
    (void)state;
    for (int k = 1; k <= 4; k++) {
        wf_fixture *f = fixture_new(0, 0);
        size_t steps = interrupt_and_resume(NEONFLOW_WORKFLOW_SETUP, f, k, "resume-s", k == 2);
        assert_int_equal(steps, 4);
        assert_int_equal(count_kind(f->s, "snapshots", "setup"), 1);
        assert_int_equal(emu_count_snapshots(f->s, PROJECT), 1);
        assert_int_equal(emu_count_branches(f->s, PROJECT), 2);
        char dev[64], content[64];
        branch_id_by_name(f->s, "dev", dev, sizeof(dev));
        assert_string_not_equal(dev, "");
        content_of(f->s, dev, content, sizeof(content));
        assert_string_equal(content, "prod-v1");
        json_t *p = project_state(f->s);
        size_t i;
        json_t *e;
        int eps = 0;
        json_array_foreach(json_object_get(p, "endpoints"), i, e) {
            if (strcmp(json_string_value(json_object_get(e, "branch_id")), dev) == 0)
                eps++;
        }
        json_decref(p);
        assert_int_equal(eps, 1);
        fixture_free(f);
    }
}

static void test_resume_rollback(void **state)
{
    (void)state;
    for (int k = 1; k <= 5; k++) {
        wf_fixture *f = fixture_new(0, 1);
        neonflow_run_options_set_run_id(f->ro, "first");
        neonflow_report *r = NULL;
        RUN_OK(neonflow_promote(&r, f->c, f->ro, NULL, &err_));
        neonflow_report_free(r);
        size_t steps = interrupt_and_resume(NEONFLOW_WORKFLOW_ROLLBACK, f, k, "resume-b", k == 3);
        assert_int_equal(steps, 5);
        assert_int_equal(count_kind(f->s, "snapshots", "pre-rollback"), 1);
        assert_int_equal(emu_count_snapshots(f->s, PROJECT), 3);
        assert_int_equal(emu_count_branches(f->s, PROJECT), 4);
        char live[64], content[64];
        branch_id_by_name(f->s, "production", live, sizeof(live));
        content_of(f->s, live, content, sizeof(content));
        assert_string_equal(content, "prod-v1");
        fixture_free(f);
    }
}

static void test_finished_run_is_idempotent(void **state)
{
    wf_fixture *f = *state;
    neonflow_run_options_set_run_id(f->ro, "twice");
    neonflow_report *r = NULL;
    RUN_OK(neonflow_promote(&r, f->c, f->ro, NULL, &err_));
    neonflow_report_free(r);
    emu_counters_reset(f->s);
    RUN_OK(neonflow_promote(&r, f->c, f->ro, NULL, &err_));
    assert_int_equal(mutating_requests(f->s), LEASE_REQUESTS); /* the lease only */
    assert_int_equal(neonflow_step_status(step_named(r, "finalize")), NEONFLOW_STEP_RESUMED);
    neonflow_report_free(r);
    check_promoted(f);
    /* the dry run of a finished run says so */
    neonflow_run_options_set_dry_run(f->ro, 1);
    RUN_OK(neonflow_promote(&r, f->c, f->ro, NULL, &err_));
    assert_int_equal(neonflow_step_status(step_named(r, "snapshot-candidate")), NEONFLOW_STEP_RESUMED);
    assert_int_equal(neonflow_step_status(step_named(r, "finalize")), NEONFLOW_STEP_RESUMED);
    neonflow_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_promote),
        cmocka_unit_test(test_resume_promote_with_durations),
        cmocka_unit_test(test_resume_refresh),
        cmocka_unit_test(test_resume_setup),
        cmocka_unit_test(test_resume_rollback),
        cmocka_unit_test_setup_teardown(test_finished_run_is_idempotent, setup_instant, teardown_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
