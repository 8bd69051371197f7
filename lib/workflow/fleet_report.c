/* Fleet reports, entries and events: construction, getters, names and JSON. */
#include <string.h>

#include "core/alloc.h"
#include "core/jsonio.h"
#include "fleet-private.h"

static const char *nz(const char *s)
{
    return s ? s : "";
}

NEONFLOW_API const char *neonflow_fleet_entry_status_name(int32_t status)
{
    switch (status) {
    case NEONFLOW_FLEET_ENTRY_NOT_STARTED: return "not_started";
    case NEONFLOW_FLEET_ENTRY_RUNNING: return "running";
    case NEONFLOW_FLEET_ENTRY_DONE: return "done";
    case NEONFLOW_FLEET_ENTRY_FAILED: return "failed";
    case NEONFLOW_FLEET_ENTRY_CANCELLED: return "cancelled";
    default: return "unknown";
    }
}

NEONFLOW_API const char *neonflow_fleet_event_kind_name(int32_t kind)
{
    switch (kind) {
    case NEONFLOW_FLEET_EVENT_STARTED: return "started";
    case NEONFLOW_FLEET_EVENT_ENTRY_STARTED: return "entry_started";
    case NEONFLOW_FLEET_EVENT_ENTRY_DONE: return "entry_done";
    case NEONFLOW_FLEET_EVENT_ENTRY_FAILED: return "entry_failed";
    case NEONFLOW_FLEET_EVENT_ENDED: return "ended";
    default: return "unknown";
    }
}

/* ---- construction ------------------------------------------------------------ */
int neonflow__fleet_report_new(neonflow_fleet_report **out, int32_t workflow, size_t n)
{
    neonflow_fleet_report *r = neonflow__calloc(1, sizeof(*r));
    if (!r)
        return NEONFLOW_ENOMEM;
    r->entries = neonflow__calloc(n ? n : 1, sizeof(*r->entries));
    if (!r->entries) {
        neonflow__free(r);
        return NEONFLOW_ENOMEM;
    }
    r->n = n;
    r->workflow = workflow;
    for (size_t i = 0; i < n; i++)
        r->entries[i].index = i;
    *out = r;
    return NEONFLOW_OK;
}

size_t neonflow__fleet_count(const neonflow_fleet_report *r, int32_t status)
{
    size_t k = 0;
    for (size_t i = 0; r && i < r->n; i++)
        k += r->entries[i].status == status;
    return k;
}

NEONFLOW_API void neonflow_fleet_report_free(neonflow_fleet_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        neonflow_fleet_entry *e = &r->entries[i];
        neonflow__free(e->project_id);
        neonflow__free(e->source);
        neonflow__free(e->target);
        neonflow__free(e->message);
        neonflow_report_free(e->report);
    }
    neonflow__free(r->entries);
    neonflow__free(r->message);
    neonflow__free(r);
}

/* ---- report getters ------------------------------------------------------------ */
NEONFLOW_API const char *neonflow_fleet_report_run_id(const neonflow_fleet_report *r) { return r ? r->run_id : ""; }
NEONFLOW_API int32_t neonflow_fleet_report_workflow(const neonflow_fleet_report *r) { return r ? r->workflow : 0; }
NEONFLOW_API int neonflow_fleet_report_result(const neonflow_fleet_report *r) { return r ? r->result : NEONFLOW_EINVAL; }
NEONFLOW_API const char *neonflow_fleet_report_message(const neonflow_fleet_report *r) { return r ? nz(r->message) : ""; }
NEONFLOW_API int64_t neonflow_fleet_report_duration_ms(const neonflow_fleet_report *r) { return r ? r->duration_ms : 0; }
NEONFLOW_API int64_t neonflow_fleet_report_api_calls(const neonflow_fleet_report *r) { return r ? r->api_calls : 0; }
NEONFLOW_API size_t neonflow_fleet_report_count(const neonflow_fleet_report *r, int32_t status)
{
    return neonflow__fleet_count(r, status);
}
NEONFLOW_API size_t neonflow_fleet_report_entry_count(const neonflow_fleet_report *r) { return r ? r->n : 0; }

NEONFLOW_API const neonflow_fleet_entry *neonflow_fleet_report_entry_at(const neonflow_fleet_report *r, size_t i)
{
    return r && i < r->n ? &r->entries[i] : NULL;
}

/* ---- entry getters ---------------------------------------------------------------- */
NEONFLOW_API size_t neonflow_fleet_entry_index(const neonflow_fleet_entry *e) { return e ? e->index : 0; }
NEONFLOW_API const char *neonflow_fleet_entry_project_id(const neonflow_fleet_entry *e) { return e ? nz(e->project_id) : ""; }
NEONFLOW_API const char *neonflow_fleet_entry_source(const neonflow_fleet_entry *e) { return e ? nz(e->source) : ""; }
NEONFLOW_API const char *neonflow_fleet_entry_target(const neonflow_fleet_entry *e) { return e ? nz(e->target) : ""; }
NEONFLOW_API const char *neonflow_fleet_entry_run_id(const neonflow_fleet_entry *e) { return e ? e->run_id : ""; }
NEONFLOW_API int32_t neonflow_fleet_entry_status(const neonflow_fleet_entry *e) { return e ? e->status : 0; }
NEONFLOW_API int neonflow_fleet_entry_result(const neonflow_fleet_entry *e) { return e ? e->result : 0; }
NEONFLOW_API const char *neonflow_fleet_entry_message(const neonflow_fleet_entry *e) { return e ? nz(e->message) : ""; }
NEONFLOW_API const neonflow_report *neonflow_fleet_entry_report(const neonflow_fleet_entry *e) { return e ? e->report : NULL; }

/* ---- event getters ---------------------------------------------------------------- */
NEONFLOW_API int32_t neonflow_fleet_event_kind(const neonflow_fleet_event *ev) { return ev ? ev->kind : 0; }
NEONFLOW_API int32_t neonflow_fleet_event_workflow(const neonflow_fleet_event *ev) { return ev ? ev->workflow : 0; }
NEONFLOW_API const char *neonflow_fleet_event_run_id(const neonflow_fleet_event *ev) { return ev ? nz(ev->run_id) : ""; }
NEONFLOW_API const neonflow_fleet_entry *neonflow_fleet_event_entry(const neonflow_fleet_event *ev) { return ev ? ev->entry : NULL; }
NEONFLOW_API size_t neonflow_fleet_event_total(const neonflow_fleet_event *ev) { return ev ? ev->total : 0; }
NEONFLOW_API int64_t neonflow_fleet_event_elapsed_ms(const neonflow_fleet_event *ev) { return ev ? ev->elapsed_ms : 0; }

NEONFLOW_API size_t neonflow_fleet_event_count(const neonflow_fleet_event *ev, int32_t status)
{
    if (!ev || status < 0 || status >= NEONFLOW__FLEET_NSTATUS)
        return 0;
    return ev->counts[status];
}

/* ---- JSON ------------------------------------------------------------------------------ */
/* Bumped only when a field is removed or changes meaning (docs/fleet.md). */
#define FLEET_SCHEMA_VERSION 1

static json_t *entry_json(const neonflow_fleet_entry *e)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_t *rep = e->report ? neonflow__report_json(e->report) : json_null();
    int bad = neonflow__json_set(o, "index", json_integer((json_int_t)e->index)) |
              neonflow__json_set_str(o, "project_id", e->project_id) |
              neonflow__json_set_str(o, "source", e->source) |
              neonflow__json_set_str(o, "target", e->target) |
              neonflow__json_set_str(o, "run_id", e->run_id) |
              neonflow__json_set_str(o, "status", neonflow_fleet_entry_status_name(e->status)) |
              neonflow__json_set(o, "result", json_integer(e->result)) |
              neonflow__json_set_str(o, "result_name", neonflow_error_name(e->result)) |
              neonflow__json_set_str(o, "message", e->message) |
              neonflow__json_set(o, "report", rep);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

NEONFLOW_API int neonflow_fleet_report_to_json(char **out, const neonflow_fleet_report *r, uint32_t flags,
                                               neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    if (out)
        *out = NULL;
    if (!out || !r)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "out and report must not be NULL");
    if (flags & ~(uint32_t)NEONFLOW_FLEET_JSON_COMPACT)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "unknown fleet report JSON flags 0x%x",
                                   (unsigned)(flags & ~(uint32_t)NEONFLOW_FLEET_JSON_COMPACT));
    json_t *o = json_object(), *entries = json_array(), *counts = json_object();
    int bad = !o || !entries || !counts;
    for (size_t i = 0; !bad && i < r->n; i++)
        bad = json_array_append_new(entries, entry_json(&r->entries[i])) != 0;
    for (int32_t s = 0; !bad && s < NEONFLOW__FLEET_NSTATUS; s++)
        if (s != NEONFLOW_FLEET_ENTRY_RUNNING)
            bad = neonflow__json_set(counts, neonflow_fleet_entry_status_name(s),
                                     json_integer((json_int_t)neonflow__fleet_count(r, s)));
    if (!bad)
        bad = neonflow__json_set(o, "schema_version", json_integer(FLEET_SCHEMA_VERSION)) |
              neonflow__json_set_str(o, "kind", "fleet") |
              neonflow__json_set_str(o, "workflow", neonflow_workflow_kind_name(r->workflow)) |
              neonflow__json_set_str(o, "run_id", r->run_id) |
              neonflow__json_set(o, "result", json_integer(r->result)) |
              neonflow__json_set_str(o, "result_name", neonflow_error_name(r->result)) |
              neonflow__json_set_str(o, "message", r->message) |
              neonflow__json_set(o, "total", json_integer((json_int_t)r->n)) |
              neonflow__json_set(o, "duration_ms", json_integer(r->duration_ms)) |
              neonflow__json_set(o, "api_calls", json_integer(r->api_calls));
    if (!bad)
        bad = json_object_set(o, "counts", counts) != 0 || json_object_set(o, "entries", entries) != 0;
    json_decref(counts);
    json_decref(entries);
    int jflags = ((flags & NEONFLOW_FLEET_JSON_COMPACT) ? JSON_COMPACT : JSON_INDENT(2)) | JSON_PRESERVE_ORDER;
    char *text = bad ? NULL : neonflow__json_dumps(o, (size_t)jflags, NULL);
    json_decref(o);
    if (!text)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory while writing the fleet report as JSON");
    *out = neonflow__strdup(text); /* the library's allocator: freed with neonflow_free */
    neonflow__json_free(text);
    if (!*out)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    return NEONFLOW_OK;
}
