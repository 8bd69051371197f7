/* Backup schedule calls. */
#include "api-private.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/scrub.h"

static char *schedule_path(const char *project_id, const char *branch_id)
{
    neonflow__sb b = {0};
    neonflow__sb_add(&b, "/projects/");
    neonflow__sb_add_enc(&b, project_id);
    neonflow__sb_add(&b, "/branches/");
    neonflow__sb_add_enc(&b, branch_id);
    neonflow__sb_add(&b, "/backup_schedule");
    return neonflow__sb_take(&b);
}

static int check(neonflow_client *c, const char *project_id, const char *branch_id, neonflow_error **err)
{
    if (!c)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "client must not be NULL");
    int rc = neonflow__id_check("project_id", project_id, err);
    return rc == NEONFLOW_OK ? neonflow__id_check("branch_id", branch_id, err) : rc;
}

#define ROUTE "/projects/{project_id}/branches/{branch_id}/backup_schedule"

int neonflow__backup_schedule_get_ctx(neonflow_backup_schedule **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                      const char *project_id, const char *branch_id, neonflow_error **err)
{
    if (out)
        *out = NULL;
    if (!out)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "out must not be NULL");
    int rc = check(c, project_id, branch_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    char *path = schedule_path(project_id, branch_id);
    json_t *root;
    rc = neonflow__api_call(c, ctx, "GET", path, ROUTE, NULL, &root, NULL, err);
    neonflow__free(path);
    if (rc != NEONFLOW_OK)
        return rc;
    rc = neonflow__parse_schedule_response(root, out, err);
    json_decref(root);
    return rc;
}

NEONFLOW_API int neonflow_branch_backup_schedule_get(neonflow_backup_schedule **out, neonflow_client *client,
                                                     const char *project_id, const char *branch_id,
                                                     const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client, neonflow__backup_schedule_get_ctx(out, client, ctx, project_id, branch_id, err),
        err);
}

int neonflow__backup_schedule_set_ctx(neonflow_client *c, neonflow__call_ctx *ctx, const char *project_id,
                                      const char *branch_id, const neonflow_backup_schedule *sched,
                                      neonflow_error **err)
{
    int rc = check(c, project_id, branch_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    if (!sched)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "schedule must not be NULL");
    neonflow__body_begin();
    json_t *body = neonflow__schedule_to_json(sched);
    if (!body)
        return neonflow__body_error(err, "schedule frequency is not valid UTF-8");
    char *path = schedule_path(project_id, branch_id);
    json_t *root;
    rc = neonflow__api_call(c, ctx, "PUT", path, ROUTE, body, &root, NULL, err);
    neonflow__free(path);
    json_decref(body);
    json_decref(root);
    return rc;
}

NEONFLOW_API int neonflow_branch_backup_schedule_set(neonflow_client *client, const char *project_id,
                                                     const char *branch_id, const neonflow_backup_schedule *sched,
                                                     const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client, neonflow__backup_schedule_set_ctx(client, ctx, project_id, branch_id, sched, err),
        err);
}
