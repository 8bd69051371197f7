/*
 * Client-side rate limiter: one per client, shared by every thread using it.
 *
 * Two sliding windows, each kept as an exact log: at most `per_minute`
 * requests in any rolling minute overall, and at most `per_second_route`
 * requests in any rolling second to one route (method + route template).
 * 0 disables a window.
 *
 * Why it is exact against a server that counts arrivals: a request holds its
 * slot from reservation (before it is sent) until it completes (after the
 * answer came back), and its log entry is stamped with the completion time,
 * which is never earlier than the moment the server saw it. A new request
 * is admitted only when fewer than `limit` requests are in flight or
 * completed within the last window, so no server-side window of the same
 * length can ever see limit + 1 of them. The windows are also stretched by a
 * small margin (1.05 s and 61 s) to absorb clock-rate differences.
 *
 * Time is passed in (monotonic milliseconds), so tests drive it directly.
 */
#ifndef NEONFLOW_CORE_RATELIMIT_H
#define NEONFLOW_CORE_RATELIMIT_H

#include <stdint.h>

#define NEONFLOW__RL_SECOND_WINDOW_MS 1050
#define NEONFLOW__RL_MINUTE_WINDOW_MS 61000

typedef struct neonflow__ratelimit neonflow__ratelimit;

/* A reserved slot; pass it to neonflow__ratelimit_release exactly once. */
typedef struct neonflow__rl_slot {
    void *route; /* internal; NULL when the per-route limit is off */
    int global;  /* 1 when the per-minute limit is on */
} neonflow__rl_slot;

/* Returns NULL on allocation failure. Both limits 0 is valid (never waits). */
neonflow__ratelimit *neonflow__ratelimit_new(int32_t per_minute, int32_t per_second_route);
void neonflow__ratelimit_free(neonflow__ratelimit *rl);

/*
 * Tries to reserve a slot for one request to `route_key` at time `now_ms`.
 * Returns 1 and fills *slot when admitted; returns 0 and sets *wait_ms (> 0)
 * to how long to wait before trying again (exact: no slot can free up
 * sooner, since a request completing now stays in the window for its
 * length); returns -1 on allocation failure.
 * *which (may be NULL) says which window held it back: 1 per minute, 2 per route.
 */
int neonflow__ratelimit_reserve(neonflow__ratelimit *rl, const char *route_key, int64_t now_ms,
                                neonflow__rl_slot *slot, int64_t *wait_ms, int *which);

/* Marks the request done at `now_ms` (after its answer arrived or it failed). */
void neonflow__ratelimit_release(neonflow__ratelimit *rl, neonflow__rl_slot *slot, int64_t now_ms);

/* Introspection for tests: requests counted in the windows at now_ms
 * (in flight plus completed within the window). route_key NULL = the global window. */
int32_t neonflow__ratelimit_count(neonflow__ratelimit *rl, const char *route_key, int64_t now_ms);

#endif
