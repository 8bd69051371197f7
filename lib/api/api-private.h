/* Internal view of lib/api: object layouts, the response parsers (callable on
 * a json_t for unit tests and fuzzing) and the `_ctx` variants of every call
 * that the workflow layer uses to pass a cancel token and a deadline and to
 * count calls and retries. Only lib/ and tests include this. */
#ifndef NEONFLOW_API_PRIVATE_H
#define NEONFLOW_API_PRIVATE_H

#include <jansson.h>
#include <stdint.h>

#include "core/hook.h"
#include "core/http.h"
#include "json-util.h"
#include "neonflow/backup_schedule.h"
#include "neonflow/branch.h"
#include "neonflow/endpoint.h"
#include "neonflow/operation.h"
#include "neonflow/snapshot.h"

/* ---- object layouts ------------------------------------------------------
 * Strings point into the JSON document kept alive by `own` (standalone
 * objects) or by the list / result holding the object (own == NULL). */
struct neonflow_operation {
    json_t *own;
    const json_t *obj;          /* the object in its document */
    neonflow__json_cache json;  /* its text, made on request */
    const char *id, *project_id, *branch_id, *endpoint_id, *action, *status, *error;
    const char *retry_at, *created_at, *updated_at;
    int64_t retry_at_ms, created_at_ms, updated_at_ms, total_duration_ms;
    int32_t failures_count;
    int32_t action_code, status_code;
};

struct neonflow_operation_list {
    neonflow__vec v;  /* of struct neonflow_operation */
    const char *next_cursor;
};

struct neonflow_endpoint {
    json_t *own;
    const json_t *obj;
    neonflow__json_cache json;
    const char *id, *host, *branch_id, *project_id, *name, *type, *current_state, *pending_state;
    const char *region_id, *last_active, *started_at, *suspended_at, *creation_source;
    const char *created_at, *updated_at, *provisioner, *compute_release_version;
    double min_cu, max_cu;
    int disabled, passwordless_access; /* -1 absent */
    int64_t last_active_ms, started_at_ms, suspended_at_ms, created_at_ms, updated_at_ms;
    int64_t suspend_timeout_seconds;
    int32_t type_code, current_state_code, pending_state_code;
};

struct neonflow_endpoint_list {
    neonflow__vec v;
};

struct neonflow_branch {
    json_t *own;
    const json_t *obj;
    neonflow__json_cache json;
    const char *id, *project_id, *parent_id, *parent_lsn, *parent_timestamp, *name, *current_state;
    const char *pending_state, *state_changed_at, *creation_source, *created_at, *updated_at;
    const char *last_reset_at, *expires_at, *init_source, *restore_status, *restored_from, *restored_as;
    const char *created_by_name, *created_by_image;
    const json_t *created_by, *restricted;
    int64_t parent_timestamp_ms, state_changed_at_ms, created_at_ms, updated_at_ms, last_reset_at_ms;
    int64_t expires_at_ms;
    int64_t logical_size, compute_time_seconds, active_time_seconds;
    int64_t written_data_bytes, data_transfer_bytes, ttl_interval_seconds;
    int is_default, primary, is_protected; /* -1 absent */
    int32_t current_state_code, pending_state_code, restore_status_code;
};

struct neonflow_branch_list {
    neonflow__vec v;
    const char *next_cursor; /* single-page lists: pagination.next, borrowed from the page */
};

struct neonflow_branch_result {
    json_t *root;
    struct neonflow_branch branch;
    neonflow_endpoint_list endpoints;
    neonflow_operation_list operations;
};

struct neonflow_snapshot {
    json_t *own;
    const json_t *obj;
    neonflow__json_cache json;
    const char *id, *name, *slug, *lsn, *timestamp, *source_branch_id, *created_at, *expires_at;
    int64_t timestamp_ms, created_at_ms, expires_at_ms, full_size, diff_size;
    int manual; /* -1 absent */
};

struct neonflow_snapshot_list {
    neonflow__vec v;
};

struct neonflow_backup_schedule_item {
    json_t *obj;               /* own reference; NULL for an item added by hand */
    neonflow__json_cache json;
    char *frequency;
    int32_t hour, day, month;
    int64_t retention_seconds;
};

struct neonflow_backup_schedule {
    neonflow__vec v; /* of struct neonflow_backup_schedule_item (owned strings) */
};

/* ---- element parsers (fill *item from obj; strings borrowed from obj) ------ */
int neonflow__operation_parse(const json_t *obj, void *item, const char *what, neonflow_error **err);
int neonflow__endpoint_parse(const json_t *obj, void *item, const char *what, neonflow_error **err);
void neonflow__endpoint_cleanup(void *item);
int neonflow__branch_parse(const json_t *obj, void *item, const char *what, neonflow_error **err);
int neonflow__snapshot_parse(const json_t *obj, void *item, const char *what, neonflow_error **err);
/* Free what an item owns beyond its document (the cached JSON text). */
void neonflow__operation_cleanup(void *item);
void neonflow__branch_cleanup(void *item);
void neonflow__snapshot_cleanup(void *item);
/* *dst = *src without sharing what src owns (own reference, cached text). */
void neonflow__operation_copy(struct neonflow_operation *dst, const struct neonflow_operation *src);
int neonflow__schedule_item_parse(const json_t *obj, void *item, const char *what, neonflow_error **err);
void neonflow__schedule_item_cleanup(void *item);

void neonflow__operation_list_init(neonflow_operation_list *l);
void neonflow__endpoint_list_init(neonflow_endpoint_list *l);
int neonflow__operation_list_new(neonflow_operation_list **out, neonflow_error **err);
/* Appends a copy of op (sharing its JSON document). */
int neonflow__operation_list_append(neonflow_operation_list *l, const neonflow_operation *op);
/* A standalone copy of op holding a reference to its document. */
int neonflow__operation_dup(const neonflow_operation *op, json_t *doc, neonflow_operation **out);

/* ---- response parsers: root is the parsed body (borrowed; may be NULL).
 * Outputs are new objects; NULL output pointers skip that part. Every one
 * returns NEONFLOW_EPROTOCOL naming the field for a malformed body. -------- */
/* {"operation": Operation} */
int neonflow__parse_operation_response(json_t *root, neonflow_operation **out, neonflow_error **err);
/* {"operations": [...], "pagination"?: {"cursor"?}}; ops_required: key must exist. */
int neonflow__parse_operations_response(json_t *root, int ops_required, neonflow_operation_list **out,
                                        neonflow_error **err);
/* {"endpoints": [...]} */
int neonflow__parse_endpoints_response(json_t *root, neonflow_endpoint_list **out, neonflow_error **err);
/* {"endpoint": Endpoint, "operations"?: [...]} */
int neonflow__parse_endpoint_response(json_t *root, neonflow_endpoint **out, neonflow_operation_list **ops_out,
                                      neonflow_error **err);
/* {"branch": Branch, "operations"?: [...]} (ops required when ops_out != NULL) */
int neonflow__parse_branch_response(json_t *root, neonflow_branch **out, neonflow_operation_list **ops_out,
                                    neonflow_error **err);
/* {"branch", "endpoints"?, "operations"} of a create or restore. */
int neonflow__parse_branch_result_response(json_t *root, neonflow_branch_result **out, neonflow_error **err);
/* One page {"branches": [...], "pagination"?: {"next"?}} appended to list;
 * *next_out (borrowed from root, may be NULL) and *page_items_out are set. */
int neonflow__branch_list_append_page(neonflow_branch_list *list, json_t *root, const char **next_out,
                                      size_t *page_items_out, neonflow_error **err);
int neonflow__branch_list_new(neonflow_branch_list **out, neonflow_error **err);
/* {"snapshot": Snapshot, "operations"?: [...]} (ops required when ops_out != NULL) */
int neonflow__parse_snapshot_response(json_t *root, neonflow_snapshot **out, neonflow_operation_list **ops_out,
                                      neonflow_error **err);
/* {"snapshots": [...]} */
int neonflow__parse_snapshots_response(json_t *root, neonflow_snapshot_list **out, neonflow_error **err);
/* {"schedule": [...]} */
int neonflow__parse_schedule_response(json_t *root, neonflow_backup_schedule **out, neonflow_error **err);
/* The JSON body {"schedule":[...]} for a PUT (new reference) or NULL on ENOMEM. */
json_t *neonflow__schedule_to_json(const neonflow_backup_schedule *sched);

/* Standalone copies (own reference on the item's document). */
int neonflow__snapshot_dup(const neonflow_snapshot *s, json_t *doc, neonflow_snapshot **out);
int neonflow__branch_dup(const neonflow_branch *b, json_t *doc, neonflow_branch **out);
int neonflow__endpoint_dup(const neonflow_endpoint *e, json_t *doc, neonflow_endpoint **out);

/* ---- request helper ------------------------------------------------------------ */
/* Sends one request; on success *json_out holds the body (owned; NULL when
 * empty) and *status_out the HTTP status (either may be NULL). */
int neonflow__api_call(neonflow_client *c, neonflow__call_ctx *ctx, const char *method, const char *path,
                       const char *route, const json_t *body, json_t **json_out, int32_t *status_out,
                       neonflow_error **err);

/* ---- options layouts (shared with the workflow layer) ------------------------------ */
struct neonflow_snapshot_create_options {
    char *name, *lsn, *timestamp, *expires_at;
};
struct neonflow_snapshot_update_options {
    char *name, *expires_at;
    int name_set, expires_set;
};
struct neonflow_snapshot_restore_options {
    char *name, *target_branch_id;
    int finalize;
};
struct neonflow_branches_list_options {
    char *search, *sort_by, *sort_order, *cursor;
    int32_t limit; /* 0 = not set */
};
struct neonflow_branch_create_options {
    char *parent_id, *name, *expires_at;
    int with_rw_endpoint;
    int is_protected; /* -1 = not sent */
};
struct neonflow_branch_delete_options {
    int hard_delete; /* -1 = not sent */
};
struct neonflow_endpoint_create_options {
    int32_t type;
    char *name, *region_id, *provisioner;
    double min_cu, max_cu;  /* 0 = not sent */
    int64_t suspend_timeout_seconds;
    int suspend_set;
    int disabled;           /* -1 = not sent */
    json_t *pg_settings;    /* NULL: no settings sent */
};
struct neonflow_branch_update_options {
    char *name, *expires_at;
    int name_set, expires_set;
    int is_protected; /* -1 = unchanged */
};
/* The await's default schedule (tuned by bench/await_bench.c): first poll
 * after 100 ms, each gap x1.5, capped at 980 ms so nothing is noticed more
 * than a second late. The workflow layer waits with the same schedule. */
#define NEONFLOW__AWAIT_FIRST_MS 100
#define NEONFLOW__AWAIT_MAX_MS 980

struct neonflow_await_options {
    int64_t timeout_ms;
    int64_t first_ms, max_ms;
    neonflow_cancel *cancel;
    neonflow__hook *progress_hook; /* neonflow_await_progress_fn */
};

/* {"endpoint":{branch_id, type, fields set in o}} (new reference), NULL on ENOMEM. o may be NULL. */
json_t *neonflow__endpoint_create_body(const char *branch_id, const neonflow_endpoint_create_options *o);

/* Gives ops to the caller through ops_out, or frees them when ops_out is NULL. */
void neonflow__ops_hand_out(neonflow_operation_list **ops_out, neonflow_operation_list *ops);

/* ---- internal call variants: ctx may be NULL ------------------------------------------- */
int neonflow__snapshot_create_ctx(neonflow_snapshot **out, neonflow_operation_list **ops_out, neonflow_client *c,
                                  neonflow__call_ctx *ctx, const char *project_id, const char *branch_id,
                                  const neonflow_snapshot_create_options *opts, neonflow_error **err);
int neonflow__snapshots_list_ctx(neonflow_snapshot_list **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                 const char *project_id, neonflow_error **err);
int neonflow__snapshot_find_by_id_ctx(neonflow_snapshot **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                      const char *project_id, const char *snapshot_id, neonflow_error **err);
int neonflow__snapshot_find_by_name_ctx(neonflow_snapshot **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                        const char *project_id, const char *name, neonflow_error **err);
int neonflow__snapshot_update_ctx(neonflow_snapshot **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                  const char *project_id, const char *snapshot_id,
                                  const neonflow_snapshot_update_options *opts, neonflow_error **err);
int neonflow__snapshot_delete_ctx(neonflow_operation_list **ops_out, neonflow_client *c, neonflow__call_ctx *ctx,
                                  const char *project_id, const char *snapshot_id, neonflow_error **err);
int neonflow__snapshot_restore_ctx(neonflow_branch_result **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                   const char *project_id, const char *snapshot_id,
                                   const neonflow_snapshot_restore_options *opts, neonflow_error **err);

/* Appends every page of the branches whose name or ID contains search (Neon's
 * partial match: callers filter for the exact name or ID) to l. */
int neonflow__branches_search_into(neonflow_branch_list *l, neonflow_client *c, neonflow__call_ctx *ctx,
                                   const char *project_id, const char *search, neonflow_error **err);
int neonflow__branches_list_ctx(neonflow_branch_list **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                const char *project_id, const neonflow_branches_list_options *opts,
                                neonflow_error **err);
int neonflow__branch_get_ctx(neonflow_branch **out, neonflow_client *c, neonflow__call_ctx *ctx,
                             const char *project_id, const char *branch_id, neonflow_error **err);
int neonflow__branch_find_by_name_ctx(neonflow_branch **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                      const char *project_id, const char *name, neonflow_error **err);
int neonflow__branch_create_ctx(neonflow_branch_result **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                const char *project_id, const neonflow_branch_create_options *opts,
                                neonflow_error **err);
int neonflow__branch_update_ctx(neonflow_branch **out, neonflow_operation_list **ops_out, neonflow_client *c,
                                neonflow__call_ctx *ctx, const char *project_id, const char *branch_id,
                                const neonflow_branch_update_options *opts, neonflow_error **err);
int neonflow__branch_delete_ctx(neonflow_operation_list **ops_out, neonflow_client *c, neonflow__call_ctx *ctx,
                                const char *project_id, const char *branch_id,
                                const neonflow_branch_delete_options *opts, neonflow_error **err);
/* 1 when name is a valid branch name: 1 to 256 bytes (branch_options.c). */
int neonflow__branch_name_ok(const char *name);
int neonflow__branch_finalize_restore_ctx(neonflow_operation_list **ops_out, neonflow_client *c,
                                          neonflow__call_ctx *ctx, const char *project_id, const char *branch_id,
                                          const char *old_branch_name, neonflow_error **err);

int neonflow__endpoints_list_ctx(neonflow_endpoint_list **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                 const char *project_id, const char *branch_id /* NULL: whole project */,
                                 neonflow_error **err);
int neonflow__endpoint_get_ctx(neonflow_endpoint **out, neonflow_client *c, neonflow__call_ctx *ctx,
                               const char *project_id, const char *endpoint_id, neonflow_error **err);
int neonflow__endpoint_create_ctx(neonflow_endpoint **out, neonflow_operation_list **ops_out, neonflow_client *c,
                                  neonflow__call_ctx *ctx, const char *project_id, const char *branch_id,
                                  const neonflow_endpoint_create_options *opts, neonflow_error **err);

int neonflow__operation_get_ctx(neonflow_operation **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                const char *project_id, const char *operation_id, neonflow_error **err);
int neonflow__operations_list_ctx(neonflow_operation_list **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                  const char *project_id, const char *cursor, int32_t limit,
                                  neonflow_error **err);

/* Await: ops (may be NULL) and/or ids. ctx supplies an outer cancel token and
 * deadline (the earlier of it and opts' timeout wins) and receives the call
 * and retry counts. `poll` replaces the HTTP GET (tests); NULL uses it. */
typedef int (*neonflow__await_poll_fn)(void *poll_payload, neonflow_client *c, neonflow__call_ctx *ctx,
                                       const char *project_id, const char *operation_id,
                                       neonflow_operation **out, neonflow_error **err);
int neonflow__operations_await_ctx(neonflow_await_result **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                   const char *project_id, const neonflow_operation_list *ops,
                                   const char *const *ids, size_t nids, const neonflow_await_options *opts,
                                   neonflow__await_poll_fn poll, void *poll_payload, neonflow_error **err);

int neonflow__backup_schedule_get_ctx(neonflow_backup_schedule **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                      const char *project_id, const char *branch_id, neonflow_error **err);
int neonflow__backup_schedule_set_ctx(neonflow_client *c, neonflow__call_ctx *ctx, const char *project_id,
                                      const char *branch_id, const neonflow_backup_schedule *sched,
                                      neonflow_error **err);

#endif
