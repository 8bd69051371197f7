/* Internal layout of the client and its options. Only lib/ includes this. */
#ifndef NEONFLOW_CORE_CLIENT_PRIVATE_H
#define NEONFLOW_CORE_CLIENT_PRIVATE_H

#include <stddef.h>
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

/* Bytes copied from the caller (CA bundle, client certificate or key). */
struct neonflow__blob {
    void *data;
    size_t len;
};

/* Everything both the options object and the client hold. */
struct neonflow__config {
    char *api_key;      /* NULL in options: NEON_API_KEY if use_environment */
    char *base_url;     /* NULL in options: NEON_API_HOST if use_environment, then the default */
    char *ua_suffix;
    char *ca_file;
    int use_environment;
    /* Transport security and proxy (client-tls.c); NULL = curl's default. */
    char *ca_path;
    char *proxy;
    char *noproxy;
    char *cert_file, *key_file;
    char *key_password; /* secret: scrubbed before being freed */
    struct neonflow__blob *ca_blob, *cert_blob, *key_blob; /* shared, immutable */
    int32_t tls_min_version; /* NEONFLOW_TLS_* or 0 for curl's default */
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
    neonflow__hook *rate_limit_hook; /* fn is neonflow_rate_limit_fn; replaces the built-in limiter */
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

/* Delivers a log line through the client's hook, if any and if level passes.
 * about (may be NULL): the request the line is about; its level and message
 * are ignored. */
struct neonflow_log_record;
void neonflow__log(const neonflow_client *c, const struct neonflow_log_record *about, int32_t level,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Client TLS/proxy settings (client-tls.c): copy (NEONFLOW_OK or ENOMEM),
 * clear, and the check at client creation (NEONFLOW_OK or fills err). */
int neonflow__tls_config_copy(struct neonflow__config *dst, const struct neonflow__config *src);
void neonflow__tls_config_clear(struct neonflow__config *c);
int neonflow__tls_config_check(const struct neonflow__config *c, neonflow_error **err);
/* Sets the TLS and proxy options of c on a curl easy handle; returns the
 * first CURLcode that was not CURLE_OK (0 when all were accepted). */
int neonflow__tls_apply(void *curl_handle, const struct neonflow__config *c);

/* Validation shared with other layers. */
int neonflow__url_is_loopback_host(const char *host);

#endif
