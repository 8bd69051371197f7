/* neonflow_refresh (production's data replaces dev) and neonflow_rollback (a
 * snapshot replaces the target): the same restore switch as a promotion. */
#include <stdio.h>
#include <string.h>

#include "workflow-private.h"

#define BUF(x) x, sizeof(x)

typedef struct refresh_state {
    neonflow__swap sw;
    int delete_backup;
} refresh_state;

static int step_delete_backup(neonflow__run *r, neonflow_step *st, void *ws)
{
    refresh_state *rs = ws;
    if (!rs->delete_backup) {
        st->status = NEONFLOW_STEP_SKIPPED;
        return NEONFLOW_OK;
    }
    return neonflow__branch_remove(r, rs->sw.backup_id);
}

static void add_steps(neonflow_report *rep, neonflow__swap *sw, const char *what)
{
    sw->st_pre = neonflow__step_add(rep, "preflight",
                                    "resolve the branches; check roots, restrictions, running operations; find "
                                    "what an earlier attempt of this run did", 0);
    if (sw->cand_kind)
        sw->st_cand = neonflow__step_add(rep, "snapshot-source", what, 1);
    if (sw->rb_kind)
        sw->st_rb = neonflow__step_add(rep, "snapshot-pre-rollback",
                                       "snapshot the target first so the rollback can be undone", 1);
    sw->st_restore = neonflow__step_add(rep, "restore-preview",
                                        "restore the snapshot as a new branch aimed at the target (not finalized)",
                                        1);
    if (sw->verify) /* only then: plans without a hook stay as they were */
        neonflow__verify_steps(rep, sw);
    sw->st_fin = neonflow__step_add(rep, "finalize",
                                    "switch: the new branch takes the target's name and endpoints; the old target "
                                    "becomes the backup", 1);
    sw->st_resolve = neonflow__step_add(rep, "resolve-target",
                                        "find the target again by name and check its endpoint moved", 0);
}

/* Runs the swap's steps in report order (steps after them are the caller's). */
static int run_swap(neonflow__run *r, neonflow__swap *sw, void *ws)
{
    struct {
        neonflow_step *st;
        neonflow__step_fn fn;
        int dry, want; /* want: the step is in the plan (a NULL st then means out of memory) */
    } plan[] = {
        {sw->st_pre, neonflow__swap_preflight, 1, 1},
        {sw->st_cand, neonflow__swap_snapshot_candidate, 0, sw->cand_kind != NULL},
        {sw->st_rb, neonflow__swap_snapshot_rollback, 0, sw->rb_kind != NULL},
        {sw->st_restore, neonflow__swap_restore, 0, 1},
        {sw->st_vc_create, neonflow__live_compute_create, 0, sw->verify && sw->verify_compute},
        {sw->st_verify, neonflow__swap_verify, 0, sw->verify != NULL},
        {sw->st_vc_delete, neonflow__live_compute_delete, 0, sw->verify && sw->verify_compute},
        {sw->st_fin, neonflow__swap_finalize, 0, 1},
        {sw->st_resolve, neonflow__swap_resolve, 0, 1},
    };
    int rc = NEONFLOW_OK;
    for (size_t i = 0; i < sizeof(plan) / sizeof(plan[0]) && rc == NEONFLOW_OK; i++)
        if (plan[i].want)
            rc = neonflow__run_step(r, plan[i].st, plan[i].fn, ws, plan[i].dry);
    if (rc != NEONFLOW_OK)
        neonflow__live_compute_release(r, sw);
    return rc;
}

NEONFLOW_API int neonflow_refresh(neonflow_report **out, neonflow_client *client, const neonflow_run_options *run,
                                  const neonflow_refresh_options *opts, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    if (out)
        *out = NULL;
    neonflow__run r;
    int rc = neonflow__run_begin(&r, client, run, NEONFLOW_WORKFLOW_REFRESH, err);
    if (rc != NEONFLOW_OK)
        return rc;
    refresh_state rs;
    memset(&rs, 0, sizeof(rs));
    neonflow__swap *sw = &rs.sw;
    sw->source_ref = opts && opts->source ? opts->source : "production";
    sw->target_ref = opts && opts->target ? opts->target : "dev";
    sw->cand_kind = "refresh";
    sw->preview_kind = "refresh-preview";
    sw->backup_kind = "refresh-backup";
    sw->cand_expiry_s = 7LL * 24 * 3600;
    rs.delete_backup = opts ? opts->delete_backup : 0;
    sw->verify = opts ? opts->verify_hook : NULL;
    sw->verify_compute = opts ? opts->verify_compute : 0;
    add_steps(r.rep, sw, "snapshot the source");
    neonflow_step *st_del = neonflow__step_add(r.rep, "delete-backup", "delete the replaced target", 1);
    rc = run_swap(&r, sw, &rs);
    if (rc == NEONFLOW_OK) {
        neonflow__resource_add(st_del, NEONFLOW_RESOURCE_BRANCH, NEONFLOW_ACTION_DELETE, "backup", sw->backup_name,
                               sw->backup_id[0] ? sw->backup_id : sw->target_id, sw->target_name);
        rc = neonflow__run_step(&r, st_del, step_delete_backup, &rs, 0);
    }
    char note[2048] = "";
    if (rc == NEONFLOW_ECALLBACK && !sw->finalized && !r.interrupted)
        neonflow__swap_cleanup(&r, sw, BUF(note));
    else if (rc == NEONFLOW_OK && !r.rep->dry_run)
        snprintf(note, sizeof(note), "\"%s\" (%s) now holds \"%s\"'s data as of %s; its previous state %s.",
                 sw->target_name, sw->new_target_id, sw->source_name, sw->cand.ts,
                 rs.delete_backup ? "was deleted" : "is kept on the backup branch");
    if (rc == NEONFLOW_OK && !r.rep->dry_run && !rs.delete_backup)
        snprintf(note + strlen(note), sizeof(note) - strlen(note), " Backup: \"%s\" (%s).", sw->backup_name,
                 sw->backup_id);
    neonflow__swap_free(sw);
    return neonflow__run_end(&r, rc, note[0] ? note : NULL, out, err);
}

NEONFLOW_API int neonflow_rollback(neonflow_report **out, neonflow_client *client, const neonflow_run_options *run,
                                   const neonflow_rollback_options *opts, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    if (out)
        *out = NULL;
    neonflow__run r;
    int rc = neonflow__run_begin(&r, client, run, NEONFLOW_WORKFLOW_ROLLBACK, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__swap sw;
    memset(&sw, 0, sizeof(sw));
    sw.target_ref = opts && opts->target ? opts->target : "production";
    sw.restore_snapshot_id = opts ? opts->snapshot_id : NULL;
    sw.rb_kind = !opts || opts->snapshot_first ? "pre-rollback" : NULL;
    sw.preview_kind = "rollback-preview";
    sw.backup_kind = "rollback-backup";
    sw.rb_expiry_s = 30LL * 24 * 3600;
    add_steps(r.rep, &sw, NULL);
    rc = run_swap(&r, &sw, &sw);
    char note[2048] = "";
    if (rc == NEONFLOW_ECALLBACK && !sw.finalized && !r.interrupted) {
        sw.cand_ours = 0; /* the restored snapshot is not the run's to delete */
        neonflow__swap_cleanup(&r, &sw, BUF(note));
    } else if (rc == NEONFLOW_OK && !r.rep->dry_run) {
        snprintf(note, sizeof(note), "\"%s\" (%s) holds snapshot %s (%s) again; the replaced state is kept on \"%s\" "
                 "(%s)%s%s.", sw.target_name, sw.new_target_id, sw.cand.id, sw.cand.ts, sw.backup_name,
                 sw.backup_id, sw.rb.id[0] ? " and in snapshot " : "", sw.rb.id);
    }
    neonflow__swap_free(&sw);
    return neonflow__run_end(&r, rc, note[0] ? note : NULL, out, err);
}
