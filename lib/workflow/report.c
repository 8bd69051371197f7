/* Reports, steps, resources and events: construction, getters and JSON. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/jsonio.h"
#include "workflow-private.h"

static const char *nz(const char *s)
{
    return s ? s : "";
}

/* ---- construction ------------------------------------------------------------ */
int neonflow__report_new(neonflow_report **out, int32_t workflow)
{
    neonflow_report *r = neonflow__calloc(1, sizeof(*r));
    if (!r)
        return NEONFLOW_ENOMEM;
    r->workflow = workflow;
    *out = r;
    return NEONFLOW_OK;
}

int neonflow__report_set(neonflow_report *r, int field, const char *value)
{
    if (!r || field < 0 || field >= NEONFLOW__R_COUNT)
        return NEONFLOW_EINVAL;
    int rc = neonflow__set_str(&r->str[field], value);
    if (rc != NEONFLOW_OK)
        r->incomplete = 1;
    return rc;
}

int neonflow__report_incomplete(const neonflow_report *r)
{
    if (!r || r->incomplete)
        return 1;
    for (size_t i = 0; i < r->nsteps; i++)
        if (r->steps[i]->incomplete)
            return 1;
    return 0;
}

const char *neonflow__report_get(const neonflow_report *r, int field)
{
    if (!r || field < 0 || field >= NEONFLOW__R_COUNT)
        return "";
    return nz(r->str[field]);
}

neonflow_step *neonflow__step_add(neonflow_report *r, const char *name, const char *description, int mutating)
{
    if (r->nsteps == r->capsteps) {
        size_t nc = r->capsteps ? r->capsteps * 2 : 8;
        neonflow_step **ns = neonflow__realloc(r->steps, nc * sizeof(*ns));
        if (!ns)
            return NULL;
        r->steps = ns;
        r->capsteps = nc;
    }
    neonflow_step *s = neonflow__calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->name = neonflow__strdup(name);
    s->description = neonflow__strdup(description ? description : "");
    if (!s->name || !s->description) {
        neonflow__free(s->name);
        neonflow__free(s->description);
        neonflow__free(s);
        return NULL;
    }
    s->mutating = mutating;
    s->status = NEONFLOW_STEP_PLANNED;
    r->steps[r->nsteps++] = s;
    return s;
}

int neonflow__resource_set(char **slot, const char *value)
{
    return neonflow__set_str(slot, value);
}

static void resource_free(neonflow_resource *x)
{
    if (!x)
        return;
    neonflow__free(x->name);
    neonflow__free(x->id);
    neonflow__free(x->role);
    neonflow__free(x->target);
    neonflow__free(x->run_id);
    neonflow__free(x->created_at);
    neonflow__free(x->expires_at);
    neonflow__free(x->replaced_by);
    neonflow__free(x);
}

neonflow_resource *neonflow__resource_add(neonflow_step *s, int32_t kind, int32_t action, const char *role,
                                          const char *name, const char *id, const char *target)
{
    if (!s)
        return NULL;
    if (s->nres == s->capres) {
        size_t nc = s->capres ? s->capres * 2 : 4;
        neonflow_resource **nr = neonflow__realloc(s->res, nc * sizeof(*nr));
        if (!nr) {
            s->incomplete = 1;
            return NULL;
        }
        s->res = nr;
        s->capres = nc;
    }
    neonflow_resource *x = neonflow__calloc(1, sizeof(*x));
    if (!x) {
        s->incomplete = 1;
        return NULL;
    }
    x->kind = kind;
    x->action = action;
    x->size_bytes = -1;
    if (neonflow__set_str(&x->role, role) || neonflow__set_str(&x->name, name) || neonflow__set_str(&x->id, id) ||
        neonflow__set_str(&x->target, target)) {
        resource_free(x);
        s->incomplete = 1;
        return NULL;
    }
    s->res[s->nres++] = x;
    return x;
}

void neonflow__step_set_resource_id(neonflow_step *s, const char *role, const char *id)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nres; i++)
        if (s->res[i]->role && strcmp(s->res[i]->role, role) == 0) {
            if (neonflow__set_str(&s->res[i]->id, id) != NEONFLOW_OK)
                s->incomplete = 1;
            return;
        }
}

static void step_free(neonflow_step *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nres; i++)
        resource_free(s->res[i]);
    neonflow__free(s->res);
    neonflow__free(s->name);
    neonflow__free(s->description);
    neonflow__free(s);
}

NEONFLOW_API void neonflow_report_free(neonflow_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nsteps; i++)
        step_free(r->steps[i]);
    neonflow__free(r->steps);
    for (int i = 0; i < NEONFLOW__R_COUNT; i++)
        neonflow__free(r->str[i]);
    neonflow__free(r->message);
    neonflow__free(r);
}

/* ---- report getters --------------------------------------------------------------- */
NEONFLOW_API int32_t neonflow_report_workflow(const neonflow_report *r) { return r ? r->workflow : 0; }
NEONFLOW_API const char *neonflow_report_run_id(const neonflow_report *r) { return r ? r->run_id : ""; }
NEONFLOW_API int neonflow_report_is_dry_run(const neonflow_report *r) { return r ? r->dry_run : 0; }
NEONFLOW_API int neonflow_report_result(const neonflow_report *r) { return r ? r->result : NEONFLOW_EINVAL; }
NEONFLOW_API const char *neonflow_report_message(const neonflow_report *r) { return r ? nz(r->message) : ""; }
NEONFLOW_API size_t neonflow_report_step_count(const neonflow_report *r) { return r ? r->nsteps : 0; }

NEONFLOW_API const neonflow_step *neonflow_report_step_at(const neonflow_report *r, size_t i)
{
    return r && i < r->nsteps ? r->steps[i] : NULL;
}

NEONFLOW_API int64_t neonflow_report_api_calls(const neonflow_report *r) { return r ? r->api_calls : 0; }
NEONFLOW_API int64_t neonflow_report_retries(const neonflow_report *r) { return r ? r->retries : 0; }
NEONFLOW_API int64_t neonflow_report_duration_ms(const neonflow_report *r) { return r ? r->duration_ms : 0; }

#define RSTR(fname, field)                                                                                     \
    NEONFLOW_API const char *fname(const neonflow_report *r)                                                   \
    {                                                                                                          \
        return neonflow__report_get(r, field);                                                                 \
    }
RSTR(neonflow_report_source_branch_id, NEONFLOW__R_SOURCE_ID)
RSTR(neonflow_report_old_target_branch_id, NEONFLOW__R_OLD_TARGET_ID)
RSTR(neonflow_report_target_branch_id, NEONFLOW__R_TARGET_ID)
RSTR(neonflow_report_target_endpoint_id, NEONFLOW__R_ENDPOINT_ID)
RSTR(neonflow_report_target_endpoint_host, NEONFLOW__R_ENDPOINT_HOST)
RSTR(neonflow_report_candidate_snapshot_id, NEONFLOW__R_CANDIDATE_ID)
RSTR(neonflow_report_rollback_snapshot_id, NEONFLOW__R_ROLLBACK_ID)
RSTR(neonflow_report_preview_branch_id, NEONFLOW__R_PREVIEW_ID)
RSTR(neonflow_report_backup_branch_id, NEONFLOW__R_BACKUP_ID)
RSTR(neonflow_report_backup_branch_name, NEONFLOW__R_BACKUP_NAME)
RSTR(neonflow_report_lost_writes_start, NEONFLOW__R_LW_START)
RSTR(neonflow_report_lost_writes_end, NEONFLOW__R_LW_END)
RSTR(neonflow_report_lost_writes_end_lsn, NEONFLOW__R_LW_END_LSN)
RSTR(neonflow_report_divergence_start, NEONFLOW__R_DIVERGENCE)
RSTR(neonflow_report_lost_writes_end_source, NEONFLOW__R_LW_END_SOURCE)

NEONFLOW_API int64_t neonflow_report_lost_writes_start_ms(const neonflow_report *r) { return r ? r->lw_start_ms : 0; }
NEONFLOW_API int64_t neonflow_report_lost_writes_end_ms(const neonflow_report *r) { return r ? r->lw_end_ms : 0; }

/* ---- steps ----------------------------------------------------------------------- */
NEONFLOW_API const char *neonflow_step_name(const neonflow_step *s) { return s ? s->name : ""; }
NEONFLOW_API const char *neonflow_step_description(const neonflow_step *s) { return s ? s->description : ""; }
NEONFLOW_API int32_t neonflow_step_status(const neonflow_step *s) { return s ? s->status : 0; }
NEONFLOW_API int neonflow_step_is_mutating(const neonflow_step *s) { return s ? s->mutating : 0; }
NEONFLOW_API int64_t neonflow_step_duration_ms(const neonflow_step *s) { return s ? s->duration_ms : 0; }
NEONFLOW_API int64_t neonflow_step_api_calls(const neonflow_step *s) { return s ? s->api_calls : 0; }
NEONFLOW_API int64_t neonflow_step_retries(const neonflow_step *s) { return s ? s->retries : 0; }
NEONFLOW_API size_t neonflow_step_resource_count(const neonflow_step *s) { return s ? s->nres : 0; }

NEONFLOW_API const neonflow_resource *neonflow_step_resource_at(const neonflow_step *s, size_t i)
{
    return s && i < s->nres ? s->res[i] : NULL;
}

/* ---- resources ---------------------------------------------------------------------- */
NEONFLOW_API int32_t neonflow_resource_kind(const neonflow_resource *x) { return x ? x->kind : 0; }
NEONFLOW_API int32_t neonflow_resource_action(const neonflow_resource *x) { return x ? x->action : 0; }
NEONFLOW_API const char *neonflow_resource_name(const neonflow_resource *x) { return x ? nz(x->name) : ""; }
NEONFLOW_API const char *neonflow_resource_id(const neonflow_resource *x) { return x ? nz(x->id) : ""; }
NEONFLOW_API const char *neonflow_resource_role(const neonflow_resource *x) { return x ? nz(x->role) : ""; }
NEONFLOW_API const char *neonflow_resource_target(const neonflow_resource *x) { return x ? nz(x->target) : ""; }
NEONFLOW_API const char *neonflow_resource_run_id(const neonflow_resource *x) { return x ? nz(x->run_id) : ""; }
NEONFLOW_API const char *neonflow_resource_created_at(const neonflow_resource *x) { return x ? nz(x->created_at) : ""; }
NEONFLOW_API int64_t neonflow_resource_created_at_ms(const neonflow_resource *x) { return x ? x->created_at_ms : 0; }
NEONFLOW_API const char *neonflow_resource_expires_at(const neonflow_resource *x) { return x ? nz(x->expires_at) : ""; }
NEONFLOW_API int64_t neonflow_resource_size_bytes(const neonflow_resource *x) { return x ? x->size_bytes : -1; }
NEONFLOW_API const char *neonflow_resource_replaced_by(const neonflow_resource *x) { return x ? nz(x->replaced_by) : ""; }

/* ---- events -------------------------------------------------------------------------- */
NEONFLOW_API int32_t neonflow_event_kind(const neonflow_event *e) { return e ? e->kind : 0; }
NEONFLOW_API int32_t neonflow_event_workflow(const neonflow_event *e) { return e ? e->workflow : 0; }
NEONFLOW_API const char *neonflow_event_run_id(const neonflow_event *e) { return e ? nz(e->run_id) : ""; }
NEONFLOW_API const char *neonflow_event_step(const neonflow_event *e) { return e ? nz(e->step) : ""; }
NEONFLOW_API const char *neonflow_event_message(const neonflow_event *e) { return e ? nz(e->message) : ""; }
NEONFLOW_API int32_t neonflow_event_status(const neonflow_event *e) { return e ? e->status : 0; }
NEONFLOW_API int64_t neonflow_event_duration_ms(const neonflow_event *e) { return e ? e->duration_ms : 0; }
NEONFLOW_API const char *neonflow_event_operation_id(const neonflow_event *e) { return e ? nz(e->op_id) : ""; }
NEONFLOW_API const char *neonflow_event_operation_action(const neonflow_event *e) { return e ? nz(e->op_action) : ""; }
NEONFLOW_API int32_t neonflow_event_http_status(const neonflow_event *e) { return e ? e->http_status : 0; }
NEONFLOW_API int64_t neonflow_event_elapsed_ms(const neonflow_event *e) { return e ? e->elapsed_ms : 0; }

/* ---- JSON ------------------------------------------------------------------------------ */
/* Bumped only when a field is removed or changes meaning (docs/workflows.md). */
#define REPORT_SCHEMA_VERSION 1

int neonflow__json_set(json_t *o, const char *k, json_t *v)
{
    return !v || json_object_set_new(o, k, v) != 0;
}

int neonflow__json_set_str(json_t *o, const char *k, const char *v)
{
    return neonflow__json_set(o, k, json_string(nz(v)));
}

static json_t *resource_json(const neonflow_resource *x)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = neonflow__json_set_str(o, "kind", neonflow_resource_kind_name(x->kind)) |
              neonflow__json_set_str(o, "action", neonflow_resource_action_name(x->action)) |
              neonflow__json_set_str(o, "role", x->role) |
              neonflow__json_set_str(o, "name", x->name) | neonflow__json_set_str(o, "id", x->id) |
              neonflow__json_set_str(o, "target", x->target) |
              neonflow__json_set_str(o, "run_id", x->run_id) |
              neonflow__json_set_str(o, "created_at", x->created_at) |
              neonflow__json_set_str(o, "expires_at", x->expires_at) |
              neonflow__json_set(o, "size_bytes", json_integer(x->size_bytes)) |
              neonflow__json_set_str(o, "replaced_by", x->replaced_by);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *step_json(const neonflow_step *s)
{
    json_t *o = json_object(), *res = json_array();
    int bad = !o || !res;
    for (size_t i = 0; !bad && i < s->nres; i++)
        bad = json_array_append_new(res, resource_json(s->res[i])) != 0;
    if (!bad)
        bad = neonflow__json_set_str(o, "name", s->name) |
              neonflow__json_set_str(o, "description", s->description) |
              neonflow__json_set_str(o, "status", neonflow_step_status_name(s->status)) |
              neonflow__json_set(o, "mutating", json_boolean(s->mutating)) |
              neonflow__json_set(o, "duration_ms", json_integer(s->duration_ms)) |
              neonflow__json_set(o, "api_calls", json_integer(s->api_calls)) |
              neonflow__json_set(o, "retries", json_integer(s->retries));
    if (!bad) {
        bad = json_object_set(o, "resources", res) != 0;
    }
    json_decref(res);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *neonflow__report_json(const neonflow_report *r)
{
    json_t *o = json_object(), *steps = json_array(), *lw = json_object();
    int bad = !o || !steps || !lw;
    for (size_t i = 0; !bad && i < r->nsteps; i++)
        bad = json_array_append_new(steps, step_json(r->steps[i])) != 0;
    if (!bad)
        bad = neonflow__json_set_str(lw, "start", r->str[NEONFLOW__R_LW_START]) |
              neonflow__json_set(lw, "start_ms", json_integer(r->lw_start_ms)) |
              neonflow__json_set_str(lw, "end", r->str[NEONFLOW__R_LW_END]) |
              neonflow__json_set(lw, "end_ms", json_integer(r->lw_end_ms)) |
              neonflow__json_set_str(lw, "end_lsn", r->str[NEONFLOW__R_LW_END_LSN]) |
              neonflow__json_set_str(lw, "divergence_start", r->str[NEONFLOW__R_DIVERGENCE]) |
              neonflow__json_set_str(lw, "end_source", r->str[NEONFLOW__R_LW_END_SOURCE]);
    if (!bad)
        bad = neonflow__json_set(o, "schema_version", json_integer(REPORT_SCHEMA_VERSION)) |
              neonflow__json_set_str(o, "workflow", neonflow_workflow_kind_name(r->workflow)) |
              neonflow__json_set_str(o, "run_id", r->run_id) |
              neonflow__json_set(o, "dry_run", json_boolean(r->dry_run)) |
              neonflow__json_set(o, "result", json_integer(r->result)) |
              neonflow__json_set_str(o, "result_name", neonflow_error_name(r->result)) |
              neonflow__json_set_str(o, "message", r->message) |
              neonflow__json_set(o, "api_calls", json_integer(r->api_calls)) |
              neonflow__json_set(o, "retries", json_integer(r->retries)) |
              neonflow__json_set(o, "duration_ms", json_integer(r->duration_ms)) |
              neonflow__json_set_str(o, "source_branch_id", r->str[NEONFLOW__R_SOURCE_ID]) |
              neonflow__json_set_str(o, "old_target_branch_id", r->str[NEONFLOW__R_OLD_TARGET_ID]) |
              neonflow__json_set_str(o, "target_branch_id", r->str[NEONFLOW__R_TARGET_ID]) |
              neonflow__json_set_str(o, "target_endpoint_id", r->str[NEONFLOW__R_ENDPOINT_ID]) |
              neonflow__json_set_str(o, "target_endpoint_host", r->str[NEONFLOW__R_ENDPOINT_HOST]) |
              neonflow__json_set_str(o, "candidate_snapshot_id", r->str[NEONFLOW__R_CANDIDATE_ID]) |
              neonflow__json_set_str(o, "rollback_snapshot_id", r->str[NEONFLOW__R_ROLLBACK_ID]) |
              neonflow__json_set_str(o, "preview_branch_id", r->str[NEONFLOW__R_PREVIEW_ID]) |
              neonflow__json_set_str(o, "backup_branch_id", r->str[NEONFLOW__R_BACKUP_ID]) |
              neonflow__json_set_str(o, "backup_branch_name", r->str[NEONFLOW__R_BACKUP_NAME]);
    if (!bad)
        bad = json_object_set(o, "lost_writes", lw) != 0 || json_object_set(o, "steps", steps) != 0;
    json_decref(lw);
    json_decref(steps);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

NEONFLOW_API int neonflow_report_to_json(char **out, const neonflow_report *r, uint32_t flags, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    if (out)
        *out = NULL;
    if (!out || !r)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "out and report must not be NULL");
    if (flags & ~(uint32_t)NEONFLOW_REPORT_JSON_COMPACT)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "unknown report JSON flags 0x%x",
                                   (unsigned)(flags & ~(uint32_t)NEONFLOW_REPORT_JSON_COMPACT));
    json_t *o = neonflow__report_json(r);
    char *text = !o ? NULL : neonflow__json_dumps(o, ((flags & NEONFLOW_REPORT_JSON_COMPACT) ? JSON_COMPACT : JSON_INDENT(2)) |
                                                      JSON_PRESERVE_ORDER, NULL);
    json_decref(o);
    if (!text)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory while writing the report as JSON");
    /* hand out memory from the library's allocator (freed with neonflow_free) */
    *out = neonflow__strdup(text);
    neonflow__json_free(text);
    if (!*out)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    return NEONFLOW_OK;
}
