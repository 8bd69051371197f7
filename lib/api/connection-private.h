/* Internal view of roles, databases and connection URIs (connection.h): the
 * object layouts, the response parsers (for unit tests and fuzzing) and the
 * `_ctx` calls the workflow layer uses. Only lib/ and tests include this. */
#ifndef NEONFLOW_CONNECTION_PRIVATE_H
#define NEONFLOW_CONNECTION_PRIVATE_H

#include "api-private.h"
#include "neonflow/connection.h"

/* Strings are borrowed from the response kept alive by the list. A role's
 * password, when a response carries one, is never read. */
struct neonflow_role {
    const char *name, *branch_id, *authentication_method, *created_at, *updated_at;
    int64_t created_at_ms, updated_at_ms;
    int is_protected; /* -1 absent */
};

struct neonflow_role_list {
    neonflow__vec v;
};

struct neonflow_database {
    int64_t id;
    const char *name, *branch_id, *owner_name, *created_at, *updated_at;
    int64_t created_at_ms, updated_at_ms;
};

struct neonflow_database_list {
    neonflow__vec v;
};

struct neonflow_connection_uri_options {
    char *branch_id, *endpoint_id, *database_name, *role_name;
    int pooled;
};

/* {"roles": [...]} / {"databases": [...]} / {"uri": "..."} (root borrowed).
 * The URI parser never puts the body's text into an error message. */
int neonflow__parse_roles_response(json_t *root, neonflow_role_list **out, neonflow_error **err);
int neonflow__parse_databases_response(json_t *root, neonflow_database_list **out, neonflow_error **err);
int neonflow__parse_uri_response(json_t *root, char **out, neonflow_error **err);

/* 1 when s is a Postgres role or database name the calls accept: 1-63
 * bytes, no control characters (anything else is percent-encoded). */
int neonflow__pg_name_valid(const char *s);

/* The path and query of a connection_uri request (percent-encoded; any
 * argument but project_id may be NULL). New string or NULL on ENOMEM. */
char *neonflow__connection_uri_path(const char *project_id, const char *branch_id, const char *endpoint_id,
                                    const char *database_name, const char *role_name, int pooled);

int neonflow__roles_list_ctx(neonflow_role_list **out, neonflow_client *c, neonflow__call_ctx *ctx,
                             const char *project_id, const char *branch_id, neonflow_error **err);
int neonflow__databases_list_ctx(neonflow_database_list **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                 const char *project_id, const char *branch_id, neonflow_error **err);
int neonflow__connection_uri_get_ctx(char **out_uri, neonflow_client *c, neonflow__call_ctx *ctx,
                                     const char *project_id, const neonflow_connection_uri_options *opts,
                                     neonflow_error **err);

#endif
