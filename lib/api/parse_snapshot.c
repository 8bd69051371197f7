/* Snapshot objects: parser, getters, lists. */
#include <stddef.h>
#include <string.h>

#include "api-private.h"
#include "core/alloc.h"
#include "core/error.h"

#define SN(f) offsetof(struct neonflow_snapshot, f)
/* All three required fields are ones the library acts on: snapshots are
 * found by ID or name and ordered by created_at. */
static const neonflow__field snap_fields[] = {
    {"id", NEONFLOW__F_STR, 1, SN(id), 0},
    {"name", NEONFLOW__F_STR, 1, SN(name), 0},
    {"slug", NEONFLOW__F_STR, 0, SN(slug), 0},
    {"lsn", NEONFLOW__F_STR, 0, SN(lsn), 0},
    {"timestamp", NEONFLOW__F_TIME, 0, SN(timestamp), SN(timestamp_ms)},
    {"source_branch_id", NEONFLOW__F_STR, 0, SN(source_branch_id), 0},
    {"created_at", NEONFLOW__F_TIME, 1, SN(created_at), SN(created_at_ms)},
    {"expires_at", NEONFLOW__F_TIME, 0, SN(expires_at), SN(expires_at_ms)},
    {"manual", NEONFLOW__F_BOOL, 0, SN(manual), 0},
    {"full_size", NEONFLOW__F_I64, 0, SN(full_size), 0},
    {"diff_size", NEONFLOW__F_I64, 0, SN(diff_size), 0},
};

int neonflow__snapshot_parse(const json_t *obj, void *item, const char *what, neonflow_error **err)
{
    struct neonflow_snapshot *s = item;
    memset(s, 0, sizeof(*s));
    int rc = neonflow__parse_fields(obj, snap_fields, sizeof(snap_fields) / sizeof(snap_fields[0]), s, what, err);
    if (rc == NEONFLOW_OK)
        s->obj = obj;
    return rc;
}

#define STR_GETTER(name, field)                                                 \
    NEONFLOW_API const char *neonflow_snapshot_##name(const neonflow_snapshot *s) \
    {                                                                           \
        return s ? s->field : NULL;                                             \
    }
#define I64_GETTER(name, field, dflt)                                       \
    NEONFLOW_API int64_t neonflow_snapshot_##name(const neonflow_snapshot *s) \
    {                                                                       \
        return s ? s->field : (dflt);                                       \
    }
STR_GETTER(id, id)
STR_GETTER(name, name)
STR_GETTER(slug, slug)
STR_GETTER(lsn, lsn)
STR_GETTER(timestamp, timestamp)
STR_GETTER(source_branch_id, source_branch_id)
STR_GETTER(created_at, created_at)
STR_GETTER(expires_at, expires_at)
I64_GETTER(timestamp_ms, timestamp_ms, 0)
I64_GETTER(created_at_ms, created_at_ms, 0)
I64_GETTER(full_size_bytes, full_size, -1)
I64_GETTER(diff_size_bytes, diff_size, -1)

NEONFLOW_API int neonflow_snapshot_is_manual(const neonflow_snapshot *s)
{
    return s && s->manual == 1;
}

NEONFLOW_API int neonflow_snapshot_has_manual(const neonflow_snapshot *s)
{
    return s && s->manual >= 0;
}

NEONFLOW_API const char *neonflow_snapshot_json(const neonflow_snapshot *s)
{
    return s ? neonflow__json_text(s->obj, &((neonflow_snapshot *)s)->json) : NULL;
}

void neonflow__snapshot_cleanup(void *item)
{
    neonflow__json_cache_free(&((struct neonflow_snapshot *)item)->json);
}

NEONFLOW_API void neonflow_snapshot_free(neonflow_snapshot *s)
{
    if (!s)
        return;
    neonflow__snapshot_cleanup(s);
    json_decref(s->own);
    neonflow__free(s);
}

int neonflow__snapshot_dup(const neonflow_snapshot *s, json_t *doc, neonflow_snapshot **out)
{
    neonflow_snapshot *copy = neonflow__malloc(sizeof(*copy));
    if (!copy)
        return NEONFLOW_ENOMEM;
    *copy = *s;
    neonflow__json_cache_reset(&copy->json);
    copy->own = json_incref(doc);
    *out = copy;
    return NEONFLOW_OK;
}

/* A reference on the snapshot's own JSON object keeps its strings alive. */
NEONFLOW_API int neonflow_snapshot_dup(neonflow_snapshot **out, const neonflow_snapshot *s)
{
    if (out)
        *out = NULL;
    if (!out || !s)
        return NEONFLOW_EINVAL;
    return neonflow__snapshot_dup(s, (json_t *)s->obj, out);
}

NEONFLOW_API size_t neonflow_snapshot_list_count(const neonflow_snapshot_list *list)
{
    return list ? list->v.n : 0;
}

NEONFLOW_API const neonflow_snapshot *neonflow_snapshot_list_at(const neonflow_snapshot_list *list, size_t i)
{
    return list ? neonflow__vec_at(&list->v, i) : NULL;
}

NEONFLOW_API void neonflow_snapshot_list_free(neonflow_snapshot_list *list)
{
    if (!list)
        return;
    neonflow__vec_clear(&list->v);
    neonflow__free(list);
}

int neonflow__parse_snapshots_response(json_t *root, neonflow_snapshot_list **out, neonflow_error **err)
{
    *out = NULL;
    json_t *arr;
    int rc = neonflow__member(root, "snapshots", JSON_ARRAY, 1, "snapshots response", &arr, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow_snapshot_list *l = neonflow__malloc(sizeof(*l));
    if (!l)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    neonflow__vec_init(&l->v, sizeof(struct neonflow_snapshot), neonflow__snapshot_cleanup);
    rc = neonflow__vec_parse_array(&l->v, root, arr, neonflow__snapshot_parse, "snapshots", err);
    if (rc != NEONFLOW_OK) {
        neonflow_snapshot_list_free(l);
        return rc;
    }
    *out = l;
    return NEONFLOW_OK;
}

int neonflow__parse_snapshot_response(json_t *root, neonflow_snapshot **out, neonflow_operation_list **ops_out,
                                      neonflow_error **err)
{
    if (out)
        *out = NULL;
    if (ops_out)
        *ops_out = NULL;
    json_t *obj;
    int rc = neonflow__member(root, "snapshot", JSON_OBJECT, 1, "snapshot response", &obj, err);
    if (rc != NEONFLOW_OK)
        return rc;
    struct neonflow_snapshot tmp;
    if ((rc = neonflow__snapshot_parse(obj, &tmp, "snapshot", err)) != NEONFLOW_OK)
        return rc;
    neonflow_operation_list *ops = NULL;
    if (ops_out && (rc = neonflow__parse_operations_response(root, 1, &ops, err)) != NEONFLOW_OK)
        return rc;
    if (out && neonflow__snapshot_dup(&tmp, root, out) != NEONFLOW_OK) {
        neonflow_operation_list_free(ops);
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    }
    neonflow__ops_hand_out(ops_out, ops); /* frees them when not wanted */
    return NEONFLOW_OK;
}
