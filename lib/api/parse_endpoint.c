/* Endpoint objects: parser, getters, lists. */
#include <stddef.h>
#include <string.h>

#include "api-private.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/names.h"

/* Required: the IDs, the host and the type, which the workflows act on.
 * The rest is optional: pooler_enabled, pooler_mode (sunset 2026-06-20) and
 * proxy_host are deprecated by Neon and not read at all. */
#define EP(f) offsetof(struct neonflow_endpoint, f)
static const neonflow__field ep_fields[] = {
    {"id", NEONFLOW__F_STR, 1, EP(id), 0},
    {"host", NEONFLOW__F_STR, 1, EP(host), 0},
    {"branch_id", NEONFLOW__F_STR, 1, EP(branch_id), 0},
    {"project_id", NEONFLOW__F_STR, 1, EP(project_id), 0},
    {"name", NEONFLOW__F_STR, 0, EP(name), 0},
    {"type", NEONFLOW__F_STR, 1, EP(type), 0},
    {"current_state", NEONFLOW__F_STR, 0, EP(current_state), 0},
    {"pending_state", NEONFLOW__F_STR, 0, EP(pending_state), 0},
    {"autoscaling_limit_min_cu", NEONFLOW__F_NUM, 0, EP(min_cu), 0},
    {"autoscaling_limit_max_cu", NEONFLOW__F_NUM, 0, EP(max_cu), 0},
    {"region_id", NEONFLOW__F_STR, 0, EP(region_id), 0},
    {"disabled", NEONFLOW__F_BOOL, 0, EP(disabled), 0},
    {"passwordless_access", NEONFLOW__F_BOOL, 0, EP(passwordless_access), 0},
    {"last_active", NEONFLOW__F_TIME, 0, EP(last_active), EP(last_active_ms)},
    {"started_at", NEONFLOW__F_TIME, 0, EP(started_at), EP(started_at_ms)},
    {"suspended_at", NEONFLOW__F_TIME, 0, EP(suspended_at), EP(suspended_at_ms)},
    {"creation_source", NEONFLOW__F_STR, 0, EP(creation_source), 0},
    {"created_at", NEONFLOW__F_TIME, 0, EP(created_at), EP(created_at_ms)},
    {"updated_at", NEONFLOW__F_TIME, 0, EP(updated_at), EP(updated_at_ms)},
    {"suspend_timeout_seconds", NEONFLOW__F_I64, 0, EP(suspend_timeout_seconds), 0},
    {"provisioner", NEONFLOW__F_STR, 0, EP(provisioner), 0},
    {"compute_release_version", NEONFLOW__F_STR, 0, EP(compute_release_version), 0},
};

static const char *const *const type_names = neonflow__endpoint_type_names;
static const char *const *const state_names = neonflow__endpoint_state_names;

int neonflow__endpoint_parse(const json_t *obj, void *item, const char *what, neonflow_error **err)
{
    struct neonflow_endpoint *e = item;
    memset(e, 0, sizeof(*e));
    int rc = neonflow__parse_fields(obj, ep_fields, sizeof(ep_fields) / sizeof(ep_fields[0]), e, what, err);
    if (rc != NEONFLOW_OK)
        return rc;
    e->obj = obj;
    e->type_code = neonflow__enum_lookup(e->type, type_names, NEONFLOW_ENDPOINT_TYPE_UNKNOWN);
    e->current_state_code = neonflow__enum_lookup(e->current_state, state_names, NEONFLOW_ENDPOINT_STATE_UNKNOWN);
    e->pending_state_code = neonflow__enum_lookup(e->pending_state, state_names, NEONFLOW_ENDPOINT_STATE_NONE);
    return NEONFLOW_OK;
}

void neonflow__endpoint_cleanup(void *item)
{
    neonflow__json_cache_free(&((struct neonflow_endpoint *)item)->json);
}

#define STR_GETTER(name, field)                                                 \
    NEONFLOW_API const char *neonflow_endpoint_##name(const neonflow_endpoint *e) \
    {                                                                           \
        return e ? e->field : NULL;                                             \
    }
#define I64_GETTER(name, field, dflt)                                       \
    NEONFLOW_API int64_t neonflow_endpoint_##name(const neonflow_endpoint *e) \
    {                                                                       \
        return e ? e->field : (dflt);                                       \
    }
STR_GETTER(id, id)
STR_GETTER(host, host)
STR_GETTER(branch_id, branch_id)
STR_GETTER(project_id, project_id)
STR_GETTER(name, name)
STR_GETTER(type_raw, type)
STR_GETTER(current_state_raw, current_state)
STR_GETTER(pending_state_raw, pending_state)
STR_GETTER(region_id, region_id)
STR_GETTER(last_active, last_active)
STR_GETTER(started_at, started_at)
STR_GETTER(suspended_at, suspended_at)
STR_GETTER(creation_source, creation_source)
STR_GETTER(created_at, created_at)
STR_GETTER(updated_at, updated_at)
STR_GETTER(provisioner, provisioner)
STR_GETTER(compute_release_version, compute_release_version)
I64_GETTER(suspend_timeout_s, suspend_timeout_seconds, -1)

NEONFLOW_API int32_t neonflow_endpoint_type(const neonflow_endpoint *e)
{
    return e ? e->type_code : NEONFLOW_ENDPOINT_TYPE_UNKNOWN;
}

NEONFLOW_API int32_t neonflow_endpoint_current_state(const neonflow_endpoint *e)
{
    return e ? e->current_state_code : NEONFLOW_ENDPOINT_STATE_UNKNOWN;
}

NEONFLOW_API int32_t neonflow_endpoint_pending_state(const neonflow_endpoint *e)
{
    return e ? e->pending_state_code : NEONFLOW_ENDPOINT_STATE_NONE;
}

NEONFLOW_API double neonflow_endpoint_autoscaling_limit_min_cu(const neonflow_endpoint *e)
{
    return e ? e->min_cu : -1.0;
}

NEONFLOW_API double neonflow_endpoint_autoscaling_limit_max_cu(const neonflow_endpoint *e)
{
    return e ? e->max_cu : -1.0;
}

NEONFLOW_API int neonflow_endpoint_is_disabled(const neonflow_endpoint *e)
{
    return e && e->disabled == 1;
}

NEONFLOW_API int neonflow_endpoint_has_passwordless_access(const neonflow_endpoint *e)
{
    return e && e->passwordless_access == 1;
}

NEONFLOW_API const char *neonflow_endpoint_json(const neonflow_endpoint *e)
{
    return e ? neonflow__json_text(e->obj, &((neonflow_endpoint *)e)->json) : NULL;
}

NEONFLOW_API void neonflow_endpoint_free(neonflow_endpoint *e)
{
    if (!e)
        return;
    neonflow__endpoint_cleanup(e);
    json_decref(e->own);
    neonflow__free(e);
}

int neonflow__endpoint_dup(const neonflow_endpoint *e, json_t *doc, neonflow_endpoint **out)
{
    neonflow_endpoint *copy = neonflow__malloc(sizeof(*copy));
    if (!copy)
        return NEONFLOW_ENOMEM;
    *copy = *e;
    neonflow__json_cache_reset(&copy->json);
    copy->own = json_incref(doc);
    *out = copy;
    return NEONFLOW_OK;
}

/* A reference on the endpoint's own JSON object keeps its strings alive. */
NEONFLOW_API int neonflow_endpoint_dup(neonflow_endpoint **out, const neonflow_endpoint *e)
{
    if (out)
        *out = NULL;
    if (!out || !e)
        return NEONFLOW_EINVAL;
    return neonflow__endpoint_dup(e, (json_t *)e->obj, out);
}

/* ---- lists ---------------------------------------------------------------------- */
void neonflow__endpoint_list_init(neonflow_endpoint_list *l)
{
    neonflow__vec_init(&l->v, sizeof(struct neonflow_endpoint), neonflow__endpoint_cleanup);
}

NEONFLOW_API size_t neonflow_endpoint_list_count(const neonflow_endpoint_list *list)
{
    return list ? list->v.n : 0;
}

NEONFLOW_API const neonflow_endpoint *neonflow_endpoint_list_at(const neonflow_endpoint_list *list, size_t i)
{
    return list ? neonflow__vec_at(&list->v, i) : NULL;
}

NEONFLOW_API void neonflow_endpoint_list_free(neonflow_endpoint_list *list)
{
    if (!list)
        return;
    neonflow__vec_clear(&list->v);
    neonflow__free(list);
}

/* ---- response parsers ------------------------------------------------------------- */
int neonflow__parse_endpoints_response(json_t *root, neonflow_endpoint_list **out, neonflow_error **err)
{
    *out = NULL;
    json_t *arr;
    int rc = neonflow__member(root, "endpoints", JSON_ARRAY, 1, "endpoints response", &arr, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow_endpoint_list *l = neonflow__malloc(sizeof(*l));
    if (!l)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    neonflow__endpoint_list_init(l);
    rc = neonflow__vec_parse_array(&l->v, root, arr, neonflow__endpoint_parse, "endpoints", err);
    if (rc != NEONFLOW_OK) {
        neonflow_endpoint_list_free(l);
        return rc;
    }
    *out = l;
    return NEONFLOW_OK;
}

int neonflow__parse_endpoint_response(json_t *root, neonflow_endpoint **out, neonflow_operation_list **ops_out,
                                      neonflow_error **err)
{
    *out = NULL;
    if (ops_out)
        *ops_out = NULL;
    json_t *obj;
    int rc = neonflow__member(root, "endpoint", JSON_OBJECT, 1, "endpoint response", &obj, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow_operation_list *ops = NULL;
    if (ops_out && (rc = neonflow__parse_operations_response(root, 1, &ops, err)) != NEONFLOW_OK)
        return rc;
    neonflow_endpoint *e = neonflow__calloc(1, sizeof(*e));
    if (!e) {
        neonflow_operation_list_free(ops);
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    }
    rc = neonflow__endpoint_parse(obj, e, "endpoint", err);
    if (rc != NEONFLOW_OK) {
        neonflow__free(e);
        neonflow_operation_list_free(ops);
        return rc;
    }
    e->own = json_incref(root);
    *out = e;
    neonflow__ops_hand_out(ops_out, ops); /* frees them when not wanted */
    return NEONFLOW_OK;
}
