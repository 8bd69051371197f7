/*
 * Smooth pacing in front of the sliding windows of ratelimit.h: each request
 * reserves the next start slot of a schedule (GCRA, a virtual-time token
 * bucket) for the account and for its route, in the order the requests ask,
 * so under saturation every thread waits about the same short time instead
 * of 700 requests passing in a burst and everyone stalling for a minute.
 *
 * Why it never exceeds the limits: with a burst of b after idle time, slots
 * at least I = W / (L - b + 1) apart hold at most L starts in any window of
 * length W, where W is the server's window plus the margin of ratelimit.h.
 * The exact windows behind it still hold a request back when answers are
 * slow, so the pacing only has to be smooth, not exact.
 *
 * Time is passed in (monotonic milliseconds), so tests drive it directly.
 */
#ifndef NEONFLOW_CORE_PACER_H
#define NEONFLOW_CORE_PACER_H

#include <stdint.h>

typedef struct neonflow__pacer neonflow__pacer;

/* Returns NULL on allocation failure. Both limits 0 is valid (never waits). */
neonflow__pacer *neonflow__pacer_new(int32_t per_minute, int32_t per_second_route);
void neonflow__pacer_free(neonflow__pacer *p);

/*
 * Reserves the next slot for one request to route_key asked at now_ms and
 * returns when it may start (>= now_ms), or -1 on allocation failure. When
 * that is more than max_wait_ms away (>= 0; -1 = no bound) nothing is
 * reserved: the time is returned for the caller's error. A reserved slot is
 * spent even if the caller gives up waiting for it. *which (may be NULL)
 * says what set the slot: 0 nothing (now), 1 the per-minute budget, 2 the
 * route's, 3 a server's Retry-After.
 */
int64_t neonflow__pacer_reserve(neonflow__pacer *p, const char *route_key, int64_t now_ms, int64_t max_wait_ms,
                                int *which);

/* A 429 arrived at now_ms: no slot of any route starts before now_ms +
 * retry_after_ms (at most 60 s; -1, none, pushes nothing), and the burst
 * allowance is spent: the next slots are one interval apart. */
void neonflow__pacer_throttle(neonflow__pacer *p, int64_t now_ms, int64_t retry_after_ms);

/* Burst allowance after idle time: limit / share, at least 1. About 1% of
 * the minute's budget (it costs sustained rate: the spacing grows with it),
 * an eighth of a route's second (a few calls in a row to one route). */
#define NEONFLOW__PACER_BURST_SHARE_MINUTE 100
#define NEONFLOW__PACER_BURST_SHARE_ROUTE 8
int32_t neonflow__pacer_burst(int32_t limit, int32_t share);
/* Slot spacing in microseconds for `limit` per window_ms with that burst. */
int64_t neonflow__pacer_interval_us(int32_t limit, int32_t burst, int64_t window_ms);

#endif
