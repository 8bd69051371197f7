/* A run id belongs to one workflow, target and source. Before a workflow
 * mutates anything it reads the names of every resource carrying its run id
 * (any target) and refuses to go on when an earlier use of the id was for
 * something else: resuming it would report another run's work as done. */
#include <stdio.h>
#include <string.h>

#include "workflow-private.h"

#define BUF(x) x, sizeof(x)

/* The snapshot kinds whose source_branch_id is the run's source. */
static int records_source(const char *kind)
{
    return strcmp(kind, "candidate") == 0 || strcmp(kind, "refresh") == 0 || strcmp(kind, "setup") == 0;
}

/* A 0.1.0 "preview"/"backup" branch of this run: which workflow made it.
 * First the run's own snapshots (candidate/rollback: promote, refresh:
 * refresh, pre-rollback: rollback), then the snapshot the branch (or, for a
 * backup, the branch that replaced it) was restored from: this run's
 * candidate or refresh snapshot, or any other snapshot (a rollback restores
 * an existing one). 0 when nothing tells any more. */
static int32_t legacy_workflow(const neonflow__run *r, const neonflow_branch_list *bl, const neonflow_snapshot_list *sl,
                               const neonflow_branch *b, const neonflow__name_parts *bp)
{
    neonflow__name_parts p;
    for (size_t i = 0; i < neonflow_snapshot_list_count(sl); i++) {
        const neonflow_snapshot *s = neonflow_snapshot_list_at(sl, i);
        if (!neonflow__name_parse(neonflow_snapshot_name(s), &p) || strcmp(p.run_id, r->rep->run_id) != 0 ||
            strcmp(p.target, bp->target) != 0)
            continue;
        int32_t w = neonflow__kind_workflow(p.kind);
        if (w > 0)
            return w;
    }
    const char *from = NULL;
    if (strcmp(bp->kind, NEONFLOW__KIND_LEGACY_PREVIEW) == 0) {
        from = neonflow_branch_restored_from(b);
    } else {
        for (size_t i = 0; i < neonflow_branch_list_count(bl) && !from; i++) {
            const neonflow_branch *a = neonflow_branch_list_at(bl, i);
            const char *ra = neonflow_branch_restored_as(a);
            if (a != b && ra && strcmp(ra, neonflow_branch_id(b)) == 0 &&
                neonflow_branch_restore_status(a) == NEONFLOW_RESTORE_STATUS_FINALIZED)
                from = neonflow_branch_restored_from(a);
        }
    }
    const neonflow_snapshot *s = from ? neonflow__snapshot_by(sl, NULL, from) : NULL;
    if (!s)
        return 0;
    if (neonflow__name_parse(neonflow_snapshot_name(s), &p) && strcmp(p.run_id, r->rep->run_id) == 0) {
        if (strcmp(p.kind, "candidate") == 0)
            return NEONFLOW_WORKFLOW_PROMOTE;
        if (strcmp(p.kind, "refresh") == 0)
            return NEONFLOW_WORKFLOW_REFRESH;
    }
    return NEONFLOW_WORKFLOW_ROLLBACK;
}

/* ` from source "name" (id)` for a branch id, or "" for NULL. */
static void source_words(const neonflow_branch_list *bl, const char *id, char *out, size_t len)
{
    const neonflow_branch *b = id ? neonflow__branch_by_id(bl, id) : NULL;
    if (!id)
        out[0] = '\0';
    else if (b)
        snprintf(out, len, " from source \"%s\" (%s)", neonflow_branch_name(b), id);
    else
        snprintf(out, len, " from source branch %s (deleted since)", id);
}

/* Says what the run id was first used for and what this call asked for. */
static int mismatch(neonflow__run *r, const neonflow_branch_list *bl, int32_t first_wf, const char *first_target,
                    const char *first_source_id, const char *what, const char *target, const char *source_id)
{
    char was[NEONFLOW__NAME_MAX + 128], now[NEONFLOW__NAME_MAX + 128];
    source_words(bl, first_source_id, BUF(was));
    source_words(bl, source_id, BUF(now));
    return neonflow__fail(r, NEONFLOW_ERUN_MISMATCH,
                          "run id %s was first used on target \"%s\"%s by %s (it made \"%s\"); this %s is on "
                          "\"%s\"%s: resume that run with the same workflow, target and source, or start this one "
                          "with another run id",
                          r->rep->run_id, first_target, was,
                          first_wf > 0 ? neonflow__workflow_label(first_wf)
                                       : "neonflow 0.1.0, and which workflow can no longer be told",
                          what, neonflow__workflow_label(r->rep->workflow), target, now);
}

/* Whether the run's recorded source (a branch ID) is the source given now.
 * Another run may have switched the source since (a refresh of dev): its old
 * branch then carries a backup name of the source's name. */
static int same_source(const neonflow_branch_list *bl, const char *recorded, const char *source_id)
{
    if (strcmp(recorded, source_id) == 0)
        return 1;
    const neonflow_branch *old = neonflow__branch_by_id(bl, recorded), *now = neonflow__branch_by_id(bl, source_id);
    neonflow__name_parts p;
    return old && now && neonflow__name_parse(neonflow_branch_name(old), &p) && neonflow__kind_is_backup(p.kind) &&
           strcmp(p.target, neonflow_branch_name(now)) == 0;
}

/* Whether this run already switched target (its backup exists): the source
 * no longer matters to the steps left, whatever happened to it since. */
static int switched(const neonflow__run *r, const neonflow_branch_list *bl, const char *target)
{
    neonflow__name_parts p;
    for (size_t i = 0; i < neonflow_branch_list_count(bl); i++)
        if (neonflow__name_parse(neonflow_branch_name(neonflow_branch_list_at(bl, i)), &p) &&
            strcmp(p.run_id, r->rep->run_id) == 0 && strcmp(p.target, target) == 0 && neonflow__kind_is_backup(p.kind) &&
            strcmp(p.kind, "undo-backup") != 0)
            return 1;
    return 0;
}

int neonflow__run_id_claim(neonflow__run *r, const neonflow_branch_list *bl, const neonflow_snapshot_list *sl,
                           const char *target, const char *source_id, int has_source)
{
    const char *run = r->rep->run_id;
    int32_t self = r->rep->workflow;
    int found = 0, sourced = 0;
    int done = switched(r, bl, target);
    neonflow__name_parts p;
    /* snapshots first: Neon lists them oldest first, so the first conflict named is the earliest */
    for (size_t i = 0; i < neonflow_snapshot_list_count(sl); i++) {
        const neonflow_snapshot *s = neonflow_snapshot_list_at(sl, i);
        if (!neonflow__name_parse(neonflow_snapshot_name(s), &p) || strcmp(p.run_id, run) != 0)
            continue;
        int32_t w = neonflow__kind_workflow(p.kind);
        if (w < 0)
            continue; /* not a workflow's resource (e.g. a lease) */
        const char *src = neonflow_snapshot_source_branch_id(s);
        int rec = records_source(p.kind) && src && *src;
        if (w != self || strcmp(p.target, target) != 0)
            return mismatch(r, bl, w, p.target, rec ? src : NULL, neonflow_snapshot_name(s), target, source_id);
        found = 1;
        if (rec) {
            sourced = 1;
            if (source_id && !done && !same_source(bl, src, source_id))
                return mismatch(r, bl, w, p.target, src, neonflow_snapshot_name(s), target, source_id);
        }
    }
    for (size_t i = 0; i < neonflow_branch_list_count(bl); i++) {
        const neonflow_branch *b = neonflow_branch_list_at(bl, i);
        if (!neonflow__name_parse(neonflow_branch_name(b), &p) || strcmp(p.run_id, run) != 0)
            continue;
        int32_t w = neonflow__kind_workflow(p.kind);
        if (w < 0)
            continue;
        if (w == 0)
            w = legacy_workflow(r, bl, sl, b, &p);
        if (w != self || strcmp(p.target, target) != 0)
            return mismatch(r, bl, w, p.target, NULL, neonflow_branch_name(b), target, source_id);
        found = 1;
    }
    if (found && has_source && !sourced)
        return neonflow__fail(r, NEONFLOW_ERUN_MISMATCH,
                              "run id %s already has resources on \"%s\" but the snapshot that records its source is "
                              "gone (expired or pruned), so neonflow cannot check that this %s uses the same source: "
                              "start a new run with another run id",
                              run, target, neonflow__workflow_label(self));
    return NEONFLOW_OK;
}

#define PREFETCH_ROUND 8

int neonflow__run_id_prefetch(neonflow__run *r, neonflow__bview *v, const neonflow_snapshot_list *sl)
{
    const char *run = r->rep->run_id;
    neonflow__name_parts p;
    for (;;) {
        /* collected first: a search moves the branches of v */
        char need[PREFETCH_ROUND][NEONFLOW__NAME_MAX + 1];
        size_t n = 0;
        for (size_t i = 0; i < neonflow_snapshot_list_count(sl) && n < PREFETCH_ROUND; i++) {
            const neonflow_snapshot *s = neonflow_snapshot_list_at(sl, i);
            const char *src = neonflow_snapshot_source_branch_id(s);
            if (neonflow__name_parse(neonflow_snapshot_name(s), &p) && strcmp(p.run_id, run) == 0 &&
                neonflow__kind_workflow(p.kind) >= 0 && records_source(p.kind) && src && *src &&
                !neonflow__branch_by_id(v->l, src) && !neonflow__bview_covers(v, src))
                snprintf(need[n++], sizeof(need[0]), "%s", src);
        }
        for (size_t i = 0; i < neonflow_branch_list_count(v->l) && n < PREFETCH_ROUND; i++) {
            if (neonflow__name_parse(neonflow_branch_name(neonflow_branch_list_at(v->l, i)), &p) &&
                strcmp(p.run_id, run) == 0 && neonflow__kind_workflow(p.kind) == 0 &&
                !neonflow__bview_covers(v, p.target))
                snprintf(need[n++], sizeof(need[0]), "%s", p.target);
        }
        if (n == 0)
            return NEONFLOW_OK;
        for (size_t i = 0; i < n; i++) {
            int rc = neonflow__bview_search(r, v, need[i]);
            if (rc != NEONFLOW_OK)
                return rc;
        }
    }
}
