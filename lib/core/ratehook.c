/* The rate-limit hook's setter and the getters of its question. The calls
 * themselves are made by the request path (request.c). */
#include <string.h>

#include "client-private.h"
#include "http.h"
#include "ratehook.h"

/* Length of the segment at s (up to '/', '?' or the end). */
static size_t seg_len(const char *s) { return strcspn(s, "/?"); }

const char *neonflow__project_from_path(const char *route, const char *path, char *out, size_t outsize)
{
    if (!route || !path || !out || outsize == 0)
        return NULL;
    const char *r = route, *p = path;
    while (*r == '/' && *p == '/') {
        r++;
        p++;
        size_t rn = seg_len(r), pn = seg_len(p);
        if (rn == strlen("{project_id}") && strncmp(r, "{project_id}", rn) == 0) {
            if (pn == 0 || pn >= outsize)
                return NULL;
            memcpy(out, p, pn);
            out[pn] = '\0';
            return neonflow__id_valid(out) ? out : NULL;
        }
        r += rn;
        p += pn;
    }
    return NULL;
}

NEONFLOW_API int neonflow_client_options_set_rate_limit_hook(neonflow_client_options *opts,
                                                             neonflow_rate_limit_fn fn, void *payload,
                                                             neonflow_destroy_fn destroy)
{
    return neonflow__hook_set(opts ? &opts->cfg.rate_limit_hook : NULL, (void (*)(void))fn, payload,
                              destroy);
}

NEONFLOW_API int32_t neonflow_rate_limit_request_kind(const neonflow_rate_limit_request *req)
{
    return req ? req->kind : -1;
}

NEONFLOW_API const char *neonflow_rate_limit_request_method(const neonflow_rate_limit_request *req)
{
    return req ? req->method : NULL;
}

NEONFLOW_API const char *neonflow_rate_limit_request_route(const neonflow_rate_limit_request *req)
{
    return req ? req->route : NULL;
}

NEONFLOW_API const char *neonflow_rate_limit_request_project_id(const neonflow_rate_limit_request *req)
{
    return req ? req->project_id : NULL;
}

NEONFLOW_API int64_t neonflow_rate_limit_request_retry_after_ms(const neonflow_rate_limit_request *req)
{
    return req && req->kind == NEONFLOW_RATE_LIMIT_THROTTLED ? req->retry_after_ms : -1;
}

NEONFLOW_API int neonflow_rate_limit_request_set_wait_ms(neonflow_rate_limit_request *req, int64_t wait_ms)
{
    if (!req || req->kind != NEONFLOW_RATE_LIMIT_ACQUIRE || wait_ms < 0 ||
        wait_ms > NEONFLOW__RATE_HOOK_WAIT_MAX_MS)
        return NEONFLOW_EINVAL;
    req->wait_ms = wait_ms;
    return NEONFLOW_OK;
}
