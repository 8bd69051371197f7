/* The promotion lease (issue 11 §1): two runs on one target never both
 * switch it; a crashed run's lease is re-entered on resume or taken over once
 * expired; the lease is renewed and a lost lease stops the run; a busy project
 * does not make a loser wait. (test_workflow_lease_scope.c: the lock hook, the
 * finalize re-check, setup and prune.) */
#include "test_lease_common.h"

/* ---- two runs at once --------------------------------------------------------------- */
typedef struct racer {
    neonflow_client *c;
    neonflow_run_options *ro;
    pthread_barrier_t *bar;
    lease_log log;
    int rc;
    neonflow_report *rep;
    char err[2048];
} racer;

static void *race(void *p)
{
    racer *x = p;
    neonflow_error *err = NULL;
    pthread_barrier_wait(x->bar);
    x->rc = neonflow_promote(&x->rep, x->c, x->ro, NULL, &err);
    snprintf(x->err, sizeof(x->err), "%s", err ? neonflow_error_message(err) : "");
    neonflow_error_free(err);
    return NULL;
}

static void run_race(wf_fixture *f, racer *x, int64_t wait_ms)
{
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    const char *ids[2] = {"ra", "rb"};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        memset(&x[i], 0, sizeof(x[i]));
        x[i].c = make_client(f->s);
        x[i].ro = run_opts(ids[i], wait_ms, &x[i].log);
        x[i].bar = &bar;
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race, &x[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&bar);
}

static void race_free(racer *x)
{
    for (int i = 0; i < 2; i++) {
        neonflow_report_free(x[i].rep);
        neonflow_run_options_free(x[i].ro);
        neonflow_client_free(x[i].c);
    }
}

/* The reproduction: two promotions of one target started together
 * with operations that take time. Exactly one switches; the other stops
 * before its first change, naming the winner; its re-run makes (and reports)
 * only the switch it really makes. */
static void test_two_runs_one_switch(void **state)
{
    wf_fixture *f = *state;
    racer x[2];
    run_race(f, x, 0);
    int w = x[0].rc == NEONFLOW_OK ? 0 : 1, l = 1 - w;
    if (x[w].rc != NEONFLOW_OK || x[l].rc != NEONFLOW_ELEASE_HELD)
        fail_msg("want one OK and one ELEASE_HELD, got %s (%s) and %s (%s)", neonflow_error_name(x[0].rc), x[0].err,
                 neonflow_error_name(x[1].rc), x[1].err);
    const char *win = neonflow_report_run_id(x[w].rep), *lose = neonflow_report_run_id(x[l].rep);
    /* the loser names the holder and changed nothing */
    assert_non_null(strstr(x[l].err, win));
    assert_non_null(strstr(x[l].err, "promote"));
    assert_non_null(strstr(x[l].err, "nothing was changed"));
    assert_non_null(strstr(neonflow_report_message(x[l].rep), "Nothing was changed"));
    assert_int_equal(mutating_step_done(x[l].rep), 0);
    assert_int_equal(resources_of_run(f->s, lose), 0);
    assert_int_equal(count_kind(f->s, "snapshots", "candidate"), 1);
    assert_int_equal(count_kind(f->s, "snapshots", "rollback"), 1);
    assert_int_equal(count_kind(f->s, "branches", "promote-backup"), 1);
    /* the winner's backup holds production's old data; production holds dev's */
    char content[64];
    content_of(f->s, neonflow_report_backup_branch_id(x[w].rep), content, sizeof(content));
    assert_string_equal(content, "prod-v1");
    assert_string_equal(neonflow_report_backup_branch_id(x[w].rep), f->prod_id);
    content_by_name(f->s, "production", content, sizeof(content));
    assert_string_equal(content, "dev-v1");
    assert_int_equal(lease_branches_in(f->s, PROJECT), 0);
    assert_true(x[w].log.taken == 1 && x[w].log.released == 1);

    /* the loser's re-run is a promotion of its own: it switches now (finalize
     * DONE, never RESUMED from a switch it did not make) and its backup holds
     * what it replaced, the winner's promoted data */
    char winner_backup[64];
    snprintf(winner_backup, sizeof(winner_backup), "%s", neonflow_report_backup_branch_id(x[w].rep));
    neonflow_report *r = NULL;
    RUN_OK(neonflow_promote(&r, x[l].c, x[l].ro, NULL, &err_));
    assert_int_equal(neonflow_step_status(step_named(r, "finalize")), NEONFLOW_STEP_DONE);
    assert_string_not_equal(neonflow_report_backup_branch_id(r), f->prod_id);
    content_of(f->s, neonflow_report_backup_branch_id(r), content, sizeof(content));
    assert_string_equal(content, "dev-v1");
    content_of(f->s, winner_backup, content, sizeof(content));
    assert_string_equal(content, "prod-v1");
    neonflow_report_free(r);
    race_free(x);
}

/* With a lease wait the second run waits, then runs after the first released. */
static void test_lease_wait_serialises(void **state)
{
    wf_fixture *f = *state;
    racer x[2];
    run_race(f, x, 120000);
    if (x[0].rc != NEONFLOW_OK || x[1].rc != NEONFLOW_OK)
        fail_msg("%s (%s) / %s (%s)", neonflow_error_name(x[0].rc), x[0].err, neonflow_error_name(x[1].rc), x[1].err);
    assert_int_equal((x[0].log.waited > 0) + (x[1].log.waited > 0), 1);
    int first = x[0].log.waited ? 1 : 0, second = 1 - first;
    char content[64];
    content_of(f->s, neonflow_report_backup_branch_id(x[first].rep), content, sizeof(content));
    assert_string_equal(content, "prod-v1");
    /* the second replaced what the first promoted */
    assert_string_equal(neonflow_report_old_target_branch_id(x[second].rep),
                        neonflow_report_target_branch_id(x[first].rep));
    content_of(f->s, neonflow_report_backup_branch_id(x[second].rep), content, sizeof(content));
    assert_string_equal(content, "dev-v1");
    assert_int_equal(count_kind(f->s, "branches", "promote-backup"), 2);
    assert_int_equal(lease_branches_in(f->s, PROJECT), 0);
    race_free(x);
}

/* ---- crash, resume, expiry ----------------------------------------------------------- */
static void test_crashed_run_resumes_its_lease(void **state)
{
    wf_fixture *f = *state;
    lease_log log = {0};
    neonflow_run_options *ro = run_opts("crash1", 0, &log);
    neonflow__workflow_set_interrupt_after(2); /* after snapshot-candidate, as if the process died */
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, ro, NULL, NULL), NEONFLOW_ECANCELLED);
    neonflow_report_free(r);
    neonflow__workflow_set_interrupt_after(0);
    char holder[64], lid[64];
    lease_holder(f, "production", holder, sizeof(holder), lid, sizeof(lid));
    assert_string_equal(holder, "crash1"); /* a crash leaves the lease */
    assert_int_equal(log.released, 0);

    /* another run is refused and changes nothing */
    int snaps = emu_count_snapshots(f->s, PROJECT);
    neonflow_run_options *other = run_opts("other", 0, NULL);
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, other, NULL, &err), NEONFLOW_ELEASE_HELD);
    assert_non_null(strstr(neonflow_error_message(err), "crash1"));
    assert_non_null(strstr(neonflow_error_message(err), lid));
    assert_non_null(strstr(neonflow_error_message(err), "expires"));
    assert_int_equal(emu_count_snapshots(f->s, PROJECT), snaps);
    assert_int_equal(resources_of_run(f->s, "other"), 0);
    neonflow_error_free(err);
    neonflow_report_free(r);
    /* so is a refresh of the same target */
    neonflow_refresh_options *rfo = NULL;
    neonflow_refresh_options_new(&rfo);
    neonflow_refresh_options_set_source(rfo, "dev");
    neonflow_refresh_options_set_target(rfo, "production");
    assert_int_equal(neonflow_refresh(&r, f->c, other, rfo, NULL), NEONFLOW_ELEASE_HELD);
    neonflow_report_free(r);
    neonflow_refresh_options_free(rfo);

    /* the same run id re-enters its own lease and finishes, also when the
     * answer to the lease's renewal is lost once (the soak saw EUNCERTAIN);
     * a given run id looks its lease up before creating one */
    emu_fault lost;
    emu_fault_init(&lost);
    lost.method = "PATCH";
    lost.path = "/projects/" PROJECT "/branches/*";
    lost.kind = EMU_FAULT_DROP_AFTER;
    assert_int_equal(emu_fault_add(f->s, &lost), 0);
    emu_counters_reset(f->s);
    RUN_OK(neonflow_promote(&r, f->c, ro, NULL, &err_));
    assert_int_equal(log.reentered, 1);
    /* looked up and extended: no create of the lease that answers 409 */
    assert_int_equal(emu_responses_with_status(f->s, 409), 0);
    assert_int_equal(log.released, 1);
    assert_int_equal(neonflow_step_status(step_named(r, "snapshot-candidate")), NEONFLOW_STEP_RESUMED);
    neonflow_report_free(r);
    assert_int_equal(lease_branches_in(f->s, PROJECT), 0);
    neonflow_run_options_free(ro);
    neonflow_run_options_free(other);
}

/* A crashed run's lease whose expires_at passed (Neon removes it only
 * eventually) is taken over; the resumed switch on the old target's ID
 * (nf/<target>/backup/...) leases the target's name. */
static void test_expired_lease_taken_over(void **state)
{
    wf_fixture *f = *state;
    assert_int_equal(emu_set_branch_expiry(f->s, PROJECT, 0), 0); /* the background job is late */
    neonflow_run_options *ro = run_opts("crash2", 0, NULL);
    assert_int_equal(neonflow_run_options_set_lease_ttl_ms(ro, 1000), NEONFLOW_OK);
    neonflow__workflow_set_interrupt_after(1);
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, ro, NULL, NULL), NEONFLOW_ECANCELLED);
    neonflow_report_free(r);
    neonflow__workflow_set_interrupt_after(0);
    char holder[64], lid[64], exp[64];
    lease_holder(f, "production", holder, sizeof(holder), lid, sizeof(lid));
    assert_string_equal(holder, "crash2");
    state_lookup(f->s, "branches", "id", lid, "expires_at", exp, sizeof(exp));
    int64_t exp_ms = -1;
    assert_int_equal(neonflow__rfc3339_ms(exp, &exp_ms), 0);
    for (int i = 0; i < 100 && wall_now_ms() <= exp_ms; i++)
        usleep(50 * 1000);
    assert_true(wall_now_ms() > exp_ms);
    lease_holder(f, "production", holder, sizeof(holder), lid, sizeof(lid));
    assert_string_equal(holder, "crash2"); /* still listed */

    lease_log log = {0};
    neonflow_run_options *fresh = run_opts("fresh", 0, &log);
    RUN_OK(neonflow_promote(&r, f->c, fresh, NULL, &err_));
    assert_int_equal(log.took_over, 1);
    assert_int_equal(log.released, 1);
    neonflow_report_free(r);
    assert_int_equal(lease_branches_in(f->s, PROJECT), 0);

    /* resuming by the old target's ID: interrupted right after the switch */
    neonflow_run_options *again = run_opts("by-id", 0, NULL);
    char prod_now[64];
    branch_id_by_name(f->s, "production", prod_now, sizeof(prod_now));
    neonflow__workflow_set_interrupt_after(6); /* after finalize */
    assert_int_equal(neonflow_promote(&r, f->c, again, NULL, NULL), NEONFLOW_ECANCELLED);
    neonflow_report_free(r);
    neonflow__workflow_set_interrupt_after(0);
    lease_holder(f, "production", holder, sizeof(holder), lid, sizeof(lid));
    assert_string_equal(holder, "by-id");
    neonflow_promote_options *po = NULL;
    neonflow_promote_options_new(&po);
    neonflow_promote_options_set_target(po, prod_now); /* now named nf/production/backup/.../by-id */
    RUN_OK(neonflow_promote(&r, f->c, again, po, &err_));
    assert_int_equal(neonflow_step_status(step_named(r, "finalize")), NEONFLOW_STEP_RESUMED);
    neonflow_report_free(r);
    assert_int_equal(lease_branches_in(f->s, PROJECT), 0);
    neonflow_promote_options_free(po);
    neonflow_run_options_free(again);
    neonflow_run_options_free(ro);
    neonflow_run_options_free(fresh);
}

/* ---- renewal and a lost lease ------------------------------------------------------- */
static void test_lease_renewed(void **state)
{
    wf_fixture *f = *state;
    emu_set_op_duration_ms(f->s, 200); /* the run lasts well over a third of the TTL */
    lease_log log = {0};
    neonflow_run_options *ro = run_opts("long", 0, &log);
    assert_int_equal(neonflow_run_options_set_lease_ttl_ms(ro, 1200), NEONFLOW_OK);
    emu_counters_reset(f->s);
    neonflow_report *r = NULL;
    RUN_OK(neonflow_promote(&r, f->c, ro, NULL, &err_));
    assert_true(log.renewed >= 1);
    assert_int_equal(emu_requests(f->s, "PATCH", NULL), log.renewed); /* the renewals are the only PATCHes */
    /* the steps' counters still add up to the report's */
    int64_t calls = 0;
    for (size_t i = 0; i < neonflow_report_step_count(r); i++)
        calls += neonflow_step_api_calls(neonflow_report_step_at(r, i));
    assert_int_equal(calls, neonflow_report_api_calls(r));
    neonflow_report_free(r);
    neonflow_run_options_free(ro);
}

typedef struct expire_lease {
    neonflow_client *c;
    const char *at_step;
    int done;
} expire_lease;

/* Gate: makes the run's lease expire (as if the run had stalled past its TTL), from another client. */
static int expire_lease_gate(const neonflow_step *st, void *payload)
{
    expire_lease *x = payload;
    if (x->done || strcmp(neonflow_step_name(st), x->at_step) != 0)
        return 0;
    neonflow_branch *b = NULL;
    assert_int_equal(neonflow_branch_find_by_name(&b, x->c, PROJECT, "nf/production/lease", NULL, NULL), NEONFLOW_OK);
    neonflow_branch_update_options *uo = NULL;
    neonflow_branch_update_options_new(&uo);
    neonflow_branch_update_options_set_expires_at(uo, "2020-01-01T00:00:00Z");
    assert_int_equal(neonflow_branch_update(NULL, NULL, x->c, PROJECT, neonflow_branch_id(b), uo, NULL, NULL),
                     NEONFLOW_OK);
    neonflow_branch_update_options_free(uo);
    neonflow_branch_free(b);
    x->done = 1;
    return 0;
}

static void test_lost_lease_stops_before_next_change(void **state)
{
    wf_fixture *f = *state;
    emu_set_op_duration_ms(f->s, 200);
    expire_lease x = {make_client(f->s), "snapshot-candidate", 0};
    neonflow_run_options *ro = run_opts("loses", 0, NULL);
    assert_int_equal(neonflow_run_options_set_lease_ttl_ms(ro, 1200), NEONFLOW_OK);
    neonflow_run_options_set_gate_hook(ro, expire_lease_gate, &x, NULL);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, ro, NULL, &err), NEONFLOW_ESTATE);
    assert_true(x.done);
    assert_non_null(strstr(neonflow_error_message(err), "lease"));
    assert_non_null(strstr(neonflow_error_message(err), "lost"));
    assert_int_not_equal(neonflow_step_status(step_named(r, "finalize")), NEONFLOW_STEP_DONE);
    /* production was never switched */
    char live[64], ep_branch[64];
    branch_id_by_name(f->s, "production", live, sizeof(live));
    assert_string_equal(live, f->prod_id);
    endpoint_branch(f->s, f->prod_ep, ep_branch, sizeof(ep_branch));
    assert_string_equal(ep_branch, f->prod_id);
    neonflow_error_free(err);
    neonflow_report_free(r);
    neonflow_run_options_free(ro);
    neonflow_client_free(x.c);
}

/* The holder's operations keep the project busy (423): the loser (a fresh
 * run id: it creates first) reads the lease at once instead of retrying its
 * create until the holder is done. A loser given a run id looks the lease up
 * first and sends no create at all. */
static void test_busy_project_fails_fast(void **state)
{
    wf_fixture *f = *state;
    neonflow_run_options *holder = run_opts("holder", 0, NULL);
    neonflow__workflow_set_interrupt_after(1);
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, holder, NULL, NULL), NEONFLOW_ECANCELLED);
    neonflow_report_free(r);
    neonflow__workflow_set_interrupt_after(0);
    /* one of the holder's operations runs for a while */
    emu_set_op_duration_ms(f->s, 5000);
    neonflow_snapshot *sn = NULL;
    assert_int_equal(neonflow_snapshot_create(&sn, NULL, f->c, PROJECT, f->dev_id, NULL, NULL, NULL), NEONFLOW_OK);
    neonflow_snapshot_free(sn);
    emu_counters_reset(f->s);
    neonflow_run_options *other = run_opts(NULL, 0, NULL);
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, other, NULL, &err), NEONFLOW_ELEASE_HELD);
    assert_non_null(strstr(neonflow_error_message(err), "holder"));
    assert_int_equal(emu_requests(f->s, "POST", "/projects/" PROJECT "/branches"), 1); /* not retried */
    assert_int_equal(emu_responses_with_status(f->s, 423), 1);
    neonflow_error_free(err);
    neonflow_report_free(r);
    r = NULL;
    err = NULL;
    emu_counters_reset(f->s);
    assert_int_equal(neonflow_run_options_set_run_id(other, "other"), NEONFLOW_OK);
    assert_int_equal(neonflow_promote(&r, f->c, other, NULL, &err), NEONFLOW_ELEASE_HELD);
    assert_non_null(strstr(neonflow_error_message(err), "holder"));
    assert_int_equal(emu_requests(f->s, "POST", "/projects/" PROJECT "/branches"), 0);
    assert_int_equal(emu_responses_with_status(f->s, 423), 0);
    neonflow_error_free(err);
    neonflow_report_free(r);
    neonflow_run_options_free(holder);
    neonflow_run_options_free(other);
}

/* With no lease in place, 423s on the lease's create (a busy project) are
 * waited out like any 423, within the run's busy wait, not given up after a
 * few tries: the soak campaign saw runs stop with EBUSY under load. */
static void test_busy_without_lease_waits(void **state)
{
    wf_fixture *f = *state;
    emu_fault fl;
    emu_fault_init(&fl);
    fl.method = "POST";
    fl.path = "/projects/" PROJECT "/branches";
    fl.kind = EMU_FAULT_STATUS;
    fl.status = 423;
    fl.count = 8;
    assert_int_equal(emu_fault_add(f->s, &fl), 0);
    emu_counters_reset(f->s);
    neonflow_run_options *ro = run_opts("patient", 0, NULL);
    neonflow_report *r = NULL;
    RUN_OK(neonflow_promote(&r, f->c, ro, NULL, &err_));
    assert_true(emu_responses_with_status(f->s, 423) >= 8);
    assert_int_equal(lease_branches_in(f->s, PROJECT), 0);
    neonflow_report_free(r);
    neonflow_run_options_free(ro);
}

/* A resumed run re-enters its own lease while the project is busy with a
 * long operation: its renewal's 423s are waited out, not fatal after the
 * HTTP layer's retries (the fault campaign saw ELOCKED at preflight). */
static void test_reenter_while_busy(void **state)
{
    wf_fixture *f = *state;
    neonflow_run_options *ro = run_opts("busy-again", 0, NULL);
    neonflow__workflow_set_interrupt_after(1);
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, ro, NULL, NULL), NEONFLOW_ECANCELLED);
    neonflow_report_free(r);
    neonflow__workflow_set_interrupt_after(0);
    emu_set_op_duration_ms(f->s, 6000);
    neonflow_snapshot *sn = NULL;
    assert_int_equal(neonflow_snapshot_create(&sn, NULL, f->c, PROJECT, f->dev_id, NULL, NULL, NULL), NEONFLOW_OK);
    neonflow_snapshot_free(sn);
    emu_set_op_duration_ms(f->s, 0);
    RUN_OK(neonflow_promote(&r, f->c, ro, NULL, &err_));
    neonflow_report_free(r);
    assert_int_equal(lease_branches_in(f->s, PROJECT), 0);
    neonflow_run_options_free(ro);
}

static void test_options(void **state)
{
    (void)state;
    neonflow_run_options *ro = NULL;
    neonflow_run_options_new(&ro);
    assert_int_equal(neonflow_run_options_set_lease_ttl_ms(ro, 999), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_run_options_set_lease_ttl_ms(ro, 1000), NEONFLOW_OK);
    assert_int_equal(neonflow_run_options_set_lease_wait_ms(ro, -1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_run_options_set_lease_wait_ms(ro, 0), NEONFLOW_OK);
    assert_int_equal(neonflow_run_options_set_lease_ttl_ms(NULL, 5000), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_run_options_set_lease_wait_ms(NULL, 5000), NEONFLOW_EINVAL);
    neonflow_run_options_free(ro);
    assert_string_equal(neonflow_error_name(NEONFLOW_ELEASE_HELD), "NEONFLOW_ELEASE_HELD");
    assert_true(neonflow__lease_name_is("nf/production/lease"));
    assert_false(neonflow__lease_name_is("nf/production/backup/20260101T000000Z/x"));
    assert_false(neonflow__lease_name_is("production/lease"));
}

static int setup_slow(void **state)
{
    *state = fixture_new(100, 1);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_runs_one_switch, setup_slow, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_lease_wait_serialises, setup_slow, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_crashed_run_resumes_its_lease, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_expired_lease_taken_over, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_lease_renewed, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_lost_lease_stops_before_next_change, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_busy_project_fails_fast, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_busy_without_lease_waits, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_reenter_while_busy, setup_instant, teardown_fixture),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
