/* PostgreSQL data directories and server processes (see pgproc.h).
 * Helpers (initdb, cp, pg_basebackup, openssl) and servers are forked and
 * exec'd with a minimal environment; as root they run as an unprivileged
 * user because postgres refuses to run as root. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "pgproc.h"

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
};

static const char *bindir(void)
{
    const char *d = getenv("EMU_PG_BINDIR");
    return d && *d ? d : "/usr/lib/postgresql/15/bin";
}

int emu_pg_available(void)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/postgres", bindir());
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

static void msleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int64_t mono_ms(void)
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
static int run_as(const emu_pg *pg, int drop, char *const argv[], const char *out_path)
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

static int run(const emu_pg *pg, char *const argv[], const char *out_path)
{
    return run_as(pg, pg->drop, argv, out_path);
}

static int mkdir_owned(const emu_pg *pg, const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    if (pg->drop && chown(path, pg->uid, pg->gid) != 0)
        return -1;
    return 0;
}

/* mkdir -p of the parents of root/rel, owned by the server user. */
static int make_parents(const emu_pg *pg, const char *rel)
{
    char path[512];
    emu_pg_path(pg, rel, path, sizeof(path));
    for (char *q = path + strlen(pg->root) + 1; (q = strchr(q, '/')); q++) {
        *q = '\0';
        int rc = mkdir_owned(pg, path);
        *q = '/';
        if (rc != 0)
            return -1;
    }
    return 0;
}

static void fmt_bin(char *out, size_t len, const char *tool)
{
    snprintf(out, len, "%s/%s", bindir(), tool);
}

static void logpath(const emu_pg *pg, const char *what, char *out, size_t len)
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
    return run(pg, argv, NULL);
}

static int plain_copy(emu_pg *pg, const char *src, const char *dst)
{
    char s[512], d[512], cp[] = "/bin/cp", a[] = "-a";
    emu_pg_path(pg, src, s, sizeof(s));
    emu_pg_path(pg, dst, d, sizeof(d));
    if (make_parents(pg, dst) != 0)
        return -1;
    char *argv[] = {cp, a, s, d, NULL};
    if (run(pg, argv, NULL) != 0)
        return -1;
    char pid[560]; /* a copy of a crashed server's directory */
    snprintf(pid, sizeof(pid), "%s/postmaster.pid", d);
    unlink(pid);
    return 0;
}

int emu_pg_init_dir(emu_pg *pg, const char *dst)
{
    return plain_copy(pg, "tmpl", dst);
}

/* The End-LSN of the last WAL range in a base backup's manifest. */
static int manifest_lsn(const char *dir, uint64_t *lsn)
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

static void sockdir(const emu_pg *pg, char *out, size_t len)
{
    snprintf(out, len, "%s/sock", pg->root);
}

int emu_pg_copy_dir(emu_pg *pg, const char *src, const char *dst, uint64_t *lsn)
{
    uint16_t port = emu_pg_port_of(pg, src);
    if (!port) {
        if (plain_copy(pg, src, dst) != 0)
            return -1;
        return emu_pg_lsn(pg, dst, lsn);
    }
    char bin[512], d[512], sd[256], ps[8], log[512];
    char opt_d[] = "-D", opt_h[] = "-h", opt_p[] = "-p", opt_u[] = "-U", su[] = EMU_PG_SUPERUSER, x[] = "-Xstream",
         cf[] = "-cfast", ns[] = "--no-sync", w[] = "-w";
    fmt_bin(bin, sizeof(bin), "pg_basebackup");
    emu_pg_path(pg, dst, d, sizeof(d));
    sockdir(pg, sd, sizeof(sd));
    snprintf(ps, sizeof(ps), "%u", (unsigned)port);
    logpath(pg, "basebackup", log, sizeof(log));
    if (make_parents(pg, dst) != 0)
        return -1;
    char *argv[] = {bin, opt_d, d, opt_h, sd, opt_p, ps, opt_u, su, x, cf, ns, w, NULL};
    if (run(pg, argv, log) != 0)
        return -1;
    return manifest_lsn(d, lsn);
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

static pg_server *server_on(const emu_pg *pg, uint16_t port)
{
    for (size_t i = 0; i < pg->nservers; i++)
        if (pg->servers[i].port == port)
            return (pg_server *)&pg->servers[i];
    return NULL;
}

const char *emu_pg_serving(const emu_pg *pg, uint16_t port)
{
    const pg_server *sv = server_on(pg, port);
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
    const pg_server *sv = server_on(pg, port);
    return sv ? (long)sv->pid : 0;
}

static PGconn *connect_su(const emu_pg *pg, uint16_t port, const char *db)
{
    char sd[256], ps[8];
    sockdir(pg, sd, sizeof(sd));
    snprintf(ps, sizeof(ps), "%u", (unsigned)port);
    const char *keys[] = {"host", "port", "user", "dbname", "connect_timeout", NULL};
    const char *vals[] = {sd, ps, EMU_PG_SUPERUSER, db ? db : "postgres", "10", NULL};
    return PQconnectdbParams(keys, vals, 0);
}

PGconn *emu_pg_connect(emu_pg *pg, uint16_t port, const char *db)
{
    PGconn *c = connect_su(pg, port, db);
    if (PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

uint64_t emu_pg_tag(const emu_pg *pg, uint16_t port)
{
    const pg_server *sv = server_on(pg, port);
    return sv ? sv->tag : 0;
}

void emu_pg_set_tag(emu_pg *pg, uint16_t port, uint64_t tag)
{
    pg_server *sv = server_on(pg, port);
    if (sv)
        sv->tag = tag;
}

int emu_pg_exec(emu_pg *pg, uint16_t port, const char *db, const char *sql, char *err, size_t errlen)
{
    PGconn *c = connect_su(pg, port, db);
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

static int parse_lsn(const char *s, uint64_t *lsn)
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
    fmt_bin(bin, sizeof(bin), "pg_controldata");
    emu_pg_path(pg, rel, d, sizeof(d));
    snprintf(out, sizeof(out), "%s/log/controldata.out", pg->root);
    unlink(out);
    char *argv[] = {bin, d, NULL};
    if (run(pg, argv, out) != 0)
        return -1;
    FILE *f = fopen(out, "r");
    char line[256];
    int rc = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "Latest checkpoint location:", 27) == 0) {
            char *v = line + 27;
            while (*v == ' ')
                v++;
            rc = parse_lsn(v, lsn);
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
        if (access(label, F_OK) == 0 && manifest_lsn(d, lsn) == 0)
            return 0;
        return control_lsn(pg, rel, lsn);
    }
    PGconn *c = connect_su(pg, port, NULL);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, "SELECT pg_current_wal_lsn()") : NULL;
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? parse_lsn(PQgetvalue(r, 0, 0), lsn) : -1;
    PQclear(r);
    PQfinish(c);
    return rc;
}

/* Waits for pid to exit, up to ms; 0 when it has. */
static int wait_exit(pid_t pid, long ms)
{
    int64_t end = mono_ms() + ms;
    int st;
    do {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return 0;
        msleep(2);
    } while (mono_ms() < end);
    return -1;
}

int emu_pg_stop(emu_pg *pg, uint16_t port)
{
    pg_server *sv = server_on(pg, port);
    if (!sv)
        return 0;
    kill(sv->pid, SIGINT); /* fast shutdown: sessions are dropped, a checkpoint is written */
    if (wait_exit(sv->pid, 30000) != 0) {
        kill(sv->pid, SIGQUIT);
        if (wait_exit(sv->pid, 5000) != 0) {
            kill(sv->pid, SIGKILL);
            wait_exit(sv->pid, 5000);
        }
    }
    *sv = pg->servers[--pg->nservers];
    return 0;
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
    if (pg->nservers == MAX_SERVERS)
        return -1;
    char bin[512], d[512], sd[256], ps[8], log[512], name[16];
    char opt_d[] = "-D", opt_p[] = "-p", opt_k[] = "-k";
    fmt_bin(bin, sizeof(bin), "postgres");
    emu_pg_path(pg, rel, d, sizeof(d));
    sockdir(pg, sd, sizeof(sd));
    snprintf(ps, sizeof(ps), "%u", (unsigned)port);
    snprintf(name, sizeof(name), "pg-%u", (unsigned)port);
    logpath(pg, name, log, sizeof(log));
    char *argv[] = {bin, opt_d, d, opt_p, ps, opt_k, sd, NULL};
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
    int64_t end = mono_ms() + 60000;
    while (mono_ms() < end) {
        if (PQping(conn) == PQPING_OK)
            return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid) { /* it died: the log says why */
            *sv = pg->servers[--pg->nservers];
            return -1;
        }
        msleep(3);
    }
    emu_pg_stop(pg, port);
    return -1;
}

long emu_pg_rss_kb(const emu_pg *pg, uint16_t port)
{
    const pg_server *sv = server_on(pg, port);
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

/* ---- reaper -------------------------------------------------------------------------------
 * A child that blocks on a pipe whose write end only the emulator holds. EOF
 * means the emulator is gone, however it ended: stop every server whose
 * postmaster.pid lies under the root, then remove a temporary root. */
static void reap_dir(const char *dir, int depth)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/postmaster.pid", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        long pid = 0;
        if (fscanf(f, "%ld", &pid) == 1 && pid > 1) {
            kill((pid_t)pid, SIGQUIT); /* immediate shutdown: children exit too */
            for (int i = 0; i < 500 && kill((pid_t)pid, 0) == 0; i++)
                msleep(10);
            kill((pid_t)pid, SIGKILL);
        }
        fclose(f);
        return;
    }
    if (depth == 0)
        return;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.' && de->d_type == DT_DIR) {
            snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            reap_dir(path, depth - 1);
        }
    if (d)
        closedir(d);
}

static void reaper_main(const emu_pg *pg, int rfd)
{
    char buf[16];
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    for (;;) {
        ssize_t r = read(rfd, buf, sizeof(buf));
        if (r == 0 || (r < 0 && errno != EINTR))
            break;
    }
    reap_dir(pg->root, 4);
    if (pg->temp) {
        char rm[] = "/bin/rm", rf[] = "-rf", root[200];
        snprintf(root, sizeof(root), "%s", pg->root);
        char *argv[] = {rm, rf, root, NULL};
        run_as(pg, 0, argv, NULL);
    }
    _exit(0);
}

static int start_reaper(emu_pg *pg)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        /* hold nothing else open: another emulator's reaper pipe would keep
         * that reaper waiting, a listening socket would keep its port */
        if (fds[0] != 3 && dup2(fds[0], 3) < 0)
            _exit(1);
        close_range(4, ~0U, 0);
        int nul = open("/dev/null", O_RDWR); /* nor the emulator's stdout, which a caller may read to EOF */
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(nul, 1);
            dup2(nul, 2);
            if (nul > 3)
                close(nul);
        }
        setsid();
        reaper_main(pg, 3);
    }
    close(fds[0]);
    pg->reaper_fd = fds[1];
    pg->reaper_pid = pid;
    return 0;
}

/* ---- open / template ---------------------------------------------------------------------- */
static const char conf_extra[] =
    "\n# neonflow-emulator: small, fast, loopback only\n"
    "listen_addresses = '127.0.0.1'\n"
    "max_connections = 20\n"
    "shared_buffers = 2MB\n"
    "wal_buffers = 64kB\n"
    "fsync = off\n"
    "synchronous_commit = off\n"
    "wal_level = replica\n"
    "max_wal_senders = 4\n"
    "min_wal_size = 2MB\n"
    "max_wal_size = 64MB\n"
    "autovacuum_max_workers = 1\n"
    "max_worker_processes = 2\n"
    "max_parallel_workers = 0\n"
    "dynamic_shared_memory_type = posix\n"
    "huge_pages = off\n"
    "ssl = on\n"
    "ssl_cert_file = 'server.crt'\n"
    "ssl_key_file = 'server.key'\n"
    "password_encryption = 'scram-sha-256'\n"
    "logging_collector = off\n"
    "log_min_messages = warning\n";

/* The emulator's superuser only over the unix socket (a 0700 directory);
 * everyone else over loopback TCP with a password, TLS optional. */
static const char hba[] = "local all " EMU_PG_SUPERUSER " trust\n"
                          "local replication " EMU_PG_SUPERUSER " trust\n"
                          "host all " EMU_PG_SUPERUSER " 127.0.0.1/32 reject\n"
                          "host all all 127.0.0.1/32 scram-sha-256\n";

static int write_file(const emu_pg *pg, const char *path, const char *text, const char *mode)
{
    FILE *f = fopen(path, mode);
    if (!f)
        return -1;
    int rc = fputs(text, f) < 0 ? -1 : 0;
    if (fclose(f) != 0)
        rc = -1;
    if (pg->drop && chown(path, pg->uid, pg->gid) != 0)
        rc = -1;
    return rc;
}

static int make_template(emu_pg *pg, char *err, size_t errlen)
{
    char bin[512], d[512], log[512], p[600];
    char opt_d[] = "-D", opt_u[] = "-U", su[] = EMU_PG_SUPERUSER, a[] = "--auth=trust", ns[] = "--no-sync",
         ws[] = "--wal-segsize=1", enc[] = "--encoding=UTF8", loc[] = "--locale=C", nsy[] = "--no-instructions";
    fmt_bin(bin, sizeof(bin), "initdb");
    emu_pg_path(pg, "tmpl", d, sizeof(d));
    logpath(pg, "initdb", log, sizeof(log));
    char *argv[] = {bin, opt_d, d, opt_u, su, a, ns, ws, enc, loc, nsy, NULL};
    if (run(pg, argv, log) != 0) {
        snprintf(err, errlen, "initdb failed (see %s)", log);
        return -1;
    }
    snprintf(p, sizeof(p), "%s/postgresql.conf", d);
    if (write_file(pg, p, conf_extra, "a") != 0)
        goto fail;
    snprintf(p, sizeof(p), "%s/pg_hba.conf", d);
    if (write_file(pg, p, hba, "w") != 0)
        goto fail;
    /* A self-signed certificate, so the sslmode=require URIs Neon hands out work as they are. */
    char ossl[] = "/usr/bin/openssl", req[] = "req", nw[] = "-new", x509[] = "-x509", days[] = "-days",
         nd[] = "3650", nodes[] = "-nodes", nk[] = "-newkey", ec[] = "ec", po[] = "-pkeyopt",
         curve[] = "ec_paramgen_curve:prime256v1", subj[] = "-subj", cn[] = "/CN=127.0.0.1", ko[] = "-keyout",
         co[] = "-out", key[600], crt[600];
    snprintf(key, sizeof(key), "%s/server.key", d);
    snprintf(crt, sizeof(crt), "%s/server.crt", d);
    char *oargv[] = {ossl, req, nw, x509, days, nd, nodes, nk, ec, po, curve, subj, cn, ko, key, co, crt, NULL};
    if (run(pg, oargv, log) != 0 || chmod(key, 0600) != 0) {
        snprintf(err, errlen, "openssl could not make the servers' certificate (see %s)", log);
        return -1;
    }
    uint16_t port = emu_pg_free_port();
    if (!port || emu_pg_start(pg, "tmpl", port) != 0) {
        snprintf(err, errlen, "the template server did not start (see %s/log/)", pg->root);
        return -1;
    }
    /* Neon's seeding: an owner role and its database (the password is set per project). */
    int rc = emu_pg_exec(pg, port, NULL, "CREATE ROLE neondb_owner LOGIN CREATEDB CREATEROLE", err, errlen);
    if (rc == 0) /* alone: CREATE DATABASE refuses a multi-statement string */
        rc = emu_pg_exec(pg, port, NULL, "CREATE DATABASE neondb OWNER neondb_owner", err, errlen);
    if (rc == 0)
        rc = emu_pg_exec(pg, port, "neondb", "GRANT ALL ON SCHEMA public TO neondb_owner;", err, errlen);
    emu_pg_stop(pg, port);
    return rc;
fail:
    snprintf(err, errlen, "cannot write the template's configuration");
    return -1;
}

/* initdb takes a second or two: the template is kept between runs in
 * TMPDIR/nfemu-tmpl-<server uid>-<hash of the binaries and settings>, a
 * 0700 directory of the server user (anything else there is ignored). */
static void cache_path(const emu_pg *pg, char *out, size_t len)
{
    char bin[512];
    struct stat st;
    uint64_t h = 1469598103934665603ull;
    const char *parts[] = {bindir(), conf_extra, hba, "v1"};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        for (const unsigned char *q = (const unsigned char *)parts[i]; *q; q++)
            h = (h ^ *q) * 1099511628211ull;
    fmt_bin(bin, sizeof(bin), "postgres");
    if (stat(bin, &st) == 0)
        h = (h ^ (uint64_t)st.st_mtime) * 1099511628211ull;
    const char *t = getenv("TMPDIR");
    snprintf(out, len, "%s/nfemu-tmpl-%u-%016llx", t && *t && strlen(t) < 60 ? t : "/tmp",
             (unsigned)(pg->drop ? pg->uid : geteuid()), (unsigned long long)h);
}

static int cache_usable(const emu_pg *pg, const char *dir)
{
    struct stat st;
    char pv[600];
    snprintf(pv, sizeof(pv), "%s/PG_VERSION", dir);
    return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 077) == 0 &&
           st.st_uid == (pg->drop ? pg->uid : geteuid()) && access(pv, F_OK) == 0;
}

static int template_from_cache(emu_pg *pg)
{
    char cache[300], d[512], cp[] = "/bin/cp", a[] = "-a";
    cache_path(pg, cache, sizeof(cache));
    if (getenv("EMU_PG_NO_TEMPLATE_CACHE") || !cache_usable(pg, cache))
        return -1;
    emu_pg_path(pg, "tmpl", d, sizeof(d));
    char *argv[] = {cp, a, cache, d, NULL};
    return run(pg, argv, NULL);
}

static void template_to_cache(emu_pg *pg)
{
    char cache[300], tmp[340], d[512], cp[] = "/bin/cp", a[] = "-a";
    cache_path(pg, cache, sizeof(cache));
    if (getenv("EMU_PG_NO_TEMPLATE_CACHE"))
        return;
    snprintf(tmp, sizeof(tmp), "%s.%ld", cache, (long)getpid());
    emu_pg_path(pg, "tmpl", d, sizeof(d));
    char *argv[] = {cp, a, d, tmp, NULL};
    if (run(pg, argv, NULL) == 0 && rename(tmp, cache) == 0) /* atomic: readers see all or nothing */
        return;
    char rm[] = "/bin/rm", rf[] = "-rf";
    char *rargv[] = {rm, rf, tmp, NULL};
    run(pg, rargv, NULL);
}

int emu_pg_open(emu_pg **out, const char *data_dir, char *err, size_t errlen)
{
    *out = NULL;
    if (!emu_pg_available()) {
        snprintf(err, errlen, "PostgreSQL is not installed (%s/postgres; scripts/install-deps installs it)", bindir());
        return -1;
    }
    emu_pg *pg = calloc(1, sizeof(*pg));
    if (!pg)
        return -1;
    pg->reaper_fd = -1;
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("postgres");
        if (!pw)
            pw = getpwnam("nobody");
        if (!pw) {
            snprintf(err, errlen, "running as root needs a `postgres` or `nobody` user to run the servers");
            free(pg);
            return -1;
        }
        pg->drop = 1;
        pg->uid = pw->pw_uid;
        pg->gid = pw->pw_gid;
    }
    if (data_dir) {
        if (strlen(data_dir) > 80 || data_dir[0] != '/') {
            snprintf(err, errlen, "--data-dir must be an absolute path of at most 80 bytes (unix socket paths are short)");
            free(pg);
            return -1;
        }
        snprintf(pg->root, sizeof(pg->root), "%s", data_dir);
        if (mkdir(pg->root, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", pg->root, strerror(errno));
            free(pg);
            return -1;
        }
    } else {
        const char *t = getenv("TMPDIR");
        snprintf(pg->root, sizeof(pg->root), "%s/nfemu-XXXXXX", t && *t && strlen(t) < 60 ? t : "/tmp");
        if (!mkdtemp(pg->root)) {
            snprintf(err, errlen, "cannot create a temporary directory: %s", strerror(errno));
            free(pg);
            return -1;
        }
        pg->temp = 1;
    }
    char p[300];
    if (pg->drop && chown(pg->root, pg->uid, pg->gid) != 0) {
        snprintf(err, errlen, "cannot give %s to the server user: %s", pg->root, strerror(errno));
        goto fail;
    }
    char test[] = "/usr/bin/test", w[] = "-w";
    char *targv[] = {test, w, pg->root, NULL};
    if (run(pg, targv, NULL) != 0) {
        snprintf(err, errlen, "%s is not writable by the server user%s", pg->root,
                 pg->drop ? " (as root the servers run as `postgres`: every parent directory must be searchable by it)" : "");
        goto fail;
    }
    if (start_reaper(pg) != 0) {
        snprintf(err, errlen, "cannot start the reaper process");
        goto fail;
    }
    snprintf(p, sizeof(p), "%s/sock", pg->root);
    if (mkdir_owned(pg, p) != 0)
        goto fail_dir;
    snprintf(p, sizeof(p), "%s/log", pg->root);
    if (mkdir_owned(pg, p) != 0)
        goto fail_dir;
    if (!emu_pg_dir_exists(pg, "tmpl")) {
        emu_pg_remove_dir(pg, "tmpl"); /* a half-made one */
        if (template_from_cache(pg) != 0) {
            emu_pg_remove_dir(pg, "tmpl");
            if (make_template(pg, err, errlen) != 0)
                goto fail;
            template_to_cache(pg);
        }
    }
    *out = pg;
    return 0;
fail_dir:
    snprintf(err, errlen, "cannot create %s: %s", p, strerror(errno));
fail:
    emu_pg_close(pg);
    return -1;
}

void emu_pg_close(emu_pg *pg)
{
    if (!pg)
        return;
    while (pg->nservers)
        emu_pg_stop(pg, pg->servers[0].port);
    if (pg->temp) {
        char rm[] = "/bin/rm", rf[] = "-rf";
        char *argv[] = {rm, rf, pg->root, NULL};
        run_as(pg, 0, argv, NULL);
    }
    if (pg->reaper_fd >= 0) {
        close(pg->reaper_fd);
        while (waitpid(pg->reaper_pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    free(pg);
}
