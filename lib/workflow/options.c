/* Options objects of the workflows: one typed setter per field. */
#include <string.h>

#include "core/alloc.h"
#include "workflow-private.h"

#define NEW_OPTS(type, out)                                                                                    \
    do {                                                                                                       \
        if (!(out))                                                                                            \
            return NEONFLOW_EINVAL;                                                                            \
        *(out) = neonflow__calloc(1, sizeof(type));                                                            \
        if (!*(out))                                                                                           \
            return NEONFLOW_ENOMEM;                                                                            \
    } while (0)

/* A branch name or ID: 1-256 bytes (NULL restores the default). */
static int set_branch_ref(char **slot, const char *v)
{
    if (v && (!*v || strlen(v) > NEONFLOW__NAME_MAX))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(slot, v);
}

/* ---- run options ------------------------------------------------------------ */
NEONFLOW_API int neonflow_run_options_new(neonflow_run_options **out)
{
    NEW_OPTS(neonflow_run_options, out);
    (*out)->timeout_ms = NEONFLOW__WF_DEFAULT_TIMEOUT_MS;
    (*out)->busy_wait_ms = NEONFLOW__WF_DEFAULT_BUSY_WAIT_MS;
    (*out)->lease_ttl_ms = NEONFLOW__LEASE_DEFAULT_TTL_MS;
    return NEONFLOW_OK;
}

NEONFLOW_API void neonflow_run_options_free(neonflow_run_options *o)
{
    if (!o)
        return;
    neonflow__free(o->project_id);
    neonflow__free(o->run_id);
    neonflow__hook_unref(o->event_hook);
    neonflow__hook_unref(o->gate_hook);
    neonflow__hook_unref(o->lock_hook);
    neonflow__free(o);
}

int neonflow__run_options_dup(neonflow_run_options **out, const neonflow_run_options *src)
{
    neonflow_run_options *o = neonflow__calloc(1, sizeof(*o));
    if (!o)
        return NEONFLOW_ENOMEM;
    *o = *src;
    o->project_id = o->run_id = NULL;
    if (neonflow__set_str(&o->project_id, src->project_id) != NEONFLOW_OK ||
        neonflow__set_str(&o->run_id, src->run_id) != NEONFLOW_OK) {
        neonflow__free(o->project_id);
        neonflow__free(o->run_id);
        neonflow__free(o);
        return NEONFLOW_ENOMEM;
    }
    o->event_hook = neonflow__hook_ref(src->event_hook);
    o->gate_hook = neonflow__hook_ref(src->gate_hook);
    o->lock_hook = neonflow__hook_ref(src->lock_hook);
    *out = o;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_run_options_set_project_id(neonflow_run_options *o, const char *project_id)
{
    if (!o || !neonflow__id_valid(project_id))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->project_id, project_id);
}

NEONFLOW_API int neonflow_run_options_set_run_id(neonflow_run_options *o, const char *run_id)
{
    if (!o || (run_id && !neonflow__run_id_valid(run_id)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->run_id, run_id);
}

NEONFLOW_API int neonflow_run_options_set_timeout_ms(neonflow_run_options *o, int64_t timeout_ms)
{
    if (!o || timeout_ms <= 0)
        return NEONFLOW_EINVAL;
    o->timeout_ms = timeout_ms;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_run_options_set_busy_wait_ms(neonflow_run_options *o, int64_t wait_ms)
{
    if (!o || wait_ms < 0)
        return NEONFLOW_EINVAL;
    o->busy_wait_ms = wait_ms;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_run_options_set_cancel(neonflow_run_options *o, neonflow_cancel *token)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->cancel = token;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_run_options_set_dry_run(neonflow_run_options *o, int dry_run)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->dry_run = dry_run != 0;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_run_options_set_keep_on_veto(neonflow_run_options *o, int keep)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->keep_on_veto = keep != 0;
    return NEONFLOW_OK;
}

#define HOOK_SETTER(fname, otype, field, fntype)                                                               \
    NEONFLOW_API int fname(otype *o, fntype fn, void *payload, neonflow_destroy_fn destroy)                    \
    {                                                                                                          \
        return neonflow__hook_set(o ? &o->field : NULL, (void (*)(void))fn, payload, destroy);             \
    }

HOOK_SETTER(neonflow_run_options_set_event_hook, neonflow_run_options, event_hook, neonflow_event_fn)
HOOK_SETTER(neonflow_run_options_set_gate_hook, neonflow_run_options, gate_hook, neonflow_gate_fn)

/* ---- promote -------------------------------------------------------------------- */
NEONFLOW_API int neonflow_promote_options_new(neonflow_promote_options **out)
{
    NEW_OPTS(neonflow_promote_options, out);
    (*out)->rollback_expiry_s = 30LL * 24 * 3600;
    (*out)->candidate_expiry_s = 7LL * 24 * 3600;
    return NEONFLOW_OK;
}

NEONFLOW_API void neonflow_promote_options_free(neonflow_promote_options *o)
{
    if (!o)
        return;
    neonflow__free(o->source);
    neonflow__free(o->target);
    neonflow__hook_unref(o->verify_hook);
    neonflow__hook_unref(o->after_switch_hook);
    neonflow__free(o);
}

NEONFLOW_API int neonflow_promote_options_set_source(neonflow_promote_options *o, const char *name_or_id)
{
    return o ? set_branch_ref(&o->source, name_or_id) : NEONFLOW_EINVAL;
}

NEONFLOW_API int neonflow_promote_options_set_target(neonflow_promote_options *o, const char *name_or_id)
{
    return o ? set_branch_ref(&o->target, name_or_id) : NEONFLOW_EINVAL;
}

HOOK_SETTER(neonflow_promote_options_set_verify_hook, neonflow_promote_options, verify_hook, neonflow_branch_check_fn)
HOOK_SETTER(neonflow_promote_options_set_after_switch_hook, neonflow_promote_options, after_switch_hook,
            neonflow_branch_check_fn)

NEONFLOW_API int neonflow_promote_options_set_auto_rollback(neonflow_promote_options *o, int enable)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->auto_rollback = enable != 0;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_promote_options_set_verify_compute(neonflow_promote_options *o, int enable)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->verify_compute = enable != 0;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_promote_options_set_rollback_expiry_s(neonflow_promote_options *o, int64_t seconds)
{
    if (!o || seconds < 0 || seconds > 100LL * 365 * 24 * 3600)
        return NEONFLOW_EINVAL;
    o->rollback_expiry_s = seconds;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_promote_options_set_candidate_expiry_s(neonflow_promote_options *o, int64_t seconds)
{
    if (!o || seconds < 0 || seconds > 100LL * 365 * 24 * 3600)
        return NEONFLOW_EINVAL;
    o->candidate_expiry_s = seconds;
    return NEONFLOW_OK;
}

/* ---- refresh -------------------------------------------------------------------- */
NEONFLOW_API int neonflow_refresh_options_new(neonflow_refresh_options **out)
{
    NEW_OPTS(neonflow_refresh_options, out);
    return NEONFLOW_OK;
}

NEONFLOW_API void neonflow_refresh_options_free(neonflow_refresh_options *o)
{
    if (!o)
        return;
    neonflow__free(o->source);
    neonflow__free(o->target);
    neonflow__hook_unref(o->verify_hook);
    neonflow__free(o);
}

HOOK_SETTER(neonflow_refresh_options_set_verify_hook, neonflow_refresh_options, verify_hook, neonflow_branch_check_fn)

NEONFLOW_API int neonflow_refresh_options_set_verify_compute(neonflow_refresh_options *o, int enable)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->verify_compute = enable != 0;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_refresh_options_set_source(neonflow_refresh_options *o, const char *name_or_id)
{
    return o ? set_branch_ref(&o->source, name_or_id) : NEONFLOW_EINVAL;
}

NEONFLOW_API int neonflow_refresh_options_set_target(neonflow_refresh_options *o, const char *name_or_id)
{
    return o ? set_branch_ref(&o->target, name_or_id) : NEONFLOW_EINVAL;
}

NEONFLOW_API int neonflow_refresh_options_set_delete_backup(neonflow_refresh_options *o, int enable)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->delete_backup = enable != 0;
    return NEONFLOW_OK;
}

/* ---- rollback -------------------------------------------------------------------- */
NEONFLOW_API int neonflow_rollback_options_new(neonflow_rollback_options **out)
{
    NEW_OPTS(neonflow_rollback_options, out);
    (*out)->snapshot_first = 1;
    return NEONFLOW_OK;
}

NEONFLOW_API void neonflow_rollback_options_free(neonflow_rollback_options *o)
{
    if (!o)
        return;
    neonflow__free(o->target);
    neonflow__free(o->snapshot_id);
    neonflow__free(o);
}

NEONFLOW_API int neonflow_rollback_options_set_target(neonflow_rollback_options *o, const char *name_or_id)
{
    return o ? set_branch_ref(&o->target, name_or_id) : NEONFLOW_EINVAL;
}

NEONFLOW_API int neonflow_rollback_options_set_snapshot_id(neonflow_rollback_options *o, const char *snapshot_id)
{
    if (!o || (snapshot_id && !neonflow__id_valid(snapshot_id)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->snapshot_id, snapshot_id);
}

NEONFLOW_API int neonflow_rollback_options_set_snapshot_first(neonflow_rollback_options *o, int enable)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->snapshot_first = enable != 0;
    return NEONFLOW_OK;
}

/* ---- setup ------------------------------------------------------------------------ */
NEONFLOW_API int neonflow_setup_options_new(neonflow_setup_options **out)
{
    NEW_OPTS(neonflow_setup_options, out);
    return NEONFLOW_OK;
}

NEONFLOW_API void neonflow_setup_options_free(neonflow_setup_options *o)
{
    if (!o)
        return;
    neonflow__free(o->source);
    neonflow__free(o->dev_name);
    neonflow__free(o);
}

NEONFLOW_API int neonflow_setup_options_set_source(neonflow_setup_options *o, const char *name_or_id)
{
    return o ? set_branch_ref(&o->source, name_or_id) : NEONFLOW_EINVAL;
}

NEONFLOW_API int neonflow_setup_options_set_dev_name(neonflow_setup_options *o, const char *name)
{
    if (!o || (name && strncmp(name, "nf/", 3) == 0))
        return NEONFLOW_EINVAL;
    return set_branch_ref(&o->dev_name, name);
}

/* ---- prune -------------------------------------------------------------------------- */
NEONFLOW_API int neonflow_prune_options_new(neonflow_prune_options **out)
{
    NEW_OPTS(neonflow_prune_options, out);
    (*out)->keep_newest = 2;
    (*out)->branches = 1;
    (*out)->snapshots = 1;
    return NEONFLOW_OK;
}

NEONFLOW_API void neonflow_prune_options_free(neonflow_prune_options *o)
{
    neonflow__free(o);
}

NEONFLOW_API int neonflow_prune_options_set_keep_newest(neonflow_prune_options *o, int32_t n)
{
    if (!o || n < 0)
        return NEONFLOW_EINVAL;
    o->keep_newest = n;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_prune_options_set_older_than_s(neonflow_prune_options *o, int64_t seconds)
{
    if (!o || seconds < 0)
        return NEONFLOW_EINVAL;
    o->older_than_s = seconds;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_prune_options_set_branches(neonflow_prune_options *o, int enable)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->branches = enable != 0;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_prune_options_set_snapshots(neonflow_prune_options *o, int enable)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->snapshots = enable != 0;
    return NEONFLOW_OK;
}
