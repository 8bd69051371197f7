/*
 * neonflow emulator — a local, in-memory Neon management API (v2) for tests,
 * demos and users' own control-plane tests. Internal static library: the
 * shipped libneonflow never links it. Thread-safe: every function may be
 * called from any thread while the server runs.
 *
 * Paths, statuses and JSON shapes follow ../shared/docs/neon-api.md and the
 * OpenAPI spec. Extra control routes live under /__emulator/ (Neon never uses
 * that prefix) so non-C tests and the demo can drive the same features.
 */
#ifndef NEONFLOW_EMULATOR_H
#define NEONFLOW_EMULATOR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct emu_server emu_server;

typedef struct emu_config {
    const char *host;        /* must be a loopback address; default "127.0.0.1" */
    uint16_t port;           /* 0 = ephemeral */
    const char *api_key;     /* Bearer token accepted; default "emulator-key" */
    uint64_t seed;           /* seeds IDs and probabilistic faults; default 1 */
    int64_t op_duration_ms;  /* each operation: scheduling -> running -> finished
                                over this many ms; 0 = instant (default 0) */
    int32_t rate_per_minute; /* Neon's limits answered with 429 + Retry-After;  */
    int32_t rate_per_second_route; /* 0 disables (defaults 700 and 40) */
    int32_t max_root_branches;     /* plan limit per project (default 25) */
    int32_t max_snapshots;         /* manual snapshot limit per project (default 100) */
    const char *fixture_path;      /* optional JSON state to load at start */
    /* Optional HTTPS: PEM certificate and key (in memory). Both set: the server
     * speaks TLS and emu_base_url() starts with https://. */
    const char *tls_cert_pem, *tls_key_pem;
    /* The one file POST /__emulator/save writes (copied at start). NULL: that
     * route answers 409. Clients can never name another path. */
    const char *save_path;
    /* Connections served at once; more are closed as soon as they are
     * accepted. Each costs a thread and a descriptor, so RLIMIT_NOFILE must
     * allow it (the program raises its soft limit; a test process should
     * too). <= 0 = default 4096. */
    int32_t max_connections;
    /* Seconds a connection has to deliver a complete request (head and body),
     * from connecting or from the end of its previous response; then it is
     * closed. Cuts clients that trickle bytes and idle keep-alive connections.
     * Handling and sending a response (delay faults included) is not bounded
     * by it. <= 0 = default 10. */
    int32_t connection_timeout_s;
    /* With HTTPS: a GnuTLS priority string limiting what the server speaks,
     * e.g. "NORMAL:-VERS-TLS1.3" for TLS 1.2 only. NULL = GnuTLS's default. */
    const char *tls_priorities;
    /* --postgres mode: each branch is a PostgreSQL data directory and each
     * read_write endpoint a real `postgres` on 127.0.0.1:<port fixed at its
     * creation> (tools/emulator/README.md, "PostgreSQL mode"). */
    int postgres;
    /* With postgres: where the data directories live (kept on exit). NULL: a
     * temporary directory removed on exit, even when the process is killed. */
    const char *pg_data_dir;
    /* With postgres: keep each branch's history (its first state and its
     * archived WAL), so lsn/timestamp points are honoured by WAL replay rather
     * than refused. Costs a second copy per branch. */
    int pg_history;
} emu_config;

#define EMU_DEFAULT_MAX_CONNECTIONS 4096
#define EMU_DEFAULT_CONNECTION_TIMEOUT_S 10

/* 1 when this build of libmicrohttpd can serve HTTPS. */
int emu_tls_supported(void);

/* 1 when PostgreSQL's binaries are installed, so emu_config.postgres can work. */
int emu_postgres_available(void);
/* The data root of a --postgres emulator (NULL otherwise). */
const char *emu_pg_data_root(const emu_server *s);

/* Fills cfg with the defaults above (fields added later stay zero = default,
 * so a config built without this call keeps working). */
void emu_config_init(emu_config *cfg);

/* Starts the server on its own threads. Returns 0, or -1 (bad config, port
 * in use, fixture unreadable). */
int emu_start(emu_server **out, const emu_config *cfg);
/* "http://127.0.0.1:PORT/api/v2" — borrowed until emu_stop. */
const char *emu_base_url(const emu_server *s);
uint16_t emu_port(const emu_server *s);
/* Stops the server, frees everything. NULL is accepted. */
void emu_stop(emu_server *s);

/* ---- seeding ------------------------------------------------------------ */
/* A project with one default root branch (with a read_write endpoint).
 * IDs are written to the out buffers (each at least 64 bytes), which may be NULL. */
int emu_add_project(emu_server *s, const char *project_id, const char *default_branch_name,
                    char *branch_id_out, char *endpoint_id_out);
/* A branch: parent_id NULL makes a new root (as only a restore can in Neon).
 * with_rw_endpoint adds a read_write endpoint (endpoint_id_out may be NULL). */
int emu_add_branch(emu_server *s, const char *project_id, const char *name, const char *parent_id,
                   int with_rw_endpoint, char *branch_id_out, char *endpoint_id_out);
/* Plan limits of one project (values <= 0 leave a limit unchanged). */
int emu_set_limits(emu_server *s, const char *project_id, int32_t max_root_branches,
                   int32_t max_snapshots);

/* Adds a restricted action (e.g. "restore", "delete-rw-endpoint") with a
 * reason to a branch, as Neon reports in `restricted_actions`; a restricted
 * "restore" makes restores onto the branch fail with 400. action NULL clears
 * every restriction. At most two restrictions per branch. */
int emu_set_restricted(emu_server *s, const char *project_id, const char *branch_id, const char *action,
                       const char *reason);

/* ---- data ------------------------------------------------------------------
 * Every branch holds a content token and an LSN ("0/XXXXXXXX") that advances
 * on each write. Snapshots capture both; restores carry them. */
int emu_write(emu_server *s, const char *project_id, const char *branch_id, const char *content,
              char *lsn_out /* >= 32 bytes or NULL */);
/* Copies the branch's content token and LSN (either buffer may be NULL). */
int emu_read(emu_server *s, const char *project_id, const char *branch_id, char *content_out,
             size_t content_len, char *lsn_out /* >= 32 bytes */);

/* ---- time and operations ---------------------------------------------- */
void emu_set_op_duration_ms(emu_server *s, int64_t ms);
/* Branches whose expires_at passed disappear at the next branch request (as
 * Neon's background job removes them, only later). enabled 0 keeps them
 * listed, as Neon does until that job runs. -1 when the project is unknown. */
int emu_set_branch_expiry(emu_server *s, const char *project_id, int enabled);

#define EMU_OPFAULT_FAIL_THEN_RECOVER 1 /* status goes `failed` (failures_count++, retry_at) then finishes */
#define EMU_OPFAULT_ERROR 2             /* ends `error` with an error message */
#define EMU_OPFAULT_CANCELLED 3         /* ends `cancelled` */
/* The next `count` operations whose action matches (NULL = any) get `kind`. */
int emu_op_fault_add(emu_server *s, const char *action, int kind, int count);

/* ---- HTTP faults ---------------------------------------------------------- */
#define EMU_FAULT_STATUS 1      /* answer `status` with a Neon error body (+ Retry-After if >= 0) */
#define EMU_FAULT_DROP_BEFORE 2 /* close the connection without applying the request */
#define EMU_FAULT_DROP_AFTER 3  /* apply the request, then close without answering (lost response) */
#define EMU_FAULT_DELAY 4       /* wait delay_ms, then serve normally */
#define EMU_FAULT_TRUNCATE 5    /* apply, then send half of the body (Content-Length of the whole) */
#define EMU_FAULT_MALFORMED 6   /* apply, then send a body that is not JSON, with 200 */
#define EMU_FAULT_DROP_QUERY 7  /* serve the request as if it had no query string (a client lost it) */
#define EMU_FAULT_DROP_BODY 8   /* serve the request as if it had no body (a client lost it) */

typedef struct emu_fault {
    const char *method;  /* "GET", "POST", ...; NULL = any */
    /* Path below /api/v2; a '*' segment matches one segment and a trailing
     * '**' segment matches any rest, e.g. "/projects/" "*" "/branches/" "*"
     * "/snapshot" (split here only to keep this comment valid C).
     * NULL = any path. Query ignored. */
    const char *path;
    int kind;            /* EMU_FAULT_* */
    int status;          /* for EMU_FAULT_STATUS */
    int retry_after_s;   /* seconds for Retry-After; -1 = no header */
    int64_t delay_ms;    /* for EMU_FAULT_DELAY */
    int skip;            /* let this many matching requests through first */
    int count;           /* then fault this many (ignored when probability > 0) */
    double probability;  /* > 0: fault each matching request with this seeded probability */
} emu_fault;

/* Zeroes f and sets retry_after_s = -1, count = 1. */
void emu_fault_init(emu_fault *f);
int emu_fault_add(emu_server *s, const emu_fault *f);
void emu_faults_clear(emu_server *s);

/* ---- counters ----------------------------------------------------------- */
/* Authenticated requests matching method (NULL any) and path pattern (as in
 * faults; NULL any). Requests that matched no route (404 unknown path, 405)
 * are kept under the path "(unmatched)", one key per method; after 4096
 * distinct keys, new paths count under "(overflow)". Control routes and
 * unauthenticated requests are not counted. */
int64_t emu_requests(emu_server *s, const char *method, const char *path);
/* Responses sent with this HTTP status (e.g. 429), 401s included. */
int64_t emu_responses_with_status(emu_server *s, int status);
/* TCP connections accepted since start (or the last reset). */
int64_t emu_connections(emu_server *s);
void emu_counters_reset(emu_server *s);

/* ---- rate limit ------------------------------------------------------------ */
void emu_set_rate_limit(emu_server *s, int32_t per_minute, int32_t per_second_route);

/* ---- state -------------------------------------------------------------- */
/* A deep copy of the whole state (projects, branches with content/lsn,
 * endpoints, snapshots, operations) as JSON; caller json_decref()s it. */
json_t *emu_state(emu_server *s);
/* Counts of one project's live (not deleted) objects. */
int emu_count_branches(emu_server *s, const char *project_id);
int emu_count_snapshots(emu_server *s, const char *project_id);
/* Saves / loads the state as a JSON fixture. 0 or -1. */
int emu_save(emu_server *s, const char *path);

#endif
