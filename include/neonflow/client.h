/*
 * libneonflow — the client: configuration and connection to the Neon API.
 *
 * A client is created once from an options object and is then immutable. One
 * client may be used by many threads at once: each call in flight uses its own
 * curl handle, and connections, DNS and TLS sessions and the rate limiter are
 * shared. The library starts no threads, writes nothing to stderr and reads
 * no environment variable unless neonflow_client_options_set_use_environment
 * asks it to.
 * Retry and rate-limit waits sleep on the calling thread only; the log and
 * trace hooks run on the thread making the call, possibly on several threads
 * at once, so a hook shared by threads must be thread-safe itself.
 *
 * Process-wide effect: the first neonflow_client_new installs, once and
 * thread-safely, the library's counting allocation functions into libcurl
 * (curl_global_init_mem) and jansson (json_set_alloc_funcs), so that an
 * allocation that fails inside either is seen and reported as
 * NEONFLOW_ENOMEM, never as a malformed or shortened result. jansson's are
 * installed for the whole process and call the functions that were installed
 * before them (json_get_alloc_funcs), so a host that set its own keeps using
 * them; a host must not replace jansson's functions after creating a client.
 * curl's take effect only when the library is the first to initialise curl
 * in the process; if the host called curl_global_init first, curl allocates
 * with the host's functions and a failure there is reported with curl's code.
 */
#ifndef NEONFLOW_CLIENT_H
#define NEONFLOW_CLIENT_H

#include "common.h"
#include "errors.h"

NEONFLOW_BEGIN_DECLS

typedef struct neonflow_client neonflow_client;
typedef struct neonflow_client_options neonflow_client_options;

/*
 * Enumerations in this header (log levels, trace kinds, TLS versions) are
 * append-only: values are never renumbered or reused, and later versions may
 * add new ones, so callers must tolerate values they do not know.
 */

/* Log levels passed to the log hook. */
#define NEONFLOW_LOG_ERROR 0
#define NEONFLOW_LOG_WARN  1
#define NEONFLOW_LOG_INFO  2
#define NEONFLOW_LOG_DEBUG 3

/**
 * The static lower-case name of a log level ("error", "warn", "info",
 * "debug"), for bindings. Never NULL: "unknown" for a value this version does
 * not know. Thread-safety: any thread.
 */
NEONFLOW_API const char *neonflow_log_level_name(int32_t level);

/**
 * One log message, handed to the log hook and read through the getters
 * below (more may be added later; the struct itself never is public). The
 * record and every string read from it are borrowed for the duration of the
 * hook call only, and none of them ever contains the API key.
 */
typedef struct neonflow_log_record neonflow_log_record;

/**
 * Log hook: receives one record per message at or above the level set with
 * neonflow_client_options_set_log_level. Called on the thread making the
 * call; it must not call back into the same client.
 */
typedef void (*neonflow_log_fn)(const neonflow_log_record *record, void *payload);

/** The record's NEONFLOW_LOG_* level (NEONFLOW_LOG_ERROR for a NULL record). */
NEONFLOW_API int32_t neonflow_log_record_level(const neonflow_log_record *record);
/** The formatted line, one line without a trailing newline; never NULL ("" for a NULL record). */
NEONFLOW_API const char *neonflow_log_record_message(const neonflow_log_record *record);
/** The X-Request-ID of the HTTP attempt the message is about; NULL when not about one attempt. */
NEONFLOW_API const char *neonflow_log_record_request_id(const neonflow_log_record *record);
/** The HTTP method of the call the message is about ("GET", ...); NULL when none. */
NEONFLOW_API const char *neonflow_log_record_method(const neonflow_log_record *record);
/**
 * The route of that call: the templated path without the base URL or the
 * query, e.g. "/projects/{project_id}/branches/{branch_id}"; NULL when none.
 */
NEONFLOW_API const char *neonflow_log_record_route(const neonflow_log_record *record);
/** The HTTP status the message is about; 0 when none (no answer, or not about one). */
NEONFLOW_API int32_t neonflow_log_record_http_status(const neonflow_log_record *record);
/** The run id when the call is made by a workflow run (neonflow_promote, ...); NULL otherwise. */
NEONFLOW_API const char *neonflow_log_record_run_id(const neonflow_log_record *record);

/* Kinds of data passed to the HTTP trace hook. */
#define NEONFLOW_TRACE_INFO        0 /**< informational text from the transport */
#define NEONFLOW_TRACE_HEADER_OUT  1 /**< request headers (Authorization redacted) */
#define NEONFLOW_TRACE_DATA_OUT    2 /**< request body */
#define NEONFLOW_TRACE_HEADER_IN   3 /**< response headers */
#define NEONFLOW_TRACE_DATA_IN     4 /**< response body */

/**
 * The static name of a trace kind ("info", "header_out", "data_out",
 * "header_in", "data_in"). Never NULL: "unknown" for a value this version
 * does not know. Thread-safety: any thread.
 */
NEONFLOW_API const char *neonflow_trace_kind_name(int32_t kind);

/**
 * One piece of an HTTP exchange, handed to the trace hook and read through
 * the getters below. The record, its data and its strings are borrowed for
 * the duration of the hook call only. Everything is scrubbed of the API key;
 * the Authorization header always reads "Authorization: Bearer ***".
 */
typedef struct neonflow_trace_record neonflow_trace_record;

/** HTTP trace hook: sees the raw exchange, on the thread making the call. */
typedef void (*neonflow_trace_fn)(const neonflow_trace_record *record, void *payload);

/** The record's NEONFLOW_TRACE_* kind (NEONFLOW_TRACE_INFO for a NULL record). */
NEONFLOW_API int32_t neonflow_trace_record_kind(const neonflow_trace_record *record);
/** The bytes, NOT NUL-terminated: read neonflow_trace_record_data_len of them. */
NEONFLOW_API const char *neonflow_trace_record_data(const neonflow_trace_record *record);
/** The number of bytes at neonflow_trace_record_data (0 for a NULL record). */
NEONFLOW_API size_t neonflow_trace_record_data_len(const neonflow_trace_record *record);
/** The X-Request-ID sent with this attempt; NULL for a NULL record. */
NEONFLOW_API const char *neonflow_trace_record_request_id(const neonflow_trace_record *record);
/** The HTTP method of this attempt. */
NEONFLOW_API const char *neonflow_trace_record_method(const neonflow_trace_record *record);
/** The templated route of this attempt (as neonflow_log_record_route); NULL when the call has none. */
NEONFLOW_API const char *neonflow_trace_record_route(const neonflow_trace_record *record);
/** The HTTP status once the status line has been received; 0 before. */
NEONFLOW_API int32_t neonflow_trace_record_http_status(const neonflow_trace_record *record);
/** The run id when the call is made by a workflow run; NULL otherwise. */
NEONFLOW_API const char *neonflow_trace_record_run_id(const neonflow_trace_record *record);

/** Minimum TLS versions (neonflow_client_options_set_tls_min_version). */
#define NEONFLOW_TLS_1_2 12 /**< TLS 1.2 or later (the default) */
#define NEONFLOW_TLS_1_3 13 /**< TLS 1.3 only */

/**
 * The static name of a NEONFLOW_TLS_* value ("tls1.2", "tls1.3"). Never
 * NULL: "unknown" for a value this version does not know. Thread-safety: any
 * thread.
 */
NEONFLOW_API const char *neonflow_tls_version_name(int32_t version);

/** Default base URL, used when neither the option nor (with the environment
 * enabled) NEON_API_HOST is set. */
#define NEONFLOW_DEFAULT_BASE_URL "https://console.neon.tech/api/v2"

/**
 * Creates an options object with every option at its default. Free it with
 * neonflow_client_options_free(); it may be freed as soon as the client is
 * created. Errors: NEONFLOW_EINVAL (out is NULL), NEONFLOW_ENOMEM.
 * Thread-safety: an options object must not be used by two threads at once.
 */
NEONFLOW_API int neonflow_client_options_new(neonflow_client_options **out);

/** Frees the options and runs the destroy callbacks of their hooks. NULL is accepted. */
NEONFLOW_API void neonflow_client_options_free(neonflow_client_options *opts);

/**
 * The Neon API key (copied). Required: when never set (or set to NULL) the
 * client is not created (NEONFLOW_ECONFIG), unless
 * neonflow_client_options_set_use_environment() lets it read NEON_API_KEY.
 * An empty string is rejected (NEONFLOW_EINVAL); so is a key containing
 * control characters or spaces.
 */
NEONFLOW_API int neonflow_client_options_set_api_key(neonflow_client_options *opts, const char *api_key);

/**
 * The API base URL, e.g. "https://console.neon.tech/api/v2". When never set
 * (or NULL) the client uses NEONFLOW_DEFAULT_BASE_URL (or NEON_API_HOST
 * first, when the environment is enabled).
 * Must be an absolute http:// or https:// URL with a host and no query or
 * fragment (NEONFLOW_EINVAL otherwise); a trailing '/' is dropped. http:// is
 * accepted by the client only for loopback hosts unless
 * neonflow_client_options_set_allow_insecure_http() allows it.
 */
NEONFLOW_API int neonflow_client_options_set_base_url(neonflow_client_options *opts, const char *url);

/**
 * Appended to "libneonflow/<version>" in the User-Agent header, separated by a
 * space. Printable ASCII only, at most 200 bytes. NULL clears it.
 */
NEONFLOW_API int neonflow_client_options_set_user_agent_suffix(neonflow_client_options *opts, const char *suffix);

/** Connect timeout in milliseconds (default 10000). Must be > 0. */
NEONFLOW_API int neonflow_client_options_set_connect_timeout_ms(neonflow_client_options *opts, int64_t ms);

/** Total timeout of one HTTP attempt in milliseconds (default 30000). Must be > 0. */
NEONFLOW_API int neonflow_client_options_set_request_timeout_ms(neonflow_client_options *opts, int64_t ms);

/**
 * How many times a failed request may be retried (default 6; 0 disables
 * retries; at most 100). Which failures are retried is fixed by the API's
 * contract: 423, 429 and 503 for every method, other 5xx only for GET.
 * Transport failures are retried for every method when the request provably
 * never went out (name resolution, connect, a reset TLS handshake), else only
 * for GET (a mutation whose answer was lost fails with NEONFLOW_EUNCERTAIN);
 * certificate failures never.
 */
NEONFLOW_API int neonflow_client_options_set_max_retries(neonflow_client_options *opts, int32_t retries);

/**
 * Full-jitter exponential backoff: the n-th retry waits a random time in
 * [0, min(cap_ms, base_ms * 2^n)) (n = 0 for the first retry), never less
 * than a Retry-After the server sent. A Retry-After of more than 5 minutes is
 * not waited for: the call fails at once with that answer's error (marked
 * retryable). No wait runs past the call's deadline: the call then fails with
 * NEONFLOW_ETIMEOUT describing the last failure. Defaults 250 ms and
 * 10000 ms. Requires 0 < base_ms <= cap_ms.
 */
NEONFLOW_API int neonflow_client_options_set_retry_backoff(neonflow_client_options *opts, int64_t base_ms, int64_t cap_ms);

/**
 * Client-side rate limit shared by all threads using the client: at most
 * `per_minute` requests per minute overall and `per_second_per_route` per
 * second to one route (defaults: Neon's 700 and 40). 0 for either disables
 * that limit. Negative values are rejected. Requests are paced evenly across
 * the budget, first come first served across threads: each takes the next
 * free slot (after idle time a burst of 4% of the per-minute limit and an
 * eighth of the per-route one starts at once), so a saturated client
 * makes every thread wait about the same short time and none stalls for a
 * minute. A 429 pushes every thread's next slot past its Retry-After (at
 * most a minute; not at all for one over the 5 minutes the library waits,
 * which the caller gets) and spends the burst. Behind the pacing, a request
 * holds its slot from just before it is sent until its answer has arrived,
 * and the windows are measured with a small margin (1.05 s and 61 s), so a
 * server counting the same limits never sees them exceeded. A call that has
 * to wait blocks only its own thread; the wait ends early when the call's
 * cancel token fires, and fails with NEONFLOW_ETIMEOUT at once (taking no
 * slot) if it would pass the deadline. A rate-limit hook
 * (neonflow_client_options_set_rate_limit_hook) replaces this limiter.
 */
NEONFLOW_API int neonflow_client_options_set_rate_limit(neonflow_client_options *opts, int32_t per_minute, int32_t per_second_per_route);

/* ---- rate-limit hook (1.1) ------------------------------------------------ */

/** What the client asks its rate-limit hook (neonflow_rate_limit_request_kind). */
#define NEONFLOW_RATE_LIMIT_ACQUIRE   0  /**< before a request: grant a token or ask to wait */
#define NEONFLOW_RATE_LIMIT_THROTTLED 1  /**< after a 429: the server said slow down */

/** One question to the rate-limit hook; valid only during the hook call. */
typedef struct neonflow_rate_limit_request neonflow_rate_limit_request;

/**
 * A rate-limit hook: called by the thread making the request. ACQUIRE: return
 * 0 to go on (the request is sent now, unless the hook set a wait with
 * neonflow_rate_limit_request_set_wait_ms, after which the client waits and
 * asks again); THROTTLED: return 0 to go on with the client's own retry
 * policy. Non-zero fails the request with NEONFLOW_EHOOK_FAILED (ACQUIRE: it
 * was not sent). The hook may be called from many threads at once; it must
 * not make calls on the client it limits (they would ask it again).
 */
typedef int (*neonflow_rate_limit_fn)(neonflow_rate_limit_request *req, void *payload);

/**
 * Sets a rate-limit hook (fn == NULL removes it) that replaces the built-in
 * limiter of neonflow_client_options_set_rate_limit: before every attempt the
 * client asks it for a token (ACQUIRE, with the method, route template and
 * project), and after every 429 it reports the answer (THROTTLED, with the
 * server's Retry-After) so a store shared by processes can slow everyone
 * down. Which account a token is for is the payload's business. Waits the
 * hook asks for end early when the call's cancel token fires
 * (NEONFLOW_ECANCELLED) and fail with NEONFLOW_ETIMEOUT at once if they would
 * pass the call's deadline. The payload follows the destroy rule of common.h.
 * Errors: NEONFLOW_EINVAL (opts NULL), NEONFLOW_ENOMEM.
 * Thread-safety: like every options setter, not with other calls on opts.
 */
NEONFLOW_API int neonflow_client_options_set_rate_limit_hook(neonflow_client_options *opts,
        neonflow_rate_limit_fn fn, void *payload, neonflow_destroy_fn destroy);

/** NEONFLOW_RATE_LIMIT_ACQUIRE or NEONFLOW_RATE_LIMIT_THROTTLED (-1 for a NULL req). */
NEONFLOW_API int32_t neonflow_rate_limit_request_kind(const neonflow_rate_limit_request *req);
/** The HTTP method, e.g. "GET". Borrowed for the hook call; NULL for a NULL req. */
NEONFLOW_API const char *neonflow_rate_limit_request_method(const neonflow_rate_limit_request *req);
/**
 * The route template, e.g. "/projects/{project_id}/branches" (the route of
 * log and trace records; the path without its query for a request made
 * without one). Borrowed for the hook call; NULL for a NULL req.
 */
NEONFLOW_API const char *neonflow_rate_limit_request_route(const neonflow_rate_limit_request *req);
/** The project the request is about, or NULL when none. Borrowed for the hook call. */
NEONFLOW_API const char *neonflow_rate_limit_request_project_id(const neonflow_rate_limit_request *req);
/**
 * THROTTLED: the server's Retry-After in milliseconds (0 for a date in the
 * past), -1 when the answer had none; always -1 for ACQUIRE.
 */
NEONFLOW_API int64_t neonflow_rate_limit_request_retry_after_ms(const neonflow_rate_limit_request *req);
/**
 * ACQUIRE: no token yet. When the hook returns 0 the client waits wait_ms
 * (cancellable, within the call's deadline) and asks again. 0 clears it.
 * Errors: NEONFLOW_EINVAL (req NULL, not an ACQUIRE, wait_ms negative or
 * more than one hour).
 */
NEONFLOW_API int neonflow_rate_limit_request_set_wait_ms(neonflow_rate_limit_request *req, int64_t wait_ms);

/** Largest response body accepted, in bytes (default 64 MiB, minimum 1024). */
NEONFLOW_API int neonflow_client_options_set_max_response_bytes(neonflow_client_options *opts, int64_t bytes);

/** A PEM file of CA certificates to verify the server with (copied path). NULL restores the system store. */
NEONFLOW_API int neonflow_client_options_set_ca_file(neonflow_client_options *opts, const char *path);

/**
 * Lets the client read the process environment (default 0: it reads none):
 * NEON_API_KEY when no key was set, NEON_API_HOST when no base URL was set
 * (explicit settings always win), and libcurl's proxy variables (http_proxy,
 * https_proxy, all_proxy, no_proxy) when no proxy or no-proxy list was set.
 * With it off a client without a key fails with NEONFLOW_ECONFIG, so one
 * tenant of a control plane can never be handed the process's key. Command
 * line tools and scripts turn it on. The variables are read once, by
 * neonflow_client_new. Errors: NEONFLOW_EINVAL (opts NULL).
 */
NEONFLOW_API int neonflow_client_options_set_use_environment(neonflow_client_options *opts, int use);

/**
 * Sends every request through a proxy: "http://host:port",
 * "https://host:port", "socks5h://host:port" (also socks4, socks4a,
 * socks5), optionally with "user:password@" (treated as a secret). NULL
 * removes it (then, with the environment enabled, libcurl's proxy variables
 * apply; without, no proxy is used). An https:// base URL crosses the proxy
 * inside a CONNECT tunnel, so the proxy sees the host name only, never the
 * API key. A plain http:// base URL would be read by the proxy, key
 * included: the client refuses that (NEONFLOW_EINSECURE) unless the proxy is
 * on a loopback address or neonflow_client_options_set_allow_insecure_http()
 * allows it. Errors: NEONFLOW_EINVAL (opts NULL, another scheme, no host,
 * spaces or control characters), NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_client_options_set_proxy(neonflow_client_options *opts, const char *url);

/**
 * Hosts reached without the proxy: a comma-separated list of host names
 * (matching their subdomains too), IP addresses or CIDR ranges, or "*" for
 * all (libcurl's CURLOPT_NOPROXY syntax). NULL or "" clears it. Errors:
 * NEONFLOW_EINVAL (opts NULL, control characters), NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_client_options_set_noproxy(neonflow_client_options *opts, const char *hosts);

/**
 * A directory of CA certificates (OpenSSL c_rehash layout) to verify the
 * server with, in addition to the CA file. NULL clears it. Errors:
 * NEONFLOW_EINVAL (opts NULL, empty, control characters), NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_client_options_set_ca_path(neonflow_client_options *opts, const char *dir);

/**
 * An in-memory PEM bundle of CA certificates, used instead of the CA file
 * (for a control plane that keeps its trust anchors outside the file
 * system). The `len` bytes at `pem` are copied. NULL (with len 0) clears it.
 * Errors: NEONFLOW_EINVAL (opts NULL, len 0 or over 16 MiB, len without
 * pem), NEONFLOW_ENOMEM; a libcurl without blob support fails
 * neonflow_client_new with NEONFLOW_EUNSUPPORTED.
 */
NEONFLOW_API int neonflow_client_options_set_ca_blob(neonflow_client_options *opts, const void *pem, size_t len);

/**
 * A client certificate for mutual TLS, as PEM files: `cert_path` holds the
 * certificate (and the key when `key_path` is NULL). NULL, NULL clears it.
 * Replaces nothing set with _set_client_cert_blob; setting both fails
 * neonflow_client_new with NEONFLOW_ECONFIG. A file that cannot be read
 * fails the requests with NEONFLOW_ETLS. Errors: NEONFLOW_EINVAL (opts NULL,
 * a key without a certificate, empty paths), NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_client_options_set_client_cert_file(neonflow_client_options *opts, const char *cert_path, const char *key_path);

/**
 * A client certificate and its key as in-memory PEM (both copied; the key
 * is wiped from memory when freed). key_pem NULL: the key is in the
 * certificate's PEM. NULL, 0, NULL, 0 clears it. Errors: NEONFLOW_EINVAL
 * (opts NULL, a length of 0 or over 16 MiB, a key without a certificate),
 * NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_client_options_set_client_cert_blob(neonflow_client_options *opts, const void *cert_pem, size_t cert_len, const void *key_pem, size_t key_len);

/**
 * The password of an encrypted client key (copied, wiped when freed; NULL
 * or "" clears it). Setting it without a client certificate fails
 * neonflow_client_new with NEONFLOW_ECONFIG. Errors: NEONFLOW_EINVAL (opts
 * NULL, longer than 1024 bytes), NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_client_options_set_client_key_password(neonflow_client_options *opts, const char *password);

/**
 * The lowest TLS version the client accepts: NEONFLOW_TLS_1_2 (the default)
 * or NEONFLOW_TLS_1_3. A server that speaks only older versions fails the
 * handshake (NEONFLOW_ETLS, not retried). Errors: NEONFLOW_EINVAL (opts
 * NULL, another value).
 */
NEONFLOW_API int neonflow_client_options_set_tls_min_version(neonflow_client_options *opts, int32_t version);

/**
 * Allows plain http:// base URLs to non-loopback hosts (default 0: refused
 * with NEONFLOW_EINSECURE, since the API key would travel in clear text).
 */
NEONFLOW_API int neonflow_client_options_set_allow_insecure_http(neonflow_client_options *opts, int allow);

/**
 * Sets the log hook (fn == NULL removes it). The payload follows the destroy
 * rule of common.h. Which messages reach it: neonflow_client_options_set_log_level.
 * Errors: NEONFLOW_EINVAL (opts NULL), NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_client_options_set_log_hook(neonflow_client_options *opts, neonflow_log_fn fn, void *payload, neonflow_destroy_fn destroy);

/**
 * The least severe level delivered to the log hook: messages at min_level or
 * more severe (a lower NEONFLOW_LOG_* value) are. Default NEONFLOW_LOG_INFO.
 * Errors: NEONFLOW_EINVAL (opts NULL, not a NEONFLOW_LOG_* value).
 */
NEONFLOW_API int neonflow_client_options_set_log_level(neonflow_client_options *opts, int32_t min_level);

/**
 * Sets the HTTP trace hook (fn == NULL removes it). The payload follows the
 * destroy rule of common.h. Errors: NEONFLOW_EINVAL (opts NULL), NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_client_options_set_trace_hook(neonflow_client_options *opts, neonflow_trace_fn fn, void *payload, neonflow_destroy_fn destroy);

/**
 * Creates a client from `opts` (which must not be NULL). The client copies the
 * options; later changes to `opts` do not affect it, and `opts` may be freed
 * at once. Hooks are shared: a hook's destroy callback runs once, when neither
 * the options object nor any client created from it uses that hook any more.
 * Errors: NEONFLOW_EINVAL (NULL out/opts), NEONFLOW_ECONFIG (no API key in the
 * options, nor in NEON_API_KEY with the environment enabled; malformed
 * NEON_API_HOST; conflicting client certificate settings),
 * NEONFLOW_EINSECURE, NEONFLOW_EUNSUPPORTED (libcurl lacks an option that was
 * set), NEONFLOW_ENOMEM, NEONFLOW_EGENERIC (libcurl could not be initialised).
 * The first call installs the process-wide allocation functions described at
 * the top of this header; if that fails for want of memory, a later call
 * tries again. *out is NULL after a failure. Thread-safety: may be called
 * from any thread.
 */
NEONFLOW_API int neonflow_client_new(neonflow_client **out, const neonflow_client_options *opts, neonflow_error **err);

/**
 * Frees the client. No call may be in flight on it. NULL is accepted.
 */
NEONFLOW_API void neonflow_client_free(neonflow_client *client);

/** The effective base URL (without trailing '/'). Borrowed until the client is freed. */
NEONFLOW_API const char *neonflow_client_base_url(const neonflow_client *client);

/**
 * Copies `text` into *out with the API key `secret` redacted by the rule the
 * library applies to everything it hands out (errors, reports, events, log
 * and trace lines): the whole key and any run of 12 or more consecutive
 * characters of it, written literally, percent-encoded (%XX) or JSON-escaped
 * (\uXXXX, \/), become "***". For callers that print strings of their own
 * or data objects from the API. A NULL or empty secret copies text unchanged.
 * *out is freed with neonflow_free(). Errors: NEONFLOW_EINVAL (NULL out or
 * text), NEONFLOW_ENOMEM (*out is NULL). Thread-safety: any thread.
 */
NEONFLOW_API int neonflow_secret_redact(char **out, const char *text, const char *secret);

NEONFLOW_END_DECLS

#endif /* NEONFLOW_CLIENT_H */
