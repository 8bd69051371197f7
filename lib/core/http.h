/*
 * Internal HTTP layer: one Neon API request with retries, rate limiting,
 * redacted tracing and Neon-shaped error mapping. lib/api builds on this only.
 */
#ifndef NEONFLOW_CORE_HTTP_H
#define NEONFLOW_CORE_HTTP_H

#include <jansson.h>
#include <stdint.h>

#include "client-private.h"
#include "neonflow/cancel.h"
#include "neonflow/errors.h"

/* Kinds of notifications the HTTP layer sends to a call's observer. */
#define NEONFLOW__NOTE_RETRY 1          /* about to sleep wait_ms, then retry */
#define NEONFLOW__NOTE_RATE_LIMIT_WAIT 2 /* client-side limiter holds the call for wait_ms */

/* Per-call context, owned by the caller (a workflow step, an await, or NULL
 * for a plain public API call). Not shared between threads. */
typedef struct neonflow__call_ctx {
    neonflow_cancel *cancel; /* may be NULL */
    neonflow_cancel *cancel2; /* a second token watched alike (an await's own beside the caller's); may be NULL */
    int64_t deadline_ms;     /* absolute, on the client's monotonic clock; 0 = none */
    /* Optional observer of retries and rate-limit waits. */
    void (*notify)(void *payload, int32_t kind, const char *method, const char *path,
                   int32_t http_status, int64_t wait_ms);
    void *notify_payload;
    /* Counters the HTTP layer adds to (a workflow report sums them). */
    int64_t calls;   /* HTTP attempts sent */
    int64_t retries; /* attempts that were retries */
    int locked_no_retry; /* answer a 423 at once (ELOCKED): the caller reads the state itself */
    const char *request_id; /* caller's X-Request-ID for every attempt; NULL: one generated per attempt */
    const char *run_id;     /* the workflow run making the call (log and trace records); NULL: none */
} neonflow__call_ctx;

/* The ctx of a public call made with call options: NULL when call is NULL
 * (the behaviour without options), else ctx filled from call (deadline
 * turned absolute on the client's clock, cancel token, request id). */
struct neonflow_call_options;
neonflow__call_ctx *neonflow__call_ctx_from(neonflow__call_ctx *ctx, const neonflow_client *c,
                                            const struct neonflow_call_options *call);

typedef struct neonflow__request {
    const char *method; /* "GET", "POST", "PATCH", "PUT", "DELETE" */
    /* Path below the base URL with leading '/', every segment and query value
     * already percent-encoded (see neonflow__path_* helpers), e.g.
     * "/projects/p-1/branches?limit=100&cursor=abc". */
    const char *path;
    /* Route template used for the per-route rate limit and logs,
     * e.g. "/projects/{project_id}/branches". */
    const char *route;
    const json_t *body; /* borrowed; NULL sends no body */
} neonflow__request;

typedef struct neonflow__response {
    int32_t status;      /* final HTTP status (2xx on success) */
    json_t *json;        /* owned; NULL when the body was empty (e.g. 204) */
    char request_id[80]; /* the X-Request-ID sent (and echoed) for the final attempt */
    int32_t attempts;    /* attempts made for this call */
} neonflow__response;

/*
 * Performs the request. Returns NEONFLOW_OK for a 2xx answer whose body is
 * empty or valid JSON (resp->json set). Otherwise fills err (HTTP status,
 * Neon code/message, request id, method, path, retryable) and returns:
 * EAUTH 401/403, ENOTFOUND 404, ECONFLICT 409, EBADREQUEST 400/422, ELOCKED
 * 423, ERATELIMIT 429, ESERVER 5xx, EAPI other 4xx, EPROTOCOL for malformed
 * bodies, transport codes for network failures, EUNCERTAIN when a
 * non-idempotent request may have been applied (lost response), ETIMEOUT at
 * the ctx deadline, ECANCELLED when ctx->cancel fired. ctx may be NULL.
 */
int neonflow__http_call(neonflow_client *c, neonflow__call_ctx *ctx, const neonflow__request *req,
                        neonflow__response *resp, neonflow_error **err);

void neonflow__response_clear(neonflow__response *resp);

/* Transport lifetime, called by neonflow_client_new/free. */
int neonflow__transport_new(neonflow_client *c, neonflow_error **err);
void neonflow__transport_free(struct neonflow__transport *t);

/* ---- system seam: clock, sleep, randomness (tests replace it) ---------- */
typedef struct neonflow__sys {
    int64_t (*now_ms)(void *ctx);  /* monotonic milliseconds */
    int64_t (*wall_ms)(void *ctx); /* Unix epoch milliseconds */
    /* Sleeps up to ms; returns early (non-zero) when cancel is triggered. */
    int (*sleep_ms)(void *ctx, int64_t ms, neonflow_cancel *cancel);
    uint64_t (*random)(void *ctx); /* uniform 64-bit */
    void *ctx;
} neonflow__sys;

const neonflow__sys *neonflow__client_sys(const neonflow_client *c);
/* Test seam: replace the client's system table (copied). NULL restores the real one. */
void neonflow__client_set_sys(neonflow_client *c, const neonflow__sys *sys);

/* ---- helpers for building paths ----------------------------------------- */
/* 1 when id matches ^[a-z0-9-]{1,60}$ (every ID that goes into a URL). */
int neonflow__id_valid(const char *id);
/* Validates `id` and fills err with EINVAL naming `what` when it is not valid. */
int neonflow__id_check(const char *what, const char *id, neonflow_error **err);
/* Percent-encodes s (RFC 3986 unreserved kept); returns a new string or NULL. */
char *neonflow__pct_encode(const char *s);

#endif
