/* neonflow CLI — connecting to a branch: connection-string, roles list,
 * databases list. BRANCH is a name or an ID; without it, the project's
 * default branch. The connection string holds a password: it goes to stdout
 * only, never into a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static json_t *js(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

static int fail(cli *c, const char *what, int rc, neonflow_error *err)
{
    out_error(c, what, rc, err);
    neonflow_error_free(err);
    return cli_exit_for(rc);
}

/* The branch id of BRANCH (name first, then ID) or of the default branch,
 * copied into out. */
static int branch_id_of(cli *c, const char *name_or_id, char *out, size_t len)
{
    neonflow_error *err = NULL;
    int rc;
    if (name_or_id) {
        neonflow_branch *b = NULL;
        rc = neonflow_branch_find_by_name(&b, c->client, c->project_id, name_or_id, cli_call(c), &err);
        if (rc == NEONFLOW_ENOTFOUND && strncmp(name_or_id, "br-", 3) == 0) {
            neonflow_error_free(err);
            err = NULL;
            rc = neonflow_branch_get(&b, c->client, c->project_id, name_or_id, cli_call(c), &err);
        }
        if (rc == NEONFLOW_ENOTFOUND || (rc == NEONFLOW_EINVAL && !b)) {
            out_errorf(c, "%s: no branch named '%s' in project %s", c->cmd_name, name_or_id, c->project_id);
            neonflow_error_free(err);
            return EXIT_FAIL;
        }
        if (rc)
            return fail(c, c->cmd_name, rc, err);
        snprintf(out, len, "%s", neonflow_branch_id(b));
        neonflow_branch_free(b);
        return EXIT_OK;
    }
    neonflow_branch_list *l = NULL;
    rc = neonflow_branches_list(&l, c->client, c->project_id, NULL, cli_call(c), &err);
    if (rc)
        return fail(c, c->cmd_name, rc, err);
    out[0] = '\0';
    for (size_t i = 0; i < neonflow_branch_list_count(l) && !out[0]; i++)
        if (neonflow_branch_is_default(neonflow_branch_list_at(l, i)))
            snprintf(out, len, "%s", neonflow_branch_id(neonflow_branch_list_at(l, i)));
    neonflow_branch_list_free(l);
    if (!out[0]) {
        out_errorf(c, "%s: project %s has no default branch: name one", c->cmd_name, c->project_id);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int connection_string(cli *c)
{
    char id[128];
    neonflow_connection_uri_options *o = NULL;
    if (neonflow_connection_uri_options_new(&o) != 0)
        return EXIT_FAIL;
    int code = EXIT_OK;
    if (c->nargs > 0 && (code = branch_id_of(c, c->args[0], id, sizeof id)) == EXIT_OK &&
        neonflow_connection_uri_options_set_branch_id(o, id) != 0)
        code = EXIT_FAIL;
    if (code == EXIT_OK && c->endpoint && neonflow_connection_uri_options_set_endpoint_id(o, c->endpoint) != 0) {
        out_errorf(c, "invalid --endpoint '%s': expected an endpoint ID (ep-...)", c->endpoint);
        code = EXIT_USAGE;
    }
    if (code == EXIT_OK && c->database && neonflow_connection_uri_options_set_database_name(o, c->database) != 0) {
        out_errorf(c, "invalid --database: 1 to 63 bytes without control characters");
        code = EXIT_USAGE;
    }
    if (code == EXIT_OK && c->role && neonflow_connection_uri_options_set_role_name(o, c->role) != 0) {
        out_errorf(c, "invalid --role: 1 to 63 bytes without control characters");
        code = EXIT_USAGE;
    }
    if (code == EXIT_OK && c->pooled)
        neonflow_connection_uri_options_set_pooled(o, 1);
    char *uri = NULL;
    if (code == EXIT_OK) {
        neonflow_error *err = NULL;
        int rc = neonflow_connection_uri_get(&uri, c->client, c->project_id, o, cli_call(c), &err);
        if (rc)
            code = fail(c, "connection-string", rc, err);
    }
    neonflow_connection_uri_options_free(o);
    if (code != EXIT_OK)
        return code;
    for (const char *p = uri; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) { /* never print a control sequence */
            out_errorf(c, "connection-string: the API returned a malformed URI");
            memset(uri, 0, strlen(uri));
            neonflow_free(uri);
            return EXIT_FAIL;
        }
    if (c->json) {
        json_t *j = json_object();
        json_object_set_new(j, "uri", js(uri));
        out_json_print(j);
    } else {
        printf("%s\n", uri);
    }
    memset(uri, 0, strlen(uri));
    neonflow_free(uri);
    return EXIT_OK;
}

static const char *dash(const char *s)
{
    return s && *s ? term_esc(s) : "-";
}

static int roles_list(cli *c)
{
    char id[128];
    int code = branch_id_of(c, c->nargs > 0 ? c->args[0] : NULL, id, sizeof id);
    if (code != EXIT_OK)
        return code;
    neonflow_role_list *l = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_roles_list(&l, c->client, c->project_id, id, cli_call(c), &err);
    if (rc)
        return fail(c, "roles list", rc, err);
    json_t *a = c->json ? json_array() : NULL;
    if (!a)
        printf("%-32s %-9s %-10s %s\n", "NAME", "PROTECTED", "AUTH", "CREATED");
    for (size_t i = 0; i < neonflow_role_list_count(l); i++) {
        const neonflow_role *r = neonflow_role_list_at(l, i);
        if (a) {
            json_t *o = json_object();
            json_object_set_new(o, "name", js(neonflow_role_name(r)));
            json_object_set_new(o, "branch_id", js(neonflow_role_branch_id(r)));
            json_object_set_new(o, "protected", json_boolean(neonflow_role_is_protected(r)));
            json_object_set_new(o, "authentication_method", js(neonflow_role_authentication_method(r)));
            json_object_set_new(o, "created_at", js(neonflow_role_created_at(r)));
            json_object_set_new(o, "updated_at", js(neonflow_role_updated_at(r)));
            json_array_append_new(a, o);
        } else {
            printf("%-32s %-9s %-10s %s\n", term_esc(neonflow_role_name(r)),
                   neonflow_role_is_protected(r) ? "yes" : "no", dash(neonflow_role_authentication_method(r)),
                   dash(neonflow_role_created_at(r)));
        }
    }
    if (a)
        out_json_print(a);
    neonflow_role_list_free(l);
    return EXIT_OK;
}

static int databases_list(cli *c)
{
    char id[128];
    int code = branch_id_of(c, c->nargs > 0 ? c->args[0] : NULL, id, sizeof id);
    if (code != EXIT_OK)
        return code;
    neonflow_database_list *l = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_databases_list(&l, c->client, c->project_id, id, cli_call(c), &err);
    if (rc)
        return fail(c, "databases list", rc, err);
    json_t *a = c->json ? json_array() : NULL;
    if (!a)
        printf("%-32s %-32s %-10s %s\n", "NAME", "OWNER", "ID", "CREATED");
    for (size_t i = 0; i < neonflow_database_list_count(l); i++) {
        const neonflow_database *d = neonflow_database_list_at(l, i);
        if (a) {
            json_t *o = json_object();
            json_object_set_new(o, "id", neonflow_database_id(d) >= 0 ? json_integer(neonflow_database_id(d))
                                                                     : json_null());
            json_object_set_new(o, "name", js(neonflow_database_name(d)));
            json_object_set_new(o, "owner_name", js(neonflow_database_owner_name(d)));
            json_object_set_new(o, "branch_id", js(neonflow_database_branch_id(d)));
            json_object_set_new(o, "created_at", js(neonflow_database_created_at(d)));
            json_object_set_new(o, "updated_at", js(neonflow_database_updated_at(d)));
            json_array_append_new(a, o);
        } else {
            char idtxt[32];
            snprintf(idtxt, sizeof idtxt, "%lld", (long long)neonflow_database_id(d));
            printf("%-32s %-32s %-10s %s\n", term_esc(neonflow_database_name(d)),
                   term_esc(neonflow_database_owner_name(d)), neonflow_database_id(d) >= 0 ? idtxt : "-",
                   dash(neonflow_database_created_at(d)));
        }
    }
    if (a)
        out_json_print(a);
    neonflow_database_list_free(l);
    return EXIT_OK;
}

int cmd_connection(cli *c)
{
    switch (c->cmd) {
    case CMD_CONNECTION_STRING: return connection_string(c);
    case CMD_ROLES_LIST: return roles_list(c);
    case CMD_DATABASES_LIST: return databases_list(c);
    default: return EXIT_USAGE;
    }
}
