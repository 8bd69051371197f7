/* The promotion lease in Neon (see lease.c): the lease branch
 * nf/<target>/lease is read by a search, taken by a create (409 = held),
 * renewed by a PATCH of expires_at and released by a delete. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "lease-private.h"

#define BUF(x) x, sizeof(x)
#define KEY_RUN "neonflow_run_id"
#define KEY_WF "neonflow_workflow"
#define KEY_AT "neonflow_taken_at"

/* RFC 3339 at second precision, as Neon wants for expires_at; rounded up so
 * the lease never expires before the TTL. */
static void time_sec(int64_t wall_ms, char *out, size_t len)
{
    char full[64];
    neonflow__rfc3339_format((wall_ms + 999) / 1000 * 1000, BUF(full));
    snprintf(out, len, "%.19sZ", full);
}

static void copy_member(const json_t *obj, const char *key, char *out, size_t len)
{
    const char *v = json_string_value(json_object_get(obj, key));
    snprintf(out, len, "%s", v ? v : "");
}

/* The holder recorded in lease branch id's annotation, which is in the page
 * of the list that holds the branch. */
void neonflow__lease_annotation_of(const neonflow_branch_list *l, const char *id, neonflow__lease_holder *h)
{
    for (size_t i = 0; i < l->v.nroots; i++) {
        const json_t *val = json_object_get(json_object_get(json_object_get(l->v.roots[i], "annotations"), id),
                                            "value");
        if (!val)
            continue;
        copy_member(val, KEY_RUN, BUF(h->run_id));
        copy_member(val, KEY_WF, BUF(h->workflow));
        copy_member(val, KEY_AT, BUF(h->taken_at));
        return;
    }
}

/* Reads the lease branch by name with its annotation: a search for the
 * lease's name or, with seen, for the target's name (which every nf/<target>/
 * name contains: the preflight then looks the target up in *seen without
 * another request). Every page of a full answer is read. */
static int lease_read(neonflow__run *r, neonflow__call_ctx *ctx, neonflow__lease_holder *h, neonflow_branch_list **seen)
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
        neonflow__lease_annotation_of(l, id, h);
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
    time_sec(wall + neonflow__lease_ttl(r), BUF(exp));
    time_sec(wall, BUF(now));
    json_t *body = json_pack("{s:{s:s, s:s}, s:{s:s, s:s, s:s}}", "branch", "name", r->lease.name, "expires_at", exp,
                             "annotation_value", KEY_RUN, r->rep->run_id, KEY_WF,
                             neonflow__lease_wf_name(r->rep->workflow), KEY_AT, now);
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
    r->lease.expires_wall = wall + neonflow__lease_ttl(r);
    return NEONFLOW_OK;
}

/* PATCH expires_at; ENOTFOUND when the lease branch is gone. Setting the
 * same expiry again is harmless, so a lost answer, a server error or a
 * moment without memory is resolved by asking again. */
int neonflow__lease_extend(neonflow__run *r, neonflow__call_ctx *ctx, neonflow_error **e)
{
    char exp[40];
    int64_t wall = neonflow__run_wall_ms(r);
    time_sec(wall + neonflow__lease_ttl(r), BUF(exp));
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
        r->lease.expires_wall = wall + neonflow__lease_ttl(r);
    return rc;
}

/* Deleting the lease again is harmless (a missing branch answers 204), so a
 * lost answer, a server error or a moment without memory is resolved by
 * asking again: a lease left behind blocks other runs until it expires. */
int neonflow__lease_delete(neonflow__run *r, neonflow__call_ctx *ctx, const char *id, neonflow_error **e)
{
    int rc = NEONFLOW_EUNCERTAIN;
    for (int i = 0; i < 3 && (rc == NEONFLOW_EUNCERTAIN || rc == NEONFLOW_ESERVER || rc == NEONFLOW_ENOMEM); i++) {
        neonflow_error_free(*e);
        *e = NULL;
        rc = neonflow__branch_delete_ctx(NULL, r->c, ctx, r->project_id, id, NULL, e);
    }
    return rc == NEONFLOW_ENOTFOUND ? NEONFLOW_OK : rc;
}

int neonflow__lease_held_error(neonflow__run *r, const neonflow__lease_holder *h)
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
 * few times.
 *
 * look_first (a run id the caller gave, which may be a resume): the target's
 * search comes first. It finds this run's own lease, re-entered by a PATCH
 * without a create that answers 409; it finds no lease, and the create that
 * follows at once is answered 201: the search serves the preflight (no run
 * held the target when it was made; one that took and released the lease in
 * the moment before the create is caught by the re-check before finalize);
 * anything else, and it is only the read a 409 would have made. */
int neonflow__lease_try_neon(neonflow__run *r, neonflow__lease_holder *h,
                             neonflow_operation_list **ops, neonflow_branch_list **seen,
                             int look_first)
{
    int races = 0, first_read = 1, rc;
    int64_t busy_until = neonflow__lease_mono(r) + r->ro->busy_wait_ms, pause = 100;
    neonflow_branch_list *pre = NULL, *read = NULL; /* the first search: no lease in it / a lease in it */
    if (look_first && seen) {
        rc = lease_read(r, &r->ctx, h, &pre);
        if (rc != NEONFLOW_OK)
            return rc;
        first_read = 0;
        if (h->found) {
            read = pre;
            pre = NULL;
        }
    }
    for (;;) {
        int locked = 0;
        neonflow_branch_list *l = read; /* the first read of a call that wants it: the target's search */
        if (read) { /* handled as the read after a 409 would be */
            read = NULL;
            rc = NEONFLOW_OK;
        } else {
            /* a 423 means another run's operations are running: likely its lease is there, so read
             * it at once instead of retrying until that run is done */
            neonflow__call_ctx ctx = r->ctx;
            ctx.locked_no_retry = 1;
            rc = lease_create(r, &ctx, ops);
            r->ctx.calls = ctx.calls;
            r->ctx.retries = ctx.retries;
            if (rc == NEONFLOW_OK) {
                r->lease.quiet = 1;
                neonflow__emit(r, NEONFLOW_EVENT_LEASE, "took the lease %s on \"%s\" (%s)", r->lease.name,
                               r->lease.target, r->lease.id);
                if (pre)
                    *seen = pre; /* no lease when searched, and the create right after it was the first */
                return 1;
            }
            neonflow_branch_list_free(pre); /* someone came in between: searched again when needed */
            pre = NULL;
            if (rc != NEONFLOW_ECONFLICT && rc != NEONFLOW_EUNCERTAIN && rc != NEONFLOW_ELOCKED)
                return rc;
            locked = rc == NEONFLOW_ELOCKED;
            rc = lease_read(r, &r->ctx, h, seen && first_read ? &l : NULL);
            first_read = 0;
        }
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
                int64_t left = busy_until - neonflow__lease_mono(r);
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
            strcmp(h->workflow, neonflow__lease_wf_name(r->rep->workflow)) != 0) {
            /* the run id is another workflow's: leave its lease */
            neonflow_branch_list_free(l);
            return neonflow__fail(r, NEONFLOW_ERUN_MISMATCH,
                                  "run id %s holds the lease on \"%s\" for a %s run, not for this %s: resume that run "
                                  "with the same workflow, or start this one with another run id; nothing was changed",
                                  r->rep->run_id, r->lease.target, h->workflow,
                                  neonflow__lease_wf_name(r->rep->workflow));
        }
        if (strcmp(h->run_id, r->rep->run_id) == 0) { /* ours: a resumed run, or our own uncertain create */
            snprintf(BUF(r->lease.id), "%s", h->id);
            neonflow_error *e = NULL;
            rc = neonflow__lease_extend(r, &r->ctx, &e);
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
                int64_t left = busy_until - neonflow__lease_mono(r);
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
            if ((rc = neonflow__lease_delete(r, &r->ctx, h->id, &e)) != NEONFLOW_OK)
                return neonflow__fail_with(r, &e, rc);
            neonflow__emit(r, NEONFLOW_EVENT_LEASE, "took over the expired lease of run %s on \"%s\" (%s)",
                           h->run_id[0] ? h->run_id : "unknown", r->lease.target, h->id);
            races++;
            continue;
        }
        return 0;
    }
}
