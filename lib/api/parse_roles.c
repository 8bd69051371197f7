/* Role and database objects (connection.h): parsers, getters, lists. */
#include <stddef.h>
#include <string.h>

#include "connection-private.h"
#include "core/alloc.h"
#include "core/error.h"

/* No "password" entry: a role's password is never read, even when sent. */
#define RO(f) offsetof(struct neonflow_role, f)
static const neonflow__field role_fields[] = {
    {"name", NEONFLOW__F_STR, 1, RO(name), 0},
    {"branch_id", NEONFLOW__F_STR, 1, RO(branch_id), 0},
    {"protected", NEONFLOW__F_BOOL, 0, RO(is_protected), 0},
    {"authentication_method", NEONFLOW__F_STR, 0, RO(authentication_method), 0},
    {"created_at", NEONFLOW__F_TIME, 0, RO(created_at), RO(created_at_ms)},
    {"updated_at", NEONFLOW__F_TIME, 0, RO(updated_at), RO(updated_at_ms)},
};

#define DB(f) offsetof(struct neonflow_database, f)
static const neonflow__field db_fields[] = {
    {"id", NEONFLOW__F_I64, 0, DB(id), 0},
    {"name", NEONFLOW__F_STR, 1, DB(name), 0},
    {"branch_id", NEONFLOW__F_STR, 1, DB(branch_id), 0},
    {"owner_name", NEONFLOW__F_STR, 1, DB(owner_name), 0},
    {"created_at", NEONFLOW__F_TIME, 0, DB(created_at), DB(created_at_ms)},
    {"updated_at", NEONFLOW__F_TIME, 0, DB(updated_at), DB(updated_at_ms)},
};

static int role_parse(const json_t *obj, void *item, const char *what, neonflow_error **err)
{
    memset(item, 0, sizeof(struct neonflow_role));
    return neonflow__parse_fields(obj, role_fields, sizeof(role_fields) / sizeof(role_fields[0]), item, what, err);
}

static int db_parse(const json_t *obj, void *item, const char *what, neonflow_error **err)
{
    memset(item, 0, sizeof(struct neonflow_database));
    return neonflow__parse_fields(obj, db_fields, sizeof(db_fields) / sizeof(db_fields[0]), item, what, err);
}

/* ---- getters ---------------------------------------------------------------- */
#define ROLE_STR(name, field)                                                   \
    NEONFLOW_API const char *neonflow_role_##name(const neonflow_role *r)       \
    {                                                                           \
        return r ? r->field : NULL;                                             \
    }
ROLE_STR(name, name)
ROLE_STR(branch_id, branch_id)
ROLE_STR(authentication_method, authentication_method)
ROLE_STR(created_at, created_at)
ROLE_STR(updated_at, updated_at)

NEONFLOW_API int neonflow_role_is_protected(const neonflow_role *r) { return r && r->is_protected == 1; }

#define DB_STR(name, field)                                                       \
    NEONFLOW_API const char *neonflow_database_##name(const neonflow_database *d) \
    {                                                                             \
        return d ? d->field : NULL;                                               \
    }
DB_STR(name, name)
DB_STR(branch_id, branch_id)
DB_STR(owner_name, owner_name)
DB_STR(created_at, created_at)
DB_STR(updated_at, updated_at)

NEONFLOW_API int64_t neonflow_database_id(const neonflow_database *d) { return d ? d->id : -1; }

/* ---- lists -------------------------------------------------------------------- */
NEONFLOW_API size_t neonflow_role_list_count(const neonflow_role_list *list) { return list ? list->v.n : 0; }

NEONFLOW_API const neonflow_role *neonflow_role_list_at(const neonflow_role_list *list, size_t i)
{
    return list ? neonflow__vec_at(&list->v, i) : NULL;
}

NEONFLOW_API void neonflow_role_list_free(neonflow_role_list *list)
{
    if (!list)
        return;
    neonflow__vec_clear(&list->v);
    neonflow__free(list);
}

NEONFLOW_API size_t neonflow_database_list_count(const neonflow_database_list *list)
{
    return list ? list->v.n : 0;
}

NEONFLOW_API const neonflow_database *neonflow_database_list_at(const neonflow_database_list *list, size_t i)
{
    return list ? neonflow__vec_at(&list->v, i) : NULL;
}

NEONFLOW_API void neonflow_database_list_free(neonflow_database_list *list)
{
    if (!list)
        return;
    neonflow__vec_clear(&list->v);
    neonflow__free(list);
}

/* ---- response parsers ------------------------------------------------------------ */
/* {"<key>": [...]} into the empty vector v (holding root). */
static int parse_list(json_t *root, const char *key, const char *what, neonflow__parse_fn parse, neonflow__vec *v,
                      neonflow_error **err)
{
    json_t *arr;
    int rc = neonflow__member(root, key, JSON_ARRAY, 1, what, &arr, err);
    if (rc == NEONFLOW_OK)
        rc = neonflow__vec_parse_array(v, root, arr, parse, key, err);
    return rc;
}

int neonflow__parse_roles_response(json_t *root, neonflow_role_list **out, neonflow_error **err)
{
    *out = NULL;
    neonflow_role_list *l = neonflow__malloc(sizeof(*l));
    if (!l)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    neonflow__vec_init(&l->v, sizeof(struct neonflow_role), NULL);
    int rc = parse_list(root, "roles", "roles response", role_parse, &l->v, err);
    if (rc != NEONFLOW_OK) {
        neonflow_role_list_free(l);
        return rc;
    }
    *out = l;
    return NEONFLOW_OK;
}

int neonflow__parse_databases_response(json_t *root, neonflow_database_list **out, neonflow_error **err)
{
    *out = NULL;
    neonflow_database_list *l = neonflow__malloc(sizeof(*l));
    if (!l)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    neonflow__vec_init(&l->v, sizeof(struct neonflow_database), NULL);
    int rc = parse_list(root, "databases", "databases response", db_parse, &l->v, err);
    if (rc != NEONFLOW_OK) {
        neonflow_database_list_free(l);
        return rc;
    }
    *out = l;
    return NEONFLOW_OK;
}

int neonflow__parse_uri_response(json_t *root, char **out, neonflow_error **err)
{
    *out = NULL;
    const json_t *uri = json_is_object(root) ? json_object_get(root, "uri") : NULL;
    /* The message names the field only: the body holds a password. */
    if (!json_is_string(uri) || json_string_length(uri) == 0 ||
        strlen(json_string_value(uri)) != json_string_length(uri))
        return neonflow__error_set(err, NEONFLOW_EPROTOCOL,
                                   "connection_uri response: \"uri\" is missing or not a non-empty string");
    if (!(*out = neonflow__strdup(json_string_value(uri))))
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    return NEONFLOW_OK;
}
