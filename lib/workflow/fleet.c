/* Fleet calls: one workflow over many projects through one client, with a
 * bounded pool of worker threads (the caller's thread is one of them).
 * Every entry runs with a run id derived from the fleet's, so running the
 * same fleet again with the same fleet run id resumes every project. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/scrub.h"
#include "core/text.h"
#include "fleet-private.h"

/* ---- options ------------------------------------------------------------------- */
NEONFLOW_API int neonflow_fleet_options_new(neonflow_fleet_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    if (!*out)
        return NEONFLOW_ENOMEM;
    (*out)->concurrency = NEONFLOW__FLEET_DEFAULT_CONCURRENCY;
    return NEONFLOW_OK;
}

static void spec_free(neonflow__fleet_spec *s)
{
    neonflow__free(s->project_id);
    neonflow__free(s->source);
    neonflow__free(s->target);
    neonflow_run_options_free(s->run);
}

NEONFLOW_API void neonflow_fleet_options_free(neonflow_fleet_options *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        spec_free(&o->specs[i]);
    neonflow__free(o->specs);
    neonflow_run_options_free(o->run);
    neonflow__free(o->run_id);
    neonflow__hook_unref(o->event_hook);
    neonflow__free(o);
}

static int branch_ref_ok(const char *v)
{
    return !v || (*v && strlen(v) <= NEONFLOW__NAME_MAX);
}

NEONFLOW_API int neonflow_fleet_options_add_entry_with_run_options(neonflow_fleet_options *o,
                                                                   const char *project_id, const char *source,
                                                                   const char *target,
                                                                   const neonflow_run_options *run)
{
    if (!o || !neonflow__id_valid(project_id) || !branch_ref_ok(source) || !branch_ref_ok(target))
        return NEONFLOW_EINVAL;
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 8;
        neonflow__fleet_spec *ns = neonflow__realloc(o->specs, nc * sizeof(*ns));
        if (!ns)
            return NEONFLOW_ENOMEM;
        o->specs = ns;
        o->cap = nc;
    }
    neonflow__fleet_spec s = {0};
    int rc = neonflow__set_str(&s.project_id, project_id);
    if (rc == NEONFLOW_OK)
        rc = neonflow__set_str(&s.source, source);
    if (rc == NEONFLOW_OK)
        rc = neonflow__set_str(&s.target, target);
    if (rc == NEONFLOW_OK && run)
        rc = neonflow__run_options_dup(&s.run, run);
    if (rc != NEONFLOW_OK) {
        spec_free(&s);
        return rc;
    }
    o->specs[o->n++] = s;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_fleet_options_add_entry(neonflow_fleet_options *o, const char *project_id,
                                                  const char *source, const char *target)
{
    return neonflow_fleet_options_add_entry_with_run_options(o, project_id, source, target, NULL);
}

NEONFLOW_API size_t neonflow_fleet_options_entry_count(const neonflow_fleet_options *o) { return o ? o->n : 0; }

NEONFLOW_API int neonflow_fleet_options_set_run_options(neonflow_fleet_options *o, const neonflow_run_options *run)
{
    if (!o)
        return NEONFLOW_EINVAL;
    neonflow_run_options *copy = NULL;
    if (run && neonflow__run_options_dup(&copy, run) != NEONFLOW_OK)
        return NEONFLOW_ENOMEM;
    neonflow_run_options_free(o->run);
    o->run = copy;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_fleet_options_set_concurrency(neonflow_fleet_options *o, int32_t n)
{
    if (!o || n < 1 || n > NEONFLOW__FLEET_MAX_CONCURRENCY)
        return NEONFLOW_EINVAL;
    o->concurrency = n;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_fleet_options_set_stop_on_failure(neonflow_fleet_options *o, int enable)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->stop_on_failure = enable != 0;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_fleet_options_set_run_id(neonflow_fleet_options *o, const char *run_id)
{
    if (!o || (run_id && !neonflow__run_id_valid(run_id)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->run_id, run_id);
}

NEONFLOW_API int neonflow_fleet_options_set_cancel(neonflow_fleet_options *o, neonflow_cancel *token)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->cancel = token;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_fleet_options_set_timeout_ms(neonflow_fleet_options *o, int64_t timeout_ms)
{
    if (!o || timeout_ms < 0)
        return NEONFLOW_EINVAL;
    o->timeout_ms = timeout_ms;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_fleet_options_set_event_hook(neonflow_fleet_options *o, neonflow_fleet_event_fn fn,
                                                       void *payload, neonflow_destroy_fn destroy)
{
    return neonflow__hook_set(o ? &o->event_hook : NULL, (void (*)(void))fn, payload, destroy);
}

/* ---- derived run ids ------------------------------------------------------------------ */
#define DERIVED_PREFIX_MAX 21 /* + '-' + 10 hex digits = 32, the run id limit */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    /* the terminating NUL too, so ("ab","c") and ("a","bc") differ */
    for (const unsigned char *p = (const unsigned char *)s;; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
        if (!*p)
            return h;
    }
}

static int workflow_of_fleet(int32_t w)
{
    return w == NEONFLOW_WORKFLOW_PROMOTE || w == NEONFLOW_WORKFLOW_REFRESH || w == NEONFLOW_WORKFLOW_ROLLBACK;
}

static void derive(char out[NEONFLOW__RUN_ID_MAX + 1], const char *fleet_id, int32_t workflow, const char *project,
                   const char *target)
{
    uint64_t h = 14695981039346656037ULL;
    h = fnv1a(h, fleet_id);
    h = fnv1a(h, neonflow_workflow_kind_name(workflow));
    h = fnv1a(h, project);
    h = fnv1a(h, target);
    size_t n = strlen(fleet_id);
    if (n > DERIVED_PREFIX_MAX)
        n = DERIVED_PREFIX_MAX;
    snprintf(out, NEONFLOW__RUN_ID_MAX + 1, "%.*s-%010llx", (int)n, fleet_id,
             (unsigned long long)(h & 0xffffffffffULL));
}

NEONFLOW_API int neonflow_fleet_derive_run_id(char **out, const char *fleet_run_id, int32_t workflow,
                                              const char *project_id, const char *target)
{
    if (out)
        *out = NULL;
    if (!out || !neonflow__run_id_valid(fleet_run_id) || !workflow_of_fleet(workflow) ||
        !neonflow__id_valid(project_id) || !target || !branch_ref_ok(target))
        return NEONFLOW_EINVAL;
    char id[NEONFLOW__RUN_ID_MAX + 1];
    derive(id, fleet_run_id, workflow, project_id, target);
    *out = neonflow__strdup(id);
    return *out ? NEONFLOW_OK : NEONFLOW_ENOMEM;
}

/* ---- running a fleet ---------------------------------------------------------------------- */
typedef struct fleet_job {
    neonflow_client *c;
    const neonflow_fleet_options *fo;
    const neonflow_run_options *defaults; /* run options of entries without their own */
    neonflow_cancel *cancel;              /* the token every run and the pool obey */
    int32_t workflow;
    const void *wopts; /* the workflow's options (never NULL here) */
    neonflow_fleet_report *rep;
    neonflow__hook *hook; /* the fleet event hook, referenced for the call */
    pthread_mutex_t mu;   /* guards next, failed and every entry's status and results */
    size_t next;
    int failed;
    int64_t start_mono;
    int64_t deadline_mono; /* 0: none */
} fleet_job;

static int64_t job_now(const fleet_job *j)
{
    const neonflow__sys *sys = neonflow__client_sys(j->c);
    return sys->now_ms(sys->ctx);
}

/* Caller holds j->mu (or runs alone), so the counts and the entry are consistent. */
static void emit(fleet_job *j, int32_t kind, const neonflow_fleet_entry *e)
{
    if (!j->hook)
        return;
    neonflow_fleet_event ev = {0};
    ev.kind = kind;
    ev.workflow = j->workflow;
    ev.run_id = j->rep->run_id;
    ev.entry = e;
    ev.total = j->rep->n;
    for (int32_t s = 0; s < NEONFLOW__FLEET_NSTATUS; s++)
        ev.counts[s] = neonflow__fleet_count(j->rep, s);
    ev.elapsed_ms = job_now(j) - j->start_mono;
    ((neonflow_fleet_event_fn)j->hook->fn)(&ev, j->hook->payload);
}

/* 1 once the fleet's deadline passed. */
static int past_deadline(const fleet_job *j)
{
    return j->deadline_mono && job_now(j) >= j->deadline_mono;
}

static int run_entry(fleet_job *j, size_t i, neonflow_report **rep, neonflow_error **err)
{
    const neonflow__fleet_spec *s = &j->fo->specs[i];
    neonflow_fleet_entry *e = &j->rep->entries[i];
    /* shallow copies on this thread's stack: the run only reads them, and
     * takes its own references to the hooks */
    neonflow_run_options ro = *(s->run ? s->run : j->defaults);
    ro.project_id = e->project_id;
    ro.run_id = e->run_id;
    if (j->cancel)
        ro.cancel = j->cancel;
    if (j->deadline_mono) {
        int64_t left = j->deadline_mono - job_now(j);
        if (left < ro.timeout_ms)
            ro.timeout_ms = left > 1 ? left : 1;
    }
    switch (j->workflow) {
    case NEONFLOW_WORKFLOW_PROMOTE: {
        neonflow_promote_options po = *(const neonflow_promote_options *)j->wopts;
        po.source = e->source;
        po.target = e->target;
        return neonflow_promote(rep, j->c, &ro, &po, err);
    }
    case NEONFLOW_WORKFLOW_REFRESH: {
        neonflow_refresh_options fo = *(const neonflow_refresh_options *)j->wopts;
        fo.source = e->source;
        fo.target = e->target;
        return neonflow_refresh(rep, j->c, &ro, &fo, err);
    }
    default: {
        neonflow_rollback_options bo = *(const neonflow_rollback_options *)j->wopts;
        bo.target = e->target;
        return neonflow_rollback(rep, j->c, &ro, &bo, err);
    }
    }
}

static void *worker(void *arg)
{
    fleet_job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        if (j->next >= j->rep->n || neonflow_cancel_is_triggered(j->cancel) || past_deadline(j) ||
            (j->fo->stop_on_failure && j->failed)) {
            pthread_mutex_unlock(&j->mu);
            return NULL;
        }
        size_t i = j->next++;
        neonflow_fleet_entry *e = &j->rep->entries[i];
        e->status = NEONFLOW_FLEET_ENTRY_RUNNING;
        emit(j, NEONFLOW_FLEET_EVENT_ENTRY_STARTED, e);
        pthread_mutex_unlock(&j->mu);

        neonflow_report *rep = NULL;
        neonflow_error *err = NULL;
        int rc = run_entry(j, i, &rep, &err);
        const char *why = rep ? neonflow_report_message(rep) : err ? neonflow_error_message(err) : "";
        char *msg = neonflow__strdup(*why ? why : neonflow_strerror(rc));

        pthread_mutex_lock(&j->mu);
        e->result = rc;
        e->report = rep;
        e->message = msg;
        /* stopped at a safe point by the fleet's token or deadline: resumable, not a failure */
        int stopped = rc == NEONFLOW_ECANCELLED || (rc == NEONFLOW_ETIMEOUT && past_deadline(j));
        e->status = rc == NEONFLOW_OK ? NEONFLOW_FLEET_ENTRY_DONE
                    : stopped         ? NEONFLOW_FLEET_ENTRY_CANCELLED
                                      : NEONFLOW_FLEET_ENTRY_FAILED;
        if (e->status == NEONFLOW_FLEET_ENTRY_FAILED)
            j->failed = 1;
        emit(j, rc == NEONFLOW_OK ? NEONFLOW_FLEET_EVENT_ENTRY_DONE : NEONFLOW_FLEET_EVENT_ENTRY_FAILED, e);
        pthread_mutex_unlock(&j->mu);
        neonflow_error_free(err);
    }
}

static const char *default_source(int32_t w)
{
    return w == NEONFLOW_WORKFLOW_PROMOTE ? "dev" : w == NEONFLOW_WORKFLOW_REFRESH ? "production" : "";
}

static const char *default_target(int32_t w)
{
    return w == NEONFLOW_WORKFLOW_REFRESH ? "dev" : "production";
}

/* The entries as they will run: defaults resolved, run ids derived,
 * duplicates (one target, two runs) refused. */
static int prepare_entries(fleet_job *j, const char *tmpl_source, const char *tmpl_target, neonflow_error **err)
{
    neonflow_fleet_report *r = j->rep;
    for (size_t i = 0; i < r->n; i++) {
        const neonflow__fleet_spec *s = &j->fo->specs[i];
        neonflow_fleet_entry *e = &r->entries[i];
        const char *src = j->workflow == NEONFLOW_WORKFLOW_ROLLBACK ? ""
                          : s->source                              ? s->source
                          : tmpl_source                            ? tmpl_source
                                                                   : default_source(j->workflow);
        const char *tgt = s->target ? s->target : tmpl_target ? tmpl_target : default_target(j->workflow);
        if (neonflow__set_str(&e->project_id, s->project_id) || neonflow__set_str(&e->source, src) ||
            neonflow__set_str(&e->target, tgt))
            return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
        for (size_t k = 0; k < i; k++)
            if (strcmp(r->entries[k].project_id, e->project_id) == 0 && strcmp(r->entries[k].target, tgt) == 0)
                return neonflow__error_set(err, NEONFLOW_EINVAL,
                                           "fleet entries %zu and %zu both name project %s, target \"%s\": one "
                                           "target takes one run at a time",
                                           k + 1, i + 1, e->project_id, tgt);
        derive(e->run_id, r->run_id, j->workflow, e->project_id, tgt);
    }
    return NEONFLOW_OK;
}

/* The fleet's result, summary and error. */
static int finish(fleet_job *j, neonflow_error **err)
{
    neonflow_fleet_report *r = j->rep;
    size_t done = neonflow__fleet_count(r, NEONFLOW_FLEET_ENTRY_DONE);
    size_t failed = neonflow__fleet_count(r, NEONFLOW_FLEET_ENTRY_FAILED);
    size_t cancelled = neonflow__fleet_count(r, NEONFLOW_FLEET_ENTRY_CANCELLED);
    size_t waiting = neonflow__fleet_count(r, NEONFLOW_FLEET_ENTRY_NOT_STARTED);
    int rc = done == r->n                                            ? NEONFLOW_OK
             : failed                                              ? NEONFLOW_EFLEET_FAILED
             : neonflow_cancel_is_triggered(j->cancel)             ? NEONFLOW_ECANCELLED
             : past_deadline(j)                                    ? NEONFLOW_ETIMEOUT
                                                                   : NEONFLOW_EFLEET_FAILED;
    const neonflow_fleet_entry *first = NULL;
    for (size_t i = 0; i < r->n && !first; i++)
        if (r->entries[i].status == NEONFLOW_FLEET_ENTRY_FAILED)
            first = &r->entries[i];
    for (size_t i = 0; i < r->n; i++)
        r->api_calls += neonflow_report_api_calls(r->entries[i].report);
    const char *w = neonflow_workflow_kind_name(j->workflow);
    char *msg;
    if (rc == NEONFLOW_OK)
        msg = neonflow__format("Fleet %s completed: %zu of %zu entries done (fleet run id %s).", w, done, r->n,
                               r->run_id);
    else
        msg = neonflow__format("Fleet %s stopped%s: %zu of %zu entries done, %zu failed, %zu cancelled, %zu not "
                               "started.%s%s%s%s%s%s Re-run with fleet run id %s (--run-id %s) to resume the rest.",
                               w, rc == NEONFLOW_ECANCELLED ? " (cancelled)" : rc == NEONFLOW_ETIMEOUT ? " (deadline)" : "", done, r->n, failed, cancelled,
                               waiting, first ? " First failure: project " : "", first ? first->project_id : "",
                               first ? ", target \"" : "", first ? first->target : "", first ? "\": " : "",
                               first ? first->message : "", r->run_id, r->run_id);
    const char *secret = neonflow__client_secret(j->c);
    neonflow__scrub(msg, secret);
    r->message = neonflow__text_clean(msg, NEONFLOW__MESSAGE_MAX);
    r->result = rc;
    if (rc != NEONFLOW_OK)
        neonflow__error_set(err, rc, "%s", r->message ? r->message : neonflow_strerror(rc));
    return rc;
}

static int fleet_run(neonflow_fleet_report **out, neonflow_client *c, const neonflow_fleet_options *fo,
                     int32_t workflow, const void *wopts, const char *tmpl_source, const char *tmpl_target,
                     neonflow_error **err)
{
    if (!c || !fo)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "client and fleet options must not be NULL");
    if (fo->n == 0)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "the fleet has no entries (neonflow_fleet_options_add_entry)");
    if (neonflow__hook_active(c))
        return neonflow__error_set(err, NEONFLOW_ERECURSIVE,
                                   "a fleet was started from a hook of a run on the same client");
    fleet_job j;
    memset(&j, 0, sizeof(j));
    j.c = c;
    j.fo = fo;
    j.workflow = workflow;
    j.wopts = wopts;
    neonflow_run_options *defaults = NULL;
    if (!fo->run && neonflow_run_options_new(&defaults) != NEONFLOW_OK)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    j.defaults = fo->run ? fo->run : defaults;
    j.cancel = fo->cancel ? fo->cancel : j.defaults->cancel;
    if (neonflow__fleet_report_new(&j.rep, workflow, fo->n) != NEONFLOW_OK) {
        neonflow_run_options_free(defaults);
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    }
    if (fo->run_id)
        snprintf(j.rep->run_id, sizeof(j.rep->run_id), "%s", fo->run_id);
    else
        neonflow__run_id_generate(c, j.rep->run_id);
    int rc = prepare_entries(&j, tmpl_source, tmpl_target, err);
    if (rc != NEONFLOW_OK) {
        neonflow_fleet_report_free(j.rep);
        neonflow_run_options_free(defaults);
        return rc;
    }
    pthread_mutex_init(&j.mu, NULL);
    j.hook = neonflow__hook_ref(fo->event_hook);
    j.start_mono = job_now(&j);
    j.deadline_mono = fo->timeout_ms ? j.start_mono + fo->timeout_ms : 0;
    emit(&j, NEONFLOW_FLEET_EVENT_STARTED, NULL);

    size_t nthreads = (size_t)fo->concurrency < fo->n ? (size_t)fo->concurrency : fo->n;
    pthread_t tids[NEONFLOW__FLEET_MAX_CONCURRENCY];
    size_t started = 0;
    for (size_t t = 1; t < nthreads; t++) { /* fewer workers when the system refuses threads */
        if (pthread_create(&tids[started], NULL, worker, &j) != 0)
            break;
        started++;
    }
    worker(&j);
    for (size_t t = 0; t < started; t++)
        pthread_join(tids[t], NULL);

    j.rep->duration_ms = job_now(&j) - j.start_mono;
    rc = finish(&j, err);
    emit(&j, NEONFLOW_FLEET_EVENT_ENDED, NULL);
    neonflow__hook_unref(j.hook);
    pthread_mutex_destroy(&j.mu);
    neonflow_run_options_free(defaults);
    if (out)
        *out = j.rep;
    else
        neonflow_fleet_report_free(j.rep);
    return neonflow__client_errors(c, rc, err);
}

NEONFLOW_API int neonflow_fleet_promote(neonflow_fleet_report **out, neonflow_client *client,
                                        const neonflow_fleet_options *fleet, const neonflow_promote_options *opts,
                                        neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    if (out)
        *out = NULL;
    neonflow_promote_options *def = NULL;
    if (!opts && neonflow_promote_options_new(&def) != NEONFLOW_OK)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    const neonflow_promote_options *o = opts ? opts : def;
    int rc = fleet_run(out, client, fleet, NEONFLOW_WORKFLOW_PROMOTE, o, o->source, o->target, err);
    neonflow_promote_options_free(def);
    return rc;
}

NEONFLOW_API int neonflow_fleet_refresh(neonflow_fleet_report **out, neonflow_client *client,
                                        const neonflow_fleet_options *fleet, const neonflow_refresh_options *opts,
                                        neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    if (out)
        *out = NULL;
    neonflow_refresh_options *def = NULL;
    if (!opts && neonflow_refresh_options_new(&def) != NEONFLOW_OK)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    const neonflow_refresh_options *o = opts ? opts : def;
    int rc = fleet_run(out, client, fleet, NEONFLOW_WORKFLOW_REFRESH, o, o->source, o->target, err);
    neonflow_refresh_options_free(def);
    return rc;
}

NEONFLOW_API int neonflow_fleet_rollback(neonflow_fleet_report **out, neonflow_client *client,
                                         const neonflow_fleet_options *fleet, const neonflow_rollback_options *opts,
                                         neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    if (out)
        *out = NULL;
    if (opts && opts->snapshot_id && fleet && fleet->n > 1)
        return neonflow__error_set(err, NEONFLOW_EINVAL,
                                   "a snapshot id belongs to one project: a fleet rollback of several entries "
                                   "restores each target's newest rollback point (leave the snapshot id unset)");
    neonflow_rollback_options *def = NULL;
    if (!opts && neonflow_rollback_options_new(&def) != NEONFLOW_OK)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    const neonflow_rollback_options *o = opts ? opts : def;
    int rc = fleet_run(out, client, fleet, NEONFLOW_WORKFLOW_ROLLBACK, o, NULL, o->target, err);
    neonflow_rollback_options_free(def);
    return rc;
}
