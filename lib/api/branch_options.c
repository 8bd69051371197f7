/* The branch calls' option objects: list (search, sort, paging), create,
 * update and delete. */
#include <stdio.h>
#include <string.h>

#include "api-private.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/text.h"

#define NEONFLOW__BRANCH_LIMIT_MAX 10000 /* the spec's range; Neon caps a page at 100 */
#define NEONFLOW__CURSOR_MAX 1024

/* ---- options ------------------------------------------------------------------ */
NEONFLOW_API int neonflow_branches_list_options_new(neonflow_branches_list_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    return *out ? NEONFLOW_OK : NEONFLOW_ENOMEM;
}

NEONFLOW_API void neonflow_branches_list_options_free(neonflow_branches_list_options *o)
{
    if (!o)
        return;
    neonflow__free(o->search);
    neonflow__free(o->sort_by);
    neonflow__free(o->sort_order);
    neonflow__free(o->cursor);
    neonflow__free(o);
}

NEONFLOW_API int neonflow_branches_list_options_set_search(neonflow_branches_list_options *o, const char *search)
{
    return o ? neonflow__set_str(&o->search, search) : NEONFLOW_EINVAL;
}

NEONFLOW_API int neonflow_branches_list_options_set_sort_by(neonflow_branches_list_options *o, const char *sort_by)
{
    if (!o || (sort_by && !*sort_by))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->sort_by, sort_by);
}

NEONFLOW_API int neonflow_branches_list_options_set_sort_order(neonflow_branches_list_options *o, const char *sort_order)
{
    if (!o || (sort_order && !*sort_order))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->sort_order, sort_order);
}

NEONFLOW_API int neonflow_branches_list_options_set_limit(neonflow_branches_list_options *o, int32_t limit)
{
    if (!o || limit < 0 || limit > NEONFLOW__BRANCH_LIMIT_MAX)
        return NEONFLOW_EINVAL;
    o->limit = limit;
    return NEONFLOW_OK;
}

/* Cursors are opaque, but they travel in a URL and come from Neon: printable
 * ASCII of a sane length, so a corrupted value fails here, not at Neon. */
static int cursor_ok(const char *cursor)
{
    size_t n = strlen(cursor);
    if (n == 0 || n > NEONFLOW__CURSOR_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)cursor[i] < 0x21 || (unsigned char)cursor[i] > 0x7e)
            return 0;
    return 1;
}

NEONFLOW_API int neonflow_branches_list_options_set_cursor(neonflow_branches_list_options *o, const char *cursor)
{
    if (!o || (cursor && !cursor_ok(cursor)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->cursor, cursor);
}

NEONFLOW_API int neonflow_branch_create_options_new(neonflow_branch_create_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    if (!*out)
        return NEONFLOW_ENOMEM;
    (*out)->is_protected = -1;
    return NEONFLOW_OK;
}

NEONFLOW_API void neonflow_branch_create_options_free(neonflow_branch_create_options *o)
{
    if (!o)
        return;
    neonflow__free(o->parent_id);
    neonflow__free(o->name);
    neonflow__free(o->expires_at);
    neonflow__free(o);
}

NEONFLOW_API int neonflow_branch_create_options_set_parent_id(neonflow_branch_create_options *o, const char *parent_id)
{
    if (!o || (parent_id && !neonflow__id_valid(parent_id)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->parent_id, parent_id);
}

int neonflow__branch_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n >= 1 && n <= 256;
}

NEONFLOW_API int neonflow_branch_create_options_set_name(neonflow_branch_create_options *o, const char *name)
{
    if (!o || (name && !neonflow__branch_name_ok(name)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->name, name);
}

NEONFLOW_API int neonflow_branch_create_options_set_expires_at(neonflow_branch_create_options *o,
                                                               const char *expires_at)
{
    if (!o || (expires_at && !neonflow__is_rfc3339(expires_at)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->expires_at, expires_at);
}

NEONFLOW_API int neonflow_branch_create_options_set_with_rw_endpoint(neonflow_branch_create_options *o,
                                                                     int with_rw_endpoint)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->with_rw_endpoint = with_rw_endpoint ? 1 : 0;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_branch_create_options_set_protected(neonflow_branch_create_options *o, int is_protected)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->is_protected = is_protected ? 1 : 0;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_branch_update_options_new(neonflow_branch_update_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    if (!*out)
        return NEONFLOW_ENOMEM;
    (*out)->is_protected = -1;
    return NEONFLOW_OK;
}

NEONFLOW_API void neonflow_branch_update_options_free(neonflow_branch_update_options *o)
{
    if (!o)
        return;
    neonflow__free(o->name);
    neonflow__free(o->expires_at);
    neonflow__free(o);
}

NEONFLOW_API int neonflow_branch_update_options_set_name(neonflow_branch_update_options *o, const char *name)
{
    if (!o || !neonflow__branch_name_ok(name))
        return NEONFLOW_EINVAL;
    int rc = neonflow__set_str(&o->name, name);
    if (rc == NEONFLOW_OK)
        o->name_set = 1;
    return rc;
}

NEONFLOW_API int neonflow_branch_update_options_set_protected(neonflow_branch_update_options *o, int is_protected)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->is_protected = is_protected ? 1 : 0;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_branch_update_options_set_expires_at(neonflow_branch_update_options *o,
                                                               const char *expires_at)
{
    if (!o || (expires_at && !neonflow__is_rfc3339(expires_at)))
        return NEONFLOW_EINVAL;
    int rc = neonflow__set_str(&o->expires_at, expires_at);
    if (rc == NEONFLOW_OK)
        o->expires_set = 1;
    return rc;
}

NEONFLOW_API int neonflow_branch_delete_options_new(neonflow_branch_delete_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    if (!*out)
        return NEONFLOW_ENOMEM;
    (*out)->hard_delete = -1;
    return NEONFLOW_OK;
}

NEONFLOW_API void neonflow_branch_delete_options_free(neonflow_branch_delete_options *o)
{
    neonflow__free(o);
}

NEONFLOW_API int neonflow_branch_delete_options_set_hard_delete(neonflow_branch_delete_options *o, int hard_delete)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->hard_delete = hard_delete ? 1 : 0;
    return NEONFLOW_OK;
}
