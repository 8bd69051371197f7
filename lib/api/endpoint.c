/* Endpoint calls. */
#include "api-private.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/scrub.h"

static int check(const void *out, neonflow_client *c, const char *project_id, neonflow_error **err)
{
    if (!out)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "out must not be NULL");
    if (!c)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "client must not be NULL");
    return neonflow__id_check("project_id", project_id, err);
}

int neonflow__endpoints_list_ctx(neonflow_endpoint_list **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                 const char *project_id, const char *branch_id, neonflow_error **err)
{
    if (out)
        *out = NULL;
    int rc = check(out, c, project_id, err);
    if (rc == NEONFLOW_OK && branch_id)
        rc = neonflow__id_check("branch_id", branch_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__sb b = {0};
    neonflow__sb_add(&b, "/projects/");
    neonflow__sb_add_enc(&b, project_id);
    if (branch_id) {
        neonflow__sb_add(&b, "/branches/");
        neonflow__sb_add_enc(&b, branch_id);
    }
    neonflow__sb_add(&b, "/endpoints");
    char *path = neonflow__sb_take(&b);
    json_t *root;
    rc = neonflow__api_call(c, ctx, "GET", path,
                            branch_id ? "/projects/{project_id}/branches/{branch_id}/endpoints"
                                      : "/projects/{project_id}/endpoints",
                            NULL, &root, NULL, err);
    neonflow__free(path);
    if (rc != NEONFLOW_OK)
        return rc;
    rc = neonflow__parse_endpoints_response(root, out, err);
    json_decref(root);
    return rc;
}

NEONFLOW_API int neonflow_endpoints_list(neonflow_endpoint_list **out, neonflow_client *client,
                                         const char *project_id,
                                         const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client, neonflow__endpoints_list_ctx(out, client, ctx, project_id, NULL, err), err);
}

NEONFLOW_API int neonflow_endpoints_list_for_branch(neonflow_endpoint_list **out, neonflow_client *client,
                                                    const char *project_id, const char *branch_id,
                                                    const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    if (out)
        *out = NULL;
    int rc = neonflow__id_check("branch_id", branch_id, err);
    if (rc != NEONFLOW_OK)
        return neonflow__client_errors(client, rc, err);
    return neonflow__client_errors(
        client, neonflow__endpoints_list_ctx(out, client, ctx, project_id, branch_id, err), err);
}

int neonflow__endpoint_get_ctx(neonflow_endpoint **out, neonflow_client *c, neonflow__call_ctx *ctx,
                               const char *project_id, const char *endpoint_id, neonflow_error **err)
{
    if (out)
        *out = NULL;
    int rc = check(out, c, project_id, err);
    if (rc == NEONFLOW_OK)
        rc = neonflow__id_check("endpoint_id", endpoint_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__sb b = {0};
    neonflow__sb_add(&b, "/projects/");
    neonflow__sb_add_enc(&b, project_id);
    neonflow__sb_add(&b, "/endpoints/");
    neonflow__sb_add_enc(&b, endpoint_id);
    char *path = neonflow__sb_take(&b);
    json_t *root;
    rc = neonflow__api_call(c, ctx, "GET", path, "/projects/{project_id}/endpoints/{endpoint_id}", NULL, &root, NULL,
                            err);
    neonflow__free(path);
    if (rc != NEONFLOW_OK)
        return rc;
    rc = neonflow__parse_endpoint_response(root, out, NULL, err);
    json_decref(root);
    return rc;
}

NEONFLOW_API int neonflow_endpoint_get(neonflow_endpoint **out, neonflow_client *client, const char *project_id,
                                       const char *endpoint_id, const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client, neonflow__endpoint_get_ctx(out, client, ctx, project_id, endpoint_id, err), err);
}

int neonflow__endpoint_create_ctx(neonflow_endpoint **out, neonflow_operation_list **ops_out, neonflow_client *c,
                                  neonflow__call_ctx *ctx, const char *project_id, const char *branch_id,
                                  const neonflow_endpoint_create_options *opts, neonflow_error **err)
{
    if (out)
        *out = NULL;
    if (ops_out)
        *ops_out = NULL;
    int rc = check(out, c, project_id, err);
    if (rc == NEONFLOW_OK)
        rc = neonflow__id_check("branch_id", branch_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    if (opts && opts->min_cu > 0 && opts->max_cu > 0 && opts->min_cu > opts->max_cu)
        return neonflow__error_set(err, NEONFLOW_EINVAL,
                                   "autoscaling_limit_min_cu %g exceeds autoscaling_limit_max_cu %g", opts->min_cu,
                                   opts->max_cu);
    json_t *body = neonflow__endpoint_create_body(branch_id, opts);
    if (!body)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    neonflow__sb b = {0};
    neonflow__sb_add(&b, "/projects/");
    neonflow__sb_add_enc(&b, project_id);
    neonflow__sb_add(&b, "/endpoints");
    char *path = neonflow__sb_take(&b);
    json_t *root;
    rc = neonflow__api_call(c, ctx, "POST", path, "/projects/{project_id}/endpoints", body, &root, NULL, err);
    neonflow__free(path);
    json_decref(body);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow_operation_list *ops = NULL;
    rc = neonflow__parse_endpoint_response(root, out, &ops, err);
    json_decref(root);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__ops_hand_out(ops_out, ops);
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_endpoint_create(neonflow_endpoint **out, neonflow_operation_list **ops_out,
                                          neonflow_client *client, const char *project_id, const char *branch_id,
                                          const neonflow_endpoint_create_options *opts,
                                          const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(client,
                                   neonflow__endpoint_create_ctx(out, ops_out, client,
                                                                 ctx, project_id, branch_id, opts, err),
                                   err);
}
