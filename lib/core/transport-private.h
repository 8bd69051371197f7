/* Shared transport state of one client (curl share, rate limiter, seams),
 * and the pure policy helpers of the request path (http-policy.c), exposed
 * here so unit tests can check them without a server. */
#ifndef NEONFLOW_CORE_TRANSPORT_PRIVATE_H
#define NEONFLOW_CORE_TRANSPORT_PRIVATE_H

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "pacer.h"
#include "ratelimit.h"

#define NEONFLOW__SHARE_LOCKS (CURL_LOCK_DATA_LAST)
/* Idle easy handles kept per client for reuse (more are created on demand). */
#define NEONFLOW__POOL_MAX 16
/* Idle connections the shared cache keeps. Each transfer runs on a multi of
 * its own with one handle, whose default cap (4 per handle) would close all
 * but 4 idle connections of the share after every transfer. */
#define NEONFLOW__CONN_CACHE_MAX 64
/* A Retry-After longer than this is not waited for: the error is returned. */
#define NEONFLOW__RETRY_AFTER_MAX_MS (5LL * 60 * 1000)

struct neonflow__transport {
    CURLSH *share;
    pthread_mutex_t share_locks[NEONFLOW__SHARE_LOCKS];
    neonflow__sys sys;
    int sys_overridden;
    neonflow__ratelimit *ratelimit; /* NULL when both limits are 0 */
    neonflow__pacer *pacer;         /* NULL when both limits are 0 */
    pthread_mutex_t pool_lock;
    CURL *pool[NEONFLOW__POOL_MAX];
    int pool_n;
    char *auth_header;             /* "Authorization: Bearer <key>", scrubbed on free */
    struct curl_slist *hdr_nobody; /* Accept, Expect:, Content-Type: (none) */
    struct curl_slist *hdr_json;   /* Accept, Expect:, Content-Type: application/json */
};

/* ---- retry policy ------------------------------------------------------- */
/* What to do after one attempt. */
#define NEONFLOW__RD_SUCCESS 0   /* 2xx: done */
#define NEONFLOW__RD_RETRY 1     /* safe to try again (backoff) */
#define NEONFLOW__RD_UNCERTAIN 2 /* may have been applied: EUNCERTAIN, never replayed */
#define NEONFLOW__RD_FAIL 3      /* final failure */

/* 1 for GET, HEAD, OPTIONS (safe to replay after a lost response). */
int neonflow__method_idempotent(const char *method);

/* 1 when a transport failure `cc` proves the request never left the client
 * (no connection, or name resolution failed). */
int neonflow__curl_never_sent(CURLcode cc);

/*
 * The decision table. cc == CURLE_OK: the attempt got an HTTP answer with
 * `status`. Otherwise the transfer failed with cc; `sent` says whether any
 * request bytes may have reached the server.
 */
int neonflow__retry_decision(const char *method, int32_t status, CURLcode cc, int sent);

/* NEONFLOW_E* for a non-2xx HTTP status, and for a failed transfer. */
int neonflow__status_to_code(int32_t status);
int neonflow__curl_to_code(CURLcode cc);
/* Whether an HTTP error with `status` may succeed later (err->retryable). */
int neonflow__status_retryable(const char *method, int32_t status);

/* Full jitter: uniform in [0, min(cap, base * 2^retry_index)) from rnd. */
int64_t neonflow__backoff_ms(int64_t base_ms, int64_t cap_ms, int32_t retry_index, uint64_t rnd);

/* Retry-After (delta-seconds or HTTP-date) in ms from wall_now_ms; a date in
 * the past gives 0. -1 when value is NULL, empty or unparsable. */
int64_t neonflow__retry_after_ms(const char *value, int64_t wall_now_ms);

/* "nf-" + 32 lowercase hex digits from two random words; out >= 36 bytes. */
void neonflow__request_id_make(char *out, size_t outlen, uint64_t a, uint64_t b);

/* Neon's GeneralError, tolerant of {code,message,request_id}, of the nested
 * {error:{code,message}} shape, and of bodies that are not JSON at all. */
typedef struct neonflow__error_body {
    char code[128];       /* "" when absent */
    char message[512];    /* "" when absent; a snippet of a non-JSON body otherwise */
    char request_id[128]; /* "" when absent */
} neonflow__error_body;

/* Every field is scrubbed of secret (the client's key) before it is cut to
 * its buffer, and escaped (text.h). */
void neonflow__error_body_parse(const json_t *json, const char *raw, size_t raw_len, const char *secret,
                                neonflow__error_body *out);

/*
 * Copy of a trace buffer scrubbed of secret (scrub.h) and,
 * when `headers` is set, every "Authorization:" (and "Proxy-Authorization:")
 * line replaced by "Authorization: Bearer ***". Line endings are kept.
 * Returns a neonflow__malloc'd buffer (*out_len bytes, plus a NUL) or NULL.
 */
char *neonflow__trace_redact(const char *data, size_t len, const char *secret, int headers,
                             size_t *out_len);

/* NEONFLOW_TRACE_* for a curl debug info type, or -1 to skip it. */
int neonflow__trace_kind(curl_infotype type);

#endif
