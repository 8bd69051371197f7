#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "client-private.h"
#include "records.h"
#include "error.h"
#include "http.h"
#include "scrub.h"
#include "text.h"
#include "neonflow/version.h"

#define API_KEY_MAX 1024
#define UA_SUFFIX_MAX 200
#define URL_MAX 2048

static void config_defaults(struct neonflow__config *c)
{
    memset(c, 0, sizeof(*c));
    c->connect_timeout_ms = NEONFLOW__DEFAULT_CONNECT_TIMEOUT_MS;
    c->request_timeout_ms = NEONFLOW__DEFAULT_REQUEST_TIMEOUT_MS;
    c->max_retries = NEONFLOW__DEFAULT_MAX_RETRIES;
    c->backoff_base_ms = NEONFLOW__DEFAULT_BACKOFF_BASE_MS;
    c->backoff_cap_ms = NEONFLOW__DEFAULT_BACKOFF_CAP_MS;
    c->rate_per_minute = NEONFLOW__DEFAULT_RATE_PER_MINUTE;
    c->rate_per_second_route = NEONFLOW__DEFAULT_RATE_PER_SECOND_ROUTE;
    c->max_response_bytes = NEONFLOW__DEFAULT_MAX_RESPONSE_BYTES;
    c->log_min_level = NEONFLOW_LOG_INFO;
}

static void config_clear(struct neonflow__config *c)
{
    if (c->api_key) {
        /* Scrub the secret before giving the memory back. */
        volatile char *p = c->api_key;
        while (*p)
            *p++ = 0;
    }
    neonflow__free(c->api_key);
    neonflow__free(c->base_url);
    neonflow__free(c->ua_suffix);
    neonflow__free(c->ca_file);
    neonflow__tls_config_clear(c);
    neonflow__hook_unref(c->log_hook);
    neonflow__hook_unref(c->trace_hook);
    neonflow__hook_unref(c->rate_limit_hook);
    memset(c, 0, sizeof(*c));
}

static int config_copy(struct neonflow__config *dst, const struct neonflow__config *src)
{
    *dst = *src;
    dst->api_key = neonflow__strdup(src->api_key);
    dst->base_url = neonflow__strdup(src->base_url);
    dst->ua_suffix = neonflow__strdup(src->ua_suffix);
    dst->ca_file = neonflow__strdup(src->ca_file);
    dst->log_hook = neonflow__hook_ref(src->log_hook);
    dst->trace_hook = neonflow__hook_ref(src->trace_hook);
    dst->rate_limit_hook = neonflow__hook_ref(src->rate_limit_hook);
    int tls = neonflow__tls_config_copy(dst, src);
    if ((src->api_key && !dst->api_key) || (src->base_url && !dst->base_url) ||
        (src->ua_suffix && !dst->ua_suffix) || (src->ca_file && !dst->ca_file) || tls != NEONFLOW_OK) {
        config_clear(dst);
        return NEONFLOW_ENOMEM;
    }
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_client_options_new(neonflow_client_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    if (!*out)
        return NEONFLOW_ENOMEM;
    config_defaults(&(*out)->cfg);
    return NEONFLOW_OK;
}

NEONFLOW_API void neonflow_client_options_free(neonflow_client_options *opts)
{
    if (!opts)
        return;
    config_clear(&opts->cfg);
    neonflow__free(opts);
}

/* Replaces *slot with a copy of value (NULL clears). */
static int set_string(char **slot, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = neonflow__strdup(value)))
        return NEONFLOW_ENOMEM;
    neonflow__free(*slot);
    *slot = copy;
    return NEONFLOW_OK;
}

static int api_key_valid(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > API_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)key[i] <= 0x20 || (unsigned char)key[i] >= 0x7f)
            return 0;
    return 1;
}

NEONFLOW_API int neonflow_client_options_set_api_key(neonflow_client_options *opts, const char *api_key)
{
    if (!opts)
        return NEONFLOW_EINVAL;
    if (api_key && !api_key_valid(api_key))
        return NEONFLOW_EINVAL;
    if (opts->cfg.api_key) {
        volatile char *p = opts->cfg.api_key;
        while (*p)
            *p++ = 0;
    }
    return set_string(&opts->cfg.api_key, api_key);
}

/* One decimal part of a canonical dotted quad: 0-255, no sign, no leading zero. */
static int quad_part(const char *s, size_t n, unsigned *v)
{
    if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
        return 0;
    unsigned x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    *v = x;
    return x <= 255;
}

/* Only canonical spellings count: "localhost", 127.a.b.c in four decimal
 * parts, and "[::1]" ("::1" without brackets too). Integer, octal, hex,
 * short and overflowing forms are not loopback here, whatever a resolver
 * would make of them: the check must not depend on its quirks. */
int neonflow__url_is_loopback_host(const char *host)
{
    if (!host)
        return 0;
    if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0)
        return 1;
    unsigned part[4];
    const char *p = host;
    for (int i = 0; i < 4; i++) {
        size_t n = strcspn(p, ".");
        if (!quad_part(p, n, &part[i]))
            return 0;
        p += n;
        if (i < 3) {
            if (*p != '.')
                return 0;
            p++;
        }
    }
    return *p == '\0' && part[0] == 127;
}

/* The host exactly as written in url ("scheme://" then up to ':', '/', '?',
 * '#'; brackets kept for IPv6), in a new neonflow__malloc'd string. */
/* The host as written in url, into out (no allocation, so an out-of-memory
 * moment cannot turn a loopback URL into a refused one). 0 when there is none
 * or it does not fit (no loopback spelling is that long). */
static int raw_host(const char *url, char *out, size_t len)
{
    const char *sep = strstr(url, "://");
    if (!sep)
        return 0;
    const char *h = sep + 3;
    size_t n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/?#");
    if ((h[0] == '[' && h[n - 1] != ']') || n >= len)
        return 0;
    memcpy(out, h, n);
    out[n] = '\0';
    return 1;
}

/* Checks an absolute http(s) URL with a host and no query, fragment or
 * credentials. On success (1) *is_http and *loopback describe it; 0 when
 * invalid, -1 when curl ran out of memory parsing it. */
static int base_url_check(const char *url, int *is_http, int *loopback)
{
    size_t n = strlen(url);
    if (n == 0 || n > URL_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
            return 0;
    neonflow__alloc_oom_clear();
    CURLU *u = curl_url();
    if (!u)
        return -1;
    int ok = 0;
    char *scheme = NULL, *host = NULL, *query = NULL, *frag = NULL, *user = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        goto done;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host)
        goto done;
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        goto done;
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK && query)
        goto done;
    if (curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK && frag)
        goto done;
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK && user)
        goto done;
    /* curl accepts "http:/x" and "http:x"; insist on the authority form. */
    if (strncmp(url, scheme, strlen(scheme)) != 0 || strncmp(url + strlen(scheme), "://", 3) != 0 ||
        url[strlen(scheme) + 3] == '/')
        goto done;
    *is_http = strcmp(scheme, "http") == 0;
    /* Judge the host as written, not as libcurl normalised it
     * ("2130706433" becomes "127.0.0.1" there). */
    char raw[300];
    *loopback = raw_host(url, raw, sizeof(raw)) && neonflow__url_is_loopback_host(raw);
    ok = 1;
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(query);
    curl_free(frag);
    curl_free(user);
    curl_url_cleanup(u);
    return !ok && neonflow__alloc_oom_seen() ? -1 : ok;
}

NEONFLOW_API int neonflow_client_options_set_base_url(neonflow_client_options *opts, const char *url)
{
    if (!opts)
        return NEONFLOW_EINVAL;
    int is_http, loopback, v = url ? base_url_check(url, &is_http, &loopback) : 1;
    if (v <= 0)
        return v < 0 ? NEONFLOW_ENOMEM : NEONFLOW_EINVAL;
    return set_string(&opts->cfg.base_url, url);
}

NEONFLOW_API int neonflow_client_options_set_user_agent_suffix(neonflow_client_options *opts, const char *suffix)
{
    if (!opts)
        return NEONFLOW_EINVAL;
    if (suffix) {
        size_t n = strlen(suffix);
        if (n > UA_SUFFIX_MAX)
            return NEONFLOW_EINVAL;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)suffix[i] < 0x20 || (unsigned char)suffix[i] >= 0x7f)
                return NEONFLOW_EINVAL;
    }
    return set_string(&opts->cfg.ua_suffix, suffix && *suffix ? suffix : NULL);
}

NEONFLOW_API int neonflow_client_options_set_connect_timeout_ms(neonflow_client_options *opts, int64_t ms)
{
    if (!opts || ms <= 0)
        return NEONFLOW_EINVAL;
    opts->cfg.connect_timeout_ms = ms;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_client_options_set_request_timeout_ms(neonflow_client_options *opts, int64_t ms)
{
    if (!opts || ms <= 0)
        return NEONFLOW_EINVAL;
    opts->cfg.request_timeout_ms = ms;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_client_options_set_max_retries(neonflow_client_options *opts, int32_t retries)
{
    if (!opts || retries < 0 || retries > 100)
        return NEONFLOW_EINVAL;
    opts->cfg.max_retries = retries;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_client_options_set_retry_backoff(neonflow_client_options *opts, int64_t base_ms, int64_t cap_ms)
{
    if (!opts || base_ms <= 0 || cap_ms < base_ms || cap_ms > 24LL * 3600 * 1000)
        return NEONFLOW_EINVAL;
    opts->cfg.backoff_base_ms = base_ms;
    opts->cfg.backoff_cap_ms = cap_ms;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_client_options_set_rate_limit(neonflow_client_options *opts, int32_t per_minute, int32_t per_second_per_route)
{
    if (!opts || per_minute < 0 || per_second_per_route < 0)
        return NEONFLOW_EINVAL;
    opts->cfg.rate_per_minute = per_minute;
    opts->cfg.rate_per_second_route = per_second_per_route;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_client_options_set_max_response_bytes(neonflow_client_options *opts, int64_t bytes)
{
    if (!opts || bytes < 1024)
        return NEONFLOW_EINVAL;
    opts->cfg.max_response_bytes = bytes;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_client_options_set_ca_file(neonflow_client_options *opts, const char *path)
{
    if (!opts || (path && !*path))
        return NEONFLOW_EINVAL;
    return set_string(&opts->cfg.ca_file, path);
}

NEONFLOW_API int neonflow_client_options_set_allow_insecure_http(neonflow_client_options *opts, int allow)
{
    if (!opts)
        return NEONFLOW_EINVAL;
    opts->cfg.allow_insecure_http = allow ? 1 : 0;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_client_options_set_log_hook(neonflow_client_options *opts, neonflow_log_fn fn, void *payload, neonflow_destroy_fn destroy)
{
    return neonflow__hook_set(opts ? &opts->cfg.log_hook : NULL, (void (*)(void))fn, payload, destroy);
}

NEONFLOW_API int neonflow_client_options_set_log_level(neonflow_client_options *opts, int32_t min_level)
{
    if (!opts || min_level < NEONFLOW_LOG_ERROR || min_level > NEONFLOW_LOG_DEBUG)
        return NEONFLOW_EINVAL;
    opts->cfg.log_min_level = min_level;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_client_options_set_trace_hook(neonflow_client_options *opts, neonflow_trace_fn fn, void *payload, neonflow_destroy_fn destroy)
{
    return neonflow__hook_set(opts ? &opts->cfg.trace_hook : NULL, (void (*)(void))fn, payload, destroy);
}

static char *build_user_agent(const char *suffix)
{
    char buf[64 + UA_SUFFIX_MAX];
    snprintf(buf, sizeof(buf), "libneonflow/%s%s%s", NEONFLOW_VERSION_STRING, suffix ? " " : "",
             suffix ? suffix : "");
    return neonflow__strdup(buf);
}

NEONFLOW_API int neonflow_client_new(neonflow_client **out, const neonflow_client_options *opts, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    if (!out)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "neonflow_client_new: out must not be NULL");
    *out = NULL;
    if (!opts)
        return neonflow__error_set(err, NEONFLOW_EINVAL,
                                   "neonflow_client_new: options must not be NULL "
                                   "(create them with neonflow_client_options_new)");
    /* once per process: curl_global_init_mem and jansson's allocator (see alloc.h) */
    CURLcode init = (CURLcode)neonflow__alloc_install();
    if (init != CURLE_OK)
        return neonflow__error_set(err, init == CURLE_OUT_OF_MEMORY ? NEONFLOW_ENOMEM : NEONFLOW_EGENERIC,
                                   "libcurl could not be initialised: %s", curl_easy_strerror(init));

    neonflow_client *c = neonflow__calloc(1, sizeof(*c));
    if (!c || config_copy(&c->cfg, &opts->cfg) != NEONFLOW_OK) {
        neonflow__free(c);
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory creating the client");
    }
    int rc;
    /* The process environment is read only when asked: in a control plane
     * serving many tenants, a tenant without a key must not get the
     * operator's NEON_API_KEY. */
    const char *env_key = c->cfg.use_environment ? getenv("NEON_API_KEY") : NULL;
    const char *env_host = c->cfg.use_environment ? getenv("NEON_API_HOST") : NULL;
    if (!c->cfg.api_key) {
        if (!env_key || !*env_key) {
            rc = neonflow__error_set(err, NEONFLOW_ECONFIG,
                                     c->cfg.use_environment
                                         ? "no API key: set it with neonflow_client_options_set_api_key "
                                           "or in the NEON_API_KEY environment variable"
                                         : "no API key: set it with neonflow_client_options_set_api_key, "
                                           "or let the client read NEON_API_KEY with "
                                           "neonflow_client_options_set_use_environment");
            goto fail;
        }
        if (!api_key_valid(env_key)) {
            rc = neonflow__error_set(err, NEONFLOW_ECONFIG,
                                     "NEON_API_KEY holds spaces or control characters");
            goto fail;
        }
        if (!(c->cfg.api_key = neonflow__strdup(env_key))) {
            rc = neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
            goto fail;
        }
    }
    if (!c->cfg.base_url) {
        const char *url = env_host && *env_host ? env_host : NEONFLOW_DEFAULT_BASE_URL;
        int is_http, loopback, v = base_url_check(url, &is_http, &loopback);
        if (v < 0) {
            rc = neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory checking the base URL");
            goto fail;
        }
        if (!v) {
            char shown[240];
            rc = neonflow__error_set(err, NEONFLOW_ECONFIG, "NEON_API_HOST is not an absolute http(s) URL: %s",
                                     neonflow__echo_url(shown, sizeof(shown), url));
            goto fail;
        }
        if (!(c->cfg.base_url = neonflow__strdup(url))) {
            rc = neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
            goto fail;
        }
    }
    size_t n = strlen(c->cfg.base_url);
    while (n > 0 && c->cfg.base_url[n - 1] == '/')
        c->cfg.base_url[--n] = '\0';
    int is_http = 0, loopback = 0, valid = base_url_check(c->cfg.base_url, &is_http, &loopback);
    if (valid < 0) {
        rc = neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory checking the base URL");
        goto fail;
    }
    if (!valid) {
        char shown[240];
        rc = neonflow__error_set(err, NEONFLOW_ECONFIG, "invalid base URL: %s",
                                 neonflow__echo_url(shown, sizeof(shown), c->cfg.base_url));
        goto fail;
    }
    if (is_http && !loopback && !c->cfg.allow_insecure_http) {
        char shown[240];
        rc = neonflow__error_set(err, NEONFLOW_EINSECURE,
                                 "refusing plain http:// to a non-loopback host (%s): the API key "
                                 "would be sent in clear text; use https:// or allow it explicitly "
                                 "with neonflow_client_options_set_allow_insecure_http; loopback is "
                                 "localhost, 127.x.y.z in four decimal parts or [::1]",
                                 neonflow__echo_url(shown, sizeof(shown), c->cfg.base_url));
        goto fail;
    }
    if (is_http && c->cfg.proxy && !c->cfg.allow_insecure_http) {
        /* An https request crosses a proxy inside a CONNECT tunnel; a plain
         * http one, key included, is read by the proxy. */
        char raw[300];
        if (!raw_host(c->cfg.proxy, raw, sizeof(raw)) || !neonflow__url_is_loopback_host(raw)) {
            rc = neonflow__error_set(err, NEONFLOW_EINSECURE,
                                     "refusing a plain http:// base URL through a non-loopback proxy: the "
                                     "proxy would read the API key; use https:// or allow it explicitly "
                                     "with neonflow_client_options_set_allow_insecure_http");
            goto fail;
        }
    }
    if ((rc = neonflow__tls_config_check(&c->cfg, err)) != NEONFLOW_OK)
        goto fail;
    if (!(c->user_agent = build_user_agent(c->cfg.ua_suffix))) {
        rc = neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = neonflow__transport_new(c, err)) != NEONFLOW_OK)
        goto fail;
    *out = c;
    return NEONFLOW_OK;
fail:
    neonflow__client_errors(c, rc, err); /* a URL may hold the key */
    neonflow_client_free(c);
    return rc;
}

NEONFLOW_API void neonflow_client_free(neonflow_client *client)
{
    if (!client)
        return;
    neonflow__transport_free(client->transport);
    config_clear(&client->cfg);
    neonflow__free(client->user_agent);
    neonflow__free(client);
}

NEONFLOW_API const char *neonflow_client_base_url(const neonflow_client *client)
{
    return client ? client->cfg.base_url : NULL;
}

void neonflow__log(const neonflow_client *c, const struct neonflow_log_record *about, int32_t level,
                   const char *fmt, ...)
{
    if (!c || !c->cfg.log_hook || level > c->cfg.log_min_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *line = neonflow__vformat(fmt, ap);
    va_end(ap);
    if (!line)
        return;
    /* Scrubbed whole, then escaped to one line and cut. */
    neonflow__scrub(line, c->cfg.api_key);
    line = neonflow__text_clean(line, NEONFLOW__MESSAGE_MAX);
    if (line) {
        struct neonflow_log_record rec = {0};
        if (about)
            rec = *about;
        rec.level = level;
        rec.message = line;
        ((neonflow_log_fn)c->cfg.log_hook->fn)(&rec, c->cfg.log_hook->payload);
    }
    neonflow__free(line);
}
