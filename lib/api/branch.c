/* Branch calls (their option objects are in branch_options.c). */
#include <stdio.h>
#include <string.h>

#include "api-private.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/scrub.h"
#include "core/text.h"

#define BRANCH_PAGE_LIMIT "100"
#define BRANCH_PAGE_SIZE 100 /* Neon's cap, and what BRANCH_PAGE_LIMIT asks for */
#define BRANCH_MAX_PAGES 100000

/* ---- helpers ------------------------------------------------------------------------ */
static int check_common(neonflow_client *c, const char *project_id, const char *branch_id, neonflow_error **err)
{
    if (!c)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "client must not be NULL");
    int rc = neonflow__id_check("project_id", project_id, err);
    if (rc == NEONFLOW_OK && branch_id != NULL)
        rc = neonflow__id_check("branch_id", branch_id, err);
    return rc;
}

static int check_pb(neonflow_client *c, const char *project_id, const char *branch_id, neonflow_error **err)
{
    int rc = check_common(c, project_id, NULL, err);
    return rc == NEONFLOW_OK ? neonflow__id_check("branch_id", branch_id, err) : rc;
}

static char *branch_path(const char *project_id, const char *branch_id, const char *suffix)
{
    neonflow__sb b = {0};
    neonflow__sb_add(&b, "/projects/");
    neonflow__sb_add_enc(&b, project_id);
    neonflow__sb_add(&b, "/branches");
    if (branch_id) {
        neonflow__sb_add(&b, "/");
        neonflow__sb_add_enc(&b, branch_id);
    }
    if (suffix)
        neonflow__sb_add(&b, suffix);
    return neonflow__sb_take(&b);
}

static int take_ops(json_t *root, neonflow_operation_list **ops_out, neonflow_error **err)
{
    neonflow_operation_list *ops;
    int rc = root ? neonflow__parse_operations_response(root, 1, &ops, err) : neonflow__operation_list_new(&ops, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__ops_hand_out(ops_out, ops);
    return NEONFLOW_OK;
}

/* ---- list / get / find -------------------------------------------------------------------- */
/* One page when the caller set a limit or a cursor (its next cursor kept on
 * the list), else every page. */
static int list_pages(neonflow_branch_list *l, neonflow_client *c, neonflow__call_ctx *ctx, const char *project_id,
                      const char *search, const char *sort_by, const char *sort_order, const char *first_cursor,
                      int32_t limit, int short_page_ends, neonflow_error **err);

static int list_all(neonflow_branch_list **out, neonflow_client *c, neonflow__call_ctx *ctx,
                    const char *project_id, const char *search, const char *sort_by, const char *sort_order,
                    const char *first_cursor, int32_t limit, neonflow_error **err)
{
    neonflow_branch_list *l;
    int rc = neonflow__branch_list_new(&l, err);
    if (rc != NEONFLOW_OK)
        return rc;
    rc = list_pages(l, c, ctx, project_id, search, sort_by, sort_order, first_cursor, limit, 0, err);
    if (rc != NEONFLOW_OK) {
        neonflow_branch_list_free(l);
        return rc;
    }
    *out = l;
    return NEONFLOW_OK;
}

int neonflow__branches_search_into(neonflow_branch_list *l, neonflow_client *c, neonflow__call_ctx *ctx,
                                   const char *project_id, const char *search, neonflow_error **err)
{
    if (!l || !search || !*search)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "a list and a non-empty search term are required");
    int rc = check_common(c, project_id, NULL, err);
    return rc != NEONFLOW_OK ? rc : list_pages(l, c, ctx, project_id, search, NULL, NULL, NULL, 0, 1, err);
}

/* Appends the pages to l; on failure l may hold part of them. short_page_ends:
 * a page shorter than the page size is the last (no request for an empty one). */
static int list_pages(neonflow_branch_list *l, neonflow_client *c, neonflow__call_ctx *ctx, const char *project_id,
                      const char *search, const char *sort_by, const char *sort_order, const char *first_cursor,
                      int32_t limit, int short_page_ends, neonflow_error **err)
{
    int rc = NEONFLOW_OK;
    int one_page = first_cursor != NULL || limit > 0;
    char limit_text[16];
    snprintf(limit_text, sizeof(limit_text), "%d", (int)limit);
    char *cursor = NULL;
    if (first_cursor && !(cursor = neonflow__strdup(first_cursor)))
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    for (int page = 0;; page++) {
        if (page >= BRANCH_MAX_PAGES) {
            rc = neonflow__error_set(err, NEONFLOW_EPROTOCOL, "branch pagination did not end after %d pages", page);
            break;
        }
        neonflow__sb b = {0};
        neonflow__sb_add(&b, "/projects/");
        neonflow__sb_add_enc(&b, project_id);
        neonflow__sb_add(&b, "/branches");
        neonflow__sb_query(&b, "search", search);
        neonflow__sb_query(&b, "sort_by", sort_by);
        neonflow__sb_query(&b, "sort_order", sort_order);
        neonflow__sb_query(&b, "limit", limit > 0 ? limit_text : BRANCH_PAGE_LIMIT);
        neonflow__sb_query(&b, "cursor", cursor);
        char *path = neonflow__sb_take(&b);
        json_t *root;
        rc = neonflow__api_call(c, ctx, "GET", path, "/projects/{project_id}/branches", NULL, &root, NULL, err);
        neonflow__free(path);
        if (rc != NEONFLOW_OK)
            break;
        const char *next;
        size_t items;
        rc = neonflow__branch_list_append_page(l, root, &next, &items, err);
        if (one_page) {
            /* the list holds a reference to root, so next stays valid */
            l->next_cursor = rc == NEONFLOW_OK ? next : NULL;
            json_decref(root);
            break;
        }
        if (rc == NEONFLOW_OK && next && cursor && strcmp(next, cursor) == 0)
            rc = neonflow__error_set(err, NEONFLOW_EPROTOCOL, "branch pagination returned the same cursor twice");
        char *next_copy = (rc == NEONFLOW_OK && next && items > 0) ? neonflow__strdup(next) : NULL;
        int more = rc == NEONFLOW_OK && next && items > 0 && !(short_page_ends && items < BRANCH_PAGE_SIZE);
        json_decref(root); /* the list holds its own reference */
        if (more && !next_copy)
            rc = neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
        neonflow__free(cursor);
        cursor = next_copy;
        if (rc != NEONFLOW_OK || !more)
            break;
    }
    neonflow__free(cursor);
    return rc;
}

int neonflow__branches_list_ctx(neonflow_branch_list **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                const char *project_id, const neonflow_branches_list_options *opts,
                                neonflow_error **err)
{
    if (out)
        *out = NULL;
    if (!out)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "out must not be NULL");
    int rc = check_common(c, project_id, NULL, err);
    if (rc != NEONFLOW_OK)
        return rc;
    return list_all(out, c, ctx, project_id, opts ? opts->search : NULL, opts ? opts->sort_by : NULL,
                    opts ? opts->sort_order : NULL, opts ? opts->cursor : NULL, opts ? opts->limit : 0, err);
}

NEONFLOW_API int neonflow_branches_list(neonflow_branch_list **out, neonflow_client *client, const char *project_id,
                                        const neonflow_branches_list_options *opts,
                                        const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client, neonflow__branches_list_ctx(out, client, ctx, project_id, opts, err), err);
}

int neonflow__branch_get_ctx(neonflow_branch **out, neonflow_client *c, neonflow__call_ctx *ctx,
                             const char *project_id, const char *branch_id, neonflow_error **err)
{
    if (out)
        *out = NULL;
    if (!out)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "out must not be NULL");
    int rc = check_pb(c, project_id, branch_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    char *path = branch_path(project_id, branch_id, NULL);
    json_t *root;
    rc = neonflow__api_call(c, ctx, "GET", path, "/projects/{project_id}/branches/{branch_id}", NULL, &root, NULL,
                            err);
    neonflow__free(path);
    if (rc != NEONFLOW_OK)
        return rc;
    rc = neonflow__parse_branch_response(root, out, NULL, err);
    json_decref(root);
    return rc;
}

NEONFLOW_API int neonflow_branch_get(neonflow_branch **out, neonflow_client *client, const char *project_id,
                                     const char *branch_id, const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client, neonflow__branch_get_ctx(out, client, ctx, project_id, branch_id, err), err);
}

int neonflow__branch_find_by_name_ctx(neonflow_branch **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                      const char *project_id, const char *name, neonflow_error **err)
{
    if (out)
        *out = NULL;
    if (!out || !name || !*name)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "out and a non-empty name are required");
    int rc = check_common(c, project_id, NULL, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow_branch_list *l;
    if ((rc = list_all(&l, c, ctx, project_id, name, NULL, NULL, NULL, 0, err)) != NEONFLOW_OK)
        return rc;
    const neonflow_branch *found = NULL;
    json_t *doc = NULL;
    size_t matches = 0;
    for (size_t i = 0; i < l->v.n; i++) {
        const neonflow_branch *b = neonflow__vec_at(&l->v, i);
        if (strcmp(b->name, name) == 0 && matches++ == 0)
            found = b;
    }
    if (found) {
        /* find the page document holding found's strings: keep them all alive
         * cheaply by holding a copy of the document of its page */
        for (size_t r = 0; r < l->v.nroots && !doc; r++) {
            json_t *arr = json_object_get(l->v.roots[r], "branches");
            size_t k;
            json_t *el;
            json_array_foreach(arr, k, el) {
                if (json_string_value(json_object_get(el, "id")) == found->id) {
                    doc = l->v.roots[r];
                    break;
                }
            }
        }
    }
    char shown[220];
    neonflow__echo(shown, sizeof(shown), name);
    if (matches == 0)
        rc = neonflow__error_set(err, NEONFLOW_ENOTFOUND, "no branch named \"%s\" in project %s", shown,
                                 project_id);
    else if (matches > 1)
        rc = neonflow__error_set(err, NEONFLOW_ECONFLICT, "%zu branches are named \"%s\"", matches, shown);
    else if (!doc || neonflow__branch_dup(found, doc, out) != NEONFLOW_OK)
        rc = neonflow__error_set(err, doc ? NEONFLOW_ENOMEM : NEONFLOW_EGENERIC, "could not copy the branch");
    neonflow_branch_list_free(l);
    return rc;
}

NEONFLOW_API int neonflow_branch_find_by_name(neonflow_branch **out, neonflow_client *client,
                                              const char *project_id, const char *name,
                                              const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client, neonflow__branch_find_by_name_ctx(out, client, ctx, project_id, name, err), err);
}

/* ---- mutations ----------------------------------------------------------------------- */
int neonflow__branch_create_ctx(neonflow_branch_result **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                const char *project_id, const neonflow_branch_create_options *opts,
                                neonflow_error **err)
{
    if (out)
        *out = NULL;
    if (!out)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "out must not be NULL");
    int rc = check_common(c, project_id, NULL, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow__body_begin();
    json_t *body = json_object(), *br = json_object();
    int bad = !body || !br || json_object_set(body, "branch", br) != 0;
    if (!bad && opts && opts->parent_id)
        bad = json_object_set_new(br, "parent_id", json_string(opts->parent_id)) != 0;
    if (!bad && opts && opts->name)
        bad = json_object_set_new(br, "name", json_string(opts->name)) != 0;
    if (!bad && opts && opts->expires_at)
        bad = json_object_set_new(br, "expires_at", json_string(opts->expires_at)) != 0;
    if (!bad && opts && opts->is_protected >= 0)
        bad = json_object_set_new(br, "protected", json_boolean(opts->is_protected)) != 0;
    if (!bad && opts && opts->with_rw_endpoint) {
        json_t *eps = json_pack("[{s:s}]", "type", "read_write");
        bad = !eps || json_object_set_new(body, "endpoints", eps) != 0;
    }
    json_decref(br);
    if (bad) {
        json_decref(body);
        return neonflow__body_error(err, "branch name is not valid UTF-8");
    }
    char *path = branch_path(project_id, NULL, NULL);
    json_t *root;
    rc = neonflow__api_call(c, ctx, "POST", path, "/projects/{project_id}/branches", body, &root, NULL, err);
    neonflow__free(path);
    json_decref(body);
    if (rc != NEONFLOW_OK)
        return rc;
    rc = neonflow__parse_branch_result_response(root, out, err);
    json_decref(root);
    return rc;
}

NEONFLOW_API int neonflow_branch_create(neonflow_branch_result **out, neonflow_client *client,
                                        const char *project_id, const neonflow_branch_create_options *opts,
                                        const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client, neonflow__branch_create_ctx(out, client, ctx, project_id, opts, err), err);
}

int neonflow__branch_update_ctx(neonflow_branch **out, neonflow_operation_list **ops_out, neonflow_client *c,
                                neonflow__call_ctx *ctx, const char *project_id, const char *branch_id,
                                const neonflow_branch_update_options *opts, neonflow_error **err)
{
    if (out)
        *out = NULL;
    if (ops_out)
        *ops_out = NULL;
    int rc = check_pb(c, project_id, branch_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    if (!opts)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "update options must not be NULL");
    neonflow__body_begin();
    json_t *body = json_object(), *br = json_object();
    int bad = !body || !br || json_object_set(body, "branch", br) != 0;
    if (!bad && opts->name_set)
        bad = json_object_set_new(br, "name", json_string(opts->name)) != 0;
    if (!bad && opts->is_protected >= 0)
        bad = json_object_set_new(br, "protected", json_boolean(opts->is_protected)) != 0;
    if (!bad && opts->expires_set)
        bad = json_object_set_new(br, "expires_at", opts->expires_at ? json_string(opts->expires_at) : json_null());
    json_decref(br);
    if (bad) {
        json_decref(body);
        return neonflow__body_error(err, "branch name is not valid UTF-8");
    }
    char *path = branch_path(project_id, branch_id, NULL);
    json_t *root;
    rc = neonflow__api_call(c, ctx, "PATCH", path, "/projects/{project_id}/branches/{branch_id}", body, &root, NULL,
                            err);
    neonflow__free(path);
    json_decref(body);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow_operation_list *ops = NULL;
    /* operations may be missing from an update answer: tolerate it */
    json_t *has_ops = root ? json_object_get(root, "operations") : NULL;
    rc = neonflow__parse_branch_response(root, out, has_ops ? &ops : NULL, err);
    if (rc == NEONFLOW_OK && !ops)
        rc = neonflow__operation_list_new(&ops, err);
    json_decref(root);
    if (rc != NEONFLOW_OK) {
        if (out) {
            neonflow_branch_free(*out);
            *out = NULL;
        }
        return rc;
    }
    neonflow__ops_hand_out(ops_out, ops);
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_branch_update(neonflow_branch **out, neonflow_operation_list **ops_out,
                                        neonflow_client *client, const char *project_id, const char *branch_id,
                                        const neonflow_branch_update_options *opts,
                                        const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client,
        neonflow__branch_update_ctx(out, ops_out, client, ctx, project_id, branch_id, opts, err),
        err);
}

int neonflow__branch_delete_ctx(neonflow_operation_list **ops_out, neonflow_client *c, neonflow__call_ctx *ctx,
                                const char *project_id, const char *branch_id,
                                const neonflow_branch_delete_options *opts, neonflow_error **err)
{
    if (ops_out)
        *ops_out = NULL;
    int rc = check_pb(c, project_id, branch_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    char *path = branch_path(project_id, branch_id, NULL);
    if (path && opts && opts->hard_delete >= 0) {
        char *q = neonflow__format("%s?hard_delete=%s", path, opts->hard_delete ? "true" : "false");
        neonflow__free(path);
        path = q;
    }
    json_t *root;
    int32_t status;
    rc = neonflow__api_call(c, ctx, "DELETE", path, "/projects/{project_id}/branches/{branch_id}", NULL, &root,
                            &status, err);
    neonflow__free(path);
    if (rc != NEONFLOW_OK)
        return rc;
    if (status == 204) {
        json_decref(root);
        root = NULL;
    }
    rc = take_ops(root, ops_out, err);
    json_decref(root);
    return rc;
}

NEONFLOW_API int neonflow_branch_delete(neonflow_operation_list **ops_out, neonflow_client *client,
                                        const char *project_id, const char *branch_id,
                                        const neonflow_branch_delete_options *opts,
                                        const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(
        client,
        neonflow__branch_delete_ctx(ops_out, client, ctx, project_id, branch_id, opts, err),
        err);
}

int neonflow__branch_finalize_restore_ctx(neonflow_operation_list **ops_out, neonflow_client *c,
                                          neonflow__call_ctx *ctx, const char *project_id, const char *branch_id,
                                          const char *old_branch_name, neonflow_error **err)
{
    if (ops_out)
        *ops_out = NULL;
    int rc = check_pb(c, project_id, branch_id, err);
    if (rc != NEONFLOW_OK)
        return rc;
    if (old_branch_name && !neonflow__branch_name_ok(old_branch_name))
        return neonflow__error_set(err, NEONFLOW_EINVAL, "old_branch_name must be 1-256 bytes");
    neonflow__body_begin();
    json_t *body = json_object();
    int bad = !body;
    if (!bad && old_branch_name)
        bad = json_object_set_new(body, "name", json_string(old_branch_name)) != 0;
    if (bad) {
        json_decref(body);
        return neonflow__body_error(err, "old_branch_name is not valid UTF-8");
    }
    char *path = branch_path(project_id, branch_id, "/finalize_restore");
    json_t *root;
    rc = neonflow__api_call(c, ctx, "POST", path, "/projects/{project_id}/branches/{branch_id}/finalize_restore",
                            body, &root, NULL, err);
    neonflow__free(path);
    json_decref(body);
    if (rc != NEONFLOW_OK)
        return rc;
    rc = take_ops(root, ops_out, err);
    json_decref(root);
    return rc;
}

NEONFLOW_API int neonflow_branch_finalize_restore(neonflow_operation_list **ops_out, neonflow_client *client,
                                                  const char *project_id, const char *branch_id,
                                                  const char *old_branch_name,
                                                  const neonflow_call_options *call, neonflow_error **err)
{
    NEONFLOW__ERR_ENTRY(err);
    neonflow__call_ctx cctx, *ctx = neonflow__call_ctx_from(&cctx, client, call);
    return neonflow__client_errors(client,
                                   neonflow__branch_finalize_restore_ctx(ops_out, client, ctx,
                                                                         project_id, branch_id,
                                                                         old_branch_name, err),
                                   err);
}
