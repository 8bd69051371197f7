/* The rate-limit hook (client.h): the question handed to it, and the
 * project a request is about, read off its path by its route template. */
#ifndef NEONFLOW_CORE_RATEHOOK_H
#define NEONFLOW_CORE_RATEHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "neonflow/client.h"

struct neonflow_rate_limit_request {
    int32_t kind;
    const char *method, *route, *project_id; /* project_id NULL when none */
    int64_t retry_after_ms;                  /* THROTTLED only, else -1 */
    int64_t wait_ms;                         /* ACQUIRE: set by the hook */
};

/* Longest wait a hook may ask for at once (it is asked again after it). */
#define NEONFLOW__RATE_HOOK_WAIT_MAX_MS (60LL * 60 * 1000)

/*
 * The path segment where route has "{project_id}" (the query ignored),
 * copied to out; NULL when the route has none, or the segment is not a
 * valid ID or does not fit.
 */
const char *neonflow__project_from_path(const char *route, const char *path, char *out, size_t outsize);

#endif
