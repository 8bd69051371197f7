/* Internal types shared by the emulator's source files (not installed). */
#ifndef NEONFLOW_EMU_INTERNAL_H
#define NEONFLOW_EMU_INTERNAL_H

#include "emulator.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

struct MHD_Daemon;
struct MHD_Connection;

#define EMU_ID_LEN 64
#define EMU_HIST_MAX 4096 /* writes remembered per branch for lsn/timestamp snapshots */

/* Growable array of pointers. */
typedef struct emu_vec {
    void **v;
    size_t n, cap;
} emu_vec;
int emu_vec_push(emu_vec *vec, void *p);
void emu_vec_remove(emu_vec *vec, size_t i); /* keeps order */

typedef struct emu_hist {
    uint64_t lsn;
    int64_t ts_ms;
    char *content;
} emu_hist;

/* Postgres roles and databases of a branch (roles.c). Names are Postgres
 * identifiers (at most 63 bytes). The password is synthetic in the in-memory
 * mode; --postgres makes it real. */
#define EMU_PG_NAME 64
typedef struct emu_role {
    char name[EMU_PG_NAME];
    char password[48];
    int is_protected;
    int64_t created_ms, updated_ms;
} emu_role;

typedef struct emu_db {
    int64_t id;
    char name[EMU_PG_NAME], owner[EMU_PG_NAME];
    int64_t created_ms, updated_ms;
} emu_db;

typedef struct emu_branch {
    char id[EMU_ID_LEN], parent_id[EMU_ID_LEN];
    char *name;
    char *expires_at;
    uint64_t parent_lsn; /* 0 = none */
    int64_t parent_ts_ms; /* 0 = none */
    int64_t created_ms, updated_ms, state_changed_ms;
    int64_t ready_at_mono; /* current_state "init" until then */
    int is_default, is_protected;
    char restore_status[16], restored_from[EMU_ID_LEN], restored_as[EMU_ID_LEN];
    char *content;
    uint64_t lsn;
    emu_hist *hist;
    size_t nhist, caphist;
    json_t *schedule; /* BackupScheduleItem[] */
    json_t *annotation; /* the annotation_value given at create ({k: v}), or NULL */
    uint64_t seq;
    /* restricted_actions, e.g. {"restore", "..."}: seeded by tests */
    char restrict_name[2][32], restrict_reason[2][128];
    int nrestrict;
    int schema_only; /* init_source "schema-only": the parent's schema, no data */
    int64_t last_reset_ms; /* 0 = never restored in place */
    emu_vec roles, dbs; /* emu_role*, emu_db* */
} emu_branch;

/* Adds a restriction (action NULL clears them all); -1 when full or too long. */
int emu_branch_restrict(emu_branch *b, const char *action, const char *reason);
/* 1 when the branch restricts `action` (e.g. "restore"); reason is set then. */
int emu_branch_restricted(const emu_branch *b, const char *action, const char **reason);

typedef struct emu_endpoint {
    char id[EMU_ID_LEN], branch_id[EMU_ID_LEN];
    char host[160];
    char *name;
    int read_write;
    int64_t suspend_timeout_s;
    int64_t created_ms, updated_ms, ready_at_mono;
    double min_cu, max_cu;
    int disabled;
    char *provisioner; /* NULL: k8s-neonvm */
    int suspended;           /* target state idle (POST .../suspend) */
    char prev_state[8];      /* shown until ready_at_mono: "" = init */
    json_t *pg_settings; /* owned; NULL: {} */
    uint16_t pg_port;    /* --postgres: the server's port, fixed for the endpoint's life */
    /* --postgres, read_only: the branch and primary port its standby follows (0: a copy) */
    char pg_follows[EMU_ID_LEN];
    uint16_t pg_follows_port;
} emu_endpoint;

/* Frees what an endpoint owns, and the endpoint. */
void emu_endpoint_free(emu_endpoint *e);

typedef struct emu_snapshot {
    char id[EMU_ID_LEN], source_branch_id[EMU_ID_LEN];
    char *name, *expires_at, *content;
    char *slug; /* unique per project; given or the id */
    uint64_t lsn;
    int64_t ts_ms, created_ms;
    int manual;
} emu_snapshot;

typedef struct emu_op {
    char id[40], branch_id[EMU_ID_LEN], endpoint_id[EMU_ID_LEN];
    char action[48];
    int64_t created_us;   /* wall clock, strictly increasing: the list cursor */
    int64_t created_mono; /* ms */
    int64_t duration_ms;
    int fault;            /* EMU_OPFAULT_* or 0 */
    char fixed_status[16]; /* loaded from a fixture: status frozen */
} emu_op;

#define EMU_MAX_OMIT 16
typedef struct emu_project {
    char id[EMU_ID_LEN];
    char *name;
    int64_t created_ms;
    int32_t max_roots, max_snaps;
    emu_vec branches, endpoints, snapshots, ops; /* ops oldest first */
    int64_t busy_until_mono; /* end of the last non-terminal operation */
    uint64_t next_seq;
    int keep_expired; /* tests: Neon's background job has not removed expired branches yet */
    emu_vec deleted; /* of emu_deleted: the last EMU_DELETED_MAX branch deletions (state dump) */
    /* tests: members left out of every branch and endpoint object, as when
     * Neon drops a deprecated field (POST /__emulator/omit_fields) */
    char omit[EMU_MAX_OMIT][48];
    int nomit;
} emu_project;

#define EMU_DELETED_MAX 64
typedef struct emu_deleted {
    char id[EMU_ID_LEN];
    int hard; /* the request's hard_delete (0 when absent) */
} emu_deleted;

typedef struct emu_fault_rule {
    emu_fault f; /* method/path strdup'd */
    int64_t seen;
} emu_fault_rule;

typedef struct emu_opfault {
    char *action;
    int kind, count;
} emu_opfault;

typedef struct emu_window { /* sliding log of accepted request times */
    int64_t *t;
    int cap, head, n;
} emu_window;

typedef struct emu_counter_entry {
    char *key; /* "METHOD path" */
    int64_t count;
    struct emu_counter_entry *next;
} emu_counter_entry;

#define EMU_COUNTER_BUCKETS 1024
#define EMU_COUNTER_MAX_KEYS 4096 /* then new paths count as "<METHOD> (overflow)" */
#define EMU_NROUTES 48
#define EMU_MAX_FAULT_RULES 1000 /* HTTP faults and operation faults, each */

typedef struct emu_conns emu_conns; /* conns.c: request deadlines */
typedef struct emu_pg emu_pg;       /* pgproc.c: --postgres mode; NULL otherwise */

struct emu_server {
    pthread_mutex_t mu; /* guards everything below except `connections`, `in_flight` */
    struct MHD_Daemon *daemon;
    char host[64];
    uint16_t port;
    char base_url[128];
    char *api_key;
    uint64_t rng;
    int64_t op_duration_ms;
    int32_t max_roots_default, max_snaps_default;
    emu_vec projects;
    emu_vec faults;   /* emu_fault_rule* */
    emu_vec opfaults; /* emu_opfault* */
    int64_t last_op_us;
    /* counters */
    emu_counter_entry *req_buckets[EMU_COUNTER_BUCKETS];
    size_t counter_keys;
    int64_t status_counts[600];
    atomic_llong connections;
    atomic_llong in_flight; /* API requests received and not yet completed (answered or dropped) */
    /* rate limit */
    int32_t rate_per_minute, rate_per_second_route;
    emu_window account_win;
    emu_window route_win[EMU_NROUTES + 1];
    atomic_int stopping;
    char *save_path; /* the only file POST /__emulator/save writes; NULL = refused */
    emu_conns *conns;
    emu_pg *pg;
};

/* ---- util.c ---- */
int64_t emu_now_ms(void);   /* wall clock */
int64_t emu_mono_ms(void);  /* monotonic */
void emu_fmt_time(int64_t ms, char *buf, size_t len); /* RFC 3339, seconds */
void emu_fmt_time_us(int64_t us, char *buf, size_t len); /* with microseconds */
int64_t emu_parse_time_ms(const char *s); /* RFC 3339 -> ms, -1 if invalid */
int64_t emu_parse_time_us(const char *s);
void emu_fmt_lsn(uint64_t lsn, char *buf, size_t len); /* "0/1A2B3C4D" */
int emu_parse_lsn(const char *s, uint64_t *out);
uint64_t emu_rand(emu_server *s);
double emu_rand_unit(emu_server *s);
void emu_gen_id(emu_server *s, const char *prefix, char *out, size_t len); /* br-word-word-xxxxxxxx */
void emu_gen_uuid(emu_server *s, char *out, size_t len);
int emu_path_match(const char *pattern, const char *path);
int emu_valid_id(const char *s);
char *emu_strdup(const char *s); /* NULL-safe */
void emu_set_str(char **dst, const char *src);
json_t *emu_error_body(const char *code, const char *message, const char *request_id);

/* ---- state.c ---- */
emu_project *emu_project_find(emu_server *s, const char *id);
emu_project *emu_project_new(emu_server *s, const char *id, const char *name);
emu_branch *emu_branch_find(emu_project *p, const char *id);
emu_branch *emu_branch_find_name(emu_project *p, const char *name);
emu_branch *emu_branch_default(emu_project *p);
emu_branch *emu_branch_new(emu_server *s, emu_project *p, const char *name, const emu_branch *parent);
void emu_branch_free(emu_branch *b);
void emu_branch_remove(emu_project *p, emu_branch *b); /* frees */
int emu_branch_write(emu_branch *b, emu_server *s, const char *content);
const emu_hist *emu_branch_at_lsn(const emu_branch *b, uint64_t lsn);
const emu_hist *emu_branch_at_time(const emu_branch *b, int64_t ts_ms);
int emu_count_roots(const emu_project *p);
int emu_count_manual_snapshots(emu_project *p);
void emu_purge_expired_snapshots(emu_project *p);
/* Removes branches whose expires_at has passed (Neon's background job, done
 * lazily at the next branch request); default, protected and parent branches stay. */
void emu_purge_expired_branches(emu_project *p);
/* The branch's Annotation object {object, value, created_at, updated_at}. */
json_t *emu_json_annotation(const emu_branch *b);
int emu_has_children(const emu_project *p, const emu_branch *b);
void emu_unique_old_name(emu_project *p, const char *base, char *out, size_t len);
emu_endpoint *emu_endpoint_find(emu_project *p, const char *id);
emu_endpoint *emu_endpoint_rw_of(emu_project *p, const char *branch_id);
emu_endpoint *emu_endpoint_new(emu_server *s, emu_project *p, const char *branch_id, int read_write);
void emu_endpoint_remove(emu_project *p, emu_endpoint *e);
emu_snapshot *emu_snapshot_find(emu_project *p, const char *id);
void emu_snapshot_free(emu_snapshot *sn);
void emu_project_free(emu_project *p);
emu_op *emu_op_new(emu_server *s, emu_project *p, const char *action, const char *branch_id,
                   const char *endpoint_id);
emu_op *emu_op_find(emu_project *p, const char *id);
int64_t emu_op_end_offset(const emu_op *op); /* ms after creation when terminal */
int emu_project_busy(const emu_project *p);
json_t *emu_json_op(const emu_op *op, const emu_project *p);
json_t *emu_json_branch(const emu_branch *b, const emu_project *p);
json_t *emu_json_endpoint(const emu_endpoint *e, const emu_project *p);
json_t *emu_json_snapshot(const emu_snapshot *sn);
json_t *emu_json_project(const emu_project *p);

/* ---- roles.c: roles and databases of a branch ----
 * A branch's roles and databases are b->roles / b->dbs (emu_role* / emu_db*,
 * in creation order); these functions keep them consistent. */
emu_role *emu_role_find(const emu_branch *b, const char *name);
/* Adds a role; password NULL = a generated one. NULL if it exists or on OOM. */
emu_role *emu_role_add(emu_server *s, emu_branch *b, const char *name, const char *password);
void emu_role_remove(emu_branch *b, emu_role *r);
emu_db *emu_db_find(const emu_branch *b, const char *name);
emu_db *emu_db_add(emu_server *s, emu_branch *b, const char *name, const char *owner);
void emu_db_remove(emu_branch *b, emu_db *d);
/* Neon's seed of a new project: role neondb_owner (random password) owning database neondb. */
int emu_branch_seed_roles(emu_server *s, emu_branch *b);
/* Replaces dst's roles and databases by copies of src's (same passwords, as on Neon). */
int emu_branch_copy_roles(emu_branch *dst, const emu_branch *src);
void emu_branch_free_roles(emu_branch *b);
/* Role / Database objects of the spec; the password only when with_password. */
json_t *emu_json_role(const emu_role *r, const emu_branch *b, int with_password);
json_t *emu_json_db(const emu_db *d, const emu_branch *b);
/* Fixture form {"roles": [...with password], "databases": [...]} <-> state. */
void emu_roles_dump(const emu_branch *b, json_t *branch_obj);
int emu_roles_load(emu_branch *b, json_t *branch_obj); /* 0 loaded, 1 absent, -1 bad */

/* ---- request context and routes ---- */
#define EMU_MAX_SEGS 12

typedef struct emu_ctx {
    emu_server *s;
    struct MHD_Connection *conn;
    const char *method;
    char *seg[EMU_MAX_SEGS]; /* path below /api/v2 split on '/' */
    int nseg;
    json_t *body; /* parsed JSON body, NULL when empty */
    const char *request_id;
    emu_project *proj; /* seg[1] resolved for /projects/{id}/... */
    int no_query;      /* EMU_FAULT_DROP_QUERY: emu_query sees nothing */
    char pg_lsn[32], pg_ts[48]; /* --postgres: the past point a copy must replay to */
    int64_t pg_ts_ms;
    /* output */
    int status;
    json_t *out;
    int retry_after_s; /* -1 = no header */
} emu_ctx;

void emu_err(emu_ctx *c, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void emu_ok(emu_ctx *c, int status, json_t *out);
/* Sets an error response and returns from the (void) handler. */
#define EMU_FAIL(c, ...)                                                                           \
    do {                                                                                           \
        emu_err(c, __VA_ARGS__);                                                                   \
        return;                                                                                    \
    } while (0)
const char *emu_query(emu_ctx *c, const char *key);
/* Optional typed members: 0 absent/null, 1 present, -1 wrong type (400 already set). */
int emu_get_str(emu_ctx *c, json_t *obj, const char *key, const char **out);
int emu_get_bool(emu_ctx *c, json_t *obj, const char *key, int *out);
/* Member that must be an object when present: NULL if absent; sets 400 on wrong type. */
json_t *emu_get_obj(emu_ctx *c, json_t *obj, const char *key, int *bad);
/* Creates an operation and appends its JSON to arr; returns the op's end on
 * the monotonic clock (for current_state), or 0 when out of memory. */
int64_t emu_emit(emu_ctx *c, json_t *arr, const char *action, const char *branch_id,
                 const char *endpoint_id);
/* Validates an RFC 3339 member/param; 400 set and -1 returned when invalid. */
int emu_check_time(emu_ctx *c, const char *what, const char *value);

typedef void (*emu_handler)(emu_ctx *c);
void emu_project_get(emu_ctx *c);
void emu_projects_list(emu_ctx *c);
void emu_branches_list(emu_ctx *c);
void emu_branches_count(emu_ctx *c);
void emu_branch_get(emu_ctx *c);
void emu_branch_create(emu_ctx *c);
void emu_branch_update(emu_ctx *c);
void emu_branch_delete(emu_ctx *c);
void emu_branch_set_default(emu_ctx *c);
void emu_branch_finalize(emu_ctx *c);
void emu_schedule_get(emu_ctx *c);
void emu_schedule_put(emu_ctx *c);
void emu_snapshot_create(emu_ctx *c);
void emu_snapshots_list(emu_ctx *c);
void emu_snapshot_update(emu_ctx *c);
void emu_snapshot_delete(emu_ctx *c);
void emu_snapshot_restore(emu_ctx *c);
void emu_endpoints_list(emu_ctx *c);
void emu_branch_endpoints_list(emu_ctx *c);
void emu_endpoint_get(emu_ctx *c);
void emu_endpoint_create(emu_ctx *c);
void emu_endpoint_delete(emu_ctx *c);
void emu_operations_list(emu_ctx *c);
void emu_operation_get(emu_ctx *c);
void emu_projects_shared(emu_ctx *c);
void emu_roles_list(emu_ctx *c);
void emu_role_create(emu_ctx *c);
void emu_role_get(emu_ctx *c);
void emu_role_delete(emu_ctx *c);
void emu_role_reveal_password(emu_ctx *c);
void emu_databases_list(emu_ctx *c);
void emu_database_create(emu_ctx *c);
void emu_database_get(emu_ctx *c);
void emu_database_delete(emu_ctx *c);
void emu_connection_uri(emu_ctx *c);
void emu_branch_restore(emu_ctx *c);
void emu_endpoint_update(emu_ctx *c);
void emu_endpoint_start(emu_ctx *c);
void emu_endpoint_suspend(emu_ctx *c);
void emu_endpoint_restart(emu_ctx *c);
/* Compute settings of an endpoint request object (create, PATCH, branch
 * create's endpoints[]): parsed and checked first, applied after. */
typedef struct emu_ep_settings {
    int has_min, has_max, has_st, has_prov, has_pg, has_disabled, has_name;
    double min_cu, max_cu;
    int64_t suspend_timeout_s;
    const char *provisioner, *name;
    json_t *pg; /* borrowed */
    int disabled;
} emu_ep_settings;
int emu_ep_settings_parse(emu_ctx *c, json_t *eo, const char *where, emu_ep_settings *out);
/* Applies parsed settings; -1 when min > max results (400 set, nothing changed). */
int emu_ep_settings_apply(emu_ctx *c, emu_endpoint *e, const emu_ep_settings *st);
/* Branch create's parent_lsn / parent_timestamp / init_source: sets b's data
 * from parent's remembered history. 0, or -1 with 400 set. */
int emu_branch_init_point(emu_ctx *c, emu_branch *b, const emu_branch *parent, const char *lsn_s,
                          const char *ts_s, const char *init_source);
/* Finalize shared by restore and finalize_restore; ops appended to `ops`.
 * 0, or -1 with the error response set (nothing changed). */
int emu_do_finalize(emu_ctx *c, emu_branch *b, const char *old_name, json_t *ops);

/* ---- control.c ---- */
void emu_control(emu_ctx *c, const char *path);

/* ---- ratelimit.c ---- */
void emu_ratelimit_configure(emu_server *s, int32_t per_minute, int32_t per_second_route);
void emu_ratelimit_free(emu_server *s);
/* 0 = allowed, else the Retry-After in seconds. */
int emu_ratelimit_check(emu_server *s, int route);

/* ---- counters (ctx.c) ---- */
/* Counts one authenticated request; path NULL = no route matched. */
void emu_count_request(emu_server *s, const char *method, const char *path);
void emu_counters_free(emu_server *s);
json_t *emu_counters_json(emu_server *s);

/* ---- conns.c ---- */
emu_conns *emu_conns_start(int64_t timeout_ms); /* NULL on failure */
void emu_conns_stop(emu_conns *g);              /* after the daemon has stopped */
void emu_conn_opened(emu_conns *g, struct MHD_Connection *conn, void **socket_context);
void emu_conn_closed(emu_conns *g, void **socket_context);
void emu_conn_busy(emu_conns *g, struct MHD_Connection *conn); /* request complete: no deadline */
void emu_conn_idle(emu_conns *g, struct MHD_Connection *conn); /* response sent: next deadline */

/* ---- pgbackend.c (--postgres; each is a no-op when s->pg is NULL) ---- */
void emu_pgb_endpoint_init(emu_server *s, emu_endpoint *e);
int emu_pgb_branch_root(emu_server *s, emu_project *p, emu_branch *b);
/* c (NULL-safe) carries the point emu_pgb_check_point accepted. */
int emu_pgb_branch_child(emu_ctx *c, emu_server *s, emu_project *p, emu_branch *b, const emu_branch *parent);
int emu_pgb_branch_restore(emu_server *s, emu_project *p, emu_branch *b, const emu_snapshot *sn);
int emu_pgb_snapshot(emu_ctx *c, emu_server *s, emu_project *p, const emu_branch *b, emu_snapshot *sn);
int emu_pgb_branch_lsn(emu_server *s, emu_project *p, emu_branch *b);
void emu_pgb_endpoint_restart(emu_server *s, emu_endpoint *e);
int emu_pgb_branch_replace(emu_ctx *c, emu_server *s, emu_project *p, emu_branch *b, const emu_branch *src,
                           emu_branch *bk);
/* lsn/timestamp on b: 0 when usable (a past point is left in c->pg_lsn /
 * c->pg_ts for the copy), else -1 with 400 set (no history kept, ahead, ...). */
int emu_pgb_check_point(emu_ctx *c, emu_branch *b, const char *lsn_s, const char *ts_s);
/* Servers follow the endpoints; directories the state dropped are removed. */
void emu_pgb_reconcile(emu_server *s);
int emu_pgb_after_load(emu_server *s);

/* ---- fixture.c ---- */
json_t *emu_state_locked(emu_server *s);
int emu_load_fixture_locked(emu_server *s, json_t *root);

/* ---- api.c (lock held) ---- */
int emu_add_project_locked(emu_server *s, const char *project_id, const char *branch_name,
                           char *branch_id_out, char *endpoint_id_out);
int emu_add_branch_locked(emu_server *s, const char *project_id, const char *name,
                          const char *parent_id, int with_rw_endpoint, char *branch_id_out,
                          char *endpoint_id_out);
int emu_fault_add_locked(emu_server *s, const emu_fault *f);
void emu_faults_clear_locked(emu_server *s);
int emu_op_fault_add_locked(emu_server *s, const char *action, int kind, int count);
int64_t emu_requests_locked(emu_server *s, const char *method, const char *path);
void emu_counters_reset_locked(emu_server *s);

#endif
