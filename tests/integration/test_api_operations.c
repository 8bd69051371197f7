/* lib/api endpoints, operations, await and backup schedules against the
 * emulator: operations with real durations, fail-then-recover, error,
 * cancelled, deadline, cancellation from another thread. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_api_fixture.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Creates a child branch and returns its operations (not awaited). */
static neonflow_operation_list *mutate(api_fixture *f, const char *name)
{
    neonflow_branch_create_options *o;
    neonflow_branch_create_options_new(&o);
    neonflow_branch_create_options_set_name(o, name);
    neonflow_branch_create_options_set_with_rw_endpoint(o, 1);
    neonflow_branch_result *r = NULL;
    CHECK_OK(neonflow_branch_create(&r, f->c, PROJECT, o, NULL, err));
    neonflow_branch_create_options_free(o);
    /* copy the operations out through an ids round trip: get each one */
    const neonflow_operation_list *ops = neonflow_branch_result_operations(r);
    assert_true(neonflow_operation_list_count(ops) >= 1);
    neonflow_operation_list *copy = NULL;
    char cursor_dummy[1];
    (void)cursor_dummy;
    /* list the project's newest operations: they include these */
    CHECK_OK(neonflow_operations_list(&copy, f->c, PROJECT, NULL, (int32_t)neonflow_operation_list_count(ops), NULL, err));
    assert_int_equal(neonflow_operation_list_count(copy), neonflow_operation_list_count(ops));
    neonflow_branch_result_free(r);
    return copy;
}

static void test_endpoints(void **state)
{
    api_fixture *f = *state;
    char dev[64];
    assert_int_equal(emu_add_branch(f->s, PROJECT, "dev", f->main_id, 0, dev, NULL), 0);
    neonflow_endpoint_list *l = NULL;
    CHECK_OK(neonflow_endpoints_list(&l, f->c, PROJECT, NULL, err));
    assert_int_equal(neonflow_endpoint_list_count(l), 1);
    const neonflow_endpoint *e = neonflow_endpoint_list_at(l, 0);
    assert_string_equal(neonflow_endpoint_id(e), f->main_ep);
    assert_string_equal(neonflow_endpoint_branch_id(e), f->main_id);
    assert_string_equal(neonflow_endpoint_project_id(e), PROJECT);
    assert_int_equal(neonflow_endpoint_type(e), NEONFLOW_ENDPOINT_TYPE_READ_WRITE);
    assert_non_null(neonflow_endpoint_host(e));
    assert_non_null(neonflow_endpoint_region_id(e));
    assert_non_null(strstr(neonflow_endpoint_json(e), "\"settings\":{\"pg_settings\":{}}"));
    assert_true(neonflow_endpoint_autoscaling_limit_min_cu(e) >= 0.25);
    assert_true(neonflow_endpoint_current_state(e) != NEONFLOW_ENDPOINT_STATE_UNKNOWN);
    neonflow_endpoint_list_free(l);

    neonflow_endpoint *ep = NULL;
    neonflow_operation_list *ops = NULL;
    neonflow_endpoint_create_options *ro = NULL;
    assert_int_equal(neonflow_endpoint_create_options_new(&ro), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_type(ro, NEONFLOW_ENDPOINT_TYPE_READ_ONLY), NEONFLOW_OK);
    CHECK_OK(neonflow_endpoint_create(&ep, &ops, f->c, PROJECT, dev, ro, NULL, err));
    neonflow_endpoint_create_options_free(ro);
    assert_int_equal(neonflow_endpoint_type(ep), NEONFLOW_ENDPOINT_TYPE_READ_ONLY);
    assert_string_equal(neonflow_endpoint_branch_id(ep), dev);
    char ro_id[64];
    snprintf(ro_id, sizeof(ro_id), "%s", neonflow_endpoint_id(ep));
    neonflow_endpoint_free(ep);
    AWAIT_OPS(f, ops);
    CHECK_OK(neonflow_endpoint_create(&ep, NULL, f->c, PROJECT, dev, NULL, NULL, err));
    neonflow_endpoint_free(ep);
    ep = NULL;
    CHECK_RC(NEONFLOW_ECONFLICT,
             neonflow_endpoint_create(&ep, NULL, f->c, PROJECT, dev, NULL, NULL, err));
    assert_null(ep);

    CHECK_OK(neonflow_endpoints_list_for_branch(&l, f->c, PROJECT, dev, NULL, err));
    assert_int_equal(neonflow_endpoint_list_count(l), 2);
    neonflow_endpoint_list_free(l);
    CHECK_OK(neonflow_endpoints_list(&l, f->c, PROJECT, NULL, err));
    assert_int_equal(neonflow_endpoint_list_count(l), 3);
    neonflow_endpoint_list_free(l);
    CHECK_OK(neonflow_endpoint_get(&ep, f->c, PROJECT, ro_id, NULL, err));
    assert_string_equal(neonflow_endpoint_id(ep), ro_id);
    neonflow_endpoint_free(ep);
    CHECK_RC(NEONFLOW_ENOTFOUND, neonflow_endpoint_get(&ep, f->c, PROJECT, "ep-none-1", NULL, err));
}

static void test_operations_get_list(void **state)
{
    api_fixture *f = *state;
    neonflow_operation_list *ops = mutate(f, "b1");
    const neonflow_operation *op = neonflow_operation_list_at(ops, 0);
    neonflow_operation *got = NULL;
    CHECK_OK(neonflow_operation_get(&got, f->c, PROJECT, neonflow_operation_id(op), NULL, err));
    assert_string_equal(neonflow_operation_id(got), neonflow_operation_id(op));
    assert_string_equal(neonflow_operation_project_id(got), PROJECT);
    assert_true(neonflow_operation_action(got) != NEONFLOW_OP_ACTION_UNKNOWN);
    assert_true(neonflow_operation_status(got) != NEONFLOW_OP_STATUS_UNKNOWN);
    assert_true(neonflow_operation_created_at_ms(got) > 0);
    assert_int_equal(neonflow_operation_failures_count(got), 0);
    assert_true(neonflow_operation_total_duration_ms(got) >= 0);
    neonflow_operation_free(got);
    AWAIT_OPS(f, ops);
    neonflow_operation_list *more = mutate(f, "b2");
    neonflow_operation_list_free(more);

    /* paging with limit=1 walks every operation once */
    size_t total = 0;
    char cursor[128] = "";
    for (int page = 0; page < 100; page++) {
        neonflow_operation_list *l = NULL;
        CHECK_OK(neonflow_operations_list(&l, f->c, PROJECT, cursor[0] ? cursor : NULL, 1, NULL, err));
        total += neonflow_operation_list_count(l);
        const char *next = neonflow_operation_list_next_cursor(l);
        int stop = neonflow_operation_list_count(l) == 0 || !next;
        if (next)
            snprintf(cursor, sizeof(cursor), "%s", next);
        neonflow_operation_list_free(l);
        if (stop)
            break;
    }
    neonflow_operation_list *all = NULL;
    CHECK_OK(neonflow_operations_list(&all, f->c, PROJECT, NULL, 1000, NULL, err));
    assert_int_equal(total, neonflow_operation_list_count(all));
    assert_true(total >= 4);
    neonflow_operation_list_free(all);
    CHECK_RC(NEONFLOW_ENOTFOUND, neonflow_operation_get(&got, f->c, PROJECT, "00000000-0000-4000-8000-000000000000", NULL, err));
}

static int changes;
static int count_changes(const neonflow_operation *op, void *payload)
{
    (void)op;
    (void)payload;
    changes++;
    return 0;
}

static void test_await_with_durations(void **state)
{
    api_fixture *f = *state;
    emu_set_op_duration_ms(f->s, 700);
    neonflow_branch_create_options *o;
    neonflow_branch_create_options_new(&o);
    neonflow_branch_create_options_set_with_rw_endpoint(o, 1);
    neonflow_branch_result *r = NULL;
    CHECK_OK(neonflow_branch_create(&r, f->c, PROJECT, o, NULL, err));
    neonflow_branch_create_options_free(o);
    neonflow_await_options *ao;
    neonflow_await_options_new(&ao);
    changes = 0;
    neonflow_await_options_set_progress_hook(ao, count_changes, NULL, NULL);
    neonflow_await_result *ar = NULL;
    int64_t t0 = mono_ms();
    CHECK_OK(neonflow_operations_await(&ar, f->c, PROJECT, neonflow_branch_result_operations(r), ao, NULL, err));
    int64_t took = mono_ms() - t0;
    assert_true(took >= 500 && took < 2500);
    assert_true(neonflow_await_result_polls(ar) >= 2);
    assert_true(changes >= 1);
    const neonflow_operation_list *fin = neonflow_await_result_operations(ar);
    assert_int_equal(neonflow_operation_list_count(fin),
                     neonflow_operation_list_count(neonflow_branch_result_operations(r)));
    for (size_t i = 0; i < neonflow_operation_list_count(fin); i++)
        assert_int_equal(neonflow_operation_status(neonflow_operation_list_at(fin, i)), NEONFLOW_OP_STATUS_FINISHED);
    /* single id */
    neonflow_await_result_free(ar);
    const char *one_id = neonflow_operation_id(neonflow_operation_list_at(neonflow_branch_result_operations(r), 0));
    CHECK_OK(neonflow_operation_ids_await(&ar, f->c, PROJECT, &one_id, 1, NULL, NULL, err));
    assert_int_equal(neonflow_await_result_polls(ar), 1);
    neonflow_await_result_free(ar);
    neonflow_branch_result_free(r);
    neonflow_await_options_free(ao);
}

static void test_await_faults(void **state)
{
    api_fixture *f = *state;
    emu_set_op_duration_ms(f->s, 300);
    /* failed, then recovers: success */
    assert_int_equal(emu_op_fault_add(f->s, "create_branch", EMU_OPFAULT_FAIL_THEN_RECOVER, 1), 0);
    neonflow_operation_list *ops = mutate(f, "f1");
    CHECK_OK(neonflow_operations_await(NULL, f->c, PROJECT, ops, NULL, NULL, err));
    neonflow_operation_list_free(ops);
    /* error: EOPFAILED with the operation's id, action and error text */
    assert_int_equal(emu_op_fault_add(f->s, "create_branch", EMU_OPFAULT_ERROR, 1), 0);
    ops = mutate(f, "f2");
    neonflow_error *e = NULL;
    assert_int_equal(neonflow_operations_await(NULL, f->c, PROJECT, ops, NULL, NULL, &e), NEONFLOW_EOPFAILED);
    assert_non_null(strstr(neonflow_error_message(e), "create_branch"));
    int named = 0;
    for (size_t i = 0; i < neonflow_operation_list_count(ops); i++)
        named |= strstr(neonflow_error_message(e), neonflow_operation_id(neonflow_operation_list_at(ops, i))) != NULL;
    assert_true(named);
    neonflow_error_free(e);
    neonflow_operation_list_free(ops);
    sleep(1); /* let the other operations settle: the project is locked meanwhile */
    /* cancelled: EOPCANCELLED */
    assert_int_equal(emu_op_fault_add(f->s, "create_branch", EMU_OPFAULT_CANCELLED, 1), 0);
    ops = mutate(f, "f3");
    e = NULL;
    assert_int_equal(neonflow_operations_await(NULL, f->c, PROJECT, ops, NULL, NULL, &e), NEONFLOW_EOPCANCELLED);
    neonflow_error_free(e);
    neonflow_operation_list_free(ops);
    sleep(1);
    /* deadline: EOPTIMEOUT listing what is pending */
    emu_set_op_duration_ms(f->s, 5000);
    ops = mutate(f, "f4");
    neonflow_await_options *ao;
    neonflow_await_options_new(&ao);
    neonflow_await_options_set_timeout_ms(ao, 400);
    e = NULL;
    neonflow_await_result *ar = NULL;
    int64_t t0 = mono_ms();
    assert_int_equal(neonflow_operations_await(&ar, f->c, PROJECT, ops, ao, NULL, &e), NEONFLOW_EOPTIMEOUT);
    assert_true(mono_ms() - t0 < 1500);
    assert_non_null(strstr(neonflow_error_message(e), neonflow_operation_id(neonflow_operation_list_at(ops, 0))));
    assert_true(neonflow_await_result_polls(ar) >= 2);
    neonflow_await_result_free(ar);
    neonflow_error_free(e);
    neonflow_operation_list_free(ops);
    neonflow_await_options_free(ao);
}

struct canceller {
    neonflow_cancel *tok;
    int64_t delay_ms;
};
static void *cancel_later(void *arg)
{
    struct canceller *c = arg;
    usleep((useconds_t)(c->delay_ms * 1000));
    neonflow_cancel_trigger(c->tok);
    return NULL;
}

static void test_await_cancel_from_thread(void **state)
{
    api_fixture *f = *state;
    emu_set_op_duration_ms(f->s, 60000);
    neonflow_operation_list *ops = mutate(f, "slow");
    neonflow_await_options *ao;
    neonflow_await_options_new(&ao);
    struct canceller c = {NULL, 1500};
    neonflow_cancel_new(&c.tok);
    neonflow_await_options_set_cancel(ao, c.tok);
    pthread_t th;
    pthread_create(&th, NULL, cancel_later, &c);
    int64_t t0 = mono_ms();
    neonflow_error *e = NULL;
    assert_int_equal(neonflow_operations_await(NULL, f->c, PROJECT, ops, ao, NULL, &e), NEONFLOW_ECANCELLED);
    int64_t took = mono_ms() - t0;
    pthread_join(th, NULL);
    assert_true(took >= 1400 && took < 1700); /* woken promptly, not at the next poll */
    neonflow_error_free(e);
    neonflow_await_options_free(ao);
    neonflow_cancel_free(c.tok);
    neonflow_operation_list_free(ops);
}

static void test_backup_schedule(void **state)
{
    api_fixture *f = *state;
    neonflow_backup_schedule *s = NULL;
    CHECK_OK(neonflow_branch_backup_schedule_get(&s, f->c, PROJECT, f->main_id, NULL, err));
    assert_int_equal(neonflow_backup_schedule_count(s), 0);
    neonflow_backup_schedule_free(s);
    neonflow_backup_schedule_new(&s);
    assert_int_equal(neonflow_backup_schedule_add(s, "daily", 23, -1, -1, 604800), NEONFLOW_OK);
    assert_int_equal(neonflow_backup_schedule_add(s, "monthly", 2, 1, -1, 2592000), NEONFLOW_OK);
    CHECK_OK(neonflow_branch_backup_schedule_set(f->c, PROJECT, f->main_id, s, NULL, err));
    neonflow_backup_schedule_free(s);
    CHECK_OK(neonflow_branch_backup_schedule_get(&s, f->c, PROJECT, f->main_id, NULL, err));
    assert_int_equal(neonflow_backup_schedule_count(s), 2);
    const neonflow_backup_schedule_item *it = neonflow_backup_schedule_at(s, 0);
    assert_string_equal(neonflow_backup_schedule_item_frequency(it), "daily");
    assert_int_equal(neonflow_backup_schedule_item_hour(it), 23);
    assert_int_equal(neonflow_backup_schedule_item_day(it), -1);
    assert_int_equal(neonflow_backup_schedule_item_month(it), -1);
    assert_int_equal(neonflow_backup_schedule_item_retention_s(it), 604800);
    it = neonflow_backup_schedule_at(s, 1);
    assert_string_equal(neonflow_backup_schedule_item_frequency(it), "monthly");
    assert_int_equal(neonflow_backup_schedule_item_day(it), 1);
    neonflow_backup_schedule_free(s);
    CHECK_RC(NEONFLOW_ENOTFOUND, neonflow_branch_backup_schedule_get(&s, f->c, PROJECT, "br-none-1", NULL, err));
}

/* Every field of the endpoint create options reaches the server and is kept. */
static void test_endpoint_create_options(void **state)
{
    api_fixture *f = *state;
    char bid[64], eid[64];
    assert_int_equal(emu_add_branch(f->s, PROJECT, "ep-opts", f->main_id, 0, bid, eid), 0);
    neonflow_endpoint_create_options *o = NULL;
    assert_int_equal(neonflow_endpoint_create_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_name(o, "analytics"), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_region_id(o, "aws-us-east-2"), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_provisioner(o, "k8s-pod"), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_autoscaling_limit_min_cu(o, 0.5), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_autoscaling_limit_max_cu(o, 2), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_suspend_timeout_s(o, 600), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_suspend_timeout_s(o, 30), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_endpoint_create_options_set_disabled(o, 1), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_pg_setting(o, "work_mem", "64MB"), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_pg_setting(o, "dropped", "1"), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_pg_setting(o, "dropped", NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_pg_setting(o, "", "x"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_endpoint_create_options_set_autoscaling_limit_min_cu(o, 0.1), NEONFLOW_EINVAL);
    neonflow_endpoint *ep = NULL;
    neonflow_operation_list *ops = NULL;
    CHECK_OK(neonflow_endpoint_create(&ep, &ops, f->c, PROJECT, bid, o, NULL, err));
    AWAIT_OPS(f, ops);
    assert_string_equal(neonflow_endpoint_name(ep), "analytics");
    assert_true(neonflow_endpoint_autoscaling_limit_min_cu(ep) == 0.5);
    assert_true(neonflow_endpoint_autoscaling_limit_max_cu(ep) == 2);
    assert_int_equal(neonflow_endpoint_suspend_timeout_s(ep), 600);
    assert_string_equal(neonflow_endpoint_provisioner(ep), "k8s-pod");
    char id[64];
    snprintf(id, sizeof(id), "%s", neonflow_endpoint_id(ep));
    neonflow_endpoint_free(ep);

    /* read back from the server's state, not from the create answer */
    json_t *st = emu_state(f->s), *found = NULL, *v;
    size_t i;
    json_array_foreach(json_object_get(json_array_get(json_object_get(st, "projects"), 0), "endpoints"), i, v)
        if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
            found = v;
    assert_non_null(found);
    assert_true(json_is_true(json_object_get(found, "disabled")));
    assert_string_equal(json_string_value(json_object_get(found, "name")), "analytics");
    assert_true(json_real_value(json_object_get(found, "autoscaling_limit_max_cu")) == 2);
    json_t *pg = json_object_get(json_object_get(found, "settings"), "pg_settings");
    assert_string_equal(json_string_value(json_object_get(pg, "work_mem")), "64MB");
    assert_null(json_object_get(pg, "dropped"));
    json_decref(st);

    /* a value only the server can refuse reaches it: read_only in another region */
    assert_int_equal(neonflow_endpoint_create_options_set_type(o, NEONFLOW_ENDPOINT_TYPE_READ_ONLY), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_region_id(o, "aws-eu-central-1"), NEONFLOW_OK);
    CHECK_RC(NEONFLOW_EBADREQUEST, neonflow_endpoint_create(&ep, NULL, f->c, PROJECT, bid, o, NULL, err));
    assert_null(ep);
    neonflow_endpoint_create_options_free(o);
}

/* The caller's request id reaches the server and comes back in the error. */
static void test_call_options_request_id(void **state)
{
    api_fixture *f = *state;
    neonflow_call_options *call = NULL;
    assert_int_equal(neonflow_call_options_new(&call), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_set_request_id(call, "integration-rid-42"), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_set_deadline_ms(call, 10000), NEONFLOW_OK);
    neonflow_endpoint *ep = NULL;
    neonflow_error *e = NULL;
    assert_int_equal(neonflow_endpoint_get(&ep, f->c, PROJECT, "ep-missing-1", call, &e), NEONFLOW_ENOTFOUND);
    assert_string_equal(neonflow_error_request_id(e), "integration-rid-42");
    neonflow_error_free(e);
    neonflow_call_options_free(call);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_endpoints, api_setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_operations_get_list, api_setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_await_with_durations, api_setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_await_faults, api_setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_await_cancel_from_thread, api_setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_backup_schedule, api_setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_endpoint_create_options, api_setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_call_options_request_id, api_setup, api_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
