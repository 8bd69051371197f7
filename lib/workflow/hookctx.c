/* The verify and after-switch hooks: the run reads the branch and its
 * endpoints, then hands the hook one context (workflow.h). */
#include <stddef.h>
#include <string.h>

#include "api/connection-private.h"
#include "core/alloc.h"
#include "workflow-private.h"

struct neonflow_branch_hook_ctx {
    int32_t hook, workflow;
    const char *run_id, *project_id, *target;
    const neonflow_branch *branch;
    const neonflow_endpoint_list *endpoints;
    /* the connection URI, fetched on the first request (it costs requests) */
    neonflow__run *run;
    const char *uri_endpoint_id; /* NULL: the branch's read-write endpoint */
    int uri_tried;
    char *uri;
};

NEONFLOW_API int32_t neonflow_branch_hook_ctx_hook(const neonflow_branch_hook_ctx *x)
{
    return x ? x->hook : 0;
}

NEONFLOW_API int32_t neonflow_branch_hook_ctx_workflow(const neonflow_branch_hook_ctx *x)
{
    return x ? x->workflow : 0;
}

NEONFLOW_API const char *neonflow_branch_hook_ctx_run_id(const neonflow_branch_hook_ctx *x)
{
    return x ? x->run_id : NULL;
}

NEONFLOW_API const char *neonflow_branch_hook_ctx_project_id(const neonflow_branch_hook_ctx *x)
{
    return x ? x->project_id : NULL;
}

NEONFLOW_API const char *neonflow_branch_hook_ctx_target(const neonflow_branch_hook_ctx *x)
{
    return x ? x->target : NULL;
}

NEONFLOW_API const neonflow_branch *
neonflow_branch_hook_ctx_branch(const neonflow_branch_hook_ctx *x)
{
    return x ? x->branch : NULL;
}

NEONFLOW_API size_t neonflow_branch_hook_ctx_endpoint_count(const neonflow_branch_hook_ctx *x)
{
    return x ? neonflow_endpoint_list_count(x->endpoints) : 0;
}

NEONFLOW_API const neonflow_endpoint *
neonflow_branch_hook_ctx_endpoint_at(const neonflow_branch_hook_ctx *x, size_t i)
{
    return x ? neonflow_endpoint_list_at(x->endpoints, i) : NULL;
}

NEONFLOW_API const char *neonflow_branch_hook_ctx_host(const neonflow_branch_hook_ctx *x)
{
    size_t n = neonflow_branch_hook_ctx_endpoint_count(x);
    for (size_t i = 0; i < n; i++) {
        const neonflow_endpoint *e = neonflow_endpoint_list_at(x->endpoints, i);
        const char *host = neonflow_endpoint_host(e);
        if (neonflow_endpoint_type(e) == NEONFLOW_ENDPOINT_TYPE_READ_WRITE && host && *host)
            return host;
    }
    return NULL;
}

NEONFLOW_API const char *neonflow_branch_hook_ctx_connection_uri(const neonflow_branch_hook_ctx *x)
{
    if (!x)
        return NULL;
    /* The context is the hook's own for the call: the cache is filled once. */
    struct neonflow_branch_hook_ctx *m = (struct neonflow_branch_hook_ctx *)x;
    if (m->uri_tried)
        return m->uri;
    m->uri_tried = 1;
    if (!neonflow_branch_hook_ctx_host(x)) /* no compute to connect to: spare the requests */
        return NULL;
    struct neonflow_connection_uri_options o = {0};
    o.branch_id = (char *)neonflow_branch_id(x->branch);
    o.endpoint_id = (char *)x->uri_endpoint_id;
    neonflow_error *e = NULL;
    int rc = neonflow__connection_uri_get_ctx(&m->uri, m->run->c, &m->run->ctx, x->project_id, &o, &e);
    if (rc != NEONFLOW_OK)
        neonflow__emit(m->run, NEONFLOW_EVENT_WARNING, "no connection URI for the %s hook: %s",
                       neonflow_hook_name(x->hook), e ? neonflow_error_message(e) : neonflow_strerror(rc));
    neonflow_error_free(e);
    return m->uri;
}

int neonflow__call_branch_hook(neonflow__run *r, int32_t hook, neonflow__hook *h,
                               const char *target, const char *branch_id, int *vetoed)
{
    return neonflow__call_branch_hook_ep(r, hook, h, target, branch_id, NULL, vetoed);
}

int neonflow__call_branch_hook_ep(neonflow__run *r, int32_t hook, neonflow__hook *h, const char *target,
                                  const char *branch_id, const char *endpoint_id, int *vetoed)
{
    *vetoed = 0;
    neonflow_branch *b = NULL;
    neonflow_endpoint_list *eps = NULL;
    neonflow_error *e = NULL;
    int rc = neonflow__branch_get_ctx(&b, r->c, &r->ctx, r->project_id, branch_id, &e);
    if (rc == NEONFLOW_OK)
        rc = neonflow__endpoints_list_ctx(&eps, r->c, &r->ctx, r->project_id, branch_id, &e);
    if (rc != NEONFLOW_OK) {
        neonflow_branch_free(b);
        return neonflow__fail_with(r, &e, rc);
    }
    neonflow_branch_hook_ctx x = {hook, r->rep->workflow, r->rep->run_id, r->project_id, target, b,
                                  eps, r, endpoint_id, 0, NULL};
    const neonflow_client *prev = neonflow__hook_enter(r);
    int v = ((neonflow_branch_check_fn)h->fn)(&x, h->payload);
    neonflow__hook_leave(prev);
    if (x.uri) { /* it holds a password: leave no copy in freed memory */
        memset(x.uri, 0, strlen(x.uri));
        neonflow__free(x.uri);
    }
    neonflow_endpoint_list_free(eps);
    neonflow_branch_free(b);
    if (v != 0)
        *vetoed = 1;
    return NEONFLOW_OK;
}
