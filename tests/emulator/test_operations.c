/* Emulator: operations in time, 423 while one runs, list paging, op faults. */
#include "emu_http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static int setup(void **state)
{
    static emu_fixture fx;
    if (fx_start(&fx, NULL) != 0)
        return -1;
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fx_stop(*state);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void op_status(emu_fixture *fx, const char *id, char *st, size_t len, json_t **op_out)
{
    char path[200];
    http_resp r;
    snprintf(path, sizeof(path), "/projects/proj/operations/%s", id);
    json_t *j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    snprintf(st, len, "%s", jstr(j, "operation.status"));
    if (op_out)
        *op_out = json_incref(json_object_get(j, "operation"));
    http_free(&r);
}

static void test_lifecycle_and_423(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char op[64], st[32], bid[64], path[200];
    emu_set_op_duration_ms(fx->s, 800);
    double t0 = now_s();
    json_t *j = http_expect(fx->s, "POST", "/projects/proj/branches", "{\"branch\":{\"name\":\"dev\"}}", 201, &r);
    snprintf(op, sizeof(op), "%s", jstr(j, "operations.0.id"));
    snprintf(bid, sizeof(bid), "%s", jstr(j, "branch.id"));
    assert_string_equal(jstr(j, "operations.0.status"), "scheduling");
    assert_string_equal(jstr(j, "branch.current_state"), "init");
    assert_string_equal(jstr(j, "branch.pending_state"), "ready");
    http_free(&r);

    /* mutations are locked while it runs; reads are not */
    http_expect(fx->s, "POST", "/projects/proj/branches", "{\"branch\":{\"name\":\"x\"}}", 423, &r);
    assert_non_null(jstr(r.json, "message"));
    assert_non_null(jstr(r.json, "code"));
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", bid);
    http_expect(fx->s, "PATCH", path, "{\"branch\":{\"name\":\"y\"}}", 423, &r);
    http_free(&r);
    http_expect(fx->s, "DELETE", path, NULL, 423, &r);
    http_free(&r);
    http_expect(fx->s, "GET", path, NULL, 200, &r);
    http_free(&r);

    int saw_running = 0;
    for (;;) {
        op_status(fx, op, st, sizeof(st), NULL);
        if (strcmp(st, "running") == 0)
            saw_running = 1;
        if (strcmp(st, "finished") == 0)
            break;
        assert_true(strcmp(st, "scheduling") == 0 || strcmp(st, "running") == 0);
        assert_true(now_s() - t0 < 5);
        usleep(50 * 1000);
    }
    assert_true(saw_running);
    assert_true(now_s() - t0 >= 0.75);
    json_t *o;
    op_status(fx, op, st, sizeof(st), &o);
    assert_int_equal(json_integer_value(json_object_get(o, "total_duration_ms")), 800);
    assert_string_equal(jstr(o, "action"), "create_branch");
    assert_string_equal(jstr(o, "branch_id"), bid);
    assert_int_equal(json_integer_value(json_object_get(o, "failures_count")), 0);
    json_decref(o);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "branch.current_state"), "ready");
    http_free(&r);
    emu_set_op_duration_ms(fx->s, 0);
    http_expect(fx->s, "PATCH", path, "{\"branch\":{\"name\":\"y\"}}", 200, &r);
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/proj/operations/00000000-0000-4000-8000-000000000000", NULL, 404, &r);
    assert_string_equal(jstr(r.json, "message"), "operation not found");
    http_free(&r);
}

static void test_list_paging(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char path[256], body[100];
    for (int i = 0; i < 5; i++) { /* 5 create_branch ops */
        snprintf(body, sizeof(body), "{\"branch\":{\"name\":\"b%d\"}}", i);
        http_expect(fx->s, "POST", "/projects/proj/branches", body, 201, &r);
        http_free(&r);
    }
    json_t *all = http_expect(fx->s, "GET", "/projects/proj/operations", NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(all, "operations")), 5);
    char newest[64];
    snprintf(newest, sizeof(newest), "%s", jstr(all, "operations.0.id"));
    http_free(&r);
    /* newest first, pages of 2 */
    char cursor[64] = "";
    json_t *ids = json_array();
    for (int page = 0; page < 4; page++) {
        snprintf(path, sizeof(path), "/projects/proj/operations?limit=2%s%s", cursor[0] ? "&cursor=" : "", cursor);
        json_t *j = http_expect(fx->s, "GET", path, NULL, 200, &r);
        json_t *list = json_object_get(j, "operations"), *op;
        size_t k;
        json_array_foreach(list, k, op) json_array_append_new(ids, json_string(jstr(op, "id")));
        if (page < 3) {
            assert_int_equal(json_array_size(list), page < 2 ? 2 : 1);
            assert_non_null(jstr(j, "pagination.cursor"));
            snprintf(cursor, sizeof(cursor), "%s", jstr(j, "pagination.cursor"));
        } else {
            assert_int_equal(json_array_size(list), 0);
        }
        http_free(&r);
    }
    assert_int_equal(json_array_size(ids), 5);
    assert_string_equal(json_string_value(json_array_get(ids, 0)), newest);
    json_decref(ids);
    http_expect(fx->s, "GET", "/projects/proj/operations?limit=0", NULL, 400, &r);
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/proj/operations?cursor=yesterday", NULL, 400, &r);
    http_free(&r);
}

static void test_op_faults(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char op[64], st[32];
    json_t *o;

    /* fail then recover (instant ops): failed with failures_count and retry_at, then finished */
    assert_int_equal(emu_op_fault_add(fx->s, "create_branch", EMU_OPFAULT_FAIL_THEN_RECOVER, 1), 0);
    json_t *j = http_expect(fx->s, "POST", "/projects/proj/branches", "{\"branch\":{\"name\":\"f1\"}}", 201, &r);
    snprintf(op, sizeof(op), "%s", jstr(j, "operations.0.id"));
    http_free(&r);
    op_status(fx, op, st, sizeof(st), &o);
    assert_string_equal(st, "failed");
    assert_int_equal(json_integer_value(json_object_get(o, "failures_count")), 1);
    assert_non_null(jstr(o, "retry_at"));
    json_decref(o);
    http_expect(fx->s, "POST", "/projects/proj/branches", "{\"branch\":{\"name\":\"f2\"}}", 423, &r);
    http_free(&r);
    double t0 = now_s();
    do {
        assert_true(now_s() - t0 < 5);
        usleep(30 * 1000);
        op_status(fx, op, st, sizeof(st), &o);
        json_decref(o);
    } while (strcmp(st, "failed") == 0);
    op_status(fx, op, st, sizeof(st), &o);
    assert_string_equal(st, "finished");
    assert_int_equal(json_integer_value(json_object_get(o, "failures_count")), 1);
    json_decref(o);

    /* error: terminal with a message; the action filter skips other actions */
    assert_int_equal(emu_op_fault_add(fx->s, "start_compute", EMU_OPFAULT_ERROR, 1), 0);
    j = http_expect(fx->s, "POST", "/projects/proj/branches",
                    "{\"branch\":{\"name\":\"f3\"},\"endpoints\":[{\"type\":\"read_write\"}]}", 201, &r);
    assert_string_equal(jstr(j, "operations.0.status"), "finished");
    assert_string_equal(jstr(j, "operations.1.action"), "start_compute");
    assert_string_equal(jstr(j, "operations.1.status"), "error");
    assert_non_null(jstr(j, "operations.1.error"));
    http_free(&r);

    /* cancelled, any action; count 1 only */
    assert_int_equal(emu_op_fault_add(fx->s, NULL, EMU_OPFAULT_CANCELLED, 1), 0);
    j = http_expect(fx->s, "POST", "/projects/proj/branches", "{\"branch\":{\"name\":\"f4\"}}", 201, &r);
    assert_string_equal(jstr(j, "operations.0.status"), "cancelled");
    http_free(&r);
    j = http_expect(fx->s, "POST", "/projects/proj/branches", "{\"branch\":{\"name\":\"f5\"}}", 201, &r);
    assert_string_equal(jstr(j, "operations.0.status"), "finished");
    http_free(&r);
    assert_int_not_equal(emu_op_fault_add(fx->s, NULL, 99, 1), 0);

    /* with a duration, an error op runs first, then ends in error */
    emu_set_op_duration_ms(fx->s, 300);
    assert_int_equal(emu_op_fault_add(fx->s, NULL, EMU_OPFAULT_ERROR, 1), 0);
    j = http_expect(fx->s, "POST", "/projects/proj/branches", "{\"branch\":{\"name\":\"f6\"}}", 201, &r);
    snprintf(op, sizeof(op), "%s", jstr(j, "operations.0.id"));
    assert_string_equal(jstr(j, "operations.0.status"), "scheduling");
    http_free(&r);
    usleep(400 * 1000);
    op_status(fx, op, st, sizeof(st), NULL);
    assert_string_equal(st, "error");
}

int main(void)
{
    alarm(100);
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lifecycle_and_423, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_op_faults, setup, teardown),
    };
    int rc = cmocka_run_group_tests_name("emulator.operations", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
