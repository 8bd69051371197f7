/* neonflow_preview_create and neonflow_preview_delete. Every step reads
 * Neon's state first, so a call repeated after a crash, a lost answer or a
 * concurrent create of the same label continues instead of duplicating. */
#include <stdio.h>
#include <string.h>

#include "core/scrub.h"
#include "core/text.h"
#include "previews-private.h"
#include "workflow-private.h"

/* Keeps *e in err when rc is a failure (and err has none yet), else drops it. */
static int settle(neonflow_error **err, neonflow_error **e, int rc)
{
    if (rc != NEONFLOW_OK && err && !*err) {
        *err = *e;
        *e = NULL;
    }
    neonflow_error_free(*e);
    *e = NULL;
    return rc;
}

/* The branch named `name`, or NULL (*out) when there is none. */
static int find_by_name(neonflow_branch **out, neonflow_client *c, neonflow__call_ctx *ctx, const char *pid,
                        const char *name, neonflow_error **err)
{
    neonflow_error *e = NULL;
    int rc = neonflow__branch_find_by_name_ctx(out, c, ctx, pid, name, &e);
    if (rc == NEONFLOW_ENOTFOUND)
        rc = NEONFLOW_OK;
    return settle(err, &e, rc);
}

/* The parent by ID ("br-...") first, then by exact name. */
static int resolve_parent(neonflow_branch **out, neonflow_client *c, neonflow__call_ctx *ctx, const char *pid,
                          const char *ref, neonflow_error **err)
{
    *out = NULL;
    if (strncmp(ref, "br-", 3) == 0 && neonflow__id_valid(ref)) {
        neonflow_error *e = NULL;
        int rc = neonflow__branch_get_ctx(out, c, ctx, pid, ref, &e);
        if (rc != NEONFLOW_ENOTFOUND)
            return settle(err, &e, rc);
        neonflow_error_free(e);
    }
    int rc = find_by_name(out, c, ctx, pid, ref, err);
    if (rc == NEONFLOW_OK && !*out) {
        char shown[300];
        rc = neonflow__error_set(err, NEONFLOW_EBRANCH_MISSING,
                                 "the preview's parent \"%s\" is no branch of project %s (give it by name or ID)",
                                 neonflow__echo(shown, sizeof(shown), ref), pid);
    }
    return rc;
}

static int new_branch(neonflow_branch **out, neonflow_client *c, neonflow__call_ctx *ctx, const char *pid,
                      const char *name, const char *parent_id, const neonflow_preview_create_options *o,
                      neonflow_error **err)
{
    char when[64] = "";
    if (o->ttl_s > 0) {
        const neonflow__sys *sys = neonflow__client_sys(c);
        neonflow__rfc3339_format(sys->wall_ms(sys->ctx) + o->ttl_s * 1000, when, sizeof(when));
    }
    neonflow_branch_create_options *bo = NULL;
    int rc = neonflow_branch_create_options_new(&bo);
    if (rc == NEONFLOW_OK)
        rc = neonflow_branch_create_options_set_name(bo, name);
    if (rc == NEONFLOW_OK)
        rc = neonflow_branch_create_options_set_parent_id(bo, parent_id);
    if (rc == NEONFLOW_OK && (when[0] || o->expires_at))
        rc = neonflow_branch_create_options_set_expires_at(bo, when[0] ? when : o->expires_at);
    if (rc != NEONFLOW_OK) {
        neonflow_branch_create_options_free(bo);
        return neonflow__error_set(err, rc, rc == NEONFLOW_ENOMEM ? "out of memory" : "invalid preview options");
    }
    neonflow_branch_result *res = NULL;
    neonflow_error *e = NULL;
    rc = neonflow__branch_create_ctx(&res, c, ctx, pid, bo, &e);
    neonflow_branch_create_options_free(bo);
    if (rc == NEONFLOW_OK) {
        neonflow_error_free(e);
        rc = neonflow_branch_dup(out, neonflow_branch_result_branch(res));
        if (rc != NEONFLOW_OK)
            rc = neonflow__error_set(err, rc, "out of memory");
        else
            rc = neonflow__preview_await(c, ctx, pid, neonflow_branch_result_operations(res), err);
        neonflow_branch_result_free(res);
        return rc;
    }
    if (rc != NEONFLOW_EUNCERTAIN && rc != NEONFLOW_ECONFLICT)
        return settle(err, &e, rc);
    /* a lost answer, or a concurrent create of the same label: read it back */
    int rc2 = find_by_name(out, c, ctx, pid, name, err);
    if (rc2 != NEONFLOW_OK || !*out)
        return settle(err, &e, rc2 != NEONFLOW_OK ? rc2 : rc);
    neonflow_error_free(e);
    return NEONFLOW_OK;
}

/* The branch's read_write endpoint, created (and awaited) when it has none. */
static int ensure_endpoint(neonflow_endpoint **out, neonflow_client *c, neonflow__call_ctx *ctx, const char *pid,
                           const char *branch_id, const neonflow_endpoint_create_options *epo, neonflow_error **err)
{
    *out = NULL;
    for (int attempt = 0;; attempt++) {
        neonflow_endpoint_list *l = NULL;
        int rc = neonflow__endpoints_list_ctx(&l, c, ctx, pid, branch_id, err);
        if (rc != NEONFLOW_OK)
            return rc;
        const neonflow_endpoint *found = neonflow__rw_endpoint_in(l, branch_id);
        if (found && neonflow_endpoint_dup(out, found) != NEONFLOW_OK)
            rc = neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
        neonflow_endpoint_list_free(l);
        if (found || rc != NEONFLOW_OK)
            return rc;
        neonflow_operation_list *ops = NULL;
        neonflow_error *e = NULL;
        rc = neonflow__endpoint_create_ctx(out, &ops, c, ctx, pid, branch_id, epo, &e);
        if (rc == NEONFLOW_OK) {
            neonflow_error_free(e);
            rc = neonflow__preview_await(c, ctx, pid, ops, err);
            neonflow_operation_list_free(ops);
            if (rc != NEONFLOW_OK) {
                neonflow_endpoint_free(*out);
                *out = NULL;
            }
            return rc;
        }
        /* lost answer or a concurrent create: the list above tells (once) */
        if ((rc != NEONFLOW_EUNCERTAIN && rc != NEONFLOW_ECONFLICT) || attempt > 0)
            return settle(err, &e, rc);
        neonflow_error_free(e);
    }
}

static int create_ctx(neonflow_preview **out, neonflow_client *c, neonflow__call_ctx *ctx, const char *pid,
                      const neonflow_preview_create_options *o, neonflow_error **err)
{
    char name[NEONFLOW__PREVIEW_NAME_MAX + 1];
    snprintf(name, sizeof(name), "%s%s", NEONFLOW_PREVIEW_PREFIX, o->label);
    neonflow_branch *b = NULL, *parent = NULL;
    neonflow_endpoint *ep = NULL;
    int rc = find_by_name(&b, c, ctx, pid, name, err);
    if (rc == NEONFLOW_OK)
        rc = resolve_parent(&parent, c, ctx, pid, o->parent ? o->parent : NEONFLOW__PREVIEW_DEFAULT_PARENT, err);
    if (rc == NEONFLOW_OK && !b)
        rc = new_branch(&b, c, ctx, pid, name, neonflow_branch_id(parent), o, err);
    if (rc == NEONFLOW_OK) {
        const char *have = neonflow_branch_parent_id(b);
        if (!have || strcmp(have, neonflow_branch_id(parent)) != 0)
            rc = neonflow__error_set(err, NEONFLOW_ECONFLICT,
                                     "preview \"%s\" (%s) exists as a child of %s, not of %s (%s): delete it first "
                                     "or use another label", o->label, neonflow_branch_id(b),
                                     have ? have : "no branch", neonflow_branch_name(parent),
                                     neonflow_branch_id(parent));
    }
    if (rc == NEONFLOW_OK)
        rc = ensure_endpoint(&ep, c, ctx, pid, neonflow_branch_id(b), o->ep, err);
    if (rc == NEONFLOW_OK && !(*out = neonflow__preview_new(b, ep)))
        rc = neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    if (rc == NEONFLOW_OK && o->want_uri && (rc = neonflow__preview_uri_fetch(*out, c, ctx, pid, err)) != NEONFLOW_OK) {
        neonflow_preview_free(*out);
        *out = NULL;
    }
    neonflow_branch_free(b);
    neonflow_branch_free(parent);
    neonflow_endpoint_free(ep);
    return rc;
}

NEONFLOW_API int neonflow_preview_create(neonflow_preview **out, neonflow_client *client, const char *project_id,
                                         const neonflow_preview_create_options *opts,
                                         const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    if (out)
        *out = NULL;
    if (!out || !client || !opts)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "out, client and options must not be NULL");
    if (!opts->label)
        return neonflow__error_set(err, NEONFLOW_EINVAL,
                                   "a preview needs a label (neonflow_preview_create_options_set_label)");
    if (opts->ep && opts->ep->type != NEONFLOW_ENDPOINT_TYPE_READ_WRITE) /* changed after it was set */
        return neonflow__error_set(err, NEONFLOW_EINVAL, "a preview's endpoint is read_write: the endpoint "
                                                         "options must keep that type");
    int rc = neonflow__id_check("project_id", project_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(client, create_ctx(out, client, ctx, project_id, opts, err), err);
}

/* ---- delete ----------------------------------------------------------------------- */
int neonflow__preview_delete_ctx(neonflow_client *c, neonflow__call_ctx *ctx, const char *pid, const char *name,
                                 const char *branch_id, int *gone, neonflow_error **err)
{
    neonflow_branch *b = NULL;
    *gone = 0;
    int rc = NEONFLOW_OK;
    if (!branch_id) {
        if ((rc = find_by_name(&b, c, ctx, pid, name, err)) != NEONFLOW_OK)
            return rc;
        if (!b) {
            *gone = 1;
            return NEONFLOW_OK;
        }
        branch_id = neonflow_branch_id(b);
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        neonflow_operation_list *ops = NULL;
        neonflow_error *e = NULL;
        rc = neonflow__branch_delete_ctx(&ops, c, ctx, pid, branch_id, NULL, &e);
        if (rc == NEONFLOW_OK) {
            neonflow_error_free(e);
            rc = neonflow__preview_await(c, ctx, pid, ops, err);
            neonflow_operation_list_free(ops);
            break;
        }
        if (rc == NEONFLOW_ENOTFOUND) { /* deleted meanwhile */
            neonflow_error_free(e);
            *gone = 1;
            rc = NEONFLOW_OK;
            break;
        }
        if (rc != NEONFLOW_EUNCERTAIN || attempt > 0) {
            settle(err, &e, rc);
            break;
        }
        neonflow_error_free(e); /* lost answer: deleting again is harmless (404 when it went through) */
    }
    neonflow_branch_free(b);
    return rc;
}

NEONFLOW_API int neonflow_preview_delete(neonflow_client *client, const char *project_id, const char *label_or_name,
                                         const neonflow_preview_delete_options *opts,
                                         const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    char label[NEONFLOW_PREVIEW_LABEL_MAX + 1], name[NEONFLOW__PREVIEW_NAME_MAX + 1], shown[200];
    if (!client)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "client must not be NULL");
    if (!neonflow__preview_label_of(label_or_name, label))
        return neonflow__error_set(err, NEONFLOW_EINVAL,
                                   "\"%s\" is no preview label (a-z, 0-9, '-', '_', '.', at most %d bytes) "
                                   "nor a preview name (" NEONFLOW_PREVIEW_PREFIX "<label>)",
                                   neonflow__echo(shown, sizeof(shown), label_or_name ? label_or_name : "(null)"),
                                   NEONFLOW_PREVIEW_LABEL_MAX);
    int rc = neonflow__id_check("project_id", project_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    snprintf(name, sizeof(name), "%s%s", NEONFLOW_PREVIEW_PREFIX, label);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    int gone = 0;
    rc = neonflow__preview_delete_ctx(client, ctx, project_id, name, NULL, &gone, err);
    if (rc == NEONFLOW_OK && gone && opts && !opts->missing_ok)
        rc = neonflow__error_set(err, NEONFLOW_ENOTFOUND, "no preview \"%s\" in project %s", label, project_id);
    return neonflow__client_errors(client, rc, err);
}
