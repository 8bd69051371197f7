/* PostgreSQL data directories and server processes (see pgproc.h).
 * Helpers (initdb, cp, pg_basebackup, openssl) and servers are forked and
 * exec'd with a minimal environment; as root they run as an unprivileged
 * user because postgres refuses to run as root. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "pgproc_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

const char *pgp_bindir(void)
{
    const char *d = getenv("EMU_PG_BINDIR");
    return d && *d ? d : "/usr/lib/postgresql/15/bin";
}

int emu_pg_available(void)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/postgres", pgp_bindir());
    return access(p, X_OK) == 0;
}

const char *emu_pg_root(const emu_pg *pg)
{
    return pg ? pg->root : NULL;
}

void emu_pg_path(const emu_pg *pg, const char *rel, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", pg->root, rel);
}

void pgp_msleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int64_t pgp_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In a forked child: lose root, then exec. Never returns. */
static void child_exec(const emu_pg *pg, int drop, char *const argv[], const char *out_path, const char *cwd)
{
    static char *const env[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC", NULL};
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL); /* the emulator blocks SIGINT/SIGTERM */
    signal(SIGPIPE, SIG_DFL);
    if (drop && (setgroups(0, NULL) != 0 || setgid(pg->gid) != 0 || setuid(pg->uid) != 0))
        _exit(126);
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0)
        dup2(in, 0);
    int out = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (out < 0)
        out = open("/dev/null", O_WRONLY); /* never the emulator's stdout */
    if (out >= 0) {
        dup2(out, 1);
        dup2(out, 2);
    }
    if (cwd && chdir(cwd) != 0)
        _exit(126);
    execve(argv[0], argv, env);
    _exit(127);
}

/* Runs argv to completion (as the server user when drop); 0 when it exits 0. */
int pgp_run_as(const emu_pg *pg, int drop, char *const argv[], const char *out_path)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        child_exec(pg, drop, argv, out_path, "/");
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int pgp_run(const emu_pg *pg, char *const argv[], const char *out_path)
{
    return pgp_run_as(pg, pg->drop, argv, out_path);
}

int pgp_mkdir_owned(const emu_pg *pg, const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    if (pg->drop && chown(path, pg->uid, pg->gid) != 0)
        return -1;
    return 0;
}

/* mkdir -p of the parents of root/rel, owned by the server user. */
int pgp_make_parents(const emu_pg *pg, const char *rel)
{
    char path[512];
    emu_pg_path(pg, rel, path, sizeof(path));
    for (char *q = path + strlen(pg->root) + 1; (q = strchr(q, '/')); q++) {
        *q = '\0';
        int rc = pgp_mkdir_owned(pg, path);
        *q = '/';
        if (rc != 0)
            return -1;
    }
    return 0;
}

void pgp_fmt_bin(char *out, size_t len, const char *tool)
{
    snprintf(out, len, "%s/%s", pgp_bindir(), tool);
}

void pgp_logpath(const emu_pg *pg, const char *what, char *out, size_t len)
{
    snprintf(out, len, "%s/log/%s.log", pg->root, what);
}

int emu_pg_dir_exists(const emu_pg *pg, const char *rel)
{
    char path[512], pv[560];
    emu_pg_path(pg, rel, path, sizeof(path));
    snprintf(pv, sizeof(pv), "%s/PG_VERSION", path);
    return access(pv, F_OK) == 0;
}

int emu_pg_remove_dir(emu_pg *pg, const char *rel)
{
    char path[512], rm[] = "/bin/rm", rf[] = "-rf";
    if (!rel || !*rel || strstr(rel, ".."))
        return -1;
    if (emu_pg_port_of(pg, rel))
        emu_pg_stop(pg, emu_pg_port_of(pg, rel));
    emu_pg_path(pg, rel, path, sizeof(path));
    char *argv[] = {rm, rf, path, NULL};
    return pgp_run(pg, argv, NULL);
}

int pgp_plain_copy(emu_pg *pg, const char *src, const char *dst)
{
    char s[512], d[512], cp[] = "/bin/cp", a[] = "-a";
    emu_pg_path(pg, src, s, sizeof(s));
    emu_pg_path(pg, dst, d, sizeof(d));
    if (pgp_make_parents(pg, dst) != 0)
        return -1;
    char *argv[] = {cp, a, s, d, NULL};
    if (pgp_run(pg, argv, NULL) != 0)
        return -1;
    char pid[560]; /* a copy of a crashed server's directory */
    snprintf(pid, sizeof(pid), "%s/postmaster.pid", d);
    unlink(pid);
    return 0;
}

int emu_pg_init_dir(emu_pg *pg, const char *dst)
{
    return pgp_plain_copy(pg, "tmpl", dst);
}

/* The End-LSN of the last WAL range in a base backup's manifest. */
int pgp_manifest_lsn(const char *dir, uint64_t *lsn)
{
    char path[560];
    snprintf(path, sizeof(path), "%s/backup_manifest", dir);
    json_t *m = json_load_file(path, 0, NULL);
    json_t *ranges = json_object_get(m, "WAL-Ranges");
    size_t n = json_array_size(ranges);
    const char *end = n ? json_string_value(json_object_get(json_array_get(ranges, n - 1), "End-LSN")) : NULL;
    unsigned hi, lo;
    int rc = end && sscanf(end, "%X/%X", &hi, &lo) == 2 ? 0 : -1;
    if (rc == 0)
        *lsn = ((uint64_t)hi << 32) | lo;
    json_decref(m);
    return rc;
}

void pgp_sockdir(const emu_pg *pg, char *out, size_t len)
{
    snprintf(out, len, "%s/sock", pg->root);
}

static int basebackup(emu_pg *pg, uint16_t port, const char *dst, int standby, uint64_t *lsn);

int emu_pg_copy_dir(emu_pg *pg, const char *src, const char *dst, uint64_t *lsn)
{
    uint16_t port = emu_pg_port_of(pg, src);
    if (!port) {
        if (pgp_plain_copy(pg, src, dst) != 0)
            return -1;
        return emu_pg_lsn(pg, dst, lsn);
    }
    return basebackup(pg, port, dst, 0, lsn);
}

int emu_pg_standby_dir(emu_pg *pg, const char *src, const char *dst)
{
    uint64_t lsn;
    uint16_t port = emu_pg_port_of(pg, src);
    emu_pg_remove_dir(pg, dst);
    if (!port) /* nothing to follow: a copy, served read-only */
        return pgp_plain_copy(pg, src, dst);
    return basebackup(pg, port, dst, 1, &lsn);
}

int emu_pg_start_ro(emu_pg *pg, const char *rel, uint16_t port)
{
    char ro[] = "default_transaction_read_only=on";
    char *extra[] = {ro, NULL};
    if (emu_pg_serving(pg, port))
        emu_pg_stop(pg, port);
    return pgp_spawn(pg, rel, port, extra, 0);
}

/* pg_basebackup from the server on port; standby: with -R (standby.signal and
 * primary_conninfo over the unix socket), so the copy follows it. */
static int basebackup(emu_pg *pg, uint16_t port, const char *dst, int standby, uint64_t *lsn)
{
    char bin[512], d[512], sd[256], ps[8], log[512];
    char opt_d[] = "-D", opt_h[] = "-h", opt_p[] = "-p", opt_u[] = "-U", su[] = EMU_PG_SUPERUSER, x[] = "-Xstream",
         cf[] = "-cfast", ns[] = "--no-sync", w[] = "-w";
    pgp_fmt_bin(bin, sizeof(bin), "pg_basebackup");
    emu_pg_path(pg, dst, d, sizeof(d));
    pgp_sockdir(pg, sd, sizeof(sd));
    snprintf(ps, sizeof(ps), "%u", (unsigned)port);
    pgp_logpath(pg, "basebackup", log, sizeof(log));
    if (pgp_make_parents(pg, dst) != 0)
        return -1;
    char r[] = "-R";
    char *argv[] = {bin, opt_d, d, opt_h, sd, opt_p, ps, opt_u, su, x, cf, ns, w, standby ? r : NULL, NULL};
    if (pgp_run(pg, argv, log) != 0)
        return -1;
    return pgp_manifest_lsn(d, lsn);
}

uint16_t emu_pg_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    uint16_t port = 0;
    if (fd < 0)
        return 0;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

pg_server *pgp_server_on(const emu_pg *pg, uint16_t port)
{
    for (size_t i = 0; i < pg->nservers; i++)
        if (pg->servers[i].port == port)
            return (pg_server *)&pg->servers[i];
    return NULL;
}

const char *emu_pg_serving(const emu_pg *pg, uint16_t port)
{
    const pg_server *sv = pgp_server_on(pg, port);
    return sv ? sv->rel : NULL;
}

uint16_t emu_pg_port_of(const emu_pg *pg, const char *rel)
{
    for (size_t i = 0; i < pg->nservers; i++)
        if (strcmp(pg->servers[i].rel, rel) == 0)
            return pg->servers[i].port;
    return 0;
}

size_t emu_pg_ports(const emu_pg *pg, uint16_t *ports, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < pg->nservers && n < max; i++)
        ports[n++] = pg->servers[i].port;
    return n;
}

long emu_pg_pid(const emu_pg *pg, uint16_t port)
{
    const pg_server *sv = pgp_server_on(pg, port);
    return sv ? (long)sv->pid : 0;
}

PGconn *pgp_connect_su(const emu_pg *pg, uint16_t port, const char *db)
{
    char sd[256], ps[8];
    pgp_sockdir(pg, sd, sizeof(sd));
    snprintf(ps, sizeof(ps), "%u", (unsigned)port);
    const char *keys[] = {"host", "port", "user", "dbname", "connect_timeout", NULL};
    const char *vals[] = {sd, ps, EMU_PG_SUPERUSER, db ? db : "postgres", "10", NULL};
    return PQconnectdbParams(keys, vals, 0);
}

PGconn *emu_pg_connect(emu_pg *pg, uint16_t port, const char *db)
{
    PGconn *c = pgp_connect_su(pg, port, db);
    if (PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

uint64_t emu_pg_tag(const emu_pg *pg, uint16_t port)
{
    const pg_server *sv = pgp_server_on(pg, port);
    return sv ? sv->tag : 0;
}

void emu_pg_set_tag(emu_pg *pg, uint16_t port, uint64_t tag)
{
    pg_server *sv = pgp_server_on(pg, port);
    if (sv)
        sv->tag = tag;
}

int emu_pg_exec(emu_pg *pg, uint16_t port, const char *db, const char *sql, char *err, size_t errlen)
{
    PGconn *c = pgp_connect_su(pg, port, db);
    int rc = -1;
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, sql);
        ExecStatusType st = PQresultStatus(r);
        rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
        PQclear(r);
    }
    if (rc != 0 && err)
        snprintf(err, errlen, "%s", PQerrorMessage(c));
    PQfinish(c);
    return rc;
}

int pgp_parse_lsn(const char *s, uint64_t *lsn)
{
    unsigned hi, lo;
    if (!s || sscanf(s, "%X/%X", &hi, &lo) != 2)
        return -1;
    *lsn = ((uint64_t)hi << 32) | lo;
    return 0;
}

/* "Latest checkpoint location:" from pg_controldata. */
static int control_lsn(emu_pg *pg, const char *rel, uint64_t *lsn)
{
    char bin[512], d[512], out[512];
    pgp_fmt_bin(bin, sizeof(bin), "pg_controldata");
    emu_pg_path(pg, rel, d, sizeof(d));
    snprintf(out, sizeof(out), "%s/log/controldata.out", pg->root);
    unlink(out);
    char *argv[] = {bin, d, NULL};
    if (pgp_run(pg, argv, out) != 0)
        return -1;
    FILE *f = fopen(out, "r");
    char line[256];
    int rc = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "Latest checkpoint location:", 27) == 0) {
            char *v = line + 27;
            while (*v == ' ')
                v++;
            rc = pgp_parse_lsn(v, lsn);
            break;
        }
    if (f)
        fclose(f);
    return rc;
}

int emu_pg_lsn(emu_pg *pg, const char *rel, uint64_t *lsn)
{
    uint16_t port = emu_pg_port_of(pg, rel);
    if (!port) {
        char d[512], label[560];
        emu_pg_path(pg, rel, d, sizeof(d));
        snprintf(label, sizeof(label), "%s/backup_label", d);
        /* a base backup never started yet: it ends where its WAL ends */
        if (access(label, F_OK) == 0 && pgp_manifest_lsn(d, lsn) == 0)
            return 0;
        return control_lsn(pg, rel, lsn);
    }
    PGconn *c = pgp_connect_su(pg, port, NULL);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, "SELECT pg_current_wal_lsn()") : NULL;
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? pgp_parse_lsn(PQgetvalue(r, 0, 0), lsn) : -1;
    PQclear(r);
    PQfinish(c);
    return rc;
}

/* Waits for pid to exit, up to ms; 0 when it has. */
int pgp_wait_exit(pid_t pid, long ms)
{
    int64_t end = pgp_mono_ms() + ms;
    int st;
    do {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return 0;
        pgp_msleep(2);
    } while (pgp_mono_ms() < end);
    return -1;
}

int emu_pg_stop(emu_pg *pg, uint16_t port)
{
    pg_server *sv = pgp_server_on(pg, port);
    if (!sv)
        return 0;
    kill(sv->pid, SIGINT); /* fast shutdown: sessions are dropped, a checkpoint is written */
    if (pgp_wait_exit(sv->pid, 30000) != 0) {
        kill(sv->pid, SIGQUIT);
        if (pgp_wait_exit(sv->pid, 5000) != 0) {
            kill(sv->pid, SIGKILL);
            pgp_wait_exit(sv->pid, 5000);
        }
    }
    *sv = pg->servers[--pg->nservers];
    return 0;
}

int pgp_spawn(emu_pg *pg, const char *rel, uint16_t port, char *const extra[], int archive)
{
    if (pg->nservers == MAX_SERVERS)
        return -1;
    char bin[512], d[512], sd[256], ps[8], log[512], name[16], arch[1400], wal[600];
    char opt_d[] = "-D", opt_p[] = "-p", opt_k[] = "-k", opt_c[] = "-c", am[] = "archive_mode=on";
    pgp_fmt_bin(bin, sizeof(bin), "postgres");
    emu_pg_path(pg, rel, d, sizeof(d));
    pgp_sockdir(pg, sd, sizeof(sd));
    snprintf(ps, sizeof(ps), "%u", (unsigned)port);
    snprintf(name, sizeof(name), "pg-%u", (unsigned)port);
    pgp_logpath(pg, name, log, sizeof(log));
    char *argv[24] = {bin, opt_d, d, opt_p, ps, opt_k, sd};
    int n = 7;
    if (archive && pg->history) {
        /* each branch archives into its own history (the root has no quotes: pgsetup.c) */
        snprintf(wal, sizeof(wal), "%s.wal", d);
        snprintf(arch, sizeof(arch), "archive_command=test ! -f '%s/%%f' && cp %%p '%s/%%f'", wal, wal);
        argv[n++] = opt_c, argv[n++] = am, argv[n++] = opt_c, argv[n++] = arch;
    }
    for (int i = 0; extra && extra[i] && n < 22; i++)
        argv[n++] = opt_c, argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setsid(); /* a Ctrl-C meant for the emulator does not reach the servers */
        child_exec(pg, pg->drop, argv, log, d);
    }
    pg_server *sv = &pg->servers[pg->nservers++];
    sv->port = port;
    sv->pid = pid;
    sv->tag = 0;
    snprintf(sv->rel, sizeof(sv->rel), "%s", rel);
    char conn[400];
    snprintf(conn, sizeof(conn), "host=%s port=%u user=" EMU_PG_SUPERUSER " dbname=postgres connect_timeout=5", sd,
             (unsigned)port);
    int64_t end = pgp_mono_ms() + 60000;
    while (pgp_mono_ms() < end) {
        if (PQping(conn) == PQPING_OK)
            return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid) { /* it died: the log says why */
            *sv = pg->servers[--pg->nservers];
            return -1;
        }
        pgp_msleep(3);
    }
    emu_pg_stop(pg, port);
    return -1;
}

int emu_pg_start(emu_pg *pg, const char *rel, uint16_t port)
{
    const char *cur = emu_pg_serving(pg, port);
    if (cur && strcmp(cur, rel) == 0)
        return 0;
    if (cur)
        emu_pg_stop(pg, port);
    if (emu_pg_port_of(pg, rel))
        emu_pg_stop(pg, emu_pg_port_of(pg, rel)); /* one server per directory */
    return pgp_spawn(pg, rel, port, NULL, 1);
}

long emu_pg_rss_kb(const emu_pg *pg, uint16_t port)
{
    const pg_server *sv = pgp_server_on(pg, port);
    if (!sv)
        return 0;
    long total = 0;
    DIR *d = opendir("/proc");
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char path[300], buf[512];
        long pid = atol(de->d_name);
        if (pid <= 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        long ppid = -1;
        if (fgets(buf, sizeof(buf), f)) {
            char *q = strrchr(buf, ')'); /* after "(comm)": state ppid */
            char state;
            if (!q || sscanf(q + 1, " %c %ld", &state, &ppid) != 2)
                ppid = -1;
        }
        fclose(f);
        if (pid != sv->pid && ppid != sv->pid)
            continue;
        snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", pid);
        f = fopen(path, "r");
        while (f && fgets(buf, sizeof(buf), f)) {
            long kb;
            if (sscanf(buf, "Pss: %ld kB", &kb) == 1) {
                total += kb;
                break;
            }
        }
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return total;
}
