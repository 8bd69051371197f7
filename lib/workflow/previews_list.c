/* neonflow_previews_list and neonflow_previews_prune. Listing asks Neon only
 * for branches whose name contains the preview prefix (`search`), so its
 * cost follows the number of previews, not the size of the project. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/scrub.h"
#include "previews-private.h"

/* Newest first; ties by name so the order is total. */
static int newest_first(const void *a, const void *b)
{
    const neonflow_preview *x = *(const neonflow_preview *const *)a, *y = *(const neonflow_preview *const *)b;
    int64_t tx = neonflow_preview_created_at_ms(x), ty = neonflow_preview_created_at_ms(y);
    if (tx != ty)
        return tx < ty ? 1 : -1;
    return strcmp(x->name, y->name);
}

int neonflow__previews_list_ctx(neonflow_preview_list **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                const char *pid, const char *label_prefix, neonflow_error **err)
{
    char search[NEONFLOW__PREVIEW_NAME_MAX + 1];
    snprintf(search, sizeof(search), "%s%s", NEONFLOW_PREVIEW_PREFIX, label_prefix ? label_prefix : "");
    neonflow_branches_list_options *lo = NULL;
    neonflow_branch_list *bl = NULL;
    neonflow_endpoint_list *el = NULL;
    neonflow_preview_list *l = neonflow__calloc(1, sizeof(*l));
    int rc = l ? neonflow_branches_list_options_new(&lo) : NEONFLOW_ENOMEM;
    if (rc == NEONFLOW_OK)
        rc = neonflow_branches_list_options_set_search(lo, search);
    if (rc != NEONFLOW_OK) {
        rc = neonflow__error_set(err, rc, "out of memory");
        goto done;
    }
    if ((rc = neonflow__branches_list_ctx(&bl, c, ctx, pid, lo, err)) != NEONFLOW_OK)
        goto done;
    size_t n = 0;
    for (size_t i = 0; i < neonflow_branch_list_count(bl); i++) {
        const char *name = neonflow_branch_name(neonflow_branch_list_at(bl, i));
        n += neonflow__preview_name_parse(name, NULL) && strncmp(name, search, strlen(search)) == 0;
    }
    /* one list of the project's endpoints for all previews (none needed without previews) */
    if (n && (rc = neonflow__endpoints_list_ctx(&el, c, ctx, pid, NULL, err)) != NEONFLOW_OK)
        goto done;
    for (size_t i = 0; i < neonflow_branch_list_count(bl) && rc == NEONFLOW_OK; i++) {
        const neonflow_branch *b = neonflow_branch_list_at(bl, i);
        const char *name = neonflow_branch_name(b);
        if (!neonflow__preview_name_parse(name, NULL) || strncmp(name, search, strlen(search)) != 0)
            continue; /* Neon's search matches anywhere in the name or ID */
        neonflow_preview *p = neonflow__preview_new(b, neonflow__rw_endpoint_in(el, neonflow_branch_id(b)));
        if (!p || neonflow__preview_list_push(l, p) != NEONFLOW_OK)
            rc = neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    }
    if (rc == NEONFLOW_OK && l->n > 1)
        qsort(l->v, l->n, sizeof(*l->v), newest_first);
done:
    neonflow_branches_list_options_free(lo);
    neonflow_branch_list_free(bl);
    neonflow_endpoint_list_free(el);
    if (rc != NEONFLOW_OK) {
        neonflow_preview_list_free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}

NEONFLOW_API int neonflow_previews_list(neonflow_preview_list **out, neonflow_client *client,
                                        const char *project_id, const neonflow_previews_list_options *opts,
                                        const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    if (out)
        *out = NULL;
    if (!out || !client)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "out and client must not be NULL");
    int rc = neonflow__id_check("project_id", project_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    rc = neonflow__previews_list_ctx(out, client, ctx, project_id, opts ? opts->label_prefix : NULL, err);
    return neonflow__client_errors(client, rc, err);
}

/* ---- prune -------------------------------------------------------------------------- */
/* Why the policy deletes p (static string), or NULL to keep it. rank: 0 for the newest. */
static const char *prune_reason(const neonflow_previews_prune_options *o, const neonflow_preview *p, size_t rank,
                                int64_t now_ms)
{
    int expired = o ? o->expired : 1;
    int64_t unused_s = o ? o->unused_s : 0;
    int32_t keep = o ? o->keep : -1;
    if (o && !o->expired && !unused_s && keep < 0)
        expired = 1; /* no policy: expired only */
    int64_t exp = neonflow_preview_expires_at_ms(p);
    if (expired && exp > 0 && exp <= now_ms)
        return "expired";
    int64_t act = neonflow_preview_last_activity_ms(p);
    if (unused_s > 0 && act > 0 && now_ms - act >= unused_s * 1000)
        return "unused";
    if (keep >= 0 && rank >= (size_t)keep)
        return "over-keep";
    return NULL;
}

NEONFLOW_API int neonflow_previews_prune(neonflow_preview_list **out, neonflow_client *client,
                                        const char *project_id, const neonflow_previews_prune_options *opts,
                                        const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    if (out)
        *out = NULL;
    if (!out || !client)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "out and client must not be NULL");
    int rc = neonflow__id_check("project_id", project_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    neonflow_preview_list *all = NULL, *chosen = neonflow__calloc(1, sizeof(*chosen));
    if (!chosen)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    rc = neonflow__previews_list_ctx(&all, client, ctx, project_id, NULL, err);
    if (rc != NEONFLOW_OK) {
        neonflow_preview_list_free(chosen);
        return neonflow__client_errors(client, rc, err);
    }
    const neonflow__sys *sys = neonflow__client_sys(client);
    int64_t now = sys->wall_ms(sys->ctx);
    for (size_t i = 0; i < all->n && rc == NEONFLOW_OK; i++) {
        neonflow_preview *p = all->v[i];
        if (!(p->reason = prune_reason(opts, p, i, now)))
            continue;
        if (!(opts && opts->dry_run)) {
            int gone = 0;
            rc = neonflow__preview_delete_ctx(client, ctx, project_id, p->name, neonflow_preview_branch_id(p), &gone,
                                              err);
            if (rc != NEONFLOW_OK)
                break;
        }
        all->v[i] = NULL; /* moved to chosen */
        rc = neonflow__preview_list_push(chosen, p);
        if (rc != NEONFLOW_OK)
            neonflow__error_set(err, rc, "out of memory");
    }
    for (size_t i = 0; i < all->n; i++)
        neonflow_preview_free(all->v[i]);
    all->n = 0;
    neonflow_preview_list_free(all);
    *out = chosen;
    return neonflow__client_errors(client, rc, err);
}
