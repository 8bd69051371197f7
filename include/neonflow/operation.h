/*
 * libneonflow — Neon operations: read them, list them, and wait for them.
 *
 * Every Neon mutation returns a list of operations that run asynchronously;
 * a result is only usable once all of them are done. An operation object is
 * read-only and read through getters.
 *
 * Conventions for every getter in this header:
 * - a NULL object gives NULL (strings), -1 (numbers; 0 for `_ms` times and list
 *   sizes) or the _NONE/_UNKNOWN constant (enums); getters never fail;
 * - strings are borrowed: valid until the object that owns them (the
 *   operation, or the list / result it was taken from) is freed;
 * - an optional string field that is absent or JSON null gives NULL;
 * - timestamps come as the RFC 3339 string and as Unix epoch milliseconds
 *   (the `_ms` getter), which is 0 when the field is absent or unparseable;
 * - booleans are exactly 1 or 0.
 * An operation needs `id`, `project_id`, `action` and `status` to parse;
 * every other field may be absent. neonflow_operation_json() reads any field
 * this version has no getter for.
 * Thread-safety: objects are immutable; any number of threads may read the
 * same object at once. Freeing must not race with reading.
 */
#ifndef NEONFLOW_OPERATION_H
#define NEONFLOW_OPERATION_H

#include "common.h"
#include "errors.h"
#include "client.h"
#include "call_options.h"
#include "cancel.h"

NEONFLOW_BEGIN_DECLS

typedef struct neonflow_operation neonflow_operation;
typedef struct neonflow_operation_list neonflow_operation_list;

/*
 * The enumerations below are append-only: values are never renumbered or
 * reused, and later versions may add new ones (Neon adds states), so callers
 * must tolerate values they do not know (treat them like _UNKNOWN).
 */

/* ---- status (neon-api.md §5.3) ------------------------------------------- */
#define NEONFLOW_OP_STATUS_UNKNOWN     0 /**< a status this version does not know: see _status_raw */
#define NEONFLOW_OP_STATUS_SCHEDULING  1
#define NEONFLOW_OP_STATUS_RUNNING     2
#define NEONFLOW_OP_STATUS_FINISHED    3 /**< done, success */
#define NEONFLOW_OP_STATUS_FAILED      4 /**< failed for now; Neon retries it (not final) */
#define NEONFLOW_OP_STATUS_ERROR       5 /**< terminal error */
#define NEONFLOW_OP_STATUS_CANCELLING  6
#define NEONFLOW_OP_STATUS_CANCELLED   7 /**< terminal: cancelled */
#define NEONFLOW_OP_STATUS_SKIPPED     8 /**< done, bypassed (counts as success) */

/* ---- action (neon-api.md §5.4; new values map to _UNKNOWN) -------------- */
#define NEONFLOW_OP_ACTION_UNKNOWN                          0
#define NEONFLOW_OP_ACTION_CREATE_COMPUTE                   1
#define NEONFLOW_OP_ACTION_CREATE_TIMELINE                  2
#define NEONFLOW_OP_ACTION_START_COMPUTE                    3
#define NEONFLOW_OP_ACTION_SUSPEND_COMPUTE                  4
#define NEONFLOW_OP_ACTION_APPLY_CONFIG                     5
#define NEONFLOW_OP_ACTION_CHECK_AVAILABILITY               6
#define NEONFLOW_OP_ACTION_DELETE_TIMELINE                  7
#define NEONFLOW_OP_ACTION_CREATE_BRANCH                    8
#define NEONFLOW_OP_ACTION_IMPORT_DATA                      9
#define NEONFLOW_OP_ACTION_TENANT_IGNORE                   10
#define NEONFLOW_OP_ACTION_TENANT_ATTACH                   11
#define NEONFLOW_OP_ACTION_TENANT_DETACH                   12
#define NEONFLOW_OP_ACTION_TENANT_DETACH_SAFEKEEPERS       13
#define NEONFLOW_OP_ACTION_TENANT_ATTACH_SAFEKEEPERS       14
#define NEONFLOW_OP_ACTION_TENANT_REATTACH                 15
#define NEONFLOW_OP_ACTION_REPLACE_SAFEKEEPER              16
#define NEONFLOW_OP_ACTION_DISABLE_MAINTENANCE             17
#define NEONFLOW_OP_ACTION_APPLY_STORAGE_CONFIG            18
#define NEONFLOW_OP_ACTION_PREPARE_SECONDARY_PAGESERVER    19
#define NEONFLOW_OP_ACTION_SWITCH_PAGESERVER               20
#define NEONFLOW_OP_ACTION_DETACH_PARENT_BRANCH            21
#define NEONFLOW_OP_ACTION_TIMELINE_ARCHIVE                22
#define NEONFLOW_OP_ACTION_TIMELINE_UNARCHIVE              23
#define NEONFLOW_OP_ACTION_START_RESERVED_COMPUTE          24
#define NEONFLOW_OP_ACTION_SYNC_DBS_AND_ROLES_FROM_COMPUTE 25
#define NEONFLOW_OP_ACTION_APPLY_SCHEMA_FROM_BRANCH        26
#define NEONFLOW_OP_ACTION_TIMELINE_MARK_INVISIBLE         27
#define NEONFLOW_OP_ACTION_TIMELINE_UPDATE_PROTECTED_CONFIG 28
#define NEONFLOW_OP_ACTION_PREWARM_REPLICA                 29
#define NEONFLOW_OP_ACTION_PROMOTE_REPLICA                 30
#define NEONFLOW_OP_ACTION_SET_STORAGE_NON_DIRTY           31
#define NEONFLOW_OP_ACTION_SWAP_BINDING_ID                 32
#define NEONFLOW_OP_ACTION_FINALIZE_MIGRATION              33
#define NEONFLOW_OP_ACTION_MARK_MIGRATION_PREPARED         34
#define NEONFLOW_OP_ACTION_UPDATE_CATALOG                  35
#define NEONFLOW_OP_ACTION_EPC_SYNC                        36

/**
 * The static name of a NEONFLOW_OP_STATUS_* value, Neon's own string
 * ("scheduling", "running", ...); "unknown" for _UNKNOWN and values this
 * version does not know (the operation's _status_raw has Neon's string
 * then). Never NULL. Thread-safety: any thread.
 */
NEONFLOW_API const char *neonflow_operation_status_name(int32_t status);
/** Same for NEONFLOW_OP_ACTION_* ("create_compute", ..., "unknown"). */
NEONFLOW_API const char *neonflow_operation_action_name(int32_t action);

/* ---- operation getters --------------------------------------------------- */
/** Operation ID (a UUID). Never NULL for a non-NULL operation. */
NEONFLOW_API const char *neonflow_operation_id(const neonflow_operation *op);
/** Project ID. Never NULL for a non-NULL operation. */
NEONFLOW_API const char *neonflow_operation_project_id(const neonflow_operation *op);
/** Branch ID, or NULL when absent. */
NEONFLOW_API const char *neonflow_operation_branch_id(const neonflow_operation *op);
/** Endpoint ID, or NULL when absent. */
NEONFLOW_API const char *neonflow_operation_endpoint_id(const neonflow_operation *op);
/** One of NEONFLOW_OP_ACTION_*; _UNKNOWN for a value this version does not know. */
NEONFLOW_API int32_t neonflow_operation_action(const neonflow_operation *op);
/** The action exactly as Neon sent it (e.g. "create_branch"). */
NEONFLOW_API const char *neonflow_operation_action_raw(const neonflow_operation *op);
/** One of NEONFLOW_OP_STATUS_*; _UNKNOWN for a value this version does not know. */
NEONFLOW_API int32_t neonflow_operation_status(const neonflow_operation *op);
/** The status exactly as Neon sent it (e.g. "running"). */
NEONFLOW_API const char *neonflow_operation_status_raw(const neonflow_operation *op);
/** Neon's human-readable reason for a failure, or NULL when absent. */
NEONFLOW_API const char *neonflow_operation_error(const neonflow_operation *op);
/** How many times the operation failed (and was retried by Neon); -1 when absent or for NULL. */
NEONFLOW_API int32_t neonflow_operation_failures_count(const neonflow_operation *op);
/** When the operation was last retried (RFC 3339), or NULL. */
NEONFLOW_API const char *neonflow_operation_retry_at(const neonflow_operation *op);
/** Creation time (RFC 3339), or NULL when absent. */
NEONFLOW_API const char *neonflow_operation_created_at(const neonflow_operation *op);
/** created_at in Unix epoch ms; 0 when absent or unparseable. */
NEONFLOW_API int64_t neonflow_operation_created_at_ms(const neonflow_operation *op);
/** Time of the last status change (RFC 3339), or NULL when absent. */
NEONFLOW_API const char *neonflow_operation_updated_at(const neonflow_operation *op);
/** Total duration in milliseconds as reported by Neon; -1 when absent or for NULL. */
NEONFLOW_API int64_t neonflow_operation_total_duration_ms(const neonflow_operation *op);
/**
 * 1 when the status is final for waiting purposes (finished, skipped, error,
 * cancelled), 0 otherwise (including `failed`, which Neon retries, and
 * unknown statuses). 0 for NULL.
 */
NEONFLOW_API int neonflow_operation_is_done(const neonflow_operation *op);
/**
 * The operation object as Neon sent it, as compact JSON text: the same
 * members in the same order with the same values, whitespace removed. Same
 * contract as neonflow_branch_json(): borrowed until the operation (or its
 * list or result) is freed, made once, thread-safe, NULL only for NULL or
 * when memory ran out (a later call may succeed).
 */
NEONFLOW_API const char *neonflow_operation_json(const neonflow_operation *op);
/** Frees an operation returned by neonflow_operation_get() or neonflow_operation_dup(). NULL is accepted. */
NEONFLOW_API void neonflow_operation_free(neonflow_operation *op);
/**
 * A copy of `op` that the caller owns and frees with
 * neonflow_operation_free(), and that outlives the list or result `op` was
 * borrowed from (an operation list, a branch result, an await result). It
 * shares the immutable parsed JSON of that one operation. NEONFLOW_EINVAL
 * for a NULL out or op (*out NULL), NEONFLOW_ENOMEM. Thread-safety: any
 * thread, also many at once on the same `op`.
 */
NEONFLOW_API int neonflow_operation_dup(neonflow_operation **out, const neonflow_operation *op);

/* ---- operation lists ------------------------------------------------------ */
/** Number of operations; 0 for NULL. */
NEONFLOW_API size_t neonflow_operation_list_count(const neonflow_operation_list *list);
/** The i-th operation (borrowed from the list), or NULL when i is out of range. */
NEONFLOW_API const neonflow_operation *neonflow_operation_list_at(const neonflow_operation_list *list, size_t i);
/**
 * For a page returned by neonflow_operations_list(): the cursor to pass to get
 * the next page, or NULL when Neon sent none. NULL for other lists.
 */
NEONFLOW_API const char *neonflow_operation_list_next_cursor(const neonflow_operation_list *list);
/** Frees the list and every operation in it. NULL is accepted. */
NEONFLOW_API void neonflow_operation_list_free(neonflow_operation_list *list);

/* ---- calls ------------------------------------------------------------------
 * Every call takes `call` (call_options.h; NULL: no deadline, no cancel,
 * generated request ids) just before `err`: NEONFLOW_ETIMEOUT when its
 * deadline passes, NEONFLOW_ECANCELLED when its cancel token fires.
 */
/**
 * GET /projects/{project_id}/operations/{operation_id}.
 * *out receives a new operation (free with neonflow_operation_free()).
 * Errors: NEONFLOW_EINVAL (NULL out/client, malformed ID; no request is
 * sent), NEONFLOW_ENOTFOUND, NEONFLOW_EPROTOCOL (malformed answer), and the
 * HTTP layer's codes. *out is NULL after a failure.
 * Thread-safety: may be called from many threads on one client.
 */
NEONFLOW_API int neonflow_operation_get(neonflow_operation **out, neonflow_client *client,
                                        const char *project_id, const char *operation_id,
                                        const neonflow_call_options *call, neonflow_error **err);

/**
 * GET /projects/{project_id}/operations: ONE page, newest first.
 * `cursor` (NULL for the first page) is the value of
 * neonflow_operation_list_next_cursor() of the previous page; `limit` is the
 * page size, 1..1000, or 0 for Neon's default. *out receives a new list.
 * Errors: NEONFLOW_EINVAL (bad ID or limit), NEONFLOW_EPROTOCOL, HTTP codes.
 */
NEONFLOW_API int neonflow_operations_list(neonflow_operation_list **out, neonflow_client *client,
                                          const char *project_id, const char *cursor, int32_t limit,
                                          const neonflow_call_options *call, neonflow_error **err);

/* ---- await ------------------------------------------------------------------ */
typedef struct neonflow_await_options neonflow_await_options;
typedef struct neonflow_await_result neonflow_await_result;

/**
 * Progress hook: called on the waiting thread whenever an operation's status
 * changes (and the first time an operation known only by its ID is seen).
 * `op` is borrowed for the duration of the call. Return 0 to go on; a
 * non-zero value stops the wait with NEONFLOW_ECALLBACK. The hook must not
 * free `op` and should not block.
 */
typedef int (*neonflow_await_progress_fn)(const neonflow_operation *op, void *payload);

/** Default deadline of a wait: 10 minutes. */
#define NEONFLOW_AWAIT_DEFAULT_TIMEOUT_MS 600000

/** Creates options with defaults. Errors: NEONFLOW_EINVAL, NEONFLOW_ENOMEM. */
NEONFLOW_API int neonflow_await_options_new(neonflow_await_options **out);
/** Frees the options; runs the hooks' destroy callbacks. NULL is accepted. */
NEONFLOW_API void neonflow_await_options_free(neonflow_await_options *opts);
/**
 * Deadline of the wait in milliseconds from its start (default
 * NEONFLOW_AWAIT_DEFAULT_TIMEOUT_MS). Must be > 0 (NEONFLOW_EINVAL).
 */
NEONFLOW_API int neonflow_await_options_set_timeout_ms(neonflow_await_options *opts, int64_t timeout_ms);
/**
 * A cancel token (borrowed: it must outlive every wait using these options);
 * NULL removes it. Triggering it from another thread wakes a sleeping wait at
 * once; the wait returns NEONFLOW_ECANCELLED.
 */
NEONFLOW_API int neonflow_await_options_set_cancel(neonflow_await_options *opts, neonflow_cancel *token);
/** Sets (fn non-NULL) or removes (fn NULL) the progress hook; the payload follows the destroy
 * rule of common.h. Errors: NEONFLOW_EINVAL (opts NULL), NEONFLOW_ENOMEM. */
NEONFLOW_API int neonflow_await_options_set_progress_hook(neonflow_await_options *opts,
                                                          neonflow_await_progress_fn fn, void *payload,
                                                          neonflow_destroy_fn destroy);
/**
 * Tunes the polling schedule: the first poll round starts `first_ms` after
 * the wait begins; each later gap (start of one round to the start of the
 * next) is the previous one times 1.5, never more than `max_ms`, shortened by
 * a random 0-5%. Defaults 100 ms and 980 ms, so a finished operation is
 * noticed less than a second late while short operations are noticed within
 * a fraction of their duration. Requires 0 < first_ms <= max_ms.
 */
NEONFLOW_API int neonflow_await_options_set_poll_interval_ms(neonflow_await_options *opts, int64_t first_ms,
                                                          int64_t max_ms);

/** Number of GET requests (polls) the wait issued, counting retries of the HTTP layer once. */
NEONFLOW_API int64_t neonflow_await_result_polls(const neonflow_await_result *r);
/** Wall time of the wait in milliseconds. */
NEONFLOW_API int64_t neonflow_await_result_elapsed_ms(const neonflow_await_result *r);
/**
 * The last known state of every awaited operation, in the order given
 * (borrowed from the result). An operation known only by ID and never read
 * successfully is missing from this list.
 */
NEONFLOW_API const neonflow_operation_list *neonflow_await_result_operations(const neonflow_await_result *r);
/** Frees the result. NULL is accepted. */
NEONFLOW_API void neonflow_await_result_free(neonflow_await_result *r);

/**
 * Waits until every operation of `ops` is done: `finished` or `skipped` is
 * success; the wait fails at once with NEONFLOW_EOPFAILED when one ends in
 * `error` (the message names its ID, action and error text) or
 * NEONFLOW_EOPCANCELLED when one ends `cancelled`. `failed` is not final
 * (Neon retries it): polling goes on, and if an operation is still `failed`
 * at the deadline the wait returns NEONFLOW_EOPFAILED with its failures_count;
 * otherwise an expired deadline gives NEONFLOW_EOPTIMEOUT listing what is
 * still pending. Operations already done in `ops` are not polled again.
 *
 * Polling is adaptive: quick at first, then slower (see
 * neonflow_await_options_set_poll_interval_ms()), one GET per still-pending
 * operation per round, paced by the client's rate limiter. A poll that fails
 * with a retryable error (423, 429, 5xx, network) does not end the wait.
 * Other errors (e.g. NEONFLOW_ENOTFOUND, NEONFLOW_EAUTH) do.
 * NEONFLOW_ECANCELLED: a cancel token (of `opts` or of `call`) fired;
 * NEONFLOW_ECALLBACK: the progress hook returned non-zero.
 *
 * `out` may be NULL. When it is not, *out receives a result (polls, elapsed
 * time, last known states) whenever the wait ran, successfully OR NOT; it is
 * NULL only after NEONFLOW_EINVAL or NEONFLOW_ENOMEM. `opts` may be NULL
 * (defaults). An empty or NULL `ops` list succeeds at once.
 * Thread-safety: blocks the calling thread; hooks run on it. Many threads
 * may wait on one client at once.
 *
 * `call` (may be NULL) bounds the wait as well: the earlier of its deadline
 * and the options' timeout ends it (NEONFLOW_EOPTIMEOUT, as the options'
 * timeout does), either cancel token stops it (NEONFLOW_ECANCELLED), and
 * its request id goes on every poll.
 */
NEONFLOW_API int neonflow_operations_await(neonflow_await_result **out, neonflow_client *client,
                                           const char *project_id, const neonflow_operation_list *ops,
                                           const neonflow_await_options *opts,
                                           const neonflow_call_options *call, neonflow_error **err);

/**
 * Like neonflow_operations_await() for `count` operation IDs (each checked:
 * NEONFLOW_EINVAL before any request if one is malformed). Their first state
 * is unknown, so each is polled at least once.
 */
NEONFLOW_API int neonflow_operation_ids_await(neonflow_await_result **out, neonflow_client *client,
                                              const char *project_id, const char *const *operation_ids,
                                              size_t count, const neonflow_await_options *opts,
                                              const neonflow_call_options *call, neonflow_error **err);


NEONFLOW_END_DECLS

#endif /* NEONFLOW_OPERATION_H */
