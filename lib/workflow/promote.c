/* neonflow_promote: the source (dev) replaces the target (production) through
 * a snapshot restore; the target keeps its name and endpoint. */
#include <stdio.h>
#include <string.h>

#include "workflow-private.h"

#define BUF(x) x, sizeof(x)

typedef struct promote_state {
    neonflow__swap sw;
    const neonflow_promote_options *o;
    /* automatic rollback after an after-switch veto */
    char undo_preview_name[NEONFLOW__NAME_MAX + 1], undo_backup_name[NEONFLOW__NAME_MAX + 1];
    char undo_preview_id[NEONFLOW__ID_LEN];
} promote_state;

static int step_after_switch(neonflow__run *r, neonflow_step *st, void *ws)
{
    promote_state *ps = ws;
    if (!ps->sw.after_switch) {
        st->status = NEONFLOW_STEP_SKIPPED;
        return NEONFLOW_OK;
    }
    int vetoed;
    int rc = neonflow__call_branch_hook(r, NEONFLOW_HOOK_AFTER_SWITCH, ps->sw.after_switch, ps->sw.target_name,
                                        ps->sw.new_target_id, &vetoed);
    if (rc != NEONFLOW_OK)
        return rc;
    if (vetoed) {
        st->status = NEONFLOW_STEP_VETOED;
        return neonflow__fail(r, NEONFLOW_ECALLBACK, "the after-switch hook rejected the new \"%s\" (%s)",
                              ps->sw.target_name, ps->sw.new_target_id);
    }
    return NEONFLOW_OK;
}

static int step_undo_restore(neonflow__run *r, neonflow_step *st, void *ws)
{
    promote_state *ps = ws;
    int rc = neonflow__restore_make(r, ps->sw.rb.id, ps->undo_preview_name, ps->sw.new_target_id,
                                    ps->undo_preview_id);
    if (rc == NEONFLOW_OK)
        neonflow__step_set_resource_id(st, "undo-preview", ps->undo_preview_id);
    return rc;
}

static int step_undo_finalize(neonflow__run *r, neonflow_step *st, void *ws)
{
    promote_state *ps = ws;
    int rc = neonflow__finalize_make(r, ps->undo_preview_id, ps->undo_backup_name, ps->sw.target_name, NULL);
    if (rc == NEONFLOW_OK)
        neonflow__step_set_resource_id(st, "undo-backup", ps->sw.new_target_id);
    return rc;
}

static int step_undo_resolve(neonflow__run *r, neonflow_step *st, void *ws)
{
    promote_state *ps = ws;
    neonflow_branch_list *l = NULL;
    int rc = neonflow__list_branches(r, ps->sw.target_name, &l);
    if (rc != NEONFLOW_OK)
        return rc;
    const neonflow_branch *live = neonflow__branch_by_name(l, ps->sw.target_name);
    if (!live || strcmp(neonflow_branch_id(live), ps->undo_preview_id) != 0)
        rc = neonflow__fail(r, NEONFLOW_ESTATE, "after the automatic rollback \"%s\" is %s, not %s",
                            ps->sw.target_name, live ? neonflow_branch_id(live) : "missing", ps->undo_preview_id);
    neonflow_branch_list_free(l);
    if (rc == NEONFLOW_OK)
        neonflow__report_set(r->rep, NEONFLOW__R_TARGET_ID, ps->undo_preview_id);
    return rc;
}

/* After-switch veto with auto-rollback: restore the rollback snapshot onto the new target. */
static int auto_rollback(neonflow__run *r, promote_state *ps, char *note, size_t len)
{
    neonflow__swap *sw = &ps->sw;
    if (!sw->rb.id[0]) {
        snprintf(note, len, "No rollback snapshot is known, so nothing was rolled back.");
        return NEONFLOW_ESTATE;
    }
    const char *T = sw->target_name, *S = r->stamp, *R = r->rep->run_id;
    if (neonflow__name_build(BUF(ps->undo_preview_name), T, "undo-preview", S, R) ||
        neonflow__name_build(BUF(ps->undo_backup_name), T, "undo-backup", S, R)) {
        snprintf(note, len, "The target name is too long for the automatic rollback's names.");
        return NEONFLOW_EINVAL;
    }
    neonflow_step *a = neonflow__step_add(r->rep, "auto-rollback-restore",
                                          "restore the rollback snapshot as a new branch aimed at the target", 1);
    neonflow_step *b = neonflow__step_add(r->rep, "auto-rollback-finalize",
                                          "switch the target back to the rollback snapshot", 1);
    neonflow_step *c = neonflow__step_add(r->rep, "auto-rollback-resolve", "find the target again by name", 0);
    if (!a || !b || !c)
        return NEONFLOW_ENOMEM;
    neonflow__resource_add(a, NEONFLOW_RESOURCE_BRANCH, NEONFLOW_ACTION_CREATE, "undo-preview",
                           ps->undo_preview_name, NULL, T);
    neonflow__resource_add(b, NEONFLOW_RESOURCE_BRANCH, NEONFLOW_ACTION_REPLACE, "undo-backup",
                           ps->undo_backup_name, sw->new_target_id, T);
    int rc = neonflow__run_step(r, a, step_undo_restore, ps, 0);
    if (rc == NEONFLOW_OK)
        rc = neonflow__run_step(r, b, step_undo_finalize, ps, 0);
    if (rc == NEONFLOW_OK)
        rc = neonflow__run_step(r, c, step_undo_resolve, ps, 0);
    if (rc == NEONFLOW_OK)
        snprintf(note, len,
                 "Rolled back automatically: \"%s\" holds the rollback snapshot %s again (branch %s); the promoted "
                 "data is kept on \"%s\" (%s).",
                 T, sw->rb.id, ps->undo_preview_id, ps->undo_backup_name, sw->new_target_id);
    else
        snprintf(note, len, "The automatic rollback failed: roll back with neonflow_rollback (snapshot %s).",
                 sw->rb.id);
    return rc;
}

NEONFLOW_API int neonflow_promote(neonflow_report **out, neonflow_client *client, const neonflow_run_options *run,
                                  const neonflow_promote_options *opts, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    if (out)
        *out = NULL;
    neonflow__run r;
    int rc = neonflow__run_begin(&r, client, run, NEONFLOW_WORKFLOW_PROMOTE, err);
    if (rc != NEONFLOW_OK)
        return rc;
    promote_state ps;
    memset(&ps, 0, sizeof(ps));
    neonflow__swap *sw = &ps.sw;
    ps.o = opts;
    sw->source_ref = opts && opts->source ? opts->source : "dev";
    sw->target_ref = opts && opts->target ? opts->target : "production";
    sw->cand_kind = "candidate";
    sw->rb_kind = "rollback";
    sw->preview_kind = "promote-preview";
    sw->backup_kind = "promote-backup";
    sw->need_endpoint = 1;
    sw->cand_expiry_s = opts ? opts->candidate_expiry_s : 7LL * 24 * 3600;
    sw->rb_expiry_s = opts ? opts->rollback_expiry_s : 30LL * 24 * 3600;
    sw->verify = opts ? opts->verify_hook : NULL;
    sw->after_switch = opts ? opts->after_switch_hook : NULL;
    sw->verify_compute = opts ? opts->verify_compute : 0;
    neonflow_report *rep = r.rep;
    sw->st_pre = neonflow__step_add(rep, "preflight",
                                    "resolve source and target; check roots, endpoint, restrictions, running "
                                    "operations; find what an earlier attempt of this run did", 0);
    sw->st_cand = neonflow__step_add(rep, "snapshot-candidate", "snapshot the source (the candidate)", 1);
    sw->st_restore = neonflow__step_add(rep, "restore-preview",
                                        "restore the candidate as a new branch aimed at the target (not "
                                        "finalized)", 1);
    neonflow__verify_steps(rep, sw);
    sw->st_rb = neonflow__step_add(rep, "snapshot-rollback", "snapshot the target (the rollback point)", 1);
    sw->st_fin = neonflow__step_add(rep, "finalize",
                                    "switch: the preview takes the target's name and endpoint; the old target "
                                    "becomes the backup", 1);
    sw->st_resolve = neonflow__step_add(rep, "resolve-target",
                                        "find the target again by name and check its endpoint moved", 0);
    neonflow_step *st_after = neonflow__step_add(rep, "after-switch", "call the after-switch hook on the new target", 0);
    struct {
        neonflow_step *st;
        neonflow__step_fn fn;
        int dry, want; /* want: the step is in the plan (a NULL st then means out of memory) */
    } plan[] = {
        {sw->st_pre, neonflow__swap_preflight, 1, 1},
        {sw->st_cand, neonflow__swap_snapshot_candidate, 0, 1},
        {sw->st_restore, neonflow__swap_restore, 0, 1},
        {sw->st_vc_create, neonflow__live_compute_create, 0, sw->verify_compute},
        {sw->st_verify, neonflow__swap_verify, 0, 1},
        {sw->st_vc_delete, neonflow__live_compute_delete, 0, sw->verify_compute},
        {sw->st_rb, neonflow__swap_snapshot_rollback, 0, 1},
        {sw->st_fin, neonflow__swap_finalize, 0, 1},
        {sw->st_resolve, neonflow__swap_resolve, 0, 1},
        {st_after, step_after_switch, 0, 1},
    };
    char note[2048] = "";
    for (size_t i = 0; i < sizeof(plan) / sizeof(plan[0]) && rc == NEONFLOW_OK; i++)
        if (plan[i].want)
            rc = neonflow__run_step(&r, plan[i].st, plan[i].fn, &ps, plan[i].dry);
    if (rc != NEONFLOW_OK)
        neonflow__live_compute_release(&r, sw);
    if (rc == NEONFLOW_ECALLBACK && !sw->finalized && !r.interrupted) {
        neonflow__swap_cleanup(&r, sw, BUF(note));
    } else if (rc == NEONFLOW_ECALLBACK && st_after && st_after->status == NEONFLOW_STEP_VETOED) {
        if (opts && opts->auto_rollback) {
            int urc = auto_rollback(&r, &ps, BUF(note));
            if (urc != NEONFLOW_OK && urc != NEONFLOW_ECALLBACK)
                rc = urc;
        } else {
            snprintf(note, sizeof(note),
                     "The switch stays in place; roll back with neonflow_rollback (rollback snapshot %s).",
                     sw->rb.id);
        }
    } else if (rc == NEONFLOW_OK && !rep->dry_run) {
        snprintf(note, sizeof(note),
                 "\"%s\" (%s) now holds \"%s\"'s data; the old target is the backup branch \"%s\" (%s); "
                 "rollback snapshot %s. Writes made to \"%s\" after %s are not in it (they stay on the backup).",
                 sw->target_name, sw->new_target_id, sw->source_name, sw->backup_name, sw->backup_id, sw->rb.id,
                 sw->target_name, sw->cand.ts);
    }
    neonflow__swap_free(sw);
    return neonflow__run_end(&r, rc, note[0] ? note : NULL, out, err);
}
