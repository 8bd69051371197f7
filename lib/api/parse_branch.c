/* Branch objects: parser, getters, lists, create/restore results. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api-private.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/names.h"

/* Required: what the library cannot work without (IDs and the name). The
 * rest, required by the spec or not, is optional: a field Neon drops (it
 * has deprecated cpu_used_sec and primary) must not fail every call. */
#define BR(f) offsetof(struct neonflow_branch, f)
static const neonflow__field br_fields[] = {
    {"id", NEONFLOW__F_STR, 1, BR(id), 0},
    {"project_id", NEONFLOW__F_STR, 1, BR(project_id), 0},
    {"parent_id", NEONFLOW__F_STR, 0, BR(parent_id), 0},
    {"parent_lsn", NEONFLOW__F_STR, 0, BR(parent_lsn), 0},
    {"parent_timestamp", NEONFLOW__F_TIME, 0, BR(parent_timestamp), BR(parent_timestamp_ms)},
    {"name", NEONFLOW__F_STR, 1, BR(name), 0},
    {"current_state", NEONFLOW__F_STR, 0, BR(current_state), 0},
    {"pending_state", NEONFLOW__F_STR, 0, BR(pending_state), 0},
    {"state_changed_at", NEONFLOW__F_TIME, 0, BR(state_changed_at), BR(state_changed_at_ms)},
    {"logical_size", NEONFLOW__F_I64, 0, BR(logical_size), 0},
    {"creation_source", NEONFLOW__F_STR, 0, BR(creation_source), 0},
    {"default", NEONFLOW__F_BOOL, 0, BR(is_default), 0},
    {"primary", NEONFLOW__F_BOOL, 0, BR(primary), 0},
    {"protected", NEONFLOW__F_BOOL, 0, BR(is_protected), 0},
    {"compute_time_seconds", NEONFLOW__F_I64, 0, BR(compute_time_seconds), 0},
    {"active_time_seconds", NEONFLOW__F_I64, 0, BR(active_time_seconds), 0},
    {"written_data_bytes", NEONFLOW__F_I64, 0, BR(written_data_bytes), 0},
    {"data_transfer_bytes", NEONFLOW__F_I64, 0, BR(data_transfer_bytes), 0},
    {"created_at", NEONFLOW__F_TIME, 0, BR(created_at), BR(created_at_ms)},
    {"updated_at", NEONFLOW__F_TIME, 0, BR(updated_at), BR(updated_at_ms)},
    {"last_reset_at", NEONFLOW__F_TIME, 0, BR(last_reset_at), BR(last_reset_at_ms)},
    {"expires_at", NEONFLOW__F_TIME, 0, BR(expires_at), BR(expires_at_ms)},
    {"ttl_interval_seconds", NEONFLOW__F_I64, 0, BR(ttl_interval_seconds), 0},
    {"created_by", NEONFLOW__F_OBJ, 0, BR(created_by), 0},
    {"init_source", NEONFLOW__F_STR, 0, BR(init_source), 0},
    {"restore_status", NEONFLOW__F_STR, 0, BR(restore_status), 0},
    {"restored_from", NEONFLOW__F_STR, 0, BR(restored_from), 0},
    {"restored_as", NEONFLOW__F_STR, 0, BR(restored_as), 0},
    {"restricted_actions", NEONFLOW__F_ARR, 0, BR(restricted), 0},
};

static const neonflow__field created_by_fields[] = {
    {"name", NEONFLOW__F_STR, 0, BR(created_by_name), 0},
    {"image", NEONFLOW__F_STR, 0, BR(created_by_image), 0},
};

/* One restricted action: {name, reason}, read in place. */
struct restricted_action {
    const char *name, *reason;
};
static const neonflow__field restricted_fields[] = {
    {"name", NEONFLOW__F_STR, 0, offsetof(struct restricted_action, name), 0},
    {"reason", NEONFLOW__F_STR, 0, offsetof(struct restricted_action, reason), 0},
};

static const char *const *const state_names = neonflow__branch_state_names;
static const char *const *const restore_names = neonflow__restore_status_names;

int neonflow__branch_parse(const json_t *obj, void *item, const char *what, neonflow_error **err)
{
    struct neonflow_branch *b = item;
    memset(b, 0, sizeof(*b));
    int rc = neonflow__parse_fields(obj, br_fields, sizeof(br_fields) / sizeof(br_fields[0]), b, what, err);
    if (rc != NEONFLOW_OK)
        return rc;
    b->obj = obj;
    if (b->is_default < 0) /* `primary` is its deprecated alias */
        b->is_default = b->primary;
    char sub[128];
    if (b->created_by) {
        snprintf(sub, sizeof(sub), "%s.created_by", what);
        rc = neonflow__parse_fields(b->created_by, created_by_fields, 2, b, sub, err);
        if (rc != NEONFLOW_OK)
            return rc;
    }
    if (b->restricted) {
        size_t i;
        json_t *el;
        json_array_foreach(b->restricted, i, el) {
            struct restricted_action ra;
            snprintf(sub, sizeof(sub), "%s.restricted_actions[%zu]", what, i);
            rc = neonflow__parse_fields(el, restricted_fields, 2, &ra, sub, err);
            if (rc != NEONFLOW_OK)
                return rc;
        }
    }
    b->current_state_code = neonflow__enum_lookup(b->current_state, state_names, NEONFLOW_BRANCH_STATE_UNKNOWN);
    b->pending_state_code = neonflow__enum_lookup(b->pending_state, state_names, NEONFLOW_BRANCH_STATE_NONE);
    b->restore_status_code = neonflow__enum_lookup(b->restore_status, restore_names, NEONFLOW_RESTORE_STATUS_NONE);
    return NEONFLOW_OK;
}

#define STR_GETTER(name, field)                                             \
    NEONFLOW_API const char *neonflow_branch_##name(const neonflow_branch *b) \
    {                                                                       \
        return b ? b->field : NULL;                                         \
    }
#define I64_GETTER(name, field, dflt)                                   \
    NEONFLOW_API int64_t neonflow_branch_##name(const neonflow_branch *b) \
    {                                                                   \
        return b ? b->field : (dflt);                                   \
    }
STR_GETTER(id, id)
STR_GETTER(project_id, project_id)
STR_GETTER(parent_id, parent_id)
STR_GETTER(parent_lsn, parent_lsn)
STR_GETTER(parent_timestamp, parent_timestamp)
STR_GETTER(name, name)
STR_GETTER(current_state_raw, current_state)
STR_GETTER(pending_state_raw, pending_state)
STR_GETTER(state_changed_at, state_changed_at)
STR_GETTER(creation_source, creation_source)
STR_GETTER(created_at, created_at)
STR_GETTER(updated_at, updated_at)
STR_GETTER(last_reset_at, last_reset_at)
STR_GETTER(expires_at, expires_at)
STR_GETTER(created_by_name, created_by_name)
STR_GETTER(created_by_image, created_by_image)
STR_GETTER(init_source, init_source)
STR_GETTER(restore_status_raw, restore_status)
STR_GETTER(restored_from, restored_from)
STR_GETTER(restored_as, restored_as)
I64_GETTER(created_at_ms, created_at_ms, 0)
I64_GETTER(updated_at_ms, updated_at_ms, 0)
I64_GETTER(logical_size_bytes, logical_size, -1)
I64_GETTER(compute_time_s, compute_time_seconds, -1)
I64_GETTER(active_time_s, active_time_seconds, -1)
I64_GETTER(written_data_bytes, written_data_bytes, -1)
I64_GETTER(data_transfer_bytes, data_transfer_bytes, -1)
I64_GETTER(ttl_interval_s, ttl_interval_seconds, -1)

NEONFLOW_API int32_t neonflow_branch_current_state(const neonflow_branch *b)
{
    return b ? b->current_state_code : NEONFLOW_BRANCH_STATE_UNKNOWN;
}

NEONFLOW_API int32_t neonflow_branch_pending_state(const neonflow_branch *b)
{
    return b ? b->pending_state_code : NEONFLOW_BRANCH_STATE_NONE;
}

NEONFLOW_API int32_t neonflow_branch_restore_status(const neonflow_branch *b)
{
    return b ? b->restore_status_code : NEONFLOW_RESTORE_STATUS_NONE;
}

NEONFLOW_API int neonflow_branch_is_default(const neonflow_branch *b)
{
    return b && b->is_default == 1;
}

NEONFLOW_API int neonflow_branch_has_default(const neonflow_branch *b)
{
    return b && b->is_default >= 0;
}

NEONFLOW_API int neonflow_branch_is_protected(const neonflow_branch *b)
{
    return b && b->is_protected == 1;
}

NEONFLOW_API int neonflow_branch_has_protected(const neonflow_branch *b)
{
    return b && b->is_protected >= 0;
}

NEONFLOW_API const char *neonflow_branch_json(const neonflow_branch *b)
{
    return b ? neonflow__json_text(b->obj, &((neonflow_branch *)b)->json) : NULL;
}

NEONFLOW_API size_t neonflow_branch_restricted_action_count(const neonflow_branch *b)
{
    return b && b->restricted ? json_array_size(b->restricted) : 0;
}

static const char *restricted_member(const neonflow_branch *b, size_t i, const char *key)
{
    if (!b || !b->restricted)
        return NULL;
    return json_string_value(json_object_get(json_array_get(b->restricted, i), key));
}

NEONFLOW_API const char *neonflow_branch_restricted_action_name_at(const neonflow_branch *b, size_t i)
{
    return restricted_member(b, i, "name");
}

NEONFLOW_API const char *neonflow_branch_restricted_action_reason_at(const neonflow_branch *b, size_t i)
{
    return restricted_member(b, i, "reason");
}

NEONFLOW_API int neonflow_branch_is_action_restricted(const neonflow_branch *b, const char *name)
{
    if (!name)
        return 0;
    size_t n = neonflow_branch_restricted_action_count(b);
    for (size_t i = 0; i < n; i++) {
        const char *s = restricted_member(b, i, "name");
        if (s && strcmp(s, name) == 0)
            return 1;
    }
    return 0;
}

void neonflow__branch_cleanup(void *item)
{
    neonflow__json_cache_free(&((struct neonflow_branch *)item)->json);
}

NEONFLOW_API void neonflow_branch_free(neonflow_branch *b)
{
    if (!b)
        return;
    neonflow__branch_cleanup(b);
    json_decref(b->own);
    neonflow__free(b);
}

int neonflow__branch_dup(const neonflow_branch *b, json_t *doc, neonflow_branch **out)
{
    neonflow_branch *copy = neonflow__malloc(sizeof(*copy));
    if (!copy)
        return NEONFLOW_ENOMEM;
    *copy = *b;
    neonflow__json_cache_reset(&copy->json);
    copy->own = json_incref(doc);
    *out = copy;
    return NEONFLOW_OK;
}

/* The copy holds a reference on the branch's own JSON object, which keeps
 * every string it borrows alive after the list (or result) is freed. */
NEONFLOW_API int neonflow_branch_dup(neonflow_branch **out, const neonflow_branch *b)
{
    if (out)
        *out = NULL;
    if (!out || !b)
        return NEONFLOW_EINVAL;
    return neonflow__branch_dup(b, (json_t *)b->obj, out);
}

/* ---- lists --------------------------------------------------------------------------- */
int neonflow__branch_list_new(neonflow_branch_list **out, neonflow_error **err)
{
    neonflow_branch_list *l = neonflow__malloc(sizeof(*l));
    if (!l)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    neonflow__vec_init(&l->v, sizeof(struct neonflow_branch), neonflow__branch_cleanup);
    l->next_cursor = NULL;
    *out = l;
    return NEONFLOW_OK;
}

NEONFLOW_API size_t neonflow_branch_list_count(const neonflow_branch_list *list)
{
    return list ? list->v.n : 0;
}

NEONFLOW_API const neonflow_branch *neonflow_branch_list_at(const neonflow_branch_list *list, size_t i)
{
    return list ? neonflow__vec_at(&list->v, i) : NULL;
}

NEONFLOW_API const char *neonflow_branch_list_next_cursor(const neonflow_branch_list *list)
{
    return list ? list->next_cursor : NULL;
}

NEONFLOW_API void neonflow_branch_list_free(neonflow_branch_list *list)
{
    if (!list)
        return;
    neonflow__vec_clear(&list->v);
    neonflow__free(list);
}

int neonflow__branch_list_append_page(neonflow_branch_list *list, json_t *root, const char **next_out,
                                      size_t *page_items_out, neonflow_error **err)
{
    *next_out = NULL;
    *page_items_out = 0;
    json_t *arr, *pag;
    int rc = neonflow__member(root, "branches", JSON_ARRAY, 1, "branches response", &arr, err);
    if (rc == NEONFLOW_OK)
        rc = neonflow__member(root, "pagination", JSON_OBJECT, 0, "branches response", &pag, err);
    if (rc != NEONFLOW_OK)
        return rc;
    size_t before = list->v.n;
    rc = neonflow__vec_parse_array(&list->v, root, arr, neonflow__branch_parse, "branches", err);
    if (rc != NEONFLOW_OK)
        return rc;
    *page_items_out = list->v.n - before;
    if (pag) {
        json_t *next = json_object_get(pag, "next");
        if (next && !json_is_null(next) && !json_is_string(next))
            return neonflow__error_set(err, NEONFLOW_EPROTOCOL,
                                       "malformed response: pagination.next is not a string");
        if (json_is_string(next) && json_string_length(next) > 0)
            *next_out = json_string_value(next);
    }
    return NEONFLOW_OK;
}

/* ---- results -------------------------------------------------------------------------- */
NEONFLOW_API const neonflow_branch *neonflow_branch_result_branch(const neonflow_branch_result *r)
{
    return r ? &r->branch : NULL;
}

NEONFLOW_API const neonflow_endpoint_list *neonflow_branch_result_endpoints(const neonflow_branch_result *r)
{
    return r ? &r->endpoints : NULL;
}

NEONFLOW_API const neonflow_operation_list *neonflow_branch_result_operations(const neonflow_branch_result *r)
{
    return r ? &r->operations : NULL;
}

NEONFLOW_API void neonflow_branch_result_free(neonflow_branch_result *r)
{
    if (!r)
        return;
    neonflow__vec_clear(&r->endpoints.v);
    neonflow__vec_clear(&r->operations.v);
    neonflow__branch_cleanup(&r->branch);
    json_decref(r->root);
    neonflow__free(r);
}

int neonflow__parse_branch_result_response(json_t *root, neonflow_branch_result **out, neonflow_error **err)
{
    *out = NULL;
    json_t *br, *eps, *ops;
    int rc = neonflow__member(root, "branch", JSON_OBJECT, 1, "branch response", &br, err);
    if (rc == NEONFLOW_OK)
        rc = neonflow__member(root, "endpoints", JSON_ARRAY, 0, "branch response", &eps, err);
    if (rc == NEONFLOW_OK)
        rc = neonflow__member(root, "operations", JSON_ARRAY, 1, "branch response", &ops, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow_branch_result *r = neonflow__calloc(1, sizeof(*r));
    if (!r)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    neonflow__endpoint_list_init(&r->endpoints);
    neonflow__operation_list_init(&r->operations);
    r->root = json_incref(root);
    rc = neonflow__branch_parse(br, &r->branch, "branch", err);
    if (rc == NEONFLOW_OK && eps)
        rc = neonflow__vec_parse_array(&r->endpoints.v, NULL, eps, neonflow__endpoint_parse, "endpoints", err);
    if (rc == NEONFLOW_OK)
        rc = neonflow__vec_parse_array(&r->operations.v, NULL, ops, neonflow__operation_parse, "operations", err);
    if (rc != NEONFLOW_OK) {
        neonflow_branch_result_free(r);
        return rc;
    }
    *out = r;
    return NEONFLOW_OK;
}

int neonflow__parse_branch_response(json_t *root, neonflow_branch **out, neonflow_operation_list **ops_out,
                                    neonflow_error **err)
{
    if (out)
        *out = NULL;
    if (ops_out)
        *ops_out = NULL;
    json_t *obj;
    int rc = neonflow__member(root, "branch", JSON_OBJECT, 1, "branch response", &obj, err);
    if (rc != NEONFLOW_OK)
        return rc;
    struct neonflow_branch tmp;
    rc = neonflow__branch_parse(obj, &tmp, "branch", err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow_operation_list *ops = NULL;
    if (ops_out && (rc = neonflow__parse_operations_response(root, 1, &ops, err)) != NEONFLOW_OK)
        return rc;
    if (out && neonflow__branch_dup(&tmp, root, out) != NEONFLOW_OK) {
        neonflow_operation_list_free(ops);
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    }
    neonflow__ops_hand_out(ops_out, ops); /* frees them when not wanted */
    return NEONFLOW_OK;
}
