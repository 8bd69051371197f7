/* neonflow_setup: dev becomes an independent root branch restored (never
 * finalized) from a snapshot of production, with its own read-write endpoint.
 * The dev branch's name is the marker: a root branch with that name that this
 * run did not create means "already set up". */
#include <stdio.h>
#include <string.h>

#include "workflow-private.h"

#define BUF(x) x, sizeof(x)

typedef struct setup_state {
    const char *source_ref, *dev_name;
    char source_id[NEONFLOW__ID_LEN], source_name[NEONFLOW__NAME_MAX + 1];
    char snap_name[NEONFLOW__NAME_MAX + 1];
    neonflow__snapinfo snap;
    char dev_id[NEONFLOW__ID_LEN], ep_id[NEONFLOW__ID_LEN], ep_host[NEONFLOW__HOST_LEN];
    int already; /* set up before, by someone else: change nothing */
    neonflow_step *st_snap, *st_restore, *st_ep;
} setup_state;

static void mark(neonflow_step *st, int32_t status)
{
    if (st && st->status == NEONFLOW_STEP_PLANNED)
        st->status = status;
}

static int step_preflight(neonflow__run *r, neonflow_step *st, void *ws)
{
    setup_state *ss = ws;
    neonflow__bview bv = {0};
    neonflow_snapshot_list *sl = NULL;
    int rc = neonflow__lease_take(r, ss->dev_name); /* the lease is on the dev name being created */
    /* looked up, not listed: the source, the dev name and the run's resources */
    if (rc == NEONFLOW_OK)
        rc = neonflow__bview_adopt(r, &bv, neonflow__lease_seen_take(r), r->lease.target);
    if (rc == NEONFLOW_OK)
        rc = neonflow__bview_search(r, &bv, ss->source_ref);
    if (rc == NEONFLOW_OK)
        rc = neonflow__bview_search(r, &bv, ss->dev_name);
    if (rc == NEONFLOW_OK)
        rc = neonflow__bview_search(r, &bv, r->rep->run_id);
    if (rc == NEONFLOW_OK)
        rc = neonflow__list_snapshots(r, &sl);
    if (rc == NEONFLOW_OK)
        rc = neonflow__run_id_prefetch(r, &bv, sl);
    const neonflow_branch_list *bl = bv.l; /* no more searches: pointers into it stay valid */
    const neonflow_branch *src = rc == NEONFLOW_OK ? neonflow__branch_lookup(bl, ss->source_ref) : NULL;
    const neonflow_branch *dev = rc == NEONFLOW_OK ? neonflow__branch_by_name(bl, ss->dev_name) : NULL;
    if (rc != NEONFLOW_OK) {
    } else if (!src) {
        rc = neonflow__fail(r, NEONFLOW_EBRANCH_MISSING, "source branch \"%s\" does not exist in project %s",
                            ss->source_ref, r->project_id);
    } else if (neonflow_branch_parent_id(src)) {
        rc = neonflow__fail(r, NEONFLOW_ENOT_ROOT, "source \"%s\" is not a root branch: only root branches can be "
                            "snapshotted", neonflow_branch_name(src));
    } else if (dev && strcmp(neonflow_branch_id(dev), neonflow_branch_id(src)) == 0) {
        rc = neonflow__fail(r, NEONFLOW_ESAME_BRANCH, "the dev name \"%s\" is the source branch itself",
                            ss->dev_name);
    } else if (dev && neonflow_branch_parent_id(dev)) {
        rc = neonflow__fail(r, NEONFLOW_ENOT_ROOT,
                            "a branch named \"%s\" exists but is a child of %s, not a root branch: rename or "
                            "delete it, or choose another dev name", ss->dev_name, neonflow_branch_parent_id(dev));
    }
    if (rc == NEONFLOW_OK) /* this run id must not belong to another workflow, dev name or source */
        rc = neonflow__run_id_claim(r, bl, sl, ss->dev_name, neonflow_branch_id(src), 1);
    if (rc == NEONFLOW_OK) {
        snprintf(BUF(ss->source_id), "%s", neonflow_branch_id(src));
        snprintf(BUF(ss->source_name), "%s", neonflow_branch_name(src));
        /* this run's setup snapshot, if an earlier attempt made it */
        neonflow__name_parts p;
        int have = 0;
        for (size_t i = 0; i < neonflow_snapshot_list_count(sl); i++) {
            const neonflow_snapshot *s = neonflow_snapshot_list_at(sl, i);
            if (neonflow__name_parse(neonflow_snapshot_name(s), &p) && strcmp(p.kind, "setup") == 0 &&
                strcmp(p.target, ss->dev_name) == 0 && strcmp(p.run_id, r->rep->run_id) == 0 &&
                (!have || strcmp(p.stamp, r->stamp) < 0)) {
                snprintf(BUF(r->stamp), "%s", p.stamp);
                neonflow__snapinfo_fill(&ss->snap, s);
                have = 1;
            }
        }
        if (neonflow__name_build(BUF(ss->snap_name), ss->dev_name, "setup", r->stamp, r->rep->run_id))
            rc = neonflow__fail(r, NEONFLOW_EINVAL, "the dev name is too long for neonflow's resource names");
        if (dev) {
            const char *from = neonflow_branch_restored_from(dev);
            snprintf(BUF(ss->dev_id), "%s", neonflow_branch_id(dev));
            if (!ss->snap.id[0] || !from || strcmp(from, ss->snap.id) != 0)
                ss->already = 1;
        }
    }
    if (rc == NEONFLOW_OK && !ss->already && !neonflow__run_dry(r) && !neonflow__lease_proves_quiet(r))
        rc = neonflow__wait_quiet(r, r->ro->busy_wait_ms, NEONFLOW_EBUSY);
    if (rc == NEONFLOW_OK) {
        neonflow_report *rep = r->rep;
        neonflow__report_set(rep, NEONFLOW__R_SOURCE_ID, ss->source_id);
        neonflow__report_set(rep, NEONFLOW__R_TARGET_ID, ss->dev_id);
        neonflow__report_set(rep, NEONFLOW__R_CANDIDATE_ID, ss->snap.id);
        neonflow__resource_add(st, NEONFLOW_RESOURCE_BRANCH, NEONFLOW_ACTION_KEEP, "source", ss->source_name,
                               ss->source_id, ss->dev_name);
        if (ss->already) {
            neonflow__resource_add(st, NEONFLOW_RESOURCE_BRANCH, NEONFLOW_ACTION_KEEP, "dev", ss->dev_name,
                                   ss->dev_id, ss->dev_name);
            mark(ss->st_snap, NEONFLOW_STEP_SKIPPED);
            mark(ss->st_restore, NEONFLOW_STEP_SKIPPED);
            mark(ss->st_ep, NEONFLOW_STEP_SKIPPED);
        } else {
            neonflow__resource_add(ss->st_snap, NEONFLOW_RESOURCE_SNAPSHOT, NEONFLOW_ACTION_CREATE, "setup",
                                   ss->snap_name, ss->snap.id, ss->dev_name);
            neonflow__resource_add(ss->st_restore, NEONFLOW_RESOURCE_BRANCH, NEONFLOW_ACTION_CREATE, "dev",
                                   ss->dev_name, ss->dev_id, ss->dev_name);
            neonflow__resource_add(ss->st_ep, NEONFLOW_RESOURCE_ENDPOINT, NEONFLOW_ACTION_CREATE, "endpoint",
                                   "read_write", NULL, ss->dev_name);
            if (ss->snap.id[0])
                mark(ss->st_snap, NEONFLOW_STEP_RESUMED);
            if (ss->dev_id[0])
                mark(ss->st_restore, NEONFLOW_STEP_RESUMED);
        }
    }
    neonflow__bview_free(&bv);
    neonflow_snapshot_list_free(sl);
    return rc;
}

static int step_snapshot(neonflow__run *r, neonflow_step *st, void *ws)
{
    setup_state *ss = ws;
    if (ss->already || ss->snap.id[0])
        return NEONFLOW_OK;
    int rc = neonflow__snapshot_make(r, ss->source_id, ss->snap_name, NULL, &ss->snap);
    if (rc == NEONFLOW_OK) {
        neonflow__step_set_resource_id(st, "setup", ss->snap.id);
        neonflow__report_set(r->rep, NEONFLOW__R_CANDIDATE_ID, ss->snap.id);
    }
    return rc;
}

static int step_restore(neonflow__run *r, neonflow_step *st, void *ws)
{
    setup_state *ss = ws;
    if (ss->already || ss->dev_id[0])
        return NEONFLOW_OK;
    /* aimed at the source only because Neon needs a target: it is never finalized */
    int rc = neonflow__restore_make(r, ss->snap.id, ss->dev_name, ss->source_id, ss->dev_id);
    if (rc == NEONFLOW_OK) {
        neonflow__step_set_resource_id(st, "dev", ss->dev_id);
        neonflow__report_set(r->rep, NEONFLOW__R_TARGET_ID, ss->dev_id);
    }
    return rc;
}

static int step_endpoint(neonflow__run *r, neonflow_step *st, void *ws)
{
    setup_state *ss = ws;
    if (ss->already)
        return NEONFLOW_OK;
    int has = neonflow__rw_endpoint(r, ss->dev_id, BUF(ss->ep_id), BUF(ss->ep_host));
    if (has < 0)
        return has;
    if (has)
        st->status = NEONFLOW_STEP_RESUMED;
    else if ((has = neonflow__endpoint_make(r, ss->dev_id, ss->ep_id, ss->ep_host)) != NEONFLOW_OK)
        return has;
    const char *names[1] = {ss->snap_name}, *ids[1] = {ss->snap.id};
    if ((has = neonflow__snapshot_dedupe(r, names, ids, 1)) != NEONFLOW_OK)
        return has;
    neonflow__step_set_resource_id(st, "endpoint", ss->ep_id);
    neonflow__report_set(r->rep, NEONFLOW__R_ENDPOINT_ID, ss->ep_id);
    neonflow__report_set(r->rep, NEONFLOW__R_ENDPOINT_HOST, ss->ep_host);
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_setup(neonflow_report **out, neonflow_client *client, const neonflow_run_options *run,
                                const neonflow_setup_options *opts, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    if (out)
        *out = NULL;
    neonflow__run r;
    int rc = neonflow__run_begin(&r, client, run, NEONFLOW_WORKFLOW_SETUP, err);
    if (rc != NEONFLOW_OK)
        return rc;
    setup_state ss;
    memset(&ss, 0, sizeof(ss));
    ss.source_ref = opts && opts->source ? opts->source : "production";
    ss.dev_name = opts && opts->dev_name ? opts->dev_name : "dev";
    neonflow_step *pre = neonflow__step_add(r.rep, "preflight",
                                            "resolve the source; check whether dev already exists", 0);
    ss.st_snap = neonflow__step_add(r.rep, "snapshot-source", "snapshot the source (dev's starting point)", 1);
    ss.st_restore = neonflow__step_add(r.rep, "restore-dev",
                                       "restore the snapshot as the new root branch dev (never finalized)", 1);
    ss.st_ep = neonflow__step_add(r.rep, "endpoint-dev", "give dev a read-write endpoint", 1);
    rc = neonflow__run_step(&r, pre, step_preflight, &ss, 1);
    if (rc == NEONFLOW_OK && !ss.already) {
        rc = neonflow__run_step(&r, ss.st_snap, step_snapshot, &ss, 0);
        if (rc == NEONFLOW_OK)
            rc = neonflow__run_step(&r, ss.st_restore, step_restore, &ss, 0);
        if (rc == NEONFLOW_OK)
            rc = neonflow__run_step(&r, ss.st_ep, step_endpoint, &ss, 0);
    }
    char note[2048] = "";
    if (rc == NEONFLOW_ECALLBACK && !r.interrupted && !ss.already) {
        if (r.ro->keep_on_veto) {
            snprintf(note, sizeof(note), "Kept (keep-on-veto): %s%s", ss.snap.id[0] ? ss.snap_name : "nothing",
                     ss.dev_id[0] ? " and the dev branch" : "");
        } else {
            int bad = ss.dev_id[0] && neonflow__branch_remove(&r, ss.dev_id) != NEONFLOW_OK;
            bad |= ss.snap.id[0] && neonflow__snapshot_remove(&r, ss.snap.id) != NEONFLOW_OK;
            if (ss.dev_id[0])
                ss.st_restore->status = NEONFLOW_STEP_UNDONE;
            if (ss.snap.id[0])
                ss.st_snap->status = NEONFLOW_STEP_UNDONE;
            snprintf(note, sizeof(note), "%s", bad ? "Removing what the run created failed part way."
                                                   : "What the run created was removed.");
        }
    } else if (rc == NEONFLOW_OK && ss.already)
        snprintf(note, sizeof(note), "Already set up: the root branch \"%s\" (%s) exists; nothing was changed.",
                 ss.dev_name, ss.dev_id);
    else if (rc == NEONFLOW_OK && !r.rep->dry_run)
        snprintf(note, sizeof(note), "\"%s\" (%s) is a root branch with %s's data as of %s, endpoint %s (%s).",
                 ss.dev_name, ss.dev_id, ss.source_name, ss.snap.ts, ss.ep_id, ss.ep_host);
    return neonflow__run_end(&r, rc, note[0] ? note : NULL, out, err);
}
