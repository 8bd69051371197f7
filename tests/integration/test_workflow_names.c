/* What the library was told is what it checks: a snapshot created without
 * its query string (what libcurl 7.88 sends after one failed allocation)
 * gets Neon's default name and no expiry. The run reads the name back and
 * renames the snapshot, or deletes it and fails when it cannot; the report
 * never claims a name it did not get, and a re-run makes no second one.
 * Likewise a restore that lost its body: a branch aimed at the wrong target
 * is deleted and the run fails; one with the wrong name is renamed. */
#include "test_workflow_common.h"

#define SNAP_POST "/projects/*/branches/*/snapshot"

static void add_fault(emu_server *s, const char *method, const char *path, int kind, int status, int skip, int count)
{
    emu_fault f;
    emu_fault_init(&f);
    f.method = method;
    f.path = path;
    f.kind = kind;
    f.status = status;
    f.skip = skip;
    f.count = count;
    assert_int_equal(emu_fault_add(s, &f), 0);
}

/* The snapshot with this id in the emulator's state: its name and expiry ("" when none). */
static void snapshot_of(emu_server *s, const char *id, char *name, size_t nlen, char *exp, size_t elen)
{
    state_lookup(s, "snapshots", "id", id, "name", name, nlen);
    state_lookup(s, "snapshots", "id", id, "expires_at", exp, elen);
}

static int promote(wf_fixture *f, const char *run_id, neonflow_report **r, neonflow_error **err)
{
    neonflow_run_options_set_run_id(f->ro, run_id);
    return neonflow_promote(r, f->c, f->ro, NULL, err);
}

static void check_one_each(wf_fixture *f, const char *run_id)
{
    assert_int_equal(count_kind(f->s, "snapshots", "candidate"), 1);
    assert_int_equal(count_kind(f->s, "snapshots", "rollback"), 1);
    assert_int_equal(emu_count_snapshots(f->s, PROJECT), 2); /* none under Neon's default name */
    char live[64], content[64];
    branch_id_by_name(f->s, "production", live, sizeof(live));
    content_of(f->s, live, content, sizeof(content));
    assert_string_equal(content, "dev-v1");
    (void)run_id;
}

/* The candidate (skip 0) or the rollback snapshot (skip 1) loses its query
 * string: the run renames it and completes under the planned names. */
static void test_lost_query_is_renamed(void **state)
{
    (void)state;
    for (int skip = 0; skip <= 1; skip++) {
        wf_fixture *f = fixture_new(0, 1);
        event_log log = {0};
        neonflow_run_options_set_event_hook(f->ro, log_event, &log, NULL);
        add_fault(f->s, "POST", SNAP_POST, EMU_FAULT_DROP_QUERY, 0, skip, 1);
        neonflow_report *r = NULL;
        neonflow_error *err = NULL;
        int rc = promote(f, "names-1", &r, &err);
        if (rc != NEONFLOW_OK)
            fail_msg("skip %d: %s: %s", skip, neonflow_error_name(rc), neonflow_error_message(err));
        check_one_each(f, "names-1");
        /* the report's snapshots carry the planned names, with an expiry where one was asked for */
        char name[300], exp[64];
        snapshot_of(f->s, neonflow_report_candidate_snapshot_id(r), name, sizeof(name), exp, sizeof(exp));
        assert_true(neonflow__name_matches(name, "production", "candidate", "names-1"));
        snapshot_of(f->s, neonflow_report_rollback_snapshot_id(r), name, sizeof(name), exp, sizeof(exp));
        assert_true(neonflow__name_matches(name, "production", "rollback", "names-1"));
        assert_string_not_equal(exp, ""); /* the rollback point expires (default 7 days) */
        assert_int_equal(emu_requests(f->s, "PATCH", "/projects/*/snapshots/*"), 1);
        neonflow_report_free(r);

        /* the finished run again: nothing new */
        rc = promote(f, "names-1", &r, &err);
        assert_int_equal(rc, NEONFLOW_OK);
        check_one_each(f, "names-1");
        neonflow_report_free(r);
        fixture_free(f);
    }
}

/* The rename fails too: the snapshot is deleted and the run fails; the
 * re-run with the same run id completes with one candidate. */
static void test_unrenamable_is_deleted(void **state)
{
    (void)state;
    wf_fixture *f = fixture_new(0, 1);
    add_fault(f->s, "POST", SNAP_POST, EMU_FAULT_DROP_QUERY, 0, 0, 1);
    add_fault(f->s, "PATCH", "/projects/*/snapshots/*", EMU_FAULT_STATUS, 500, 0, 1);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    int rc = promote(f, "names-2", &r, &err);
    assert_int_equal(rc, NEONFLOW_ESERVER);
    assert_int_equal(neonflow_error_code(err), NEONFLOW_ESERVER);
    assert_int_equal(emu_count_snapshots(f->s, PROJECT), 0); /* no snapshot left under a name nobody finds */
    assert_int_equal(emu_count_branches(f->s, PROJECT), 2);
    assert_int_equal(neonflow_report_result(r), NEONFLOW_ESERVER);
    assert_string_equal(neonflow_report_candidate_snapshot_id(r), ""); /* claims nothing it did not keep */
    neonflow_report_free(r);
    neonflow_error_free(err);
    err = NULL;

    rc = promote(f, "names-2", &r, &err);
    if (rc != NEONFLOW_OK)
        fail_msg("re-run: %s: %s", neonflow_error_name(rc), neonflow_error_message(err));
    check_one_each(f, "names-2");
    neonflow_report_free(r);
    fixture_free(f);
}

#define RESTORE_POST "/projects/*/snapshots/*/restore"

/* Promote: the restore without its body restores the candidate onto its
 * source (dev) under Neon's default name. Deleted, the run fails; the re-run
 * completes and dev is untouched. */
static void test_restore_onto_wrong_target(void **state)
{
    (void)state;
    wf_fixture *f = fixture_new(0, 1);
    add_fault(f->s, "POST", RESTORE_POST, EMU_FAULT_DROP_BODY, 0, 0, 1);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    int rc = promote(f, "names-3", &r, &err);
    assert_int_equal(rc, NEONFLOW_ESTATE);
    assert_non_null(strstr(neonflow_error_message(err), "not at"));
    assert_int_equal(emu_count_branches(f->s, PROJECT), 2); /* the stray restore is gone */
    neonflow_report_free(r);
    neonflow_error_free(err);
    err = NULL;
    rc = promote(f, "names-3", &r, &err);
    if (rc != NEONFLOW_OK)
        fail_msg("re-run: %s: %s", neonflow_error_name(rc), neonflow_error_message(err));
    check_one_each(f, "names-3");
    assert_int_equal(emu_count_branches(f->s, PROJECT), 3);
    char dev[64], content[64];
    branch_id_by_name(f->s, "dev", dev, sizeof(dev));
    assert_string_equal(dev, f->dev_id);
    content_of(f->s, dev, content, sizeof(content));
    assert_string_equal(content, "dev-v1");
    neonflow_report_free(r);
    fixture_free(f);
}

/* Setup restores production's snapshot aimed at production: without its
 * body the target is the same but the name is Neon's default. Renamed. */
static void test_restore_without_name_is_renamed(void **state)
{
    (void)state;
    wf_fixture *f = fixture_new(0, 0);
    add_fault(f->s, "POST", RESTORE_POST, EMU_FAULT_DROP_BODY, 0, 0, 1);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    neonflow_run_options_set_run_id(f->ro, "names-4");
    int rc = neonflow_setup(&r, f->c, f->ro, NULL, &err);
    if (rc != NEONFLOW_OK)
        fail_msg("setup: %s: %s", neonflow_error_name(rc), neonflow_error_message(err));
    char dev[64], content[64];
    branch_id_by_name(f->s, "dev", dev, sizeof(dev));
    assert_string_equal(dev, neonflow_report_target_branch_id(r));
    content_of(f->s, dev, content, sizeof(content));
    assert_string_equal(content, "prod-v1");
    assert_int_equal(emu_count_branches(f->s, PROJECT), 2);
    assert_int_equal(emu_requests(f->s, "PATCH", "/projects/*/branches/*"), 1);
    neonflow_report_free(r);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lost_query_is_renamed),
        cmocka_unit_test(test_unrenamable_is_deleted),
        cmocka_unit_test(test_restore_onto_wrong_target),
        cmocka_unit_test(test_restore_without_name_is_renamed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
