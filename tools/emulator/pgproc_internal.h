/* Internals shared by pgproc.c (processes, copies, SQL), pgsetup.c (open,
 * template, reaper) and pghistory.c (point-in-time copies). Not installed. */
#ifndef NEONFLOW_EMU_PGPROC_INTERNAL_H
#define NEONFLOW_EMU_PGPROC_INTERNAL_H

#include "pgproc.h"

#include <libpq-fe.h>
#include <sys/types.h>

#define MAX_SERVERS 256

typedef struct pg_server {
    uint16_t port;
    pid_t pid;
    uint64_t tag;
    char rel[256];
} pg_server;

struct emu_pg {
    char root[200];
    int temp;
    int drop; /* run children as uid/gid */
    uid_t uid;
    gid_t gid;
    int reaper_fd;
    pid_t reaper_pid;
    pg_server servers[MAX_SERVERS];
    size_t nservers;
    int history; /* keep a base and the archived WAL of every branch (pghistory.c) */
};

const char *pgp_bindir(void);
void pgp_msleep(long ms);
int64_t pgp_mono_ms(void);
/* Runs argv to completion (as the server user when drop); 0 when it exits 0. */
int pgp_run_as(const emu_pg *pg, int drop, char *const argv[], const char *out_path);
int pgp_run(const emu_pg *pg, char *const argv[], const char *out_path);
int pgp_mkdir_owned(const emu_pg *pg, const char *path);
int pgp_make_parents(const emu_pg *pg, const char *rel);
void pgp_fmt_bin(char *out, size_t len, const char *tool);
void pgp_logpath(const emu_pg *pg, const char *what, char *out, size_t len);
void pgp_sockdir(const emu_pg *pg, char *out, size_t len);
int pgp_manifest_lsn(const char *dir, uint64_t *lsn);
int pgp_parse_lsn(const char *s, uint64_t *lsn);
pg_server *pgp_server_on(const emu_pg *pg, uint16_t port);
int pgp_wait_exit(pid_t pid, long ms);
PGconn *pgp_connect_su(const emu_pg *pg, uint16_t port, const char *db);
int pgp_plain_copy(emu_pg *pg, const char *src, const char *dst);
/* Forks a server on rel:port with extra "-c" settings (NULL-terminated, may
 * be NULL); archive: with history kept, archive its WAL. Waits until it
 * accepts connections; -1 if it exited first (its log says why). */
int pgp_spawn(emu_pg *pg, const char *rel, uint16_t port, char *const extra[], int archive);

#endif
