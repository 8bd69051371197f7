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
 * prune then keeps that backup while the lease lives (it has a child). */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/ratelimit.h"
#include "workflow-private.h"

#define BUF(x) x, sizeof(x)
#define KEY_RUN "neonflow_run_id"
#define KEY_WF "neonflow_workflow"
#define KEY_AT "neonflow_taken_at"

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
static int64_t mono(const neonflow__run *r)
{
    const neonflow__sys *sys = neonflow__client_sys(r->c);
    return sys->now_ms(sys->ctx);
}

static int64_t ttl_of(const neonflow__run *r)
{
    return r->ro->lease_ttl_ms >= 1000 ? r->ro->lease_ttl_ms : NEONFLOW__LEASE_DEFAULT_TTL_MS;
}

/* The workflow's name as the lease's annotation records it (the public,
 * append-only names: "promote", "rollback", ...). */
static const char *wf_name(int32_t w)
{
    return neonflow_workflow_kind_name(w);
}

/* RFC 3339 at second precision, as Neon wants for expires_at; rounded up so
 * the lease never expires before the TTL. */
static void time_sec(int64_t wall_ms, char *out, size_t len)
{
    char full[64];
    neonflow__rfc3339_format((wall_ms + 999) / 1000 * 1000, BUF(full));
    snprintf(out, len, "%.19sZ", full);
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
        ctx.deadline_ms = mono(r) + 30000 + NEONFLOW__RL_MINUTE_WINDOW_MS;
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
    q.ttl_ms = ttl_of(r);
    const neonflow_client *prev = neonflow__hook_enter(r);
    int v = ((neonflow_lock_fn)r->lease.hook->fn)(&q, r->lease.hook->payload);
    neonflow__hook_leave(prev);
    if (holder)
        snprintf(holder, hlen, "%s", q.holder[0] ? q.holder : "unknown");
    return v;
}

/* ---- the Neon lease --------------------------------------------------------------- */
typedef struct holder_info {
    int found;
    char id[64], run_id[NEONFLOW__RUN_ID_MAX + 1], workflow[16], taken_at[40], expires_at[40];
    int64_t expires_ms; /* -1: none */
} holder_info;

static void copy_member(const json_t *obj, const char *key, char *out, size_t len)
{
    const char *v = json_string_value(json_object_get(obj, key));
    snprintf(out, len, "%s", v ? v : "");
}

/* Reads the lease branch by name with its annotation: a search for the
 * lease's name or, with seen, for the target's name (which every nf/<target>/
 * name contains: the preflight then looks the target up in *seen without
 * another request). Every page of a full answer is read. */
static int lease_read(neonflow__run *r, neonflow__call_ctx *ctx, holder_info *h, neonflow_branch_list **seen)
{
    memset(h, 0, sizeof(*h));
    h->expires_ms = -1;
    neonflow_branch_list *l = NULL;
    neonflow_error *e = NULL;
    int rc = neonflow__branch_list_new(&l, &e);
    if (rc == NEONFLOW_OK)
        rc = neonflow__branches_search_into(l, r->c, ctx, r->project_id, seen ? r->lease.target : r->lease.name, &e);
    if (rc != NEONFLOW_OK) {
        neonflow_branch_list_free(l);
        return neonflow__fail_with(r, &e, rc);
    }
    const neonflow_branch *b = neonflow__branch_by_name(l, r->lease.name);
    if (b) {
        const char *id = neonflow_branch_id(b), *exp = neonflow_branch_expires_at(b);
        h->found = 1;
        snprintf(BUF(h->id), "%s", id);
        snprintf(BUF(h->expires_at), "%s", exp ? exp : "");
        if (h->expires_at[0] && neonflow__rfc3339_ms(h->expires_at, &h->expires_ms) != 0)
            h->expires_ms = -1;
        /* the annotation is in the page that holds the branch */
        for (size_t i = 0; i < l->v.nroots; i++) {
            const json_t *val = json_object_get(json_object_get(json_object_get(l->v.roots[i], "annotations"), id),
                                                "value");
            if (!val)
                continue;
            copy_member(val, KEY_RUN, BUF(h->run_id));
            copy_member(val, KEY_WF, BUF(h->workflow));
            copy_member(val, KEY_AT, BUF(h->taken_at));
            break;
        }
    }
    if (seen)
        *seen = l;
    else
        neonflow_branch_list_free(l);
    return NEONFLOW_OK;
}

/* POST the lease branch. NEONFLOW_OK (held, id and *ops set), ECONFLICT,
 * EUNCERTAIN, ELOCKED (not recorded) or a failure (recorded). */
static int lease_create(neonflow__run *r, neonflow__call_ctx *ctx, neonflow_operation_list **ops)
{
    char exp[40], now[40];
    int64_t wall = neonflow__run_wall_ms(r);
    time_sec(wall + ttl_of(r), BUF(exp));
    time_sec(wall, BUF(now));
    json_t *body = json_pack("{s:{s:s, s:s}, s:{s:s, s:s, s:s}}", "branch", "name", r->lease.name, "expires_at", exp,
                             "annotation_value", KEY_RUN, r->rep->run_id, KEY_WF, wf_name(r->rep->workflow), KEY_AT,
                             now);
    if (!body)
        return neonflow__fail(r, NEONFLOW_ENOMEM, "out of memory");
    neonflow__sb b = {0};
    neonflow__sb_add(&b, "/projects/");
    neonflow__sb_add_enc(&b, r->project_id);
    neonflow__sb_add(&b, "/branches");
    char *path = neonflow__sb_take(&b);
    json_t *root = NULL;
    neonflow_error *e = NULL;
    int rc = neonflow__api_call(r->c, ctx, "POST", path, "/projects/{project_id}/branches", body, &root, NULL, &e);
    neonflow__free(path);
    json_decref(body);
    if (rc == NEONFLOW_ECONFLICT || rc == NEONFLOW_EUNCERTAIN || rc == NEONFLOW_ELOCKED) {
        neonflow_error_free(e);
        return rc;
    }
    if (rc != NEONFLOW_OK)
        return neonflow__fail_with(r, &e, rc);
    const char *id = json_string_value(json_object_get(json_object_get(root, "branch"), "id"));
    if (id)
        snprintf(BUF(r->lease.id), "%s", id);
    rc = id ? neonflow__parse_operations_response(root, 0, ops, &e) : NEONFLOW_EPROTOCOL;
    json_decref(root);
    if (!id)
        return neonflow__fail(r, NEONFLOW_EPROTOCOL, "the lease branch's create answer has no branch id");
    if (rc != NEONFLOW_OK)
        return neonflow__fail_with(r, &e, rc);
    r->lease.expires_wall = wall + ttl_of(r);
    return NEONFLOW_OK;
}

/* PATCH expires_at; ENOTFOUND when the lease branch is gone. Setting the
 * same expiry again is harmless, so a lost answer, a server error or a
 * moment without memory is resolved by asking again. */
static int lease_extend(neonflow__run *r, neonflow__call_ctx *ctx, neonflow_error **e)
{
    char exp[40];
    int64_t wall = neonflow__run_wall_ms(r);
    time_sec(wall + ttl_of(r), BUF(exp));
    neonflow_branch_update_options uo;
    memset(&uo, 0, sizeof(uo));
    uo.expires_at = exp;
    uo.expires_set = 1;
    uo.is_protected = -1;
    int rc = NEONFLOW_EUNCERTAIN;
    for (int i = 0; i < 3 && (rc == NEONFLOW_EUNCERTAIN || rc == NEONFLOW_ESERVER || rc == NEONFLOW_ENOMEM); i++) {
        neonflow_error_free(*e);
        *e = NULL;
        rc = neonflow__branch_update_ctx(NULL, NULL, r->c, ctx, r->project_id, r->lease.id, &uo, e);
    }
    if (rc == NEONFLOW_OK)
        r->lease.expires_wall = wall + ttl_of(r);
    return rc;
}

/* Deleting the lease again is harmless (a missing branch answers 204), so a
 * lost answer, a server error or a moment without memory is resolved by
 * asking again: a lease left behind blocks other runs until it expires. */
static int lease_delete(neonflow__run *r, neonflow__call_ctx *ctx, const char *id, neonflow_error **e)
{
    int rc = NEONFLOW_EUNCERTAIN;
    for (int i = 0; i < 3 && (rc == NEONFLOW_EUNCERTAIN || rc == NEONFLOW_ESERVER || rc == NEONFLOW_ENOMEM); i++) {
        neonflow_error_free(*e);
        *e = NULL;
        rc = neonflow__branch_delete_ctx(NULL, r->c, ctx, r->project_id, id, NULL, e);
    }
    return rc == NEONFLOW_ENOTFOUND ? NEONFLOW_OK : rc;
}

static int held_error(neonflow__run *r, const holder_info *h)
{
    char where[NEONFLOW__NAME_MAX + 160] = "";
    if (h->id[0])
        snprintf(BUF(where), "; lease branch %s (%s)%s%s", r->lease.name, h->id,
                 h->expires_at[0] ? " expires " : " has no expiry", h->expires_at);
    return neonflow__fail(r, NEONFLOW_ELEASE_HELD,
                          "another run holds the lease on \"%s\": run id %s (%s)%s; nothing was changed. Retry "
                          "when it is done, wait for it (lease wait), or resume that run with its run id",
                          r->lease.target, h->run_id[0] ? h->run_id : "unknown",
                          h->workflow[0] ? h->workflow : "workflow unknown", where);
}

/* One attempt: 1 = held, 0 = held by another (holder filled), <0 = failure.
 * A 423 with no lease in place means the project is busy (other operations,
 * or a proxy's lock): retried with backoff up to the run's busy wait, like
 * any 423. A 409 with no lease in place is a race with a release: retried a
 * few times. */
static int try_neon(neonflow__run *r, holder_info *h, neonflow_operation_list **ops, neonflow_branch_list **seen)
{
    int races = 0, first_read = 1;
    int64_t busy_until = mono(r) + r->ro->busy_wait_ms, pause = 100;
    for (;;) {
        /* a 423 means another run's operations are running: likely its lease is there, so read
         * it at once instead of retrying until that run is done */
        neonflow__call_ctx ctx = r->ctx;
        ctx.locked_no_retry = 1;
        int rc = lease_create(r, &ctx, ops);
        r->ctx.calls = ctx.calls;
        r->ctx.retries = ctx.retries;
        if (rc == NEONFLOW_OK) {
            r->lease.quiet = 1;
            neonflow__emit(r, NEONFLOW_EVENT_LEASE, "took the lease %s on \"%s\" (%s)", r->lease.name,
                           r->lease.target, r->lease.id);
            return 1;
        }
        if (rc != NEONFLOW_ECONFLICT && rc != NEONFLOW_EUNCERTAIN && rc != NEONFLOW_ELOCKED)
            return rc;
        int locked = rc == NEONFLOW_ELOCKED;
        neonflow_branch_list *l = NULL; /* the first read of a call that wants it: the target's search */
        rc = lease_read(r, &r->ctx, h, seen && first_read ? &l : NULL);
        first_read = 0;
        if (rc == NEONFLOW_OK && !(h->found && strcmp(h->run_id, r->rep->run_id) == 0)) {
            neonflow_branch_list_free(l); /* kept only when this read ends in re-entering */
            l = NULL;
        }
        if (rc != NEONFLOW_OK)
            return rc;
        if (!h->found) {
            /* released in between, an uncertain create that did not happen, or a
             * project busy with other operations */
            if (locked) {
                int64_t left = busy_until - mono(r);
                if (left <= 0)
                    return neonflow__fail(r, NEONFLOW_EBUSY,
                                          "could not take the lease on \"%s\": no run holds it, but Neon kept "
                                          "answering 423 (busy) for %lld ms; nothing was changed, run again",
                                          r->lease.target, (long long)r->ro->busy_wait_ms);
                if ((rc = neonflow__wait_quiet(r, left, NEONFLOW_EBUSY)) != NEONFLOW_OK ||
                    (rc = neonflow__run_sleep(r, pause < left ? pause : left)) != NEONFLOW_OK)
                    return rc;
                pause = pause * 2 > 2000 ? 2000 : pause * 2;
            } else if (++races > 4) {
                return neonflow__fail(r, NEONFLOW_EBUSY,
                                      "could not take the lease on \"%s\": no run holds it, but creating it kept "
                                      "answering 409; nothing was changed, run again", r->lease.target);
            }
            continue;
        }
        if (strcmp(h->run_id, r->rep->run_id) == 0 && h->workflow[0] &&
            strcmp(h->workflow, wf_name(r->rep->workflow)) != 0) { /* the run id is another workflow's: leave its lease */
            neonflow_branch_list_free(l);
            return neonflow__fail(r, NEONFLOW_ERUN_MISMATCH,
                                  "run id %s holds the lease on \"%s\" for a %s run, not for this %s: resume that run "
                                  "with the same workflow, or start this one with another run id; nothing was changed",
                                  r->rep->run_id, r->lease.target, h->workflow, wf_name(r->rep->workflow));
        }
        if (strcmp(h->run_id, r->rep->run_id) == 0) { /* ours: a resumed run, or our own uncertain create */
            snprintf(BUF(r->lease.id), "%s", h->id);
            neonflow_error *e = NULL;
            rc = lease_extend(r, &r->ctx, &e);
            if (rc != NEONFLOW_OK) {
                neonflow_branch_list_free(l);
                l = NULL;
            }
            if (rc == NEONFLOW_ENOTFOUND && ++races <= 4) {
                neonflow_error_free(e);
                continue; /* expired and deleted in between: take it anew */
            }
            if (rc == NEONFLOW_ELOCKED && ++races <= 4) { /* the project is busy: wait as for any 423 */
                neonflow_error_free(e);
                int64_t left = busy_until - mono(r);
                if ((rc = neonflow__wait_quiet(r, left > 0 ? left : 0, NEONFLOW_EBUSY)) != NEONFLOW_OK)
                    return rc;
                continue;
            }
            if (rc != NEONFLOW_OK)
                return neonflow__fail_with(r, &e, rc);
            r->lease.quiet = 1; /* the PATCH would have had a 423 too */
            neonflow__emit(r, NEONFLOW_EVENT_LEASE, "re-entered this run's lease %s on \"%s\" (%s)", r->lease.name,
                           r->lease.target, r->lease.id);
            if (seen)
                *seen = l;
            return 1;
        }
        if (h->expires_ms >= 0 && h->expires_ms <= neonflow__run_wall_ms(r)) {
            /* Neon deletes expired branches only eventually: free it now */
            neonflow_error *e = NULL;
            if ((rc = lease_delete(r, &r->ctx, h->id, &e)) != NEONFLOW_OK)
                return neonflow__fail_with(r, &e, rc);
            neonflow__emit(r, NEONFLOW_EVENT_LEASE, "took over the expired lease of run %s on \"%s\" (%s)",
                           h->run_id[0] ? h->run_id : "unknown", r->lease.target, h->id);
            races++;
            continue;
        }
        return 0;
    }
}

int neonflow__lease_acquire(neonflow__run *r, const char *target)
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
    int64_t until = mono(r) + r->ro->lease_wait_ms, pause = 250;
    int waited = 0, rc;
    holder_info h;
    neonflow_operation_list *ops = NULL;
    for (;;) {
        memset(&h, 0, sizeof(h));
        if (L->hook) {
            rc = hook_call(r, NEONFLOW_LOCK_ACQUIRE, BUF(h.run_id)) == 0;
            if (rc)
                emit_lease(r, "took the lock on \"%s\" through the lock hook", L->target);
        } else {
            rc = try_neon(r, &h, &ops, waited ? NULL : &L->seen); /* a search made after a wait is stale */
        }
        if (rc < 0)
            break;
        if (rc == 1) {
            L->held = 1; /* from here on run_end releases it, even when the wait below fails */
            L->renewed_mono = mono(r);
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
        int64_t left = until - mono(r);
        if (left <= 0) {
            rc = held_error(r, &h);
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

int neonflow__lease_take(neonflow__run *r, const char *ref)
{
    char name[NEONFLOW__NAME_MAX + 1];
    if (neonflow__run_dry(r))
        return NEONFLOW_OK;
    int rc = neonflow__lease_target_of(r, ref, BUF(name));
    return rc == NEONFLOW_OK ? neonflow__lease_acquire(r, name) : rc;
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
    int64_t now = mono(r), ttl = ttl_of(r);
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
        rc = lease_extend(r, &ctx, &e);
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
            int rc = lease_delete(r, &ctx, L->id, &e);
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
