/*
 * nf_redis.h — one Neon API budget and one promotion lock for every process
 * of a fleet, kept in Redis (example; public libneonflow API + hiredis only).
 *
 * - nf_redis_install_rate_limit: a rate-limit hook on the client options.
 *   Before every request the client takes one token from two token buckets
 *   in Redis, the account's (per minute) and the route's (per second), in one
 *   atomic Lua script that refills them by the Redis server's TIME, so every
 *   process of one account draws from the same budget whatever its clock.
 *   A 429 seen by any process empties both buckets and blocks them until the
 *   server's Retry-After: every process slows down, not only the one that
 *   was told.
 * - nf_redis_install_lock: a lock hook holding the promotion lease in Redis
 *   (SET NX PX; compare-and-renew and compare-and-delete in Lua) instead of
 *   the lease branch the library keeps in Neon.
 *
 * Threads: an nf_redis is shared by every thread of the client; its one
 * Redis connection is serialised by a mutex (a hiredis context is not
 * thread-safe) and reconnected after any error. Redis answers a script in
 * tens of microseconds and an account makes at most ~12 requests/s, so one
 * connection is not the bottleneck.
 */
#ifndef NF_REDIS_H
#define NF_REDIS_H

#include <neonflow/neonflow.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nf_redis nf_redis;

/* What the rate-limit hook does once Redis has been unreachable for longer
 * than the grace period (within it, a request waits and asks again). */
#define NF_REDIS_FAIL_CLOSED 0 /* the request fails unsent (default: the budget is never overrun) */
#define NF_REDIS_FAIL_OPEN   1 /* the request is sent unpaced (the library still retries 429s) */

/* Results of the direct calls below. */
#define NF_REDIS_OK     0
#define NF_REDIS_HELD   1  /* lock: held by another run (holder filled) / lost on renew */
#define NF_REDIS_ERROR -1  /* Redis unreachable or answered an error (message in errbuf) */
#define NF_REDIS_EINVAL -2 /* bad argument (account name, run id, ...) */

typedef struct nf_redis_budget {
    const char *account;      /* bucket name, [A-Za-z0-9._-]{1,64}: one per Neon API key */
    int32_t per_minute;       /* account limit (Neon: 700) */
    int32_t per_second_route; /* per route limit (Neon: 40) */
    double margin;            /* fraction of each limit kept free, 0..0.5 (e.g. 0.05) */
    int32_t fail_mode;        /* NF_REDIS_FAIL_CLOSED or NF_REDIS_FAIL_OPEN */
    int64_t grace_ms;         /* how long an unreachable Redis is waited out (e.g. 5000) */
} nf_redis_budget;

/* Connects to Redis at host:port (a Unix socket when host starts with '/';
 * port ignored) with `timeout_ms` for connecting and for every command.
 * `prefix` starts every key (e.g. "neonflow"). Returns NF_REDIS_OK, or an
 * error with a message in errbuf; *out is NULL on failure. The first
 * connection is made here so that a wrong address fails early. */
int nf_redis_new(nf_redis **out, const char *host, int port, const char *prefix, int64_t timeout_ms,
                 char *errbuf, size_t errlen);
/* Drops the caller's reference; the hooks keep their own (NULL-safe). */
void nf_redis_free(nf_redis *r);

/* Sets the rate-limit hook on client options (the client made from them
 * then uses the shared budget instead of its built-in limiter).
 * Returns a NEONFLOW_* code. */
int nf_redis_install_rate_limit(nf_redis *r, neonflow_client_options *opts, const nf_redis_budget *budget);
/* Sets the lock hook on run options. Returns a NEONFLOW_* code. */
int nf_redis_install_lock(nf_redis *r, neonflow_run_options *run);

/* What the rate-limit hooks of r saw: token waits handed to the client, and
 * 429s reported back (THROTTLED). */
void nf_redis_stats(nf_redis *r, int64_t *waits, int64_t *throttled);

/* ---- the same operations called directly (tests, tools) ----------------- */

/* Takes one token for (method, route) of the account: NF_REDIS_OK with
 * *wait_ms 0 when taken, or with *wait_ms > 0 to ask again after that. */
int nf_redis_budget_take(nf_redis *r, const nf_redis_budget *b, const char *method, const char *route,
                         int64_t *wait_ms, char *errbuf, size_t errlen);
/* A 429: empties the account's and the route's bucket and blocks both for
 * retry_after_ms (< 0: one second). */
int nf_redis_budget_throttled(nf_redis *r, const nf_redis_budget *b, const char *method, const char *route,
                              int64_t retry_after_ms, char *errbuf, size_t errlen);

/* Lock on (project, target): kind is NEONFLOW_LOCK_ACQUIRE, _RENEW or
 * _RELEASE. ACQUIRE: NF_REDIS_OK (taken, or re-entered by the same run id)
 * or NF_REDIS_HELD with the holder's run id in holder. RENEW: NF_REDIS_OK,
 * or NF_REDIS_HELD when run_id no longer holds it. RELEASE: NF_REDIS_OK
 * (deleted only if run_id holds it; a non-holder changes nothing) or
 * NF_REDIS_HELD when it did not hold it. */
int nf_redis_lock(nf_redis *r, int32_t kind, const char *project, const char *target, const char *run_id,
                  int64_t ttl_ms, char *holder, size_t holder_len, char *errbuf, size_t errlen);

#endif
