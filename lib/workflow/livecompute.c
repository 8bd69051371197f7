/* Verify on a live compute: before the verify hook runs, the restored
 * preview gets a temporary read-write endpoint (so the hook can run SQL
 * against it through its host and connection URI); it is deleted before
 * the switch, which needs the preview without one (a branch has one
 * read-write endpoint, and the target's own moves onto it), after a veto or
 * failure, and by a resumed run that finds it left behind. Its name,
 * nf-verify-<run id> (Neon allows 64 bytes for endpoint names, too few for
 * the nf/<target>/... scheme), is how a resumed run finds it. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "workflow-private.h"

#define MAX_ATTEMPTS 4

static void vc_name(const neonflow__run *r, char *out, size_t len)
{
    snprintf(out, len, "nf-verify-%s", r->rep->run_id);
}

void neonflow__verify_steps(neonflow_report *rep, neonflow__swap *sw)
{
    if (sw->verify_compute)
        sw->st_vc_create = neonflow__step_add(rep, "verify-compute",
                                              "give the preview a temporary read-write endpoint for the verify "
                                              "hook", 1);
    sw->st_verify = neonflow__step_add(rep, "verify", "call the verify hook on the preview branch", 0);
    if (sw->verify_compute)
        sw->st_vc_delete = neonflow__step_add(rep, "verify-compute-delete",
                                              "delete the preview's temporary endpoint before the switch", 1);
}

/* 1 and id set when branch_id has the run's endpoint, 0 when not, <0 on error (recorded). */
static int vc_find(neonflow__run *r, const char *branch_id, char id[NEONFLOW__ID_LEN])
{
    char name[64];
    vc_name(r, name, sizeof(name));
    neonflow_endpoint_list *l = NULL;
    neonflow_error *e = NULL;
    int rc = neonflow__endpoints_list_ctx(&l, r->c, &r->ctx, r->project_id, branch_id, &e);
    if (rc == NEONFLOW_ENOTFOUND) { /* the preview itself is gone: nothing left on it */
        neonflow_error_free(e);
        return 0;
    }
    if (rc != NEONFLOW_OK)
        return neonflow__fail_with(r, &e, rc);
    int found = 0;
    for (size_t i = 0; i < neonflow_endpoint_list_count(l) && !found; i++) {
        const neonflow_endpoint *ep = neonflow_endpoint_list_at(l, i);
        const char *n = neonflow_endpoint_name(ep);
        if (n && strcmp(n, name) == 0 && strcmp(neonflow_endpoint_branch_id(ep), branch_id) == 0) {
            snprintf(id, NEONFLOW__ID_LEN, "%s", neonflow_endpoint_id(ep));
            found = 1;
        }
    }
    neonflow_endpoint_list_free(l);
    return found;
}

/* DELETE /projects/{p}/endpoints/{id}; 204 or 404 (already gone) count as done. */
static int vc_delete_call(neonflow__run *r, const char *id, neonflow_operation_list **ops, neonflow_error **e)
{
    *ops = NULL;
    neonflow__sb b = {0};
    neonflow__sb_add(&b, "/projects/");
    neonflow__sb_add_enc(&b, r->project_id);
    neonflow__sb_add(&b, "/endpoints/");
    neonflow__sb_add_enc(&b, id);
    char *path = neonflow__sb_take(&b);
    json_t *root = NULL;
    int32_t status = 0;
    int rc = neonflow__api_call(r->c, &r->ctx, "DELETE", path, "/projects/{project_id}/endpoints/{endpoint_id}",
                                NULL, &root, &status, e);
    neonflow__free(path);
    if (rc == NEONFLOW_OK && status != 204 && root)
        rc = neonflow__parse_operations_response(root, 0, ops, e);
    json_decref(root);
    return rc;
}

static int vc_delete(neonflow__run *r, const char *id)
{
    if (!neonflow__id_valid(id))
        return neonflow__fail(r, NEONFLOW_EPROTOCOL, "malformed endpoint id");
    for (int attempt = 0;; attempt++) {
        neonflow_operation_list *ops = NULL;
        neonflow_error *e = NULL;
        int rc = vc_delete_call(r, id, &ops, &e);
        if (rc == NEONFLOW_OK || rc == NEONFLOW_ENOTFOUND) {
            neonflow_error_free(e);
            rc = neonflow__wait_ops(r, ops);
            neonflow_operation_list_free(ops);
            return rc;
        }
        /* a DELETE is safe to replay: retry what may pass later */
        int again = rc == NEONFLOW_ELOCKED || rc == NEONFLOW_ERATELIMIT || rc == NEONFLOW_EUNCERTAIN ||
                    rc == NEONFLOW_ESERVER || rc == NEONFLOW_ETRANSPORT || rc == NEONFLOW_ENETTIMEOUT ||
                    rc == NEONFLOW_ECONNECT;
        if (!again || attempt + 1 >= MAX_ATTEMPTS)
            return neonflow__fail_with(r, &e, rc);
        neonflow_error_free(e);
        if ((rc = neonflow__wait_quiet(r, r->ro->busy_wait_ms, NEONFLOW_EBUSY)) != NEONFLOW_OK)
            return rc;
    }
}

/* Creates the endpoint; a lost answer or a conflict is settled by reading back. */
static int vc_create(neonflow__run *r, neonflow__swap *sw, const char *name)
{
    neonflow_endpoint_create_options *o = NULL;
    int rc = neonflow_endpoint_create_options_new(&o);
    if (rc == NEONFLOW_OK)
        rc = neonflow_endpoint_create_options_set_name(o, name);
    if (rc != NEONFLOW_OK) {
        neonflow_endpoint_create_options_free(o);
        return neonflow__fail(r, rc, "cannot build the endpoint request");
    }
    neonflow_endpoint *ep = NULL;
    neonflow_operation_list *ops = NULL;
    neonflow_error *e = NULL;
    rc = neonflow__endpoint_create_ctx(&ep, &ops, r->c, &r->ctx, r->project_id, sw->preview_id, o, &e);
    neonflow_endpoint_create_options_free(o);
    if (rc == NEONFLOW_OK) {
        snprintf(sw->vc_id, sizeof(sw->vc_id), "%s", neonflow_endpoint_id(ep));
        neonflow_endpoint_free(ep);
        rc = neonflow__wait_ops(r, ops);
        neonflow_operation_list_free(ops);
        return rc;
    }
    if (rc == NEONFLOW_EUNCERTAIN || rc == NEONFLOW_ECONFLICT) {
        int f = vc_find(r, sw->preview_id, sw->vc_id);
        if (f > 0) {
            neonflow_error_free(e);
            return NEONFLOW_OK;
        }
        if (f < 0) {
            neonflow_error_free(e);
            return f;
        }
    }
    return neonflow__fail_with(r, &e, rc);
}

int neonflow__live_compute_create(neonflow__run *r, neonflow_step *st, void *ws)
{
    neonflow__swap *sw = ws;
    if (sw->finalized) {
        st->status = NEONFLOW_STEP_RESUMED;
        return NEONFLOW_OK;
    }
    if (!sw->verify) { /* nothing would use it */
        st->status = NEONFLOW_STEP_SKIPPED;
        return NEONFLOW_OK;
    }
    char name[64];
    vc_name(r, name, sizeof(name));
    /* one left by an interrupted attempt is reused (a fresh preview has none) */
    int f = sw->preview_found ? vc_find(r, sw->preview_id, sw->vc_id) : 0;
    if (f < 0)
        return f;
    int rc = f ? NEONFLOW_OK : vc_create(r, sw, name);
    if (rc != NEONFLOW_OK)
        return rc;
    sw->vc_swept = 0;
    neonflow__resource_add(st, NEONFLOW_RESOURCE_ENDPOINT, NEONFLOW_ACTION_CREATE, "verify-compute", name, sw->vc_id,
                           sw->target_name);
    return NEONFLOW_OK;
}

int neonflow__live_compute_delete(neonflow__run *r, neonflow_step *st, void *ws)
{
    neonflow__swap *sw = ws;
    if (sw->finalized) {
        st->status = NEONFLOW_STEP_RESUMED;
        return NEONFLOW_OK;
    }
    if (!sw->vc_id[0]) {
        int f = sw->preview_found ? vc_find(r, sw->preview_id, sw->vc_id) : 0;
        if (f < 0)
            return f;
        if (!f) {
            sw->vc_swept = 1;
            st->status = NEONFLOW_STEP_SKIPPED;
            return NEONFLOW_OK;
        }
    }
    char name[64];
    vc_name(r, name, sizeof(name));
    neonflow__resource_add(st, NEONFLOW_RESOURCE_ENDPOINT, NEONFLOW_ACTION_DELETE, "verify-compute", name, sw->vc_id,
                           sw->target_name);
    int rc = vc_delete(r, sw->vc_id);
    if (rc != NEONFLOW_OK)
        return rc;
    sw->vc_id[0] = '\0';
    sw->vc_swept = 1;
    return NEONFLOW_OK;
}

void neonflow__live_compute_release(neonflow__run *r, neonflow__swap *sw)
{
    if (!sw->vc_id[0] || r->interrupted || sw->finalized)
        return;
    /* the run may have stopped on its deadline or cancel token: this call
     * must still go out, so it runs on a context of its own */
    neonflow__call_ctx saved = r->ctx;
    r->ctx.cancel = NULL;
    r->ctx.cancel2 = NULL;
    r->ctx.deadline_ms = 0;
    neonflow_operation_list *ops = NULL;
    neonflow_error *e = NULL;
    int rc = vc_delete_call(r, sw->vc_id, &ops, &e);
    neonflow_operation_list_free(ops); /* not awaited: the preview goes next or stays for a resume */
    int64_t calls = r->ctx.calls, retries = r->ctx.retries;
    r->ctx = saved;
    r->ctx.calls = calls;
    r->ctx.retries = retries;
    if (rc == NEONFLOW_OK || rc == NEONFLOW_ENOTFOUND) {
        if (sw->st_vc_create && sw->st_vc_create->status == NEONFLOW_STEP_DONE)
            sw->st_vc_create->status = NEONFLOW_STEP_UNDONE;
        sw->vc_id[0] = '\0';
        sw->vc_swept = 1;
    } else {
        neonflow__emit(r, NEONFLOW_EVENT_WARNING,
                       "could not delete the preview's temporary endpoint %s (%s): a run resumed with the same "
                       "run id deletes it, and so does deleting the preview branch",
                       sw->vc_id, neonflow_error_name(rc));
    }
    neonflow_error_free(e);
}

int neonflow__live_compute_sweep(neonflow__run *r, neonflow__swap *sw)
{
    if (sw->vc_swept || sw->finalized || !sw->preview_id[0])
        return NEONFLOW_OK;
    if (!sw->vc_id[0]) {
        int f = vc_find(r, sw->preview_id, sw->vc_id);
        if (f <= 0) {
            sw->vc_swept = f == 0;
            return f;
        }
    }
    neonflow__emit(r, NEONFLOW_EVENT_WARNING, "deleting the temporary endpoint %s an earlier attempt of run %s "
                   "left on the preview", sw->vc_id, r->rep->run_id);
    int rc = vc_delete(r, sw->vc_id);
    if (rc == NEONFLOW_OK) {
        sw->vc_id[0] = '\0';
        sw->vc_swept = 1;
    }
    return rc;
}
