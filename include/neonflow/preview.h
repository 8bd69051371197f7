/*
 * libneonflow — preview environments: short-lived child branches (of dev, or
 * any branch) with an expiry time and a read-write compute, for pull
 * requests and previews.
 *
 * A preview is the branch named "nf/preview/<label>" (NEONFLOW_PREVIEW_PREFIX
 * followed by the label the caller gives, e.g. "pr-123") and its read-write
 * endpoint. The name is deterministic, so:
 *  - creating the same label twice returns the existing preview (its expiry
 *    is left as it was) or fails with NEONFLOW_ECONFLICT when it exists as a
 *    child of another parent;
 *  - a create interrupted between the branch and the endpoint (crash, lost
 *    answer) is repaired by the next create of the same label;
 *  - listing asks Neon only for branches whose name contains the prefix
 *    (Neon's `search`), never for every branch of the project.
 * Previews never touch the promotion targets, so no call here takes the
 * promotion lease: Neon's unique branch names make two concurrent creates of
 * one label safe (the loser finds the winner's branch), and Neon serialises
 * operations per project. The workflows (promote, prune of backups, ...)
 * never see a preview as theirs. A preview is a child of its parent's branch
 * ID: after a refresh of dev, existing previews stay children of the old dev
 * (now a backup, which prune keeps while it has children).
 *
 * Getter conventions as in branch.h: NULL gives NULL / 0; strings are
 * borrowed until the preview (or its list) is freed.
 * Thread-safety: previews and lists are immutable and may be read from many
 * threads; options objects must not be changed while a call uses them; calls
 * may run on one client from many threads at once.
 * Every call takes `call` (call_options.h; NULL: no deadline, no cancel):
 * its deadline covers the whole call, every request and wait included.
 */
#ifndef NEONFLOW_PREVIEW_H
#define NEONFLOW_PREVIEW_H

#include "common.h"
#include "errors.h"
#include "client.h"
#include "call_options.h"
#include "branch.h"
#include "endpoint.h"

NEONFLOW_BEGIN_DECLS

/** Every preview's branch name starts with this. */
#define NEONFLOW_PREVIEW_PREFIX "nf/preview/"
/** Longest label, in bytes. */
#define NEONFLOW_PREVIEW_LABEL_MAX 63

typedef struct neonflow_preview neonflow_preview;
typedef struct neonflow_preview_list neonflow_preview_list;
typedef struct neonflow_preview_create_options neonflow_preview_create_options;
typedef struct neonflow_previews_list_options neonflow_previews_list_options;
typedef struct neonflow_preview_delete_options neonflow_preview_delete_options;
typedef struct neonflow_previews_prune_options neonflow_previews_prune_options;

/**
 * 1 when `label` is a valid preview label: 1 to NEONFLOW_PREVIEW_LABEL_MAX
 * bytes of a-z, 0-9, '-', '_' and '.', starting with a letter or digit, and
 * not "lease" (nf/preview/lease would be the lease name of a target called
 * "preview"). 0 otherwise (also for NULL). Thread-safety: any thread.
 */
NEONFLOW_API int neonflow_preview_label_valid(const char *label);

/* ---- the preview ---------------------------------------------------------- */
/** The label, e.g. "pr-123"; never NULL for a preview. */
NEONFLOW_API const char *neonflow_preview_label(const neonflow_preview *p);
/** The branch name, NEONFLOW_PREVIEW_PREFIX + label; never NULL for a preview. */
NEONFLOW_API const char *neonflow_preview_name(const neonflow_preview *p);
/** The branch ID ("br-..."); never NULL for a preview. */
NEONFLOW_API const char *neonflow_preview_branch_id(const neonflow_preview *p);
/** The parent branch ID; NULL when Neon sent none. */
NEONFLOW_API const char *neonflow_preview_parent_id(const neonflow_preview *p);
/** The branch as Neon sent it (borrowed; never NULL for a preview). */
NEONFLOW_API const neonflow_branch *neonflow_preview_branch(const neonflow_preview *p);
/**
 * The read-write endpoint (borrowed); NULL when the preview has none (a
 * listed preview whose create was interrupted: create it again to repair).
 */
NEONFLOW_API const neonflow_endpoint *neonflow_preview_endpoint(const neonflow_preview *p);
/** The read-write endpoint's ID; NULL when it has none. */
NEONFLOW_API const char *neonflow_preview_endpoint_id(const neonflow_preview *p);
/** The read-write endpoint's host, the one to connect to; NULL when it has none. */
NEONFLOW_API const char *neonflow_preview_host(const neonflow_preview *p);
/** The branch's creation time (RFC 3339); NULL when absent. */
NEONFLOW_API const char *neonflow_preview_created_at(const neonflow_preview *p);
/** created_at in Unix epoch ms; 0 when absent. */
NEONFLOW_API int64_t neonflow_preview_created_at_ms(const neonflow_preview *p);
/** The branch's expiry (Neon's expires_at, RFC 3339); NULL when it does not expire. */
NEONFLOW_API const char *neonflow_preview_expires_at(const neonflow_preview *p);
/** expires_at in Unix epoch ms; 0 when it does not expire. */
NEONFLOW_API int64_t neonflow_preview_expires_at_ms(const neonflow_preview *p);
/**
 * The last sign of use, in Unix epoch ms: the latest of the endpoint's
 * last_active and started_at; when Neon sent neither (never used), the
 * endpoint's, else the branch's, created_at. 0 when nothing is known.
 * This is what the "unused" prune policy compares.
 */
NEONFLOW_API int64_t neonflow_preview_last_activity_ms(const neonflow_preview *p);
/**
 * The connection URI (postgresql://role:password@host/db?sslmode=require)
 * when the create was asked for it (neonflow_preview_create_options_set_connection_uri);
 * NULL otherwise and for listed previews. It holds a password: never log it.
 */
NEONFLOW_API const char *neonflow_preview_connection_uri(const neonflow_preview *p);
/**
 * For previews returned by neonflow_previews_prune(): why the policy chose
 * it, "expired", "unused" or "over-keep" (the first that applies, in that
 * order). NULL for previews from the other calls.
 */
NEONFLOW_API const char *neonflow_preview_prune_reason(const neonflow_preview *p);
/** Frees a preview returned by neonflow_preview_create(). NULL is accepted. */
NEONFLOW_API void neonflow_preview_free(neonflow_preview *p);

/** Number of previews in the list; 0 for NULL. */
NEONFLOW_API size_t neonflow_preview_list_count(const neonflow_preview_list *list);
/** The i-th preview (borrowed), or NULL when out of range. */
NEONFLOW_API const neonflow_preview *neonflow_preview_list_at(const neonflow_preview_list *list, size_t i);
/** Frees the list and every preview borrowed from it. NULL is accepted. */
NEONFLOW_API void neonflow_preview_list_free(neonflow_preview_list *list);

/* ---- create ------------------------------------------------------------------
 * Options objects: _new(&o) (NEONFLOW_EINVAL for NULL out, NEONFLOW_ENOMEM),
 * setters copying their strings (NEONFLOW_EINVAL for a NULL options object
 * or a malformed value, the old value kept; NEONFLOW_ENOMEM), _free (NULL
 * accepted).
 */
/** New create options: no label (required), parent "dev", no expiry, Neon's compute defaults. */
NEONFLOW_API int neonflow_preview_create_options_new(neonflow_preview_create_options **out);
/** Frees create options. NULL is accepted. */
NEONFLOW_API void neonflow_preview_create_options_free(neonflow_preview_create_options *opts);
/** The label (required; see neonflow_preview_label_valid()). NULL clears it. */
NEONFLOW_API int neonflow_preview_create_options_set_label(neonflow_preview_create_options *opts,
                                                           const char *label);
/** The parent branch by name or ID (1-256 bytes; default "dev"). NULL restores the default. */
NEONFLOW_API int neonflow_preview_create_options_set_parent(neonflow_preview_create_options *opts,
                                                            const char *parent);
/**
 * Expire this many seconds after the create (1 .. 31536000, converted to
 * Neon's expires_at with the client's clock); 0 clears it. Setting it
 * clears an expires_at set before, and the other way round.
 */
NEONFLOW_API int neonflow_preview_create_options_set_ttl_s(neonflow_preview_create_options *opts, int64_t ttl_s);
/** Expire at this RFC 3339 time (validated; Neon rejects a past one); NULL clears it. */
NEONFLOW_API int neonflow_preview_create_options_set_expires_at(neonflow_preview_create_options *opts,
                                                                const char *expires_at);
/**
 * Settings of the read-write endpoint a create makes (borrowed: it must
 * outlive the create calls using these options). Its type must stay
 * read_write (the default): NEONFLOW_EINVAL here, and from the create when it
 * was changed afterwards. NULL: Neon's defaults.
 */
NEONFLOW_API int neonflow_preview_create_options_set_endpoint_options(neonflow_preview_create_options *opts,
                                                                      const neonflow_endpoint_create_options *ep);
/** 1: also fetch the connection URI (neonflow_preview_connection_uri()). Default 0. */
NEONFLOW_API int neonflow_preview_create_options_set_connection_uri(neonflow_preview_create_options *opts,
                                                                    int enable);

/**
 * Creates the preview opts' label names, or returns it when it exists:
 *  1. looks the branch nf/preview/<label> up by name (one search);
 *  2. resolves the parent (an ID, else an exact name);
 *  3. when absent: creates the branch (parent, expiry; no compute) and waits
 *     for its operations; a lost answer is resolved by looking it up again,
 *     a concurrent create of the same label (409) by using its branch;
 *  4. when the branch has no read-write endpoint (new, or a create
 *     interrupted before this step): creates it with opts' endpoint
 *     settings and waits until it is ready;
 *  5. with set_connection_uri: fetches the URI.
 * An existing preview is returned as it is (its expiry is not changed).
 * *out: the new preview (free with neonflow_preview_free()).
 * Errors: NEONFLOW_EINVAL (NULL argument, no or invalid label, malformed
 * project ID, read_only endpoint options; nothing sent), NEONFLOW_EBRANCH_MISSING (no such parent),
 * NEONFLOW_ECONFLICT (the preview exists as a child of another branch:
 * delete it first), NEONFLOW_EBADREQUEST (Neon rejected a value, e.g. an
 * expiry in the past), operation errors, HTTP-layer codes, NEONFLOW_ETIMEOUT
 * / NEONFLOW_ECANCELLED through `call`. Calling again after any failure is
 * safe and continues where it stopped. *out is NULL on failure.
 */
NEONFLOW_API int neonflow_preview_create(neonflow_preview **out, neonflow_client *client, const char *project_id,
                                         const neonflow_preview_create_options *opts,
                                         const neonflow_call_options *call, neonflow_error **err);

/* ---- list ---------------------------------------------------------------------- */
/** New list options: every preview. */
NEONFLOW_API int neonflow_previews_list_options_new(neonflow_previews_list_options **out);
/** Frees list options. NULL is accepted. */
NEONFLOW_API void neonflow_previews_list_options_free(neonflow_previews_list_options *opts);
/**
 * Only previews whose label starts with `prefix` (a-z, 0-9, '-', '_', '.';
 * at most NEONFLOW_PREVIEW_LABEL_MAX bytes; e.g. "pr-12"). Narrows Neon's
 * search too. NULL clears it.
 */
NEONFLOW_API int neonflow_previews_list_options_set_label_prefix(neonflow_previews_list_options *opts,
                                                                 const char *prefix);

/**
 * The project's previews, newest first (by created_at), each with its
 * read-write endpoint. Requests: the branch list with Neon's `search` set to
 * the preview prefix (one request per 100 previews, however many other
 * branches the project has) and one list of the project's endpoints.
 * Only branches whose name is exactly nf/preview/<valid label> count.
 * `opts` may be NULL. *out: new list. Errors: NEONFLOW_EINVAL, HTTP-layer
 * codes, NEONFLOW_ETIMEOUT / NEONFLOW_ECANCELLED. *out is NULL on failure.
 */
NEONFLOW_API int neonflow_previews_list(neonflow_preview_list **out, neonflow_client *client,
                                        const char *project_id, const neonflow_previews_list_options *opts,
                                        const neonflow_call_options *call, neonflow_error **err);

/* ---- delete -------------------------------------------------------------------- */
/** New delete options: a missing preview is not an error. */
NEONFLOW_API int neonflow_preview_delete_options_new(neonflow_preview_delete_options **out);
/** Frees delete options. NULL is accepted. */
NEONFLOW_API void neonflow_preview_delete_options_free(neonflow_preview_delete_options *opts);
/** 1 (default): deleting a preview that does not exist succeeds; 0: NEONFLOW_ENOTFOUND. */
NEONFLOW_API int neonflow_preview_delete_options_set_missing_ok(neonflow_preview_delete_options *opts,
                                                                int missing_ok);

/**
 * Deletes the preview `label_or_name` ("pr-123" or "nf/preview/pr-123"):
 * its branch, which takes its endpoints with it, and waits for the
 * operations. Idempotent: a preview already gone gives NEONFLOW_OK (unless
 * set_missing_ok(0): NEONFLOW_ENOTFOUND), so a cleanup job may run twice.
 * `opts` may be NULL. Errors: NEONFLOW_EINVAL (NULL argument, invalid label;
 * nothing sent), NEONFLOW_EBADREQUEST (Neon refused, e.g. someone made a
 * child branch of the preview), operation and HTTP-layer codes.
 */
NEONFLOW_API int neonflow_preview_delete(neonflow_client *client, const char *project_id, const char *label_or_name,
                                         const neonflow_preview_delete_options *opts,
                                         const neonflow_call_options *call, neonflow_error **err);

/* ---- prune ---------------------------------------------------------------------
 * A preview is deleted when ANY policy set chooses it. With no policy set,
 * only expired previews are. Only previews (names nf/preview/<label>) are
 * ever considered; backups, leases, targets and every other branch are never
 * touched. The workflow prune (neonflow_prune) does not touch previews.
 */
/** New prune options: no policy set (= expired only), not a dry run. */
NEONFLOW_API int neonflow_previews_prune_options_new(neonflow_previews_prune_options **out);
/** Frees prune options. NULL is accepted. */
NEONFLOW_API void neonflow_previews_prune_options_free(neonflow_previews_prune_options *opts);
/** 1: delete previews whose expires_at has passed (the client's clock). Neon deletes them itself, late at times. */
NEONFLOW_API int neonflow_previews_prune_options_set_expired(neonflow_previews_prune_options *opts, int enable);
/**
 * Delete previews unused for at least `seconds` (> 0; 0 clears it): whose
 * neonflow_preview_last_activity_ms() is that old. A preview never used
 * counts from its creation.
 */
NEONFLOW_API int neonflow_previews_prune_options_set_unused_s(neonflow_previews_prune_options *opts,
                                                             int64_t seconds);
/** Keep only the newest n previews (by created_at; n >= 0), delete the older ones. -1 clears it. */
NEONFLOW_API int neonflow_previews_prune_options_set_keep_newest(neonflow_previews_prune_options *opts, int32_t n);
/** 1: choose, but delete nothing. */
NEONFLOW_API int neonflow_previews_prune_options_set_dry_run(neonflow_previews_prune_options *opts, int dry_run);

/**
 * Lists the previews (as neonflow_previews_list()), chooses by policy and
 * deletes the chosen ones one by one (as neonflow_preview_delete()).
 * *out: the previews deleted (dry run: that would be deleted), each with
 * neonflow_preview_prune_reason(). On a failure part-way *out still lists
 * the previews deleted before it (free it in both cases); it is NULL only
 * when nothing was listed. `opts` may be NULL (expired only).
 * Errors: NEONFLOW_EINVAL, the codes of list and delete.
 */
NEONFLOW_API int neonflow_previews_prune(neonflow_preview_list **out, neonflow_client *client,
                                        const char *project_id, const neonflow_previews_prune_options *opts,
                                        const neonflow_call_options *call, neonflow_error **err);

NEONFLOW_END_DECLS

#endif /* NEONFLOW_PREVIEW_H */
