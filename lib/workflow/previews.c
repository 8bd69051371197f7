/* Preview environments: labels and names, the preview object and its list,
 * and the options objects. The calls are in preview_create.c and
 * previews_list.c. */
#include <stdio.h>
#include <string.h>

#include "api/json-util.h"
#include "core/alloc.h"
#include "previews-private.h"

static int label_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
}

/* Only label characters, at most the label's length (a prefix of a label). */
static int label_prefix_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= NEONFLOW_PREVIEW_LABEL_MAX || !label_char(s[n]))
            return 0;
    return 1;
}

NEONFLOW_API int neonflow_preview_label_valid(const char *label)
{
    if (!label || !*label || !label_prefix_ok(label) || label[0] == '-' || label[0] == '_' || label[0] == '.')
        return 0;
    return strcmp(label, "lease") != 0;
}

int neonflow__preview_name_parse(const char *name, char label_out[NEONFLOW_PREVIEW_LABEL_MAX + 1])
{
    if (!name || strncmp(name, NEONFLOW_PREVIEW_PREFIX, NEONFLOW__PREVIEW_PREFIX_LEN) != 0)
        return 0;
    const char *label = name + NEONFLOW__PREVIEW_PREFIX_LEN;
    if (!neonflow_preview_label_valid(label))
        return 0;
    if (label_out)
        snprintf(label_out, NEONFLOW_PREVIEW_LABEL_MAX + 1, "%s", label);
    return 1;
}

int neonflow__preview_label_of(const char *label_or_name, char label_out[NEONFLOW_PREVIEW_LABEL_MAX + 1])
{
    if (neonflow__preview_name_parse(label_or_name, label_out))
        return 1;
    if (!neonflow_preview_label_valid(label_or_name))
        return 0;
    snprintf(label_out, NEONFLOW_PREVIEW_LABEL_MAX + 1, "%s", label_or_name);
    return 1;
}

/* ---- the preview ------------------------------------------------------------ */
neonflow_preview *neonflow__preview_new(const neonflow_branch *b, const neonflow_endpoint *ep)
{
    neonflow_preview *p = neonflow__calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    if (neonflow_branch_dup(&p->branch, b) != NEONFLOW_OK || (ep && neonflow_endpoint_dup(&p->ep, ep) != NEONFLOW_OK)) {
        neonflow_preview_free(p);
        return NULL;
    }
    snprintf(p->name, sizeof(p->name), "%s", neonflow_branch_name(b));
    if (!neonflow__preview_name_parse(p->name, p->label))
        p->label[0] = '\0';
    return p;
}

NEONFLOW_API void neonflow_preview_free(neonflow_preview *p)
{
    if (!p)
        return;
    neonflow_branch_free(p->branch);
    neonflow_endpoint_free(p->ep);
    if (p->uri) {
        memset(p->uri, 0, strlen(p->uri)); /* it holds a password */
        neonflow__free(p->uri);
    }
    neonflow__free(p);
}

NEONFLOW_API const char *neonflow_preview_label(const neonflow_preview *p) { return p ? p->label : NULL; }
NEONFLOW_API const char *neonflow_preview_name(const neonflow_preview *p) { return p ? p->name : NULL; }
NEONFLOW_API const char *neonflow_preview_branch_id(const neonflow_preview *p)
{
    return p ? neonflow_branch_id(p->branch) : NULL;
}
NEONFLOW_API const char *neonflow_preview_parent_id(const neonflow_preview *p)
{
    return p ? neonflow_branch_parent_id(p->branch) : NULL;
}
NEONFLOW_API const neonflow_branch *neonflow_preview_branch(const neonflow_preview *p) { return p ? p->branch : NULL; }
NEONFLOW_API const neonflow_endpoint *neonflow_preview_endpoint(const neonflow_preview *p) { return p ? p->ep : NULL; }
NEONFLOW_API const char *neonflow_preview_endpoint_id(const neonflow_preview *p)
{
    return p && p->ep ? neonflow_endpoint_id(p->ep) : NULL;
}
NEONFLOW_API const char *neonflow_preview_host(const neonflow_preview *p)
{
    return p && p->ep ? neonflow_endpoint_host(p->ep) : NULL;
}
NEONFLOW_API const char *neonflow_preview_created_at(const neonflow_preview *p)
{
    return p ? neonflow_branch_created_at(p->branch) : NULL;
}
NEONFLOW_API int64_t neonflow_preview_created_at_ms(const neonflow_preview *p)
{
    return p ? neonflow_branch_created_at_ms(p->branch) : 0;
}
NEONFLOW_API const char *neonflow_preview_expires_at(const neonflow_preview *p)
{
    return p ? neonflow_branch_expires_at(p->branch) : NULL;
}
NEONFLOW_API int64_t neonflow_preview_expires_at_ms(const neonflow_preview *p)
{
    int64_t ms;
    const char *s = neonflow_preview_expires_at(p);
    return s && neonflow__rfc3339_ms(s, &ms) == 0 ? ms : 0;
}

NEONFLOW_API int64_t neonflow_preview_last_activity_ms(const neonflow_preview *p)
{
    if (!p)
        return 0;
    int64_t best = 0;
    if (p->ep) {
        best = p->ep->last_active_ms > p->ep->started_at_ms ? p->ep->last_active_ms : p->ep->started_at_ms;
        if (best <= 0)
            best = p->ep->created_at_ms;
    }
    return best > 0 ? best : neonflow_branch_created_at_ms(p->branch);
}

NEONFLOW_API const char *neonflow_preview_connection_uri(const neonflow_preview *p) { return p ? p->uri : NULL; }
NEONFLOW_API const char *neonflow_preview_prune_reason(const neonflow_preview *p) { return p ? p->reason : NULL; }

/* ---- lists ------------------------------------------------------------------- */
int neonflow__preview_list_push(neonflow_preview_list *l, neonflow_preview *p)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        neonflow_preview **v = neonflow__realloc(l->v, cap * sizeof(*v));
        if (!v) {
            neonflow_preview_free(p);
            return NEONFLOW_ENOMEM;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = p;
    return NEONFLOW_OK;
}

NEONFLOW_API size_t neonflow_preview_list_count(const neonflow_preview_list *list) { return list ? list->n : 0; }
NEONFLOW_API const neonflow_preview *neonflow_preview_list_at(const neonflow_preview_list *list, size_t i)
{
    return list && i < list->n ? list->v[i] : NULL;
}
NEONFLOW_API void neonflow_preview_list_free(neonflow_preview_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n; i++)
        neonflow_preview_free(list->v[i]);
    neonflow__free(list->v);
    neonflow__free(list);
}

const neonflow_endpoint *neonflow__rw_endpoint_in(const neonflow_endpoint_list *l, const char *branch_id)
{
    for (size_t i = 0; i < neonflow_endpoint_list_count(l); i++) {
        const neonflow_endpoint *e = neonflow_endpoint_list_at(l, i);
        if (neonflow_endpoint_type(e) == NEONFLOW_ENDPOINT_TYPE_READ_WRITE &&
            strcmp(neonflow_endpoint_branch_id(e), branch_id) == 0)
            return e;
    }
    return NULL;
}

int neonflow__preview_await(neonflow_client *c, neonflow__call_ctx *ctx, const char *project_id,
                            const neonflow_operation_list *ops, neonflow_error **err)
{
    if (neonflow_operation_list_count(ops) == 0)
        return NEONFLOW_OK;
    return neonflow__operations_await_ctx(NULL, c, ctx, project_id, ops, NULL, 0, NULL, NULL, NULL, err);
}

/* ---- options ---------------------------------------------------------------------- */

NEONFLOW_API int neonflow_preview_create_options_new(neonflow_preview_create_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    return *out ? NEONFLOW_OK : NEONFLOW_ENOMEM;
}

NEONFLOW_API void neonflow_preview_create_options_free(neonflow_preview_create_options *o)
{
    if (!o)
        return;
    neonflow__free(o->label);
    neonflow__free(o->parent);
    neonflow__free(o->expires_at);
    neonflow__free(o);
}

NEONFLOW_API int neonflow_preview_create_options_set_label(neonflow_preview_create_options *o, const char *label)
{
    if (!o || (label && !neonflow_preview_label_valid(label)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->label, label);
}

NEONFLOW_API int neonflow_preview_create_options_set_parent(neonflow_preview_create_options *o, const char *parent)
{
    if (!o || (parent && (!*parent || strlen(parent) > 256)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->parent, parent);
}

NEONFLOW_API int neonflow_preview_create_options_set_ttl_s(neonflow_preview_create_options *o, int64_t ttl_s)
{
    if (!o || ttl_s < 0 || ttl_s > 31536000)
        return NEONFLOW_EINVAL;
    o->ttl_s = ttl_s;
    if (ttl_s)
        neonflow__set_str(&o->expires_at, NULL);
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_preview_create_options_set_expires_at(neonflow_preview_create_options *o,
                                                                const char *expires_at)
{
    if (!o || (expires_at && !neonflow__is_rfc3339(expires_at)))
        return NEONFLOW_EINVAL;
    int rc = neonflow__set_str(&o->expires_at, expires_at);
    if (rc == NEONFLOW_OK && expires_at)
        o->ttl_s = 0;
    return rc;
}

NEONFLOW_API int neonflow_preview_create_options_set_endpoint_options(neonflow_preview_create_options *o,
                                                                      const neonflow_endpoint_create_options *ep)
{
    if (!o || (ep && ep->type != NEONFLOW_ENDPOINT_TYPE_READ_WRITE))
        return NEONFLOW_EINVAL;
    o->ep = ep;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_preview_create_options_set_connection_uri(neonflow_preview_create_options *o, int enable)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->want_uri = enable ? 1 : 0;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_previews_list_options_new(neonflow_previews_list_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    return *out ? NEONFLOW_OK : NEONFLOW_ENOMEM;
}

NEONFLOW_API void neonflow_previews_list_options_free(neonflow_previews_list_options *o)
{
    if (!o)
        return;
    neonflow__free(o->label_prefix);
    neonflow__free(o);
}

NEONFLOW_API int neonflow_previews_list_options_set_label_prefix(neonflow_previews_list_options *o,
                                                                 const char *prefix)
{
    if (!o || (prefix && !label_prefix_ok(prefix)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->label_prefix, prefix && *prefix ? prefix : NULL);
}

NEONFLOW_API int neonflow_preview_delete_options_new(neonflow_preview_delete_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    if (!*out)
        return NEONFLOW_ENOMEM;
    (*out)->missing_ok = 1;
    return NEONFLOW_OK;
}

NEONFLOW_API void neonflow_preview_delete_options_free(neonflow_preview_delete_options *o)
{
    neonflow__free(o);
}

NEONFLOW_API int neonflow_preview_delete_options_set_missing_ok(neonflow_preview_delete_options *o, int missing_ok)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->missing_ok = missing_ok ? 1 : 0;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_previews_prune_options_new(neonflow_previews_prune_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    if (!*out)
        return NEONFLOW_ENOMEM;
    (*out)->keep = -1;
    return NEONFLOW_OK;
}

NEONFLOW_API void neonflow_previews_prune_options_free(neonflow_previews_prune_options *o)
{
    neonflow__free(o);
}

NEONFLOW_API int neonflow_previews_prune_options_set_expired(neonflow_previews_prune_options *o, int enable)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->expired = enable ? 1 : 0;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_previews_prune_options_set_unused_s(neonflow_previews_prune_options *o, int64_t seconds)
{
    if (!o || seconds < 0)
        return NEONFLOW_EINVAL;
    o->unused_s = seconds;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_previews_prune_options_set_keep_newest(neonflow_previews_prune_options *o, int32_t n)
{
    if (!o || n < -1)
        return NEONFLOW_EINVAL;
    o->keep = n;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_previews_prune_options_set_dry_run(neonflow_previews_prune_options *o, int dry_run)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->dry_run = dry_run ? 1 : 0;
    return NEONFLOW_OK;
}
