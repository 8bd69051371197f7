/* Emulator: endpoint PATCH, start, suspend, restart, and compute settings
 * (autoscaling limits, suspend timeout, provisioner, settings) kept as sent
 * on endpoint create, branch create's endpoints[] and PATCH. */
#include "emu_http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
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

static double num(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static void test_branch_create_keeps_compute_settings(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    json_t *j = http_expect(fx->s, "POST", "/projects/proj/branches",
                            "{\"branch\":{\"name\":\"b\"},\"endpoints\":[{\"type\":\"read_write\","
                            "\"autoscaling_limit_min_cu\":0.5,\"autoscaling_limit_max_cu\":2,"
                            "\"suspend_timeout_seconds\":600,\"provisioner\":\"k8s-pod\"}]}",
                            201, &r);
    json_t *e = json_array_get(json_object_get(j, "endpoints"), 0);
    char eid[64], path[200];
    snprintf(eid, sizeof(eid), "%s", jstr(e, "id"));
    http_free(&r);
    wait_ops(fx->s, "proj");
    snprintf(path, sizeof(path), "/projects/proj/endpoints/%s", eid);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    e = json_object_get(j, "endpoint");
    assert_true(num(e, "autoscaling_limit_min_cu") == 0.5);
    assert_true(num(e, "autoscaling_limit_max_cu") == 2);
    assert_int_equal(json_integer_value(json_object_get(e, "suspend_timeout_seconds")), 600);
    assert_string_equal(jstr(e, "provisioner"), "k8s-pod");
    http_free(&r);
    /* bad settings in endpoints[] are a 400, and nothing is created */
    http_expect(fx->s, "POST", "/projects/proj/branches",
                "{\"branch\":{\"name\":\"c\"},\"endpoints\":[{\"type\":\"read_write\",\"autoscaling_limit_min_cu\":4,"
                "\"autoscaling_limit_max_cu\":1}]}",
                400, &r);
    http_free(&r);
    http_expect(fx->s, "POST", "/projects/proj/branches",
                "{\"branch\":{\"name\":\"c\"},\"endpoints\":[{\"type\":\"read_write\",\"suspend_timeout_seconds\":-5}]}",
                400, &r);
    http_free(&r);
    assert_int_equal(emu_count_branches(fx->s, "proj"), 2);
}

static void test_endpoint_patch(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char path[200];
    snprintf(path, sizeof(path), "/projects/proj/endpoints/%s", fx->eid);
    json_t *j = http_expect(fx->s, "PATCH", path,
                            "{\"endpoint\":{\"autoscaling_limit_min_cu\":1,\"autoscaling_limit_max_cu\":4,"
                            "\"suspend_timeout_seconds\":300,\"settings\":{\"pg_settings\":{\"work_mem\":\"64MB\"}},"
                            "\"name\":\"primary\"}}",
                            200, &r);
    assert_string_equal(jstr(j, "operations.0.action"), "apply_config");
    assert_string_equal(jstr(j, "operations.0.endpoint_id"), fx->eid);
    http_free(&r);
    wait_ops(fx->s, "proj");
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    json_t *e = json_object_get(j, "endpoint");
    assert_true(num(e, "autoscaling_limit_min_cu") == 1);
    assert_true(num(e, "autoscaling_limit_max_cu") == 4);
    assert_int_equal(json_integer_value(json_object_get(e, "suspend_timeout_seconds")), 300);
    assert_string_equal(jstr(e, "settings.pg_settings.work_mem"), "64MB");
    assert_string_equal(jstr(e, "name"), "primary");
    assert_string_equal(jstr(e, "current_state"), "active");
    http_free(&r);
    /* only max, below the kept min: 400 and nothing changes */
    http_expect(fx->s, "PATCH", path, "{\"endpoint\":{\"autoscaling_limit_max_cu\":0.5}}", 400, &r);
    http_free(&r);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_true(num(json_object_get(j, "endpoint"), "autoscaling_limit_max_cu") == 4);
    http_free(&r);
    http_expect(fx->s, "PATCH", path, "{}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "PATCH", path, "{\"endpoint\":{\"provisioner\":\"bare-metal\"}}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "PATCH", path, "{\"endpoint\":{\"branch_id\":\"br-no-such-branch\"}}", 404, &r);
    http_free(&r);
    http_expect(fx->s, "PATCH", "/projects/proj/endpoints/ep-no-such-endpoint", "{\"endpoint\":{}}", 404, &r);
    http_free(&r);
}

static const char *state_of(emu_fixture *fx, http_resp *r)
{
    char path[200];
    snprintf(path, sizeof(path), "/projects/proj/endpoints/%s", fx->eid);
    json_t *j = http_expect(fx->s, "GET", path, NULL, 200, r);
    return jstr(j, "endpoint.current_state");
}

static void test_start_suspend_restart(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char path[200];
    snprintf(path, sizeof(path), "/projects/proj/endpoints/%s/suspend", fx->eid);
    json_t *j = http_expect(fx->s, "POST", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "operations.0.action"), "suspend_compute");
    assert_string_equal(jstr(j, "endpoint.id"), fx->eid);
    http_free(&r);
    wait_ops(fx->s, "proj");
    assert_string_equal(state_of(fx, &r), "idle");
    http_free(&r);

    snprintf(path, sizeof(path), "/projects/proj/endpoints/%s/start", fx->eid);
    j = http_expect(fx->s, "POST", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "operations.0.action"), "start_compute");
    http_free(&r);
    wait_ops(fx->s, "proj");
    assert_string_equal(state_of(fx, &r), "active");
    http_free(&r);

    snprintf(path, sizeof(path), "/projects/proj/endpoints/%s/restart", fx->eid);
    j = http_expect(fx->s, "POST", path, NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(j, "operations")), 2);
    assert_string_equal(jstr(j, "operations.0.action"), "suspend_compute");
    assert_string_equal(jstr(j, "operations.1.action"), "start_compute");
    http_free(&r);
    wait_ops(fx->s, "proj");
    assert_string_equal(state_of(fx, &r), "active");
    http_free(&r);

    /* while the operation runs the endpoint shows where it comes from and goes to */
    emu_set_op_duration_ms(fx->s, 2000);
    snprintf(path, sizeof(path), "/projects/proj/endpoints/%s/suspend", fx->eid);
    j = http_expect(fx->s, "POST", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "endpoint.current_state"), "active");
    assert_string_equal(jstr(j, "endpoint.pending_state"), "idle");
    http_free(&r);
    http_expect(fx->s, "POST", path, NULL, 423, &r); /* the project is busy, as on Neon */
    http_free(&r);
    emu_set_op_duration_ms(fx->s, 0);
    wait_ops(fx->s, "proj");

    /* errors: unknown endpoint 404; a disabled endpoint cannot start */
    http_expect(fx->s, "POST", "/projects/proj/endpoints/ep-no-such-endpoint/start", NULL, 404, &r);
    http_free(&r);
    http_expect(fx->s, "POST", "/projects/proj/endpoints/ep-no-such-endpoint/suspend", NULL, 404, &r);
    http_free(&r);
    http_expect(fx->s, "POST", "/projects/proj/endpoints/ep-no-such-endpoint/restart", NULL, 404, &r);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/endpoints/%s", fx->eid);
    http_expect(fx->s, "PATCH", path, "{\"endpoint\":{\"disabled\":true}}", 200, &r);
    http_free(&r);
    wait_ops(fx->s, "proj");
    snprintf(path, sizeof(path), "/projects/proj/endpoints/%s/start", fx->eid);
    http_expect(fx->s, "POST", path, NULL, 400, &r);
    http_free(&r);
}

int main(void)
{
    alarm(100);
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_branch_create_keeps_compute_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoint_patch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_suspend_restart, setup, teardown),
    };
    int rc = cmocka_run_group_tests_name("emulator.compute", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
