/* The connection URI of a preview's read-write endpoint: the first database
 * of the branch and its owner role, then Neon's connection_uri route. The
 * URI holds a password: it is never put into an error message. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "previews-private.h"

/* The first database of the branch (preferring "neondb", Neon's default) and its owner. */
static int pick_database(json_t *root, const char **db, const char **role)
{
    json_t *arr = json_object_get(root, "databases"), *d;
    size_t i;
    *db = *role = NULL;
    json_array_foreach(arr, i, d) {
        const char *n = json_string_value(json_object_get(d, "name"));
        const char *o = json_string_value(json_object_get(d, "owner_name"));
        if (!n || !o)
            continue;
        if (!*db || strcmp(n, "neondb") == 0) {
            *db = n;
            *role = o;
        }
    }
    return *db ? 0 : -1;
}

int neonflow__preview_uri_fetch(neonflow_preview *p, neonflow_client *c, neonflow__call_ctx *ctx,
                                const char *pid, neonflow_error **err)
{
    const char *bid = neonflow_preview_branch_id(p), *eid = neonflow_preview_endpoint_id(p);
    if (!eid)
        return neonflow__error_set(err, NEONFLOW_ENO_ENDPOINT, "preview \"%s\" has no read-write endpoint",
                                   p->label);
    char path[1024];
    json_t *dbs = NULL, *uri = NULL;
    snprintf(path, sizeof(path), "/projects/%s/branches/%s/databases", pid, bid); /* IDs validated */
    int rc = neonflow__api_call(c, ctx, "GET", path, "/projects/{project_id}/branches/{branch_id}/databases", NULL,
                                &dbs, NULL, err);
    const char *db = NULL, *role = NULL;
    if (rc == NEONFLOW_OK && pick_database(dbs, &db, &role) != 0)
        rc = neonflow__error_set(err, NEONFLOW_ESTATE, "preview \"%s\" (%s) has no database to connect to",
                                 p->label, bid);
    char *edb = NULL, *erole = NULL;
    if (rc == NEONFLOW_OK) {
        edb = neonflow__pct_encode(db);
        erole = neonflow__pct_encode(role);
        if (!edb || !erole)
            rc = neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    }
    if (rc == NEONFLOW_OK) {
        int n = snprintf(path, sizeof(path),
                         "/projects/%s/connection_uri?branch_id=%s&endpoint_id=%s&database_name=%s&role_name=%s", pid,
                         bid, eid, edb, erole);
        if (n < 0 || (size_t)n >= sizeof(path))
            rc = neonflow__error_set(err, NEONFLOW_EINVAL, "database or role name too long");
    }
    if (rc == NEONFLOW_OK)
        rc = neonflow__api_call(c, ctx, "GET", path, "/projects/{project_id}/connection_uri", NULL, &uri, NULL, err);
    const char *s = rc == NEONFLOW_OK ? json_string_value(json_object_get(uri, "uri")) : NULL;
    if (rc == NEONFLOW_OK && (!s || strncmp(s, "postgres", 8) != 0))
        rc = neonflow__error_set(err, NEONFLOW_EPROTOCOL, "connection_uri: the answer has no postgres URI");
    if (rc == NEONFLOW_OK && !(p->uri = neonflow__strdup(s)))
        rc = neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    neonflow__free(edb);
    neonflow__free(erole);
    json_decref(dbs);
    json_decref(uri);
    return rc;
}
