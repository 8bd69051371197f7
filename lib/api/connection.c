/* Roles, databases and the connection URI (connection.h). */
#include <string.h>

#include "connection-private.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/scrub.h"

/* ---- options ------------------------------------------------------------------ */
int neonflow__pg_name_valid(const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

NEONFLOW_API int neonflow_connection_uri_options_new(neonflow_connection_uri_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    return *out ? NEONFLOW_OK : NEONFLOW_ENOMEM;
}

NEONFLOW_API void neonflow_connection_uri_options_free(neonflow_connection_uri_options *o)
{
    if (!o)
        return;
    neonflow__free(o->branch_id);
    neonflow__free(o->endpoint_id);
    neonflow__free(o->database_name);
    neonflow__free(o->role_name);
    neonflow__free(o);
}

NEONFLOW_API int neonflow_connection_uri_options_set_branch_id(neonflow_connection_uri_options *o,
                                                                const char *branch_id)
{
    if (!o || (branch_id && !neonflow__id_valid(branch_id)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->branch_id, branch_id);
}

NEONFLOW_API int neonflow_connection_uri_options_set_endpoint_id(neonflow_connection_uri_options *o,
                                                                  const char *endpoint_id)
{
    if (!o || (endpoint_id && !neonflow__id_valid(endpoint_id)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->endpoint_id, endpoint_id);
}

NEONFLOW_API int neonflow_connection_uri_options_set_database_name(neonflow_connection_uri_options *o,
                                                                    const char *name)
{
    if (!o || (name && !neonflow__pg_name_valid(name)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->database_name, name);
}

NEONFLOW_API int neonflow_connection_uri_options_set_role_name(neonflow_connection_uri_options *o, const char *name)
{
    if (!o || (name && !neonflow__pg_name_valid(name)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->role_name, name);
}

NEONFLOW_API int neonflow_connection_uri_options_set_pooled(neonflow_connection_uri_options *o, int pooled)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->pooled = pooled != 0;
    return NEONFLOW_OK;
}

/* ---- roles and databases --------------------------------------------------------- */
static int check(const void *out, neonflow_client *c, const char *project_id, neonflow_error **err)
{
    if (!out)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "out must not be NULL");
    if (!c)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "client must not be NULL");
    return neonflow__id_check("project_id", project_id, err);
}

/* GET /projects/{p}/branches/{b}/<what> into *root. */
static int get_branch_sub(neonflow_client *c, neonflow__call_ctx *ctx, const char *project_id,
                          const char *branch_id, const char *what, const char *route, json_t **root,
                          neonflow_error **err)
{
    int rc = neonflow__id_check("branch_id", branch_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__sb b = {0};
    neonflow__sb_add(&b, "/projects/");
    neonflow__sb_add_enc(&b, project_id);
    neonflow__sb_add(&b, "/branches/");
    neonflow__sb_add_enc(&b, branch_id);
    neonflow__sb_add(&b, "/");
    neonflow__sb_add(&b, what);
    char *path = neonflow__sb_take(&b);
    rc = neonflow__api_call(c, ctx, "GET", path, route, NULL, root, NULL, err);
    neonflow__free(path);
    return rc;
}

int neonflow__roles_list_ctx(neonflow_role_list **out, neonflow_client *c, neonflow__call_ctx *ctx,
                             const char *project_id, const char *branch_id, neonflow_error **err)
{
    if (out)
        *out = NULL;
    int rc = check(out, c, project_id, err);
    json_t *root = NULL;
    if (rc == NEONFLOW_OK)
        rc = get_branch_sub(c, ctx, project_id, branch_id, "roles",
                            "/projects/{project_id}/branches/{branch_id}/roles", &root, err);
    if (rc == NEONFLOW_OK)
        rc = neonflow__parse_roles_response(root, out, err);
    json_decref(root);
    return rc;
}

int neonflow__databases_list_ctx(neonflow_database_list **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                 const char *project_id, const char *branch_id, neonflow_error **err)
{
    if (out)
        *out = NULL;
    int rc = check(out, c, project_id, err);
    json_t *root = NULL;
    if (rc == NEONFLOW_OK)
        rc = get_branch_sub(c, ctx, project_id, branch_id, "databases",
                            "/projects/{project_id}/branches/{branch_id}/databases", &root, err);
    if (rc == NEONFLOW_OK)
        rc = neonflow__parse_databases_response(root, out, err);
    json_decref(root);
    return rc;
}

NEONFLOW_API int neonflow_roles_list(neonflow_role_list **out, neonflow_client *client, const char *project_id,
                                     const char *branch_id, const neonflow_call_options *call,
                                     neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(client, neonflow__roles_list_ctx(out, client, ctx, project_id, branch_id, err),
                                   err);
}

NEONFLOW_API int neonflow_databases_list(neonflow_database_list **out, neonflow_client *client,
                                         const char *project_id, const char *branch_id,
                                         const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client, neonflow__databases_list_ctx(out, client, ctx, project_id, branch_id, err), err);
}

/* ---- connection URI ------------------------------------------------------------------ */
char *neonflow__connection_uri_path(const char *project_id, const char *branch_id, const char *endpoint_id,
                                    const char *database_name, const char *role_name, int pooled)
{
    neonflow__sb b = {0};
    neonflow__sb_add(&b, "/projects/");
    neonflow__sb_add_enc(&b, project_id);
    neonflow__sb_add(&b, "/connection_uri");
    neonflow__sb_query(&b, "branch_id", branch_id);
    neonflow__sb_query(&b, "endpoint_id", endpoint_id);
    neonflow__sb_query(&b, "database_name", database_name);
    neonflow__sb_query(&b, "role_name", role_name);
    neonflow__sb_query(&b, "pooled", pooled ? "true" : NULL);
    return neonflow__sb_take(&b);
}

/* The branch whose databases give the defaults: the endpoint's branch, else
 * the project's default branch. Copied into out. */
static int lookup_branch(neonflow_client *c, neonflow__call_ctx *ctx, const char *project_id,
                         const char *endpoint_id, char *out, size_t len, neonflow_error **err)
{
    const char *id = NULL;
    neonflow_endpoint *ep = NULL;
    neonflow_branch_list *l = NULL;
    int rc;
    if (endpoint_id) {
        rc = neonflow__endpoint_get_ctx(&ep, c, ctx, project_id, endpoint_id, err);
        id = neonflow_endpoint_branch_id(ep);
    } else {
        rc = neonflow__branches_list_ctx(&l, c, ctx, project_id, NULL, err);
        for (size_t i = 0; rc == NEONFLOW_OK && i < neonflow_branch_list_count(l) && !id; i++)
            if (neonflow_branch_is_default(neonflow_branch_list_at(l, i)))
                id = neonflow_branch_id(neonflow_branch_list_at(l, i));
        if (rc == NEONFLOW_OK && !id)
            rc = neonflow__error_set(err, NEONFLOW_EINVAL,
                                     "project %s has no branch marked default: set the branch", project_id);
    }
    if (rc == NEONFLOW_OK && (!id || strlen(id) >= len))
        rc = neonflow__error_set(err, NEONFLOW_EPROTOCOL, "malformed branch id in the response");
    if (rc == NEONFLOW_OK)
        memcpy(out, id, strlen(id) + 1);
    neonflow_endpoint_free(ep);
    neonflow_branch_list_free(l);
    return rc;
}

/* Fills *db and *role (copies) from the branch's databases: the named
 * database's owner, or the only database and its owner. */
static int pick_database(neonflow_client *c, neonflow__call_ctx *ctx, const char *project_id,
                         const char *branch_id, const char *want_db, char **db, char **role, neonflow_error **err)
{
    neonflow_database_list *l = NULL;
    int rc = neonflow__databases_list_ctx(&l, c, ctx, project_id, branch_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    size_t n = neonflow_database_list_count(l);
    const neonflow_database *pick = NULL;
    for (size_t i = 0; want_db && i < n && !pick; i++)
        if (strcmp(neonflow_database_name(neonflow_database_list_at(l, i)), want_db) == 0)
            pick = neonflow_database_list_at(l, i);
    if (!want_db && n == 1)
        pick = neonflow_database_list_at(l, 0);
    if (!pick) {
        neonflow__sb names = {0};
        for (size_t i = 0; i < n && i < 20; i++) {
            neonflow__sb_add(&names, i ? ", " : "");
            neonflow__sb_add(&names, neonflow_database_name(neonflow_database_list_at(l, i)));
        }
        if (n > 20)
            neonflow__sb_add(&names, ", ...");
        char *list = neonflow__sb_take(&names);
        if (want_db)
            rc = neonflow__error_set(err, NEONFLOW_ENOTFOUND, "branch %s has no database \"%s\" (it has: %s)",
                                     branch_id, want_db, list && *list ? list : "none");
        else if (n == 0)
            rc = neonflow__error_set(err, NEONFLOW_EINVAL, "branch %s has no database to connect to", branch_id);
        else
            rc = neonflow__error_set(err, NEONFLOW_EINVAL,
                                     "branch %s has %zu databases: choose one with the database name (%s)",
                                     branch_id, n, list ? list : "");
        neonflow__free(list);
    } else {
        *db = neonflow__strdup(neonflow_database_name(pick));
        *role = neonflow__strdup(neonflow_database_owner_name(pick));
        if (!*db || !*role)
            rc = neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    }
    neonflow_database_list_free(l);
    return rc;
}

int neonflow__connection_uri_get_ctx(char **out_uri, neonflow_client *c, neonflow__call_ctx *ctx,
                                     const char *project_id, const neonflow_connection_uri_options *o,
                                     neonflow_error **err)
{
    if (out_uri)
        *out_uri = NULL;
    int rc = check(out_uri, c, project_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow_connection_uri_options none = {0};
    if (!o)
        o = &none;
    const char *branch = o->branch_id;
    char branch_buf[64];
    char *db = NULL, *role = NULL;
    if (!o->database_name || !o->role_name) {
        if (!branch)
            rc = lookup_branch(c, ctx, project_id, o->endpoint_id, branch_buf, sizeof(branch_buf), err);
        if (!branch && rc == NEONFLOW_OK)
            branch = branch_buf;
        if (rc == NEONFLOW_OK)
            rc = pick_database(c, ctx, project_id, branch, o->database_name, &db, &role, err);
    }
    if (rc == NEONFLOW_OK) {
        char *path = neonflow__connection_uri_path(project_id, branch, o->endpoint_id,
                                                   o->database_name ? o->database_name : db,
                                                   o->role_name ? o->role_name : role, o->pooled);
        json_t *root = NULL;
        rc = neonflow__api_call(c, ctx, "GET", path, "/projects/{project_id}/connection_uri", NULL, &root, NULL,
                                err);
        neonflow__free(path);
        if (rc == NEONFLOW_OK)
            rc = neonflow__parse_uri_response(root, out_uri, err);
        json_decref(root);
    }
    neonflow__free(db);
    neonflow__free(role);
    return rc;
}

NEONFLOW_API int neonflow_connection_uri_get(char **out_uri, neonflow_client *client, const char *project_id,
                                             const neonflow_connection_uri_options *opts,
                                             const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(client,
                                   neonflow__connection_uri_get_ctx(out_uri, client, ctx, project_id, opts, err),
                                   err);
}
