/* The run engine shared by every workflow: run id and time stamp, steps in
 * order with events, gates, counters, cancellation and the run deadline,
 * and the report's final result and message. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/scrub.h"
#include "core/text.h"
#include "redact.h"
#include "workflow-private.h"

static atomic_int interrupt_after;

void neonflow__workflow_set_interrupt_after(int k)
{
    atomic_store(&interrupt_after, k > 0 ? k : 0);
}

int neonflow__workflow_interrupt_after(void)
{
    return atomic_load(&interrupt_after);
}

static int64_t mono_now(const neonflow__run *r)
{
    const neonflow__sys *sys = neonflow__client_sys(r->c);
    return sys->now_ms(sys->ctx);
}

int64_t neonflow__run_wall_ms(const neonflow__run *r)
{
    const neonflow__sys *sys = neonflow__client_sys(r->c);
    return sys->wall_ms(sys->ctx);
}

int neonflow__run_dry(const neonflow__run *r)
{
    return r->rep->dry_run;
}

/* ---- events ---------------------------------------------------------------------- */
void neonflow__deliver_event(neonflow__run *r, neonflow_event *ev)
{
    if (!r->event_hook)
        return;
    ev->workflow = r->rep->workflow;
    ev->run_id = r->rep->run_id;
    if (!ev->step)
        ev->step = r->cur ? r->cur->name : "";
    ev->elapsed_ms = mono_now(r) - r->start_mono;
    neonflow__event_strings keep;
    neonflow__event_scrub(ev, neonflow__client_secret(r->c), &keep);
    const neonflow_client *prev = neonflow__hook_enter(r);
    ((neonflow_event_fn)r->event_hook->fn)(ev, r->event_hook->payload);
    neonflow__hook_leave(prev);
    neonflow__event_release(&keep);
}

void neonflow__emit(neonflow__run *r, int32_t kind, const char *fmt, ...)
{
    if (!r->event_hook)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = neonflow__vformat(fmt, ap); /* whole: cut only after scrubbing */
    va_end(ap);
    neonflow_event ev = {0};
    ev.kind = kind;
    ev.message = msg ? msg : "";
    neonflow__deliver_event(r, &ev);
    neonflow__free(msg);
}

static void http_notify(void *payload, int32_t kind, const char *method, const char *path, int32_t http_status,
                        int64_t wait_ms)
{
    neonflow__run *r = payload;
    if (!r->event_hook)
        return;
    char *msg;
    neonflow_event ev = {0};
    if (kind == NEONFLOW__NOTE_RETRY) {
        ev.kind = NEONFLOW_EVENT_RETRY;
        if (http_status)
            msg = neonflow__format("%s %s answered %d: retrying in %lld ms", method, path, (int)http_status,
                                   (long long)wait_ms);
        else
            msg = neonflow__format("%s %s failed in transport: retrying in %lld ms", method, path,
                                   (long long)wait_ms);
    } else {
        ev.kind = NEONFLOW_EVENT_RATE_LIMIT_WAIT;
        msg = neonflow__format("rate limit: %s %s waits %lld ms", method, path, (long long)wait_ms);
    }
    ev.message = msg ? msg : "";
    ev.http_status = http_status;
    ev.duration_ms = wait_ms;
    neonflow__deliver_event(r, &ev);
    neonflow__free(msg);
}

/* ---- failures ------------------------------------------------------------------------ */
int neonflow__fail(neonflow__run *r, int code, const char *fmt, ...)
{
    if (r->err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    char *msg = neonflow__vformat(fmt, ap);
    va_end(ap);
    neonflow__error_set(&r->err, code, "%s", msg ? msg : neonflow_strerror(code));
    neonflow__free(msg);
    return code;
}

int neonflow__fail_with(neonflow__run *r, neonflow_error **e, int code)
{
    if (e && *e) {
        if (code == NEONFLOW_OK)
            code = neonflow_error_code(*e);
        if (!r->err)
            r->err = *e;
        else
            neonflow_error_free(*e);
        *e = NULL;
    }
    if (code != NEONFLOW_OK && !r->err)
        neonflow__error_set(&r->err, code, "%s", neonflow_strerror(code));
    return code;
}

/* ---- cancellation and deadline ------------------------------------------------------------ */
int neonflow__run_check(neonflow__run *r)
{
    if (neonflow_cancel_is_triggered(r->ro->cancel))
        return neonflow__fail(r, NEONFLOW_ECANCELLED, "cancelled through the cancel token");
    if (mono_now(r) >= r->deadline_mono)
        return neonflow__fail(r, NEONFLOW_ETIMEOUT, "the run's deadline (%lld ms) passed",
                              (long long)r->ro->timeout_ms);
    return neonflow__lease_check(r);
}

int neonflow__run_sleep(neonflow__run *r, int64_t ms)
{
    const neonflow__sys *sys = neonflow__client_sys(r->c);
    int64_t until = mono_now(r) + ms;
    for (;;) {
        int rc = neonflow__run_check(r);
        if (rc != NEONFLOW_OK)
            return rc;
        int64_t left = until - mono_now(r);
        if (left <= 0)
            return NEONFLOW_OK;
        int64_t to_deadline = r->deadline_mono - mono_now(r);
        int64_t slice = left < 100 ? left : 100; /* deadline and lease checks */
        if (slice > to_deadline)
            slice = to_deadline > 0 ? to_deadline : 0;
        sys->sleep_ms(sys->ctx, slice, r->ro->cancel);
    }
}

/* The client whose run is inside a hook on this thread: a workflow started
 * from that hook on the same client would interleave with the outer run. */
static _Thread_local const neonflow_client *hook_client;

const neonflow_client *neonflow__hook_enter(const neonflow__run *r)
{
    const neonflow_client *prev = hook_client;
    hook_client = r->c;
    return prev;
}

void neonflow__hook_leave(const neonflow_client *prev) { hook_client = prev; }

int neonflow__hook_active(const neonflow_client *c) { return c && hook_client == c; }

/* ---- begin / step / end ---------------------------------------------------------------------- */
int neonflow__run_begin(neonflow__run *r, neonflow_client *c, const neonflow_run_options *ro, int32_t workflow,
                        neonflow_error **err)
{
    memset(r, 0, sizeof(*r));
    if (!c)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "client must not be NULL");
    if (hook_client == c)
        return neonflow__error_set(err, NEONFLOW_ERECURSIVE,
                                   "a workflow was started from a hook of a run on the same client: hooks may "
                                   "call the API (e.g. to inspect a branch) but not start another workflow on "
                                   "that client");
    if (!ro)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "run options must not be NULL");
    if (!ro->project_id)
        return neonflow__error_set(err, NEONFLOW_EINVAL,
                                   "run options need a project id (neonflow_run_options_set_project_id)");
    if (neonflow__report_new(&r->rep, workflow) != NEONFLOW_OK)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    r->c = c;
    r->ro = ro;
    r->project_id = ro->project_id;
    r->rep->dry_run = ro->dry_run;
    if (ro->run_id)
        snprintf(r->rep->run_id, sizeof(r->rep->run_id), "%s", ro->run_id);
    else
        neonflow__run_id_generate(c, r->rep->run_id);
    r->start_mono = mono_now(r);
    r->start_wall = neonflow__run_wall_ms(r);
    r->deadline_mono = r->start_mono + ro->timeout_ms;
    neonflow__stamp_format(r->start_wall, r->stamp);
    r->ctx.cancel = ro->cancel;
    r->ctx.deadline_ms = r->deadline_mono;
    r->ctx.notify = http_notify;
    r->ctx.notify_payload = r;
    r->ctx.run_id = r->rep->run_id;
    r->event_hook = neonflow__hook_ref(ro->event_hook);
    r->gate_hook = neonflow__hook_ref(ro->gate_hook);
    neonflow__emit(r, NEONFLOW_EVENT_RUN_STARTED, "run %s started%s", r->rep->run_id,
                   ro->dry_run ? " (dry run: nothing will be changed)" : "");
    return NEONFLOW_OK;
}

static size_t step_position(const neonflow__run *r, const neonflow_step *st)
{
    for (size_t i = 0; i < r->rep->nsteps; i++)
        if (r->rep->steps[i] == st)
            return i + 1;
    return 0;
}

int neonflow__run_step(neonflow__run *r, neonflow_step *st, neonflow__step_fn fn, void *ws, int run_in_dry_run)
{
    if (!st)
        return neonflow__fail(r, NEONFLOW_ENOMEM, "out of memory");
    if (r->rep->dry_run && !run_in_dry_run)
        return NEONFLOW_OK;
    int rc = neonflow__run_check(r);
    if (rc != NEONFLOW_OK)
        return rc;
    r->cur = st;
    int64_t t0 = mono_now(r);
    r->ctx.calls = r->ctx.retries = 0;
    neonflow__emit(r, NEONFLOW_EVENT_STEP_BEGIN, "%s", st->description);
    int resumed = st->status == NEONFLOW_STEP_RESUMED;
    int veto = 0;
    if (st->mutating && !resumed && !r->rep->dry_run && r->gate_hook) {
        const neonflow_client *prev = neonflow__hook_enter(r);
        veto = ((neonflow_gate_fn)r->gate_hook->fn)(st, r->gate_hook->payload) != 0;
        neonflow__hook_leave(prev);
    }
    if (veto) {
        st->status = NEONFLOW_STEP_VETOED;
        rc = neonflow__fail(r, NEONFLOW_ECALLBACK, "the gate hook vetoed step '%s'", st->name);
    } else {
        rc = fn(r, st, ws);
    }
    if (rc == NEONFLOW_OK && st->status == NEONFLOW_STEP_PLANNED)
        st->status = r->rep->dry_run ? NEONFLOW_STEP_PLANNED : NEONFLOW_STEP_DONE;
    if (rc != NEONFLOW_OK && st->status != NEONFLOW_STEP_VETOED)
        st->status = NEONFLOW_STEP_FAILED;
    st->duration_ms += mono_now(r) - t0;
    st->api_calls += r->ctx.calls;
    st->retries += r->ctx.retries;
    r->rep->api_calls += r->ctx.calls;
    r->rep->retries += r->ctx.retries;
    r->ctx.calls = r->ctx.retries = 0;
    if (r->event_hook) {
        char *msg = neonflow__format("%s: %s", st->name,
                                     rc == NEONFLOW_OK ? "ok"
                                     : r->err          ? neonflow_error_message(r->err)
                                                       : neonflow_strerror(rc));
        neonflow_event ev = {0};
        ev.kind = NEONFLOW_EVENT_STEP_END;
        ev.message = msg ? msg : "";
        ev.status = st->status;
        ev.duration_ms = st->duration_ms;
        neonflow__deliver_event(r, &ev);
        neonflow__free(msg);
    }
    size_t pos = step_position(r, st);
    r->step_index = pos;
    int k = neonflow__workflow_interrupt_after();
    if (rc == NEONFLOW_OK && !r->rep->dry_run && k > 0 && (size_t)k == pos) {
        r->interrupted = 1;
        rc = neonflow__fail(r, NEONFLOW_ECANCELLED, "interrupted right after step %zu '%s' (test seam)", pos,
                            st->name);
    }
    r->cur = NULL;
    return rc;
}

static const char *workflow_word(int32_t w)
{
    switch (w) {
    case NEONFLOW_WORKFLOW_SETUP: return "setup";
    case NEONFLOW_WORKFLOW_PROMOTE: return "promotion";
    case NEONFLOW_WORKFLOW_REFRESH: return "refresh";
    case NEONFLOW_WORKFLOW_ROLLBACK: return "rollback";
    case NEONFLOW_WORKFLOW_BACKUPS: return "backup listing";
    default: return "prune";
    }
}

static const neonflow_step *failed_step(const neonflow__run *r)
{
    for (size_t i = 0; i < r->rep->nsteps; i++) {
        int32_t s = r->rep->steps[i]->status;
        if (s == NEONFLOW_STEP_FAILED || s == NEONFLOW_STEP_VETOED)
            return r->rep->steps[i];
    }
    return NULL;
}

/* Whether a mutating step ran (or was found done by an earlier attempt): only
 * then is there anything for a re-run with the same run id to continue. */
static int run_changed_something(const neonflow__run *r)
{
    if (r->touched)
        return 1;
    for (size_t i = 0; i < r->rep->nsteps; i++) {
        const neonflow_step *s = r->rep->steps[i];
        if (s->mutating && (s->status == NEONFLOW_STEP_DONE || s->status == NEONFLOW_STEP_RESUMED ||
                            s->status == NEONFLOW_STEP_FAILED))
            return 1;
    }
    return 0;
}

int neonflow__run_end(neonflow__run *r, int rc, const char *extra, neonflow_report **out, neonflow_error **err)
{
    neonflow_report *rep = r->rep;
    if (rc == NEONFLOW_OK && neonflow__report_incomplete(rep)) {
        /* never an OK whose report lacks what was done */
        neonflow_error_free(r->err);
        r->err = NULL;
        rc = neonflow__fail(r, NEONFLOW_ENOMEM, "out of memory recording the report; run again with the same run "
                                                "id to get it in full");
    }
    rep->result = rc;
    rep->duration_ms = mono_now(r) - r->start_mono;
    rep->api_calls += r->ctx.calls;
    rep->retries += r->ctx.retries;
    char *msg = NULL;
    const char *w = workflow_word(rep->workflow);
    if (rc == NEONFLOW_OK) {
        msg = neonflow__format("%s%s %s (run id %s).%s%s", rep->dry_run ? "Dry run: " : "", w,
                               rep->dry_run ? "planned, nothing changed" : "completed", rep->run_id,
                               extra ? " " : "", extra ? extra : "");
        if (msg)
            msg[0] = (char)(msg[0] >= 'a' && msg[0] <= 'z' ? msg[0] - 32 : msg[0]);
    } else {
        const neonflow_step *fs = failed_step(r);
        const char *why = r->err ? neonflow_error_message(r->err) : neonflow_strerror(rc);
        char where[300] = "";
        if (fs)
            snprintf(where, sizeof(where), " at step '%s'", fs->name);
        else if (r->interrupted && r->step_index)
            snprintf(where, sizeof(where), " after step %zu", r->step_index);
        const char *state = "";
        if (rep->workflow == NEONFLOW_WORKFLOW_PROMOTE || rep->workflow == NEONFLOW_WORKFLOW_REFRESH ||
            rep->workflow == NEONFLOW_WORKFLOW_ROLLBACK)
            state = r->touched ? " The target was already switched to the new data." : " The target is untouched.";
        char cont[200] = "";
        if (rc != NEONFLOW_ECALLBACK && rep->workflow != NEONFLOW_WORKFLOW_BACKUPS) {
            if (run_changed_something(r))
                snprintf(cont, sizeof(cont), " Re-run with run id %s (--run-id %s) to continue.", rep->run_id,
                         rep->run_id);
            else
                snprintf(cont, sizeof(cont), " Nothing was changed (run id %s).", rep->run_id);
        }
        msg = neonflow__format("The %s stopped%s: %s (%s).%s%s%s%s", w, where, why, neonflow_error_name(rc),
                               state, extra ? " " : "", extra ? extra : "", cont);
    }
    if (!r->interrupted) /* a crash leaves the lease: it expires, or the same run id re-enters it */
        neonflow__lease_release(r);
    neonflow_branch_list_free(neonflow__lease_seen_take(r));
    neonflow__hook_unref(r->lease.hook);
    r->lease.hook = NULL;
    /* Everything the caller gets is scrubbed of the key, then cut. */
    const char *secret = neonflow__client_secret(r->c);
    neonflow__scrub(msg, secret);
    msg = neonflow__text_clean(msg, NEONFLOW__MESSAGE_MAX);
    if ((!msg || neonflow__set_str(&rep->message, msg) != NEONFLOW_OK) && rc == NEONFLOW_OK) {
        /* never an OK whose report lacks its message */
        rep->result = rc = NEONFLOW_ENOMEM;
        neonflow__free(msg);
        msg = NULL;
        neonflow__set_str(&rep->message, "out of memory recording the report; run again with the same run id to "
                                         "get it in full");
    }
    neonflow__report_scrub(rep, secret);
    neonflow__emit(r, NEONFLOW_EVENT_RUN_ENDED, "%s", rep->message ? rep->message : neonflow_strerror(rc));
    neonflow__hook_unref(r->event_hook);
    neonflow__hook_unref(r->gate_hook);
    r->event_hook = r->gate_hook = NULL;
    if (rc != NEONFLOW_OK && err && !*err) {
        if (r->err) { /* keep the HTTP details of the cause, say what to do */
            char *m = msg ? neonflow__strdup(msg) : NULL;
            if (m) {
                neonflow__free(r->err->message);
                r->err->message = m;
            }
            r->err->code = rc;
            *err = r->err;
            r->err = NULL;
        } else {
            neonflow__error_set(err, rc, "%s", msg ? msg : neonflow_strerror(rc));
        }
        neonflow__client_errors(r->c, rc, err);
    }
    neonflow__free(msg);
    neonflow_error_free(r->err);
    r->err = NULL;
    if (out)
        *out = rep;
    else
        neonflow_report_free(rep);
    r->rep = NULL;
    return rc;
}
