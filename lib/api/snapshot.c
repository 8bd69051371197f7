/* Snapshot calls and their options. */
#include <stdio.h>
#include <string.h>

#include "api-private.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/scrub.h"
#include "core/text.h"

/* ---- options -------------------------------------------------------------- */
NEONFLOW_API int neonflow_snapshot_create_options_new(neonflow_snapshot_create_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    return *out ? NEONFLOW_OK : NEONFLOW_ENOMEM;
}

NEONFLOW_API void neonflow_snapshot_create_options_free(neonflow_snapshot_create_options *o)
{
    if (!o)
        return;
    neonflow__free(o->name);
    neonflow__free(o->lsn);
    neonflow__free(o->timestamp);
    neonflow__free(o->expires_at);
    neonflow__free(o);
}

NEONFLOW_API int neonflow_snapshot_create_options_set_name(neonflow_snapshot_create_options *o, const char *name)
{
    if (!o)
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->name, name);
}

NEONFLOW_API int neonflow_snapshot_create_options_set_lsn(neonflow_snapshot_create_options *o, const char *lsn)
{
    if (!o || (lsn && !neonflow__is_lsn(lsn)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->lsn, lsn);
}

NEONFLOW_API int neonflow_snapshot_create_options_set_timestamp(neonflow_snapshot_create_options *o,
                                                                const char *timestamp)
{
    if (!o || (timestamp && !neonflow__is_rfc3339(timestamp)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->timestamp, timestamp);
}

NEONFLOW_API int neonflow_snapshot_create_options_set_expires_at(neonflow_snapshot_create_options *o,
                                                                 const char *expires_at)
{
    if (!o || (expires_at && !neonflow__is_rfc3339(expires_at)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->expires_at, expires_at);
}

NEONFLOW_API int neonflow_snapshot_update_options_new(neonflow_snapshot_update_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    return *out ? NEONFLOW_OK : NEONFLOW_ENOMEM;
}

NEONFLOW_API void neonflow_snapshot_update_options_free(neonflow_snapshot_update_options *o)
{
    if (!o)
        return;
    neonflow__free(o->name);
    neonflow__free(o->expires_at);
    neonflow__free(o);
}

NEONFLOW_API int neonflow_snapshot_update_options_set_name(neonflow_snapshot_update_options *o, const char *name)
{
    if (!o || !name)
        return NEONFLOW_EINVAL;
    int rc = neonflow__set_str(&o->name, name);
    if (rc == NEONFLOW_OK)
        o->name_set = 1;
    return rc;
}

NEONFLOW_API int neonflow_snapshot_update_options_set_expires_at(neonflow_snapshot_update_options *o,
                                                                 const char *expires_at)
{
    if (!o || (expires_at && !neonflow__is_rfc3339(expires_at)))
        return NEONFLOW_EINVAL;
    int rc = neonflow__set_str(&o->expires_at, expires_at);
    if (rc == NEONFLOW_OK)
        o->expires_set = 1;
    return rc;
}

NEONFLOW_API int neonflow_snapshot_restore_options_new(neonflow_snapshot_restore_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    return *out ? NEONFLOW_OK : NEONFLOW_ENOMEM;
}

NEONFLOW_API void neonflow_snapshot_restore_options_free(neonflow_snapshot_restore_options *o)
{
    if (!o)
        return;
    neonflow__free(o->name);
    neonflow__free(o->target_branch_id);
    neonflow__free(o);
}

NEONFLOW_API int neonflow_snapshot_restore_options_set_name(neonflow_snapshot_restore_options *o, const char *name)
{
    if (!o)
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->name, name);
}

NEONFLOW_API int neonflow_snapshot_restore_options_set_target_branch_id(neonflow_snapshot_restore_options *o,
                                                                        const char *target_branch_id)
{
    if (!o || (target_branch_id && !neonflow__id_valid(target_branch_id)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->target_branch_id, target_branch_id);
}

NEONFLOW_API int neonflow_snapshot_restore_options_set_finalize(neonflow_snapshot_restore_options *o, int finalize)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->finalize = finalize ? 1 : 0;
    return NEONFLOW_OK;
}

/* ---- helpers ------------------------------------------------------------------ */
static int check_common(const void *out, neonflow_client *c, const char *project_id, neonflow_error **err)
{
    if (!out)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "out must not be NULL");
    if (!c)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "client must not be NULL");
    return neonflow__id_check("project_id", project_id, err);
}

/* "/projects/{p}/snapshots[/{s}][suffix]" */
static char *snap_path(const char *project_id, const char *snapshot_id, const char *suffix)
{
    neonflow__sb b = {0};
    neonflow__sb_add(&b, "/projects/");
    neonflow__sb_add_enc(&b, project_id);
    neonflow__sb_add(&b, "/snapshots");
    if (snapshot_id) {
        neonflow__sb_add(&b, "/");
        neonflow__sb_add_enc(&b, snapshot_id);
    }
    if (suffix)
        neonflow__sb_add(&b, suffix);
    return neonflow__sb_take(&b);
}

/* ---- calls ------------------------------------------------------------------------ */
int neonflow__snapshot_create_ctx(neonflow_snapshot **out, neonflow_operation_list **ops_out, neonflow_client *c,
                                  neonflow__call_ctx *ctx, const char *project_id, const char *branch_id,
                                  const neonflow_snapshot_create_options *opts, neonflow_error **err)
{
    if (out)
        *out = NULL;
    if (ops_out)
        *ops_out = NULL;
    int rc = check_common(out, c, project_id, err);
    if (rc == NEONFLOW_OK)
        rc = neonflow__id_check("branch_id", branch_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    if (opts && opts->lsn && opts->timestamp)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "lsn and timestamp are mutually exclusive");
    neonflow__sb b = {0};
    neonflow__sb_add(&b, "/projects/");
    neonflow__sb_add_enc(&b, project_id);
    neonflow__sb_add(&b, "/branches/");
    neonflow__sb_add_enc(&b, branch_id);
    neonflow__sb_add(&b, "/snapshot");
    if (opts) {
        neonflow__sb_query(&b, "lsn", opts->lsn);
        neonflow__sb_query(&b, "timestamp", opts->timestamp);
        neonflow__sb_query(&b, "name", opts->name);
        neonflow__sb_query(&b, "expires_at", opts->expires_at);
    }
    char *path = neonflow__sb_take(&b);
    json_t *root;
    rc = neonflow__api_call(c, ctx, "POST", path, "/projects/{project_id}/branches/{branch_id}/snapshot", NULL, &root,
                            NULL, err);
    neonflow__free(path);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow_operation_list *ops = NULL;
    rc = neonflow__parse_snapshot_response(root, out, &ops, err);
    json_decref(root);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__ops_hand_out(ops_out, ops);
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_snapshot_create(neonflow_snapshot **out, neonflow_operation_list **ops_out,
                                          neonflow_client *client, const char *project_id, const char *branch_id,
                                          const neonflow_snapshot_create_options *opts,
                                          const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client,
        neonflow__snapshot_create_ctx(out, ops_out, client, ctx, project_id, branch_id, opts, err),
        err);
}

int neonflow__snapshots_list_ctx(neonflow_snapshot_list **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                 const char *project_id, neonflow_error **err)
{
    if (out)
        *out = NULL;
    int rc = check_common(out, c, project_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    char *path = snap_path(project_id, NULL, NULL);
    json_t *root;
    rc = neonflow__api_call(c, ctx, "GET", path, "/projects/{project_id}/snapshots", NULL, &root, NULL, err);
    neonflow__free(path);
    if (rc != NEONFLOW_OK)
        return rc;
    rc = neonflow__parse_snapshots_response(root, out, err);
    json_decref(root);
    return rc;
}

NEONFLOW_API int neonflow_snapshots_list(neonflow_snapshot_list **out, neonflow_client *client,
                                         const char *project_id,
                                         const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client, neonflow__snapshots_list_ctx(out, client, ctx, project_id, err), err);
}

/* Lists, then picks by id (by_name 0) or exact name (by_name 1). */
static int snapshot_find(neonflow_snapshot **out, neonflow_client *c, neonflow__call_ctx *ctx,
                         const char *project_id, const char *key, int by_name, neonflow_error **err)
{
    if (out)
        *out = NULL;
    int rc = check_common(out, c, project_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    if (by_name && !key)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "name must not be NULL");
    if (!by_name && (rc = neonflow__id_check("snapshot_id", key, err)) != NEONFLOW_OK)
        return rc;
    neonflow_snapshot_list *l;
    if ((rc = neonflow__snapshots_list_ctx(&l, c, ctx, project_id, err)) != NEONFLOW_OK)
        return rc;
    const neonflow_snapshot *found = NULL;
    size_t matches = 0;
    char ids[256] = "";
    for (size_t i = 0; i < l->v.n; i++) {
        const neonflow_snapshot *s = neonflow__vec_at(&l->v, i);
        if (strcmp(by_name ? s->name : s->id, key) != 0)
            continue;
        if (matches++ == 0)
            found = s;
        size_t used = strlen(ids);
        if (used + strlen(s->id) + 3 < sizeof(ids))
            snprintf(ids + used, sizeof(ids) - used, "%s%s", used ? ", " : "", s->id);
    }
    char shown[220];
    neonflow__echo(shown, sizeof(shown), key);
    if (matches == 0) {
        rc = neonflow__error_set(err, NEONFLOW_ENOTFOUND, "no snapshot %s \"%s\" in project %s",
                                 by_name ? "named" : "with ID", shown, project_id);
    } else if (matches > 1) {
        rc = neonflow__error_set(err, NEONFLOW_ECONFLICT, "%zu snapshots are named \"%s\": %s", matches, shown,
                                 ids);
    } else if (neonflow__snapshot_dup(found, l->v.roots[0], out) != NEONFLOW_OK) {
        rc = neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    }
    neonflow_snapshot_list_free(l);
    return rc;
}

int neonflow__snapshot_find_by_id_ctx(neonflow_snapshot **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                      const char *project_id, const char *snapshot_id, neonflow_error **err)
{
    return snapshot_find(out, c, ctx, project_id, snapshot_id, 0, err);
}

NEONFLOW_API int neonflow_snapshot_find_by_id(neonflow_snapshot **out, neonflow_client *client,
                                              const char *project_id, const char *snapshot_id,
                                              const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client, snapshot_find(out, client, ctx, project_id, snapshot_id, 0, err), err);
}

int neonflow__snapshot_find_by_name_ctx(neonflow_snapshot **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                        const char *project_id, const char *name, neonflow_error **err)
{
    return snapshot_find(out, c, ctx, project_id, name, 1, err);
}

NEONFLOW_API int neonflow_snapshot_find_by_name(neonflow_snapshot **out, neonflow_client *client,
                                                const char *project_id, const char *name,
                                                const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(client,
                                   snapshot_find(out, client, ctx, project_id, name, 1, err), err);
}

int neonflow__snapshot_update_ctx(neonflow_snapshot **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                  const char *project_id, const char *snapshot_id,
                                  const neonflow_snapshot_update_options *opts, neonflow_error **err)
{
    if (out)
        *out = NULL;
    int rc = check_common(c, c, project_id, err);
    if (rc == NEONFLOW_OK)
        rc = neonflow__id_check("snapshot_id", snapshot_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    if (!opts)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "update options must not be NULL");
    neonflow__body_begin();
    json_t *body = json_object(), *snap = json_object();
    int bad = !body || !snap || json_object_set(body, "snapshot", snap) != 0;
    if (!bad && opts->name_set)
        bad = json_object_set_new(snap, "name", json_string(opts->name)) != 0;
    if (!bad && opts->expires_set)
        bad = json_object_set_new(snap, "expires_at", opts->expires_at ? json_string(opts->expires_at) : json_null());
    json_decref(snap);
    if (bad) {
        json_decref(body);
        return neonflow__body_error(err, "snapshot name is not valid UTF-8");
    }
    char *path = snap_path(project_id, snapshot_id, NULL);
    json_t *root;
    rc = neonflow__api_call(c, ctx, "PATCH", path, "/projects/{project_id}/snapshots/{snapshot_id}", body, &root,
                            NULL, err);
    neonflow__free(path);
    json_decref(body);
    if (rc != NEONFLOW_OK)
        return rc;
    rc = neonflow__parse_snapshot_response(root, out, NULL, err);
    json_decref(root);
    return rc;
}

NEONFLOW_API int neonflow_snapshot_update(neonflow_snapshot **out, neonflow_client *client, const char *project_id,
                                          const char *snapshot_id, const neonflow_snapshot_update_options *opts,
                                          const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client,
        neonflow__snapshot_update_ctx(out, client, ctx, project_id, snapshot_id, opts, err), err);
}

int neonflow__snapshot_delete_ctx(neonflow_operation_list **ops_out, neonflow_client *c, neonflow__call_ctx *ctx,
                                  const char *project_id, const char *snapshot_id, neonflow_error **err)
{
    if (ops_out)
        *ops_out = NULL;
    int rc = check_common(c, c, project_id, err);
    if (rc == NEONFLOW_OK)
        rc = neonflow__id_check("snapshot_id", snapshot_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    char *path = snap_path(project_id, snapshot_id, NULL);
    json_t *root;
    rc = neonflow__api_call(c, ctx, "DELETE", path, "/projects/{project_id}/snapshots/{snapshot_id}", NULL, &root,
                            NULL, err);
    neonflow__free(path);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow_operation_list *ops;
    /* 202 {operations}; an empty body gives an empty list */
    if (root)
        rc = neonflow__parse_operations_response(root, 1, &ops, err);
    else
        rc = neonflow__operation_list_new(&ops, err);
    json_decref(root);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__ops_hand_out(ops_out, ops);
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_snapshot_delete(neonflow_operation_list **ops_out, neonflow_client *client,
                                          const char *project_id, const char *snapshot_id,
                                          const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client, neonflow__snapshot_delete_ctx(ops_out, client, ctx, project_id, snapshot_id, err),
        err);
}

int neonflow__snapshot_restore_ctx(neonflow_branch_result **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                   const char *project_id, const char *snapshot_id,
                                   const neonflow_snapshot_restore_options *opts, neonflow_error **err)
{
    if (out)
        *out = NULL;
    int rc = check_common(out, c, project_id, err);
    if (rc == NEONFLOW_OK)
        rc = neonflow__id_check("snapshot_id", snapshot_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__body_begin();
    json_t *body = json_object();
    int bad = !body;
    if (!bad && opts && opts->name)
        bad = json_object_set_new(body, "name", json_string(opts->name)) != 0;
    if (!bad && opts && opts->target_branch_id)
        bad = json_object_set_new(body, "target_branch_id", json_string(opts->target_branch_id)) != 0;
    if (!bad)
        bad = json_object_set_new(body, "finalize_restore", json_boolean(opts && opts->finalize)) != 0;
    if (bad) {
        json_decref(body);
        return neonflow__body_error(err, "branch name is not valid UTF-8");
    }
    char *path = snap_path(project_id, snapshot_id, "/restore");
    json_t *root;
    rc = neonflow__api_call(c, ctx, "POST", path, "/projects/{project_id}/snapshots/{snapshot_id}/restore", body,
                            &root, NULL, err);
    neonflow__free(path);
    json_decref(body);
    if (rc != NEONFLOW_OK)
        return rc;
    rc = neonflow__parse_branch_result_response(root, out, err);
    json_decref(root);
    return rc;
}

NEONFLOW_API int neonflow_snapshot_restore(neonflow_branch_result **out, neonflow_client *client,
                                           const char *project_id, const char *snapshot_id,
                                           const neonflow_snapshot_restore_options *opts,
                                           const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client,
        neonflow__snapshot_restore_ctx(out, client, ctx, project_id, snapshot_id, opts, err), err);
}
