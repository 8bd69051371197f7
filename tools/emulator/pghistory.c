/* Point-in-time copies (history kept: emu_pg_set_history). Each branch
 * directory `rel` has two siblings: `rel.base`, its first state (a copy made
 * before it ever ran), and `rel.wal`, the WAL its servers archived. A copy at
 * an LSN or a time replays that WAL over a copy of the base with PostgreSQL's
 * own recovery targets, then promotes; a target the history cannot reach is
 * reported, never replaced by the present. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "pgproc_internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int emu_pg_set_history(emu_pg *pg, int on)
{
    for (const char *q = emu_pg_root(pg); on && *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || strchr("/._-", *q)))
            return -1;
    pg->history = on;
    return 0;
}

int emu_pg_history(const emu_pg *pg)
{
    return pg && pg->history;
}

int emu_pg_history_start(emu_pg *pg, const char *rel)
{
    char base[300], wal[300], path[600];
    if (!pg->history)
        return 0;
    snprintf(base, sizeof(base), "%s.base", rel);
    snprintf(wal, sizeof(wal), "%s.wal", rel);
    emu_pg_remove_dir(pg, base);
    emu_pg_remove_dir(pg, wal); /* another timeline's segments would block archiving */
    if (pgp_plain_copy(pg, rel, base) != 0)
        return -1;
    emu_pg_path(pg, wal, path, sizeof(path));
    return pgp_mkdir_owned(pg, path);
}

int emu_pg_history_move(emu_pg *pg, const char *rel, const char *to)
{
    static const char *sfx[] = {".base", ".wal"};
    if (!pg->history)
        return 0;
    for (int i = 0; i < 2; i++) {
        char a[300], b[300], pa[600], pb[600];
        snprintf(a, sizeof(a), "%s%s", rel, sfx[i]);
        snprintf(b, sizeof(b), "%s%s", to, sfx[i]);
        emu_pg_path(pg, a, pa, sizeof(pa));
        emu_pg_path(pg, b, pb, sizeof(pb));
        if (rename(pa, pb) != 0)
            return -1;
    }
    return 0;
}

static int history_lsn(emu_pg *pg, const char *rel, uint64_t *lsn)
{
    char base[300];
    snprintf(base, sizeof(base), "%s.base", rel);
    return emu_pg_lsn(pg, base, lsn);
}

/* A running src archives the segment holding its present, so replay finds it. */
static int archive_present(emu_pg *pg, uint16_t port)
{
    PGconn *c = pgp_connect_su(pg, port, NULL);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, "SELECT pg_walfile_name(pg_switch_wal())") : NULL;
    char want[64] = "";
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        snprintf(want, sizeof(want), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    int rc = -1;
    for (int64_t end = pgp_mono_ms() + 20000; want[0] && pgp_mono_ms() < end; pgp_msleep(10)) {
        r = PQexec(c, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
        int done = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), want) >= 0;
        PQclear(r);
        if (done) {
            rc = 0;
            break;
        }
    }
    PQfinish(c);
    return rc;
}

/* 1 when the log, from offset on, holds `text`. */
static int log_says(const char *log, long offset, const char *text)
{
    FILE *f = fopen(log, "r");
    char line[1024];
    int found = 0;
    if (f && fseek(f, offset, SEEK_SET) == 0)
        while (!found && fgets(line, sizeof(line), f))
            found = strstr(line, text) != NULL;
    if (f)
        fclose(f);
    return found;
}

/* Replays into dst (a copy of src's base) up to target, then promotes. 0 done,
 * 1 the recovery ended before the target, 2 the target precedes
 * consistency, -1 another failure. */
static int replay(emu_pg *pg, const char *src, const char *dst, const char *target, uint64_t *lsn)
{
    char d[512], sig[560], s[512], restore[1400], log[512], name[16];
    char tl[] = "recovery_target_timeline=current", act[] = "recovery_target_action=promote",
         incl[] = "recovery_target_inclusive=on", am[] = "archive_mode=off";
    char tgt[128];
    emu_pg_path(pg, dst, d, sizeof(d));
    emu_pg_path(pg, src, s, sizeof(s));
    snprintf(sig, sizeof(sig), "%s/recovery.signal", d);
    FILE *f = fopen(sig, "w");
    if (!f)
        return -1;
    fclose(f);
    if (pg->drop && chown(sig, pg->uid, pg->gid) != 0)
        return -1;
    /* archived segments first, then what a stopped src never archived */
    snprintf(restore, sizeof(restore), "restore_command=cp '%s.wal/%%f' %%p 2>/dev/null || cp '%s/pg_wal/%%f' %%p", s,
             s);
    snprintf(tgt, sizeof(tgt), "%s", target);
    char *extra[] = {restore, tgt, tl, act, incl, am, NULL};
    uint16_t port = emu_pg_free_port();
    snprintf(name, sizeof(name), "pg-%u", (unsigned)port);
    pgp_logpath(pg, name, log, sizeof(log));
    struct stat st;
    long offset = stat(log, &st) == 0 ? (long)st.st_size : 0;
    int rc = -1;
    if (port && pgp_spawn(pg, dst, port, extra, 0) == 0) {
        PGconn *c = pgp_connect_su(pg, port, NULL);
        for (int64_t end = pgp_mono_ms() + 60000; pgp_mono_ms() < end; pgp_msleep(5)) {
            PGresult *r = PQexec(c, "SELECT pg_is_in_recovery(), pg_current_wal_insert_lsn()");
            int promoted = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "f") == 0;
            if (promoted && pgp_parse_lsn(PQgetvalue(r, 0, 1), lsn) == 0)
                rc = 0;
            PQclear(r);
            if (promoted || PQstatus(c) != CONNECTION_OK)
                break;
        }
        PQfinish(c);
        emu_pg_stop(pg, port);
    }
    if (rc == 0)
        return 0;
    pgp_msleep(50); /* the log's last lines */
    if (log_says(log, offset, "recovery ended before configured recovery target was reached"))
        return 1;
    if (log_says(log, offset, "before consistent recovery point"))
        return 2;
    return -1;
}

int emu_pg_copy_at(emu_pg *pg, const char *src, const char *dst, const char *lsn_s, const char *ts_s,
                   uint64_t *lsn, char *err, size_t errlen)
{
    char base[300], target[128];
    uint64_t want = 0, from;
    snprintf(base, sizeof(base), "%s.base", src);
    if (!pg->history || !emu_pg_dir_exists(pg, base)) {
        snprintf(err, errlen, "point-in-time history is not kept for this branch");
        return 1;
    }
    if (lsn_s && (pgp_parse_lsn(lsn_s, &want) != 0 || history_lsn(pg, src, &from) != 0)) {
        snprintf(err, errlen, "lsn must look like 0/1DE2850");
        return 1;
    }
    if (lsn_s && want < from) {
        snprintf(err, errlen, "lsn %s precedes the branch's history, which starts at %X/%X", lsn_s,
                 (unsigned)(from >> 32), (unsigned)from);
        return 1;
    }
    uint16_t port = emu_pg_port_of(pg, src);
    if (port && archive_present(pg, port) != 0) {
        snprintf(err, errlen, "the branch's WAL could not be archived");
        return -1;
    }
    if (lsn_s)
        snprintf(target, sizeof(target), "recovery_target_lsn=%s", lsn_s);
    else
        snprintf(target, sizeof(target), "recovery_target_time=%s", ts_s);
    if (pgp_plain_copy(pg, base, dst) != 0)
        return -1;
    int rc = replay(pg, src, dst, target, lsn);
    if (rc == 1 && ts_s) { /* no commit after that time: all of the WAL is the state then */
        emu_pg_remove_dir(pg, dst);
        if (pgp_plain_copy(pg, base, dst) != 0)
            return -1;
        snprintf(target, sizeof(target), "recovery_target_timeline=current");
        rc = replay(pg, src, dst, target, lsn);
    }
    if (rc == 0) {
        if (lsn_s)
            *lsn = want; /* the branch point asked for; the end-of-recovery record follows it */
        return 0;
    }
    emu_pg_remove_dir(pg, dst);
    if (rc == 1)
        snprintf(err, errlen, "lsn %s is beyond the branch's WAL", lsn_s);
    else if (rc == 2)
        snprintf(err, errlen, "%s %s precedes the branch's history", lsn_s ? "lsn" : "timestamp", lsn_s ? lsn_s : ts_s);
    else
        snprintf(err, errlen, "WAL replay failed (see %s/log/)", emu_pg_root(pg));
    return rc > 0 ? 1 : -1;
}
