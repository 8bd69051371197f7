/* Fleet calls against time: the fleet's deadline (nothing starts after
 * it, running entries stop at a safe point, the same fleet run id resumes),
 * and a saturated client rate limiter holding a lease's release for a whole
 * minute window (on a clock that jumps instead of sleeping). */
#include "test_fleet_common.h"

static void test_deadline_then_resume(void **state)
{
    (void)state;
    fleet_fx *f = fx_new(100, -1);
    neonflow_fleet_options *fo = fleet_of(f, 4);
    neonflow_fleet_options_set_concurrency(fo, 1);
    neonflow_fleet_options_set_run_id(fo, "fleet-deadline");
    assert_int_equal(neonflow_fleet_options_set_timeout_ms(fo, -1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_fleet_options_set_timeout_ms(fo, 400), NEONFLOW_OK);
    neonflow_fleet_report *r = NULL;
    assert_int_equal(neonflow_fleet_promote(&r, f->c, fo, NULL, NULL), NEONFLOW_ETIMEOUT);
    assert_int_equal(neonflow_fleet_report_count(r, NEONFLOW_FLEET_ENTRY_FAILED), 0);
    assert_true(neonflow_fleet_report_count(r, NEONFLOW_FLEET_ENTRY_NOT_STARTED) >= 1);
    assert_true(neonflow_fleet_report_count(r, NEONFLOW_FLEET_ENTRY_CANCELLED) >= 1);
    assert_non_null(strstr(neonflow_fleet_report_message(r), "--run-id fleet-deadline"));
    neonflow_fleet_report_free(r);
    neonflow_fleet_options_set_timeout_ms(fo, 0);
    RUN_OK(neonflow_fleet_promote(&r, f->c, fo, NULL, &err_));
    for (int i = 0; i < 4; i++)
        assert_promoted_once(f, i);
    neonflow_fleet_report_free(r);
    neonflow_fleet_options_free(fo);
    fx_free(f);
}

typedef struct jump_clock {
    neonflow__sys real;
    int64_t offset; /* atomic */
} jump_clock;

static int64_t jc_now(void *ctx)
{
    jump_clock *j = ctx;
    return j->real.now_ms(j->real.ctx) + __atomic_load_n(&j->offset, __ATOMIC_SEQ_CST);
}
static int64_t jc_wall(void *ctx)
{
    jump_clock *j = ctx;
    return j->real.wall_ms(j->real.ctx) + __atomic_load_n(&j->offset, __ATOMIC_SEQ_CST);
}
static int jc_sleep(void *ctx, int64_t ms, neonflow_cancel *cancel)
{
    __atomic_add_fetch(&((jump_clock *)ctx)->offset, ms, __ATOMIC_SEQ_CST);
    return neonflow_cancel_is_triggered(cancel);
}
static uint64_t jc_random(void *ctx)
{
    jump_clock *j = ctx;
    return j->real.random(j->real.ctx);
}

static neonflow_client *limited_client(emu_server *s, int32_t per_minute, jump_clock *jc)
{
    neonflow_client_options *co = NULL;
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_options_new(&co), NEONFLOW_OK);
    neonflow_client_options_set_base_url(co, emu_base_url(s));
    neonflow_client_options_set_api_key(co, "emulator-key");
    neonflow_client_options_set_rate_limit(co, per_minute, 100000);
    assert_int_equal(neonflow_client_new(&c, co, NULL), NEONFLOW_OK);
    neonflow_client_options_free(co);
    jc->real = *neonflow__client_sys(c);
    neonflow__sys sys = {jc_now, jc_wall, jc_sleep, jc_random, jc};
    neonflow__client_set_sys(c, &sys);
    return c;
}

/* Regression (found by bench/fleet_bench.c: a second round failed with
 * ELEASE_HELD): when the client's rate limiter is saturated, the lease's
 * release can be held for up to a full minute window; it ran with a 30 s
 * cleanup deadline, failed at once, and left the target locked for the
 * lease's TTL. */
static void test_lease_released_through_a_full_rate_window(void **state)
{
    (void)state;
    fleet_fx *f = fx_new(0, -1);
    /* how many requests one promotion makes, its release last */
    int64_t before = emu_requests(f->s, NULL, NULL);
    neonflow_fleet_options *fo = NULL;
    neonflow_fleet_options_new(&fo);
    neonflow_fleet_options_add_entry(fo, f->pid[0], NULL, NULL);
    neonflow_fleet_report *r = NULL;
    RUN_OK(neonflow_fleet_promote(&r, f->c, fo, NULL, &err_));
    neonflow_fleet_report_free(r);
    neonflow_fleet_options_free(fo);
    int64_t k = emu_requests(f->s, NULL, NULL) - before;
    assert_true(k > 2);

    /* the same promotion on a twin project, with room for all but the release in the minute */
    jump_clock jc = {0};
    neonflow_client *c = limited_client(f->s, (int32_t)(k - 1), &jc);
    neonflow_fleet_options_new(&fo);
    neonflow_fleet_options_add_entry(fo, f->pid[1], NULL, NULL);
    neonflow_fleet_options_set_run_id(fo, "round-1");
    RUN_OK(neonflow_fleet_promote(&r, c, fo, NULL, &err_));
    neonflow_fleet_report_free(r);
    assert_int_equal(lease_branches_in(f->s, f->pid[1]), 0);
    assert_true(__atomic_load_n(&jc.offset, __ATOMIC_SEQ_CST) > 30000); /* the release waited > 30 s */
    /* the next round on the same target is not locked out */
    neonflow_fleet_options_set_run_id(fo, "round-2");
    RUN_OK(neonflow_fleet_promote(&r, c, fo, NULL, &err_));
    neonflow_fleet_report_free(r);
    assert_int_equal(lease_branches_in(f->s, f->pid[1]), 0);
    assert_int_equal(count_kind_in(f->s, f->pid[1], "branches", "promote-backup"), 2);
    neonflow_fleet_options_free(fo);
    neonflow_client_free(c);
    fx_free(f);
}
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline_then_resume),
        cmocka_unit_test(test_lease_released_through_a_full_rate_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
