/* PostgreSQL data directories and server processes for `--postgres` mode.
 * Knows nothing of the emulator's model: paths, ports and processes only.
 * Not thread-safe: the emulator calls it under its state mutex. */
#ifndef NEONFLOW_EMU_PGPROC_H
#define NEONFLOW_EMU_PGPROC_H

#include <stddef.h>
#include <stdint.h>

typedef struct emu_pg emu_pg;

/* The cluster's superuser, reachable only over the unix socket (trust). */
#define EMU_PG_SUPERUSER "cloud_admin"

/* 1 when the PostgreSQL binaries are installed (EMU_PG_BINDIR or Debian's
 * /usr/lib/postgresql/15/bin). */
int emu_pg_available(void);

/* Opens the data root: `data_dir` (created if missing, kept on close) or a
 * temporary directory removed on close and by the reaper when this process
 * dies. Runs initdb once into a template. Starts the reaper process, which
 * stops every server under the root (and removes a temporary root) when this
 * process exits or is killed. When euid is 0, servers and helpers run as the
 * `postgres` user (else `nobody`). Writes a reason to err on failure. */
int emu_pg_open(emu_pg **out, const char *data_dir, char *err, size_t errlen);
/* Stops every server, removes a temporary root, ends the reaper. NULL-safe. */
void emu_pg_close(emu_pg *pg);
const char *emu_pg_root(const emu_pg *pg);

/* A loopback port that was free a moment ago (0 on failure). */
uint16_t emu_pg_free_port(void);

/* dir relative to the root, e.g. "p/proj/b/br-x": the absolute path. */
void emu_pg_path(const emu_pg *pg, const char *rel, char *out, size_t len);

/* New data directory `dst` (relative) copied from the template. */
int emu_pg_init_dir(emu_pg *pg, const char *dst);
/* Copy of `src` into `dst` (both relative): online with pg_basebackup when a
 * server runs on src, a plain copy otherwise. *lsn = the copy's LSN. */
int emu_pg_copy_dir(emu_pg *pg, const char *src, const char *dst, uint64_t *lsn);
int emu_pg_remove_dir(emu_pg *pg, const char *rel);
int emu_pg_dir_exists(const emu_pg *pg, const char *rel);

/* Starts a server for `rel` on 127.0.0.1:port and waits until it accepts
 * connections. A server already running there on another directory is
 * stopped first (fast shutdown). */
int emu_pg_start(emu_pg *pg, const char *rel, uint16_t port);
/* Read-only endpoints: dst becomes a hot standby of the server running on
 * src (pg_basebackup -R), or a plain copy when none runs. */
int emu_pg_standby_dir(emu_pg *pg, const char *src, const char *dst);
/* Starts a server on rel:port with default_transaction_read_only (a standby
 * is read-only anyway), stopping whatever ran there. */
int emu_pg_start_ro(emu_pg *pg, const char *rel, uint16_t port);
/* Fast shutdown of the server on port, waiting for it to exit (0 if none). */
int emu_pg_stop(emu_pg *pg, uint16_t port);
/* The relative dir served on port, or NULL. */
const char *emu_pg_serving(const emu_pg *pg, uint16_t port);
/* The port serving rel, or 0. */
uint16_t emu_pg_port_of(const emu_pg *pg, const char *rel);
/* Ports with a server, for reconciliation: fills up to max, returns the count. */
size_t emu_pg_ports(const emu_pg *pg, uint16_t *ports, size_t max);

/* ---- history (pghistory.c) ----
 * With history kept, every branch directory `rel` gets `rel.base` (its first
 * state) and `rel.wal` (its servers' archived WAL), so copies at a past LSN or
 * time work by WAL replay. -1 when the root's path holds characters that
 * cannot go into archive_command (only [A-Za-z0-9/._-] can). */
int emu_pg_set_history(emu_pg *pg, int on);
int emu_pg_history(const emu_pg *pg);
/* Records rel's present as its base and starts an empty archive. */
int emu_pg_history_start(emu_pg *pg, const char *rel);
/* Moves rel's base and archive to those of `to` (a backup taking rel's data). */
int emu_pg_history_move(emu_pg *pg, const char *rel, const char *to);
/* dst = src as of lsn_s or ts_s (one of them). 0 done; 1 the point is
 * outside src's history (why in err); -1 another failure. */
int emu_pg_copy_at(emu_pg *pg, const char *src, const char *dst, const char *lsn_s, const char *ts_s, uint64_t *lsn,
                   char *err, size_t errlen);

/* Current LSN: pg_current_wal_lsn() of a running server, else the control
 * file's latest checkpoint. */
int emu_pg_lsn(emu_pg *pg, const char *rel, uint64_t *lsn);
/* Runs SQL as the superuser on the server on port (database `db`). */
int emu_pg_exec(emu_pg *pg, uint16_t port, const char *db, const char *sql, char *err, size_t errlen);
/* Sum of the resident set (kB) of the server on port and its children. */
long emu_pg_rss_kb(const emu_pg *pg, uint16_t port);
/* A value the caller keeps with the running server (0 after each start):
 * pgbackend.c stores the signature of the roles it last synced there. */
uint64_t emu_pg_tag(const emu_pg *pg, uint16_t port);
void emu_pg_set_tag(emu_pg *pg, uint16_t port, uint64_t tag);
/* A superuser connection to the server on port (NULL when it fails). */
struct pg_conn;
struct pg_conn *emu_pg_connect(emu_pg *pg, uint16_t port, const char *db);
/* The postmaster's pid on port, or 0. */
long emu_pg_pid(const emu_pg *pg, uint16_t port);

#endif
