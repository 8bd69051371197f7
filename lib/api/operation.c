/* Operation calls: get one, list one page. */
#include <stdio.h>

#include "api-private.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/scrub.h"

int neonflow__operation_get_ctx(neonflow_operation **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                const char *project_id, const char *operation_id, neonflow_error **err)
{
    if (out)
        *out = NULL;
    if (!out || !c)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "out and client must not be NULL");
    int rc = neonflow__id_check("project_id", project_id, err);
    if (rc == NEONFLOW_OK)
        rc = neonflow__id_check("operation_id", operation_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__sb b = {0};
    neonflow__sb_add(&b, "/projects/");
    neonflow__sb_add_enc(&b, project_id);
    neonflow__sb_add(&b, "/operations/");
    neonflow__sb_add_enc(&b, operation_id);
    char *path = neonflow__sb_take(&b);
    json_t *root;
    rc = neonflow__api_call(c, ctx, "GET", path, "/projects/{project_id}/operations/{operation_id}", NULL, &root,
                            NULL, err);
    neonflow__free(path);
    if (rc != NEONFLOW_OK)
        return rc;
    rc = neonflow__parse_operation_response(root, out, err);
    json_decref(root);
    return rc;
}

NEONFLOW_API int neonflow_operation_get(neonflow_operation **out, neonflow_client *client, const char *project_id,
                                        const char *operation_id,
                                        const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client, neonflow__operation_get_ctx(out, client, ctx, project_id, operation_id, err), err);
}

int neonflow__operations_list_ctx(neonflow_operation_list **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                  const char *project_id, const char *cursor, int32_t limit, neonflow_error **err)
{
    if (out)
        *out = NULL;
    if (!out || !c)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "out and client must not be NULL");
    int rc = neonflow__id_check("project_id", project_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    if (limit < 0 || limit > 1000)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "limit must be 1..1000 (or 0 for the default)");
    neonflow__sb b = {0};
    neonflow__sb_add(&b, "/projects/");
    neonflow__sb_add_enc(&b, project_id);
    neonflow__sb_add(&b, "/operations");
    neonflow__sb_query(&b, "cursor", cursor && *cursor ? cursor : NULL);
    char lim[16];
    snprintf(lim, sizeof(lim), "%d", (int)limit);
    neonflow__sb_query(&b, "limit", limit > 0 ? lim : NULL);
    char *path = neonflow__sb_take(&b);
    json_t *root;
    rc = neonflow__api_call(c, ctx, "GET", path, "/projects/{project_id}/operations", NULL, &root, NULL, err);
    neonflow__free(path);
    if (rc != NEONFLOW_OK)
        return rc;
    rc = neonflow__parse_operations_response(root, 1, out, err);
    json_decref(root);
    return rc;
}

NEONFLOW_API int neonflow_operations_list(neonflow_operation_list **out, neonflow_client *client,
                                          const char *project_id, const char *cursor, int32_t limit,
                                          const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client, neonflow__operations_list_ctx(out, client, ctx, project_id, cursor, limit, err),
        err);
}
