/*
 * libneonflow — connecting to a branch: Postgres roles and databases, and
 * the connection URI (postgresql://role:password@host/db?sslmode=require).
 *
 * Secrets: a connection URI holds a role's password. The library never puts
 * it in its log or trace records (the trace of the connection_uri and
 * reveal_password responses is withheld) nor in error messages; roles are
 * read without their password (there is no getter for it).
 *
 * Getter conventions as in endpoint.h: a NULL object gives NULL / -1 / 0;
 * strings are borrowed until the owning list is freed; absent optional
 * strings give NULL; booleans are exactly 1 or 0 (0 when absent or NULL).
 * Thread-safety: lists are immutable and may be read from many threads; the
 * calls may run on one client from many threads at once.
 */
#ifndef NEONFLOW_CONNECTION_H
#define NEONFLOW_CONNECTION_H

#include "common.h"
#include "errors.h"
#include "client.h"
#include "call_options.h"

NEONFLOW_BEGIN_DECLS

typedef struct neonflow_role neonflow_role;
typedef struct neonflow_role_list neonflow_role_list;
typedef struct neonflow_database neonflow_database;
typedef struct neonflow_database_list neonflow_database_list;

/* ---- roles ---------------------------------------------------------------- */
/** Role name, e.g. "neondb_owner"; never NULL for a parsed role. */
NEONFLOW_API const char *neonflow_role_name(const neonflow_role *r);
/** ID of the branch the role belongs to; never NULL for a parsed role. */
NEONFLOW_API const char *neonflow_role_branch_id(const neonflow_role *r);
/** 1 when Neon marks the role system-protected (`protected`), else 0 (also when absent). */
NEONFLOW_API int neonflow_role_is_protected(const neonflow_role *r);
/** "password", "oauth", "no_login" as Neon sent it; NULL when absent. */
NEONFLOW_API const char *neonflow_role_authentication_method(const neonflow_role *r);
/** Creation time (RFC 3339); NULL when absent. */
NEONFLOW_API const char *neonflow_role_created_at(const neonflow_role *r);
/** Last update time (RFC 3339); NULL when absent. */
NEONFLOW_API const char *neonflow_role_updated_at(const neonflow_role *r);

/** Number of roles; 0 for NULL. */
NEONFLOW_API size_t neonflow_role_list_count(const neonflow_role_list *list);
/** The i-th role (borrowed), or NULL when out of range. */
NEONFLOW_API const neonflow_role *neonflow_role_list_at(const neonflow_role_list *list, size_t i);
/** Frees the list. NULL is accepted. */
NEONFLOW_API void neonflow_role_list_free(neonflow_role_list *list);

/**
 * GET /projects/{project_id}/branches/{branch_id}/roles. *out: new list
 * (passwords are not read). Errors: NEONFLOW_EINVAL (NULL argument or
 * malformed ID; no request sent), NEONFLOW_ENOTFOUND (no such branch),
 * NEONFLOW_EPROTOCOL, HTTP-layer codes; NEONFLOW_ETIMEOUT /
 * NEONFLOW_ECANCELLED through `call` (NULL: none). *out is NULL on failure.
 * Thread-safety: any number of threads may call on one client.
 */
NEONFLOW_API int neonflow_roles_list(neonflow_role_list **out, neonflow_client *client, const char *project_id,
                                     const char *branch_id, const neonflow_call_options *call,
                                     neonflow_error **err);

/* ---- databases -------------------------------------------------------------- */
/** Database ID (Neon's integer id); -1 when absent or for NULL. */
NEONFLOW_API int64_t neonflow_database_id(const neonflow_database *d);
/** Database name, e.g. "neondb"; never NULL for a parsed database. */
NEONFLOW_API const char *neonflow_database_name(const neonflow_database *d);
/** ID of the branch the database belongs to; never NULL for a parsed database. */
NEONFLOW_API const char *neonflow_database_branch_id(const neonflow_database *d);
/** Name of the role owning the database; never NULL for a parsed database. */
NEONFLOW_API const char *neonflow_database_owner_name(const neonflow_database *d);
/** Creation time (RFC 3339); NULL when absent. */
NEONFLOW_API const char *neonflow_database_created_at(const neonflow_database *d);
/** Last update time (RFC 3339); NULL when absent. */
NEONFLOW_API const char *neonflow_database_updated_at(const neonflow_database *d);

/** Number of databases; 0 for NULL. */
NEONFLOW_API size_t neonflow_database_list_count(const neonflow_database_list *list);
/** The i-th database (borrowed), or NULL when out of range. */
NEONFLOW_API const neonflow_database *neonflow_database_list_at(const neonflow_database_list *list, size_t i);
/** Frees the list. NULL is accepted. */
NEONFLOW_API void neonflow_database_list_free(neonflow_database_list *list);

/** GET /projects/{project_id}/branches/{branch_id}/databases. As neonflow_roles_list(). */
NEONFLOW_API int neonflow_databases_list(neonflow_database_list **out, neonflow_client *client,
                                         const char *project_id, const char *branch_id,
                                         const neonflow_call_options *call, neonflow_error **err);

/* ---- connection URI ------------------------------------------------------------
 * Options of neonflow_connection_uri_get(): _new(&o) (NEONFLOW_EINVAL for a
 * NULL out, NEONFLOW_ENOMEM), setters copying their strings (NEONFLOW_EINVAL
 * for NULL options or a malformed value, the old value kept; NEONFLOW_ENOMEM;
 * NULL clears a string), _free (NULL accepted). Not for concurrent use while
 * being set.
 */
typedef struct neonflow_connection_uri_options neonflow_connection_uri_options;

/** New options: nothing set (the project's default branch, its read-write endpoint, not pooled). */
NEONFLOW_API int neonflow_connection_uri_options_new(neonflow_connection_uri_options **out);
/** Frees the options. NULL is accepted. */
NEONFLOW_API void neonflow_connection_uri_options_free(neonflow_connection_uri_options *opts);
/** Branch ID (^[a-z0-9-]{1,60}$). Unset: the endpoint's branch, else the project's default branch. */
NEONFLOW_API int neonflow_connection_uri_options_set_branch_id(neonflow_connection_uri_options *opts,
                                                                const char *branch_id);
/** Endpoint ID (^[a-z0-9-]{1,60}$). Unset: the branch's read-write endpoint. */
NEONFLOW_API int neonflow_connection_uri_options_set_endpoint_id(neonflow_connection_uri_options *opts,
                                                                  const char *endpoint_id);
/** Database name (1-63 bytes, no control characters). Unset: the branch's only database. */
NEONFLOW_API int neonflow_connection_uri_options_set_database_name(neonflow_connection_uri_options *opts,
                                                                    const char *name);
/** Role name (1-63 bytes, no control characters). Unset: the owner of the database. */
NEONFLOW_API int neonflow_connection_uri_options_set_role_name(neonflow_connection_uri_options *opts,
                                                                const char *name);
/** 1: the pooled URI (the endpoint's "-pooler" host); 0 (default): direct. */
NEONFLOW_API int neonflow_connection_uri_options_set_pooled(neonflow_connection_uri_options *opts, int pooled);

/**
 * GET /projects/{project_id}/connection_uri. Neon requires the database and
 * the role; when `opts` leaves the database unset the branch's databases are
 * listed first (one more request; finding the project's default branch, when
 * neither a branch nor an endpoint is set, pages through the branch list, so
 * set the branch when you know it): with exactly one database it and its
 * owner are used, otherwise NEONFLOW_EINVAL with a message listing the
 * databases to choose from. A role left unset is the chosen database's owner
 * (the database named in `opts` is looked up for it). `opts` may be NULL.
 * *out_uri: a NUL-terminated string the caller frees with neonflow_free();
 * it holds a password: keep it out of logs. Errors: NEONFLOW_EINVAL (NULL
 * argument, malformed ID, no database or several to choose from; *out_uri
 * NULL), NEONFLOW_ENOTFOUND (no such project, branch, endpoint, role or
 * database, also a named database missing from the branch's list), NEONFLOW_EBADREQUEST (e.g. the branch has no endpoint),
 * NEONFLOW_EPROTOCOL, HTTP-layer codes, and NEONFLOW_ETIMEOUT /
 * NEONFLOW_ECANCELLED through `call` (NULL: none). Thread-safety: any number
 * of threads may call on one client.
 */
NEONFLOW_API int neonflow_connection_uri_get(char **out_uri, neonflow_client *client, const char *project_id,
                                             const neonflow_connection_uri_options *opts,
                                             const neonflow_call_options *call, neonflow_error **err);

NEONFLOW_END_DECLS

#endif /* NEONFLOW_CONNECTION_H */
