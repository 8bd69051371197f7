/* Every value of every public enumeration has its name, unknown values give
 * "unknown" (never NULL), the API parsers read Neon's strings from the same
 * tables, and the report JSON uses these names, with its schema_version and
 * the compact flag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/api-private.h"
#include "core/names.h"
#include "neonflow/neonflow.h"
#include "workflow/workflow-private.h"

typedef const char *(*name_fn)(int32_t);

struct name_case {
    const char *family;
    name_fn fn;
    int32_t value;
    const char *name;
};

#define C(fam, v, n) {#fam, neonflow_##fam##_name, v, n}

static const struct name_case cases[] = {
    C(workflow_kind, NEONFLOW_WORKFLOW_SETUP, "setup"),
    C(workflow_kind, NEONFLOW_WORKFLOW_PROMOTE, "promote"),
    C(workflow_kind, NEONFLOW_WORKFLOW_REFRESH, "refresh"),
    C(workflow_kind, NEONFLOW_WORKFLOW_ROLLBACK, "rollback"),
    C(workflow_kind, NEONFLOW_WORKFLOW_BACKUPS, "backups"),
    C(workflow_kind, NEONFLOW_WORKFLOW_PRUNE, "prune"),
    C(step_status, NEONFLOW_STEP_PLANNED, "planned"),
    C(step_status, NEONFLOW_STEP_DONE, "done"),
    C(step_status, NEONFLOW_STEP_RESUMED, "resumed"),
    C(step_status, NEONFLOW_STEP_SKIPPED, "skipped"),
    C(step_status, NEONFLOW_STEP_FAILED, "failed"),
    C(step_status, NEONFLOW_STEP_VETOED, "vetoed"),
    C(step_status, NEONFLOW_STEP_UNDONE, "undone"),
    C(resource_kind, NEONFLOW_RESOURCE_SNAPSHOT, "snapshot"),
    C(resource_kind, NEONFLOW_RESOURCE_BRANCH, "branch"),
    C(resource_kind, NEONFLOW_RESOURCE_ENDPOINT, "endpoint"),
    C(resource_action, NEONFLOW_ACTION_CREATE, "create"),
    C(resource_action, NEONFLOW_ACTION_REPLACE, "replace"),
    C(resource_action, NEONFLOW_ACTION_DELETE, "delete"),
    C(resource_action, NEONFLOW_ACTION_KEEP, "keep"),
    C(event_kind, NEONFLOW_EVENT_RUN_STARTED, "run_started"),
    C(event_kind, NEONFLOW_EVENT_STEP_BEGIN, "step_begin"),
    C(event_kind, NEONFLOW_EVENT_STEP_END, "step_end"),
    C(event_kind, NEONFLOW_EVENT_OPERATION, "operation"),
    C(event_kind, NEONFLOW_EVENT_RETRY, "retry"),
    C(event_kind, NEONFLOW_EVENT_RATE_LIMIT_WAIT, "rate_limit_wait"),
    C(event_kind, NEONFLOW_EVENT_WARNING, "warning"),
    C(event_kind, NEONFLOW_EVENT_RUN_ENDED, "run_ended"),
    C(event_kind, NEONFLOW_EVENT_LEASE, "lease"),
    C(lock_kind, NEONFLOW_LOCK_ACQUIRE, "acquire"),
    C(lock_kind, NEONFLOW_LOCK_RENEW, "renew"),
    C(lock_kind, NEONFLOW_LOCK_RELEASE, "release"),
    C(log_level, NEONFLOW_LOG_ERROR, "error"),
    C(log_level, NEONFLOW_LOG_WARN, "warn"),
    C(log_level, NEONFLOW_LOG_INFO, "info"),
    C(log_level, NEONFLOW_LOG_DEBUG, "debug"),
    C(trace_kind, NEONFLOW_TRACE_INFO, "info"),
    C(trace_kind, NEONFLOW_TRACE_HEADER_OUT, "header_out"),
    C(trace_kind, NEONFLOW_TRACE_DATA_OUT, "data_out"),
    C(trace_kind, NEONFLOW_TRACE_HEADER_IN, "header_in"),
    C(trace_kind, NEONFLOW_TRACE_DATA_IN, "data_in"),
    C(tls_version, NEONFLOW_TLS_1_2, "tls1.2"),
    C(tls_version, NEONFLOW_TLS_1_3, "tls1.3"),
    C(branch_state, NEONFLOW_BRANCH_STATE_NONE, "none"),
    C(branch_state, NEONFLOW_BRANCH_STATE_UNKNOWN, "unknown"),
    C(branch_state, NEONFLOW_BRANCH_STATE_INIT, "init"),
    C(branch_state, NEONFLOW_BRANCH_STATE_RESETTING, "resetting"),
    C(branch_state, NEONFLOW_BRANCH_STATE_READY, "ready"),
    C(branch_state, NEONFLOW_BRANCH_STATE_ARCHIVED, "archived"),
    C(restore_status, NEONFLOW_RESTORE_STATUS_NONE, "none"),
    C(restore_status, NEONFLOW_RESTORE_STATUS_UNKNOWN, "unknown"),
    C(restore_status, NEONFLOW_RESTORE_STATUS_RESTORED, "restored"),
    C(restore_status, NEONFLOW_RESTORE_STATUS_FINALIZED, "finalized"),
    C(restore_status, NEONFLOW_RESTORE_STATUS_DETACHING, "detaching"),
    C(endpoint_type, NEONFLOW_ENDPOINT_TYPE_UNKNOWN, "unknown"),
    C(endpoint_type, NEONFLOW_ENDPOINT_TYPE_READ_ONLY, "read_only"),
    C(endpoint_type, NEONFLOW_ENDPOINT_TYPE_READ_WRITE, "read_write"),
    C(endpoint_state, NEONFLOW_ENDPOINT_STATE_NONE, "none"),
    C(endpoint_state, NEONFLOW_ENDPOINT_STATE_UNKNOWN, "unknown"),
    C(endpoint_state, NEONFLOW_ENDPOINT_STATE_INIT, "init"),
    C(endpoint_state, NEONFLOW_ENDPOINT_STATE_ACTIVE, "active"),
    C(endpoint_state, NEONFLOW_ENDPOINT_STATE_IDLE, "idle"),
    C(operation_status, NEONFLOW_OP_STATUS_UNKNOWN, "unknown"),
    C(operation_status, NEONFLOW_OP_STATUS_SCHEDULING, "scheduling"),
    C(operation_status, NEONFLOW_OP_STATUS_RUNNING, "running"),
    C(operation_status, NEONFLOW_OP_STATUS_FINISHED, "finished"),
    C(operation_status, NEONFLOW_OP_STATUS_FAILED, "failed"),
    C(operation_status, NEONFLOW_OP_STATUS_ERROR, "error"),
    C(operation_status, NEONFLOW_OP_STATUS_CANCELLING, "cancelling"),
    C(operation_status, NEONFLOW_OP_STATUS_CANCELLED, "cancelled"),
    C(operation_status, NEONFLOW_OP_STATUS_SKIPPED, "skipped"),
    C(operation_action, NEONFLOW_OP_ACTION_UNKNOWN, "unknown"),
    C(operation_action, NEONFLOW_OP_ACTION_CREATE_COMPUTE, "create_compute"),
    C(operation_action, NEONFLOW_OP_ACTION_CREATE_TIMELINE, "create_timeline"),
    C(operation_action, NEONFLOW_OP_ACTION_START_COMPUTE, "start_compute"),
    C(operation_action, NEONFLOW_OP_ACTION_SUSPEND_COMPUTE, "suspend_compute"),
    C(operation_action, NEONFLOW_OP_ACTION_APPLY_CONFIG, "apply_config"),
    C(operation_action, NEONFLOW_OP_ACTION_CHECK_AVAILABILITY, "check_availability"),
    C(operation_action, NEONFLOW_OP_ACTION_DELETE_TIMELINE, "delete_timeline"),
    C(operation_action, NEONFLOW_OP_ACTION_CREATE_BRANCH, "create_branch"),
    C(operation_action, NEONFLOW_OP_ACTION_IMPORT_DATA, "import_data"),
    C(operation_action, NEONFLOW_OP_ACTION_TENANT_IGNORE, "tenant_ignore"),
    C(operation_action, NEONFLOW_OP_ACTION_TENANT_ATTACH, "tenant_attach"),
    C(operation_action, NEONFLOW_OP_ACTION_TENANT_DETACH, "tenant_detach"),
    C(operation_action, NEONFLOW_OP_ACTION_TENANT_DETACH_SAFEKEEPERS, "tenant_detach_safekeepers"),
    C(operation_action, NEONFLOW_OP_ACTION_TENANT_ATTACH_SAFEKEEPERS, "tenant_attach_safekeepers"),
    C(operation_action, NEONFLOW_OP_ACTION_TENANT_REATTACH, "tenant_reattach"),
    C(operation_action, NEONFLOW_OP_ACTION_REPLACE_SAFEKEEPER, "replace_safekeeper"),
    C(operation_action, NEONFLOW_OP_ACTION_DISABLE_MAINTENANCE, "disable_maintenance"),
    C(operation_action, NEONFLOW_OP_ACTION_APPLY_STORAGE_CONFIG, "apply_storage_config"),
    C(operation_action, NEONFLOW_OP_ACTION_PREPARE_SECONDARY_PAGESERVER, "prepare_secondary_pageserver"),
    C(operation_action, NEONFLOW_OP_ACTION_SWITCH_PAGESERVER, "switch_pageserver"),
    C(operation_action, NEONFLOW_OP_ACTION_DETACH_PARENT_BRANCH, "detach_parent_branch"),
    C(operation_action, NEONFLOW_OP_ACTION_TIMELINE_ARCHIVE, "timeline_archive"),
    C(operation_action, NEONFLOW_OP_ACTION_TIMELINE_UNARCHIVE, "timeline_unarchive"),
    C(operation_action, NEONFLOW_OP_ACTION_START_RESERVED_COMPUTE, "start_reserved_compute"),
    C(operation_action, NEONFLOW_OP_ACTION_SYNC_DBS_AND_ROLES_FROM_COMPUTE, "sync_dbs_and_roles_from_compute"),
    C(operation_action, NEONFLOW_OP_ACTION_APPLY_SCHEMA_FROM_BRANCH, "apply_schema_from_branch"),
    C(operation_action, NEONFLOW_OP_ACTION_TIMELINE_MARK_INVISIBLE, "timeline_mark_invisible"),
    C(operation_action, NEONFLOW_OP_ACTION_TIMELINE_UPDATE_PROTECTED_CONFIG, "timeline_update_protected_config"),
    C(operation_action, NEONFLOW_OP_ACTION_PREWARM_REPLICA, "prewarm_replica"),
    C(operation_action, NEONFLOW_OP_ACTION_PROMOTE_REPLICA, "promote_replica"),
    C(operation_action, NEONFLOW_OP_ACTION_SET_STORAGE_NON_DIRTY, "set_storage_non_dirty"),
    C(operation_action, NEONFLOW_OP_ACTION_SWAP_BINDING_ID, "swap_binding_id"),
    C(operation_action, NEONFLOW_OP_ACTION_FINALIZE_MIGRATION, "finalize_migration"),
    C(operation_action, NEONFLOW_OP_ACTION_MARK_MIGRATION_PREPARED, "mark_migration_prepared"),
    C(operation_action, NEONFLOW_OP_ACTION_UPDATE_CATALOG, "update_catalog"),
    C(operation_action, NEONFLOW_OP_ACTION_EPC_SYNC, "epc_sync"),
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void test_every_defined_value_has_its_name(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCASES; i++) {
        const char *got = cases[i].fn(cases[i].value);
        if (!got || strcmp(got, cases[i].name) != 0)
            fail_msg("%s %d: got \"%s\", want \"%s\"", cases[i].family, (int)cases[i].value, got ? got : "(null)",
                     cases[i].name);
    }
}

/* Values around and beyond each family's range are "unknown", never NULL:
 * the largest defined value + 1 is the first a later version may add. */
static void test_unknown_values_are_unknown(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCASES; i++) {
        int32_t max = cases[i].value;
        for (size_t j = 0; j < NCASES; j++)
            if (cases[j].fn == cases[i].fn && cases[j].value > max)
                max = cases[j].value;
        static const int32_t far[] = {INT32_MIN, -2, 1000, INT32_MAX};
        const char *got = cases[i].fn(max + 1);
        if (!got || strcmp(got, "unknown") != 0)
            fail_msg("%s %d: got \"%s\"", cases[i].family, (int)(max + 1), got ? got : "(null)");
        for (size_t k = 0; k < sizeof(far) / sizeof(far[0]); k++) {
            got = cases[i].fn(far[k]);
            if (!got || strcmp(got, "unknown") != 0)
                fail_msg("%s %d: got \"%s\"", cases[i].family, (int)far[k], got ? got : "(null)");
        }
    }
    /* -1 is "none" only where it means "field absent" */
    assert_string_equal(neonflow_step_status_name(-1), "unknown");
    assert_string_equal(neonflow_log_level_name(-1), "unknown");
}

/* The parsers map Neon's strings with the same tables the names come from. */
static void test_parsers_share_the_tables(void **state)
{
    (void)state;
    static const struct {
        const char *const *table;
        name_fn fn;
    } tabs[] = {
        {neonflow__branch_state_names, neonflow_branch_state_name},
        {neonflow__restore_status_names, neonflow_restore_status_name},
        {neonflow__endpoint_type_names, neonflow_endpoint_type_name},
        {neonflow__endpoint_state_names, neonflow_endpoint_state_name},
        {neonflow__operation_status_names, neonflow_operation_status_name},
        {neonflow__operation_action_names, neonflow_operation_action_name},
    };
    for (size_t t = 0; t < sizeof(tabs) / sizeof(tabs[0]); t++)
        for (size_t i = 0; tabs[t].table[i]; i++) {
            int32_t code = neonflow__enum_lookup(tabs[t].table[i], tabs[t].table, -1);
            assert_string_equal(tabs[t].fn(code), tabs[t].table[i]);
        }
}

static void test_report_json_names_schema_and_compact(void **state)
{
    (void)state;
    neonflow_report *r = NULL;
    assert_int_equal(neonflow__report_new(&r, NEONFLOW_WORKFLOW_ROLLBACK), NEONFLOW_OK);
    neonflow_step *s = neonflow__step_add(r, "finalize", "switch", 1);
    assert_non_null(s);
    s->status = NEONFLOW_STEP_UNDONE;
    assert_non_null(neonflow__resource_add(s, NEONFLOW_RESOURCE_ENDPOINT, NEONFLOW_ACTION_REPLACE, "target", "n",
                                           "ep-1", "production"));
    char *pretty = NULL, *compact = NULL;
    assert_int_equal(neonflow_report_to_json(&pretty, r, 0, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_report_to_json(&compact, r, NEONFLOW_REPORT_JSON_COMPACT, NULL), NEONFLOW_OK);
    assert_non_null(strchr(pretty, '\n'));
    assert_null(strchr(compact, '\n'));
    assert_true(strlen(compact) < strlen(pretty));

    json_t *j = json_loads(compact, 0, NULL);
    json_t *k = json_loads(pretty, 0, NULL);
    assert_non_null(j);
    assert_true(json_equal(j, k)); /* the same document */
    assert_int_equal(json_integer_value(json_object_get(j, "schema_version")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "workflow")), "rollback");
    json_t *step = json_array_get(json_object_get(j, "steps"), 0);
    assert_string_equal(json_string_value(json_object_get(step, "status")), "undone");
    json_t *res = json_array_get(json_object_get(step, "resources"), 0);
    assert_string_equal(json_string_value(json_object_get(res, "kind")), "endpoint");
    assert_string_equal(json_string_value(json_object_get(res, "action")), "replace");
    /* lost_writes carries no start_lsn: it could never hold data (issue 9, item 9) */
    json_t *lw = json_object_get(j, "lost_writes");
    assert_non_null(lw);
    assert_non_null(json_object_get(lw, "end_lsn"));
    assert_null(json_object_get(lw, "start_lsn"));
    /* schema_version leads the document */
    assert_non_null(strstr(compact, "{\"schema_version\":1,"));
    json_decref(j);
    json_decref(k);
    neonflow_free(pretty);
    neonflow_free(compact);

    /* a value this version does not know is "unknown" in the JSON too */
    s->status = 99;
    assert_int_equal(neonflow_report_to_json(&compact, r, NEONFLOW_REPORT_JSON_COMPACT, NULL), NEONFLOW_OK);
    assert_non_null(strstr(compact, "\"status\":\"unknown\""));
    neonflow_free(compact);

    /* unknown flags are refused, *out is NULL */
    neonflow_error *err = NULL;
    compact = (char *)1;
    assert_int_equal(neonflow_report_to_json(&compact, r, 0x2u, &err), NEONFLOW_EINVAL);
    assert_null(compact);
    assert_non_null(strstr(neonflow_error_message(err), "flags"));
    neonflow_error_free(err);
    neonflow_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_defined_value_has_its_name),
        cmocka_unit_test(test_unknown_values_are_unknown),
        cmocka_unit_test(test_parsers_share_the_tables),
        cmocka_unit_test(test_report_json_names_schema_and_compact),
    };
    return cmocka_run_group_tests_name("enum_names", tests, NULL, NULL);
}
