/* The promotion lease: one run at a time per target, across processes and
 * machines. By default it lives in Neon as a child branch of the default
 * branch named nf/<target>/lease: Neon's unique branch names make the create
 * an atomic test-and-set (409 = held), the annotation names the holder, and
 * expires_at frees the lease of a crashed holder. A lock hook replaces it.
 *
 * Parent: the default branch (no parent_id sent). It exists for every
 * workflow, including setup whose target does not exist yet, costs no lookup,
 * and prune never deletes it. When the default branch is itself a promoted
 * target, finalize leaves the lease under the replaced branch (the backup);
 * prune then keeps that backup while the lease lives (it has a child).
 * The lease branch's own calls are in lease_neon.c. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/ratelimit.h"
#include "lease-private.h"

#define BUF(x) x, sizeof(x)

struct neonflow_lock_request {
    int32_t kind, workflow;
    const char *project_id, *target, *run_id;
    int64_t ttl_ms;
    char holder[NEONFLOW__RUN_ID_MAX + 1];
};

NEONFLOW_API int32_t neonflow_lock_request_kind(const neonflow_lock_request *q) { return q ? q->kind : 0; }
NEONFLOW_API int32_t neonflow_lock_request_workflow(const neonflow_lock_request *q) { return q ? q->workflow : 0; }
NEONFLOW_API int64_t neonflow_lock_request_ttl_ms(const neonflow_lock_request *q) { return q ? q->ttl_ms : 0; }
NEONFLOW_API const char *neonflow_lock_request_project_id(const neonflow_lock_request *q)
{
    return q ? q->project_id : NULL;
}
NEONFLOW_API const char *neonflow_lock_request_target(const neonflow_lock_request *q)
{
    return q ? q->target : NULL;
}
NEONFLOW_API const char *neonflow_lock_request_run_id(const neonflow_lock_request *q)
{
    return q ? q->run_id : NULL;
}

NEONFLOW_API int neonflow_lock_request_set_holder(neonflow_lock_request *q, const char *holder)
{
    if (!q)
        return NEONFLOW_EINVAL;
    q->holder[0] = '\0';
    if (!holder)
        return NEONFLOW_OK;
    if (!neonflow__run_id_valid(holder))
        return NEONFLOW_EINVAL;
    snprintf(BUF(q->holder), "%s", holder);
    return NEONFLOW_OK;
}

/* ---- options -------------------------------------------------------------------- */
NEONFLOW_API int neonflow_run_options_set_lease_ttl_ms(neonflow_run_options *o, int64_t ttl_ms)
{
    if (!o || ttl_ms < 1000)
        return NEONFLOW_EINVAL;
    o->lease_ttl_ms = ttl_ms;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_run_options_set_lease_wait_ms(neonflow_run_options *o, int64_t wait_ms)
{
    if (!o || wait_ms < 0)
        return NEONFLOW_EINVAL;
    o->lease_wait_ms = wait_ms;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_run_options_set_lock_hook(neonflow_run_options *o, neonflow_lock_fn fn, void *payload,
                                                    neonflow_destroy_fn destroy)
{
    return neonflow__hook_set(o ? &o->lock_hook : NULL, (void (*)(void))fn, payload, destroy);
}

/* ---- helpers ---------------------------------------------------------------------- */
int64_t neonflow__lease_mono(const neonflow__run *r)
{
    const neonflow__sys *sys = neonflow__client_sys(r->c);
    return sys->now_ms(sys->ctx);
}

int64_t neonflow__lease_ttl(const neonflow__run *r)
{
    return r->ro->lease_ttl_ms >= 1000 ? r->ro->lease_ttl_ms : NEONFLOW__LEASE_DEFAULT_TTL_MS;
}

const char *neonflow__lease_wf_name(int32_t w)
{
    return neonflow_workflow_kind_name(w);
}

int neonflow__lease_name_is(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 9 && strncmp(name, "nf/", 3) == 0 && strcmp(name + n - 6, "/lease") == 0;
}

#define emit_lease(r, ...) neonflow__emit((r), NEONFLOW_EVENT_LEASE, __VA_ARGS__)

/* Counts calls made outside r->ctx (renewal, release) in the report and in
 * the step running (or the last one run), so the steps still add up. */
static void count_calls(neonflow__run *r, const neonflow__call_ctx *ctx)
{
    neonflow_step *st = r->cur;
    if (!st && r->step_index > 0 && r->step_index <= r->rep->nsteps)
        st = r->rep->steps[r->step_index - 1];
    if (st) {
        st->api_calls += ctx->calls;
        st->retries += ctx->retries;
    }
    r->rep->api_calls += ctx->calls;
    r->rep->retries += ctx->retries;
}

/* A context of its own for calls outside the step's counters. */
static neonflow__call_ctx side_ctx(const neonflow__run *r, int cleanup)
{
    neonflow__call_ctx ctx = r->ctx;
    ctx.calls = ctx.retries = 0;
    if (cleanup) { /* not bound by the run's cancel token or passed deadline */
        ctx.cancel = NULL;
        /* a saturated client rate limiter may hold the call for a whole
         * minute window: a shorter bound failed the release at once and left
         * the target locked for the lease's TTL (a fleet's next round) */
        ctx.deadline_ms = neonflow__lease_mono(r) + 30000 + NEONFLOW__RL_MINUTE_WINDOW_MS;
    }
    return ctx;
}

/* ---- the lock hook ------------------------------------------------------------------ */
static int hook_call(neonflow__run *r, int32_t kind, char *holder, size_t hlen)
{
    neonflow_lock_request q;
    memset(&q, 0, sizeof(q));
    q.kind = kind;
    q.workflow = r->rep->workflow;
    q.project_id = r->project_id;
    q.target = r->lease.target;
    q.run_id = r->rep->run_id;
    q.ttl_ms = neonflow__lease_ttl(r);
    const neonflow_client *prev = neonflow__hook_enter(r);
    int v = ((neonflow_lock_fn)r->lease.hook->fn)(&q, r->lease.hook->payload);
    neonflow__hook_leave(prev);
    if (holder)
        snprintf(holder, hlen, "%s", q.holder[0] ? q.holder : "unknown");
    return v;
}

static int acquire(neonflow__run *r, const char *target, int look_first)
{
    neonflow__lease *L = &r->lease;
    if (neonflow__run_dry(r))
        return NEONFLOW_OK;
    if (L->held && strcmp(L->target, target) == 0)
        return NEONFLOW_OK;
    if (L->held)
        neonflow__lease_release(r);
    if (!L->hook)
        L->hook = neonflow__hook_ref(r->ro->lock_hook);
    snprintf(BUF(L->target), "%s", target);
    if ((size_t)snprintf(BUF(L->name), "nf/%s/lease", target) >= sizeof(L->name))
        return neonflow__fail(r, NEONFLOW_EINVAL,
                              "the target name \"%.60s...\" is too long for the lease's name (at most 256 bytes)",
                              target);
    L->id[0] = '\0';
    L->lost = 0;
    L->quiet = 0;
    neonflow_branch_list_free(L->seen);
    L->seen = NULL;
    L->busy = 1;
    int64_t until = neonflow__lease_mono(r) + r->ro->lease_wait_ms, pause = 250;
    int waited = 0, rc;
    neonflow__lease_holder h;
    neonflow_operation_list *ops = NULL;
    for (;;) {
        memset(&h, 0, sizeof(h));
        if (L->hook) {
            rc = hook_call(r, NEONFLOW_LOCK_ACQUIRE, BUF(h.run_id)) == 0;
            if (rc)
                emit_lease(r, "took the lock on \"%s\" through the lock hook", L->target);
        } else {
            /* a search made after a wait is stale; a given run id may be a resume: look first */
            rc = neonflow__lease_try_neon(r, &h, &ops, waited ? NULL : &L->seen, look_first && r->ro->run_id != NULL);
        }
        if (rc < 0)
            break;
        if (rc == 1) {
            L->held = 1; /* from here on run_end releases it, even when the wait below fails */
            L->renewed_mono = neonflow__lease_mono(r);
            /* its create_branch operation would make the run's next change wait (423); how it
             * ends does not matter: the name is taken either way */
            int had_err = r->err != NULL;
            rc = ops ? neonflow__wait_ops(r, ops) : NEONFLOW_OK;
            if ((rc == NEONFLOW_EOPFAILED || rc == NEONFLOW_EOPCANCELLED) && !had_err) {
                neonflow__emit(r, NEONFLOW_EVENT_WARNING, "the lease branch's operation failed (%s): the lease "
                               "is held all the same", r->err ? neonflow_error_message(r->err) : "");
                neonflow_error_free(r->err);
                r->err = NULL;
                rc = NEONFLOW_OK;
            }
            break;
        }
        int64_t left = until - neonflow__lease_mono(r);
        if (left <= 0) {
            rc = neonflow__lease_held_error(r, &h);
            break;
        }
        if (!waited++)
            emit_lease(r, "waiting for the lease on \"%s\", held by run %s (%s)", L->target,
                       h.run_id[0] ? h.run_id : "unknown", h.workflow[0] ? h.workflow : "workflow unknown");
        if ((rc = neonflow__run_sleep(r, pause < left ? pause : left)) != NEONFLOW_OK)
            break;
        pause = pause * 3 / 2 > 2000 ? 2000 : pause * 3 / 2;
    }
    neonflow_operation_list_free(ops);
    L->busy = 0;
    return rc;
}

int neonflow__lease_acquire(neonflow__run *r, const char *target)
{
    return acquire(r, target, 0);
}

int neonflow__lease_target_of(neonflow__run *r, const char *ref, char *out, size_t len)
{
    snprintf(out, len, "%s", ref);
    if (strncmp(ref, "br-", 3) != 0 || !neonflow__id_valid(ref))
        return NEONFLOW_OK; /* a name */
    neonflow_branch *b = NULL;
    neonflow_error *e = NULL;
    int rc = neonflow__branch_get_ctx(&b, r->c, &r->ctx, r->project_id, ref, &e);
    if (rc == NEONFLOW_ENOTFOUND) { /* maybe a name that looks like an ID: the preflight decides */
        neonflow_error_free(e);
        return NEONFLOW_OK;
    }
    if (rc != NEONFLOW_OK)
        return neonflow__fail_with(r, &e, rc);
    neonflow__name_parts p;
    const char *name = neonflow_branch_name(b);
    if (neonflow__name_parse(name, &p) && neonflow__kind_is_backup(p.kind) && strcmp(p.kind, "undo-backup") != 0 &&
        strcmp(p.run_id, r->rep->run_id) == 0)
        snprintf(out, len, "%s", p.target); /* the old target of this run's interrupted switch */
    else
        snprintf(out, len, "%s", name);
    neonflow_branch_free(b);
    return NEONFLOW_OK;
}

int neonflow__lease_take(neonflow__run *r, const char *ref, int look_first)
{
    char name[NEONFLOW__NAME_MAX + 1];
    if (neonflow__run_dry(r))
        return NEONFLOW_OK;
    int rc = neonflow__lease_target_of(r, ref, BUF(name));
    return rc == NEONFLOW_OK ? acquire(r, name, look_first) : rc;
}

int neonflow__target_recheck(neonflow__run *r, const char *name, const char *id)
{
    neonflow_branch_list *l = NULL;
    int rc = neonflow__list_branches(r, name, &l);
    if (rc != NEONFLOW_OK)
        return rc;
    const neonflow_branch *t = neonflow__branch_by_name(l, name);
    if (!t || strcmp(neonflow_branch_id(t), id) != 0)
        rc = neonflow__fail(r, NEONFLOW_ESTATE,
                            "the target changed under the run: the branch named \"%s\" is %s%s, not %s as the "
                            "preflight saw it (renamed or replaced by someone else); nothing was finalized",
                            name, t ? "now " : "", t ? neonflow_branch_id(t) : "gone", id);
    neonflow_branch_list_free(l);
    return rc;
}

int neonflow__lease_check(neonflow__run *r)
{
    neonflow__lease *L = &r->lease;
    if (!L->held || L->busy)
        return NEONFLOW_OK;
    if (L->lost)
        return neonflow__fail(r, NEONFLOW_ESTATE,
                              "the lease on \"%s\" was lost (%s): another run may be changing it, so this run "
                              "stopped before its next change",
                              L->target, L->hook ? "the lock hook refused to renew it" : "its branch is gone");
    int64_t now = neonflow__lease_mono(r), ttl = neonflow__lease_ttl(r);
    if (now - L->renewed_mono < ttl / 3)
        return NEONFLOW_OK;
    L->busy = 1;
    int rc = NEONFLOW_OK, renewed = 1;
    if (L->hook) {
        if (hook_call(r, NEONFLOW_LOCK_RENEW, NULL, 0) != 0)
            L->lost = 1;
    } else {
        neonflow_error *e = NULL;
        neonflow__call_ctx ctx = side_ctx(r, 0); /* run_check also runs between steps */
        rc = neonflow__lease_extend(r, &ctx, &e);
        count_calls(r, &ctx);
        if (rc == NEONFLOW_ENOTFOUND)
            L->lost = 1;
        else if (rc != NEONFLOW_OK && neonflow__run_wall_ms(r) >= L->expires_wall)
            L->lost = 1; /* could not renew it before it expired */
        else if (rc != NEONFLOW_OK) {
            renewed = 0;
            neonflow__emit(r, NEONFLOW_EVENT_WARNING, "renewing the lease on \"%s\" failed (%s): retrying",
                           L->target, e ? neonflow_error_message(e) : neonflow_strerror(rc));
        }
        neonflow_error_free(e);
        rc = NEONFLOW_OK;
    }
    L->busy = 0;
    if (L->lost)
        return neonflow__lease_check(r);
    if (!renewed) { /* try again after a tenth of the TTL, well before it expires */
        L->renewed_mono = now - ttl / 3 + ttl / 10;
        return rc;
    }
    L->renewed_mono = now;
    emit_lease(r, "renewed the lease on \"%s\"", L->target);
    return rc;
}

void neonflow__lease_release_stale(neonflow__run *r, const neonflow_branch_list *l)
{
    if (neonflow__run_dry(r))
        return;
    const char *wf = neonflow__lease_wf_name(r->rep->workflow);
    for (size_t i = 0; i < neonflow_branch_list_count(l); i++) {
        const neonflow_branch *b = neonflow_branch_list_at(l, i);
        const char *id = neonflow_branch_id(b);
        if (!neonflow__lease_name_is(neonflow_branch_name(b)) || (r->lease.held && strcmp(id, r->lease.id) == 0))
            continue;
        neonflow__lease_holder h;
        memset(&h, 0, sizeof(h));
        neonflow__lease_annotation_of(l, id, &h);
        if (strcmp(h.run_id, r->rep->run_id) != 0 || strcmp(h.workflow, wf) != 0)
            continue;
        neonflow_error *e = NULL;
        int rc = neonflow__lease_delete(r, &r->ctx, id, &e);
        if (rc != NEONFLOW_OK)
            neonflow__emit(r, NEONFLOW_EVENT_WARNING,
                           "releasing the lease %s (%s) an earlier attempt of this run left failed (%s): it expires "
                           "by itself", neonflow_branch_name(b), id,
                           e ? neonflow_error_message(e) : neonflow_strerror(rc));
        else
            emit_lease(r, "released the lease %s (%s) an earlier attempt of this run left", neonflow_branch_name(b),
                       id);
        neonflow_error_free(e);
    }
}

neonflow_branch_list *neonflow__lease_seen_take(neonflow__run *r)
{
    neonflow_branch_list *l = r->lease.seen;
    r->lease.seen = NULL;
    return l;
}

int neonflow__lease_proves_quiet(const neonflow__run *r)
{
    const neonflow__lease *L = &r->lease;
    return L->held && L->quiet && !L->hook;
}

void neonflow__lease_release(neonflow__run *r)
{
    neonflow__lease *L = &r->lease;
    neonflow_branch_list_free(L->seen);
    L->seen = NULL;
    if (L->held && !L->lost) {
        L->busy = 1;
        if (L->hook) {
            if (hook_call(r, NEONFLOW_LOCK_RELEASE, NULL, 0) != 0)
                neonflow__emit(r, NEONFLOW_EVENT_WARNING, "the lock hook failed to release the lock on \"%s\"",
                               L->target);
            else
                emit_lease(r, "released the lock on \"%s\"", L->target);
        } else {
            neonflow__call_ctx ctx = side_ctx(r, 1);
            neonflow_error *e = NULL;
            int rc = neonflow__lease_delete(r, &ctx, L->id, &e);
            count_calls(r, &ctx);
            if (rc != NEONFLOW_OK)
                neonflow__emit(r, NEONFLOW_EVENT_WARNING,
                               "releasing the lease %s (%s) failed (%s): it expires by itself", L->name, L->id,
                               e ? neonflow_error_message(e) : neonflow_strerror(rc));
            else
                emit_lease(r, "released the lease %s on \"%s\" (%s)", L->name, L->target, L->id);
            neonflow_error_free(e);
        }
        L->busy = 0;
    }
    L->held = 0;
    L->lost = 0;
    L->id[0] = '\0';
}
