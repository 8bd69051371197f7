/*
 * libneonflow — fleet calls: one workflow over many projects.
 *
 *   int neonflow_fleet_promote(neonflow_fleet_report **out, neonflow_client *client,
 *                              const neonflow_fleet_options *fleet,
 *                              const neonflow_promote_options *opts, neonflow_error **err);
 *
 * A fleet is a list of entries (project id, source, target). The call runs
 * the workflow once per entry, at most `concurrency` entries at a time, all
 * through the one client (its rate limiter paces the whole fleet), and
 * returns a fleet report: every entry's status, result and workflow report,
 * and totals. One typed call per workflow (promote, refresh, rollback), like
 * the single-project calls, so each takes its own workflow options as the
 * template for every entry: the entry's source and target replace the
 * template's, everything else (hooks, expiries, ...) applies to all.
 *
 * Run ids and resuming: the fleet has a run id (given, or generated and
 * reported first). Every entry's run id is derived from it, the workflow,
 * the project and the target (neonflow_fleet_derive_run_id), so calling the
 * same fleet again with the same fleet run id resumes every project: entries
 * already done are found done (their steps RESUMED), interrupted ones
 * continue where they stopped, the others start.
 *
 * Failures: one entry's failure does not stop the others unless
 * stop-on-failure is set; then no further entry starts (the entries already
 * running finish: they are independent projects) and the rest are reported
 * NOT_STARTED. The cancel token stops every running entry at its next safe
 * point (CANCELLED, resumable with the same fleet run id) and starts no more.
 *
 * Threads: the call starts up to concurrency - 1 threads (the calling thread
 * is a worker too) and joins them all before it returns; concurrency 1 runs
 * every entry on the calling thread. The hooks of the run options and of the
 * workflow options therefore run on several threads at once and must be
 * thread-safe. The fleet event hook is never called concurrently with itself.
 * The client must not be freed while the call runs; the options objects must
 * not be changed during it.
 */
#ifndef NEONFLOW_FLEET_H
#define NEONFLOW_FLEET_H

#include "common.h"
#include "errors.h"
#include "cancel.h"
#include "client.h"
#include "workflow.h"

NEONFLOW_BEGIN_DECLS

typedef struct neonflow_fleet_options neonflow_fleet_options;
typedef struct neonflow_fleet_report neonflow_fleet_report;
typedef struct neonflow_fleet_entry neonflow_fleet_entry;
typedef struct neonflow_fleet_event neonflow_fleet_event;

/* Both enumerations below are append-only: tolerate values you do not know. */

/* ---- entry status -------------------------------------------------------- */
#define NEONFLOW_FLEET_ENTRY_NOT_STARTED 0 /**< never started (stop-on-failure, cancel, or still queued) */
#define NEONFLOW_FLEET_ENTRY_RUNNING     1 /**< running (seen only in events) */
#define NEONFLOW_FLEET_ENTRY_DONE        2 /**< the workflow succeeded */
#define NEONFLOW_FLEET_ENTRY_FAILED      3 /**< the workflow failed; its result and report say why */
#define NEONFLOW_FLEET_ENTRY_CANCELLED   4 /**< stopped by the cancel token or the fleet's deadline at a safe point: resumable */
/**
 * "not_started", "running", "done", "failed", "cancelled" ("unknown"
 * otherwise; never NULL). Thread-safety: any thread.
 */
NEONFLOW_API const char *neonflow_fleet_entry_status_name(int32_t status);

/* ---- fleet events --------------------------------------------------------- */
#define NEONFLOW_FLEET_EVENT_STARTED       1 /**< first event: the fleet run id is known */
#define NEONFLOW_FLEET_EVENT_ENTRY_STARTED 2 /**< an entry began (its run id is known) */
#define NEONFLOW_FLEET_EVENT_ENTRY_DONE    3 /**< an entry succeeded */
#define NEONFLOW_FLEET_EVENT_ENTRY_FAILED  4 /**< an entry failed or was cancelled (see its status) */
#define NEONFLOW_FLEET_EVENT_ENDED         5 /**< last event: every entry has its final status */
/**
 * "started", "entry_started", "entry_done", "entry_failed", "ended"
 * ("unknown" otherwise; never NULL). Thread-safety: any thread.
 */
NEONFLOW_API const char *neonflow_fleet_event_kind_name(int32_t kind);

/**
 * Fleet event hook: informational. Called on the thread that ran the entry
 * (or the calling thread for STARTED and ENDED), never two at a time, while
 * the fleet's bookkeeping is held: keep it short, and do not start a fleet
 * or a workflow from it. `ev` and everything read from it are borrowed for
 * the duration of the call.
 */
typedef void (*neonflow_fleet_event_fn)(const neonflow_fleet_event *ev, void *payload);

/* ======================================================================== */
/* Fleet options                                                            */
/* ======================================================================== */

/**
 * Creates empty fleet options (no entries, concurrency 4, stop-on-failure
 * off, no run id, no cancel token, default run options). Free with
 * neonflow_fleet_options_free. Errors: NEONFLOW_EINVAL (out NULL),
 * NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_fleet_options_new(neonflow_fleet_options **out);
/** Frees the options, their entries and copied run options. NULL is accepted. */
NEONFLOW_API void neonflow_fleet_options_free(neonflow_fleet_options *opts);
/**
 * Appends an entry: the project (a Neon ID, required), the source and the
 * target branch (name or ID, 1-256 bytes; NULL = the workflow options'
 * value, then the workflow's default; a rollback ignores the source). The
 * strings are copied. Two entries with the same project and target are
 * refused when the fleet runs (NEONFLOW_EINVAL): one target, one run.
 * Errors: NEONFLOW_EINVAL (opts NULL, bad project id or branch reference),
 * NEONFLOW_ENOMEM; the fleet is unchanged after an error.
 */
NEONFLOW_API int neonflow_fleet_options_add_entry(neonflow_fleet_options *opts, const char *project_id,
                                                  const char *source, const char *target);
/**
 * As neonflow_fleet_options_add_entry, with run options of the entry's own
 * (copied now: later changes to `run` do not apply) instead of the fleet's
 * (neonflow_fleet_options_set_run_options). Their project id and run id are
 * ignored (the entry's project, the derived run id), and the fleet's cancel
 * token, when set, replaces theirs. `run` NULL = the fleet's run options.
 */
NEONFLOW_API int neonflow_fleet_options_add_entry_with_run_options(neonflow_fleet_options *opts,
                                                                   const char *project_id, const char *source,
                                                                   const char *target,
                                                                   const neonflow_run_options *run);
/** Number of entries added (0 for NULL). */
NEONFLOW_API size_t neonflow_fleet_options_entry_count(const neonflow_fleet_options *opts);
/**
 * Run options for every entry without options of its own (timeout, dry run,
 * keep-on-veto, busy wait, lease settings, event/gate/lock hooks), copied
 * now (hooks are shared, following the destroy rule of common.h). Their
 * project id and run id are ignored; the fleet's cancel token, when set,
 * replaces theirs. NULL restores the defaults. Errors: NEONFLOW_EINVAL
 * (opts NULL), NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_fleet_options_set_run_options(neonflow_fleet_options *opts,
                                                        const neonflow_run_options *run);
/** Entries run at once, 1..64 (default 4). Errors: NEONFLOW_EINVAL. */
NEONFLOW_API int neonflow_fleet_options_set_concurrency(neonflow_fleet_options *opts, int32_t concurrency);
/** 1: after the first failed entry, start no further entry (default 0: run them all). */
NEONFLOW_API int neonflow_fleet_options_set_stop_on_failure(neonflow_fleet_options *opts, int enable);
/**
 * The fleet run id (1-32 characters of a-z, 0-9 and '-'): give the id of an
 * interrupted fleet to resume it. Unset: one is generated and reported first
 * (the STARTED event, neonflow_fleet_report_run_id). NULL clears it.
 * Errors: NEONFLOW_EINVAL (opts NULL or a malformed id), NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_fleet_options_set_run_id(neonflow_fleet_options *opts, const char *run_id);
/**
 * A cancel token another thread may trigger (borrowed: it must outlive the
 * call): every running entry stops at its next safe point, no entry starts.
 * It replaces the cancel token of every entry's run options. NULL clears it.
 */
NEONFLOW_API int neonflow_fleet_options_set_cancel(neonflow_fleet_options *opts, neonflow_cancel *token);
/**
 * Deadline of the whole fleet in milliseconds from the call (> 0; default 0
 * = none, each entry has only its run options' timeout). No entry starts
 * after it; a running entry gets at most what is left of it as its timeout
 * and stops at a safe point when it passes (CANCELLED: resumable). The call
 * then returns NEONFLOW_ETIMEOUT unless an entry failed.
 * Errors: NEONFLOW_EINVAL (opts NULL, timeout_ms < 0).
 */
NEONFLOW_API int neonflow_fleet_options_set_timeout_ms(neonflow_fleet_options *opts, int64_t timeout_ms);
/**
 * Sets the fleet event hook (fn NULL removes it); the payload follows the
 * destroy rule of common.h. Errors: NEONFLOW_EINVAL (opts NULL), NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_fleet_options_set_event_hook(neonflow_fleet_options *opts, neonflow_fleet_event_fn fn,
                                                       void *payload, neonflow_destroy_fn destroy);

/**
 * The run id an entry of a fleet runs with: the fleet run id (cut to its
 * first 21 characters), '-', and 10 hex digits of a hash of the whole fleet
 * run id, the workflow kind name, the project id and the target as the entry
 * gives it (or the default it resolves to), into *out (free with
 * neonflow_free). The same inputs always give the same id, so a caller can
 * resume or inspect one project of a fleet on its own. `workflow` is
 * NEONFLOW_WORKFLOW_PROMOTE, _REFRESH or _ROLLBACK. Errors: NEONFLOW_EINVAL
 * (NULL or malformed arguments), NEONFLOW_ENOMEM. Thread-safety: any thread.
 */
NEONFLOW_API int neonflow_fleet_derive_run_id(char **out, const char *fleet_run_id, int32_t workflow,
                                              const char *project_id, const char *target);

/* ======================================================================== */
/* Fleet calls                                                              */
/* ======================================================================== */

/**
 * Promotes every entry (neonflow_promote with the entry's project, source
 * and target; `opts` may be NULL for the defaults and is borrowed for the
 * call). *out receives the fleet report whenever the entries were attempted
 * (also on failure); NULL when the arguments were unusable or memory ran
 * out. Returns NEONFLOW_OK when every entry is DONE; NEONFLOW_ECANCELLED
 * when the cancel token stopped the fleet, NEONFLOW_ETIMEOUT when its
 * deadline did (and no entry failed); NEONFLOW_EFLEET_FAILED when an
 * entry failed (or did not start after a failure with stop-on-failure); the
 * entries' results and reports say which and why, and *err summarises.
 * Errors before anything ran (no report): NEONFLOW_EINVAL (NULL client or
 * fleet, no entries, duplicate project and target), NEONFLOW_ERECURSIVE
 * (called from a hook of a run on the same client), NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_fleet_promote(neonflow_fleet_report **out, neonflow_client *client,
                                        const neonflow_fleet_options *fleet, const neonflow_promote_options *opts,
                                        neonflow_error **err);
/** Refreshes every entry (neonflow_refresh); as neonflow_fleet_promote. */
NEONFLOW_API int neonflow_fleet_refresh(neonflow_fleet_report **out, neonflow_client *client,
                                        const neonflow_fleet_options *fleet, const neonflow_refresh_options *opts,
                                        neonflow_error **err);
/**
 * Rolls every entry's target back (neonflow_rollback; the entries' sources
 * are ignored); as neonflow_fleet_promote. A snapshot id belongs to one
 * project, so `opts` with a snapshot id is refused (NEONFLOW_EINVAL) for a
 * fleet of more than one entry: each target gets its newest rollback point.
 */
NEONFLOW_API int neonflow_fleet_rollback(neonflow_fleet_report **out, neonflow_client *client,
                                         const neonflow_fleet_options *fleet, const neonflow_rollback_options *opts,
                                         neonflow_error **err);

/* ======================================================================== */
/* Fleet reports                                                            */
/* ======================================================================== */
/* Strings are borrowed until the report is freed and never NULL ("" when
 * absent); a NULL report gives ""/0. Thread-safety: a report may be read
 * from any thread once the call returned it. */

/** The fleet run id (given or generated). */
NEONFLOW_API const char *neonflow_fleet_report_run_id(const neonflow_fleet_report *r);
/** NEONFLOW_WORKFLOW_* the fleet ran. */
NEONFLOW_API int32_t neonflow_fleet_report_workflow(const neonflow_fleet_report *r);
/** The result the call returned (NEONFLOW_OK, NEONFLOW_ECANCELLED, NEONFLOW_ETIMEOUT, NEONFLOW_EFLEET_FAILED). */
NEONFLOW_API int neonflow_fleet_report_result(const neonflow_fleet_report *r);
/** One paragraph: the totals and, unless all is done, how to resume. */
NEONFLOW_API const char *neonflow_fleet_report_message(const neonflow_fleet_report *r);
/** Wall time of the whole fleet in milliseconds. */
NEONFLOW_API int64_t neonflow_fleet_report_duration_ms(const neonflow_fleet_report *r);
/** HTTP attempts of every entry's run, summed (retries included). */
NEONFLOW_API int64_t neonflow_fleet_report_api_calls(const neonflow_fleet_report *r);
/** How many entries ended with this NEONFLOW_FLEET_ENTRY_* status. */
NEONFLOW_API size_t neonflow_fleet_report_count(const neonflow_fleet_report *r, int32_t status);
/** Number of entries, in the order they were added. */
NEONFLOW_API size_t neonflow_fleet_report_entry_count(const neonflow_fleet_report *r);
/** Entry i (borrowed until the report is freed), NULL when out of range. */
NEONFLOW_API const neonflow_fleet_entry *neonflow_fleet_report_entry_at(const neonflow_fleet_report *r, size_t i);

/** neonflow_fleet_report_to_json flags. */
#define NEONFLOW_FLEET_JSON_COMPACT 0x1u /**< one line (default: indented by 2) */

/**
 * The fleet report as JSON (what `neonflow fleet --json` prints) into *out
 * (free with neonflow_free): top-level integer "schema_version" (1), the
 * totals, and "entries", each with its status and, when the entry ran, its
 * workflow report in the format of neonflow_report_to_json (docs/fleet.md).
 * Fields are only added within a schema version. `flags` is 0 or
 * NEONFLOW_FLEET_JSON_COMPACT. Errors: NEONFLOW_EINVAL (NULL out or r,
 * unknown flags), NEONFLOW_ENOMEM; *out is NULL after a failure.
 */
NEONFLOW_API int neonflow_fleet_report_to_json(char **out, const neonflow_fleet_report *r, uint32_t flags,
                                               neonflow_error **err);
/** Frees the report and every entry's workflow report. NULL is accepted. */
NEONFLOW_API void neonflow_fleet_report_free(neonflow_fleet_report *r);

/* ---- entries: getters (borrowed strings, "" when absent) -------------------- */
/** The entry's position in the fleet (0-based, the order of adding). */
NEONFLOW_API size_t neonflow_fleet_entry_index(const neonflow_fleet_entry *e);
/** The project id. */
NEONFLOW_API const char *neonflow_fleet_entry_project_id(const neonflow_fleet_entry *e);
/** The source it ran with (the entry's, else the options', else the default; "" for rollback). */
NEONFLOW_API const char *neonflow_fleet_entry_source(const neonflow_fleet_entry *e);
/** The target it ran with (resolved like the source). */
NEONFLOW_API const char *neonflow_fleet_entry_target(const neonflow_fleet_entry *e);
/** The entry's derived run id (known before it starts). */
NEONFLOW_API const char *neonflow_fleet_entry_run_id(const neonflow_fleet_entry *e);
/** NEONFLOW_FLEET_ENTRY_* */
NEONFLOW_API int32_t neonflow_fleet_entry_status(const neonflow_fleet_entry *e);
/** The workflow call's result (NEONFLOW_OK when done; 0 when not started). */
NEONFLOW_API int neonflow_fleet_entry_result(const neonflow_fleet_entry *e);
/** The workflow's message (its report's, or its error's); "" when not started. */
NEONFLOW_API const char *neonflow_fleet_entry_message(const neonflow_fleet_entry *e);
/**
 * The entry's workflow report, borrowed: owned by the fleet report and
 * freed with it (never call neonflow_report_free on it). NULL when the entry
 * did not start or its run failed before it had a report (e.g. bad options).
 */
NEONFLOW_API const neonflow_report *neonflow_fleet_entry_report(const neonflow_fleet_entry *e);

/* ---- events: getters (valid during the hook call only) ------------------------- */
/** NEONFLOW_FLEET_EVENT_* */
NEONFLOW_API int32_t neonflow_fleet_event_kind(const neonflow_fleet_event *ev);
/** NEONFLOW_WORKFLOW_* of the fleet. */
NEONFLOW_API int32_t neonflow_fleet_event_workflow(const neonflow_fleet_event *ev);
/** The fleet run id. */
NEONFLOW_API const char *neonflow_fleet_event_run_id(const neonflow_fleet_event *ev);
/** The entry of an ENTRY_* event (its state now, borrowed); NULL for STARTED and ENDED. */
NEONFLOW_API const neonflow_fleet_entry *neonflow_fleet_event_entry(const neonflow_fleet_event *ev);
/** Number of entries in the fleet. */
NEONFLOW_API size_t neonflow_fleet_event_total(const neonflow_fleet_event *ev);
/** How many entries have this NEONFLOW_FLEET_ENTRY_* status at the time of the event. */
NEONFLOW_API size_t neonflow_fleet_event_count(const neonflow_fleet_event *ev, int32_t status);
/** Milliseconds since the fleet started. */
NEONFLOW_API int64_t neonflow_fleet_event_elapsed_ms(const neonflow_fleet_event *ev);

NEONFLOW_END_DECLS

#endif /* NEONFLOW_FLEET_H */
