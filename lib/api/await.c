/* Waiting for operations: adaptive polling with deadline, cancellation,
 * progress events and poll accounting.
 *
 * Schedule: polling rounds start at t0+first, then each gap is the previous
 * one times 1.5, capped at max_ms (defaults 100 ms and 980 ms), measured
 * from the START of one round to the start of the next so a slow response
 * does not stretch the gap; each gap is shortened by a random 0-5% so many
 * waiters do not poll in lockstep. With the cap below one second a finished
 * operation is noticed less than a second late; with the quick start,
 * short operations are noticed several times sooner than with fixed 1 s
 * polling, for a few extra polls (bench/await_bench.c measures both). */
#include <stdio.h>
#include <string.h>

#include "api-private.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/scrub.h"

#define AWAIT_DEFAULT_FIRST_MS NEONFLOW__AWAIT_FIRST_MS
#define AWAIT_DEFAULT_MAX_MS NEONFLOW__AWAIT_MAX_MS
#define AWAIT_GROWTH_NUM 3 /* gap *= 3/2 */
#define AWAIT_GROWTH_DEN 2
#define AWAIT_JITTER_PCT 5

struct neonflow_await_result {
    int64_t polls;
    int64_t elapsed_ms;
    neonflow_operation_list ops;
};

/* ---- options -------------------------------------------------------------------- */
NEONFLOW_API int neonflow_await_options_new(neonflow_await_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    if (!*out)
        return NEONFLOW_ENOMEM;
    (*out)->timeout_ms = NEONFLOW_AWAIT_DEFAULT_TIMEOUT_MS;
    (*out)->first_ms = AWAIT_DEFAULT_FIRST_MS;
    (*out)->max_ms = AWAIT_DEFAULT_MAX_MS;
    return NEONFLOW_OK;
}

NEONFLOW_API void neonflow_await_options_free(neonflow_await_options *o)
{
    if (!o)
        return;
    neonflow__hook_unref(o->progress_hook);
    neonflow__free(o);
}

NEONFLOW_API int neonflow_await_options_set_timeout_ms(neonflow_await_options *o, int64_t timeout_ms)
{
    if (!o || timeout_ms <= 0)
        return NEONFLOW_EINVAL;
    o->timeout_ms = timeout_ms;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_await_options_set_cancel(neonflow_await_options *o, neonflow_cancel *token)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->cancel = token;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_await_options_set_progress_hook(neonflow_await_options *o, neonflow_await_progress_fn fn,
                                                          void *payload, neonflow_destroy_fn destroy)
{
    return neonflow__hook_set(o ? &o->progress_hook : NULL, (void (*)(void))fn, payload, destroy);
}

NEONFLOW_API int neonflow_await_options_set_poll_interval_ms(neonflow_await_options *o, int64_t first_ms,
                                                          int64_t max_ms)
{
    if (!o || first_ms <= 0 || max_ms < first_ms)
        return NEONFLOW_EINVAL;
    o->first_ms = first_ms;
    o->max_ms = max_ms;
    return NEONFLOW_OK;
}

/* ---- result ------------------------------------------------------------------------ */
NEONFLOW_API int64_t neonflow_await_result_polls(const neonflow_await_result *r)
{
    return r ? r->polls : 0;
}

NEONFLOW_API int64_t neonflow_await_result_elapsed_ms(const neonflow_await_result *r)
{
    return r ? r->elapsed_ms : 0;
}

NEONFLOW_API const neonflow_operation_list *neonflow_await_result_operations(const neonflow_await_result *r)
{
    return r ? &r->ops : NULL;
}

NEONFLOW_API void neonflow_await_result_free(neonflow_await_result *r)
{
    if (!r)
        return;
    neonflow__vec_clear(&r->ops.v);
    neonflow__free(r);
}

/* ---- the wait ------------------------------------------------------------------------ */
struct slot {
    const char *id;               /* borrowed from the input */
    struct neonflow_operation op; /* last known state (valid when have) */
    json_t *doc;                  /* document of op when it came from a poll */
    int have, done;
};

struct waiter {
    neonflow_client *c;
    neonflow__call_ctx *outer;
    const char *project_id;
    const neonflow_await_options *opts;
    neonflow_cancel *cancel;
    const neonflow__sys *sys;
    neonflow__await_poll_fn poll;
    void *poll_payload;
    struct slot *slots;
    size_t n;
    int64_t polls, deadline;
};

static int default_poll(void *payload, neonflow_client *c, neonflow__call_ctx *ctx, const char *project_id,
                        const char *operation_id, neonflow_operation **out, neonflow_error **err)
{
    (void)payload;
    return neonflow__operation_get_ctx(out, c, ctx, project_id, operation_id, err);
}

static int cancelled(struct waiter *w)
{
    if (neonflow_cancel_is_triggered(w->cancel))
        return 1;
    if (w->outer && w->outer->cancel && neonflow_cancel_is_triggered(w->outer->cancel))
        return 1;
    return 0;
}

static int progress(struct waiter *w, const struct neonflow_operation *op)
{
    neonflow__hook *h = w->opts ? w->opts->progress_hook : NULL;
    if (h && h->fn && ((neonflow_await_progress_fn)h->fn)(op, h->payload) != 0)
        return 1;
    return 0;
}

/* Terminal-state check for one slot: OK (pending or success) or an error. */
static int judge(struct slot *s, neonflow_error **err)
{
    const struct neonflow_operation *op = &s->op;
    switch (op->status_code) {
    case NEONFLOW_OP_STATUS_FINISHED:
    case NEONFLOW_OP_STATUS_SKIPPED:
        s->done = 1;
        return NEONFLOW_OK;
    case NEONFLOW_OP_STATUS_ERROR:
        return neonflow__error_set(err, NEONFLOW_EOPFAILED, "operation %s (%s) ended in error: %s", op->id,
                                   op->action, op->error ? op->error : "(no error text)");
    case NEONFLOW_OP_STATUS_CANCELLED:
        return neonflow__error_set(err, NEONFLOW_EOPCANCELLED, "operation %s (%s) was cancelled", op->id,
                                   op->action);
    default:
        return NEONFLOW_OK;
    }
}

/* Polls errors that do not end the wait: the next round tries again. */
static int transient(int rc, const neonflow_error *e)
{
    switch (rc) {
    case NEONFLOW_ELOCKED:
    case NEONFLOW_ERATELIMIT:
    case NEONFLOW_ESERVER:
    case NEONFLOW_ETRANSPORT:
    case NEONFLOW_ECONNECT:
    case NEONFLOW_ERESOLVE:
    case NEONFLOW_ENETTIMEOUT:
    case NEONFLOW_EPROTOCOL:
    case NEONFLOW_EUNCERTAIN:
        return 1;
    default:
        return e && neonflow_error_is_retryable(e);
    }
}

/* The deadline passed: EOPFAILED when something is stuck in `failed`,
 * EOPTIMEOUT otherwise; the message lists what is pending. */
static int deadline_error(struct waiter *w, int64_t timeout_ms, neonflow_error **err)
{
    char list[512] = "";
    size_t used = 0, pending = 0;
    const struct neonflow_operation *failed = NULL;
    for (size_t i = 0; i < w->n; i++) {
        struct slot *s = &w->slots[i];
        if (s->done)
            continue;
        pending++;
        if (s->have && s->op.status_code == NEONFLOW_OP_STATUS_FAILED && !failed)
            failed = &s->op;
        if (used < sizeof(list) - 1) {
            int k = snprintf(list + used, sizeof(list) - used, "%s%s (%s, %s)", used ? ", " : "", s->id,
                             s->have ? s->op.action : "?", s->have ? s->op.status : "not read yet");
            used += k > 0 ? (size_t)k : 0;
            if (used >= sizeof(list))
                used = sizeof(list) - 1;
        }
    }
    if (failed) {
        char count[24] = "?"; /* failures_count is optional */
        if (failed->failures_count >= 0)
            snprintf(count, sizeof(count), "%d", (int)failed->failures_count);
        return neonflow__error_set(err, NEONFLOW_EOPFAILED,
                                   "operation %s (%s) still failed after %lld ms (failures_count %s%s%s); "
                                   "pending: %s",
                                   failed->id, failed->action, (long long)timeout_ms, count,
                                   failed->error ? ", last error: " : "", failed->error ? failed->error : "",
                                   list);
    }
    return neonflow__error_set(err, NEONFLOW_EOPTIMEOUT, "%zu operation(s) not done after %lld ms: %s", pending,
                               (long long)timeout_ms, list);
}

/* One round: polls every pending slot once. */
static int poll_round(struct waiter *w, neonflow_error **err)
{
    for (size_t i = 0; i < w->n; i++) {
        struct slot *s = &w->slots[i];
        if (s->done)
            continue;
        neonflow__call_ctx pc = {0};
        pc.cancel = w->cancel ? w->cancel : (w->outer ? w->outer->cancel : NULL);
        pc.cancel2 = w->cancel && w->outer ? w->outer->cancel : NULL; /* the caller's, beside the await's own */
        pc.deadline_ms = w->deadline;
        if (w->outer) {
            pc.request_id = w->outer->request_id;
            pc.notify = w->outer->notify;
            pc.notify_payload = w->outer->notify_payload;
        }
        neonflow_operation *op = NULL;
        neonflow_error *e = NULL;
        int rc = w->poll(w->poll_payload, w->c, &pc, w->project_id, s->id, &op, &e);
        w->polls++;
        if (w->outer) {
            w->outer->calls += pc.calls;
            w->outer->retries += pc.retries;
        }
        if (rc != NEONFLOW_OK) {
            if (rc == NEONFLOW_ECANCELLED || rc == NEONFLOW_ETIMEOUT || transient(rc, e)) {
                neonflow_error_free(e);
                if (rc == NEONFLOW_ECANCELLED || rc == NEONFLOW_ETIMEOUT)
                    return rc; /* the caller maps these */
                continue;
            }
            if (err && !*err)
                *err = e;
            else
                neonflow_error_free(e);
            return rc;
        }
        int changed = !s->have || strcmp(s->op.status, op->status) != 0;
        json_decref(s->doc);
        s->doc = op->own; /* take the document */
        neonflow__operation_cleanup(&s->op);
        neonflow__operation_copy(&s->op, op);
        s->have = 1;
        op->own = NULL;
        neonflow_operation_free(op);
        if (changed && progress(w, &s->op))
            return neonflow__error_set(err, NEONFLOW_ECALLBACK, "the progress hook stopped the wait");
        if ((rc = judge(s, err)) != NEONFLOW_OK)
            return rc;
    }
    return NEONFLOW_OK;
}

static int all_done(const struct waiter *w)
{
    for (size_t i = 0; i < w->n; i++)
        if (!w->slots[i].done)
            return 0;
    return 1;
}

/* Sleeps ms; 1 when cancelled. A sleep wakes on one token: when the await
 * options and the caller's call options each bring their own, it sleeps in
 * short slices so either one stops it promptly. */
static int nap(struct waiter *w, int64_t ms)
{
    neonflow_cancel *a = w->cancel, *b = w->outer ? w->outer->cancel : NULL;
    if (!a || !b || a == b)
        return w->sys->sleep_ms(w->sys->ctx, ms, a ? a : b) != 0 || cancelled(w);
    while (ms > 0) {
        int64_t slice = ms < 50 ? ms : 50;
        if (w->sys->sleep_ms(w->sys->ctx, slice, a) != 0 || cancelled(w))
            return 1;
        ms -= slice;
    }
    return cancelled(w);
}

static int run_wait(struct waiter *w, int64_t start, int64_t timeout_ms, neonflow_error **err)
{
    int64_t gap = w->opts ? w->opts->first_ms : AWAIT_DEFAULT_FIRST_MS;
    int64_t cap = w->opts ? w->opts->max_ms : AWAIT_DEFAULT_MAX_MS;
    int64_t next = start + gap;
    for (;;) {
        if (all_done(w))
            return NEONFLOW_OK;
        if (cancelled(w))
            return neonflow__error_set(err, NEONFLOW_ECANCELLED, "wait for operations cancelled");
        int64_t now = w->sys->now_ms(w->sys->ctx);
        if (now >= w->deadline)
            return deadline_error(w, timeout_ms, err);
        int64_t until = next < w->deadline ? next : w->deadline;
        if (until > now && nap(w, until - now))
            return neonflow__error_set(err, NEONFLOW_ECANCELLED, "wait for operations cancelled");
        int64_t round_start = w->sys->now_ms(w->sys->ctx);
        int rc = poll_round(w, err);
        if (rc == NEONFLOW_ECANCELLED)
            return neonflow__error_set(err, NEONFLOW_ECANCELLED, "wait for operations cancelled");
        if (rc == NEONFLOW_ETIMEOUT)
            return all_done(w) ? NEONFLOW_OK : deadline_error(w, timeout_ms, err);
        if (rc != NEONFLOW_OK)
            return rc;
        /* next gap: grow, cap, shorten by up to AWAIT_JITTER_PCT percent */
        gap = gap * AWAIT_GROWTH_NUM / AWAIT_GROWTH_DEN;
        if (gap > cap)
            gap = cap;
        if (gap < 1)
            gap = 1;
        int64_t jitter = (int64_t)(w->sys->random(w->sys->ctx) % (uint64_t)(gap * AWAIT_JITTER_PCT / 100 + 1));
        next = round_start + gap - jitter;
    }
}

static int build_result(struct waiter *w, const neonflow_operation_list *ops, int64_t elapsed,
                        neonflow_await_result **out)
{
    neonflow_await_result *r = neonflow__calloc(1, sizeof(*r));
    if (!r)
        return NEONFLOW_ENOMEM;
    neonflow__operation_list_init(&r->ops);
    r->polls = w->polls;
    r->elapsed_ms = elapsed;
    for (size_t i = 0; ops && i < ops->v.nroots; i++)
        if (neonflow__vec_hold(&r->ops.v, ops->v.roots[i]) != NEONFLOW_OK)
            goto oom;
    for (size_t i = 0; i < w->n; i++) {
        struct slot *s = &w->slots[i];
        if (!s->have)
            continue;
        if (neonflow__vec_hold(&r->ops.v, s->doc) != NEONFLOW_OK)
            goto oom;
        struct neonflow_operation *it = neonflow__vec_push(&r->ops.v);
        if (!it)
            goto oom;
        neonflow__operation_copy(it, &s->op);
    }
    *out = r;
    return NEONFLOW_OK;
oom:
    neonflow_await_result_free(r);
    return NEONFLOW_ENOMEM;
}

int neonflow__operations_await_ctx(neonflow_await_result **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                   const char *project_id, const neonflow_operation_list *ops,
                                   const char *const *ids, size_t nids, const neonflow_await_options *opts,
                                   neonflow__await_poll_fn poll, void *poll_payload, neonflow_error **err)
{
    if (out)
        *out = NULL;
    if (!c)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "client must not be NULL");
    int rc = neonflow__id_check("project_id", project_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    if (nids && !ids)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "operation_ids must not be NULL");
    for (size_t i = 0; i < nids; i++)
        if ((rc = neonflow__id_check("operation_id", ids[i], err)) != NEONFLOW_OK)
            return rc;
    size_t nops = ops ? ops->v.n : 0;
    for (size_t i = 0; i < nops; i++) {
        const struct neonflow_operation *op = neonflow__vec_at(&ops->v, i);
        if ((rc = neonflow__id_check("operation id", op->id, err)) != NEONFLOW_OK)
            return rc;
    }

    struct waiter w;
    memset(&w, 0, sizeof(w));
    w.c = c;
    w.outer = ctx;
    w.project_id = project_id;
    w.opts = opts;
    w.cancel = opts ? opts->cancel : NULL;
    w.sys = neonflow__client_sys(c);
    w.poll = poll ? poll : default_poll;
    w.poll_payload = poll_payload;
    w.n = nops + nids;
    if (w.n && !(w.slots = neonflow__calloc(w.n, sizeof(*w.slots))))
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");

    int64_t timeout_ms = opts ? opts->timeout_ms : NEONFLOW_AWAIT_DEFAULT_TIMEOUT_MS;
    int64_t start = w.sys->now_ms(w.sys->ctx);
    w.deadline = start + timeout_ms;
    if (ctx && ctx->deadline_ms > 0 && ctx->deadline_ms < w.deadline) {
        w.deadline = ctx->deadline_ms;
        timeout_ms = w.deadline - start;
    }

    rc = NEONFLOW_OK;
    for (size_t i = 0; i < nops; i++) {
        struct slot *s = &w.slots[i];
        neonflow__operation_copy(&s->op, neonflow__vec_at(&ops->v, i));
        s->id = s->op.id;
        s->have = 1;
        if (rc == NEONFLOW_OK)
            rc = judge(s, err);
    }
    for (size_t i = 0; i < nids; i++)
        w.slots[nops + i].id = ids[i];
    if (rc == NEONFLOW_OK)
        rc = run_wait(&w, start, timeout_ms, err);

    int64_t elapsed = w.sys->now_ms(w.sys->ctx) - start;
    if (out && build_result(&w, ops, elapsed, out) != NEONFLOW_OK && rc == NEONFLOW_OK)
        rc = neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    for (size_t i = 0; i < w.n; i++) {
        neonflow__operation_cleanup(&w.slots[i].op); /* text a progress hook asked for */
        json_decref(w.slots[i].doc);
    }
    neonflow__free(w.slots);
    return rc;
}

NEONFLOW_API int neonflow_operations_await(neonflow_await_result **out, neonflow_client *client,
                                           const char *project_id, const neonflow_operation_list *ops,
                                           const neonflow_await_options *opts,
                                           const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(client,
                                   neonflow__operations_await_ctx(out, client, ctx, project_id,
                                                                  ops, NULL, 0, opts, NULL, NULL,
                                                                  err),
                                   err);
}

NEONFLOW_API int neonflow_operation_ids_await(neonflow_await_result **out, neonflow_client *client,
                                              const char *project_id, const char *const *operation_ids,
                                              size_t count, const neonflow_await_options *opts,
                                              const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(client,
                                   neonflow__operations_await_ctx(out, client, ctx, project_id,
                                                                  NULL, operation_ids, count, opts,
                                                                  NULL, NULL, err),
                                   err);
}
