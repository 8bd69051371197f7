/* Roles, databases, reveal_password and connection_uri of a branch (what
 * Neon's CLI `connection-string` reads), plus GET /projects/shared. */
#include "emu_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* seg: projects/P/branches/B/roles|databases/NAME/... */
static emu_branch *branch_or_404(emu_ctx *c)
{
    emu_purge_expired_branches(c->proj);
    emu_branch *b = emu_branch_find(c->proj, c->seg[3]);
    if (!b)
        emu_err(c, 404, "", "branch not found");
    return b;
}

static int check_pg_name(emu_ctx *c, const char *what, const char *name)
{
    if (!name || !*name || strlen(name) >= EMU_PG_NAME) {
        emu_err(c, 400, "", "%s must be 1 to %d characters", what, EMU_PG_NAME - 1);
        return -1;
    }
    return 0;
}

void emu_roles_list(emu_ctx *c)
{
    emu_branch *b = branch_or_404(c);
    if (!b)
        return;
    json_t *arr = json_array();
    for (size_t i = 0; i < b->roles.n; i++)
        json_array_append_new(arr, emu_json_role(b->roles.v[i], b, 0));
    emu_ok(c, 200, json_pack("{s:o}", "roles", arr));
}

static emu_role *role_or_404(emu_ctx *c, emu_branch **bp)
{
    emu_branch *b = branch_or_404(c);
    if (!b)
        return NULL;
    emu_role *r = emu_role_find(b, c->seg[5]);
    if (!r)
        emu_err(c, 404, "", "role \"%s\" not found on branch %s", c->seg[5], b->id);
    *bp = b;
    return r;
}

void emu_role_get(emu_ctx *c)
{
    emu_branch *b;
    emu_role *r = role_or_404(c, &b);
    if (r)
        emu_ok(c, 200, json_pack("{s:o}", "role", emu_json_role(r, b, 0)));
}

void emu_role_reveal_password(emu_ctx *c)
{
    emu_branch *b;
    emu_role *r = role_or_404(c, &b);
    if (r)
        emu_ok(c, 200, json_pack("{s:s}", "password", r->password));
}

void emu_role_create(emu_ctx *c)
{
    int bad, no_login = 0;
    const char *name = NULL;
    emu_branch *b = branch_or_404(c);
    if (!b)
        return;
    json_t *ro = emu_get_obj(c, c->body, "role", &bad);
    if (bad)
        return;
    if (!ro)
        EMU_FAIL(c, 400, "", "request body must contain a role object");
    if (emu_get_str(c, ro, "name", &name) < 0 || emu_get_bool(c, ro, "no_login", &no_login) < 0)
        return;
    if (check_pg_name(c, "role.name", name) != 0)
        return;
    if (emu_role_find(b, name))
        EMU_FAIL(c, 409, "", "role \"%s\" already exists", name);
    emu_role *r = emu_role_add(c->s, b, name, NULL);
    if (!r)
        EMU_FAIL(c, 500, "", "out of memory");
    json_t *ops = json_array();
    emu_endpoint *e = emu_endpoint_rw_of(c->proj, b->id);
    emu_emit(c, ops, "apply_config", b->id, e ? e->id : NULL);
    /* Neon returns the new password once, in the create response */
    emu_ok(c, 201, json_pack("{s:o, s:o}", "role", emu_json_role(r, b, 1), "operations", ops));
}

void emu_role_delete(emu_ctx *c)
{
    emu_branch *b;
    emu_role *r = role_or_404(c, &b);
    if (!r)
        return;
    if (r->is_protected)
        EMU_FAIL(c, 400, "", "role \"%s\" is protected", r->name);
    for (size_t i = 0; i < b->dbs.n; i++) {
        emu_db *d = b->dbs.v[i];
        if (strcmp(d->owner, r->name) == 0)
            EMU_FAIL(c, 409, "", "role \"%s\" cannot be deleted: it owns database \"%s\"", r->name, d->name);
    }
    json_t *rj = emu_json_role(r, b, 0), *ops = json_array();
    emu_endpoint *e = emu_endpoint_rw_of(c->proj, b->id);
    emu_emit(c, ops, "apply_config", b->id, e ? e->id : NULL);
    emu_role_remove(b, r);
    emu_ok(c, 200, json_pack("{s:o, s:o}", "role", rj, "operations", ops));
}

void emu_databases_list(emu_ctx *c)
{
    emu_branch *b = branch_or_404(c);
    if (!b)
        return;
    json_t *arr = json_array();
    for (size_t i = 0; i < b->dbs.n; i++)
        json_array_append_new(arr, emu_json_db(b->dbs.v[i], b));
    emu_ok(c, 200, json_pack("{s:o}", "databases", arr));
}

static emu_db *db_or_404(emu_ctx *c, emu_branch **bp)
{
    emu_branch *b = branch_or_404(c);
    if (!b)
        return NULL;
    emu_db *d = emu_db_find(b, c->seg[5]);
    if (!d)
        emu_err(c, 404, "", "database \"%s\" not found on branch %s", c->seg[5], b->id);
    *bp = b;
    return d;
}

void emu_database_get(emu_ctx *c)
{
    emu_branch *b;
    emu_db *d = db_or_404(c, &b);
    if (d)
        emu_ok(c, 200, json_pack("{s:o}", "database", emu_json_db(d, b)));
}

void emu_database_create(emu_ctx *c)
{
    int bad;
    const char *name = NULL, *owner = NULL;
    emu_branch *b = branch_or_404(c);
    if (!b)
        return;
    json_t *dobj = emu_get_obj(c, c->body, "database", &bad);
    if (bad)
        return;
    if (!dobj)
        EMU_FAIL(c, 400, "", "request body must contain a database object");
    if (emu_get_str(c, dobj, "name", &name) < 0 || emu_get_str(c, dobj, "owner_name", &owner) < 0)
        return;
    if (check_pg_name(c, "database.name", name) != 0 || check_pg_name(c, "database.owner_name", owner) != 0)
        return;
    if (emu_db_find(b, name))
        EMU_FAIL(c, 409, "", "database \"%s\" already exists", name);
    if (!emu_role_find(b, owner))
        EMU_FAIL(c, 404, "", "role \"%s\" not found on branch %s", owner, b->id);
    emu_db *d = emu_db_add(c->s, b, name, owner);
    if (!d)
        EMU_FAIL(c, 500, "", "out of memory");
    json_t *ops = json_array();
    emu_endpoint *e = emu_endpoint_rw_of(c->proj, b->id);
    emu_emit(c, ops, "apply_config", b->id, e ? e->id : NULL);
    emu_ok(c, 201, json_pack("{s:o, s:o}", "database", emu_json_db(d, b), "operations", ops));
}

void emu_database_delete(emu_ctx *c)
{
    emu_branch *b;
    emu_db *d = db_or_404(c, &b);
    if (!d)
        return;
    json_t *dj = emu_json_db(d, b), *ops = json_array();
    emu_endpoint *e = emu_endpoint_rw_of(c->proj, b->id);
    emu_emit(c, ops, "apply_config", b->id, e ? e->id : NULL);
    emu_db_remove(b, d);
    emu_ok(c, 200, json_pack("{s:o, s:o}", "database", dj, "operations", ops));
}

/* RFC 3986 userinfo / path segment: unreserved characters stay, the rest is %XX. */
static void pct(char *out, size_t size, const char *in)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && n + 4 < size; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '.' || *p == '_' || *p == '~')
            out[n++] = (char)*p;
        else
            n += (size_t)snprintf(out + n, size - n, "%%%02X", *p);
    }
    out[n] = '\0';
}

void emu_connection_uri(emu_ctx *c)
{
    emu_project *p = c->proj;
    const char *bid = emu_query(c, "branch_id"), *eid = emu_query(c, "endpoint_id");
    const char *db_name = emu_query(c, "database_name"), *role_name = emu_query(c, "role_name");
    const char *pooled = emu_query(c, "pooled");
    if (!db_name || !*db_name)
        EMU_FAIL(c, 400, "", "database_name is required");
    if (!role_name || !*role_name)
        EMU_FAIL(c, 400, "", "role_name is required");
    if (pooled && strcmp(pooled, "true") != 0 && strcmp(pooled, "false") != 0)
        EMU_FAIL(c, 400, "", "pooled must be true or false");
    if ((bid && !emu_valid_id(bid)) || (eid && !emu_valid_id(eid)))
        EMU_FAIL(c, 400, "", "branch_id and endpoint_id must match ^[a-z0-9-]{1,60}$");
    emu_purge_expired_branches(p);
    emu_branch *b = bid ? emu_branch_find(p, bid) : emu_branch_default(p);
    if (!b)
        EMU_FAIL(c, 404, "", "branch not found");
    emu_endpoint *e = eid ? emu_endpoint_find(p, eid) : emu_endpoint_rw_of(p, b->id);
    if (eid && !e)
        EMU_FAIL(c, 404, "", "endpoint not found");
    if (!e)
        EMU_FAIL(c, 400, "", "branch %s has no read-write endpoint; pass endpoint_id", b->id);
    if (strcmp(e->branch_id, b->id) != 0)
        EMU_FAIL(c, 400, "", "endpoint %s does not belong to branch %s", e->id, b->id);
    emu_role *r = emu_role_find(b, role_name);
    if (!r)
        EMU_FAIL(c, 404, "", "role \"%s\" not found on branch %s", role_name, b->id);
    if (!emu_db_find(b, db_name))
        EMU_FAIL(c, 404, "", "database \"%s\" not found on branch %s", db_name, b->id);
    /* pooled: Neon's "-pooler" host form, the endpoint id followed by -pooler */
    char host[200], user[3 * EMU_PG_NAME + 1], pw[3 * 48 + 1], db[3 * EMU_PG_NAME + 1], uri[1024];
    const char *rest = strncmp(e->host, e->id, strlen(e->id)) == 0 ? e->host + strlen(e->id) : NULL;
    if (pooled && strcmp(pooled, "true") == 0 && rest)
        snprintf(host, sizeof(host), "%s-pooler%s", e->id, rest);
    else
        snprintf(host, sizeof(host), "%s", e->host);
    pct(user, sizeof(user), r->name);
    pct(pw, sizeof(pw), r->password);
    pct(db, sizeof(db), db_name);
    snprintf(uri, sizeof(uri), "postgresql://%s:%s@%s/%s?sslmode=require", user, pw, host, db);
    emu_ok(c, 200, json_pack("{s:s}", "uri", uri));
}

void emu_projects_shared(emu_ctx *c)
{
    const char *lim = emu_query(c, "limit");
    if (lim) {
        char *end;
        long v = strtol(lim, &end, 10);
        if (end == lim || *end || v < 1 || v > 400)
            EMU_FAIL(c, 400, "", "limit must be an integer between 1 and 400");
    }
    /* nobody shares projects with the emulator's single account */
    emu_ok(c, 200, json_pack("{s:[]}", "projects"));
}
