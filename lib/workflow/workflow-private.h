/* Internal view of lib/workflow: option and report layouts, the run engine
 * (steps, events, gates, waits, counters), the naming scheme and the shared
 * helpers every workflow uses. Only lib/workflow and tests include this. */
#ifndef NEONFLOW_WORKFLOW_PRIVATE_H
#define NEONFLOW_WORKFLOW_PRIVATE_H

#include <stdint.h>

#include "api/api-private.h"
#include "core/error.h"
#include "core/hook.h"
#include "core/http.h"
#include "neonflow/workflow.h"

#define NEONFLOW__WF_DEFAULT_TIMEOUT_MS 1800000
#define NEONFLOW__WF_DEFAULT_BUSY_WAIT_MS 120000
#define NEONFLOW__RUN_ID_MAX 32
#define NEONFLOW__STAMP_LEN 16 /* YYYYMMDDTHHMMSSZ */
#define NEONFLOW__NAME_MAX 256 /* Neon's limit for branch names */
#define NEONFLOW__LEASE_DEFAULT_TTL_MS 600000

/* ---- options ------------------------------------------------------------ */
struct neonflow_run_options {
    char *project_id, *run_id;
    int64_t timeout_ms, busy_wait_ms;
    neonflow_cancel *cancel;
    int dry_run, keep_on_veto;
    neonflow__hook *event_hook, *gate_hook;
    int64_t lease_ttl_ms, lease_wait_ms; /* lease.c */
    neonflow__hook *lock_hook;
};

struct neonflow_promote_options {
    char *source, *target;
    neonflow__hook *verify_hook, *after_switch_hook;
    int auto_rollback;
    int64_t rollback_expiry_s, candidate_expiry_s;
    int verify_compute; /* livecompute.c */
};

struct neonflow_refresh_options {
    char *source, *target;
    int delete_backup;
    neonflow__hook *verify_hook; /* livecompute.c */
    int verify_compute;
};

struct neonflow_rollback_options {
    char *target, *snapshot_id;
    int snapshot_first;
};

struct neonflow_setup_options {
    char *source, *dev_name;
};

struct neonflow_prune_options {
    int32_t keep_newest;
    int64_t older_than_s;
    int branches, snapshots;
};

/* ---- report ------------------------------------------------------------- */
struct neonflow_resource {
    int32_t kind, action;
    char *name, *id, *role, *target, *run_id, *created_at, *expires_at, *replaced_by;
    int64_t created_at_ms, size_bytes;
};

struct neonflow_step {
    char *name, *description;
    int32_t status;
    int mutating;
    int64_t duration_ms, api_calls, retries;
    neonflow_resource **res;
    size_t nres, capres;
    int incomplete; /* a resource or id could not be recorded (out of memory) */
};

/* String fields of the report, indexed by NEONFLOW__R_*. */
enum {
    NEONFLOW__R_SOURCE_ID,
    NEONFLOW__R_OLD_TARGET_ID,
    NEONFLOW__R_TARGET_ID,
    NEONFLOW__R_ENDPOINT_ID,
    NEONFLOW__R_ENDPOINT_HOST,
    NEONFLOW__R_CANDIDATE_ID,
    NEONFLOW__R_ROLLBACK_ID,
    NEONFLOW__R_PREVIEW_ID,
    NEONFLOW__R_BACKUP_ID,
    NEONFLOW__R_BACKUP_NAME,
    NEONFLOW__R_LW_START,
    NEONFLOW__R_LW_END,
    NEONFLOW__R_LW_END_LSN,
    NEONFLOW__R_DIVERGENCE,
    NEONFLOW__R_LW_END_SOURCE,
    NEONFLOW__R_COUNT
};

struct neonflow_report {
    int32_t workflow;
    char run_id[NEONFLOW__RUN_ID_MAX + 1];
    int dry_run;
    int result;
    char *message;
    neonflow_step **steps;
    size_t nsteps, capsteps;
    int64_t api_calls, retries, duration_ms;
    char *str[NEONFLOW__R_COUNT];
    int64_t lw_start_ms, lw_end_ms;
    int incomplete; /* a field could not be recorded (out of memory) */
};

struct neonflow_event {
    int32_t kind, workflow;
    const char *run_id, *step, *message;
    int32_t status;
    int64_t duration_ms;
    const char *op_id, *op_action;
    int32_t http_status;
    int64_t elapsed_ms;
};

/* report.c */
int neonflow__report_new(neonflow_report **out, int32_t workflow);
int neonflow__report_set(neonflow_report *r, int field, const char *value);
/* 1 when something the run did could not be recorded in the report (out of
 * memory): a run that otherwise succeeded must not report OK with it. */
int neonflow__report_incomplete(const neonflow_report *r);
const char *neonflow__report_get(const neonflow_report *r, int field);
neonflow_step *neonflow__step_add(neonflow_report *r, const char *name, const char *description, int mutating);
/* Adds a resource to the step; strings may be NULL. Returns it or NULL (ENOMEM). */
neonflow_resource *neonflow__resource_add(neonflow_step *s, int32_t kind, int32_t action, const char *role,
                                          const char *name, const char *id, const char *target);
int neonflow__resource_set(char **slot, const char *value);
/* Sets the id of the first resource of `s` with this role (if any). */
void neonflow__step_set_resource_id(neonflow_step *s, const char *role, const char *id);
/* The report as the JSON object of neonflow_report_to_json (a new
 * reference), or NULL when memory ran out; the fleet report embeds it. */
struct json_t *neonflow__report_json(const neonflow_report *r);
/* Report JSON building: sets o[k] = v (stealing v; a NULL v is a failure);
 * the _str form sets a string ("" for NULL). Both return non-zero on failure. */
int neonflow__json_set(struct json_t *o, const char *k, struct json_t *v);
int neonflow__json_set_str(struct json_t *o, const char *k, const char *v);
/* A copy of run options: strings duplicated, hooks shared (referenced). */
int neonflow__run_options_dup(neonflow_run_options **out, const neonflow_run_options *src);
/* 1 when this thread is inside a hook of a run on client c. */
int neonflow__hook_active(const neonflow_client *c);

/* ---- naming (naming.c) ---------------------------------------------------- */
/* 1 when id is a valid run id: 1-32 of [a-z0-9-]. */
int neonflow__run_id_valid(const char *id);
/* 8 lowercase hex characters from the client's random source. */
void neonflow__run_id_generate(const neonflow_client *c, char out[NEONFLOW__RUN_ID_MAX + 1]);
/* UTC wall time ms -> "YYYYMMDDTHHMMSSZ"; and an RFC 3339 "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void neonflow__stamp_format(int64_t wall_ms, char out[NEONFLOW__STAMP_LEN + 1]);
void neonflow__rfc3339_format(int64_t wall_ms, char *out, size_t len);
/* "nf/<target>/<kind>/<stamp>/<run_id>"; NEONFLOW_EINVAL when longer than 256. */
int neonflow__name_build(char *out, size_t len, const char *target, const char *kind, const char *stamp,
                         const char *run_id);
/* Parses a neonflow name. Outputs (each may be NULL) get the parts. Returns 1 on success. */
typedef struct neonflow__name_parts {
    char target[NEONFLOW__NAME_MAX + 1];
    char kind[32];
    char stamp[NEONFLOW__STAMP_LEN + 1];
    char run_id[NEONFLOW__RUN_ID_MAX + 1];
} neonflow__name_parts;
int neonflow__name_parse(const char *name, neonflow__name_parts *out);
/* 1 when name is a neonflow name of this target, kind and run id (any stamp). */
int neonflow__name_matches(const char *name, const char *target, const char *kind, const char *run_id);
/* Epoch ms of a stamp, or -1. */
int64_t neonflow__stamp_ms(const char *stamp);
/* The latest epoch ms an RFC 3339 time can stand for: a time in whole
 * seconds may be up to 999 ms later, one in microseconds up to 1 ms (0 when
 * unparseable). Used where a time must never be early. */
int64_t neonflow__time_upper_ms(const char *rfc3339);
/* When a terminal operation finished, never early: the later of its
 * updated_at and created_at + total_duration_ms, both rounded up. 0 unknown. */
int64_t neonflow__op_done_upper_ms(const neonflow_operation *op);
/* Neon's default backup names "<base> (old)" / "<base> (old N)": base into out, 1 on match. */
int neonflow__old_name_parse(const char *name, char *base_out, size_t len);

/* Kinds: each workflow has its own, so a run's resources say which workflow
 * made them. 0.1.0's shared "preview"/"backup" are still recognised. */
#define NEONFLOW__KIND_LEGACY_PREVIEW "preview"
#define NEONFLOW__KIND_LEGACY_BACKUP "backup"
/* NEONFLOW_WORKFLOW_* of the workflow that makes kind; 0 for the 0.1.0 kinds
 * (promote, refresh or rollback); -1 for a kind no workflow makes. */
int32_t neonflow__kind_workflow(const char *kind);
/* 1 when kind names a replaced target (any workflow's backup, 0.1.0 "backup", "undo-backup"). */
int neonflow__kind_is_backup(const char *kind);
/* "setup", "promote", ... for messages. */
const char *neonflow__workflow_label(int32_t workflow);

/* ---- engine (engine.c) ------------------------------------------------------ */
typedef struct neonflow__run neonflow__run;

/* The run's lease on one target (lease.c). */
typedef struct neonflow__lease {
    int held, lost, busy;          /* busy: a lease call is in progress (no re-entry from run_check) */
    char target[NEONFLOW__NAME_MAX + 1];
    char name[NEONFLOW__NAME_MAX + 1]; /* nf/<target>/lease */
    char id[64];                       /* the lease branch ("" with a lock hook) */
    int64_t renewed_mono;
    int64_t expires_wall;
    neonflow__hook *hook;              /* the lock hook, referenced for the run */
    int quiet;                         /* taken by a POST/PATCH without a 423: nothing was running */
    neonflow_branch_list *seen;        /* re-entry: the search for the target that found the lease */
} neonflow__lease;

typedef int (*neonflow__step_fn)(neonflow__run *r, neonflow_step *st, void *ws);

struct neonflow__run {
    neonflow_client *c;
    const neonflow_run_options *ro;
    neonflow__hook *event_hook, *gate_hook; /* references held for the run */
    neonflow_report *rep;
    const char *project_id;
    char stamp[NEONFLOW__STAMP_LEN + 1]; /* of this call; replaced by the earliest found on resume */
    int64_t start_mono, start_wall, deadline_mono;
    neonflow__call_ctx ctx;  /* counters are per step, summed into the report */
    neonflow_step *cur;      /* the step running, or NULL */
    size_t step_index;       /* 1-based index of the last executed step */
    neonflow_error *err;     /* the first failure of the run */
    int touched;             /* the target has been switched (finalize happened) */
    int interrupted;         /* stopped by the test seam */
    neonflow__lease lease;
};

/* Starts a run: validates the run options, creates the report, picks the run
 * id and time stamp, takes the hooks, emits RUN_STARTED. On failure returns
 * the code with err set (no report). */
/* Mark the thread as running one of r's hooks (returns what to restore). */
const neonflow_client *neonflow__hook_enter(const neonflow__run *r);
void neonflow__hook_leave(const neonflow_client *prev);
int neonflow__run_begin(neonflow__run *r, neonflow_client *c, const neonflow_run_options *ro, int32_t workflow,
                        neonflow_error **err);
/* Runs one step: cancel/deadline check, STEP_BEGIN, gate (mutating steps,
 * unless the step is already RESUMED), fn, counters, STEP_END, test seam.
 * In a dry run only steps with run_in_dry_run execute; the others keep their
 * PLANNED/RESUMED status. Returns NEONFLOW_OK or the step's failure code. */
int neonflow__run_step(neonflow__run *r, neonflow_step *st, neonflow__step_fn fn, void *ws, int run_in_dry_run);
/* Finishes: sets result and message, RUN_ENDED, transfers the error to err,
 * hands the report to *out. Returns rc. */
int neonflow__run_end(neonflow__run *r, int rc, const char *message, neonflow_report **out, neonflow_error **err);
/* Emits an event of kind with a printf message (step = current step). */
void neonflow__emit(neonflow__run *r, int32_t kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Fills the common fields (workflow, run id, step, elapsed) and calls the hook. */
void neonflow__deliver_event(neonflow__run *r, neonflow_event *ev);
/* Records a failure in r->err (the first one wins) and returns code. */
int neonflow__fail(neonflow__run *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Moves *e into r->err (or frees it when r->err is already set); returns code. */
int neonflow__fail_with(neonflow__run *r, neonflow_error **e, int code);
/* NEONFLOW_OK, or ECANCELLED / ETIMEOUT (recorded) when the run must stop. */
int neonflow__run_check(neonflow__run *r);
/* Sleeps up to ms, waking at once on the cancel token; returns as run_check. */
int neonflow__run_sleep(neonflow__run *r, int64_t ms);
int64_t neonflow__run_wall_ms(const neonflow__run *r);
int neonflow__run_dry(const neonflow__run *r);

/* ---- run id ownership (runid.c) ------------------------------------------------------ */
/* A run id belongs to one workflow, target and source. Fails with
 * NEONFLOW_ERUN_MISMATCH (before any mutation) when a resource in the project
 * carries this run's id (whatever the target in its name) but was made by
 * another workflow, for another target or, when source_id is given, from
 * another source; also when has_source and the run's resources exist but the
 * snapshot recording their source is gone (the source cannot be checked). */
int neonflow__run_id_claim(neonflow__run *r, const neonflow_branch_list *bl, const neonflow_snapshot_list *sl,
                           const char *target, const char *source_id, int has_source);

/* ---- the lease (lease.c) ------------------------------------------------------
 * acquire: takes the lease on target (the name it has in Neon) before the
 * run's state listing; releases a lease held on another target first. Dry
 * runs take none. Fails with NEONFLOW_ELEASE_HELD after the lease wait.
 * target_of: the target name of a branch reference the caller gave (an ID,
 * possibly the old target now named nf/<t>/backup/... by this run).
 * check: renews when a third of the TTL has passed; NEONFLOW_ESTATE once the
 * lease is lost (called by run_check). release: gives it up (run_end). */
int neonflow__lease_acquire(neonflow__run *r, const char *target);
/* target_of + acquire (nothing in a dry run). look_first: the caller re-checks
 * the target before it switches (promote, refresh, rollback), so with a run id
 * given the target's search may come before the lease's create (lease.c). */
int neonflow__lease_take(neonflow__run *r, const char *ref, int look_first);
/* One lookup by name: the branch named `name` must still be `id` (ESTATE otherwise). */
int neonflow__target_recheck(neonflow__run *r, const char *name, const char *id);
int neonflow__lease_target_of(neonflow__run *r, const char *ref, char *out, size_t len);
int neonflow__lease_check(neonflow__run *r);
void neonflow__lease_release(neonflow__run *r);
/* The branches whose name or ID contains the lease's target, when taking or
 * re-entering the lease just searched them (else NULL); the caller owns it. */
neonflow_branch_list *neonflow__lease_seen_take(neonflow__run *r);
/* 1 when this run's Neon lease was just taken by its own POST (or re-entered
 * by a PATCH): Neon refuses a mutation with 423 while a conflicting operation
 * runs (and the lease's own operation was awaited), so the project was quiet. */
int neonflow__lease_proves_quiet(const neonflow__run *r);
/* Deletes the leases in l (a listing of every branch) that an earlier,
 * killed attempt of this run and workflow left: a resumed prune re-enters
 * only the leases of targets it still deletes from. Failures are warnings
 * (such a lease expires by itself). Nothing in a dry run. */
void neonflow__lease_release_stale(neonflow__run *r, const neonflow_branch_list *l);
/* 1 when name is a lease branch name (nf/<target>/lease). */
int neonflow__lease_name_is(const char *name);

/* ---- waiting (await.c) -------------------------------------------------------- */
/* Waits until every operation of ops (may be NULL) is finished/skipped.
 * Emits OPERATION events; errors are recorded in r->err. */
int neonflow__wait_ops(neonflow__run *r, const neonflow_operation_list *ops);
/* The same; *done_ms receives when the last of ops finished, from their own
 * timestamps (neonflow__op_done_upper_ms), 0 when none is known. */
int neonflow__wait_ops_done_at(neonflow__run *r, const neonflow_operation_list *ops, int64_t *done_ms);
/* Waits until the project has no non-terminal operation (the newest page of
 * the operations list), up to max_ms (then NEONFLOW_EBUSY when busy_code). */
int neonflow__wait_quiet(neonflow__run *r, int64_t max_ms, int busy_code);

/* ---- building blocks (wfops.c): read back on uncertain outcomes ------------------ */
#define NEONFLOW__ID_LEN 64
#define NEONFLOW__HOST_LEN 256

typedef struct neonflow__snapinfo {
    char id[NEONFLOW__ID_LEN];
    char name[NEONFLOW__NAME_MAX + 1];
    char ts[64];  /* timestamp (or created_at when absent) */
    int64_t ts_ms;
    char lsn[32];
    char source_branch_id[NEONFLOW__ID_LEN];
} neonflow__snapinfo;

int neonflow__list_branches(neonflow__run *r, const char *search, neonflow_branch_list **out);

/* The branches a run looks at, gathered by Neon's `search` (a substring of
 * the name or ID) instead of a listing of the whole project: every branch
 * whose name or ID contains one of terms[] is in l (maybe more than once).
 * Lookups in l must match exactly (neonflow__branch_lookup/by_name/by_id).
 * Appending moves the branches: take pointers into l after the last search. */
typedef struct neonflow__bview {
    neonflow_branch_list *l;
    char **terms;
    size_t nterms;
} neonflow__bview;
/* 1 when an earlier search of v found every branch whose name or ID contains term. */
int neonflow__bview_covers(const neonflow__bview *v, const char *term);
/* Searches term into v->l unless an earlier search of v covered it. */
int neonflow__bview_search(neonflow__run *r, neonflow__bview *v, const char *term);
/* Takes list (the result of searching term) as v's list when v has none yet
 * (else frees it); NULL does nothing. */
int neonflow__bview_adopt(neonflow__run *r, neonflow__bview *v, neonflow_branch_list *list, const char *term);
void neonflow__bview_free(neonflow__bview *v);
/* (runid.c) Searches into v what neonflow__run_id_claim needs beyond the branches
 * carrying the run id (which v must hold already): the sources recorded by the
 * run's snapshots, and for a 0.1.0 backup the branches named after its target
 * (its replacer). Nothing in the usual case. */
int neonflow__run_id_prefetch(neonflow__run *r, neonflow__bview *v, const neonflow_snapshot_list *sl);
int neonflow__list_snapshots(neonflow__run *r, neonflow_snapshot_list **out);
const neonflow_branch *neonflow__branch_by_name(const neonflow_branch_list *l, const char *name);
const neonflow_branch *neonflow__branch_by_id(const neonflow_branch_list *l, const char *id);
/* By ID first, then by exact name. */
const neonflow_branch *neonflow__branch_lookup(const neonflow_branch_list *l, const char *name_or_id);
/* The earliest snapshot matching name and/or id (NULL = any). */
const neonflow_snapshot *neonflow__snapshot_by(const neonflow_snapshot_list *l, const char *name, const char *id);
void neonflow__snapinfo_fill(neonflow__snapinfo *si, const neonflow_snapshot *s);
/* 1 and id/host filled when the branch has a read_write endpoint, 0 when not, <0 on error. */
int neonflow__rw_endpoint(neonflow__run *r, const char *branch_id, char *id, size_t idlen, char *host,
                          size_t hostlen);
/* Creates (and awaits) or finds again by name. */
int neonflow__snapshot_make(neonflow__run *r, const char *branch_id, const char *name, const char *expires_at,
                            neonflow__snapinfo *info);
/* Restores snapshot_id as a new, NOT finalized branch `name` aimed at target_id. */
int neonflow__restore_make(neonflow__run *r, const char *snapshot_id, const char *name, const char *target_id,
                           char id_out[NEONFLOW__ID_LEN]);
/* Finalizes preview_id; the replaced branch is renamed backup_name. Sets r->touched.
 * done_ms (may be NULL): when its operations finished (0: unknown, e.g. found by read-back). */
int neonflow__finalize_make(neonflow__run *r, const char *preview_id, const char *backup_name,
                            const char *target_name, int64_t *done_ms);
int neonflow__endpoint_make(neonflow__run *r, const char *branch_id, char id[NEONFLOW__ID_LEN],
                            char host[NEONFLOW__HOST_LEN]);
/* Deletes (and awaits); "already gone" counts as done. */
int neonflow__branch_remove(neonflow__run *r, const char *branch_id);
int neonflow__snapshot_remove(neonflow__run *r, const char *snapshot_id);
/* Removes extra snapshots carrying one of the run's names (a replayed create). */
int neonflow__snapshot_dedupe(neonflow__run *r, const char *const *names, const char *const *keep_ids, size_t n);

/* ---- restore switch shared by promote, refresh and rollback (switch.c) ------------- */
typedef struct neonflow__swap {
    /* inputs */
    const char *source_ref;     /* NULL for rollback */
    const char *target_ref;
    const char *cand_kind;      /* "candidate" / "refresh"; NULL: restore an existing snapshot */
    const char *rb_kind;        /* "rollback" / "pre-rollback"; NULL: no snapshot of the target */
    const char *preview_kind, *backup_kind; /* "<workflow>-preview" / "<workflow>-backup" */
    const char *restore_snapshot_id; /* rollback: the snapshot to restore (NULL: newest rollback point) */
    int need_endpoint;          /* the target must have a read_write endpoint */
    int64_t cand_expiry_s, rb_expiry_s;
    neonflow__hook *verify, *after_switch; /* borrowed from the options */
    /* resolved */
    char source_id[NEONFLOW__ID_LEN], source_name[NEONFLOW__NAME_MAX + 1];
    char target_id[NEONFLOW__ID_LEN]; /* the target before the switch */
    char target_name[NEONFLOW__NAME_MAX + 1];
    char ep_id[NEONFLOW__ID_LEN], ep_host[NEONFLOW__HOST_LEN];
    char divergence[64];
    char cand_name[NEONFLOW__NAME_MAX + 1], rb_name[NEONFLOW__NAME_MAX + 1];
    char preview_name[NEONFLOW__NAME_MAX + 1], backup_name[NEONFLOW__NAME_MAX + 1];
    neonflow__snapinfo cand, rb;
    int cand_ours; /* the candidate was made by this run (cleanup may delete it) */
    char preview_id[NEONFLOW__ID_LEN], backup_id[NEONFLOW__ID_LEN], new_target_id[NEONFLOW__ID_LEN];
    char backup_updated_at[64];
    int finalized;
    int64_t switch_ms;          /* the switch was complete (never early); 0 unknown */
    const char *switch_how;     /* where switch_ms comes from (neonflow_report_lost_writes_end_source) */
    neonflow__bview bv;             /* the branches looked up (not the whole project) */
    neonflow_branch_list *branches; /* bv.l once the preflight's lookups are done */
    neonflow_snapshot_list *snaps;
    /* steps (NULL when the workflow has no such step) */
    neonflow_step *st_pre, *st_cand, *st_restore, *st_verify, *st_rb, *st_fin, *st_resolve;
    /* verify on a live compute (livecompute.c): the preview's temporary endpoint */
    int verify_compute, preview_found; /* preview_found: an earlier attempt made the preview */
    int vc_swept;                      /* no temporary endpoint is left on the preview */
    char vc_id[NEONFLOW__ID_LEN];
    neonflow_step *st_vc_create, *st_vc_delete;
} neonflow__swap;

int neonflow__swap_preflight(neonflow__run *r, neonflow_step *st, void *sw);
int neonflow__swap_snapshot_candidate(neonflow__run *r, neonflow_step *st, void *sw);
int neonflow__swap_restore(neonflow__run *r, neonflow_step *st, void *sw);
int neonflow__swap_verify(neonflow__run *r, neonflow_step *st, void *sw);
int neonflow__swap_snapshot_rollback(neonflow__run *r, neonflow_step *st, void *sw);
int neonflow__swap_finalize(neonflow__run *r, neonflow_step *st, void *sw);
int neonflow__swap_resolve(neonflow__run *r, neonflow_step *st, void *sw);
/* After a veto before the switch: removes what the run created (unless
 * keep-on-veto) and marks those steps UNDONE; appends what it did to note. */
void neonflow__swap_cleanup(neonflow__run *r, neonflow__swap *sw, char *note, size_t len);
void neonflow__swap_free(neonflow__swap *sw);
/* Calls a branch hook on the current state of branch_id; 0 = go on. */
int neonflow__call_branch_hook(neonflow__run *r, int32_t hook, neonflow__hook *h, const char *target,
                               const char *branch_id, int *vetoed);
/* The same; the hook's connection URI (fetched only when the hook asks)
 * goes through endpoint_id (NULL: the branch's read-write endpoint). */
int neonflow__call_branch_hook_ep(neonflow__run *r, int32_t hook, neonflow__hook *h, const char *target,
                                  const char *branch_id, const char *endpoint_id, int *vetoed);

/* ---- verify on a live compute (livecompute.c) ------------------------------------
 * The preview's temporary read-write endpoint is named nf-verify-<run id>, so
 * a resumed run finds one an interrupted attempt left behind. Steps: */
/* Adds the verify step (sw->st_verify) and, when sw->verify_compute, the
 * endpoint's create step before it and its delete step after it. */
void neonflow__verify_steps(neonflow_report *rep, neonflow__swap *sw);
/* Creates (or finds again) the endpoint on the preview and waits for it. */
int neonflow__live_compute_create(neonflow__run *r, neonflow_step *st, void *sw);
/* Deletes it (or one a crashed attempt left) and waits: before the switch. */
int neonflow__live_compute_delete(neonflow__run *r, neonflow_step *st, void *sw);
/* After a veto or failure (not an interruption): deletes the endpoint when
 * the run made one and it is still there. Best effort: a failure is a
 * warning event (deleting the preview branch removes it too). */
void neonflow__live_compute_release(neonflow__run *r, neonflow__swap *sw);
/* Before the switch of a resumed run without the option: deletes a
 * temporary endpoint an interrupted attempt left on the preview. */
int neonflow__live_compute_sweep(neonflow__run *r, neonflow__swap *sw);

/* When the switch that made new_target_id the target was complete, never
 * early: the finalize's operations (the endpoint ep_id restarting on the new
 * target), found in the project's operation log, newest first, back to
 * not_before_ms; without an endpoint the backup's rename (backup_updated_at);
 * when not found, now. *how gets the source (see
 * neonflow_report_lost_writes_end_source). (switchtime.c) */
int neonflow__switch_time(neonflow__run *r, const char *new_target_id, const char *backup_id, const char *ep_id,
                          int64_t not_before_ms, const char *backup_updated_at, int64_t *out_ms, const char **how);

/* ---- test seam --------------------------------------------------------------- */
/* Stop every run right after its k-th step (1-based; 0 disables), as if the
 * process died there: the run returns NEONFLOW_ECANCELLED with a message. */
void neonflow__workflow_set_interrupt_after(int k);
int neonflow__workflow_interrupt_after(void);

#endif
