/* The restore switch shared by promote, refresh and rollback:
 * preflight (resolve, checks, discovery of an earlier attempt of the run),
 * candidate snapshot, restore as a preview branch, verify, rollback snapshot
 * of the target, finalize, and re-resolve the target by name. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/text.h"
#include "workflow-private.h"

#define BUF(x) x, sizeof(x)

static void expiry(neonflow__run *r, int64_t seconds, char *out, size_t len)
{
    out[0] = '\0';
    if (seconds > 0)
        neonflow__rfc3339_format(neonflow__run_wall_ms(r) + seconds * 1000, out, len);
}

void neonflow__swap_free(neonflow__swap *sw)
{
    neonflow__bview_free(&sw->bv);
    neonflow_snapshot_list_free(sw->snaps);
    sw->branches = NULL;
    sw->snaps = NULL;
}

/* Earliest time stamp among this run's resources wins, so names stay consistent. */
static void take_stamp(neonflow__run *r, const char *stamp, int *have)
{
    if (!*have || strcmp(stamp, r->stamp) < 0)
        snprintf(r->stamp, sizeof(r->stamp), "%s", stamp);
    *have = 1;
}

/* Finds what an earlier attempt with the same run id created for this target. */
static int discover(neonflow__run *r, neonflow__swap *sw)
{
    const char *run = r->rep->run_id;
    int have = 0;
    neonflow__name_parts p;
    for (size_t i = 0; i < neonflow_snapshot_list_count(sw->snaps); i++) {
        const neonflow_snapshot *s = neonflow_snapshot_list_at(sw->snaps, i);
        if (!neonflow__name_parse(neonflow_snapshot_name(s), &p) || strcmp(p.run_id, run) != 0 ||
            strcmp(p.target, sw->target_name) != 0)
            continue;
        if (sw->cand_kind && strcmp(p.kind, sw->cand_kind) == 0 && !sw->cand.id[0]) {
            neonflow__snapinfo_fill(&sw->cand, s);
            sw->cand_ours = 1;
            take_stamp(r, p.stamp, &have);
        } else if (sw->rb_kind && strcmp(p.kind, sw->rb_kind) == 0 && !sw->rb.id[0]) {
            neonflow__snapinfo_fill(&sw->rb, s);
            take_stamp(r, p.stamp, &have);
        }
    }
    for (size_t i = 0; i < neonflow_branch_list_count(sw->branches); i++) {
        const neonflow_branch *b = neonflow_branch_list_at(sw->branches, i);
        if (!neonflow__name_parse(neonflow_branch_name(b), &p) || strcmp(p.run_id, run) != 0 ||
            strcmp(p.target, sw->target_name) != 0)
            continue;
        /* the run id's owner was checked: a 0.1.0 "preview"/"backup" here is this workflow's */
        if (strcmp(p.kind, sw->preview_kind) == 0 || strcmp(p.kind, NEONFLOW__KIND_LEGACY_PREVIEW) == 0) {
            snprintf(BUF(sw->preview_id), "%s", neonflow_branch_id(b));
            snprintf(BUF(sw->preview_name), "%s", neonflow_branch_name(b));
            sw->preview_found = 1;
            take_stamp(r, p.stamp, &have);
        } else if (strcmp(p.kind, sw->backup_kind) == 0 || strcmp(p.kind, NEONFLOW__KIND_LEGACY_BACKUP) == 0) {
            snprintf(BUF(sw->backup_id), "%s", neonflow_branch_id(b));
            snprintf(BUF(sw->backup_name), "%s", neonflow_branch_name(b));
            const char *u = neonflow_branch_updated_at(b);
            snprintf(BUF(sw->backup_updated_at), "%s", u ? u : "");
            sw->finalized = 1;
            take_stamp(r, p.stamp, &have);
        }
    }
    return have;
}

static int build_names(neonflow__run *r, neonflow__swap *sw)
{
    const char *T = sw->target_name, *S = r->stamp, *R = r->rep->run_id;
    int bad = 0; /* names an earlier attempt used (discover) are kept */
    if (!sw->preview_name[0])
        bad |= neonflow__name_build(BUF(sw->preview_name), T, sw->preview_kind, S, R);
    if (!sw->backup_name[0])
        bad |= neonflow__name_build(BUF(sw->backup_name), T, sw->backup_kind, S, R);
    if (sw->cand_kind)
        bad |= neonflow__name_build(BUF(sw->cand_name), T, sw->cand_kind, S, R);
    if (sw->rb_kind)
        bad |= neonflow__name_build(BUF(sw->rb_name), T, sw->rb_kind, S, R);
    if (bad) {
        char shown[64];
        return neonflow__fail(r, NEONFLOW_EINVAL,
                              "the target name \"%s\" is too long for neonflow's resource names "
                              "(at most 256 bytes in all): rename the branch",
                              neonflow__echo(shown, sizeof(shown), T));
    }
    return NEONFLOW_OK;
}

static void plan_resource(neonflow_step *st, int32_t kind, int32_t action, const char *role, const char *name,
                          const char *id, const char *target, int done)
{
    if (!st)
        return;
    neonflow_resource *x = neonflow__resource_add(st, kind, action, role, name, id, target);
    (void)x;
    if (done && st->status == NEONFLOW_STEP_PLANNED)
        st->status = NEONFLOW_STEP_RESUMED;
}

static void divergence_of(neonflow__swap *sw, const neonflow_branch *dev)
{
    sw->divergence[0] = '\0';
    if (!dev)
        return;
    const char *from = neonflow_branch_restored_from(dev);
    const neonflow_snapshot *s = from ? neonflow__snapshot_by(sw->snaps, NULL, from) : NULL;
    const char *t = s ? neonflow_snapshot_timestamp(s) : NULL;
    if (s && !t)
        t = neonflow_snapshot_created_at(s);
    if (!t)
        t = neonflow_branch_created_at(dev);
    snprintf(BUF(sw->divergence), "%s", t ? t : "");
}

/* The snapshot a rollback restores: given, found from an earlier attempt, or the newest rollback point. */
static int pick_rollback_snapshot(neonflow__run *r, neonflow__swap *sw, const neonflow_branch *preview)
{
    const neonflow_snapshot *s = NULL;
    const char *from = preview ? neonflow_branch_restored_from(preview) : NULL;
    if (from && sw->restore_snapshot_id && strcmp(from, sw->restore_snapshot_id) != 0)
        return neonflow__fail(r, NEONFLOW_ERUN_MISMATCH,
                              "run id %s was first used to restore snapshot %s onto \"%s\", not %s: resume it with "
                              "the same snapshot, or start a new run with another run id",
                              r->rep->run_id, from, sw->target_name, sw->restore_snapshot_id);
    if (from)
        s = neonflow__snapshot_by(sw->snaps, NULL, from);
    else if (sw->restore_snapshot_id) {
        s = neonflow__snapshot_by(sw->snaps, NULL, sw->restore_snapshot_id);
        if (!s)
            return neonflow__fail(r, NEONFLOW_ENO_ROLLBACK, "snapshot %s does not exist in project %s",
                                  sw->restore_snapshot_id, r->project_id);
    } else {
        neonflow__name_parts p;
        for (size_t i = 0; i < neonflow_snapshot_list_count(sw->snaps); i++) {
            const neonflow_snapshot *x = neonflow_snapshot_list_at(sw->snaps, i);
            if (neonflow__name_parse(neonflow_snapshot_name(x), &p) && strcmp(p.kind, "rollback") == 0 &&
                strcmp(p.target, sw->target_name) == 0 &&
                (!s || neonflow_snapshot_created_at_ms(x) > neonflow_snapshot_created_at_ms(s)))
                s = x;
        }
        if (!s)
            return neonflow__fail(r, NEONFLOW_ENO_ROLLBACK,
                                  "no rollback point (snapshot named nf/%s/rollback/...) exists for \"%s\": "
                                  "pass a snapshot id",
                                  sw->target_name, sw->target_name);
    }
    if (!s)
        return neonflow__fail(r, NEONFLOW_ESTATE, "the snapshot %s the preview was restored from is gone", from);
    neonflow__snapinfo_fill(&sw->cand, s);
    return NEONFLOW_OK;
}

/* What the run acts on, looked up instead of listed: the branches matching
 * the target and source references and the run id (a constant number of
 * requests at any project size), and the snapshots (one request). A lease
 * re-entered just now brings the target's search along. */
static int gather(neonflow__run *r, neonflow__swap *sw)
{
    int rc = neonflow__bview_adopt(r, &sw->bv, neonflow__lease_seen_take(r), r->lease.target);
    if (rc == NEONFLOW_OK)
        rc = neonflow__bview_search(r, &sw->bv, sw->target_ref);
    if (rc == NEONFLOW_OK && sw->source_ref)
        rc = neonflow__bview_search(r, &sw->bv, sw->source_ref);
    if (rc == NEONFLOW_OK)
        rc = neonflow__bview_search(r, &sw->bv, r->rep->run_id);
    if (rc == NEONFLOW_OK)
        rc = neonflow__list_snapshots(r, &sw->snaps);
    sw->branches = sw->bv.l;
    return rc;
}

int neonflow__swap_preflight(neonflow__run *r, neonflow_step *st, void *ws)
{
    neonflow__swap *sw = ws;
    int rc = neonflow__lease_take(r, sw->target_ref, 1); /* before the lookups the run acts on */
    if (rc == NEONFLOW_OK)
        rc = gather(r, sw);
    if (rc != NEONFLOW_OK)
        return rc;
    /* the target, possibly given by the ID it had before an interrupted switch */
    const neonflow_branch *t = neonflow__branch_lookup(sw->branches, sw->target_ref);
    if (!t)
        return neonflow__fail(r, NEONFLOW_EBRANCH_MISSING, "target branch \"%s\" does not exist in project %s%s",
                              sw->target_ref, r->project_id,
                              sw->source_ref ? "" : ": pass the name or ID of the branch to roll back");
    neonflow__name_parts np;
    int by_old_id = 0;
    if (neonflow__name_parse(neonflow_branch_name(t), &np) && neonflow__kind_is_backup(np.kind) &&
        strcmp(np.kind, "undo-backup") != 0 && strcmp(np.run_id, r->rep->run_id) == 0) {
        by_old_id = 1;
        snprintf(BUF(sw->target_name), "%s", np.target);
        if ((rc = neonflow__bview_search(r, &sw->bv, sw->target_name)) != NEONFLOW_OK)
            return rc;
    } else {
        snprintf(BUF(sw->target_name), "%s", neonflow_branch_name(t));
    }
    if (!neonflow__run_dry(r) && (rc = neonflow__lease_acquire(r, sw->target_name)) != NEONFLOW_OK)
        return rc; /* the ref resolved to another name than the lease's (no-op when the same) */
    if ((rc = neonflow__run_id_prefetch(r, &sw->bv, sw->snaps)) != NEONFLOW_OK)
        return rc;
    sw->branches = sw->bv.l; /* no more searches: pointers into it stay valid from here on */
    t = by_old_id ? neonflow__branch_by_name(sw->branches, sw->target_name)
                  : neonflow__branch_lookup(sw->branches, sw->target_ref);
    if (!t)
        return neonflow__fail(r, NEONFLOW_ESTATE, "no branch is named \"%s\" any more", sw->target_name);
    /* before anything else: this run id must not belong to another workflow, target or source */
    {
        const neonflow_branch *s0 = sw->source_ref ? neonflow__branch_lookup(sw->branches, sw->source_ref) : NULL;
        rc = neonflow__run_id_claim(r, sw->branches, sw->snaps, sw->target_name, s0 ? neonflow_branch_id(s0) : NULL,
                                    sw->source_ref != NULL);
        if (rc != NEONFLOW_OK)
            return rc;
    }
    discover(r, sw);
    if (sw->finalized) {
        /* the switch already happened: the live target is the former preview */
        const char *ra = neonflow_branch_restored_as(t);
        if (!ra || strcmp(ra, sw->backup_id) != 0)
            return neonflow__fail(r, NEONFLOW_ESTATE,
                                  "run %s switched \"%s\" before, but the branch now named so (%s) did not "
                                  "replace the backup %s: inspect the project before going on",
                                  r->rep->run_id, sw->target_name, neonflow_branch_id(t), sw->backup_id);
        snprintf(BUF(sw->preview_id), "%s", neonflow_branch_id(t));
        snprintf(BUF(sw->target_id), "%s", sw->backup_id);
        r->touched = 1;
    } else {
        snprintf(BUF(sw->target_id), "%s", neonflow_branch_id(t));
        /* an earlier attempt's preview replaces the branch it was restored as
         * (restored_as), whatever is named the target now: after another run
         * replaced the target, finalizing it would rename that run's backup */
        const neonflow_branch *pv = sw->preview_found ? neonflow__branch_by_id(sw->branches, sw->preview_id) : NULL;
        const char *ra = pv ? neonflow_branch_restored_as(pv) : NULL;
        if (ra && strcmp(ra, sw->target_id) != 0)
            return neonflow__fail(r, NEONFLOW_ESTATE,
                                  "the target changed since the preview was made: run %s's preview %s (%s) was "
                                  "restored to replace %s, but \"%s\" is now %s (replaced by another run); nothing "
                                  "was changed: start a new run with another run id (and delete this run's nf/ "
                                  "preview branch and snapshots)",
                                  r->rep->run_id, sw->preview_name, sw->preview_id, ra, sw->target_name,
                                  sw->target_id);
    }
    if ((rc = build_names(r, sw)) != NEONFLOW_OK)
        return rc;
    if (neonflow_branch_parent_id(t))
        return neonflow__fail(r, NEONFLOW_ENOT_ROOT,
                              "target \"%s\" is not a root branch (its parent is %s): snapshots and restores "
                              "need root branches; create it with the setup workflow (neonflow_setup, `neonflow setup`)",
                              sw->target_name, neonflow_branch_parent_id(t));
    if (!sw->finalized && neonflow_branch_is_action_restricted(t, "restore"))
        return neonflow__fail(r, NEONFLOW_ERESTRICTED,
                              "Neon does not allow restoring onto \"%s\" right now (restricted action "
                              "\"restore\"): wait until the restriction is lifted (e.g. a finished restore "
                              "still detaching) and run again", sw->target_name);
    const neonflow_branch *src = NULL;
    if (sw->source_ref) {
        src = neonflow__branch_lookup(sw->branches, sw->source_ref);
        if (!src)
            return neonflow__fail(r, NEONFLOW_EBRANCH_MISSING,
                                  "source branch \"%s\" does not exist in project %s: create it with "
                                  "the setup workflow (neonflow_setup, `neonflow setup`) or pass the right name", sw->source_ref, r->project_id);
        if (neonflow_branch_parent_id(src))
            return neonflow__fail(r, NEONFLOW_ENOT_ROOT,
                                  "source \"%s\" is not a root branch (its parent is %s): only root branches "
                                  "can be snapshotted; create it with the setup workflow (neonflow_setup, `neonflow setup`)",
                                  neonflow_branch_name(src), neonflow_branch_parent_id(src));
        if (strcmp(neonflow_branch_id(src), neonflow_branch_id(t)) == 0 ||
            strcmp(neonflow_branch_id(src), sw->target_id) == 0)
            return neonflow__fail(r, NEONFLOW_ESAME_BRANCH,
                                  "source and target are the same branch (%s): pass two different branches",
                                  neonflow_branch_id(src));
        snprintf(BUF(sw->source_id), "%s", neonflow_branch_id(src));
        snprintf(BUF(sw->source_name), "%s", neonflow_branch_name(src));
        /* another source for this run id was refused by neonflow__run_id_claim */
    }
    int has_ep = neonflow__rw_endpoint(r, neonflow_branch_id(t), BUF(sw->ep_id), BUF(sw->ep_host));
    if (has_ep < 0)
        return has_ep;
    if (!has_ep && sw->need_endpoint)
        return neonflow__fail(r, NEONFLOW_ENO_ENDPOINT,
                              "target \"%s\" has no read-write endpoint: its connection string would not carry "
                              "over; create a read_write endpoint for it first", sw->target_name);
    if (!sw->source_ref) {
        const neonflow_branch *pv = sw->preview_id[0] ? neonflow__branch_by_id(sw->branches, sw->preview_id) : NULL;
        if ((rc = pick_rollback_snapshot(r, sw, pv)) != NEONFLOW_OK)
            return rc;
    }
    /* the lost-write window's divergence: when dev was last copied from the other side */
    divergence_of(sw, sw->cand_kind && strcmp(sw->cand_kind, "refresh") == 0 ? t : src);
    if (!neonflow__run_dry(r) && !neonflow__lease_proves_quiet(r) &&
        (rc = neonflow__wait_quiet(r, r->ro->busy_wait_ms, NEONFLOW_EBUSY)) != 0)
        return rc;

    /* the plan, with what an earlier attempt already did */
    neonflow_report *rep = r->rep;
    neonflow__report_set(rep, NEONFLOW__R_SOURCE_ID, sw->source_id);
    neonflow__report_set(rep, NEONFLOW__R_OLD_TARGET_ID, sw->target_id);
    neonflow__report_set(rep, NEONFLOW__R_ENDPOINT_ID, sw->ep_id);
    neonflow__report_set(rep, NEONFLOW__R_ENDPOINT_HOST, sw->ep_host);
    neonflow__report_set(rep, NEONFLOW__R_CANDIDATE_ID, sw->cand.id);
    neonflow__report_set(rep, NEONFLOW__R_ROLLBACK_ID, sw->rb.id);
    neonflow__report_set(rep, NEONFLOW__R_PREVIEW_ID, sw->preview_id);
    neonflow__report_set(rep, NEONFLOW__R_BACKUP_NAME, sw->backup_name);
    neonflow__report_set(rep, NEONFLOW__R_DIVERGENCE, sw->divergence);
    const char *T = sw->target_name;
    plan_resource(st, NEONFLOW_RESOURCE_BRANCH, NEONFLOW_ACTION_KEEP, "target", T, neonflow_branch_id(t), T, 0);
    if (src)
        plan_resource(st, NEONFLOW_RESOURCE_BRANCH, NEONFLOW_ACTION_KEEP, "source", sw->source_name, sw->source_id,
                      T, 0);
    if (!sw->cand_kind)
        plan_resource(st, NEONFLOW_RESOURCE_SNAPSHOT, NEONFLOW_ACTION_KEEP, "restore-from", sw->cand.name,
                      sw->cand.id, T, 0);
    plan_resource(sw->st_cand, NEONFLOW_RESOURCE_SNAPSHOT, NEONFLOW_ACTION_CREATE, sw->cand_kind, sw->cand_name,
                  sw->cand.id, T, sw->cand.id[0] != 0);
    plan_resource(sw->st_restore, NEONFLOW_RESOURCE_BRANCH, NEONFLOW_ACTION_CREATE, "preview", sw->preview_name,
                  sw->preview_id, T, sw->preview_id[0] != 0);
    if (sw->st_verify && sw->finalized)
        sw->st_verify->status = NEONFLOW_STEP_RESUMED;
    plan_resource(sw->st_rb, NEONFLOW_RESOURCE_SNAPSHOT, NEONFLOW_ACTION_CREATE, sw->rb_kind, sw->rb_name,
                  sw->rb.id, T, sw->rb.id[0] != 0);
    plan_resource(sw->st_fin, NEONFLOW_RESOURCE_BRANCH, NEONFLOW_ACTION_REPLACE, "backup", sw->backup_name,
                  sw->target_id, T, sw->finalized);
    neonflow__resource_add(sw->st_fin, NEONFLOW_RESOURCE_BRANCH, NEONFLOW_ACTION_KEEP, "target", T, sw->preview_id,
                           T);
    if (sw->ep_id[0])
        neonflow__resource_add(sw->st_fin, NEONFLOW_RESOURCE_ENDPOINT, NEONFLOW_ACTION_KEEP, "endpoint",
                               sw->ep_host, sw->ep_id, T);
    return NEONFLOW_OK;
}

int neonflow__swap_snapshot_candidate(neonflow__run *r, neonflow_step *st, void *ws)
{
    neonflow__swap *sw = ws;
    if (sw->cand.id[0])
        return NEONFLOW_OK;
    char exp[64];
    expiry(r, sw->cand_expiry_s, BUF(exp));
    int rc = neonflow__snapshot_make(r, sw->source_id, sw->cand_name, exp[0] ? exp : NULL, &sw->cand);
    if (rc != NEONFLOW_OK)
        return rc;
    sw->cand_ours = 1;
    neonflow__step_set_resource_id(st, sw->cand_kind, sw->cand.id);
    neonflow__report_set(r->rep, NEONFLOW__R_CANDIDATE_ID, sw->cand.id);
    return NEONFLOW_OK;
}

int neonflow__swap_restore(neonflow__run *r, neonflow_step *st, void *ws)
{
    neonflow__swap *sw = ws;
    if (sw->preview_id[0])
        return NEONFLOW_OK;
    int rc = neonflow__restore_make(r, sw->cand.id, sw->preview_name, sw->target_id, sw->preview_id);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__step_set_resource_id(st, "preview", sw->preview_id);
    neonflow__report_set(r->rep, NEONFLOW__R_PREVIEW_ID, sw->preview_id);
    return NEONFLOW_OK;
}

int neonflow__swap_verify(neonflow__run *r, neonflow_step *st, void *ws)
{
    neonflow__swap *sw = ws;
    if (sw->finalized)
        return NEONFLOW_OK;
    if (!sw->verify) {
        st->status = NEONFLOW_STEP_SKIPPED;
        return NEONFLOW_OK;
    }
    int vetoed;
    int rc = neonflow__call_branch_hook_ep(r, NEONFLOW_HOOK_VERIFY, sw->verify, sw->target_name, sw->preview_id,
                                           sw->vc_id[0] ? sw->vc_id : NULL, &vetoed);
    if (rc != NEONFLOW_OK)
        return rc;
    if (vetoed) {
        st->status = NEONFLOW_STEP_VETOED;
        return neonflow__fail(r, NEONFLOW_ECALLBACK, "the verify hook rejected the preview branch %s (%s)",
                              sw->preview_name, sw->preview_id);
    }
    return NEONFLOW_OK;
}

int neonflow__swap_snapshot_rollback(neonflow__run *r, neonflow_step *st, void *ws)
{
    neonflow__swap *sw = ws;
    if (sw->rb.id[0] || sw->finalized)
        return NEONFLOW_OK;
    char exp[64];
    expiry(r, sw->rb_expiry_s, BUF(exp));
    int rc = neonflow__snapshot_make(r, sw->target_id, sw->rb_name, exp[0] ? exp : NULL, &sw->rb);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__step_set_resource_id(st, sw->rb_kind, sw->rb.id);
    neonflow__report_set(r->rep, NEONFLOW__R_ROLLBACK_ID, sw->rb.id);
    return NEONFLOW_OK;
}

int neonflow__swap_finalize(neonflow__run *r, neonflow_step *st, void *ws)
{
    neonflow__swap *sw = ws;
    if (sw->finalized)
        return NEONFLOW_OK;
    int64_t done = 0;
    int rc = neonflow__target_recheck(r, sw->target_name, sw->target_id);
    if (rc == NEONFLOW_OK && sw->preview_found) /* an interrupted attempt may have left a verify compute */
        rc = neonflow__live_compute_sweep(r, sw);
    if (rc == NEONFLOW_OK)
        rc = neonflow__finalize_make(r, sw->preview_id, sw->backup_name, sw->target_name, &done);
    if (rc != NEONFLOW_OK)
        return rc;
    sw->finalized = 1;
    /* the switch is complete when the finalize's operations finished, by their
     * own timestamps; unknown (0) when they were not awaited: resolve finds them */
    sw->switch_ms = done;
    sw->switch_how = done ? "finalize-operations" : NULL;
    snprintf(BUF(sw->backup_id), "%s", sw->target_id);
    return NEONFLOW_OK;
}

int neonflow__swap_resolve(neonflow__run *r, neonflow_step *st, void *ws)
{
    neonflow__swap *sw = ws;
    neonflow_branch_list *l = NULL;
    int rc = neonflow__list_branches(r, sw->target_name, &l);
    if (rc != NEONFLOW_OK)
        return rc;
    const neonflow_branch *live = neonflow__branch_by_name(l, sw->target_name);
    const neonflow_branch *bk = neonflow__branch_by_name(l, sw->backup_name);
    if (!live || strcmp(neonflow_branch_id(live), sw->preview_id) != 0)
        rc = neonflow__fail(r, NEONFLOW_ESTATE, "after the switch the name \"%s\" points to %s, not to the "
                            "restored branch %s", sw->target_name, live ? neonflow_branch_id(live) : "no branch",
                            sw->preview_id);
    else if (!bk || strcmp(neonflow_branch_id(bk), sw->target_id) != 0)
        rc = neonflow__fail(r, NEONFLOW_ESTATE, "the replaced branch %s is not named \"%s\" after the switch",
                            sw->target_id, sw->backup_name);
    if (rc == NEONFLOW_OK && !sw->switch_ms) { /* resumed, or the finalize's answer was lost */
        const char *u = neonflow_branch_updated_at(bk);
        if (u)
            snprintf(BUF(sw->backup_updated_at), "%s", u);
        rc = neonflow__switch_time(r, sw->preview_id, sw->target_id, sw->ep_id, neonflow_branch_created_at_ms(live),
                                   sw->backup_updated_at, &sw->switch_ms, &sw->switch_how);
    }
    neonflow_branch_list_free(l);
    if (rc != NEONFLOW_OK)
        return rc;
    snprintf(BUF(sw->new_target_id), "%s", sw->preview_id);
    if (sw->ep_id[0]) {
        char id[NEONFLOW__ID_LEN] = "", host[NEONFLOW__HOST_LEN] = "";
        int has = neonflow__rw_endpoint(r, sw->new_target_id, BUF(id), BUF(host));
        if (has < 0)
            return has;
        if (!has || strcmp(id, sw->ep_id) != 0 || strcmp(host, sw->ep_host) != 0)
            return neonflow__fail(r, NEONFLOW_ESTATE,
                                  "the read-write endpoint %s (%s) did not move to the new \"%s\" (%s has %s)",
                                  sw->ep_id, sw->ep_host, sw->target_name, sw->new_target_id,
                                  has ? id : "none");
    }
    const char *names[2] = {sw->cand_kind ? sw->cand_name : NULL, sw->rb_kind ? sw->rb_name : NULL};
    const char *ids[2] = {sw->cand.id, sw->rb.id};
    if ((rc = neonflow__snapshot_dedupe(r, names, ids, 2)) != NEONFLOW_OK)
        return rc;
    neonflow_report *rep = r->rep;
    neonflow__report_set(rep, NEONFLOW__R_TARGET_ID, sw->new_target_id);
    neonflow__report_set(rep, NEONFLOW__R_BACKUP_ID, sw->backup_id);
    neonflow__report_set(rep, NEONFLOW__R_BACKUP_NAME, sw->backup_name);
    neonflow__report_set(rep, NEONFLOW__R_PREVIEW_ID, sw->preview_id);
    /* the lost-write window */
    char end[64];
    neonflow__rfc3339_format(sw->switch_ms, BUF(end));
    neonflow__report_set(rep, NEONFLOW__R_LW_START, sw->cand.ts);
    rep->lw_start_ms = sw->cand.ts_ms;
    neonflow__report_set(rep, NEONFLOW__R_LW_END, end);
    rep->lw_end_ms = sw->switch_ms;
    neonflow__report_set(rep, NEONFLOW__R_LW_END_SOURCE, sw->switch_how);
    neonflow__report_set(rep, NEONFLOW__R_LW_END_LSN, sw->rb.lsn);
    neonflow__resource_add(st, NEONFLOW_RESOURCE_BRANCH, NEONFLOW_ACTION_KEEP, "target", sw->target_name,
                           sw->new_target_id, sw->target_name);
    neonflow__resource_add(st, NEONFLOW_RESOURCE_BRANCH, NEONFLOW_ACTION_KEEP, "backup", sw->backup_name,
                           sw->backup_id, sw->target_name);
    neonflow__emit(r, NEONFLOW_EVENT_WARNING,
                   "writes made to \"%s\" after %s (the snapshot it now holds) up to the switch at %s%s%s are NOT "
                   "in the new \"%s\"; they remain on the backup branch \"%s\" (%s)",
                   sw->target_name, sw->cand.ts, end, sw->rb.lsn[0] ? ", LSN " : "", sw->rb.lsn, sw->target_name,
                   sw->backup_name, sw->backup_id);
    return NEONFLOW_OK;
}

void neonflow__swap_cleanup(neonflow__run *r, neonflow__swap *sw, char *note, size_t len)
{
    note[0] = '\0';
    if (sw->finalized)
        return;
    if (r->ro->keep_on_veto) {
        snprintf(note, len, "Kept (keep-on-veto):%s%s%s%s%s%s", sw->preview_id[0] ? " preview branch " : "",
                 sw->preview_id[0] ? sw->preview_name : "", sw->cand_ours ? " candidate snapshot " : "",
                 sw->cand_ours ? sw->cand_name : "", sw->rb.id[0] ? " snapshot " : "",
                 sw->rb.id[0] ? sw->rb_name : "");
        return;
    }
    int failed = 0;
    if (sw->preview_id[0]) {
        failed |= neonflow__branch_remove(r, sw->preview_id) != NEONFLOW_OK;
        if (sw->st_restore && sw->st_restore->status != NEONFLOW_STEP_PLANNED)
            sw->st_restore->status = NEONFLOW_STEP_UNDONE;
    }
    if (sw->rb.id[0]) {
        failed |= neonflow__snapshot_remove(r, sw->rb.id) != NEONFLOW_OK;
        if (sw->st_rb && sw->st_rb->status != NEONFLOW_STEP_PLANNED)
            sw->st_rb->status = NEONFLOW_STEP_UNDONE;
    }
    if (sw->cand_ours && sw->cand.id[0]) {
        failed |= neonflow__snapshot_remove(r, sw->cand.id) != NEONFLOW_OK;
        if (sw->st_cand && sw->st_cand->status != NEONFLOW_STEP_PLANNED)
            sw->st_cand->status = NEONFLOW_STEP_UNDONE;
    }
    snprintf(note, len, "%s", failed ? "Removing what the run created failed part way: re-run with the same run id "
                                       "or delete the nf/ resources of this run by hand."
                                     : "What the run created was removed.");
}
