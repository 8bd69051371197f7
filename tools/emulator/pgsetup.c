/* --postgres: opening the data root (template, cached between runs), the
 * reaper that cleans up after a killed emulator, and closing. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "pgproc_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
                pgp_msleep(10);
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
        pgp_run_as(pg, 0, argv, NULL);
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
    "synchronous_commit = on\n" /* an LSN read after a commit includes it */
    "wal_level = replica\n"
    "max_wal_senders = 8\n" /* base backups and read-only endpoints' standbys */
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
    pgp_fmt_bin(bin, sizeof(bin), "initdb");
    emu_pg_path(pg, "tmpl", d, sizeof(d));
    pgp_logpath(pg, "initdb", log, sizeof(log));
    char *argv[] = {bin, opt_d, d, opt_u, su, a, ns, ws, enc, loc, nsy, NULL};
    if (pgp_run(pg, argv, log) != 0) {
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
    if (pgp_run(pg, oargv, log) != 0 || chmod(key, 0600) != 0) {
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
    const char *parts[] = {pgp_bindir(), conf_extra, hba, "v1"};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        for (const unsigned char *q = (const unsigned char *)parts[i]; *q; q++)
            h = (h ^ *q) * 1099511628211ull;
    pgp_fmt_bin(bin, sizeof(bin), "postgres");
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
    return pgp_run(pg, argv, NULL);
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
    if (pgp_run(pg, argv, NULL) == 0 && rename(tmp, cache) == 0) /* atomic: readers see all or nothing */
        return;
    char rm[] = "/bin/rm", rf[] = "-rf";
    char *rargv[] = {rm, rf, tmp, NULL};
    pgp_run(pg, rargv, NULL);
}

int emu_pg_open(emu_pg **out, const char *data_dir, char *err, size_t errlen)
{
    *out = NULL;
    if (!emu_pg_available()) {
        snprintf(err, errlen, "PostgreSQL is not installed (%s/postgres; scripts/install-deps installs it)", pgp_bindir());
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
    if (pgp_run(pg, targv, NULL) != 0) {
        snprintf(err, errlen, "%s is not writable by the server user%s", pg->root,
                 pg->drop ? " (as root the servers run as `postgres`: every parent directory must be searchable by it)" : "");
        goto fail;
    }
    if (start_reaper(pg) != 0) {
        snprintf(err, errlen, "cannot start the reaper process");
        goto fail;
    }
    snprintf(p, sizeof(p), "%s/sock", pg->root);
    if (pgp_mkdir_owned(pg, p) != 0)
        goto fail_dir;
    snprintf(p, sizeof(p), "%s/log", pg->root);
    if (pgp_mkdir_owned(pg, p) != 0)
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
        pgp_run_as(pg, 0, argv, NULL);
    }
    if (pg->reaper_fd >= 0) {
        close(pg->reaper_fd);
        while (waitpid(pg->reaper_pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    free(pg);
}
