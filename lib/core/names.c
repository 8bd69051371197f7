/* Names of every public enumeration: one table each, read by the _name()
 * functions, the API parsers (Neon's strings) and the report JSON. Values
 * only grow; an unknown value is "unknown", never NULL. */
#include <stddef.h>
#include <stdint.h>

#include "names.h"
#include "neonflow/branch.h"
#include "neonflow/client.h"
#include "neonflow/endpoint.h"
#include "neonflow/operation.h"
#include "neonflow/workflow.h"

/* ---- Neon's strings (value 1 first, NULL-terminated) ---------------------- */
const char *const neonflow__branch_state_names[] = {"init", "resetting", "ready", "archived", NULL};
const char *const neonflow__restore_status_names[] = {"restored", "finalized", "detaching", NULL};
const char *const neonflow__endpoint_type_names[] = {"read_only", "read_write", NULL};
const char *const neonflow__endpoint_state_names[] = {"init", "active", "idle", NULL};
const char *const neonflow__operation_status_names[] = {"scheduling", "running", "finished", "failed", "error",
                                                        "cancelling", "cancelled", "skipped", NULL};
const char *const neonflow__operation_action_names[] = {
    "create_compute", "create_timeline", "start_compute", "suspend_compute", "apply_config",
    "check_availability", "delete_timeline", "create_branch", "import_data", "tenant_ignore",
    "tenant_attach", "tenant_detach", "tenant_detach_safekeepers", "tenant_attach_safekeepers",
    "tenant_reattach", "replace_safekeeper", "disable_maintenance", "apply_storage_config",
    "prepare_secondary_pageserver", "switch_pageserver", "detach_parent_branch", "timeline_archive",
    "timeline_unarchive", "start_reserved_compute", "sync_dbs_and_roles_from_compute",
    "apply_schema_from_branch", "timeline_mark_invisible", "timeline_update_protected_config",
    "prewarm_replica", "promote_replica", "set_storage_non_dirty", "swap_binding_id", "finalize_migration",
    "mark_migration_prepared", "update_catalog", "epc_sync", NULL};

/* ---- the library's own enumerations (indexed from `first`) ---------------- */
static const char *const workflow_names[] = {"setup", "promote", "refresh", "rollback", "backups", "prune", NULL};
static const char *const step_status_names[] = {"planned", "done",   "resumed", "skipped",
                                                "failed",  "vetoed", "undone",  NULL};
static const char *const resource_kind_names[] = {"snapshot", "branch", "endpoint", NULL};
static const char *const resource_action_names[] = {"create", "replace", "delete", "keep", NULL};
static const char *const event_kind_names[] = {"run_started", "step_begin", "step_end", "operation", "retry",
                                               "rate_limit_wait", "warning", "run_ended", "lease", NULL};
static const char *const log_level_names[] = {"error", "warn", "info", "debug", NULL};
static const char *const trace_kind_names[] = {"info", "header_out", "data_out", "header_in", "data_in", NULL};
static const char *const lock_kind_names[] = {"acquire", "renew", "release", NULL};
static const char *const tls_version_names[] = {"tls1.2", "tls1.3", NULL};
static const char *const hook_names[] = {"verify", "after_switch", NULL};

/* names[v - first], or "unknown"; `none` names the "field absent" value
 * (-1) of the Neon state families (NULL: no such value). */
static const char *name_of(const char *const *names, int32_t first, int32_t v, const char *none)
{
    if (none && v == -1)
        return none;
    if (v < first)
        return "unknown";
    for (int32_t i = 0; names[i]; i++)
        if (i == v - first)
            return names[i];
    return "unknown";
}

NEONFLOW_API const char *neonflow_workflow_kind_name(int32_t kind)
{
    return name_of(workflow_names, NEONFLOW_WORKFLOW_SETUP, kind, NULL);
}

NEONFLOW_API const char *neonflow_step_status_name(int32_t status)
{
    return name_of(step_status_names, NEONFLOW_STEP_PLANNED, status, NULL);
}

NEONFLOW_API const char *neonflow_resource_kind_name(int32_t kind)
{
    return name_of(resource_kind_names, NEONFLOW_RESOURCE_SNAPSHOT, kind, NULL);
}

NEONFLOW_API const char *neonflow_resource_action_name(int32_t action)
{
    return name_of(resource_action_names, NEONFLOW_ACTION_CREATE, action, NULL);
}

NEONFLOW_API const char *neonflow_event_kind_name(int32_t kind)
{
    return name_of(event_kind_names, NEONFLOW_EVENT_RUN_STARTED, kind, NULL);
}

NEONFLOW_API const char *neonflow_lock_kind_name(int32_t kind)
{
    return name_of(lock_kind_names, NEONFLOW_LOCK_ACQUIRE, kind, NULL);
}

NEONFLOW_API const char *neonflow_log_level_name(int32_t level)
{
    return name_of(log_level_names, NEONFLOW_LOG_ERROR, level, NULL);
}

NEONFLOW_API const char *neonflow_trace_kind_name(int32_t kind)
{
    return name_of(trace_kind_names, NEONFLOW_TRACE_INFO, kind, NULL);
}

NEONFLOW_API const char *neonflow_hook_name(int32_t hook)
{
    return name_of(hook_names, NEONFLOW_HOOK_VERIFY, hook, NULL);
}

NEONFLOW_API const char *neonflow_tls_version_name(int32_t version)
{
    return name_of(tls_version_names, NEONFLOW_TLS_1_2, version, NULL);
}

NEONFLOW_API const char *neonflow_branch_state_name(int32_t state)
{
    return name_of(neonflow__branch_state_names, NEONFLOW_BRANCH_STATE_INIT, state, "none");
}

NEONFLOW_API const char *neonflow_restore_status_name(int32_t status)
{
    return name_of(neonflow__restore_status_names, NEONFLOW_RESTORE_STATUS_RESTORED, status, "none");
}

NEONFLOW_API const char *neonflow_endpoint_type_name(int32_t type)
{
    return name_of(neonflow__endpoint_type_names, NEONFLOW_ENDPOINT_TYPE_READ_ONLY, type, NULL);
}

NEONFLOW_API const char *neonflow_endpoint_state_name(int32_t state)
{
    return name_of(neonflow__endpoint_state_names, NEONFLOW_ENDPOINT_STATE_INIT, state, "none");
}

NEONFLOW_API const char *neonflow_operation_status_name(int32_t status)
{
    return name_of(neonflow__operation_status_names, NEONFLOW_OP_STATUS_SCHEDULING, status, NULL);
}

NEONFLOW_API const char *neonflow_operation_action_name(int32_t action)
{
    return name_of(neonflow__operation_action_names, NEONFLOW_OP_ACTION_CREATE_COMPUTE, action, NULL);
}
