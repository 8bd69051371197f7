/* Idempotent building blocks of the workflows: every create is found again
 * by its deterministic name when its outcome is uncertain (lost response,
 * malformed answer, 5xx, 409 on the name) instead of being replayed blindly;
 * deletes treat "already gone" as done; Neon's plan-limit errors are mapped
 * to NEONFLOW_EROOT_LIMIT / NEONFLOW_ESNAPSHOT_LIMIT with what to do. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "workflow-private.h"

#define MAX_ATTEMPTS 4

/* The request may have been applied although no good answer came back
 * (ENOMEM: the answer could not be held in memory). */
static int maybe_applied(int rc)
{
    return rc == NEONFLOW_EUNCERTAIN || rc == NEONFLOW_EPROTOCOL || rc == NEONFLOW_ESERVER ||
           rc == NEONFLOW_ETRANSPORT || rc == NEONFLOW_ENETTIMEOUT || rc == NEONFLOW_ECONNECT ||
           rc == NEONFLOW_ENOMEM;
}

/* Worth another attempt once the state shows it was not applied. Out of
 * memory is not: the run stops and a resume tries again. */
static int retry_later(int rc)
{
    return (maybe_applied(rc) && rc != NEONFLOW_ENOMEM) || rc == NEONFLOW_ELOCKED || rc == NEONFLOW_ERATELIMIT;
}

static int contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

/* Maps Neon's limit errors; returns the new code or 0 when e is not one. */
static int map_limit(neonflow__run *r, neonflow_error **e)
{
    const char *code = neonflow_error_neon_code(*e), *msg = neonflow_error_message(*e);
    int nc = 0;
    if (strcmp(code, "ROOT_BRANCHES_LIMIT_EXCEEDED") == 0 || contains(msg, "root branches limit"))
        nc = NEONFLOW_EROOT_LIMIT;
    else if (strcmp(code, "SNAPSHOTS_LIMIT_EXCEEDED") == 0 || contains(msg, "snapshots limit"))
        nc = NEONFLOW_ESNAPSHOT_LIMIT;
    if (!nc)
        return 0;
    char m[1200];
    snprintf(m, sizeof(m), "%s: %s; delete old backups first (neonflow_prune, `neonflow backups prune`) and run again",
             nc == NEONFLOW_EROOT_LIMIT ? "the project's root-branch limit is reached"
                                        : "the project's manual snapshot limit is reached",
             msg);
    char *dup = neonflow__strdup(m);
    if (dup) {
        neonflow__free((*e)->message);
        (*e)->message = dup;
    }
    (*e)->code = nc;
    return neonflow__fail_with(r, e, nc);
}

/* ---- reads -------------------------------------------------------------------------- */
int neonflow__list_branches(neonflow__run *r, const char *search, neonflow_branch_list **out)
{
    if (search) { /* a lookup: a short page is the last one */
        neonflow_error *e = NULL;
        *out = NULL;
        neonflow_branch_list *l = NULL;
        int rc = neonflow__branch_list_new(&l, &e);
        if (rc == NEONFLOW_OK)
            rc = neonflow__branches_search_into(l, r->c, &r->ctx, r->project_id, search, &e);
        if (rc != NEONFLOW_OK) {
            neonflow_branch_list_free(l);
            return neonflow__fail_with(r, &e, rc);
        }
        *out = l;
        return NEONFLOW_OK;
    }
    struct neonflow_branches_list_options o = {0};
    o.search = (char *)search;
    neonflow_error *e = NULL;
    int rc = neonflow__branches_list_ctx(out, r->c, &r->ctx, r->project_id, search ? &o : NULL, &e);
    return rc == NEONFLOW_OK ? rc : neonflow__fail_with(r, &e, rc);
}

static int bview_record(neonflow__run *r, neonflow__bview *v, const char *term)
{
    char *copy = neonflow__strdup(term);
    char **t = copy ? neonflow__realloc(v->terms, (v->nterms + 1) * sizeof(*t)) : NULL;
    if (!t) {
        neonflow__free(copy);
        return neonflow__fail(r, NEONFLOW_ENOMEM, "out of memory");
    }
    t[v->nterms++] = copy;
    v->terms = t;
    return NEONFLOW_OK;
}

static int bview_ensure_list(neonflow__run *r, neonflow__bview *v)
{
    neonflow_error *e = NULL;
    int rc = v->l ? NEONFLOW_OK : neonflow__branch_list_new(&v->l, &e);
    return rc == NEONFLOW_OK ? rc : neonflow__fail_with(r, &e, rc);
}

int neonflow__bview_covers(const neonflow__bview *v, const char *term)
{
    for (size_t i = 0; i < v->nterms; i++)
        if (strstr(term, v->terms[i])) /* everything containing term contains that one: already here */
            return 1;
    return 0;
}

int neonflow__bview_search(neonflow__run *r, neonflow__bview *v, const char *term)
{
    if (neonflow__bview_covers(v, term))
        return NEONFLOW_OK;
    int rc = bview_ensure_list(r, v);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow_error *e = NULL;
    rc = neonflow__branches_search_into(v->l, r->c, &r->ctx, r->project_id, term, &e);
    if (rc != NEONFLOW_OK)
        return neonflow__fail_with(r, &e, rc);
    return bview_record(r, v, term);
}

int neonflow__bview_adopt(neonflow__run *r, neonflow__bview *v, neonflow_branch_list *list, const char *term)
{
    if (!list)
        return NEONFLOW_OK;
    if (v->l) { /* only a fresh view adopts: its term is searched again when needed */
        neonflow_branch_list_free(list);
        return NEONFLOW_OK;
    }
    v->l = list;
    return bview_record(r, v, term);
}

void neonflow__bview_free(neonflow__bview *v)
{
    neonflow_branch_list_free(v->l);
    for (size_t i = 0; i < v->nterms; i++)
        neonflow__free(v->terms[i]);
    neonflow__free(v->terms);
    memset(v, 0, sizeof(*v));
}

int neonflow__list_snapshots(neonflow__run *r, neonflow_snapshot_list **out)
{
    neonflow_error *e = NULL;
    int rc = neonflow__snapshots_list_ctx(out, r->c, &r->ctx, r->project_id, &e);
    return rc == NEONFLOW_OK ? rc : neonflow__fail_with(r, &e, rc);
}

const neonflow_branch *neonflow__branch_by_name(const neonflow_branch_list *l, const char *name)
{
    for (size_t i = 0; i < neonflow_branch_list_count(l); i++) {
        const neonflow_branch *b = neonflow_branch_list_at(l, i);
        if (strcmp(neonflow_branch_name(b), name) == 0)
            return b;
    }
    return NULL;
}

const neonflow_branch *neonflow__branch_by_id(const neonflow_branch_list *l, const char *id)
{
    for (size_t i = 0; i < neonflow_branch_list_count(l); i++) {
        const neonflow_branch *b = neonflow_branch_list_at(l, i);
        if (strcmp(neonflow_branch_id(b), id) == 0)
            return b;
    }
    return NULL;
}

const neonflow_branch *neonflow__branch_lookup(const neonflow_branch_list *l, const char *name_or_id)
{
    const neonflow_branch *b = neonflow__branch_by_id(l, name_or_id);
    return b ? b : neonflow__branch_by_name(l, name_or_id);
}

const neonflow_snapshot *neonflow__snapshot_by(const neonflow_snapshot_list *l, const char *name, const char *id)
{
    const neonflow_snapshot *best = NULL;
    for (size_t i = 0; i < neonflow_snapshot_list_count(l); i++) {
        const neonflow_snapshot *s = neonflow_snapshot_list_at(l, i);
        if (id && strcmp(neonflow_snapshot_id(s), id) != 0)
            continue;
        if (name && strcmp(neonflow_snapshot_name(s), name) != 0)
            continue;
        if (!best || neonflow_snapshot_created_at_ms(s) < neonflow_snapshot_created_at_ms(best))
            best = s;
    }
    return best;
}

void neonflow__snapinfo_fill(neonflow__snapinfo *si, const neonflow_snapshot *s)
{
    memset(si, 0, sizeof(*si));
    snprintf(si->id, sizeof(si->id), "%s", neonflow_snapshot_id(s));
    snprintf(si->name, sizeof(si->name), "%s", neonflow_snapshot_name(s));
    const char *ts = neonflow_snapshot_timestamp(s);
    si->ts_ms = neonflow_snapshot_timestamp_ms(s);
    if (!ts || !*ts) {
        ts = neonflow_snapshot_created_at(s);
        si->ts_ms = neonflow_snapshot_created_at_ms(s);
    }
    snprintf(si->ts, sizeof(si->ts), "%s", ts ? ts : "");
    const char *lsn = neonflow_snapshot_lsn(s);
    snprintf(si->lsn, sizeof(si->lsn), "%s", lsn ? lsn : "");
    const char *src = neonflow_snapshot_source_branch_id(s);
    snprintf(si->source_branch_id, sizeof(si->source_branch_id), "%s", src ? src : "");
}

int neonflow__rw_endpoint(neonflow__run *r, const char *branch_id, char *id, size_t idlen, char *host,
                          size_t hostlen)
{
    neonflow_endpoint_list *l = NULL;
    neonflow_error *e = NULL;
    int rc = neonflow__endpoints_list_ctx(&l, r->c, &r->ctx, r->project_id, branch_id, &e);
    if (rc != NEONFLOW_OK)
        return neonflow__fail_with(r, &e, rc);
    int found = 0;
    for (size_t i = 0; i < neonflow_endpoint_list_count(l) && !found; i++) {
        const neonflow_endpoint *ep = neonflow_endpoint_list_at(l, i);
        if (neonflow_endpoint_type(ep) != NEONFLOW_ENDPOINT_TYPE_READ_WRITE ||
            strcmp(neonflow_endpoint_branch_id(ep), branch_id) != 0)
            continue;
        found = 1;
        if (id)
            snprintf(id, idlen, "%s", neonflow_endpoint_id(ep));
        if (host)
            snprintf(host, hostlen, "%s", neonflow_endpoint_host(ep));
    }
    neonflow_endpoint_list_free(l);
    return found;
}

/* ---- creates ----------------------------------------------------------------------------- */
/* Common tail of a failed create: 1 = found by read-back (done), 0 = retry, <0 = stop. */
typedef int (*readback_fn)(neonflow__run *r, void *arg);

static int after_failure(neonflow__run *r, neonflow_error **e, int rc, int attempt, const char *what,
                         readback_fn rb, void *arg)
{
    if (rc == NEONFLOW_EBADREQUEST || rc == NEONFLOW_EAPI) {
        int m = map_limit(r, e);
        if (m)
            return m;
    }
    if (maybe_applied(rc) || rc == NEONFLOW_ECONFLICT) {
        int found = rb(r, arg);
        if (found < 0) {
            neonflow_error_free(*e);
            *e = NULL;
            return found;
        }
        if (found) {
            neonflow__emit(r, NEONFLOW_EVENT_WARNING, "%s: outcome of the request was uncertain (%s); found it "
                           "by its name, not created twice", what, neonflow_error_name(rc));
            neonflow_error_free(*e);
            *e = NULL;
            /* its operations are unknown: wait until the project is quiet */
            int q = neonflow__wait_quiet(r, r->ro->busy_wait_ms, NEONFLOW_EBUSY);
            return q == NEONFLOW_OK ? 1 : q;
        }
        if (rc == NEONFLOW_ECONFLICT)
            return neonflow__fail_with(r, e, rc);
    }
    if (!retry_later(rc) || attempt + 1 >= MAX_ATTEMPTS)
        return neonflow__fail_with(r, e, rc);
    neonflow__emit(r, NEONFLOW_EVENT_WARNING, "%s failed (%s) and was not applied: trying again", what,
                   neonflow_error_name(rc));
    neonflow_error_free(*e);
    *e = NULL;
    int s = neonflow__run_sleep(r, 200LL * (attempt + 1));
    return s == NEONFLOW_OK ? 0 : s;
}

typedef struct snap_rb {
    const char *name;
    neonflow__snapinfo *info;
} snap_rb;

static int snapshot_readback(neonflow__run *r, void *arg)
{
    snap_rb *a = arg;
    neonflow_snapshot_list *l = NULL;
    int rc = neonflow__list_snapshots(r, &l);
    if (rc != NEONFLOW_OK)
        return rc;
    const neonflow_snapshot *s = neonflow__snapshot_by(l, a->name, NULL);
    if (s)
        neonflow__snapinfo_fill(a->info, s);
    neonflow_snapshot_list_free(l);
    return s ? 1 : 0;
}

/* 1 when s carries the name and expiry the run asked for (to the second). */
static int snapshot_as_asked(const neonflow_snapshot *s, const char *name, const char *expires_at)
{
    if (strcmp(neonflow_snapshot_name(s), name) != 0)
        return 0;
    const char *got = neonflow_snapshot_expires_at(s);
    int64_t want_ms = 0, got_ms = 0;
    if (!expires_at || !*expires_at)
        return !got || !*got;
    if (!got || neonflow__rfc3339_ms(expires_at, &want_ms) != 0 || neonflow__rfc3339_ms(got, &got_ms) != 0)
        return 0;
    return want_ms / 1000 == got_ms / 1000;
}

/* A created snapshot that is not what was asked for (a client that lost the
 * query string under memory pressure creates one with Neon's default name
 * and no expiry) is renamed; if that fails it is deleted and the run fails:
 * a snapshot the run cannot find by its name again must not stay behind. */
static int snapshot_repair(neonflow__run *r, const neonflow_snapshot *s, const char *name, const char *expires_at,
                           neonflow__snapinfo *info)
{
    char id[NEONFLOW__ID_LEN];
    snprintf(id, sizeof(id), "%s", neonflow_snapshot_id(s));
    const char *got_exp = neonflow_snapshot_expires_at(s);
    neonflow__emit(r, NEONFLOW_EVENT_WARNING,
                   "snapshot %s was created as \"%s\" (expires %s), not as \"%s\" (expires %s): renaming it", id,
                   neonflow_snapshot_name(s), got_exp && *got_exp ? got_exp : "never", name,
                   expires_at && *expires_at ? expires_at : "never");
    struct neonflow_snapshot_update_options u = {0};
    u.name = (char *)name;
    u.name_set = 1;
    u.expires_at = (char *)(expires_at && *expires_at ? expires_at : NULL);
    u.expires_set = 1;
    neonflow_snapshot *fixed = NULL;
    neonflow_error *e = NULL;
    int rc = neonflow__snapshot_update_ctx(&fixed, r->c, &r->ctx, r->project_id, id, &u, &e);
    if (rc == NEONFLOW_OK && !snapshot_as_asked(fixed, name, expires_at))
        rc = neonflow__error_set(&e, NEONFLOW_ESTATE, "snapshot %s still is \"%s\" after renaming it to \"%s\"", id,
                                 neonflow_snapshot_name(fixed), name);
    if (rc == NEONFLOW_OK) {
        neonflow__snapinfo_fill(info, fixed);
        neonflow_snapshot_free(fixed);
        return NEONFLOW_OK;
    }
    neonflow_snapshot_free(fixed);
    memset(info, 0, sizeof(*info)); /* nothing to claim */
    neonflow__emit(r, NEONFLOW_EVENT_WARNING, "could not rename snapshot %s (%s): deleting it", id,
                   neonflow_error_name(rc));
    int d = neonflow__snapshot_remove(r, id);
    if (d != NEONFLOW_OK) {
        neonflow_error_free(e);
        return d; /* the run's error names the failed delete */
    }
    return neonflow__fail_with(r, &e, rc);
}

int neonflow__snapshot_make(neonflow__run *r, const char *branch_id, const char *name, const char *expires_at,
                            neonflow__snapinfo *info)
{
    struct neonflow_snapshot_create_options o = {0};
    o.name = (char *)name;
    o.expires_at = (char *)expires_at;
    snap_rb arg = {name, info};
    for (int attempt = 0;; attempt++) {
        neonflow_snapshot *s = NULL;
        neonflow_operation_list *ops = NULL;
        neonflow_error *e = NULL;
        int rc = neonflow__snapshot_create_ctx(&s, &ops, r->c, &r->ctx, r->project_id, branch_id, &o, &e);
        if (rc == NEONFLOW_OK) {
            neonflow__snapinfo_fill(info, s);
            rc = neonflow__wait_ops(r, ops);
            neonflow_operation_list_free(ops);
            if (rc == NEONFLOW_OK && !snapshot_as_asked(s, name, expires_at))
                rc = snapshot_repair(r, s, name, expires_at, info);
            neonflow_snapshot_free(s);
            return rc;
        }
        int k = after_failure(r, &e, rc, attempt, "snapshot create", snapshot_readback, &arg);
        if (k != 0)
            return k > 0 ? NEONFLOW_OK : k;
    }
}

typedef struct branch_rb {
    const char *name;
    char *id_out;
} branch_rb;

static int branch_readback(neonflow__run *r, void *arg)
{
    branch_rb *a = arg;
    neonflow_branch_list *l = NULL;
    int rc = neonflow__list_branches(r, a->name, &l);
    if (rc != NEONFLOW_OK)
        return rc;
    const neonflow_branch *b = neonflow__branch_by_name(l, a->name);
    if (b)
        snprintf(a->id_out, NEONFLOW__ID_LEN, "%s", neonflow_branch_id(b));
    neonflow_branch_list_free(l);
    return b ? 1 : 0;
}

/* The restored branch must be aimed at the target asked for (else the
 * finalize would replace another branch): deleted, and the run fails, when
 * it is not. It must carry the name asked for: the run finds it again by that
 * name. Renamed when it does not; deleted (and the run fails) when the rename
 * fails. */
static int restored_name_check(neonflow__run *r, const neonflow_branch *b, const char *name, const char *target_id)
{
    char id[NEONFLOW__ID_LEN];
    snprintf(id, sizeof(id), "%s", neonflow_branch_id(b));
    const char *as = neonflow_branch_restored_as(b);
    if (target_id && as && *as && strcmp(as, target_id) != 0) {
        neonflow__emit(r, NEONFLOW_EVENT_WARNING, "branch %s was restored onto %s, not onto %s: deleting it", id, as,
                       target_id);
        int d = neonflow__branch_remove(r, id);
        if (d != NEONFLOW_OK)
            return d;
        return neonflow__fail(r, NEONFLOW_ESTATE, "the restore made branch %s aimed at %s, not at %s as asked; it "
                              "was deleted", id, as, target_id);
    }
    if (!name || strcmp(neonflow_branch_name(b), name) == 0)
        return NEONFLOW_OK;
    neonflow__emit(r, NEONFLOW_EVENT_WARNING, "branch %s was restored as \"%s\", not as \"%s\": renaming it", id,
                   neonflow_branch_name(b), name);
    struct neonflow_branch_update_options u = {0};
    u.name = (char *)name;
    u.name_set = 1;
    u.is_protected = -1;
    neonflow_branch *fixed = NULL;
    neonflow_operation_list *ops = NULL;
    neonflow_error *e = NULL;
    int rc = neonflow__branch_update_ctx(&fixed, &ops, r->c, &r->ctx, r->project_id, id, &u, &e);
    if (rc == NEONFLOW_OK && strcmp(neonflow_branch_name(fixed), name) != 0)
        rc = neonflow__error_set(&e, NEONFLOW_ESTATE, "branch %s still is \"%s\" after renaming it to \"%s\"", id,
                                 neonflow_branch_name(fixed), name);
    neonflow_branch_free(fixed);
    if (rc == NEONFLOW_OK) {
        rc = neonflow__wait_ops(r, ops);
        neonflow_operation_list_free(ops);
        return rc;
    }
    neonflow_operation_list_free(ops);
    neonflow__emit(r, NEONFLOW_EVENT_WARNING, "could not rename branch %s (%s): deleting it", id,
                   neonflow_error_name(rc));
    int d = neonflow__branch_remove(r, id);
    if (d != NEONFLOW_OK) {
        neonflow_error_free(e);
        return d;
    }
    return neonflow__fail_with(r, &e, rc);
}

int neonflow__restore_make(neonflow__run *r, const char *snapshot_id, const char *name, const char *target_id,
                           char id_out[NEONFLOW__ID_LEN])
{
    struct neonflow_snapshot_restore_options o = {0};
    o.name = (char *)name;
    o.target_branch_id = (char *)target_id;
    o.finalize = 0; /* never finalize in the restore itself: the switch is its own step */
    branch_rb arg = {name, id_out};
    for (int attempt = 0;; attempt++) {
        neonflow_branch_result *res = NULL;
        neonflow_error *e = NULL;
        int rc = neonflow__snapshot_restore_ctx(&res, r->c, &r->ctx, r->project_id, snapshot_id, &o, &e);
        if (rc == NEONFLOW_OK) {
            snprintf(id_out, NEONFLOW__ID_LEN, "%s", neonflow_branch_id(neonflow_branch_result_branch(res)));
            rc = neonflow__wait_ops(r, neonflow_branch_result_operations(res));
            if (rc == NEONFLOW_OK)
                rc = restored_name_check(r, neonflow_branch_result_branch(res), name, target_id);
            neonflow_branch_result_free(res);
            return rc;
        }
        int k = after_failure(r, &e, rc, attempt, "snapshot restore", branch_readback, &arg);
        if (k != 0)
            return k > 0 ? NEONFLOW_OK : k;
    }
}

typedef struct fin_rb {
    const char *preview_id, *backup_name, *target_name;
} fin_rb;

/* Finalize happened when the backup name exists and the preview holds the target's name. */
static int finalize_readback(neonflow__run *r, void *arg)
{
    fin_rb *a = arg;
    neonflow_branch *p = NULL;
    neonflow_error *e = NULL;
    int rc = neonflow__branch_get_ctx(&p, r->c, &r->ctx, r->project_id, a->preview_id, &e);
    if (rc != NEONFLOW_OK)
        return neonflow__fail_with(r, &e, rc);
    int done = strcmp(neonflow_branch_name(p), a->target_name) == 0;
    neonflow_branch_free(p);
    if (!done)
        return 0;
    char id[NEONFLOW__ID_LEN];
    branch_rb b = {a->backup_name, id};
    rc = branch_readback(r, &b);
    if (rc == 0)
        return neonflow__fail(r, NEONFLOW_ESTATE, "branch %s took the name \"%s\" but no branch is named \"%s\"",
                              a->preview_id, a->target_name, a->backup_name);
    return rc;
}

int neonflow__finalize_make(neonflow__run *r, const char *preview_id, const char *backup_name,
                            const char *target_name, int64_t *done_ms)
{
    fin_rb arg = {preview_id, backup_name, target_name};
    if (done_ms)
        *done_ms = 0; /* unknown unless this call's own operations are awaited */
    for (int attempt = 0;; attempt++) {
        neonflow_operation_list *ops = NULL;
        neonflow_error *e = NULL;
        int rc = neonflow__branch_finalize_restore_ctx(&ops, r->c, &r->ctx, r->project_id, preview_id, backup_name,
                                                       &e);
        if (rc == NEONFLOW_OK) {
            r->touched = 1;
            rc = neonflow__wait_ops_done_at(r, ops, done_ms);
            neonflow_operation_list_free(ops);
            return rc;
        }
        /* a 400 "not a restored branch awaiting finalization" may mean an
         * earlier, unanswered attempt went through: look before failing */
        if (rc == NEONFLOW_EBADREQUEST) {
            int done = finalize_readback(r, &arg);
            if (done != 0) {
                neonflow_error_free(e);
                if (done > 0)
                    r->touched = 1;
                return done > 0 ? NEONFLOW_OK : done;
            }
            return neonflow__fail_with(r, &e, rc);
        }
        int k = after_failure(r, &e, rc, attempt, "finalize", finalize_readback, &arg);
        if (k > 0)
            r->touched = 1;
        if (k != 0)
            return k > 0 ? NEONFLOW_OK : k;
    }
}

typedef struct ep_rb {
    const char *branch_id;
    char *id, *host;
} ep_rb;

static int endpoint_readback(neonflow__run *r, void *arg)
{
    ep_rb *a = arg;
    return neonflow__rw_endpoint(r, a->branch_id, a->id, NEONFLOW__ID_LEN, a->host, NEONFLOW__HOST_LEN);
}

int neonflow__endpoint_make(neonflow__run *r, const char *branch_id, char id[NEONFLOW__ID_LEN],
                            char host[NEONFLOW__HOST_LEN])
{
    ep_rb arg = {branch_id, id, host};
    for (int attempt = 0;; attempt++) {
        neonflow_endpoint *ep = NULL;
        neonflow_operation_list *ops = NULL;
        neonflow_error *e = NULL;
        int rc = neonflow__endpoint_create_ctx(&ep, &ops, r->c, &r->ctx, r->project_id, branch_id,
                                               NULL /* read_write, Neon's defaults */, &e);
        if (rc == NEONFLOW_OK) {
            snprintf(id, NEONFLOW__ID_LEN, "%s", neonflow_endpoint_id(ep));
            snprintf(host, NEONFLOW__HOST_LEN, "%s", neonflow_endpoint_host(ep));
            neonflow_endpoint_free(ep);
            rc = neonflow__wait_ops(r, ops);
            neonflow_operation_list_free(ops);
            return rc;
        }
        int k = after_failure(r, &e, rc, attempt, "endpoint create", endpoint_readback, &arg);
        if (k != 0)
            return k > 0 ? NEONFLOW_OK : k;
    }
}

/* ---- deletes ------------------------------------------------------------------------------- */
int neonflow__branch_remove(neonflow__run *r, const char *branch_id)
{
    for (int attempt = 0;; attempt++) {
        neonflow_operation_list *ops = NULL;
        neonflow_error *e = NULL;
        /* DELETE of a missing branch answers 204: replaying is harmless */
        int rc = neonflow__branch_delete_ctx(&ops, r->c, &r->ctx, r->project_id, branch_id, NULL, &e);
        if (rc == NEONFLOW_OK || rc == NEONFLOW_ENOTFOUND) {
            neonflow_error_free(e);
            rc = neonflow__wait_ops(r, ops);
            neonflow_operation_list_free(ops);
            return rc;
        }
        if (!retry_later(rc) || attempt + 1 >= MAX_ATTEMPTS)
            return neonflow__fail_with(r, &e, rc);
        neonflow_error_free(e);
        if ((rc = neonflow__wait_quiet(r, r->ro->busy_wait_ms, NEONFLOW_EBUSY)) != NEONFLOW_OK)
            return rc;
    }
}

int neonflow__snapshot_remove(neonflow__run *r, const char *snapshot_id)
{
    for (int attempt = 0;; attempt++) {
        neonflow_operation_list *ops = NULL;
        neonflow_error *e = NULL;
        int rc = neonflow__snapshot_delete_ctx(&ops, r->c, &r->ctx, r->project_id, snapshot_id, &e);
        if (rc == NEONFLOW_OK || rc == NEONFLOW_ENOTFOUND) { /* 404: already gone */
            neonflow_error_free(e);
            rc = neonflow__wait_ops(r, ops);
            neonflow_operation_list_free(ops);
            return rc;
        }
        if (!retry_later(rc) || attempt + 1 >= MAX_ATTEMPTS)
            return neonflow__fail_with(r, &e, rc);
        neonflow_error_free(e);
        if ((rc = neonflow__wait_quiet(r, r->ro->busy_wait_ms, NEONFLOW_EBUSY)) != NEONFLOW_OK)
            return rc;
    }
}

/* Snapshot names are not unique in Neon. The transport never replays a POST,
 * but a create whose answer timed out can still commit on Neon's side after
 * the run read the state back, found nothing and created the snapshot again;
 * a proxy may replay too. One listing at the end catches that: delete every
 * snapshot named like one of names[] whose id is not the run's (keep_ids[]). */
int neonflow__snapshot_dedupe(neonflow__run *r, const char *const *names, const char *const *keep_ids, size_t n)
{
    neonflow_snapshot_list *l = NULL;
    int rc = neonflow__list_snapshots(r, &l);
    if (rc != NEONFLOW_OK)
        return rc;
    for (size_t i = 0; i < neonflow_snapshot_list_count(l) && rc == NEONFLOW_OK; i++) {
        const neonflow_snapshot *s = neonflow_snapshot_list_at(l, i);
        for (size_t k = 0; k < n; k++) {
            if (!names[k] || !names[k][0] || !keep_ids[k] || !keep_ids[k][0] ||
                strcmp(neonflow_snapshot_name(s), names[k]) != 0 || strcmp(neonflow_snapshot_id(s), keep_ids[k]) == 0)
                continue;
            neonflow__emit(r, NEONFLOW_EVENT_WARNING,
                           "snapshot %s duplicates %s (\"%s\"): a create request was replayed; deleting it",
                           neonflow_snapshot_id(s), keep_ids[k], names[k]);
            rc = neonflow__snapshot_remove(r, neonflow_snapshot_id(s));
            break;
        }
    }
    neonflow_snapshot_list_free(l);
    return rc;
}
