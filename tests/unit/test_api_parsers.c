/* lib/api response parsers: every getter on the spec's example objects,
 * unknown fields and enum values, malformed and missing fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/api-private.h"
#include "core/alloc.h"
#include "neonflow/neonflow.h"

#define OP_JSON                                                                                              \
    "{\"id\":\"d8ac46eb-a757-42b1-9907-f78322ee394e\",\"project_id\":\"spring-example-302709\","          \
    "\"branch_id\":\"br-wispy-meadow-118737\",\"endpoint_id\":\"ep-silent-smoke-806639\","                 \
    "\"action\":\"start_compute\",\"status\":\"finished\",\"failures_count\":0,"                          \
    "\"created_at\":\"2022-11-15T20:02:00Z\",\"updated_at\":\"2022-11-15T20:02:02Z\",\"total_duration_ms\":200}"

#define BRANCH_JSON                                                                                           \
    "{\"id\":\"br-wispy-meadow-118737\",\"project_id\":\"spring-example-302709\","                          \
    "\"parent_id\":\"br-aged-salad-637688\",\"parent_lsn\":\"0/1DE2850\",\"name\":\"dev2\",\"protected\":false," \
    "\"current_state\":\"ready\",\"state_changed_at\":\"2022-11-30T20:09:48Z\",\"creation_source\":\"console\"," \
    "\"created_at\":\"2022-11-30T19:09:48Z\",\"updated_at\":\"2022-12-01T19:53:05Z\",\"default\":true,"      \
    "\"init_source\":\"parent-data\",\"data_transfer_bytes\":72911987,\"written_data_bytes\":542998300,"     \
    "\"compute_time_seconds\":823880990,\"active_time_seconds\":922200,\"cpu_used_sec\":461100}"

#define EP_JSON                                                                                               \
    "{\"host\":\"ep-silent-smoke-806639.us-east-2.aws.neon.tech\",\"id\":\"ep-silent-smoke-806639\","        \
    "\"name\":\"My cool compute\",\"project_id\":\"spring-example-302709\",\"branch_id\":\"br-wispy-meadow-118737\"," \
    "\"autoscaling_limit_min_cu\":1,\"autoscaling_limit_max_cu\":1,\"region_id\":\"aws-us-east-2\","        \
    "\"type\":\"read_write\",\"current_state\":\"init\",\"pending_state\":\"active\","                     \
    "\"settings\":{\"pg_settings\":{}},\"pooler_enabled\":false,\"pooler_mode\":\"transaction\","           \
    "\"disabled\":false,\"passwordless_access\":true,\"creation_source\":\"console\","                      \
    "\"created_at\":\"2022-12-03T15:37:07Z\",\"updated_at\":\"2022-12-03T15:37:07Z\","                       \
    "\"proxy_host\":\"us-east-2.aws.neon.tech\",\"suspend_timeout_seconds\":0,\"provisioner\":\"k8s-neonvm\"}"

#define SNAP_JSON                                                                                             \
    "{\"id\":\"snap-quiet-meadow-a5b6c7d8\",\"name\":\"prod_snap\",\"lsn\":\"0/1DE2850\","                    \
    "\"timestamp\":\"2025-08-05T22:00:00Z\",\"source_branch_id\":\"br-wispy-meadow-118737\","                 \
    "\"created_at\":\"2025-08-05T22:00:01.123456Z\",\"expires_at\":\"2025-09-04T22:00:00+02:00\","           \
    "\"manual\":true,\"full_size\":104857600,\"diff_size\":4096,\"slug\":\"prod-snap\"}"

static json_t *load(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    assert_non_null(j);
    return j;
}

static void expect_protocol(int rc, neonflow_error **ep, const char *needle)
{
    neonflow_error *e = *ep;
    *ep = NULL;
    assert_int_equal(rc, NEONFLOW_EPROTOCOL);
    assert_non_null(e);
    assert_int_equal(neonflow_error_code(e), NEONFLOW_EPROTOCOL);
    if (needle && !strstr(neonflow_error_message(e), needle))
        fail_msg("message \"%s\" lacks \"%s\"", neonflow_error_message(e), needle);
    neonflow_error_free(e);
}

static void test_operation_every_getter(void **state)
{
    (void)state;
    json_t *root = load("{\"operation\":" OP_JSON ",\"extra\":{\"x\":[1,2]}}");
    neonflow_operation *op = NULL;
    neonflow_error *e = NULL;
    assert_int_equal(neonflow__parse_operation_response(root, &op, &e), NEONFLOW_OK);
    json_decref(root); /* the operation keeps its own reference */
    assert_string_equal(neonflow_operation_id(op), "d8ac46eb-a757-42b1-9907-f78322ee394e");
    assert_string_equal(neonflow_operation_project_id(op), "spring-example-302709");
    assert_string_equal(neonflow_operation_branch_id(op), "br-wispy-meadow-118737");
    assert_string_equal(neonflow_operation_endpoint_id(op), "ep-silent-smoke-806639");
    assert_int_equal(neonflow_operation_action(op), NEONFLOW_OP_ACTION_START_COMPUTE);
    assert_string_equal(neonflow_operation_action_raw(op), "start_compute");
    assert_int_equal(neonflow_operation_status(op), NEONFLOW_OP_STATUS_FINISHED);
    assert_string_equal(neonflow_operation_status_raw(op), "finished");
    assert_null(neonflow_operation_error(op));
    assert_int_equal(neonflow_operation_failures_count(op), 0);
    assert_null(neonflow_operation_retry_at(op));
    assert_string_equal(neonflow_operation_created_at(op), "2022-11-15T20:02:00Z");
    assert_int_equal(neonflow_operation_created_at_ms(op), 1668542520000LL);
    assert_string_equal(neonflow_operation_updated_at(op), "2022-11-15T20:02:02Z");
    assert_int_equal(neonflow_operation_total_duration_ms(op), 200);
    assert_int_equal(neonflow_operation_is_done(op), 1);
    neonflow_operation_free(op);
}

static void test_operation_enums_and_failed(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int32_t code;
        int done;
    } st[] = {{"scheduling", NEONFLOW_OP_STATUS_SCHEDULING, 0}, {"running", NEONFLOW_OP_STATUS_RUNNING, 0},
              {"finished", NEONFLOW_OP_STATUS_FINISHED, 1},     {"failed", NEONFLOW_OP_STATUS_FAILED, 0},
              {"error", NEONFLOW_OP_STATUS_ERROR, 1},           {"cancelling", NEONFLOW_OP_STATUS_CANCELLING, 0},
              {"cancelled", NEONFLOW_OP_STATUS_CANCELLED, 1},   {"skipped", NEONFLOW_OP_STATUS_SKIPPED, 1},
              {"paused_by_aliens", NEONFLOW_OP_STATUS_UNKNOWN, 0}};
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        json_t *root = load("{\"operation\":" OP_JSON "}");
        json_object_set_new(json_object_get(root, "operation"), "status", json_string(st[i].s));
        json_object_set_new(json_object_get(root, "operation"), "action", json_string("epc_sync"));
        json_object_set_new(json_object_get(root, "operation"), "retry_at", json_string("2022-11-15T20:03:00.5Z"));
        json_object_set_new(json_object_get(root, "operation"), "error", json_string("boom"));
        neonflow_operation *op = NULL;
        assert_int_equal(neonflow__parse_operation_response(root, &op, NULL), NEONFLOW_OK);
        assert_int_equal(neonflow_operation_status(op), st[i].code);
        assert_string_equal(neonflow_operation_status_raw(op), st[i].s);
        assert_int_equal(neonflow_operation_is_done(op), st[i].done);
        assert_int_equal(neonflow_operation_action(op), NEONFLOW_OP_ACTION_EPC_SYNC);
        assert_string_equal(neonflow_operation_error(op), "boom");
        neonflow_operation_free(op);
        json_decref(root);
    }
    json_t *root = load("{\"operation\":" OP_JSON "}");
    json_object_set_new(json_object_get(root, "operation"), "action", json_string("brand_new_action"));
    neonflow_operation *op = NULL;
    assert_int_equal(neonflow__parse_operation_response(root, &op, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_operation_action(op), NEONFLOW_OP_ACTION_UNKNOWN);
    assert_string_equal(neonflow_operation_action_raw(op), "brand_new_action");
    neonflow_operation_free(op);
    json_decref(root);
}

static void test_operations_page_cursor(void **state)
{
    (void)state;
    json_t *root = load("{\"operations\":[" OP_JSON "," OP_JSON "],\"pagination\":{\"cursor\":\"2022-12-07T00:45:05Z\"}}");
    neonflow_operation_list *l = NULL;
    assert_int_equal(neonflow__parse_operations_response(root, 1, &l, NULL), NEONFLOW_OK);
    json_decref(root);
    assert_int_equal(neonflow_operation_list_count(l), 2);
    assert_string_equal(neonflow_operation_id(neonflow_operation_list_at(l, 1)), "d8ac46eb-a757-42b1-9907-f78322ee394e");
    assert_null(neonflow_operation_list_at(l, 2));
    assert_string_equal(neonflow_operation_list_next_cursor(l), "2022-12-07T00:45:05Z");
    neonflow_operation_list_free(l);

    root = load("{\"operations\":[]}");
    assert_int_equal(neonflow__parse_operations_response(root, 1, &l, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_operation_list_count(l), 0);
    assert_null(neonflow_operation_list_next_cursor(l));
    neonflow_operation_list_free(l);
    json_decref(root);
}

static void test_branch_every_getter(void **state)
{
    (void)state;
    json_t *root = load("{\"branch\":" BRANCH_JSON ",\"annotation\":{\"value\":{}},\"operations\":[" OP_JSON "]}");
    neonflow_branch *b = NULL;
    neonflow_operation_list *ops = NULL;
    assert_int_equal(neonflow__parse_branch_response(root, &b, &ops, NULL), NEONFLOW_OK);
    json_decref(root);
    assert_int_equal(neonflow_operation_list_count(ops), 1);
    neonflow_operation_list_free(ops);
    assert_string_equal(neonflow_branch_id(b), "br-wispy-meadow-118737");
    assert_string_equal(neonflow_branch_project_id(b), "spring-example-302709");
    assert_string_equal(neonflow_branch_parent_id(b), "br-aged-salad-637688");
    assert_string_equal(neonflow_branch_parent_lsn(b), "0/1DE2850");
    assert_null(neonflow_branch_parent_timestamp(b));
    assert_string_equal(neonflow_branch_name(b), "dev2");
    assert_int_equal(neonflow_branch_current_state(b), NEONFLOW_BRANCH_STATE_READY);
    assert_string_equal(neonflow_branch_current_state_raw(b), "ready");
    assert_int_equal(neonflow_branch_pending_state(b), NEONFLOW_BRANCH_STATE_NONE);
    assert_null(neonflow_branch_pending_state_raw(b));
    assert_string_equal(neonflow_branch_state_changed_at(b), "2022-11-30T20:09:48Z");
    assert_int_equal(neonflow_branch_logical_size_bytes(b), -1);
    assert_string_equal(neonflow_branch_creation_source(b), "console");
    assert_int_equal(neonflow_branch_is_default(b), 1);
    assert_int_equal(neonflow_branch_is_protected(b), 0);
    assert_int_equal(neonflow_branch_has_default(b), 1);
    assert_int_equal(neonflow_branch_has_protected(b), 1);
    assert_int_equal(neonflow_branch_compute_time_s(b), 823880990);
    assert_int_equal(neonflow_branch_active_time_s(b), 922200);
    assert_int_equal(neonflow_branch_written_data_bytes(b), 542998300);
    assert_int_equal(neonflow_branch_data_transfer_bytes(b), 72911987);
    assert_string_equal(neonflow_branch_created_at(b), "2022-11-30T19:09:48Z");
    assert_int_equal(neonflow_branch_created_at_ms(b), 1669835388000LL);
    assert_string_equal(neonflow_branch_updated_at(b), "2022-12-01T19:53:05Z");
    assert_int_equal(neonflow_branch_updated_at_ms(b), 1669924385000LL);
    assert_null(neonflow_branch_last_reset_at(b));
    assert_null(neonflow_branch_expires_at(b));
    assert_int_equal(neonflow_branch_ttl_interval_s(b), -1);
    assert_null(neonflow_branch_created_by_name(b));
    assert_null(neonflow_branch_created_by_image(b));
    assert_string_equal(neonflow_branch_init_source(b), "parent-data");
    assert_int_equal(neonflow_branch_restore_status(b), NEONFLOW_RESTORE_STATUS_NONE);
    assert_null(neonflow_branch_restore_status_raw(b));
    assert_null(neonflow_branch_restored_from(b));
    assert_null(neonflow_branch_restored_as(b));
    assert_int_equal(neonflow_branch_restricted_action_count(b), 0);
    assert_null(neonflow_branch_restricted_action_name_at(b, 0));
    assert_int_equal(neonflow_branch_is_action_restricted(b, "restore"), 0);
    neonflow_branch_free(b);
}

static void test_branch_optional_fields(void **state)
{
    (void)state;
    json_t *root = load("{\"branch\":" BRANCH_JSON "}");
    json_t *br = json_object_get(root, "branch");
    json_object_del(br, "default");
    json_object_set_new(br, "primary", json_false());
    json_object_set_new(br, "pending_state", json_string("frozen"));
    json_object_set_new(br, "logical_size", json_integer(12345678901LL));
    json_object_set_new(br, "parent_timestamp", json_string("2022-11-30T19:09:48.250-01:30"));
    json_object_set_new(br, "last_reset_at", json_string("2023-01-01T00:00:00Z"));
    json_object_set_new(br, "expires_at", json_string("2030-01-01T00:00:00Z"));
    json_object_set_new(br, "ttl_interval_seconds", json_integer(3600));
    json_object_set_new(br, "created_by", json_pack("{s:s,s:s}", "name", "alice", "image", "http://i"));
    json_object_set_new(br, "restore_status", json_string("restored"));
    json_object_set_new(br, "restored_from", json_string("snap-1"));
    json_object_set_new(br, "restored_as", json_string("br-old-1"));
    json_object_set_new(br, "restricted_actions",
                        json_pack("[{s:s,s:s},{s:s,s:s}]", "name", "restore", "reason", "detaching", "name",
                                  "delete-rw-endpoint", "reason", "r2"));
    json_object_set_new(br, "recovery", json_pack("{s:s,s:s,s:s}", "deleted_at", "2023-01-02T00:00:00Z",
                                                  "recoverable_until", "2023-01-09T00:00:00Z", "deletion_method",
                                                  "ttl"));
    neonflow_branch *b = NULL;
    assert_int_equal(neonflow__parse_branch_response(root, &b, NULL, NULL), NEONFLOW_OK);
    json_decref(root);
    assert_int_equal(neonflow_branch_is_default(b), 0);
    assert_int_equal(neonflow_branch_pending_state(b), NEONFLOW_BRANCH_STATE_UNKNOWN);
    assert_string_equal(neonflow_branch_pending_state_raw(b), "frozen");
    assert_int_equal(neonflow_branch_logical_size_bytes(b), 12345678901LL);
    /* 19:09:48.250 at -01:30 is 20:39:48.250 UTC */
    assert_int_equal(neonflow_branch_ttl_interval_s(b), 3600);
    assert_string_equal(neonflow_branch_created_by_name(b), "alice");
    assert_string_equal(neonflow_branch_created_by_image(b), "http://i");
    assert_int_equal(neonflow_branch_restore_status(b), NEONFLOW_RESTORE_STATUS_RESTORED);
    assert_string_equal(neonflow_branch_restore_status_raw(b), "restored");
    assert_string_equal(neonflow_branch_restored_from(b), "snap-1");
    assert_string_equal(neonflow_branch_restored_as(b), "br-old-1");
    assert_int_equal(neonflow_branch_restricted_action_count(b), 2);
    assert_string_equal(neonflow_branch_restricted_action_name_at(b, 1), "delete-rw-endpoint");
    assert_string_equal(neonflow_branch_restricted_action_reason_at(b, 0), "detaching");
    assert_null(neonflow_branch_restricted_action_name_at(b, 2));
    assert_int_equal(neonflow_branch_is_action_restricted(b, "restore"), 1);
    assert_int_equal(neonflow_branch_is_action_restricted(b, "delete"), 0);
    assert_int_equal(neonflow_branch_is_action_restricted(b, NULL), 0);
    assert_non_null(strstr(neonflow_branch_json(b), "\"deletion_method\":\"ttl\"")); /* no getter: raw JSON */
    neonflow_branch_free(b);

    static const char *const restore_values[] = {"finalized", "detaching", "weird"};
    static const int32_t restore_codes[] = {NEONFLOW_RESTORE_STATUS_FINALIZED, NEONFLOW_RESTORE_STATUS_DETACHING,
                                            NEONFLOW_RESTORE_STATUS_UNKNOWN};
    static const char *const states[] = {"init", "resetting", "archived"};
    static const int32_t state_codes[] = {NEONFLOW_BRANCH_STATE_INIT, NEONFLOW_BRANCH_STATE_RESETTING,
                                          NEONFLOW_BRANCH_STATE_ARCHIVED};
    for (int i = 0; i < 3; i++) {
        root = load("{\"branch\":" BRANCH_JSON "}");
        json_object_set_new(json_object_get(root, "branch"), "restore_status", json_string(restore_values[i]));
        json_object_set_new(json_object_get(root, "branch"), "current_state", json_string(states[i]));
        assert_int_equal(neonflow__parse_branch_response(root, &b, NULL, NULL), NEONFLOW_OK);
        assert_int_equal(neonflow_branch_restore_status(b), restore_codes[i]);
        assert_int_equal(neonflow_branch_current_state(b), state_codes[i]);
        neonflow_branch_free(b);
        json_decref(root);
    }
}

static void test_branch_list_pages(void **state)
{
    (void)state;
    neonflow_branch_list *l = NULL;
    assert_int_equal(neonflow__branch_list_new(&l, NULL), NEONFLOW_OK);
    json_t *p1 = load("{\"branches\":[" BRANCH_JSON "],\"annotations\":{},\"pagination\":{\"next\":\"c2\"}}");
    json_t *p2 = load("{\"branches\":[" BRANCH_JSON "," BRANCH_JSON "]}");
    const char *next;
    size_t items;
    assert_int_equal(neonflow__branch_list_append_page(l, p1, &next, &items, NULL), NEONFLOW_OK);
    assert_string_equal(next, "c2");
    assert_int_equal(items, 1);
    assert_int_equal(neonflow__branch_list_append_page(l, p2, &next, &items, NULL), NEONFLOW_OK);
    assert_null(next);
    assert_int_equal(items, 2);
    json_decref(p1);
    json_decref(p2);
    assert_int_equal(neonflow_branch_list_count(l), 3);
    assert_string_equal(neonflow_branch_name(neonflow_branch_list_at(l, 2)), "dev2");
    assert_null(neonflow_branch_list_at(l, 3));
    /* a copy outlives its list; out of memory leaves *out NULL */
    neonflow_branch *copy = (neonflow_branch *)l;
    neonflow__alloc_fail_after(0);
    assert_int_equal(neonflow_branch_dup(&copy, neonflow_branch_list_at(l, 2)), NEONFLOW_ENOMEM);
    neonflow__alloc_fail_after(-1);
    assert_null(copy);
    assert_int_equal(neonflow_branch_dup(&copy, neonflow_branch_list_at(l, 2)), NEONFLOW_OK);
    neonflow_branch_list_free(l);
    assert_string_equal(neonflow_branch_name(copy), "dev2");
    assert_non_null(neonflow_branch_json(copy));
    neonflow_branch_free(copy);
}

static void test_branch_result(void **state)
{
    (void)state;
    json_t *root = load("{\"branch\":" BRANCH_JSON ",\"endpoints\":[" EP_JSON "],\"operations\":[" OP_JSON
                        "," OP_JSON "],\"roles\":[],\"databases\":[],\"connection_uris\":[]}");
    neonflow_branch_result *r = NULL;
    assert_int_equal(neonflow__parse_branch_result_response(root, &r, NULL), NEONFLOW_OK);
    json_decref(root);
    assert_string_equal(neonflow_branch_id(neonflow_branch_result_branch(r)), "br-wispy-meadow-118737");
    assert_int_equal(neonflow_endpoint_list_count(neonflow_branch_result_endpoints(r)), 1);
    assert_string_equal(neonflow_endpoint_host(neonflow_endpoint_list_at(neonflow_branch_result_endpoints(r), 0)),
                        "ep-silent-smoke-806639.us-east-2.aws.neon.tech");
    assert_int_equal(neonflow_operation_list_count(neonflow_branch_result_operations(r)), 2);
    neonflow_branch_result_free(r);

    /* restore answers may omit endpoints */
    root = load("{\"branch\":" BRANCH_JSON ",\"operations\":[]}");
    assert_int_equal(neonflow__parse_branch_result_response(root, &r, NULL), NEONFLOW_OK);
    assert_non_null(neonflow_branch_result_endpoints(r));
    assert_int_equal(neonflow_endpoint_list_count(neonflow_branch_result_endpoints(r)), 0);
    neonflow_branch_result_free(r);
    json_decref(root);
}

static void test_endpoint_every_getter(void **state)
{
    (void)state;
    json_t *root = load("{\"endpoint\":" EP_JSON ",\"operations\":[" OP_JSON "]}");
    neonflow_endpoint *e = NULL;
    neonflow_operation_list *ops = NULL;
    assert_int_equal(neonflow__parse_endpoint_response(root, &e, &ops, NULL), NEONFLOW_OK);
    json_decref(root);
    assert_int_equal(neonflow_operation_list_count(ops), 1);
    neonflow_operation_list_free(ops);
    assert_string_equal(neonflow_endpoint_id(e), "ep-silent-smoke-806639");
    assert_string_equal(neonflow_endpoint_host(e), "ep-silent-smoke-806639.us-east-2.aws.neon.tech");
    assert_string_equal(neonflow_endpoint_branch_id(e), "br-wispy-meadow-118737");
    assert_string_equal(neonflow_endpoint_project_id(e), "spring-example-302709");
    assert_string_equal(neonflow_endpoint_name(e), "My cool compute");
    assert_int_equal(neonflow_endpoint_type(e), NEONFLOW_ENDPOINT_TYPE_READ_WRITE);
    assert_string_equal(neonflow_endpoint_type_raw(e), "read_write");
    assert_int_equal(neonflow_endpoint_current_state(e), NEONFLOW_ENDPOINT_STATE_INIT);
    assert_string_equal(neonflow_endpoint_current_state_raw(e), "init");
    assert_int_equal(neonflow_endpoint_pending_state(e), NEONFLOW_ENDPOINT_STATE_ACTIVE);
    assert_string_equal(neonflow_endpoint_pending_state_raw(e), "active");
    assert_true(neonflow_endpoint_autoscaling_limit_min_cu(e) == 1.0);
    assert_true(neonflow_endpoint_autoscaling_limit_max_cu(e) == 1.0);
    assert_string_equal(neonflow_endpoint_region_id(e), "aws-us-east-2");
    assert_int_equal(neonflow_endpoint_is_disabled(e), 0);
    assert_int_equal(neonflow_endpoint_has_passwordless_access(e), 1);
    assert_null(neonflow_endpoint_last_active(e));
    assert_null(neonflow_endpoint_started_at(e));
    assert_null(neonflow_endpoint_suspended_at(e));
    assert_string_equal(neonflow_endpoint_creation_source(e), "console");
    assert_string_equal(neonflow_endpoint_created_at(e), "2022-12-03T15:37:07Z");
    assert_string_equal(neonflow_endpoint_updated_at(e), "2022-12-03T15:37:07Z");
    assert_int_equal(neonflow_endpoint_suspend_timeout_s(e), 0);
    assert_string_equal(neonflow_endpoint_provisioner(e), "k8s-neonvm");
    assert_null(neonflow_endpoint_compute_release_version(e));
    neonflow_endpoint_free(e);
}

static void test_endpoint_list_and_enums(void **state)
{
    (void)state;
    json_t *root = load("{\"endpoints\":[" EP_JSON "," EP_JSON "]}");
    json_t *second = json_array_get(json_object_get(root, "endpoints"), 1);
    json_object_set_new(second, "type", json_string("read_only"));
    json_object_set_new(second, "current_state", json_string("idle"));
    json_object_del(second, "pending_state");
    json_object_set_new(second, "last_active", json_string("2022-12-03T16:00:00Z"));
    json_object_set_new(second, "started_at", json_string("2022-12-03T15:40:00Z"));
    json_object_set_new(second, "suspended_at", json_string("2022-12-03T16:05:00Z"));
    json_object_set_new(second, "compute_release_version", json_string("9001"));
    json_object_set_new(second, "autoscaling_limit_max_cu", json_real(0.25));
    json_t *third = json_deep_copy(second);
    json_object_set_new(third, "type", json_string("read_maybe"));
    json_object_set_new(third, "current_state", json_string("dreaming"));
    json_array_append_new(json_object_get(root, "endpoints"), third);
    neonflow_endpoint_list *l = NULL;
    assert_int_equal(neonflow__parse_endpoints_response(root, &l, NULL), NEONFLOW_OK);
    json_decref(root);
    assert_int_equal(neonflow_endpoint_list_count(l), 3);
    const neonflow_endpoint *e = neonflow_endpoint_list_at(l, 1);
    assert_int_equal(neonflow_endpoint_type(e), NEONFLOW_ENDPOINT_TYPE_READ_ONLY);
    assert_int_equal(neonflow_endpoint_current_state(e), NEONFLOW_ENDPOINT_STATE_IDLE);
    assert_int_equal(neonflow_endpoint_pending_state(e), NEONFLOW_ENDPOINT_STATE_NONE);
    assert_string_equal(neonflow_endpoint_compute_release_version(e), "9001");
    assert_true(neonflow_endpoint_autoscaling_limit_max_cu(e) == 0.25);
    e = neonflow_endpoint_list_at(l, 2);
    assert_int_equal(neonflow_endpoint_type(e), NEONFLOW_ENDPOINT_TYPE_UNKNOWN);
    assert_string_equal(neonflow_endpoint_type_raw(e), "read_maybe");
    assert_int_equal(neonflow_endpoint_current_state(e), NEONFLOW_ENDPOINT_STATE_UNKNOWN);
    assert_string_equal(neonflow_endpoint_current_state_raw(e), "dreaming");
    assert_null(neonflow_endpoint_list_at(l, 3));
    neonflow_endpoint_list_free(l);
}

static void test_snapshot_every_getter(void **state)
{
    (void)state;
    json_t *root = load("{\"snapshot\":" SNAP_JSON ",\"operations\":[" OP_JSON "]}");
    neonflow_snapshot *s = NULL;
    neonflow_operation_list *ops = NULL;
    assert_int_equal(neonflow__parse_snapshot_response(root, &s, &ops, NULL), NEONFLOW_OK);
    json_decref(root);
    assert_int_equal(neonflow_operation_list_count(ops), 1);
    neonflow_operation_list_free(ops);
    assert_string_equal(neonflow_snapshot_id(s), "snap-quiet-meadow-a5b6c7d8");
    assert_string_equal(neonflow_snapshot_name(s), "prod_snap");
    assert_string_equal(neonflow_snapshot_slug(s), "prod-snap");
    assert_string_equal(neonflow_snapshot_lsn(s), "0/1DE2850");
    assert_string_equal(neonflow_snapshot_timestamp(s), "2025-08-05T22:00:00Z");
    assert_int_equal(neonflow_snapshot_timestamp_ms(s), 1754431200000LL);
    assert_string_equal(neonflow_snapshot_source_branch_id(s), "br-wispy-meadow-118737");
    assert_string_equal(neonflow_snapshot_created_at(s), "2025-08-05T22:00:01.123456Z");
    assert_int_equal(neonflow_snapshot_created_at_ms(s), 1754431201123LL);
    assert_string_equal(neonflow_snapshot_expires_at(s), "2025-09-04T22:00:00+02:00");
    assert_int_equal(neonflow_snapshot_is_manual(s), 1);
    assert_int_equal(neonflow_snapshot_has_manual(s), 1);
    assert_int_equal(neonflow_snapshot_full_size_bytes(s), 104857600);
    assert_int_equal(neonflow_snapshot_diff_size_bytes(s), 4096);
    neonflow_snapshot_free(s);
}

static void test_snapshot_minimal_and_list(void **state)
{
    (void)state;
    json_t *root = load("{\"snapshots\":[" SNAP_JSON ",{\"id\":\"snap-2\",\"name\":\"n\","
                        "\"created_at\":\"2025-08-06T00:00:00Z\",\"expires_at\":null,\"manual\":false,"
                        "\"future_field\":[{\"deep\":true}]}]}");
    neonflow_snapshot_list *l = NULL;
    assert_int_equal(neonflow__parse_snapshots_response(root, &l, NULL), NEONFLOW_OK);
    json_decref(root);
    assert_int_equal(neonflow_snapshot_list_count(l), 2);
    const neonflow_snapshot *s = neonflow_snapshot_list_at(l, 1);
    assert_string_equal(neonflow_snapshot_id(s), "snap-2");
    assert_null(neonflow_snapshot_slug(s));
    assert_null(neonflow_snapshot_lsn(s));
    assert_null(neonflow_snapshot_timestamp(s));
    assert_int_equal(neonflow_snapshot_timestamp_ms(s), 0);
    assert_null(neonflow_snapshot_source_branch_id(s));
    assert_null(neonflow_snapshot_expires_at(s));
    assert_int_equal(neonflow_snapshot_is_manual(s), 0);
    assert_int_equal(neonflow_snapshot_has_manual(s), 1);
    assert_int_equal(neonflow_snapshot_full_size_bytes(s), -1);
    assert_int_equal(neonflow_snapshot_diff_size_bytes(s), -1);
    assert_null(neonflow_snapshot_list_at(l, 2));
    neonflow_snapshot_list_free(l);
}

static void test_schedule(void **state)
{
    (void)state;
    json_t *root = load("{\"schedule\":[{\"frequency\":\"daily\",\"hour\":23,\"retention_seconds\":604800},"
                        "{\"frequency\":\"monthly\",\"hour\":1,\"day\":1,\"month\":6,\"x\":1}]}");
    neonflow_backup_schedule *s = NULL;
    assert_int_equal(neonflow__parse_schedule_response(root, &s, NULL), NEONFLOW_OK);
    json_decref(root);
    assert_int_equal(neonflow_backup_schedule_count(s), 2);
    const neonflow_backup_schedule_item *it = neonflow_backup_schedule_at(s, 0);
    assert_string_equal(neonflow_backup_schedule_item_frequency(it), "daily");
    assert_int_equal(neonflow_backup_schedule_item_hour(it), 23);
    assert_int_equal(neonflow_backup_schedule_item_day(it), -1);
    assert_int_equal(neonflow_backup_schedule_item_month(it), -1);
    assert_int_equal(neonflow_backup_schedule_item_retention_s(it), 604800);
    it = neonflow_backup_schedule_at(s, 1);
    assert_int_equal(neonflow_backup_schedule_item_day(it), 1);
    assert_int_equal(neonflow_backup_schedule_item_month(it), 6);
    assert_int_equal(neonflow_backup_schedule_item_retention_s(it), -1);
    assert_null(neonflow_backup_schedule_at(s, 2));
    /* round trip through the PUT body */
    json_t *body = neonflow__schedule_to_json(s);
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"schedule\":[{\"frequency\":\"daily\",\"hour\":23,\"retention_seconds\":604800},"
                              "{\"day\":1,\"frequency\":\"monthly\",\"hour\":1,\"month\":6}]}");
    free(text);
    json_decref(body);
    neonflow_backup_schedule_free(s);

    root = load("{}"); /* tolerated: no schedule = empty */
    assert_int_equal(neonflow__parse_schedule_response(root, &s, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_backup_schedule_count(s), 0);
    neonflow_backup_schedule_free(s);
    json_decref(root);
}

static void test_schedule_builder(void **state)
{
    (void)state;
    neonflow_backup_schedule *s = NULL;
    assert_int_equal(neonflow_backup_schedule_new(NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_backup_schedule_new(&s), NEONFLOW_OK);
    assert_int_equal(neonflow_backup_schedule_add(s, "weekly", 3, 7, -1, 86400), NEONFLOW_OK);
    assert_int_equal(neonflow_backup_schedule_add(s, NULL, 1, 1, 1, 1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_backup_schedule_add(s, "", -1, -1, -1, -1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_backup_schedule_add(s, "daily", 24, -1, -1, -1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_backup_schedule_add(s, "daily", -1, 0, -1, -1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_backup_schedule_add(s, "daily", -1, -1, 13, -1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_backup_schedule_add(s, "daily", -1, -1, -1, 0), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_backup_schedule_add(NULL, "daily", -1, -1, -1, -1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_backup_schedule_count(s), 1);
    const neonflow_backup_schedule_item *it = neonflow_backup_schedule_at(s, 0);
    assert_string_equal(neonflow_backup_schedule_item_frequency(it), "weekly");
    assert_int_equal(neonflow_backup_schedule_item_hour(it), 3);
    assert_int_equal(neonflow_backup_schedule_item_day(it), 7);
    assert_int_equal(neonflow_backup_schedule_item_month(it), -1);
    assert_int_equal(neonflow_backup_schedule_item_retention_s(it), 86400);
    neonflow_backup_schedule_free(s);
}

/* Missing required fields and wrong types give EPROTOCOL naming the field. */
static void test_malformed(void **state)
{
    (void)state;
    static const char *const op_required[] = {"id", "project_id", "action", "status"};
    for (size_t i = 0; i < sizeof(op_required) / sizeof(op_required[0]); i++) {
        json_t *root = load("{\"operation\":" OP_JSON "}");
        json_object_del(json_object_get(root, "operation"), op_required[i]);
        neonflow_operation *op = (neonflow_operation *)1;
        neonflow_error *e = NULL;
        int rc = neonflow__parse_operation_response(root, &op, &e);
        assert_null(op);
        char needle[64];
        snprintf(needle, sizeof(needle), "operation.%s", op_required[i]);
        expect_protocol(rc, &e, needle);
        json_decref(root);
    }
    static const char *const br_required[] = {"id", "project_id", "name"};
    for (size_t i = 0; i < sizeof(br_required) / sizeof(br_required[0]); i++) {
        json_t *root = load("{\"branch\":" BRANCH_JSON "}");
        json_object_del(json_object_get(root, "branch"), br_required[i]);
        neonflow_branch *b = NULL;
        neonflow_error *e = NULL;
        char needle[64];
        snprintf(needle, sizeof(needle), "branch.%s", br_required[i]);
        expect_protocol(neonflow__parse_branch_response(root, &b, NULL, &e), &e, needle);
        assert_null(b);
        json_decref(root);
    }
    static const char *const ep_required[] = {"host", "id", "project_id", "branch_id", "type"};
    for (size_t i = 0; i < sizeof(ep_required) / sizeof(ep_required[0]); i++) {
        json_t *root = load("{\"endpoint\":" EP_JSON "}");
        json_object_del(json_object_get(root, "endpoint"), ep_required[i]);
        neonflow_endpoint *ep = NULL;
        neonflow_error *e = NULL;
        char needle[64];
        snprintf(needle, sizeof(needle), "endpoint.%s", ep_required[i]);
        expect_protocol(neonflow__parse_endpoint_response(root, &ep, NULL, &e), &e, needle);
        json_decref(root);
    }
    static const char *const snap_required[] = {"id", "name", "created_at"};
    for (size_t i = 0; i < 3; i++) {
        json_t *root = load("{\"snapshots\":[" SNAP_JSON "]}");
        json_object_del(json_array_get(json_object_get(root, "snapshots"), 0), snap_required[i]);
        neonflow_snapshot_list *l = NULL;
        neonflow_error *e = NULL;
        char needle[64];
        snprintf(needle, sizeof(needle), "snapshots[0].%s", snap_required[i]);
        expect_protocol(neonflow__parse_snapshots_response(root, &l, &e), &e, needle);
        assert_null(l);
        json_decref(root);
    }
    /* wrong types */
    static const struct {
        const char *doc;
        const char *needle;
    } bad[] = {
        {"{\"operation\":{\"id\":5}}", "operation.id is integer"},
        {"{\"snapshot\":{\"id\":\"s\",\"name\":\"n\",\"created_at\":\"x\",\"manual\":\"yes\"}}", "snapshot.manual"},
        {"{\"snapshot\":{\"id\":\"s\",\"name\":\"n\",\"created_at\":\"x\",\"full_size\":1.5}}", "snapshot.full_size"},
        {"{\"snapshot\":[]}", "snapshot"},
        {"[]", "body is array"},
        {"{\"snapshots\":{}}", "snapshots"},
        {"{\"branches\":[1]}", "branches[0]"},
        {"{\"branches\":[],\"pagination\":{\"next\":7}}", "pagination.next"},
        {"{\"operations\":[],\"pagination\":{\"cursor\":[]}}", "pagination.cursor"},
        {"{\"endpoints\":[" EP_JSON "],\"x\":0}", NULL}, /* valid: checked below as OK */
        {"{\"schedule\":[{\"hour\":1}]}", "schedule[0].frequency"},
        {"{\"schedule\":[{\"frequency\":\"daily\",\"hour\":99999999999}]}", "schedule[0].hour"},
        {"{\"branch\":{}}", "branch.id"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *root = load(bad[i].doc);
        neonflow_error *e = NULL;
        int rc;
        void *o1 = NULL;
        neonflow_operation_list *ops = NULL;
        const char *next;
        size_t items;
        if (json_object_get(root, "operation"))
            rc = neonflow__parse_operation_response(root, (neonflow_operation **)&o1, &e);
        else if (json_object_get(root, "snapshot") || json_is_array(root))
            rc = neonflow__parse_snapshot_response(root, (neonflow_snapshot **)&o1, NULL, &e);
        else if (json_object_get(root, "snapshots"))
            rc = neonflow__parse_snapshots_response(root, (neonflow_snapshot_list **)&o1, &e);
        else if (json_object_get(root, "branches")) {
            neonflow_branch_list *l;
            neonflow__branch_list_new(&l, NULL);
            rc = neonflow__branch_list_append_page(l, root, &next, &items, &e);
            neonflow_branch_list_free(l);
        } else if (json_object_get(root, "operations"))
            rc = neonflow__parse_operations_response(root, 1, &ops, &e);
        else if (json_object_get(root, "endpoints")) {
            rc = neonflow__parse_endpoints_response(root, (neonflow_endpoint_list **)&o1, &e);
            assert_int_equal(rc, NEONFLOW_OK);
            neonflow_endpoint_list_free(o1);
            json_decref(root);
            continue;
        } else if (json_object_get(root, "schedule"))
            rc = neonflow__parse_schedule_response(root, (neonflow_backup_schedule **)&o1, &e);
        else
            rc = neonflow__parse_branch_response(root, (neonflow_branch **)&o1, NULL, &e);
        assert_null(o1);
        assert_null(ops);
        expect_protocol(rc, &e, bad[i].needle);
        json_decref(root);
    }
    /* empty body (NULL root) */
    neonflow_error *e = NULL;
    neonflow_operation_list *ops = NULL;
    expect_protocol(neonflow__parse_operations_response(NULL, 1, &ops, &e), &e, "empty");
    /* operations required by create responses */
    json_t *root = load("{\"snapshot\":" SNAP_JSON "}");
    neonflow_snapshot *s = NULL;
    e = NULL;
    expect_protocol(neonflow__parse_snapshot_response(root, &s, &ops, &e), &e, "operations");
    assert_null(s);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operation_every_getter),
        cmocka_unit_test(test_operation_enums_and_failed),
        cmocka_unit_test(test_operations_page_cursor),
        cmocka_unit_test(test_branch_every_getter),
        cmocka_unit_test(test_branch_optional_fields),
        cmocka_unit_test(test_branch_list_pages),
        cmocka_unit_test(test_branch_result),
        cmocka_unit_test(test_endpoint_every_getter),
        cmocka_unit_test(test_endpoint_list_and_enums),
        cmocka_unit_test(test_snapshot_every_getter),
        cmocka_unit_test(test_snapshot_minimal_and_list),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_schedule_builder),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
