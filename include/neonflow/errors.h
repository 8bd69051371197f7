/*
 * libneonflow — error codes and error details.
 *
 * Every fallible function returns NEONFLOW_OK (0) or one of the negative codes
 * below. This registry is APPEND-ONLY: numbers are never reused or renumbered,
 * and a retired code stays reserved. New codes will appear in later versions;
 * treat any negative value you do not know as a generic failure.
 *
 * Details of a failure come through the optional last parameter of most
 * functions, `neonflow_error **err`: pass NULL to ignore them, or the address
 * of a NULL pointer to receive a newly allocated error object that the caller
 * frees with neonflow_error_free(). On success *err is left untouched.
 * A *err that already holds an error on entry is a caller bug the library
 * refuses: the call returns NEONFLOW_EINVAL without doing anything and
 * leaves *err as it was (the err rule in common.h). Free and reset it first.
 */
#ifndef NEONFLOW_ERRORS_H
#define NEONFLOW_ERRORS_H

#include "common.h"

NEONFLOW_BEGIN_DECLS

/* ---- generic (0 .. -99) ---------------------------------------------- */
#define NEONFLOW_OK               0    /**< success */
#define NEONFLOW_EGENERIC        -1    /**< unspecified failure */
#define NEONFLOW_EINVAL          -2    /**< invalid argument (NULL, empty, malformed) */
#define NEONFLOW_ENOMEM          -3    /**< out of memory */
#define NEONFLOW_ERECURSIVE      -4    /**< a workflow was started from a hook of a run on the same
                                             client (hooks may make plain API calls on it) */
#define NEONFLOW_ECANCELLED      -5    /**< cancelled by the caller (cancel token) */
#define NEONFLOW_ETIMEOUT        -6    /**< the caller's deadline passed */
#define NEONFLOW_EINSECURE       -7    /**< plain http:// to a non-loopback host was not allowed */
#define NEONFLOW_ECONFIG         -8    /**< missing configuration, e.g. no API key anywhere */
#define NEONFLOW_EUNSUPPORTED    -9    /**< not supported by this build or platform */
#define NEONFLOW_EHOOK_FAILED   -10    /**< the client's rate-limit hook returned non-zero
                                            (before sending: the request was not sent) (1.1) */

/* ---- transport (-100 .. -199) ---------------------------------------- */
#define NEONFLOW_ETRANSPORT    -100    /**< network failure not covered below */
#define NEONFLOW_ERESOLVE      -101    /**< host name could not be resolved */
#define NEONFLOW_ECONNECT      -102    /**< could not connect */
#define NEONFLOW_ETLS          -103    /**< TLS handshake or certificate verification failed */
#define NEONFLOW_ETOOBIG       -104    /**< response larger than the configured cap */
#define NEONFLOW_ENETTIMEOUT   -105    /**< connect or request timeout of the client */

/* ---- Neon API (-200 .. -299) ----------------------------------------- */
#define NEONFLOW_EAPI          -200    /**< another 4xx answer from Neon */
#define NEONFLOW_EAUTH         -201    /**< 401/403: missing, invalid or insufficient API key */
#define NEONFLOW_ENOTFOUND     -202    /**< 404: unknown project, branch, snapshot, ... */
#define NEONFLOW_ECONFLICT     -203    /**< 409: e.g. duplicate name, second read-write endpoint */
#define NEONFLOW_ELOCKED       -204    /**< 423: a conflicting operation is running (retries exhausted) */
#define NEONFLOW_ERATELIMIT    -205    /**< 429: rate limited (retries exhausted) */
#define NEONFLOW_ESERVER       -206    /**< 5xx from Neon (retries exhausted or not retryable) */
#define NEONFLOW_EPROTOCOL     -207    /**< malformed, truncated or unexpected response */
#define NEONFLOW_EUNCERTAIN    -208    /**< a non-idempotent request may or may not have been applied
                                            (response lost): read the state back, do not replay */
#define NEONFLOW_EBADREQUEST   -209    /**< 400/422: Neon rejected the request as invalid */

/* ---- operations (-300 .. -399) --------------------------------------- */
#define NEONFLOW_EOPFAILED     -300    /**< an operation ended in `error` (or stayed `failed` to the deadline) */
#define NEONFLOW_EOPCANCELLED  -301    /**< an operation ended `cancelled` */
#define NEONFLOW_EOPTIMEOUT    -302    /**< operations still not finished at the deadline */

/* ---- workflow (-400 .. -499) ----------------------------------------- */
#define NEONFLOW_EBRANCH_MISSING  -400 /**< a named branch does not exist */
#define NEONFLOW_ENOT_ROOT        -401 /**< the branch is not a root branch */
#define NEONFLOW_ESAME_BRANCH     -402 /**< source and target are the same branch */
#define NEONFLOW_ENO_ENDPOINT     -403 /**< the target has no read-write endpoint */
#define NEONFLOW_ERESTRICTED      -404 /**< Neon restricts restore onto this branch */
#define NEONFLOW_EBUSY            -405 /**< conflicting operations still running at the deadline */
#define NEONFLOW_EROOT_LIMIT      -406 /**< root-branch limit reached: prune backups first */
#define NEONFLOW_ESNAPSHOT_LIMIT  -407 /**< snapshot limit reached: prune snapshots first */
#define NEONFLOW_ENO_ROLLBACK     -408 /**< no rollback point exists for the target */
#define NEONFLOW_ESTATE           -409 /**< Neon's state is not what the step expected */
#define NEONFLOW_ERUN_MISMATCH    -410 /**< a run id was reused with different inputs */
#define NEONFLOW_ELEASE_HELD      -411 /**< another run holds the target's lease: nothing was changed */

/* ---- callbacks (-500 .. -599) ---------------------------------------- */
#define NEONFLOW_ECALLBACK     -500    /**< a hook or gate returned non-zero: stopped safely */

/**
 * A static, human-readable description of `code` (e.g. "invalid argument").
 * Never NULL, never to be freed; an unknown code gives "unknown error code".
 * Thread-safety: safe from any thread.
 */
NEONFLOW_API const char *neonflow_strerror(int code);

/**
 * The static symbolic name of `code` (e.g. "NEONFLOW_EINVAL"), for bindings
 * that map codes to exception classes. Never NULL; "NEONFLOW_EUNKNOWN" for a
 * code this version does not know. Thread-safety: safe from any thread.
 */
NEONFLOW_API const char *neonflow_error_name(int code);

/** Opaque details of one failure. */
typedef struct neonflow_error neonflow_error;

/** The NEONFLOW_E* code. NEONFLOW_EINVAL if `e` is NULL. */
NEONFLOW_API int neonflow_error_code(const neonflow_error *e);

/**
 * A one-line message saying what failed and, where possible, what to do.
 * Never NULL (empty string if `e` is NULL); borrowed until neonflow_error_free.
 * Never contains the API key.
 */
NEONFLOW_API const char *neonflow_error_message(const neonflow_error *e);

/** HTTP status of the failing response, or 0 when there was none. */
NEONFLOW_API int32_t neonflow_error_http_status(const neonflow_error *e);

/** Neon's `code` field from the error body ("" when absent). Borrowed; never NULL. */
NEONFLOW_API const char *neonflow_error_neon_code(const neonflow_error *e);

/** The request id of the failing request ("" when none). Borrowed; never NULL. */
NEONFLOW_API const char *neonflow_error_request_id(const neonflow_error *e);

/** HTTP method of the failing request ("" when none). Borrowed; never NULL. */
NEONFLOW_API const char *neonflow_error_method(const neonflow_error *e);

/** Path of the failing request below the base URL ("" when none). Borrowed; never NULL. */
NEONFLOW_API const char *neonflow_error_path(const neonflow_error *e);

/**
 * 1 when the same call may succeed if tried again later (e.g. 423, 429, 503,
 * timeouts of idempotent calls), 0 otherwise.
 */
NEONFLOW_API int neonflow_error_is_retryable(const neonflow_error *e);

/**
 * How long the server asked to wait before trying again, in milliseconds:
 * the Retry-After header of the final HTTP answer behind the failure (seconds
 * or an HTTP date, converted; 0 for a date in the past), or -1 when that
 * answer had none, there was no answer, or `e` is NULL. A control plane can
 * use it to schedule its own retry after the library's retries are spent.
 * Thread-safety: any thread (the error object must not be freed meanwhile).
 */
NEONFLOW_API int64_t neonflow_error_retry_after_ms(const neonflow_error *e);

/** Frees an error object. NULL is accepted. */
NEONFLOW_API void neonflow_error_free(neonflow_error *e);

NEONFLOW_END_DECLS

#endif /* NEONFLOW_ERRORS_H */
