/*
 * libneonflow — Neon snapshots: create, list, find, update, delete, restore.
 *
 * Getter conventions (as in operation.h): a NULL object gives NULL / -1;
 * strings are borrowed until the owning object (snapshot or list) is freed;
 * absent optional strings give NULL; booleans are exactly 1 or 0; `_ms`
 * timestamp getters give Unix epoch milliseconds, 0 when absent,
 * unparseable or for NULL. A snapshot needs `id`, `name` and `created_at` to parse;
 * neonflow_snapshot_json() reads any field this version has no getter for.
 * Thread-safety: objects are immutable and may be read from many threads;
 * options objects must not be used by two threads at once. Calls may be made
 * from many threads on one client.
 */
#ifndef NEONFLOW_SNAPSHOT_H
#define NEONFLOW_SNAPSHOT_H

#include "common.h"
#include "errors.h"
#include "client.h"
#include "call_options.h"
#include "operation.h"
#include "branch.h"

NEONFLOW_BEGIN_DECLS

typedef struct neonflow_snapshot neonflow_snapshot;
typedef struct neonflow_snapshot_list neonflow_snapshot_list;
typedef struct neonflow_snapshot_create_options neonflow_snapshot_create_options;
typedef struct neonflow_snapshot_update_options neonflow_snapshot_update_options;
typedef struct neonflow_snapshot_restore_options neonflow_snapshot_restore_options;

/* ---- snapshot getters ------------------------------------------------------ */
/** Snapshot ID; never NULL for a parsed snapshot. */
NEONFLOW_API const char *neonflow_snapshot_id(const neonflow_snapshot *s);
/** Display name (not unique). */
NEONFLOW_API const char *neonflow_snapshot_name(const neonflow_snapshot *s);
/**
 * The snapshot object as Neon sent it, as compact JSON text. Same contract
 * as neonflow_branch_json(): borrowed until the snapshot (or its list) is
 * freed, made once, thread-safe, NULL only for NULL or when memory ran out.
 */
NEONFLOW_API const char *neonflow_snapshot_json(const neonflow_snapshot *s);
/** Unique slug (newer Neon versions only); NULL when absent. */
NEONFLOW_API const char *neonflow_snapshot_slug(const neonflow_snapshot *s);
/** LSN captured ("0/1DE2850"); NULL when absent. */
NEONFLOW_API const char *neonflow_snapshot_lsn(const neonflow_snapshot *s);
/** Point in time captured; NULL when absent. */
NEONFLOW_API const char *neonflow_snapshot_timestamp(const neonflow_snapshot *s);
/** timestamp in Unix epoch ms; 0 when absent or unparseable. */
NEONFLOW_API int64_t neonflow_snapshot_timestamp_ms(const neonflow_snapshot *s);
/** Branch it was taken from (still that ID after the branch was replaced); NULL when absent. */
NEONFLOW_API const char *neonflow_snapshot_source_branch_id(const neonflow_snapshot *s);
/** Creation time (RFC 3339); never NULL for a parsed snapshot. */
NEONFLOW_API const char *neonflow_snapshot_created_at(const neonflow_snapshot *s);
/** created_at in Unix epoch ms; 0 when unparseable. */
NEONFLOW_API int64_t neonflow_snapshot_created_at_ms(const neonflow_snapshot *s);
/** Expiry time; NULL (and 0 ms) when the snapshot never expires. */
NEONFLOW_API const char *neonflow_snapshot_expires_at(const neonflow_snapshot *s);
/** 1 when taken by hand, 0 when taken by a schedule, absent or NULL. */
NEONFLOW_API int neonflow_snapshot_is_manual(const neonflow_snapshot *s);
/** 1 when Neon sent `manual`, so neonflow_snapshot_is_manual() is known; 0 otherwise. */
NEONFLOW_API int neonflow_snapshot_has_manual(const neonflow_snapshot *s);
/** Logical size in bytes; -1 when not computed yet (absent). */
NEONFLOW_API int64_t neonflow_snapshot_full_size_bytes(const neonflow_snapshot *s);
/** Incremental size in bytes; -1 when absent. */
NEONFLOW_API int64_t neonflow_snapshot_diff_size_bytes(const neonflow_snapshot *s);
/** Frees a snapshot returned by create, find, update or neonflow_snapshot_dup(). NULL is accepted. */
NEONFLOW_API void neonflow_snapshot_free(neonflow_snapshot *s);
/**
 * A copy of `s` that the caller owns and frees with neonflow_snapshot_free(),
 * and that outlives the list `s` was borrowed from (it shares the immutable
 * parsed JSON of that one snapshot). NEONFLOW_EINVAL for a NULL out or s
 * (*out NULL), NEONFLOW_ENOMEM. Thread-safety: any thread, also many at once
 * on the same `s`.
 */
NEONFLOW_API int neonflow_snapshot_dup(neonflow_snapshot **out, const neonflow_snapshot *s);

/** Number of snapshots in the list; 0 for NULL. */
NEONFLOW_API size_t neonflow_snapshot_list_count(const neonflow_snapshot_list *list);
/** The i-th snapshot (borrowed), or NULL when out of range. */
NEONFLOW_API const neonflow_snapshot *neonflow_snapshot_list_at(const neonflow_snapshot_list *list, size_t i);
/** Frees the list and every snapshot borrowed from it. NULL is accepted. */
NEONFLOW_API void neonflow_snapshot_list_free(neonflow_snapshot_list *list);

/* ---- options ----------------------------------------------------------------
 * _new(&o): NEONFLOW_EINVAL for NULL out, NEONFLOW_ENOMEM. Setters copy their
 * strings; NULL clears a value unless said otherwise; NEONFLOW_EINVAL for a
 * NULL options object or a malformed value. _free accepts NULL.
 */
/** New create options (head of the branch, generated name). EINVAL for NULL out, ENOMEM. */
NEONFLOW_API int neonflow_snapshot_create_options_new(neonflow_snapshot_create_options **out);
/** Frees create options. NULL is accepted. */
NEONFLOW_API void neonflow_snapshot_create_options_free(neonflow_snapshot_create_options *opts);
/** Snapshot name (passed through, not unique); NULL clears it (Neon generates one). */
NEONFLOW_API int neonflow_snapshot_create_options_set_name(neonflow_snapshot_create_options *opts, const char *name);
/** Snapshot at this LSN ("hex/hex", validated). Exclusive with a timestamp. */
NEONFLOW_API int neonflow_snapshot_create_options_set_lsn(neonflow_snapshot_create_options *opts, const char *lsn);
/** Snapshot at this RFC 3339 time (validated). Exclusive with an LSN. */
NEONFLOW_API int neonflow_snapshot_create_options_set_timestamp(neonflow_snapshot_create_options *opts,
                                                                const char *timestamp);
/** Delete the snapshot automatically at this RFC 3339 time (validated). */
NEONFLOW_API int neonflow_snapshot_create_options_set_expires_at(neonflow_snapshot_create_options *opts,
                                                                 const char *expires_at);

/** New update options (nothing changes until set). EINVAL for NULL out, ENOMEM. */
NEONFLOW_API int neonflow_snapshot_update_options_new(neonflow_snapshot_update_options **out);
/** Frees update options. NULL is accepted. */
NEONFLOW_API void neonflow_snapshot_update_options_free(neonflow_snapshot_update_options *opts);
/** New name (NULL rejected). Unset: unchanged. */
NEONFLOW_API int neonflow_snapshot_update_options_set_name(neonflow_snapshot_update_options *opts, const char *name);
/** New RFC 3339 expiry, or NULL to clear it (never expires; sent as JSON null). Unset: unchanged. */
NEONFLOW_API int neonflow_snapshot_update_options_set_expires_at(neonflow_snapshot_update_options *opts,
                                                                 const char *expires_at);

/** New restore options (Neon's defaults, no finalize). EINVAL for NULL out, ENOMEM. */
NEONFLOW_API int neonflow_snapshot_restore_options_new(neonflow_snapshot_restore_options **out);
/** Frees restore options. NULL is accepted. */
NEONFLOW_API void neonflow_snapshot_restore_options_free(neonflow_snapshot_restore_options *opts);
/** Name of the new branch; default generated by Neon. */
NEONFLOW_API int neonflow_snapshot_restore_options_set_name(neonflow_snapshot_restore_options *opts,
                                                            const char *name);
/**
 * The branch the restore replaces on finalize (validated ID). Default: the
 * snapshot's source_branch_id, which after one finalize names the "(old)"
 * branch, so setting it explicitly is strongly advised.
 */
NEONFLOW_API int neonflow_snapshot_restore_options_set_target_branch_id(neonflow_snapshot_restore_options *opts,
                                                                        const char *target_branch_id);
/** 1: finalize at once (the new branch takes over the target). Default 0 (preview branch). */
NEONFLOW_API int neonflow_snapshot_restore_options_set_finalize(neonflow_snapshot_restore_options *opts,
                                                                int finalize);

/* ---- calls -------------------------------------------------------------------
 * Common errors: NEONFLOW_EINVAL (NULL out/client, malformed ID or option; no
 * request is sent), NEONFLOW_ENOTFOUND, NEONFLOW_EPROTOCOL (malformed answer;
 * the detail names the field), NEONFLOW_EUNCERTAIN (a mutation's answer was
 * lost: list snapshots / branches before repeating it), and the HTTP layer's
 * codes. Outputs are NULL after a failure. `ops_out` may be NULL.
 * Every call takes `call` (call_options.h; NULL: no deadline, no cancel,
 * generated request ids) just before `err`: NEONFLOW_ETIMEOUT when its
 * deadline passes, NEONFLOW_ECANCELLED when its cancel token fires.
 */

/**
 * POST /projects/{project_id}/branches/{branch_id}/snapshot, with name, lsn,
 * timestamp and expires_at as percent-encoded query parameters (never a
 * body). `opts` may be NULL (snapshot of the head, generated name). Setting
 * both lsn and timestamp gives NEONFLOW_EINVAL. Only root branches can be
 * snapshotted (Neon answers with a 4xx otherwise).
 */
NEONFLOW_API int neonflow_snapshot_create(neonflow_snapshot **out, neonflow_operation_list **ops_out,
                                          neonflow_client *client, const char *project_id, const char *branch_id,
                                          const neonflow_snapshot_create_options *opts,
                                          const neonflow_call_options *call, neonflow_error **err);

/** GET /projects/{project_id}/snapshots (all snapshots; not paginated). */
NEONFLOW_API int neonflow_snapshots_list(neonflow_snapshot_list **out, neonflow_client *client,
                                         const char *project_id,
                                         const neonflow_call_options *call, neonflow_error **err);

/**
 * The snapshot with this ID (Neon has no get-one route: lists and matches).
 * NEONFLOW_ENOTFOUND when none.
 */
NEONFLOW_API int neonflow_snapshot_find_by_id(neonflow_snapshot **out, neonflow_client *client,
                                              const char *project_id, const char *snapshot_id,
                                              const neonflow_call_options *call, neonflow_error **err);

/**
 * The snapshot whose name equals `name` exactly. Snapshot names are not
 * unique: when several match, NEONFLOW_ECONFLICT (the message gives their
 * number and IDs; use neonflow_snapshots_list() to choose). NEONFLOW_ENOTFOUND
 * when none.
 */
NEONFLOW_API int neonflow_snapshot_find_by_name(neonflow_snapshot **out, neonflow_client *client,
                                                const char *project_id, const char *name,
                                                const neonflow_call_options *call, neonflow_error **err);

/**
 * PATCH /projects/{project_id}/snapshots/{snapshot_id} with the fields set in
 * `opts` (required). *out (may be NULL) receives the updated snapshot.
 */
NEONFLOW_API int neonflow_snapshot_update(neonflow_snapshot **out, neonflow_client *client, const char *project_id,
                                          const char *snapshot_id, const neonflow_snapshot_update_options *opts,
                                          const neonflow_call_options *call, neonflow_error **err);

/** DELETE /projects/{project_id}/snapshots/{snapshot_id}. */
NEONFLOW_API int neonflow_snapshot_delete(neonflow_operation_list **ops_out, neonflow_client *client,
                                          const char *project_id, const char *snapshot_id,
                                          const neonflow_call_options *call, neonflow_error **err);

/**
 * POST /projects/{project_id}/snapshots/{snapshot_id}/restore with a JSON
 * body {name?, target_branch_id?, finalize_restore?}. `opts` may be NULL.
 * *out receives the NEW branch, its endpoints and the operations. Without
 * finalize, call neonflow_branch_finalize_restore() on the new branch later.
 */
NEONFLOW_API int neonflow_snapshot_restore(neonflow_branch_result **out, neonflow_client *client,
                                           const char *project_id, const char *snapshot_id,
                                           const neonflow_snapshot_restore_options *opts,
                                           const neonflow_call_options *call, neonflow_error **err);

NEONFLOW_END_DECLS

#endif /* NEONFLOW_SNAPSHOT_H */
