/*
 * libneonflow — workflows: setup, promote, refresh, rollback, backups, prune.
 *
 * Each workflow is one blocking call on the caller's thread:
 *
 *   int neonflow_promote(neonflow_report **out, neonflow_client *client,
 *                        const neonflow_run_options *run,
 *                        const neonflow_promote_options *opts, neonflow_error **err);
 *
 * `run` holds what every workflow shares (project, run id, deadline, cancel,
 * dry run, hooks); the second options object holds the workflow's own inputs
 * and may be NULL for the defaults. *out receives a report on success AND on
 * failure (NULL only when the arguments were unusable or memory ran out): the
 * report says which steps ran, what was created, and how to continue.
 *
 * Crash safety: every resource a run creates carries a deterministic name
 * built from the target, the kind, the UTC start time and the run id (see
 * docs/workflows.md). Calling the same workflow again with the same run id
 * after an interruption finds what the earlier attempt created and continues
 * from there; it never creates anything twice. An uncertain outcome (a lost
 * response) is resolved by reading Neon's state back, never by replaying.
 *
 * Thread-safety: a workflow uses the client like any other call (the client
 * may be shared); options objects must not be changed while a run uses them.
 * Hooks run synchronously on the calling thread. A hook may call the API on
 * the same client (e.g. to inspect the preview branch), but starting a
 * workflow on that client from inside a hook fails with NEONFLOW_ERECURSIVE.
 */
#ifndef NEONFLOW_WORKFLOW_H
#define NEONFLOW_WORKFLOW_H

#include "common.h"
#include "errors.h"
#include "cancel.h"
#include "client.h"
#include "branch.h"
#include "endpoint.h"

NEONFLOW_BEGIN_DECLS

typedef struct neonflow_run_options neonflow_run_options;
typedef struct neonflow_promote_options neonflow_promote_options;
typedef struct neonflow_refresh_options neonflow_refresh_options;
typedef struct neonflow_rollback_options neonflow_rollback_options;
typedef struct neonflow_setup_options neonflow_setup_options;
typedef struct neonflow_prune_options neonflow_prune_options;
typedef struct neonflow_report neonflow_report;
typedef struct neonflow_step neonflow_step;
typedef struct neonflow_resource neonflow_resource;
typedef struct neonflow_event neonflow_event;

/*
 * Every enumeration of this header (workflow kinds, step statuses, resource
 * kinds and actions, event kinds, lock request kinds) is append-only: values
 * are never renumbered or reused, and later versions add new ones (a new
 * step status, a new event kind), so callers must tolerate values they do
 * not know. Each family has a _name() function returning a static string
 * (the names the JSON report uses; "unknown" for an unknown value, never
 * NULL), so bindings need not copy the tables. They are safe from any thread.
 */

/* ---- workflow kinds ------------------------------------------------------ */
#define NEONFLOW_WORKFLOW_SETUP    1
#define NEONFLOW_WORKFLOW_PROMOTE  2
#define NEONFLOW_WORKFLOW_REFRESH  3
#define NEONFLOW_WORKFLOW_ROLLBACK 4
#define NEONFLOW_WORKFLOW_BACKUPS  5
#define NEONFLOW_WORKFLOW_PRUNE    6
/** "setup", "promote", "refresh", "rollback", "backups", "prune" ("unknown" otherwise). */
NEONFLOW_API const char *neonflow_workflow_kind_name(int32_t kind);

/* ---- step status --------------------------------------------------------- */
#define NEONFLOW_STEP_PLANNED  0 /**< not started (dry run, or the run stopped before it) */
#define NEONFLOW_STEP_DONE     1 /**< ran in this call */
#define NEONFLOW_STEP_RESUMED  2 /**< found already done by an earlier call with the same run id */
#define NEONFLOW_STEP_SKIPPED  3 /**< not needed (e.g. nothing to prune, no hook set) */
#define NEONFLOW_STEP_FAILED   4 /**< the step failed; the report's message says how to continue */
#define NEONFLOW_STEP_VETOED   5 /**< a gate or hook stopped the run before or in this step */
#define NEONFLOW_STEP_UNDONE   6 /**< done, then cleaned up after a veto or failure */
/** "planned", "done", "resumed", "skipped", "failed", "vetoed", "undone" ("unknown" otherwise). */
NEONFLOW_API const char *neonflow_step_status_name(int32_t status);

/* ---- resource kinds and actions ------------------------------------------ */
#define NEONFLOW_RESOURCE_SNAPSHOT 1
#define NEONFLOW_RESOURCE_BRANCH   2
#define NEONFLOW_RESOURCE_ENDPOINT 3
/** "snapshot", "branch", "endpoint" ("unknown" otherwise). */
NEONFLOW_API const char *neonflow_resource_kind_name(int32_t kind);

#define NEONFLOW_ACTION_CREATE  1
#define NEONFLOW_ACTION_REPLACE 2 /**< a branch replaced by a finalized restore (it becomes the backup) */
#define NEONFLOW_ACTION_DELETE  3
#define NEONFLOW_ACTION_KEEP    4 /**< listed (backups) or kept by policy (prune) */
/** "create", "replace", "delete", "keep" ("unknown" otherwise). */
NEONFLOW_API const char *neonflow_resource_action_name(int32_t action);

/* ---- events -------------------------------------------------------------- */
#define NEONFLOW_EVENT_RUN_STARTED     1 /**< first event: the run id is known */
#define NEONFLOW_EVENT_STEP_BEGIN      2
#define NEONFLOW_EVENT_STEP_END        3 /**< with the step's duration and status */
#define NEONFLOW_EVENT_OPERATION       4 /**< an awaited operation changed status */
#define NEONFLOW_EVENT_RETRY           5 /**< an HTTP call is retried after wait_ms */
#define NEONFLOW_EVENT_RATE_LIMIT_WAIT 6 /**< the client's limiter holds a call for wait_ms */
#define NEONFLOW_EVENT_WARNING         7 /**< e.g. lost writes, a leftover resource */
#define NEONFLOW_EVENT_RUN_ENDED       8
#define NEONFLOW_EVENT_LEASE           9 /**< the target's lease was taken, waited for, renewed or released */
/**
 * "run_started", "step_begin", "step_end", "operation", "retry",
 * "rate_limit_wait", "warning", "run_ended", "lease" ("unknown" otherwise).
 */
NEONFLOW_API const char *neonflow_event_kind_name(int32_t kind);

/**
 * Event hook: informational, cannot stop the run. `ev` is borrowed and valid
 * only during the call; read it with the neonflow_event_* getters.
 */
typedef void (*neonflow_event_fn)(const neonflow_event *ev, void *payload);

/**
 * Gate hook: called before every mutating step with the step (its name, kind
 * and the resources it will create, replace or delete). Return 0 to go on,
 * non-zero to stop safely (NEONFLOW_ECALLBACK; the target stays untouched and
 * what the run created is removed unless keep-on-veto is set).
 */
typedef int (*neonflow_gate_fn)(const neonflow_step *step, void *payload);

/** Which branch hook is called (append-only; tolerate unknown values). */
#define NEONFLOW_HOOK_VERIFY       1 /**< the restored preview branch, before it takes over */
#define NEONFLOW_HOOK_AFTER_SWITCH 2 /**< the new live target, after the switch */

/**
 * The static name of a NEONFLOW_HOOK_* value ("verify", "after_switch").
 * Never NULL: "unknown" for a value this version does not know. Thread-safety:
 * any thread.
 */
NEONFLOW_API const char *neonflow_hook_name(int32_t hook);

/**
 * What a verify or after-switch hook is about, read through the getters
 * below (more may be added later). The context and everything read from it
 * are borrowed for the duration of the hook call only.
 */
typedef struct neonflow_branch_hook_ctx neonflow_branch_hook_ctx;

/**
 * Branch hook used by verify (NEONFLOW_HOOK_VERIFY) and after-switch
 * (NEONFLOW_HOOK_AFTER_SWITCH). Called on the thread running the workflow,
 * after the run has read the branch and its endpoints. Return 0 to go on,
 * non-zero to veto. It must not call back into the run's client.
 */
typedef int (*neonflow_branch_check_fn)(const neonflow_branch_hook_ctx *ctx, void *payload);

/** NEONFLOW_HOOK_* of this call (0 for a NULL ctx). */
NEONFLOW_API int32_t neonflow_branch_hook_ctx_hook(const neonflow_branch_hook_ctx *ctx);
/** NEONFLOW_WORKFLOW_* of the run calling the hook (0 for a NULL ctx). */
NEONFLOW_API int32_t neonflow_branch_hook_ctx_workflow(const neonflow_branch_hook_ctx *ctx);
/** The run id (never NULL for a non-NULL ctx). */
NEONFLOW_API const char *neonflow_branch_hook_ctx_run_id(const neonflow_branch_hook_ctx *ctx);
/** The project id. */
NEONFLOW_API const char *neonflow_branch_hook_ctx_project_id(const neonflow_branch_hook_ctx *ctx);
/** The target's branch name the run works on (e.g. "production"). */
NEONFLOW_API const char *neonflow_branch_hook_ctx_target(const neonflow_branch_hook_ctx *ctx);
/** The branch being checked, as read just before the call (borrowed). */
NEONFLOW_API const neonflow_branch *neonflow_branch_hook_ctx_branch(const neonflow_branch_hook_ctx *ctx);
/**
 * The number of endpoints (computes) on that branch, as read just before the
 * call. The restored preview a verify hook sees has none (a snapshot
 * restore creates no compute) unless the run verifies on a live compute
 * (neonflow_promote_options_set_verify_compute); the new live target of an
 * after-switch hook has the endpoints moved over from the old target.
 */
NEONFLOW_API size_t neonflow_branch_hook_ctx_endpoint_count(const neonflow_branch_hook_ctx *ctx);
/** Endpoint i (borrowed); NULL when i is out of range. */
NEONFLOW_API const neonflow_endpoint *neonflow_branch_hook_ctx_endpoint_at(const neonflow_branch_hook_ctx *ctx, size_t i);
/**
 * The host of the branch's read-write endpoint, the one to connect to; NULL
 * when the branch has none (so for the verify hook without a live compute).
 */
NEONFLOW_API const char *neonflow_branch_hook_ctx_host(const neonflow_branch_hook_ctx *ctx);
/**
 * A connection URI to the checked branch (postgresql://role:password@host/
 * db?sslmode=require): for the verify hook the preview's temporary endpoint
 * (see neonflow_promote_options_set_verify_compute; NULL without it, as the
 * preview has no compute), for the after-switch hook the new target's
 * read-write endpoint. The database is the branch's only one and the role
 * its owner. Fetched on the first call (two requests, counted in the step),
 * so a hook that does not ask costs nothing; later calls give the same
 * string. NULL for a NULL ctx, when the branch has no read-write endpoint,
 * or when it cannot be had (several databases, an API error): a WARNING
 * event says why. Borrowed until the hook returns, then wiped. It holds a
 * password: keep it out of logs. Thread-safety: call it on the hook's thread.
 */
NEONFLOW_API const char *neonflow_branch_hook_ctx_connection_uri(const neonflow_branch_hook_ctx *ctx);

/* ======================================================================== */
/* Run options: shared by every workflow                                    */
/* ======================================================================== */

/** Creates run options with defaults. Errors: NEONFLOW_EINVAL, NEONFLOW_ENOMEM. */
NEONFLOW_API int neonflow_run_options_new(neonflow_run_options **out);
/** Frees the options and runs the destroy callbacks of hooks no run still uses. NULL-safe. */
NEONFLOW_API void neonflow_run_options_free(neonflow_run_options *opts);
/** The Neon project id (required; validated as a Neon ID). */
NEONFLOW_API int neonflow_run_options_set_project_id(neonflow_run_options *opts, const char *project_id);
/**
 * The run id: 1-32 characters of a-z, 0-9 and '-'. Give the id of an
 * interrupted run to resume it. When unset a fresh id is generated and reported
 * first (the RUN_STARTED event and neonflow_report_run_id). NULL clears.
 */
NEONFLOW_API int neonflow_run_options_set_run_id(neonflow_run_options *opts, const char *run_id);
/** Deadline for the whole run in milliseconds (default 1800000 = 30 min; > 0). */
NEONFLOW_API int neonflow_run_options_set_timeout_ms(neonflow_run_options *opts, int64_t timeout_ms);
/** A cancel token another thread may trigger (borrowed: it must outlive the run). NULL clears. */
NEONFLOW_API int neonflow_run_options_set_cancel(neonflow_run_options *opts, neonflow_cancel *token);
/**
 * 1: compute the plan from live state and return it in the report without any
 * mutating call (every step is NEONFLOW_STEP_PLANNED or _RESUMED).
 */
NEONFLOW_API int neonflow_run_options_set_dry_run(neonflow_run_options *opts, int dry_run);
/** 1: after a veto or failure, keep what the run created (default 0: remove it). */
NEONFLOW_API int neonflow_run_options_set_keep_on_veto(neonflow_run_options *opts, int keep);
/** Sets the event hook (fn NULL removes it); the payload follows the destroy rule of common.h.
 * Errors: NEONFLOW_EINVAL (opts NULL), NEONFLOW_ENOMEM. The gate setter below alike. */
NEONFLOW_API int neonflow_run_options_set_event_hook(neonflow_run_options *opts, neonflow_event_fn fn, void *payload, neonflow_destroy_fn destroy);
/** Sets the gate hook called before every mutating step. */
NEONFLOW_API int neonflow_run_options_set_gate_hook(neonflow_run_options *opts, neonflow_gate_fn fn, void *payload, neonflow_destroy_fn destroy);
/**
 * How long the preflight waits for operations already running on the project
 * (started by someone else) before giving up with NEONFLOW_EBUSY, in
 * milliseconds (default 120000; >= 0; 0 = do not wait).
 */
NEONFLOW_API int neonflow_run_options_set_busy_wait_ms(neonflow_run_options *opts, int64_t wait_ms);

/* ---- the promotion lease ------------------------------------------------
 * Every mutating workflow (setup, promote, refresh, rollback, prune) holds a
 * lease on its target while it runs, so two runs (processes, machines) never
 * change one target at the same time. By default the lease is a child branch
 * named nf/<target>/lease in the project itself (Neon's unique branch names
 * make taking it atomic; its expires_at frees the lease of a crashed holder);
 * a lock hook replaces it. A run that finds the lease held waits up to the
 * lease wait, then fails with NEONFLOW_ELEASE_HELD naming the holder's run
 * id, having changed nothing. Re-running with the holder's run id (resume)
 * re-enters its own lease. Dry runs and backups listing take no lease.
 */
/** Lifetime of the lease (ms, >= 1000; default 600000): renewed while the run lasts, a crashed run's lease expires after it. */
NEONFLOW_API int neonflow_run_options_set_lease_ttl_ms(neonflow_run_options *opts, int64_t ttl_ms);
/** How long to wait for another run's lease (ms, >= 0; default 0 = fail at once with NEONFLOW_ELEASE_HELD). Bounded by the run's deadline. */
NEONFLOW_API int neonflow_run_options_set_lease_wait_ms(neonflow_run_options *opts, int64_t wait_ms);

/** What a lock hook is asked to do (neonflow_lock_request_kind). */
#define NEONFLOW_LOCK_ACQUIRE 1 /**< take the lock on the target for this run (or re-enter it: same run id) */
#define NEONFLOW_LOCK_RENEW   2 /**< extend the lock by ttl_ms (called when a third of it has passed) */
#define NEONFLOW_LOCK_RELEASE 3 /**< give the lock up (the run ended; not called when it crashed) */
/** "acquire", "renew", "release" ("unknown" otherwise). */
NEONFLOW_API const char *neonflow_lock_kind_name(int32_t kind);

/** A lock hook's request: opaque, borrowed for the call, read with the getters below. */
typedef struct neonflow_lock_request neonflow_lock_request;

/**
 * Lock hook: replaces the Neon lease with the caller's own lock service
 * (Redis, a Postgres advisory lock, ...). Contract:
 * - called synchronously on the run's thread: ACQUIRE before the run's first
 *   state listing (again, after a pause, while it waits within the lease
 *   wait), RENEW at step boundaries and during waits once a third of ttl_ms
 *   has passed since the last acquire/renew, RELEASE once when the run ends
 *   (success, failure or veto; not after a test-seam interruption);
 * - the lock is per (project id, target); ACQUIRE must succeed when the
 *   current holder has the same run id (a resumed run re-enters its lock);
 * - return 0 = done. For ACQUIRE non-zero = refused (held by another run):
 *   report the holder's run id with neonflow_lock_request_set_holder; after
 *   the lease wait the run fails with NEONFLOW_ELEASE_HELD, having changed
 *   nothing. For RENEW non-zero = the lock was lost: the run stops before its
 *   next change (NEONFLOW_ESTATE). RELEASE's return value only yields a
 *   warning event;
 * - the hook may call the API on the client but not start a workflow on it;
 * - the payload follows the destroy rule of common.h.
 */
typedef int (*neonflow_lock_fn)(neonflow_lock_request *req, void *payload);
/** Sets the lock hook (fn NULL restores the Neon lease). Errors: NEONFLOW_EINVAL (opts NULL), NEONFLOW_ENOMEM. */
NEONFLOW_API int neonflow_run_options_set_lock_hook(neonflow_run_options *opts, neonflow_lock_fn fn, void *payload, neonflow_destroy_fn destroy);
/** NEONFLOW_LOCK_* */
NEONFLOW_API int32_t neonflow_lock_request_kind(const neonflow_lock_request *req);
/** The project the lock is about. Borrowed for the hook call; never NULL in a hook, NULL for a NULL request. */
NEONFLOW_API const char *neonflow_lock_request_project_id(const neonflow_lock_request *req);
/** The target branch name the lock is about. Borrowed for the hook call; never NULL in a hook, NULL for a NULL request. */
NEONFLOW_API const char *neonflow_lock_request_target(const neonflow_lock_request *req);
/** The run id of the run asking. Borrowed for the hook call; never NULL in a hook, NULL for a NULL request. */
NEONFLOW_API const char *neonflow_lock_request_run_id(const neonflow_lock_request *req);
/** NEONFLOW_WORKFLOW_* of the run. */
NEONFLOW_API int32_t neonflow_lock_request_workflow(const neonflow_lock_request *req);
/** The lock's lifetime the run asks for (its lease TTL), in ms. */
NEONFLOW_API int64_t neonflow_lock_request_ttl_ms(const neonflow_lock_request *req);
/** On a refused ACQUIRE: the run id of the holder (copied; NULL or invalid clears it). NEONFLOW_EINVAL for a bad run id. */
NEONFLOW_API int neonflow_lock_request_set_holder(neonflow_lock_request *req, const char *holder_run_id);

/* ======================================================================== */
/* Promote: source (default "dev") replaces target (default "production")   */
/* ======================================================================== */

/** Creates promote options with the defaults below (NEONFLOW_EINVAL, NEONFLOW_ENOMEM); free with
 * neonflow_promote_options_free (NULL-safe; runs the hooks' destroy callbacks once no run uses them). */
NEONFLOW_API int neonflow_promote_options_new(neonflow_promote_options **out);
NEONFLOW_API void neonflow_promote_options_free(neonflow_promote_options *opts);
/** Source branch, by name or ID (default "dev"). */
NEONFLOW_API int neonflow_promote_options_set_source(neonflow_promote_options *opts, const char *name_or_id);
/** Target branch, by name or ID (default "production"). */
NEONFLOW_API int neonflow_promote_options_set_target(neonflow_promote_options *opts, const char *name_or_id);
/**
 * Verify gate on the restored preview branch before it takes over (fn NULL
 * removes it). The payload follows the destroy rule of common.h. Errors:
 * NEONFLOW_EINVAL (opts NULL), NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_promote_options_set_verify_hook(neonflow_promote_options *opts, neonflow_branch_check_fn fn, void *payload, neonflow_destroy_fn destroy);
/** After-switch gate on the new live target; as neonflow_promote_options_set_verify_hook. */
NEONFLOW_API int neonflow_promote_options_set_after_switch_hook(neonflow_promote_options *opts, neonflow_branch_check_fn fn, void *payload, neonflow_destroy_fn destroy);
/** 1: when the after-switch gate fails, restore the rollback snapshot at once (default 0). */
NEONFLOW_API int neonflow_promote_options_set_auto_rollback(neonflow_promote_options *opts, int enable);
/**
 * 1: verify on a live compute (default 0). Before the verify hook runs, the
 * restored preview gets a temporary read-write endpoint named
 * nf-verify-<run id> (steps "verify-compute" and, after the hook,
 * "verify-compute-delete"), so the hook can connect to it
 * (neonflow_branch_hook_ctx_host, neonflow_branch_hook_ctx_connection_uri).
 * The endpoint is deleted before the switch, after a veto or failure, and by
 * a run resumed with the same run id that finds it left behind. Without a
 * verify hook nothing is created. Costs about 4 requests more (create,
 * delete, their operations), plus 2 when the hook asks for the URI.
 * Errors: NEONFLOW_EINVAL (opts NULL).
 */
NEONFLOW_API int neonflow_promote_options_set_verify_compute(neonflow_promote_options *opts, int enable);
/** Expiry of the rollback snapshot in seconds from now (default 30 days; 0 = never). */
NEONFLOW_API int neonflow_promote_options_set_rollback_expiry_s(neonflow_promote_options *opts, int64_t seconds);
/** Expiry of the candidate snapshot in seconds from now (default 7 days; 0 = never). */
NEONFLOW_API int neonflow_promote_options_set_candidate_expiry_s(neonflow_promote_options *opts, int64_t seconds);

/**
 * Promotes: preflight, candidate snapshot of the source, restore as a preview
 * branch, verify gate, rollback snapshot of the target (as late as possible),
 * finalize (the replaced target becomes the backup branch), target re-resolved
 * by name and its endpoint checked, after-switch gate (optional automatic
 * rollback). Production writes made after the candidate snapshot are NOT in
 * the new target: the report's lost-write window says which.
 * Errors: preflight codes (NEONFLOW_EBRANCH_MISSING, _ENOT_ROOT, _ESAME_BRANCH,
 * _ENO_ENDPOINT, _ERESTRICTED, _EBUSY, _EROOT_LIMIT, _ESNAPSHOT_LIMIT),
 * NEONFLOW_ECALLBACK (a gate vetoed), NEONFLOW_ECANCELLED, NEONFLOW_ETIMEOUT,
 * NEONFLOW_ERUN_MISMATCH, operation and API codes.
 */
NEONFLOW_API int neonflow_promote(neonflow_report **out, neonflow_client *client, const neonflow_run_options *run, const neonflow_promote_options *opts, neonflow_error **err);

/* ======================================================================== */
/* Refresh: source (default "production") replaces target (default "dev")   */
/* ======================================================================== */

/** Creates refresh options with the defaults below; free with neonflow_refresh_options_free (NULL-safe). */
NEONFLOW_API int neonflow_refresh_options_new(neonflow_refresh_options **out);
NEONFLOW_API void neonflow_refresh_options_free(neonflow_refresh_options *opts);
/** Branch to copy from, by name or ID (default "production"). */
NEONFLOW_API int neonflow_refresh_options_set_source(neonflow_refresh_options *opts, const char *name_or_id);
/** Branch to replace, by name or ID (default "dev"). */
NEONFLOW_API int neonflow_refresh_options_set_target(neonflow_refresh_options *opts, const char *name_or_id);
/** 1: delete the replaced target (backup branch) once the refresh succeeded (default 0). */
NEONFLOW_API int neonflow_refresh_options_set_delete_backup(neonflow_refresh_options *opts, int enable);
/**
 * Verify gate on the restored preview before it replaces the target (fn NULL
 * removes it), as neonflow_promote_options_set_verify_hook; with it the
 * refresh has a "verify" step after "restore-preview" (and a veto removes
 * what the run created, leaving the target untouched). Errors:
 * NEONFLOW_EINVAL (opts NULL), NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_refresh_options_set_verify_hook(neonflow_refresh_options *opts, neonflow_branch_check_fn fn, void *payload, neonflow_destroy_fn destroy);
/** 1: verify on a live compute, as neonflow_promote_options_set_verify_compute (default 0). */
NEONFLOW_API int neonflow_refresh_options_set_verify_compute(neonflow_refresh_options *opts, int enable);

/** Refreshes the target from a fresh snapshot of the source. Errors as neonflow_promote. */
NEONFLOW_API int neonflow_refresh(neonflow_report **out, neonflow_client *client, const neonflow_run_options *run, const neonflow_refresh_options *opts, neonflow_error **err);

/* ======================================================================== */
/* Rollback: restore a snapshot onto the target (default "production")      */
/* ======================================================================== */

/** Creates rollback options with the defaults below; free with neonflow_rollback_options_free (NULL-safe). */
NEONFLOW_API int neonflow_rollback_options_new(neonflow_rollback_options **out);
NEONFLOW_API void neonflow_rollback_options_free(neonflow_rollback_options *opts);
/** Branch to roll back, by name or ID (default "production"). */
NEONFLOW_API int neonflow_rollback_options_set_target(neonflow_rollback_options *opts, const char *name_or_id);
/** The snapshot to restore (ID). Unset: the newest rollback point neonflow made for the target. */
NEONFLOW_API int neonflow_rollback_options_set_snapshot_id(neonflow_rollback_options *opts, const char *snapshot_id);
/** 1: snapshot the current target first, so the rollback itself can be undone (default 1). */
NEONFLOW_API int neonflow_rollback_options_set_snapshot_first(neonflow_rollback_options *opts, int enable);

/** Rolls the target back. Errors as neonflow_promote, plus NEONFLOW_ENO_ROLLBACK. */
NEONFLOW_API int neonflow_rollback(neonflow_report **out, neonflow_client *client, const neonflow_run_options *run, const neonflow_rollback_options *opts, neonflow_error **err);

/* ======================================================================== */
/* Setup: dev as a new root branch from a snapshot of production            */
/* ======================================================================== */

/** Creates setup options with the defaults below; free with neonflow_setup_options_free (NULL-safe). */
NEONFLOW_API int neonflow_setup_options_new(neonflow_setup_options **out);
NEONFLOW_API void neonflow_setup_options_free(neonflow_setup_options *opts);
/** The branch to copy (default "production"). */
NEONFLOW_API int neonflow_setup_options_set_source(neonflow_setup_options *opts, const char *name_or_id);
/** Name of the new root branch (default "dev"). */
NEONFLOW_API int neonflow_setup_options_set_dev_name(neonflow_setup_options *opts, const char *name);

/**
 * Creates dev as an independent root branch restored from a snapshot of the
 * source, with its own read-write endpoint. On a project already set up (a
 * root branch with that name exists) it reports and changes nothing.
 */
NEONFLOW_API int neonflow_setup(neonflow_report **out, neonflow_client *client, const neonflow_run_options *run, const neonflow_setup_options *opts, neonflow_error **err);

/* ======================================================================== */
/* Backups and prune                                                        */
/* ======================================================================== */

/* Filters of neonflow_backups_list. Neon's snapshot list takes no query
 * parameters, so they apply to the inventory the listing reads: every
 * filter narrows it, unset ones keep everything. Create with _new
 * (NEONFLOW_EINVAL for NULL out, NEONFLOW_ENOMEM), free with _free (NULL
 * accepted); setters copy their strings and return NEONFLOW_EINVAL for NULL
 * options or a malformed value (the old value is kept), NEONFLOW_ENOMEM.
 * Not for concurrent use while being set. */
typedef struct neonflow_backups_list_options neonflow_backups_list_options;
/** New filters (nothing filtered). EINVAL for NULL out, ENOMEM. */
NEONFLOW_API int neonflow_backups_list_options_new(neonflow_backups_list_options **out);
/** Frees the filters. NULL is accepted. */
NEONFLOW_API void neonflow_backups_list_options_free(neonflow_backups_list_options *opts);
/** Only the backups of this target branch name (e.g. "production", 1-256 bytes); NULL clears it. */
NEONFLOW_API int neonflow_backups_list_options_set_target(neonflow_backups_list_options *opts, const char *target);
/** Only this kind ("backup", "undo-backup", "candidate", "rollback", ...; [a-z-], 1-31 bytes); NULL clears it. */
NEONFLOW_API int neonflow_backups_list_options_set_kind(neonflow_backups_list_options *opts, const char *kind);
/** Only what the run with this run id made or replaced (a valid run id); NULL clears it. */
NEONFLOW_API int neonflow_backups_list_options_set_run_id(neonflow_backups_list_options *opts, const char *run_id);
/** Only what is at least this many seconds old (>= 0; default 0: any age). */
NEONFLOW_API int neonflow_backups_list_options_set_older_than_s(neonflow_backups_list_options *opts,
                                                                int64_t seconds);
/** 1 (default): list backup branches; 0: leave them out. */
NEONFLOW_API int neonflow_backups_list_options_set_branches(neonflow_backups_list_options *opts, int enable);
/** 1 (default): list neonflow's snapshots; 0: leave them out. */
NEONFLOW_API int neonflow_backups_list_options_set_snapshots(neonflow_backups_list_options *opts, int enable);

/**
 * Lists the branches replaced by restores (backup branches: who replaced
 * them, when, their size) and the snapshots neonflow made (kind, target, age,
 * expiry), as KEEP resources of a single step in the report. No mutation.
 * `opts` may be NULL (everything). Errors as the other workflows.
 */
NEONFLOW_API int neonflow_backups_list(neonflow_report **out, neonflow_client *client, const neonflow_run_options *run,
                                       const neonflow_backups_list_options *opts, neonflow_error **err);

/** Creates prune options with the defaults below; free with neonflow_prune_options_free (NULL-safe). */
NEONFLOW_API int neonflow_prune_options_new(neonflow_prune_options **out);
NEONFLOW_API void neonflow_prune_options_free(neonflow_prune_options *opts);
/** Keep the newest N backup branches per target and the newest N snapshots per target and kind (default 2; >= 0). */
NEONFLOW_API int neonflow_prune_options_set_keep_newest(neonflow_prune_options *opts, int32_t n);
/** Only delete what is older than this many seconds (default 0: any age). */
NEONFLOW_API int neonflow_prune_options_set_older_than_s(neonflow_prune_options *opts, int64_t seconds);
/** 1 (default): prune backup branches. */
NEONFLOW_API int neonflow_prune_options_set_branches(neonflow_prune_options *opts, int enable);
/** 1 (default): prune neonflow's snapshots. */
NEONFLOW_API int neonflow_prune_options_set_snapshots(neonflow_prune_options *opts, int enable);

/**
 * Deletes backups by policy. Never touches the live branches, the default
 * branch, protected branches, or anything neonflow did not create or that a
 * restore did not replace. Use the dry run of the run options for the plan.
 */
NEONFLOW_API int neonflow_prune(neonflow_report **out, neonflow_client *client, const neonflow_run_options *run, const neonflow_prune_options *opts, neonflow_error **err);

/* ======================================================================== */
/* Reports                                                                  */
/* ======================================================================== */

/** NEONFLOW_WORKFLOW_* of the run. */
NEONFLOW_API int32_t neonflow_report_workflow(const neonflow_report *r);
/** The run id (given or generated). Borrowed. */
NEONFLOW_API const char *neonflow_report_run_id(const neonflow_report *r);
/** 1 when this was a dry run. */
NEONFLOW_API int neonflow_report_is_dry_run(const neonflow_report *r);
/** The result code of the run (NEONFLOW_OK or the code the call returned). */
NEONFLOW_API int neonflow_report_result(const neonflow_report *r);
/** A one-paragraph summary: what happened and, after a failure, how to continue. Never NULL. */
NEONFLOW_API const char *neonflow_report_message(const neonflow_report *r);
/** Number of steps (in order: index them with neonflow_report_step_at()). */
NEONFLOW_API size_t neonflow_report_step_count(const neonflow_report *r);
/** The i-th step (borrowed until the report is freed), or NULL when out of range. */
NEONFLOW_API const neonflow_step *neonflow_report_step_at(const neonflow_report *r, size_t i);
/** HTTP attempts made over the whole run (retries included). */
NEONFLOW_API int64_t neonflow_report_api_calls(const neonflow_report *r);
/** How many of neonflow_report_api_calls() were retries; 0 for NULL. */
NEONFLOW_API int64_t neonflow_report_retries(const neonflow_report *r);
/** Wall time of the run in milliseconds. */
NEONFLOW_API int64_t neonflow_report_duration_ms(const neonflow_report *r);

/*
 * Resolved branches and created resources: borrowed until the report is
 * freed; "" when not applicable to the workflow or not reached.
 */
/** The source branch's id. */
NEONFLOW_API const char *neonflow_report_source_branch_id(const neonflow_report *r);
/** The target's branch id before the run (it changes when a restore is finalized). */
NEONFLOW_API const char *neonflow_report_old_target_branch_id(const neonflow_report *r);
/** The live target's branch id after the run. */
NEONFLOW_API const char *neonflow_report_target_branch_id(const neonflow_report *r);
/** The target's read-write endpoint id (unchanged by a promotion). */
NEONFLOW_API const char *neonflow_report_target_endpoint_id(const neonflow_report *r);
/** Host of the target's read-write endpoint (what applications connect to). */
NEONFLOW_API const char *neonflow_report_target_endpoint_host(const neonflow_report *r);
/** The snapshot the run restored (of the source; for rollback the chosen one). */
NEONFLOW_API const char *neonflow_report_candidate_snapshot_id(const neonflow_report *r);
/** The snapshot of the target taken just before the switch (the undo point). */
NEONFLOW_API const char *neonflow_report_rollback_snapshot_id(const neonflow_report *r);
/** The branch the restore created (checked by verify), which took over the target. */
NEONFLOW_API const char *neonflow_report_preview_branch_id(const neonflow_report *r);
/** ID of the old target after the switch (renamed, kept as the backup). */
NEONFLOW_API const char *neonflow_report_backup_branch_id(const neonflow_report *r);
/** Name of that backup branch. */
NEONFLOW_API const char *neonflow_report_backup_branch_name(const neonflow_report *r);

/*
 * The lost-write window of a promotion, refresh or rollback: writes made to
 * the target after `start` (the time the restored snapshot was taken) and
 * before `end` (the switch) are NOT in the new target; they remain on the
 * backup branch. The target's LSN at the switch is known when a rollback
 * snapshot was taken just before it ("" otherwise). Writes the target had
 * before `start` are lost too unless the source already held them: the
 * divergence time is when the source was last copied from the target ("" when
 * unknown).
 */
NEONFLOW_API const char *neonflow_report_lost_writes_start(const neonflow_report *r);
/** lost_writes_start in Unix epoch ms; 0 when there is no window. */
NEONFLOW_API int64_t neonflow_report_lost_writes_start_ms(const neonflow_report *r);
/** End of the window: the switch (RFC 3339), never before it; "" when none. */
NEONFLOW_API const char *neonflow_report_lost_writes_end(const neonflow_report *r);
/** lost_writes_end in Unix epoch ms; 0 when there is no window. */
NEONFLOW_API int64_t neonflow_report_lost_writes_end_ms(const neonflow_report *r);
/** The target's LSN at the switch (from the rollback snapshot); "" when unknown. */
NEONFLOW_API const char *neonflow_report_lost_writes_end_lsn(const neonflow_report *r);
/** When the source was last copied from the target (RFC 3339); "" when unknown. */
NEONFLOW_API const char *neonflow_report_divergence_start(const neonflow_report *r);
/**
 * Where the window's `end` comes from ("" when there is no window). Every
 * source gives a time that is never before the actual switch:
 * - "finalize-operations": when the finalize's operations (the endpoint's
 *   restart on the new target) finished, from their own timestamps, rounded
 *   up to the precision Neon gave; also after a resume, from the project's
 *   operation log;
 * - "backup-renamed": the target has no endpoint, so the switch is the moment
 *   the old target was renamed (the backup's updated_at, rounded up);
 * - "checked-at": the finalize's operations could no longer be found (e.g.
 *   expired from the operation log): the time this run checked, an upper
 *   bound (a WARNING event says so).
 * Borrowed from the report.
 */
NEONFLOW_API const char *neonflow_report_lost_writes_end_source(const neonflow_report *r);

/** neonflow_report_to_json flags. */
#define NEONFLOW_REPORT_JSON_COMPACT 0x1u /**< one line, no indentation (default: indented by 2) */

/**
 * The report as a JSON document (what `neonflow --json` prints), into *out
 * (free it with neonflow_free()). The document's schema is versioned by its
 * top-level integer "schema_version" (1): fields are only added within a
 * version, enumerations use the names of the _name() functions and may gain
 * values; docs/workflows.md describes every field. `flags` is 0 or
 * NEONFLOW_REPORT_JSON_COMPACT. Errors: NEONFLOW_EINVAL (NULL out or r,
 * unknown flags), NEONFLOW_ENOMEM; *out is NULL after a failure.
 * Thread-safety: any thread, as long as the report is not freed meanwhile.
 */
NEONFLOW_API int neonflow_report_to_json(char **out, const neonflow_report *r, uint32_t flags, neonflow_error **err);

/** Frees a report. NULL-safe. */
NEONFLOW_API void neonflow_report_free(neonflow_report *r);

/* ---- steps -------------------------------------------------------------- */
/** Step name, e.g. "preflight", "snapshot-candidate", "finalize". Borrowed. */
NEONFLOW_API const char *neonflow_step_name(const neonflow_step *s);
/** One line saying what the step does. Borrowed. */
NEONFLOW_API const char *neonflow_step_description(const neonflow_step *s);
/** NEONFLOW_STEP_* */
NEONFLOW_API int32_t neonflow_step_status(const neonflow_step *s);
/** 1 when the step changes Neon state (gates run before these). */
NEONFLOW_API int neonflow_step_is_mutating(const neonflow_step *s);
/** Wall time the step took, in ms. */
NEONFLOW_API int64_t neonflow_step_duration_ms(const neonflow_step *s);
/** HTTP attempts the step made (retries included). */
NEONFLOW_API int64_t neonflow_step_api_calls(const neonflow_step *s);
/** How many of neonflow_step_api_calls() were retries. */
NEONFLOW_API int64_t neonflow_step_retries(const neonflow_step *s);
/** Number of resources the step planned, created, replaced, deleted or kept. */
NEONFLOW_API size_t neonflow_step_resource_count(const neonflow_step *s);
/** The i-th resource (borrowed until the report is freed), or NULL when out of range. */
NEONFLOW_API const neonflow_resource *neonflow_step_resource_at(const neonflow_step *s, size_t i);

/* ---- resources ---------------------------------------------------------- */
/** NEONFLOW_RESOURCE_* */
NEONFLOW_API int32_t neonflow_resource_kind(const neonflow_resource *res);
/** NEONFLOW_ACTION_* */
NEONFLOW_API int32_t neonflow_resource_action(const neonflow_resource *res);
/** Name (planned names are known before creation). Borrowed. */
NEONFLOW_API const char *neonflow_resource_name(const neonflow_resource *res);
/** ID ("" while only planned). Borrowed. */
NEONFLOW_API const char *neonflow_resource_id(const neonflow_resource *res);
/**
 * Role in the workflow: "candidate", "rollback", "preview", "backup", "setup",
 * "pre-rollback", "refresh", "undo-preview", "undo-backup", "dev", "endpoint",
 * "target", ... (the kind part of neonflow's names, see docs/workflows.md).
 */
NEONFLOW_API const char *neonflow_resource_role(const neonflow_resource *res);
/** The target branch name the resource belongs to ("" when none). */
NEONFLOW_API const char *neonflow_resource_target(const neonflow_resource *res);
/** The run that created it ("" when not made by neonflow). */
NEONFLOW_API const char *neonflow_resource_run_id(const neonflow_resource *res);
/** Creation time (RFC 3339 string and epoch ms; "" / 0 when unknown). */
NEONFLOW_API const char *neonflow_resource_created_at(const neonflow_resource *res);
/** created_at in Unix epoch ms; 0 when unknown. */
NEONFLOW_API int64_t neonflow_resource_created_at_ms(const neonflow_resource *res);
/** Expiry of a snapshot ("" / 0 when none). */
NEONFLOW_API const char *neonflow_resource_expires_at(const neonflow_resource *res);
/** Size in bytes (-1 when unknown). */
NEONFLOW_API int64_t neonflow_resource_size_bytes(const neonflow_resource *res);
/** For backup branches: the branch that replaced it ("" when unknown). */
NEONFLOW_API const char *neonflow_resource_replaced_by(const neonflow_resource *res);

/* ---- events ------------------------------------------------------------- */
/** NEONFLOW_EVENT_* */
NEONFLOW_API int32_t neonflow_event_kind(const neonflow_event *ev);
/** NEONFLOW_WORKFLOW_* of the run the event belongs to. */
NEONFLOW_API int32_t neonflow_event_workflow(const neonflow_event *ev);
/** The run id (known from RUN_STARTED on). */
NEONFLOW_API const char *neonflow_event_run_id(const neonflow_event *ev);
/** The step the event belongs to ("" for run-level events). */
NEONFLOW_API const char *neonflow_event_step(const neonflow_event *ev);
/** A human-readable line. */
NEONFLOW_API const char *neonflow_event_message(const neonflow_event *ev);
/** For STEP_END: NEONFLOW_STEP_*. For OPERATION: NEONFLOW_OP_STATUS_*. Else 0. */
NEONFLOW_API int32_t neonflow_event_status(const neonflow_event *ev);
/** For STEP_END: the step's duration; RETRY/RATE_LIMIT_WAIT: the wait. Else 0. */
NEONFLOW_API int64_t neonflow_event_duration_ms(const neonflow_event *ev);
/** For OPERATION: the operation id ("" otherwise). */
NEONFLOW_API const char *neonflow_event_operation_id(const neonflow_event *ev);
/** For OPERATION: the operation's action, e.g. "apply_config" ("" otherwise). */
NEONFLOW_API const char *neonflow_event_operation_action(const neonflow_event *ev);
/** For RETRY: the HTTP status that caused it (0 for transport failures). */
NEONFLOW_API int32_t neonflow_event_http_status(const neonflow_event *ev);
/** Milliseconds since the run started. */
NEONFLOW_API int64_t neonflow_event_elapsed_ms(const neonflow_event *ev);

NEONFLOW_END_DECLS

#endif /* NEONFLOW_WORKFLOW_H */
