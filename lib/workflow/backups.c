/* neonflow_backups_list and neonflow_prune. A backup branch is a branch that
 * a finalized restore replaced: named nf/<target>/<workflow>-backup/...
 * (undo-backup, 0.1.0's nf/<target>/backup/...) by neonflow, "<name> (old)"
 * by Neon's default, or any branch that a finalized branch's `restored_as`
 * points to. neonflow's snapshots are the
 * ones whose names parse as nf/<target>/<kind>/<stamp>/<run>. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json-util.h"
#include "core/alloc.h"
#include "workflow-private.h"

#define BUF(x) x, sizeof(x)

typedef struct item {
    int is_branch;
    const neonflow_branch *b;
    const neonflow_snapshot *s;
    char target[NEONFLOW__NAME_MAX + 1];
    char kind[32];
    char run_id[NEONFLOW__RUN_ID_MAX + 1];
    char replaced_by[NEONFLOW__ID_LEN];
    char when[64];
    int64_t when_ms;
    int deletable; /* not default, not protected, no children */
    int del;       /* chosen by the prune policy */
    long order;    /* newer is larger, from Neon's list order */
    int depth;     /* backups: how many later backups replaced its replacer (0 = replaced by the live branch) */
} item;

typedef struct inventory {
    neonflow_branch_list *bl;
    neonflow_snapshot_list *sl;
    item *v;
    size_t n;
} inventory;

static void inventory_free(inventory *inv)
{
    neonflow_branch_list_free(inv->bl);
    neonflow_snapshot_list_free(inv->sl);
    neonflow__free(inv->v);
    memset(inv, 0, sizeof(*inv));
}

/* The finalized branch that replaced b, if any. */
static const neonflow_branch *replacer_of(const neonflow_branch_list *l, const neonflow_branch *b)
{
    for (size_t i = 0; i < neonflow_branch_list_count(l); i++) {
        const neonflow_branch *a = neonflow_branch_list_at(l, i);
        const char *ra = neonflow_branch_restored_as(a);
        if (a != b && ra && strcmp(ra, neonflow_branch_id(b)) == 0 &&
            neonflow_branch_restore_status(a) == NEONFLOW_RESTORE_STATUS_FINALIZED)
            return a;
    }
    return NULL;
}

static int has_children(const neonflow_branch_list *l, const neonflow_branch *b)
{
    for (size_t i = 0; i < neonflow_branch_list_count(l); i++) {
        const char *p = neonflow_branch_parent_id(neonflow_branch_list_at(l, i));
        if (p && strcmp(p, neonflow_branch_id(b)) == 0)
            return 1;
    }
    return 0;
}

/* A run's live lease among b's children: b is kept while it lives (Neon refuses to delete a parent). */
static const neonflow_branch *lease_child(const neonflow_branch_list *l, const neonflow_branch *b)
{
    for (size_t i = 0; i < neonflow_branch_list_count(l); i++) {
        const neonflow_branch *c = neonflow_branch_list_at(l, i);
        const char *p = neonflow_branch_parent_id(c);
        if (p && strcmp(p, neonflow_branch_id(b)) == 0 && neonflow__lease_name_is(neonflow_branch_name(c)))
            return c;
    }
    return NULL;
}

static void set_when(item *it, const char *stamp, const char *fallback, int64_t fallback_ms)
{
    int64_t ms = stamp ? neonflow__stamp_ms(stamp) : -1;
    if (ms >= 0) {
        it->when_ms = ms;
        neonflow__rfc3339_format(ms, BUF(it->when));
    } else {
        it->when_ms = fallback_ms;
        snprintf(BUF(it->when), "%s", fallback ? fallback : "");
    }
}

/* The branches a listing of target's backups needs, without listing the
 * project: every name with target in it (the live target, nf/<target>/...,
 * "<target> (old)"), then along the finalized restores' restored_as (the
 * backups the live target and its backups replaced, whatever their names). */
static int target_view(neonflow__run *r, const char *target, neonflow_branch_list **out)
{
    neonflow__bview v = {0};
    int rc = neonflow__bview_search(r, &v, target);
    for (int more = 1; rc == NEONFLOW_OK && more;) {
        /* collected first: a search moves the branches of v */
        char need[8][NEONFLOW__ID_LEN];
        size_t n = 0;
        for (size_t i = 0; i < neonflow_branch_list_count(v.l) && n < 8; i++) {
            const neonflow_branch *a = neonflow_branch_list_at(v.l, i);
            const char *ra = neonflow_branch_restored_as(a);
            if (ra && *ra && neonflow_branch_restore_status(a) == NEONFLOW_RESTORE_STATUS_FINALIZED &&
                !neonflow__branch_by_id(v.l, ra) && !neonflow__bview_covers(&v, ra))
                snprintf(need[n++], sizeof(need[0]), "%s", ra);
        }
        more = n > 0;
        for (size_t i = 0; i < n && rc == NEONFLOW_OK; i++)
            rc = neonflow__bview_search(r, &v, need[i]);
    }
    if (rc == NEONFLOW_OK) {
        *out = v.l;
        v.l = NULL;
    }
    neonflow__bview_free(&v);
    return rc;
}

/* target: only that target's backups are wanted (looked up, not listed);
 * no_branches / no_snapshots: only the other half is wanted. Otherwise every branch is listed:
 * a backup named by someone else is known only by the finalized branch whose
 * restored_as points to it, and prune must know every backup's children. */
static int inventory_load(neonflow__run *r, inventory *inv, const char *target, int no_branches, int no_snapshots)
{
    int rc;
    neonflow_error *e = NULL;
    if (no_branches)
        rc = (rc = neonflow__branch_list_new(&inv->bl, &e)) == NEONFLOW_OK ? rc : neonflow__fail_with(r, &e, rc);
    else if (target)
        rc = target_view(r, target, &inv->bl);
    else
        rc = neonflow__list_branches(r, NULL, &inv->bl);
    if (rc == NEONFLOW_OK && !no_snapshots) /* else inv->sl stays NULL: an empty list */
        rc = neonflow__list_snapshots(r, &inv->sl);
    if (rc != NEONFLOW_OK)
        return rc;
    size_t nb = neonflow_branch_list_count(inv->bl), ns = neonflow_snapshot_list_count(inv->sl);
    inv->v = neonflow__calloc(nb + ns + 1, sizeof(item));
    if (!inv->v)
        return neonflow__fail(r, NEONFLOW_ENOMEM, "out of memory");
    neonflow__name_parts p;
    for (size_t i = 0; i < nb; i++) {
        const neonflow_branch *b = neonflow_branch_list_at(inv->bl, i);
        if (target && neonflow__branch_by_id(inv->bl, neonflow_branch_id(b)) != b)
            continue; /* found by two searches */
        const neonflow_branch *by = replacer_of(inv->bl, b);
        item *it = &inv->v[inv->n];
        memset(it, 0, sizeof(*it));
        char base[NEONFLOW__NAME_MAX + 1];
        const char *name = neonflow_branch_name(b);
        if (neonflow__lease_name_is(name))
            continue; /* a run's lease, never a backup */
        int ours = neonflow__name_parse(name, &p) && neonflow__kind_is_backup(p.kind);
        if (ours) {
            snprintf(BUF(it->target), "%s", p.target);
            /* the role: "backup" whichever workflow (or 0.1.0) named it; the name says which */
            snprintf(BUF(it->kind), "%s", strcmp(p.kind, "undo-backup") == 0 ? "undo-backup" : "backup");
            snprintf(BUF(it->run_id), "%s", p.run_id);
        } else if (neonflow__old_name_parse(name, BUF(base))) {
            snprintf(BUF(it->target), "%s", base);
            snprintf(BUF(it->kind), "backup");
        } else if (by) {
            snprintf(BUF(it->target), "%s", neonflow_branch_name(by));
            snprintf(BUF(it->kind), "backup");
        } else {
            continue;
        }
        if (neonflow_branch_parent_id(b) && !by)
            continue; /* a child branch that merely looks like a backup */
        it->is_branch = 1;
        it->b = b;
        if (by)
            snprintf(BUF(it->replaced_by), "%s", neonflow_branch_id(by));
        /* when it was replaced: its replacer's creation (ms), else the name's stamp, else its last update */
        if (by)
            set_when(it, NULL, neonflow_branch_created_at(by), neonflow_branch_created_at_ms(by));
        else
            set_when(it, ours ? p.stamp : NULL, neonflow_branch_updated_at(b), neonflow_branch_updated_at_ms(b));
        it->order = -(long)i;
        /* only when Neon said it is neither default nor protected: unknown is kept */
        it->deletable = neonflow_branch_has_default(b) && !neonflow_branch_is_default(b) &&
                        neonflow_branch_has_protected(b) && !neonflow_branch_is_protected(b) &&
                        !has_children(inv->bl, b);
        inv->n++;
    }
    /* order each target's backups along the chain of replacements; a backup
     * whose replacer is gone (deleted) is older than any with a chain */
    for (size_t i = 0; i < inv->n; i++) {
        const item *cur = &inv->v[i];
        if (!cur->replaced_by[0]) {
            inv->v[i].depth = 1 << 20;
            continue;
        }
        for (int hops = 0; cur && cur->replaced_by[0] && hops < 10000; hops++) {
            const item *next = NULL;
            for (size_t k = 0; k < inv->n && !next; k++)
                if (strcmp(neonflow_branch_id(inv->v[k].b), cur->replaced_by) == 0)
                    next = &inv->v[k];
            if (next)
                inv->v[i].depth++;
            cur = next;
        }
    }
    for (size_t i = 0; i < ns; i++) {
        const neonflow_snapshot *s = neonflow_snapshot_list_at(inv->sl, i);
        if (!neonflow__name_parse(neonflow_snapshot_name(s), &p))
            continue;
        item *it = &inv->v[inv->n++];
        memset(it, 0, sizeof(*it));
        it->s = s;
        it->order = (long)i;
        snprintf(BUF(it->target), "%s", p.target);
        snprintf(BUF(it->kind), "%s", p.kind);
        snprintf(BUF(it->run_id), "%s", p.run_id);
        set_when(it, NULL, neonflow_snapshot_created_at(s), neonflow_snapshot_created_at_ms(s));
        it->deletable = 1;
    }
    return NEONFLOW_OK;
}

static neonflow_resource *add_item(neonflow_step *st, const item *it, int32_t action)
{
    neonflow_resource *x;
    if (it->is_branch) {
        x = neonflow__resource_add(st, NEONFLOW_RESOURCE_BRANCH, action, it->kind, neonflow_branch_name(it->b),
                                   neonflow_branch_id(it->b), it->target);
        if (x)
            x->size_bytes = neonflow_branch_logical_size_bytes(it->b);
        if (x && it->replaced_by[0])
            neonflow__resource_set(&x->replaced_by, it->replaced_by);
    } else {
        x = neonflow__resource_add(st, NEONFLOW_RESOURCE_SNAPSHOT, action, it->kind, neonflow_snapshot_name(it->s),
                                   neonflow_snapshot_id(it->s), it->target);
        if (x) {
            x->size_bytes = neonflow_snapshot_full_size_bytes(it->s);
            neonflow__resource_set(&x->expires_at, neonflow_snapshot_expires_at(it->s));
        }
    }
    if (x) {
        neonflow__resource_set(&x->run_id, it->run_id);
        neonflow__resource_set(&x->created_at, it->when);
        x->created_at_ms = it->when_ms;
    }
    return x;
}

/* ---- listing and its filters ------------------------------------------------------- */
struct neonflow_backups_list_options {
    char *target, *kind, *run_id;
    int64_t older_than_s;
    int branches, snapshots;
};

NEONFLOW_API int neonflow_backups_list_options_new(neonflow_backups_list_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    if (!*out)
        return NEONFLOW_ENOMEM;
    (*out)->branches = (*out)->snapshots = 1;
    return NEONFLOW_OK;
}

NEONFLOW_API void neonflow_backups_list_options_free(neonflow_backups_list_options *o)
{
    if (!o)
        return;
    neonflow__free(o->target);
    neonflow__free(o->kind);
    neonflow__free(o->run_id);
    neonflow__free(o);
}

NEONFLOW_API int neonflow_backups_list_options_set_target(neonflow_backups_list_options *o, const char *target)
{
    if (!o || (target && (!*target || strlen(target) > NEONFLOW__NAME_MAX)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->target, target);
}

NEONFLOW_API int neonflow_backups_list_options_set_kind(neonflow_backups_list_options *o, const char *kind)
{
    if (!o || (kind && (!*kind || strlen(kind) > 31 || strspn(kind, "abcdefghijklmnopqrstuvwxyz-") != strlen(kind))))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->kind, kind);
}

NEONFLOW_API int neonflow_backups_list_options_set_run_id(neonflow_backups_list_options *o, const char *run_id)
{
    if (!o || (run_id && !neonflow__run_id_valid(run_id)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->run_id, run_id);
}

NEONFLOW_API int neonflow_backups_list_options_set_older_than_s(neonflow_backups_list_options *o, int64_t seconds)
{
    if (!o || seconds < 0)
        return NEONFLOW_EINVAL;
    o->older_than_s = seconds;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_backups_list_options_set_branches(neonflow_backups_list_options *o, int enable)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->branches = enable ? 1 : 0;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_backups_list_options_set_snapshots(neonflow_backups_list_options *o, int enable)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->snapshots = enable ? 1 : 0;
    return NEONFLOW_OK;
}

typedef struct list_state {
    inventory inv;
    const neonflow_backups_list_options *o;
    size_t nbranches, nsnapshots;
} list_state;

static int wanted(const neonflow_backups_list_options *o, const item *it, int64_t now_ms)
{
    if (!o)
        return 1;
    if ((it->is_branch && !o->branches) || (!it->is_branch && !o->snapshots))
        return 0;
    if ((o->target && strcmp(o->target, it->target) != 0) || (o->kind && strcmp(o->kind, it->kind) != 0) ||
        (o->run_id && strcmp(o->run_id, it->run_id) != 0))
        return 0;
    return now_ms - it->when_ms >= o->older_than_s * 1000;
}

static int step_list(neonflow__run *r, neonflow_step *st, void *ws)
{
    list_state *ls = ws;
    int rc = inventory_load(r, &ls->inv, ls->o ? ls->o->target : NULL, ls->o && !ls->o->branches,
                            ls->o && !ls->o->snapshots);
    int64_t now = neonflow__run_wall_ms(r);
    for (size_t i = 0; rc == NEONFLOW_OK && i < ls->inv.n; i++) {
        const item *it = &ls->inv.v[i];
        if (!wanted(ls->o, it, now))
            continue;
        if (!add_item(st, it, NEONFLOW_ACTION_KEEP))
            rc = neonflow__fail(r, NEONFLOW_ENOMEM, "out of memory");
        *(it->is_branch ? &ls->nbranches : &ls->nsnapshots) += 1;
    }
    return rc;
}

NEONFLOW_API int neonflow_backups_list(neonflow_report **out, neonflow_client *client,
                                       const neonflow_run_options *run, const neonflow_backups_list_options *opts,
                                       neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    if (out)
        *out = NULL;
    neonflow__run r;
    int rc = neonflow__run_begin(&r, client, run, NEONFLOW_WORKFLOW_BACKUPS, err);
    if (rc != NEONFLOW_OK)
        return rc;
    list_state ls;
    memset(&ls, 0, sizeof(ls));
    ls.o = opts;
    neonflow_step *st = neonflow__step_add(r.rep, "list", "list backup branches and neonflow's snapshots", 0);
    rc = neonflow__run_step(&r, st, step_list, &ls, 1);
    char note[2048] = "";
    if (rc == NEONFLOW_OK) {
        snprintf(note, sizeof(note), "%zu backup branch(es), %zu neonflow snapshot(s)%s.", ls.nbranches,
                 ls.nsnapshots, opts ? " matching the filters" : "");
        if (r.rep->dry_run) /* listing changes nothing: report it as done */
            st->status = NEONFLOW_STEP_DONE;
    }
    inventory_free(&ls.inv);
    return neonflow__run_end(&r, rc, note[0] ? note : NULL, out, err);
}

/* ---- prune ------------------------------------------------------------------------ */
typedef struct prune_state {
    inventory inv;
    const neonflow_prune_options *o;
    int32_t keep;
    int64_t older_ms;
    int do_branches, do_snapshots;
    size_t ndel;
} prune_state;

static uint64_t lsn_num(const char *lsn)
{
    unsigned hi = 0, lo = 0;
    if (!lsn || sscanf(lsn, "%x/%x", &hi, &lo) != 2)
        return 0;
    return ((uint64_t)hi << 32) | lo;
}

/* Newest first. Neon's times have one-second resolution, so ties are broken
 * by the snapshot's LSN, then by Neon's list order (snapshots oldest first,
 * branches most recently updated first). */
static int newest_first(const void *a, const void *b)
{
    const item *x = *(const item *const *)a, *y = *(const item *const *)b;
    /* grouped first (branches per target, snapshots per target and kind) so the order is total */
    if (x->is_branch != y->is_branch)
        return x->is_branch ? -1 : 1;
    int c = strcmp(x->target, y->target);
    if (c == 0 && !x->is_branch)
        c = strcmp(x->kind, y->kind);
    if (c != 0)
        return c;
    if (x->is_branch && x->depth != y->depth)
        return x->depth > y->depth ? 1 : -1;
    if (x->when_ms != y->when_ms)
        return x->when_ms < y->when_ms ? 1 : -1;
    if (!x->is_branch && !y->is_branch) {
        uint64_t lx = lsn_num(neonflow_snapshot_lsn(x->s)), ly = lsn_num(neonflow_snapshot_lsn(y->s));
        if (lx != ly)
            return lx < ly ? 1 : -1;
    }
    if (x->order != y->order)
        return x->order < y->order ? 1 : -1;
    return 0;
}

static int same_group(const item *a, const item *b)
{
    if (a->is_branch != b->is_branch || strcmp(a->target, b->target) != 0)
        return 0;
    return a->is_branch || strcmp(a->kind, b->kind) == 0;
}

static int step_plan(neonflow__run *r, neonflow_step *st, void *ws)
{
    prune_state *ps = ws;
    inventory *inv = &ps->inv;
    int rc = inventory_load(r, inv, NULL, 0, 0);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__lease_release_stale(r, inv->bl); /* a resume may have nothing left on those targets */
    item **order = neonflow__calloc(inv->n + 1, sizeof(*order));
    if (!order)
        return neonflow__fail(r, NEONFLOW_ENOMEM, "out of memory");
    for (size_t i = 0; i < inv->n; i++)
        order[i] = &inv->v[i];
    qsort(order, inv->n, sizeof(*order), newest_first);
    int64_t now = neonflow__run_wall_ms(r);
    for (size_t i = 0; i < inv->n; i++) {
        item *it = order[i];
        const neonflow_branch *lc = it->is_branch && ps->do_branches ? lease_child(inv->bl, it->b) : NULL;
        if (lc)
            neonflow__emit(r, NEONFLOW_EVENT_WARNING,
                           "keeping backup \"%s\" (%s): a run's lease %s (%s) is its child until that run ends "
                           "or the lease expires; prune again later", neonflow_branch_name(it->b),
                           neonflow_branch_id(it->b), neonflow_branch_name(lc), neonflow_branch_id(lc));
        if ((it->is_branch && !ps->do_branches) || (!it->is_branch && !ps->do_snapshots) || !it->deletable)
            continue;
        int32_t rank = 0; /* newer deletable items of the same group (protected ones keep no slot) */
        for (size_t j = 0; j < i; j++)
            if (same_group(order[j], it) && order[j]->deletable)
                rank++;
        if (rank >= ps->keep && now - it->when_ms >= ps->older_ms) {
            it->del = 1;
            ps->ndel++;
        }
    }
    for (size_t i = 0; i < inv->n; i++)
        if (!order[i]->del && !add_item(st, order[i], NEONFLOW_ACTION_KEEP))
            rc = neonflow__fail(r, NEONFLOW_ENOMEM, "out of memory");
    neonflow__free(order);
    return rc;
}

static int step_delete(neonflow__run *r, neonflow_step *st, void *ws)
{
    const item *it = ws;
    int rc = neonflow__lease_acquire(r, it->target); /* one target at a time; a held one stops the prune */
    if (rc != NEONFLOW_OK)
        return rc;
    return it->is_branch ? neonflow__branch_remove(r, neonflow_branch_id(it->b))
                         : neonflow__snapshot_remove(r, neonflow_snapshot_id(it->s));
}

NEONFLOW_API int neonflow_prune(neonflow_report **out, neonflow_client *client, const neonflow_run_options *run,
                                const neonflow_prune_options *opts, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    if (out)
        *out = NULL;
    neonflow__run r;
    int rc = neonflow__run_begin(&r, client, run, NEONFLOW_WORKFLOW_PRUNE, err);
    if (rc != NEONFLOW_OK)
        return rc;
    prune_state ps;
    memset(&ps, 0, sizeof(ps));
    ps.o = opts;
    ps.keep = opts ? opts->keep_newest : 2;
    ps.older_ms = opts ? opts->older_than_s * 1000 : 0;
    ps.do_branches = opts ? opts->branches : 1;
    ps.do_snapshots = opts ? opts->snapshots : 1;
    neonflow_step *plan = neonflow__step_add(r.rep, "plan", "list backups and choose what the policy deletes", 0);
    rc = neonflow__run_step(&r, plan, step_plan, &ps, 1);
    if (rc == NEONFLOW_OK && r.rep->dry_run)
        plan->status = NEONFLOW_STEP_DONE;
    size_t done = 0;
    /* branches first: a snapshot's source branch may be among them */
    for (int pass = 0; pass < 2 && rc == NEONFLOW_OK; pass++)
        for (size_t i = 0; i < ps.inv.n && rc == NEONFLOW_OK; i++) {
            item *it = &ps.inv.v[i];
            if (!it->del || it->is_branch != (pass == 0))
                continue;
            char desc[NEONFLOW__NAME_MAX + 64];
            snprintf(desc, sizeof(desc), "delete %s \"%s\"", it->is_branch ? "backup branch" : "snapshot",
                     it->is_branch ? neonflow_branch_name(it->b) : neonflow_snapshot_name(it->s));
            neonflow_step *st = neonflow__step_add(r.rep, it->is_branch ? "delete-branch" : "delete-snapshot", desc,
                                                   1);
            if (!st || !add_item(st, it, NEONFLOW_ACTION_DELETE)) {
                rc = neonflow__fail(&r, NEONFLOW_ENOMEM, "out of memory");
                break;
            }
            rc = neonflow__run_step(&r, st, step_delete, it, 0);
            done += rc == NEONFLOW_OK;
        }
    char note[2048] = "";
    if (rc == NEONFLOW_OK)
        snprintf(note, sizeof(note), r.rep->dry_run ? "%zu item(s) would be deleted." : "%zu item(s) deleted.",
                 r.rep->dry_run ? ps.ndel : done);
    else if (done)
        snprintf(note, sizeof(note), "%zu item(s) were deleted before it stopped.", done);
    inventory_free(&ps.inv);
    return neonflow__run_end(&r, rc, note[0] ? note : NULL, out, err);
}
