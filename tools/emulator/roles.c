/* Roles and databases of a branch: the state the connection-URI routes read.
 * Passwords are synthetic here ("npg_" + 12 characters, Neon's form); the
 * --postgres mode makes them real by reading b->roles. */
#include "emu_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

emu_role *emu_role_find(const emu_branch *b, const char *name)
{
    for (size_t i = 0; b && name && i < b->roles.n; i++) {
        emu_role *r = b->roles.v[i];
        if (strcmp(r->name, name) == 0)
            return r;
    }
    return NULL;
}

static void gen_password(emu_server *s, char *out, size_t len)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char tail[13];
    for (size_t i = 0; i < 12; i++)
        tail[i] = alnum[emu_rand(s) % (sizeof(alnum) - 1)];
    tail[12] = '\0';
    snprintf(out, len, "npg_%s", tail);
}

emu_role *emu_role_add(emu_server *s, emu_branch *b, const char *name, const char *password)
{
    if (!name || !*name || strlen(name) >= EMU_PG_NAME || emu_role_find(b, name))
        return NULL;
    if (password && strlen(password) >= sizeof(((emu_role *)0)->password))
        return NULL;
    emu_role *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    snprintf(r->name, sizeof(r->name), "%s", name);
    if (password)
        snprintf(r->password, sizeof(r->password), "%s", password);
    else
        gen_password(s, r->password, sizeof(r->password));
    r->created_ms = r->updated_ms = emu_now_ms();
    if (emu_vec_push(&b->roles, r) != 0) {
        free(r);
        return NULL;
    }
    return r;
}

void emu_role_remove(emu_branch *b, emu_role *r)
{
    for (size_t i = 0; i < b->roles.n; i++)
        if (b->roles.v[i] == r) {
            emu_vec_remove(&b->roles, i);
            free(r);
            return;
        }
}

emu_db *emu_db_find(const emu_branch *b, const char *name)
{
    for (size_t i = 0; b && name && i < b->dbs.n; i++) {
        emu_db *d = b->dbs.v[i];
        if (strcmp(d->name, name) == 0)
            return d;
    }
    return NULL;
}

emu_db *emu_db_add(emu_server *s, emu_branch *b, const char *name, const char *owner)
{
    if (!name || !*name || strlen(name) >= EMU_PG_NAME || emu_db_find(b, name) || !emu_role_find(b, owner))
        return NULL;
    emu_db *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->id = 1000000 + (int64_t)(emu_rand(s) % 9000000); /* Neon's ids are int64 */
    snprintf(d->name, sizeof(d->name), "%s", name);
    snprintf(d->owner, sizeof(d->owner), "%s", owner);
    d->created_ms = d->updated_ms = emu_now_ms();
    if (emu_vec_push(&b->dbs, d) != 0) {
        free(d);
        return NULL;
    }
    return d;
}

void emu_db_remove(emu_branch *b, emu_db *d)
{
    for (size_t i = 0; i < b->dbs.n; i++)
        if (b->dbs.v[i] == d) {
            emu_vec_remove(&b->dbs, i);
            free(d);
            return;
        }
}

int emu_branch_seed_roles(emu_server *s, emu_branch *b)
{
    if (!emu_role_find(b, "neondb_owner") && !emu_role_add(s, b, "neondb_owner", NULL))
        return -1;
    if (!emu_db_find(b, "neondb") && !emu_db_add(s, b, "neondb", "neondb_owner"))
        return -1;
    return 0;
}

void emu_branch_free_roles(emu_branch *b)
{
    for (size_t i = 0; i < b->roles.n; i++)
        free(b->roles.v[i]);
    for (size_t i = 0; i < b->dbs.n; i++)
        free(b->dbs.v[i]);
    free(b->roles.v);
    free(b->dbs.v);
    memset(&b->roles, 0, sizeof(b->roles));
    memset(&b->dbs, 0, sizeof(b->dbs));
}

int emu_branch_copy_roles(emu_branch *dst, const emu_branch *src)
{
    emu_vec roles = {0}, dbs = {0};
    int ok = 1;
    for (size_t i = 0; ok && i < src->roles.n; i++) {
        emu_role *r = malloc(sizeof(*r));
        ok = r && emu_vec_push(&roles, r) == 0;
        if (ok)
            *r = *(emu_role *)src->roles.v[i];
        else
            free(r);
    }
    for (size_t i = 0; ok && i < src->dbs.n; i++) {
        emu_db *d = malloc(sizeof(*d));
        ok = d && emu_vec_push(&dbs, d) == 0;
        if (ok)
            *d = *(emu_db *)src->dbs.v[i];
        else
            free(d);
    }
    emu_branch tmp = {.roles = roles, .dbs = dbs};
    if (!ok) {
        emu_branch_free_roles(&tmp);
        return -1;
    }
    emu_branch_free_roles(dst);
    dst->roles = roles;
    dst->dbs = dbs;
    return 0;
}

static void set_time(json_t *o, const char *key, int64_t ms)
{
    char buf[40];
    emu_fmt_time(ms, buf, sizeof(buf));
    json_object_set_new(o, key, json_string(buf));
}

json_t *emu_json_role(const emu_role *r, const emu_branch *b, int with_password)
{
    json_t *o = json_object();
    json_object_set_new(o, "branch_id", json_string(b->id));
    json_object_set_new(o, "name", json_string(r->name));
    if (with_password)
        json_object_set_new(o, "password", json_string(r->password));
    json_object_set_new(o, "protected", json_boolean(r->is_protected));
    json_object_set_new(o, "authentication_method", json_string("password"));
    set_time(o, "created_at", r->created_ms);
    set_time(o, "updated_at", r->updated_ms);
    return o;
}

json_t *emu_json_db(const emu_db *d, const emu_branch *b)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(d->id));
    json_object_set_new(o, "branch_id", json_string(b->id));
    json_object_set_new(o, "name", json_string(d->name));
    json_object_set_new(o, "owner_name", json_string(d->owner));
    set_time(o, "created_at", d->created_ms);
    set_time(o, "updated_at", d->updated_ms);
    return o;
}

void emu_roles_dump(const emu_branch *b, json_t *bo)
{
    json_t *roles = json_array(), *dbs = json_array();
    for (size_t i = 0; i < b->roles.n; i++)
        json_array_append_new(roles, emu_json_role(b->roles.v[i], b, 1));
    for (size_t i = 0; i < b->dbs.n; i++)
        json_array_append_new(dbs, emu_json_db(b->dbs.v[i], b));
    json_object_set_new(bo, "roles", roles);
    json_object_set_new(bo, "databases", dbs);
}

int emu_roles_load(emu_branch *b, json_t *bo)
{
    json_t *roles = json_object_get(bo, "roles"), *dbs = json_object_get(bo, "databases"), *v;
    size_t i;
    if (!roles && !dbs)
        return 1;
    if ((roles && !json_is_array(roles)) || (dbs && !json_is_array(dbs)))
        return -1;
    emu_branch_free_roles(b);
    json_array_foreach(roles, i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *pw = json_string_value(json_object_get(v, "password"));
        /* a hand-written fixture may leave the password out: a fixed one, so loads repeat */
        emu_role *r = emu_role_add(NULL, b, name, pw ? pw : "npg_fixture0000");
        if (!r)
            return -1;
        r->is_protected = json_is_true(json_object_get(v, "protected"));
        r->created_ms = emu_parse_time_ms(json_string_value(json_object_get(v, "created_at")));
        if (r->created_ms < 0)
            r->created_ms = emu_now_ms();
        r->updated_ms = r->created_ms;
    }
    json_array_foreach(dbs, i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *owner = json_string_value(json_object_get(v, "owner_name"));
        if (!name || !*name || strlen(name) >= EMU_PG_NAME || emu_db_find(b, name) || !emu_role_find(b, owner))
            return -1;
        emu_db *d = calloc(1, sizeof(*d));
        if (!d || emu_vec_push(&b->dbs, d) != 0) {
            free(d);
            return -1;
        }
        json_t *id = json_object_get(v, "id");
        d->id = json_is_integer(id) ? json_integer_value(id) : 1000000 + (int64_t)i;
        snprintf(d->name, sizeof(d->name), "%s", name);
        snprintf(d->owner, sizeof(d->owner), "%s", owner);
        d->created_ms = emu_parse_time_ms(json_string_value(json_object_get(v, "created_at")));
        if (d->created_ms < 0)
            d->created_ms = emu_now_ms();
        d->updated_ms = d->created_ms;
    }
    return 0;
}
