/* Operation objects: parser, getters, lists. */
#include <stddef.h>
#include <string.h>

#include "api-private.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/names.h"

#define OP(f) offsetof(struct neonflow_operation, f)
/* Required: the IDs, the action (named in every message) and the status the
 * waits act on. Counters and times only refine reports: optional. */
static const neonflow__field op_fields[] = {
    {"id", NEONFLOW__F_STR, 1, OP(id), 0},
    {"project_id", NEONFLOW__F_STR, 1, OP(project_id), 0},
    {"branch_id", NEONFLOW__F_STR, 0, OP(branch_id), 0},
    {"endpoint_id", NEONFLOW__F_STR, 0, OP(endpoint_id), 0},
    {"action", NEONFLOW__F_STR, 1, OP(action), 0},
    {"status", NEONFLOW__F_STR, 1, OP(status), 0},
    {"error", NEONFLOW__F_STR, 0, OP(error), 0},
    {"failures_count", NEONFLOW__F_I32, 0, OP(failures_count), 0},
    {"retry_at", NEONFLOW__F_TIME, 0, OP(retry_at), OP(retry_at_ms)},
    {"created_at", NEONFLOW__F_TIME, 0, OP(created_at), OP(created_at_ms)},
    {"updated_at", NEONFLOW__F_TIME, 0, OP(updated_at), OP(updated_at_ms)},
    {"total_duration_ms", NEONFLOW__F_I64, 0, OP(total_duration_ms), 0},
};

static const char *const *const status_names = neonflow__operation_status_names;
static const char *const *const action_names = neonflow__operation_action_names;

int neonflow__operation_parse(const json_t *obj, void *item, const char *what, neonflow_error **err)
{
    struct neonflow_operation *op = item;
    memset(op, 0, sizeof(*op));
    int rc = neonflow__parse_fields(obj, op_fields, sizeof(op_fields) / sizeof(op_fields[0]), op, what, err);
    if (rc != NEONFLOW_OK)
        return rc;
    op->obj = obj;
    op->status_code = neonflow__enum_lookup(op->status, status_names, NEONFLOW_OP_STATUS_UNKNOWN);
    op->action_code = neonflow__enum_lookup(op->action, action_names, NEONFLOW_OP_ACTION_UNKNOWN);
    return NEONFLOW_OK;
}

/* ---- getters ------------------------------------------------------------- */
#define STR_GETTER(name, field)                                                  \
    NEONFLOW_API const char *neonflow_operation_##name(const neonflow_operation *op) \
    {                                                                            \
        return op ? op->field : NULL;                                            \
    }
STR_GETTER(id, id)
STR_GETTER(project_id, project_id)
STR_GETTER(branch_id, branch_id)
STR_GETTER(endpoint_id, endpoint_id)
STR_GETTER(action_raw, action)
STR_GETTER(status_raw, status)
STR_GETTER(error, error)
STR_GETTER(retry_at, retry_at)
STR_GETTER(created_at, created_at)
STR_GETTER(updated_at, updated_at)

NEONFLOW_API int32_t neonflow_operation_action(const neonflow_operation *op)
{
    return op ? op->action_code : NEONFLOW_OP_ACTION_UNKNOWN;
}

NEONFLOW_API int32_t neonflow_operation_status(const neonflow_operation *op)
{
    return op ? op->status_code : NEONFLOW_OP_STATUS_UNKNOWN;
}

NEONFLOW_API int32_t neonflow_operation_failures_count(const neonflow_operation *op)
{
    return op ? op->failures_count : -1;
}

NEONFLOW_API int64_t neonflow_operation_created_at_ms(const neonflow_operation *op)
{
    return op ? op->created_at_ms : 0;
}

NEONFLOW_API int64_t neonflow_operation_total_duration_ms(const neonflow_operation *op)
{
    return op ? op->total_duration_ms : -1;
}

NEONFLOW_API int neonflow_operation_is_done(const neonflow_operation *op)
{
    if (!op)
        return 0;
    switch (op->status_code) {
    case NEONFLOW_OP_STATUS_FINISHED:
    case NEONFLOW_OP_STATUS_SKIPPED:
    case NEONFLOW_OP_STATUS_ERROR:
    case NEONFLOW_OP_STATUS_CANCELLED:
        return 1;
    default:
        return 0;
    }
}

NEONFLOW_API const char *neonflow_operation_json(const neonflow_operation *op)
{
    return op ? neonflow__json_text(op->obj, &((neonflow_operation *)op)->json) : NULL;
}

void neonflow__operation_cleanup(void *item)
{
    neonflow__json_cache_free(&((struct neonflow_operation *)item)->json);
}

void neonflow__operation_copy(struct neonflow_operation *dst, const struct neonflow_operation *src)
{
    *dst = *src;
    dst->own = NULL;
    neonflow__json_cache_reset(&dst->json);
}

NEONFLOW_API void neonflow_operation_free(neonflow_operation *op)
{
    if (!op)
        return;
    neonflow__operation_cleanup(op);
    json_decref(op->own);
    neonflow__free(op);
}

int neonflow__operation_dup(const neonflow_operation *op, json_t *doc, neonflow_operation **out)
{
    neonflow_operation *copy = neonflow__malloc(sizeof(*copy));
    if (!copy)
        return NEONFLOW_ENOMEM;
    neonflow__operation_copy(copy, op);
    copy->own = json_incref(doc);
    *out = copy;
    return NEONFLOW_OK;
}

/* A reference on the operation's own JSON object keeps its strings alive. */
NEONFLOW_API int neonflow_operation_dup(neonflow_operation **out, const neonflow_operation *op)
{
    if (out)
        *out = NULL;
    if (!out || !op)
        return NEONFLOW_EINVAL;
    return neonflow__operation_dup(op, (json_t *)op->obj, out);
}

/* ---- lists ------------------------------------------------------------------ */
void neonflow__operation_list_init(neonflow_operation_list *l)
{
    neonflow__vec_init(&l->v, sizeof(struct neonflow_operation), neonflow__operation_cleanup);
    l->next_cursor = NULL;
}

int neonflow__operation_list_new(neonflow_operation_list **out, neonflow_error **err)
{
    neonflow_operation_list *l = neonflow__malloc(sizeof(*l));
    if (!l)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    neonflow__operation_list_init(l);
    *out = l;
    return NEONFLOW_OK;
}

int neonflow__operation_list_append(neonflow_operation_list *l, const neonflow_operation *op)
{
    if (op->own && neonflow__vec_hold(&l->v, op->own) != NEONFLOW_OK)
        return NEONFLOW_ENOMEM;
    struct neonflow_operation *it = neonflow__vec_push(&l->v);
    if (!it)
        return NEONFLOW_ENOMEM;
    neonflow__operation_copy(it, op);
    return NEONFLOW_OK;
}

NEONFLOW_API size_t neonflow_operation_list_count(const neonflow_operation_list *list)
{
    return list ? list->v.n : 0;
}

NEONFLOW_API const neonflow_operation *neonflow_operation_list_at(const neonflow_operation_list *list, size_t i)
{
    return list ? neonflow__vec_at(&list->v, i) : NULL;
}

NEONFLOW_API const char *neonflow_operation_list_next_cursor(const neonflow_operation_list *list)
{
    return list ? list->next_cursor : NULL;
}

NEONFLOW_API void neonflow_operation_list_free(neonflow_operation_list *list)
{
    if (!list)
        return;
    neonflow__vec_clear(&list->v);
    neonflow__free(list);
}

/* ---- response parsers --------------------------------------------------------- */
int neonflow__parse_operation_response(json_t *root, neonflow_operation **out, neonflow_error **err)
{
    *out = NULL;
    json_t *obj;
    int rc = neonflow__member(root, "operation", JSON_OBJECT, 1, "operation response", &obj, err);
    if (rc != NEONFLOW_OK)
        return rc;
    struct neonflow_operation tmp;
    rc = neonflow__operation_parse(obj, &tmp, "operation", err);
    if (rc != NEONFLOW_OK)
        return rc;
    if (neonflow__operation_dup(&tmp, root, out) != NEONFLOW_OK)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    return NEONFLOW_OK;
}

int neonflow__parse_operations_response(json_t *root, int ops_required, neonflow_operation_list **out,
                                        neonflow_error **err)
{
    *out = NULL;
    json_t *arr, *pag;
    int rc = neonflow__member(root, "operations", JSON_ARRAY, ops_required, "operations response", &arr, err);
    if (rc == NEONFLOW_OK)
        rc = neonflow__member(root, "pagination", JSON_OBJECT, 0, "operations response", &pag, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow_operation_list *l = NULL;
    if ((rc = neonflow__operation_list_new(&l, err)) != NEONFLOW_OK)
        return rc;
    if (arr)
        rc = neonflow__vec_parse_array(&l->v, root, arr, neonflow__operation_parse, "operations", err);
    if (rc == NEONFLOW_OK && pag) {
        json_t *cur = json_object_get(pag, "cursor");
        if (cur && !json_is_null(cur) && !json_is_string(cur))
            rc = neonflow__error_set(err, NEONFLOW_EPROTOCOL,
                                     "malformed response: pagination.cursor is not a string");
        else if (json_is_string(cur) && json_string_length(cur) > 0)
            l->next_cursor = json_string_value(cur);
        if (rc == NEONFLOW_OK && neonflow__vec_hold(&l->v, root) != NEONFLOW_OK)
            rc = neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    }
    if (rc != NEONFLOW_OK) {
        neonflow_operation_list_free(l);
        return rc;
    }
    *out = l;
    return NEONFLOW_OK;
}
