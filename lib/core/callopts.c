/* neonflow_call_options: what a single public API call may be bounded by.
 * The HTTP layer already honours a per-call context (deadline, cancel
 * token) for workflows; these options only fill one in. */
#include <string.h>

#include "alloc.h"
#include "http.h"
#include "neonflow/call_options.h"

struct neonflow_call_options {
    int64_t deadline_ms; /* relative; 0 = none */
    neonflow_cancel *cancel;
    char *request_id;
};

NEONFLOW_API int neonflow_call_options_new(neonflow_call_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    return *out ? NEONFLOW_OK : NEONFLOW_ENOMEM;
}

NEONFLOW_API void neonflow_call_options_free(neonflow_call_options *call)
{
    if (!call)
        return;
    neonflow__free(call->request_id);
    neonflow__free(call);
}

NEONFLOW_API int neonflow_call_options_set_deadline_ms(neonflow_call_options *call, int64_t deadline_ms)
{
    if (!call || deadline_ms < 0)
        return NEONFLOW_EINVAL;
    call->deadline_ms = deadline_ms;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_call_options_set_cancel(neonflow_call_options *call, neonflow_cancel *token)
{
    if (!call)
        return NEONFLOW_EINVAL;
    call->cancel = token;
    return NEONFLOW_OK;
}

/* Printable ASCII without blanks: it goes verbatim into a header line. */
static int request_id_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e || n >= NEONFLOW_REQUEST_ID_MAX)
            return 0;
    return n > 0;
}

NEONFLOW_API int neonflow_call_options_set_request_id(neonflow_call_options *call, const char *request_id)
{
    if (!call)
        return NEONFLOW_EINVAL;
    char *copy = NULL;
    if (request_id) {
        if (!request_id_valid(request_id))
            return NEONFLOW_EINVAL;
        if (!(copy = neonflow__strdup(request_id)))
            return NEONFLOW_ENOMEM;
    }
    neonflow__free(call->request_id);
    call->request_id = copy;
    return NEONFLOW_OK;
}

neonflow__call_ctx *neonflow__call_ctx_from(neonflow__call_ctx *ctx, const neonflow_client *c,
                                            const neonflow_call_options *call)
{
    memset(ctx, 0, sizeof(*ctx));
    if (!call)
        return NULL;
    ctx->cancel = call->cancel;
    ctx->request_id = call->request_id;
    if (call->deadline_ms > 0) {
        const neonflow__sys *sys = neonflow__client_sys(c);
        ctx->deadline_ms = sys->now_ms(sys->ctx) + call->deadline_ms;
    }
    return ctx;
}
