/* The one place lib/api talks to the HTTP layer. */
#include "api-private.h"
#include "core/error.h"

int neonflow__api_call(neonflow_client *c, neonflow__call_ctx *ctx, const char *method, const char *path,
                       const char *route, const json_t *body, json_t **json_out, int32_t *status_out,
                       neonflow_error **err)
{
    if (json_out)
        *json_out = NULL;
    if (status_out)
        *status_out = 0;
    if (!path)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    neonflow__request req = {method, path, route, body};
    neonflow__response resp = {0};
    int rc = neonflow__http_call(c, ctx, &req, &resp, err);
    if (rc != NEONFLOW_OK) {
        neonflow__response_clear(&resp);
        return rc;
    }
    if (status_out)
        *status_out = resp.status;
    if (json_out) {
        *json_out = resp.json;
        resp.json = NULL;
    }
    neonflow__response_clear(&resp);
    return NEONFLOW_OK;
}

void neonflow__ops_hand_out(neonflow_operation_list **ops_out, neonflow_operation_list *ops)
{
    if (ops_out)
        *ops_out = ops;
    else
        neonflow_operation_list_free(ops);
}
