/* Internal layout of the client and its options. Only lib/ includes this. */
#ifndef NEONFLOW_CORE_CLIENT_PRIVATE_H
#define NEONFLOW_CORE_CLIENT_PRIVATE_H

#include <stdint.h>

#include "hook.h"
#include "neonflow/client.h"

#define NEONFLOW__DEFAULT_CONNECT_TIMEOUT_MS 10000
#define NEONFLOW__DEFAULT_REQUEST_TIMEOUT_MS 30000
#define NEONFLOW__DEFAULT_MAX_RETRIES 6
#define NEONFLOW__DEFAULT_BACKOFF_BASE_MS 250
#define NEONFLOW__DEFAULT_BACKOFF_CAP_MS 10000
#define NEONFLOW__DEFAULT_RATE_PER_MINUTE 700
#define NEONFLOW__DEFAULT_RATE_PER_SECOND_ROUTE 40
#define NEONFLOW__DEFAULT_MAX_RESPONSE_BYTES (64LL * 1024 * 1024)

/* Everything both the options object and the client hold. */
struct neonflow__config {
    char *api_key;      /* NULL in options: fall back to NEON_API_KEY */
    char *base_url;     /* NULL in options: NEON_API_HOST, then the default */
    char *ua_suffix;
    char *ca_file;
    int64_t connect_timeout_ms;
    int64_t request_timeout_ms;
    int32_t max_retries;
    int64_t backoff_base_ms;
    int64_t backoff_cap_ms;
    int32_t rate_per_minute;
    int32_t rate_per_second_route;
    int64_t max_response_bytes;
    int allow_insecure_http;
    int32_t log_min_level;
    neonflow__hook *log_hook;   /* fn is neonflow_log_fn */
    neonflow__hook *trace_hook; /* fn is neonflow_trace_fn */
};

struct neonflow_client_options {
    struct neonflow__config cfg;
};

struct neonflow__transport; /* lib/core/http.c */

struct neonflow_client {
    struct neonflow__config cfg; /* api_key and base_url always set */
    char *user_agent;
    struct neonflow__transport *transport;
};

/* Delivers a log line through the client's hook, if any and if level passes. */
void neonflow__log(const neonflow_client *c, int32_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Validation shared with other layers. */
int neonflow__url_is_loopback_host(const char *host);

#endif
