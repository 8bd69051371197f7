/* --postgres mode: the emulator's branches, snapshots and endpoints backed by
 * PostgreSQL data directories and servers (pgproc.c).
 *   branch   = directory p/<project>/b/<branch id>
 *   snapshot = directory p/<project>/s/<snapshot id>
 *   endpoint = a server on 127.0.0.1:<port fixed at creation> for its branch
 * Copies happen at the instant of the transition (branch create, snapshot,
 * restore). Servers and leftover directories follow the state after every
 * mutation (emu_pgb_reconcile), so finalize, deletes and endpoint changes
 * need no code of their own. All calls hold the state mutex. */
#include "emu_internal.h"
#include "pgproc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <time.h>
#include <libpq-fe.h>

static void branch_rel(const emu_project *p, const char *branch_id, char *out, size_t len)
{
    snprintf(out, len, "p/%s/b/%s", p->id, branch_id);
}

static void snap_rel(const emu_project *p, const char *snap_id, char *out, size_t len)
{
    snprintf(out, len, "p/%s/s/%s", p->id, snap_id);
}

void emu_pgb_endpoint_init(emu_server *s, emu_endpoint *e)
{
    if (!s->pg)
        return;
    e->pg_port = emu_pg_free_port();
    snprintf(e->host, sizeof(e->host), "127.0.0.1:%u", (unsigned)e->pg_port);
}

/* A new branch directory: with history kept, its present is its base. */
static int created(emu_server *s, const char *rel)
{
    return emu_pg_history_start(s->pg, rel);
}

int emu_pgb_branch_root(emu_server *s, emu_project *p, emu_branch *b)
{
    char rel[200];
    if (!s->pg)
        return 0;
    branch_rel(p, b->id, rel, sizeof(rel));
    if (emu_pg_init_dir(s->pg, rel) != 0 || emu_pg_lsn(s->pg, rel, &b->lsn) != 0)
        return -1;
    return created(s, rel);
}

/* dst = src now, or at the point check_point left in c: 0, or -1 (400 set
 * when the point is outside the history). */
static int copy_branch(emu_ctx *c, emu_server *s, const char *src, const char *dst, uint64_t *lsn)
{
    if (!c || (!c->pg_lsn[0] && !c->pg_ts[0]))
        return emu_pg_copy_dir(s->pg, src, dst, lsn);
    char why[300];
    int rc = emu_pg_copy_at(s->pg, src, dst, c->pg_lsn[0] ? c->pg_lsn : NULL, c->pg_ts[0] ? c->pg_ts : NULL, lsn, why,
                            sizeof(why));
    if (rc > 0)
        emu_err(c, 400, "", "%s", why);
    return rc == 0 ? 0 : -1;
}

int emu_pgb_branch_child(emu_ctx *c, emu_server *s, emu_project *p, emu_branch *b, const emu_branch *parent)
{
    char src[200], dst[200];
    uint64_t lsn;
    if (!s->pg)
        return 0;
    branch_rel(p, parent->id, src, sizeof(src));
    branch_rel(p, b->id, dst, sizeof(dst));
    if (copy_branch(c, s, src, dst, &lsn) != 0)
        return -1;
    b->lsn = b->parent_lsn = lsn;
    if (c && c->pg_ts[0])
        b->parent_ts_ms = c->pg_ts_ms;
    return created(s, dst);
}

int emu_pgb_branch_restore(emu_server *s, emu_project *p, emu_branch *b, const emu_snapshot *sn)
{
    char src[200], dst[200];
    uint64_t lsn;
    if (!s->pg)
        return 0;
    snap_rel(p, sn->id, src, sizeof(src));
    branch_rel(p, b->id, dst, sizeof(dst));
    if (emu_pg_copy_dir(s->pg, src, dst, &lsn) != 0)
        return -1;
    return created(s, dst);
}

int emu_pgb_snapshot(emu_ctx *c, emu_server *s, emu_project *p, const emu_branch *b, emu_snapshot *sn)
{
    char src[200], dst[200];
    if (!s->pg)
        return 0;
    branch_rel(p, b->id, src, sizeof(src));
    snap_rel(p, sn->id, dst, sizeof(dst));
    if (copy_branch(c, s, src, dst, &sn->lsn) != 0)
        return -1;
    if (c && c->pg_ts[0])
        sn->ts_ms = c->pg_ts_ms;
    return 0;
}

int emu_pgb_branch_lsn(emu_server *s, emu_project *p, emu_branch *b)
{
    char rel[200];
    if (!s->pg)
        return 0;
    branch_rel(p, b->id, rel, sizeof(rel));
    return emu_pg_lsn(s->pg, rel, &b->lsn);
}

/* lsn/timestamp targets. Without history only the branch's present can be
 * given. With it, a past point is left in c for the copy that follows. */
int emu_pgb_check_point(emu_ctx *c, emu_branch *b, const char *lsn_s, const char *ts_s)
{
    char cur[40];
    uint64_t want = 0;
    c->pg_lsn[0] = c->pg_ts[0] = '\0';
    if (!c->s->pg || (!lsn_s && !ts_s))
        return 0;
    if (lsn_s && ts_s) {
        emu_err(c, 400, "", "lsn and timestamp are mutually exclusive");
        return -1;
    }
    if (emu_pgb_branch_lsn(c->s, c->proj, b) != 0) {
        emu_err(c, 500, "", "cannot read the LSN of branch %s", b->id);
        return -1;
    }
    emu_fmt_lsn(b->lsn, cur, sizeof(cur));
    if (lsn_s && emu_parse_lsn(lsn_s, &want) != 0) {
        emu_err(c, 400, "", "lsn must look like 0/1DE2850");
        return -1;
    }
    if (lsn_s && want == b->lsn)
        return 0; /* the present: a plain copy */
    if (!emu_pg_history(c->s->pg)) {
        emu_err(c, 400, "",
                "point-in-time history is not kept for branch %s in --postgres mode (start the emulator with "
                "--pg-history): only its current LSN %s can be used (%s %s given)",
                b->id, cur, lsn_s ? "lsn" : "timestamp", lsn_s ? lsn_s : ts_s);
        return -1;
    }
    if (lsn_s && want > b->lsn) {
        emu_err(c, 400, "", "lsn %s is ahead of branch %s (its current LSN is %s)", lsn_s, b->id, cur);
        return -1;
    }
    if (ts_s) {
        int64_t t = emu_parse_time_ms(ts_s);
        if (t < 0) {
            emu_err(c, 400, "", "timestamp must be an RFC 3339 timestamp");
            return -1;
        }
        if (t > emu_now_ms() + 1000) {
            emu_err(c, 400, "", "timestamp %s is in the future", ts_s);
            return -1;
        }
        if (t / 1000 < b->created_ms / 1000) {
            char t0[40];
            emu_fmt_time(b->created_ms, t0, sizeof(t0));
            emu_err(c, 400, "", "timestamp %s precedes the history kept for branch %s (it starts at %s)", ts_s, b->id,
                    t0);
            return -1;
        }
    }
    snprintf(c->pg_lsn, sizeof(c->pg_lsn), "%s", lsn_s ? lsn_s : "");
    if (ts_s) { /* recovery_target_time takes no RFC 3339 "T...Z" */
        time_t secs = (time_t)((c->pg_ts_ms = emu_parse_time_ms(ts_s)) / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        snprintf(c->pg_ts, sizeof(c->pg_ts), "%04d-%02d-%02d %02d:%02d:%02d.%03d+00", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(c->pg_ts_ms % 1000));
    }
    return 0;
}

/* FNV-1a over the branch's roles and databases: what the cluster must hold. */
static uint64_t roles_sig(const emu_branch *b)
{
    uint64_t h = 1469598103934665603ull;
    const char *parts[3];
    for (size_t i = 0; i < b->roles.n + b->dbs.n; i++) {
        if (i < b->roles.n) {
            const emu_role *r = b->roles.v[i];
            parts[0] = "r", parts[1] = r->name, parts[2] = r->password;
        } else {
            const emu_db *d = b->dbs.v[i - b->roles.n];
            parts[0] = "d", parts[1] = d->name, parts[2] = d->owner;
        }
        for (int k = 0; k < 3; k++)
            for (const unsigned char *q = (const unsigned char *)parts[k]; ; q++) {
                h = (h ^ *q) * 1099511628211ull;
                if (!*q)
                    break;
            }
    }
    return h ? h : 1;
}

static int exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "neonflow-emulator: --postgres: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : -1;
}

static int in_cluster(PGconn *c, const char *query, const char *name)
{
    const char *vals[1] = {name};
    PGresult *r = PQexecParams(c, query, 1, NULL, vals, NULL, NULL, 0);
    int n = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : 0;
    PQclear(r);
    return n > 0;
}

/* Makes the cluster's login roles and databases those of the state: created
 * or given the state's password; those the state dropped are dropped. */
static void sync_roles(emu_server *s, const emu_branch *b, uint16_t port)
{
    uint64_t sig = roles_sig(b);
    if (emu_pg_tag(s->pg, port) == sig)
        return;
    PGconn *c = emu_pg_connect(s->pg, port, NULL);
    if (!c)
        return;
    char sql[1024];
    exec_ok(c, "SET default_transaction_read_only = off"); /* a read-only endpoint's copy */
    for (size_t i = 0; i < b->roles.n; i++) {
        const emu_role *r = b->roles.v[i];
        char *id = PQescapeIdentifier(c, r->name, strlen(r->name)), *pw = PQescapeLiteral(c, r->password, strlen(r->password));
        if (id && pw) {
            int exists = in_cluster(c, "SELECT 1 FROM pg_roles WHERE rolname = $1", r->name);
            snprintf(sql, sizeof(sql), "%s ROLE %s WITH LOGIN PASSWORD %s%s", exists ? "ALTER" : "CREATE", id, pw,
                     exists ? "" : " CREATEDB CREATEROLE IN ROLE pg_read_all_data, pg_write_all_data");
            exec_ok(c, sql);
        }
        PQfreemem(id);
        PQfreemem(pw);
    }
    for (size_t i = 0; i < b->dbs.n; i++) {
        const emu_db *d = b->dbs.v[i];
        if (in_cluster(c, "SELECT 1 FROM pg_database WHERE datname = $1", d->name))
            continue;
        char *id = PQescapeIdentifier(c, d->name, strlen(d->name)), *own = PQescapeIdentifier(c, d->owner, strlen(d->owner));
        if (id && own) {
            snprintf(sql, sizeof(sql), "CREATE DATABASE %s OWNER %s", id, own);
            exec_ok(c, sql);
        }
        PQfreemem(id);
        PQfreemem(own);
    }
    /* what the state no longer has: databases first, they may be owned by a role */
    PGresult *r = PQexec(c, "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')");
    for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++) {
        const char *name = PQgetvalue(r, i, 0);
        if (emu_db_find(b, name))
            continue;
        char *id = PQescapeIdentifier(c, name, strlen(name));
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", id ? id : "\"\"");
        if (id)
            exec_ok(c, sql);
        PQfreemem(id);
    }
    PQclear(r);
    r = PQexec(c, "SELECT rolname FROM pg_roles WHERE rolcanlogin AND rolname <> '" EMU_PG_SUPERUSER "'");
    for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++) {
        const char *name = PQgetvalue(r, i, 0);
        if (emu_role_find(b, name))
            continue;
        char *id = PQescapeIdentifier(c, name, strlen(name));
        if (id) { /* its objects in the maintenance database go with it; elsewhere the drop may fail */
            snprintf(sql, sizeof(sql), "DROP OWNED BY %s", id);
            exec_ok(c, sql);
            snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", id);
            exec_ok(c, sql);
        }
        PQfreemem(id);
    }
    PQclear(r);
    PQfinish(c);
    emu_pg_set_tag(s->pg, port, sig);
}

/* PATCH and restart: the server stops here and the reconcile starts it again. */
void emu_pgb_endpoint_restart(emu_server *s, emu_endpoint *e)
{
    if (s->pg && e->pg_port)
        emu_pg_stop(s->pg, e->pg_port);
}

/* POST .../branches/{b}/restore: b's directory becomes a copy of src's (its
 * present); with a backup bk, bk takes b's old directory. Servers on b stop
 * first; the reconcile starts them on the new data. */
int emu_pgb_branch_replace(emu_ctx *c, emu_server *s, emu_project *p, emu_branch *b, const emu_branch *src,
                           emu_branch *bk)
{
    char rel[200], srel[200], krel[200], tmp[220], from[600], to[600];
    uint64_t lsn;
    if (!s->pg)
        return 0;
    branch_rel(p, b->id, rel, sizeof(rel));
    branch_rel(p, src->id, srel, sizeof(srel));
    snprintf(tmp, sizeof(tmp), "%s.new", rel);
    uint16_t port = emu_pg_port_of(s->pg, rel);
    if (port)
        emu_pg_stop(s->pg, port); /* the reconcile starts it again, on whichever data is there */
    /* the copy first: when it fails (a point outside the history), nothing changed */
    emu_pg_remove_dir(s->pg, tmp);
    if (copy_branch(c, s, srel, tmp, &lsn) != 0) {
        emu_pg_remove_dir(s->pg, tmp);
        return -1;
    }
    if (bk) {
        branch_rel(p, bk->id, krel, sizeof(krel));
        emu_pg_path(s->pg, rel, from, sizeof(from));
        emu_pg_path(s->pg, krel, to, sizeof(to));
        if (rename(from, to) != 0 || emu_pg_history_move(s->pg, rel, krel) != 0)
            return -1;
    } else if (emu_pg_remove_dir(s->pg, rel) != 0) {
        return -1;
    }
    emu_pg_path(s->pg, tmp, from, sizeof(from));
    emu_pg_path(s->pg, rel, to, sizeof(to));
    if (rename(from, to) != 0)
        return -1;
    b->lsn = b->parent_lsn = lsn;
    return created(s, rel);
}

static int wanted_port(emu_server *s, uint16_t port)
{
    for (size_t i = 0; i < s->projects.n; i++) {
        emu_project *p = s->projects.v[i];
        for (size_t k = 0; k < p->endpoints.n; k++) {
            emu_endpoint *e = p->endpoints.v[k];
            if (e->pg_port == port && !e->disabled && !e->suspended)
                return 1;
        }
    }
    return 0;
}

static int referenced(emu_project *p, const char *kind, const char *name)
{
    char id[EMU_ID_LEN];
    const char *dot = strchr(name, '.'); /* "<id>.base", "<id>.wal": a branch's history */
    snprintf(id, sizeof(id), "%.*s", dot ? (int)(dot - name) : (int)strlen(name), name);
    if (strcmp(kind, "b") == 0)
        return emu_branch_find(p, id) != NULL;
    if (strcmp(kind, "r") == 0)
        return emu_endpoint_find(p, id) != NULL;
    return emu_snapshot_find(p, id) != NULL;
}

/* Removes directories of branches and snapshots the state no longer has. */
static void sweep_dirs(emu_server *s)
{
    char path[700], rel[400];
    static const char *kinds[] = {"b", "s", "r"};
    snprintf(path, sizeof(path), "%s/p", emu_pg_root(s->pg));
    DIR *pd = opendir(path);
    struct dirent *pe;
    while (pd && (pe = readdir(pd))) {
        if (pe->d_name[0] == '.')
            continue;
        emu_project *p = emu_project_find(s, pe->d_name);
        if (!p) {
            snprintf(rel, sizeof(rel), "p/%s", pe->d_name);
            emu_pg_remove_dir(s->pg, rel);
            continue;
        }
        for (int k = 0; k < 3; k++) {
            snprintf(path, sizeof(path), "%s/p/%s/%s", emu_pg_root(s->pg), p->id, kinds[k]);
            DIR *d = opendir(path);
            struct dirent *de;
            while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.' || referenced(p, kinds[k], de->d_name))
                    continue;
                snprintf(rel, sizeof(rel), "p/%s/%s/%s", p->id, kinds[k], de->d_name);
                emu_pg_remove_dir(s->pg, rel);
            }
            if (d)
                closedir(d);
        }
    }
    if (pd)
        closedir(pd);
}

/* A read_only endpoint: a hot standby of its branch's running primary, or a
 * read-only copy when none runs; rebuilt whenever what it follows changes
 * (finalize moves it, the primary stops or starts). */
static void reconcile_ro(emu_server *s, emu_project *p, emu_endpoint *e, emu_branch *b)
{
    char rel[200], brel[200];
    snprintf(rel, sizeof(rel), "p/%s/r/%s", p->id, e->id);
    branch_rel(p, b->id, brel, sizeof(brel));
    uint16_t prim = emu_pg_port_of(s->pg, brel);
    const char *cur = emu_pg_serving(s->pg, e->pg_port);
    if (cur && strcmp(cur, rel) == 0 && strcmp(e->pg_follows, b->id) == 0 && e->pg_follows_port == prim)
        return;
    emu_pg_stop(s->pg, e->pg_port);
    if (emu_pg_standby_dir(s->pg, brel, rel) != 0 || emu_pg_start_ro(s->pg, rel, e->pg_port) != 0) {
        fprintf(stderr, "neonflow-emulator: read-only endpoint %s did not start (see %s/log/)\n", e->id,
                emu_pg_root(s->pg));
        return;
    }
    snprintf(e->pg_follows, sizeof(e->pg_follows), "%s", b->id);
    e->pg_follows_port = prim;
    if (!prim)
        sync_roles(s, b, e->pg_port); /* a copy: a standby gets its roles from the primary */
}

void emu_pgb_reconcile(emu_server *s)
{
    uint16_t ports[512];
    if (!s->pg)
        return;
    /* stop what no endpoint wants any more, first: frees directories and ports */
    size_t n = emu_pg_ports(s->pg, ports, sizeof(ports) / sizeof(ports[0]));
    for (size_t i = 0; i < n; i++)
        if (!wanted_port(s, ports[i]))
            emu_pg_stop(s->pg, ports[i]);
    for (size_t i = 0; i < s->projects.n; i++) {
        emu_project *p = s->projects.v[i];
        for (size_t k = 0; k < p->endpoints.n; k++) {
            emu_endpoint *e = p->endpoints.v[k];
            char rel[200];
            emu_branch *b = emu_branch_find(p, e->branch_id);
            if (!e->pg_port || e->disabled || e->suspended || !b)
                continue;
            if (!e->read_write) /* after the primaries: it may follow one */
                continue;
            branch_rel(p, e->branch_id, rel, sizeof(rel));
            const char *cur = emu_pg_serving(s->pg, e->pg_port);
            /* finalize lands here: same port, the restored branch's directory */
            if ((cur && strcmp(cur, rel) == 0) || emu_pg_start(s->pg, rel, e->pg_port) == 0)
                sync_roles(s, b, e->pg_port); /* at once after a start; else only when roles changed */
            else
                fprintf(stderr, "neonflow-emulator: endpoint %s: server for %s did not start (see %s/log/pg-%u.log)\n",
                        e->id, rel, emu_pg_root(s->pg), (unsigned)e->pg_port);
        }
    }
    for (size_t i = 0; i < s->projects.n; i++) {
        emu_project *p = s->projects.v[i];
        for (size_t k = 0; k < p->endpoints.n; k++) {
            emu_endpoint *e = p->endpoints.v[k];
            emu_branch *b = emu_branch_find(p, e->branch_id);
            if (e->pg_port && !e->read_write && !e->disabled && !e->suspended && b)
                reconcile_ro(s, p, e, b);
        }
    }
    sweep_dirs(s);
}

/* After a fixture load: directories that are missing start from the template,
 * endpoints keep the port of their saved host. */
int emu_pgb_after_load(emu_server *s)
{
    if (!s->pg)
        return 0;
    for (size_t i = 0; i < s->projects.n; i++) {
        emu_project *p = s->projects.v[i];
        for (size_t k = 0; k < p->branches.n; k++) {
            emu_branch *b = p->branches.v[k];
            char rel[200];
            branch_rel(p, b->id, rel, sizeof(rel));
            char base[220];
            snprintf(base, sizeof(base), "%s.base", rel);
            if (!emu_pg_dir_exists(s->pg, rel) && emu_pg_init_dir(s->pg, rel) != 0)
                return -1;
            if (emu_pg_history(s->pg) && !emu_pg_dir_exists(s->pg, base) && created(s, rel) != 0)
                return -1;
            emu_pgb_branch_lsn(s, p, b);
        }
        for (size_t k = 0; k < p->endpoints.n; k++) {
            emu_endpoint *e = p->endpoints.v[k];
            unsigned port = 0;
            if (sscanf(e->host, "127.0.0.1:%u", &port) == 1 && port > 0 && port < 65536) {
                e->pg_port = (uint16_t)port;
            } else {
                emu_pgb_endpoint_init(s, e);
            }
        }
    }
    emu_pgb_reconcile(s);
    return 0;
}
