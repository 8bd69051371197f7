/*
 * libneonflow — Neon branches: list, get, find by name, create, update,
 * delete, finalize a snapshot restore.
 *
 * Getter conventions (as in operation.h): a NULL object gives NULL / -1 /
 * the _NONE or _UNKNOWN constant; strings are borrowed until the owning
 * object (branch, list or result) is freed; absent optional strings give
 * NULL; int64 counters and sizes give -1 when absent; booleans are exactly
 * 1 or 0 (0 when absent or for NULL; a `_has_` getter tells absent from
 * false where that matters); `_ms` timestamp getters give Unix epoch
 * milliseconds, 0 when absent, unparseable or for NULL.
 * A branch needs only `id`, `project_id` and `name` to parse: every other
 * field may be absent (Neon deprecates fields; a missing one must not fail a
 * call). neonflow_branch_json() reads any field this version has no getter for.
 * Thread-safety: objects are immutable and may be read from many threads;
 * options objects must not be used by two threads at once. Calls may be made
 * from many threads on one client.
 */
#ifndef NEONFLOW_BRANCH_H
#define NEONFLOW_BRANCH_H

#include "common.h"
#include "errors.h"
#include "client.h"
#include "call_options.h"
#include "operation.h"
#include "endpoint.h"

NEONFLOW_BEGIN_DECLS

typedef struct neonflow_branch neonflow_branch;
typedef struct neonflow_branch_list neonflow_branch_list;
typedef struct neonflow_branch_result neonflow_branch_result;
typedef struct neonflow_branches_list_options neonflow_branches_list_options;
typedef struct neonflow_branch_create_options neonflow_branch_create_options;
typedef struct neonflow_branch_update_options neonflow_branch_update_options;

/*
 * The enumerations below are append-only: values are never renumbered or
 * reused, and later versions may add new ones (Neon adds states), so callers
 * must tolerate values they do not know (treat them like _UNKNOWN).
 */
/* Branch state (current_state, pending_state); Neon documents it as a plain string. */
#define NEONFLOW_BRANCH_STATE_NONE      -1 /**< field absent (pending_state) */
#define NEONFLOW_BRANCH_STATE_UNKNOWN    0
#define NEONFLOW_BRANCH_STATE_INIT       1
#define NEONFLOW_BRANCH_STATE_RESETTING  2
#define NEONFLOW_BRANCH_STATE_READY      3
#define NEONFLOW_BRANCH_STATE_ARCHIVED   4

/* Restore status of a branch created by a snapshot restore. */
#define NEONFLOW_RESTORE_STATUS_NONE      -1 /**< not a restored branch (field absent) */
#define NEONFLOW_RESTORE_STATUS_UNKNOWN    0
#define NEONFLOW_RESTORE_STATUS_RESTORED   1
#define NEONFLOW_RESTORE_STATUS_FINALIZED  2
#define NEONFLOW_RESTORE_STATUS_DETACHING  3

/**
 * The static name of a NEONFLOW_BRANCH_STATE_* value: Neon's own string
 * ("init", "resetting", "ready", "archived"), "none" for _NONE, "unknown" for
 * _UNKNOWN and any value this version does not know. Never NULL.
 * Thread-safety: any thread.
 */
NEONFLOW_API const char *neonflow_branch_state_name(int32_t state);
/** Same for NEONFLOW_RESTORE_STATUS_* ("restored", "finalized", "detaching", "none", "unknown"). */
NEONFLOW_API const char *neonflow_restore_status_name(int32_t status);

/* ---- branch getters ---------------------------------------------------- */
/** Branch ID ("br-..."); never NULL for a parsed branch. */
NEONFLOW_API const char *neonflow_branch_id(const neonflow_branch *b);
/** ID of the project the branch belongs to; never NULL for a parsed branch. */
NEONFLOW_API const char *neonflow_branch_project_id(const neonflow_branch *b);
/** Parent branch ID; NULL for a root branch. */
NEONFLOW_API const char *neonflow_branch_parent_id(const neonflow_branch *b);
/** LSN of the parent the branch was created from; NULL when absent. */
NEONFLOW_API const char *neonflow_branch_parent_lsn(const neonflow_branch *b);
/** Point in time of the parent the branch was created from (RFC 3339); NULL when absent. */
NEONFLOW_API const char *neonflow_branch_parent_timestamp(const neonflow_branch *b);
/** Branch name; never NULL for a parsed branch. */
NEONFLOW_API const char *neonflow_branch_name(const neonflow_branch *b);
/**
 * The branch object as Neon sent it, as compact JSON text: the same members
 * in the same order with the same values, whitespace removed (string escapes
 * and number spellings may differ, e.g. "\u00e9" comes back as UTF-8). Use it
 * for fields this version has no getter for. Borrowed until the branch (or
 * its list or result) is freed. Made on the first call and kept; safe to
 * call from many threads at once. NULL for NULL, or when memory ran out
 * making it (a later call may succeed); never NULL otherwise.
 */
NEONFLOW_API const char *neonflow_branch_json(const neonflow_branch *b);
/** NEONFLOW_BRANCH_STATE_*; _UNKNOWN also when absent. */
NEONFLOW_API int32_t neonflow_branch_current_state(const neonflow_branch *b);
/** current_state as Neon sent it; NULL when absent. */
NEONFLOW_API const char *neonflow_branch_current_state_raw(const neonflow_branch *b);
/** NEONFLOW_BRANCH_STATE_*, _NONE when absent. */
NEONFLOW_API int32_t neonflow_branch_pending_state(const neonflow_branch *b);
/** pending_state as Neon sent it; NULL when absent. */
NEONFLOW_API const char *neonflow_branch_pending_state_raw(const neonflow_branch *b);
/** When current_state last changed (RFC 3339); NULL when absent. */
NEONFLOW_API const char *neonflow_branch_state_changed_at(const neonflow_branch *b);
/** Logical size in bytes, -1 when absent. */
NEONFLOW_API int64_t neonflow_branch_logical_size_bytes(const neonflow_branch *b);
/** What created the branch (e.g. "console", "neonctl"); NULL when absent. */
NEONFLOW_API const char *neonflow_branch_creation_source(const neonflow_branch *b);
/**
 * 1 when this is the project's default branch (Neon's `default`, or its
 * deprecated alias `primary`), else 0 (also when both are absent).
 */
NEONFLOW_API int neonflow_branch_is_default(const neonflow_branch *b);
/** 1 when Neon sent `default` (or `primary`), so is_default() is known; 0 otherwise. */
NEONFLOW_API int neonflow_branch_has_default(const neonflow_branch *b);
/** 1 when the branch is protected, else 0 (also when absent). */
NEONFLOW_API int neonflow_branch_is_protected(const neonflow_branch *b);
/** 1 when Neon sent `protected`, so is_protected() is known; 0 otherwise. */
NEONFLOW_API int neonflow_branch_has_protected(const neonflow_branch *b);
/** Neon's compute_time_seconds usage counter; -1 when absent. */
NEONFLOW_API int64_t neonflow_branch_compute_time_s(const neonflow_branch *b);
/** Neon's active_time_seconds usage counter; -1 when absent. */
NEONFLOW_API int64_t neonflow_branch_active_time_s(const neonflow_branch *b);
/** Neon's written_data_bytes usage counter; -1 when absent. */
NEONFLOW_API int64_t neonflow_branch_written_data_bytes(const neonflow_branch *b);
/** Neon's data_transfer_bytes usage counter; -1 when absent. */
NEONFLOW_API int64_t neonflow_branch_data_transfer_bytes(const neonflow_branch *b);
/** Creation time (RFC 3339); NULL when absent. */
NEONFLOW_API const char *neonflow_branch_created_at(const neonflow_branch *b);
/** created_at in Unix epoch ms; 0 when absent or unparseable. */
NEONFLOW_API int64_t neonflow_branch_created_at_ms(const neonflow_branch *b);
/** Last update time (RFC 3339); NULL when absent. */
NEONFLOW_API const char *neonflow_branch_updated_at(const neonflow_branch *b);
/** updated_at in Unix epoch ms; 0 when absent or unparseable. */
NEONFLOW_API int64_t neonflow_branch_updated_at_ms(const neonflow_branch *b);
/** NULL when the branch was never reset. */
NEONFLOW_API const char *neonflow_branch_last_reset_at(const neonflow_branch *b);
/** Time-to-live expiry; NULL when the branch does not expire. */
NEONFLOW_API const char *neonflow_branch_expires_at(const neonflow_branch *b);
/** Neon's ttl_interval_seconds (the branch's time to live); -1 when absent. */
NEONFLOW_API int64_t neonflow_branch_ttl_interval_s(const neonflow_branch *b);
/** created_by.name (who created the branch); NULL when absent. */
NEONFLOW_API const char *neonflow_branch_created_by_name(const neonflow_branch *b);
/** created_by.image (avatar URL of the creator); NULL when absent. */
NEONFLOW_API const char *neonflow_branch_created_by_image(const neonflow_branch *b);
/** "parent-data", "schema-only", ...; NULL when absent. */
NEONFLOW_API const char *neonflow_branch_init_source(const neonflow_branch *b);
/** NEONFLOW_RESTORE_STATUS_*; _NONE when absent (not a restored branch). */
NEONFLOW_API int32_t neonflow_branch_restore_status(const neonflow_branch *b);
/** restore_status as Neon sent it; NULL when absent (not a restored branch). */
NEONFLOW_API const char *neonflow_branch_restore_status_raw(const neonflow_branch *b);
/** Snapshot this branch was restored from; NULL when absent. */
NEONFLOW_API const char *neonflow_branch_restored_from(const neonflow_branch *b);
/** ID of the branch this one replaced (or will replace on finalize); NULL when absent. */
NEONFLOW_API const char *neonflow_branch_restored_as(const neonflow_branch *b);
/** Number of entries of restricted_actions (0 when absent). */
NEONFLOW_API size_t neonflow_branch_restricted_action_count(const neonflow_branch *b);
/** Name of restricted_actions entry i (e.g. "restore"); NULL out of range or absent. */
NEONFLOW_API const char *neonflow_branch_restricted_action_name_at(const neonflow_branch *b, size_t i);
/** Reason of restricted_actions entry i; NULL out of range or absent. */
NEONFLOW_API const char *neonflow_branch_restricted_action_reason_at(const neonflow_branch *b, size_t i);
/** 1 when restricted_actions holds an entry named `name`, else 0. */
NEONFLOW_API int neonflow_branch_is_action_restricted(const neonflow_branch *b, const char *name);
/** Frees a branch returned by get, find, update or neonflow_branch_dup(). NULL is accepted. */
NEONFLOW_API void neonflow_branch_free(neonflow_branch *b);
/**
 * A copy of `b` that the caller owns and frees with neonflow_branch_free(),
 * and that outlives the list or result `b` was borrowed from (it shares the
 * immutable parsed JSON of that one branch, not the whole page). Every
 * getter returns the same values on the copy.
 * NEONFLOW_EINVAL for a NULL out or b (*out NULL), NEONFLOW_ENOMEM.
 * Thread-safety: may be called from many threads on the same `b`.
 */
NEONFLOW_API int neonflow_branch_dup(neonflow_branch **out, const neonflow_branch *b);

/* ---- lists and results ---------------------------------------------------- */
/** Number of branches in the list; 0 for NULL. */
NEONFLOW_API size_t neonflow_branch_list_count(const neonflow_branch_list *list);
/** The i-th branch (borrowed), or NULL when out of range. */
NEONFLOW_API const neonflow_branch *neonflow_branch_list_at(const neonflow_branch_list *list, size_t i);
/**
 * For a single page (neonflow_branches_list() with a limit or cursor set):
 * Neon's `pagination.next`, to pass to
 * neonflow_branches_list_options_set_cursor() for the next page; NULL when
 * this was the last page (or Neon sent none). Always NULL for a list of all
 * pages and for NULL. Borrowed until the list is freed.
 */
NEONFLOW_API const char *neonflow_branch_list_next_cursor(const neonflow_branch_list *list);
/** Frees the list and every branch borrowed from it. NULL is accepted. */
NEONFLOW_API void neonflow_branch_list_free(neonflow_branch_list *list);

/**
 * A branch with the endpoints and operations a create or restore returned.
 * Every pointer is borrowed from the result; the lists are never NULL for a
 * non-NULL result (possibly empty).
 */
NEONFLOW_API const neonflow_branch *neonflow_branch_result_branch(const neonflow_branch_result *r);
/** The endpoints Neon returned with the branch (borrowed from the result; possibly empty). */
NEONFLOW_API const neonflow_endpoint_list *neonflow_branch_result_endpoints(const neonflow_branch_result *r);
/** The operations Neon started for the call (borrowed from the result; possibly empty). */
NEONFLOW_API const neonflow_operation_list *neonflow_branch_result_operations(const neonflow_branch_result *r);
/** Frees the result and everything borrowed from it. NULL is accepted. */
NEONFLOW_API void neonflow_branch_result_free(neonflow_branch_result *r);

/* ---- options --------------------------------------------------------------
 * Each options object: _new(&o) (NEONFLOW_EINVAL for NULL out, NEONFLOW_ENOMEM),
 * setters copying their strings (NEONFLOW_EINVAL for a NULL options object or
 * a malformed value, NEONFLOW_ENOMEM), _free (NULL accepted).
 */
/** New list options (no search, Neon's sort). EINVAL for NULL out, ENOMEM. */
NEONFLOW_API int neonflow_branches_list_options_new(neonflow_branches_list_options **out);
/** Frees list options. NULL is accepted. */
NEONFLOW_API void neonflow_branches_list_options_free(neonflow_branches_list_options *opts);
/** Partial match on name or ID (Neon's `search`); NULL clears it. */
NEONFLOW_API int neonflow_branches_list_options_set_search(neonflow_branches_list_options *opts, const char *search);
/** "name", "created_at" or "updated_at" (Neon's default); NULL clears it. Passed through. */
NEONFLOW_API int neonflow_branches_list_options_set_sort_by(neonflow_branches_list_options *opts, const char *sort_by);
/** "asc" or "desc" (Neon's default); NULL clears it. Passed through. */
NEONFLOW_API int neonflow_branches_list_options_set_sort_order(neonflow_branches_list_options *opts,
                                                             const char *sort_order);
/**
 * Page size, Neon's `limit`: 1..10000 (the spec's range; NEONFLOW_EINVAL
 * outside it), 0 clears it. Setting it makes neonflow_branches_list() fetch
 * ONE page. Neon caps a page at 100 branches whatever the limit, so a page
 * may hold fewer than asked: follow neonflow_branch_list_next_cursor() until
 * it is NULL, never stop on a short page.
 */
NEONFLOW_API int neonflow_branches_list_options_set_limit(neonflow_branches_list_options *opts, int32_t limit);
/**
 * Start after this cursor: the value of neonflow_branch_list_next_cursor()
 * of the previous page, passed back unchanged together with the same search
 * and sort (the cursor is opaque; Neon answers a foreign one with 400,
 * NEONFLOW_EBADREQUEST). NULL clears it. Setting it makes
 * neonflow_branches_list() fetch ONE page. NEONFLOW_EINVAL for an empty
 * cursor, one longer than 1024 bytes or one holding bytes other than
 * printable ASCII (no space), which Neon never sends.
 */
NEONFLOW_API int neonflow_branches_list_options_set_cursor(neonflow_branches_list_options *opts, const char *cursor);

/** New create options (all unset). EINVAL for NULL out, ENOMEM. */
NEONFLOW_API int neonflow_branch_create_options_new(neonflow_branch_create_options **out);
/** Frees create options. NULL is accepted. */
NEONFLOW_API void neonflow_branch_create_options_free(neonflow_branch_create_options *opts);
/** Parent branch ID (validated); default: the project's default branch. NULL clears it. */
NEONFLOW_API int neonflow_branch_create_options_set_parent_id(neonflow_branch_create_options *opts,
                                                              const char *parent_id);
/** Name (1-256 bytes); default: generated by Neon. NULL clears it. */
NEONFLOW_API int neonflow_branch_create_options_set_name(neonflow_branch_create_options *opts, const char *name);
/** RFC 3339 expiry time (validated); NULL clears it. */
NEONFLOW_API int neonflow_branch_create_options_set_expires_at(neonflow_branch_create_options *opts,
                                                               const char *expires_at);
/** 1: also create a read_write endpoint (compute) for the branch. Default 0. */
NEONFLOW_API int neonflow_branch_create_options_set_with_rw_endpoint(neonflow_branch_create_options *opts,
                                                                     int with_rw_endpoint);
/** 1: create it protected. Default: not sent (Neon's default, unprotected). */
NEONFLOW_API int neonflow_branch_create_options_set_protected(neonflow_branch_create_options *opts,
                                                              int is_protected);

/** New update options (nothing changes until set). EINVAL for NULL out, ENOMEM. */
NEONFLOW_API int neonflow_branch_update_options_new(neonflow_branch_update_options **out);
/** Frees update options. NULL is accepted. */
NEONFLOW_API void neonflow_branch_update_options_free(neonflow_branch_update_options *opts);
/** New name (1-256 bytes; NULL rejected). Unset: the name is left unchanged. */
NEONFLOW_API int neonflow_branch_update_options_set_name(neonflow_branch_update_options *opts, const char *name);
/** 1 or 0. Unset: left unchanged. */
NEONFLOW_API int neonflow_branch_update_options_set_protected(neonflow_branch_update_options *opts,
                                                              int is_protected);
/** RFC 3339 time, or NULL to clear the expiry (sent as JSON null). Unset: unchanged. */
NEONFLOW_API int neonflow_branch_update_options_set_expires_at(neonflow_branch_update_options *opts,
                                                               const char *expires_at);

/* ---- calls -------------------------------------------------------------------
 * Common errors: NEONFLOW_EINVAL (NULL out/client, malformed ID or option; no
 * request is sent), NEONFLOW_ENOTFOUND, NEONFLOW_EPROTOCOL (malformed answer;
 * the detail names the field), NEONFLOW_EUNCERTAIN (a mutation's answer was
 * lost: read the state back before repeating it), and the HTTP layer's codes
 * (NEONFLOW_ELOCKED, NEONFLOW_ERATELIMIT, transport codes, ...). Outputs are
 * NULL after a failure. `ops_out` parameters may be NULL to discard the
 * operations; mutations are only complete once their operations finished
 * (neonflow_operations_await()).
 * Every call takes `call` (call_options.h; NULL: no deadline, no cancel,
 * generated request ids) just before `err`: NEONFLOW_ETIMEOUT when its
 * deadline passes, NEONFLOW_ECANCELLED when its cancel token fires.
 */

/**
 * GET /projects/{project_id}/branches with the search and sort of `opts`
 * (may be NULL). Two modes:
 *  - neither a limit nor a cursor set in `opts` (also `opts` NULL): ALL
 *    pages (limit=100, following pagination.next until it is absent or a
 *    page is empty) in one list; neonflow_branch_list_next_cursor() gives
 *    NULL. Memory and time grow with the project: prefer pages or a search
 *    for projects with many branches.
 *  - a limit or a cursor set: ONE request, ONE page (at most 100 branches,
 *    Neon's cap); neonflow_branch_list_next_cursor() gives the cursor of the
 *    next page, NULL after the last. Walking every page this way gives the
 *    same branches as the all-pages mode, unless branches change meanwhile.
 * NEONFLOW_EBADREQUEST when Neon rejects a parameter (unknown sort_by,
 * foreign cursor).
 */
NEONFLOW_API int neonflow_branches_list(neonflow_branch_list **out, neonflow_client *client, const char *project_id,
                                        const neonflow_branches_list_options *opts,
                                        const neonflow_call_options *call, neonflow_error **err);

/** GET /projects/{project_id}/branches/{branch_id}. */
NEONFLOW_API int neonflow_branch_get(neonflow_branch **out, neonflow_client *client, const char *project_id,
                                     const char *branch_id, const neonflow_call_options *call, neonflow_error **err);

/**
 * The branch whose name equals `name` exactly (byte for byte): lists with
 * search=name over all pages and matches exactly. NEONFLOW_ENOTFOUND when
 * none matches. Branch names are unique in a project; should Neon return
 * several exact matches, NEONFLOW_ECONFLICT.
 */
NEONFLOW_API int neonflow_branch_find_by_name(neonflow_branch **out, neonflow_client *client,
                                              const char *project_id, const char *name,
                                              const neonflow_call_options *call, neonflow_error **err);

/**
 * POST /projects/{project_id}/branches. `opts` may be NULL (a child of the
 * default branch with a generated name and no compute). *out receives the
 * branch, its endpoints and operations. NEONFLOW_ECONFLICT: name in use.
 */
NEONFLOW_API int neonflow_branch_create(neonflow_branch_result **out, neonflow_client *client,
                                        const char *project_id, const neonflow_branch_create_options *opts,
                                        const neonflow_call_options *call, neonflow_error **err);

/**
 * PATCH /projects/{project_id}/branches/{branch_id} with the fields set in
 * `opts` (required). *out (may be NULL) receives the updated branch.
 */
NEONFLOW_API int neonflow_branch_update(neonflow_branch **out, neonflow_operation_list **ops_out,
                                        neonflow_client *client, const char *project_id, const char *branch_id,
                                        const neonflow_branch_update_options *opts,
                                        const neonflow_call_options *call, neonflow_error **err);

/** Branch delete options: create with _new (NEONFLOW_EINVAL, NEONFLOW_ENOMEM), free with _free (NULL accepted). */
typedef struct neonflow_branch_delete_options neonflow_branch_delete_options;
/** New delete options (Neon's defaults). EINVAL for NULL out, ENOMEM. */
NEONFLOW_API int neonflow_branch_delete_options_new(neonflow_branch_delete_options **out);
/** Frees delete options. NULL is accepted. */
NEONFLOW_API void neonflow_branch_delete_options_free(neonflow_branch_delete_options *opts);
/**
 * Neon's `hard_delete` query parameter: 1 deletes the branch for good at
 * once, 0 keeps Neon's recovery window (7 days; Branch Recovery is a preview
 * feature). Unset: not sent (Neon's default, 0). NEONFLOW_EINVAL for NULL options.
 */
NEONFLOW_API int neonflow_branch_delete_options_set_hard_delete(neonflow_branch_delete_options *opts,
                                                                int hard_delete);

/**
 * DELETE /projects/{project_id}/branches/{branch_id}[?hard_delete=...].
 * `opts` may be NULL (Neon's defaults). A 204 answer (the branch does not
 * exist or is already deleted) is success with an empty operation list, so
 * deleting twice is safe.
 */
NEONFLOW_API int neonflow_branch_delete(neonflow_operation_list **ops_out, neonflow_client *client,
                                        const char *project_id, const char *branch_id,
                                        const neonflow_branch_delete_options *opts,
                                        const neonflow_call_options *call, neonflow_error **err);

/**
 * POST /projects/{project_id}/branches/{branch_id}/finalize_restore, where
 * branch_id is the NEW branch a restore without finalize created. It takes
 * over the replaced branch's name and endpoints; the replaced branch is
 * renamed to `old_branch_name` (NULL: Neon generates one, e.g. "prod (old)").
 */
NEONFLOW_API int neonflow_branch_finalize_restore(neonflow_operation_list **ops_out, neonflow_client *client,
                                                  const char *project_id, const char *branch_id,
                                                  const char *old_branch_name,
                                                  const neonflow_call_options *call, neonflow_error **err);

NEONFLOW_END_DECLS

#endif /* NEONFLOW_BRANCH_H */
