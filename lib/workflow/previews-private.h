/* Internal view of the preview environments (previews.c, preview_create.c,
 * previews_list.c). */
#ifndef NEONFLOW_PREVIEWS_PRIVATE_H
#define NEONFLOW_PREVIEWS_PRIVATE_H

#include "api/api-private.h"
#include "core/error.h"
#include "core/http.h"
#include "neonflow/preview.h"

#define NEONFLOW__PREVIEW_PREFIX_LEN (sizeof(NEONFLOW_PREVIEW_PREFIX) - 1)
#define NEONFLOW__PREVIEW_NAME_MAX (NEONFLOW__PREVIEW_PREFIX_LEN + NEONFLOW_PREVIEW_LABEL_MAX)
#define NEONFLOW__PREVIEW_DEFAULT_PARENT "dev"

struct neonflow_preview {
    neonflow_branch *branch;
    neonflow_endpoint *ep; /* the read_write endpoint, NULL when none */
    char *uri;             /* only when asked for */
    const char *reason;    /* prune: static string */
    char label[NEONFLOW_PREVIEW_LABEL_MAX + 1];
    char name[NEONFLOW__PREVIEW_NAME_MAX + 1];
};

struct neonflow_preview_list {
    neonflow_preview **v;
    size_t n, cap;
};

struct neonflow_preview_create_options {
    char *label, *parent, *expires_at;
    int64_t ttl_s;
    const neonflow_endpoint_create_options *ep;
    int want_uri;
};

struct neonflow_previews_list_options {
    char *label_prefix;
};

struct neonflow_preview_delete_options {
    int missing_ok;
};

struct neonflow_previews_prune_options {
    int expired, dry_run;
    int64_t unused_s;
    int32_t keep; /* -1: unset */
};

/* 1 when `name` is exactly NEONFLOW_PREVIEW_PREFIX + a valid label; label_out (may be NULL) gets it. */
int neonflow__preview_name_parse(const char *name, char label_out[NEONFLOW_PREVIEW_LABEL_MAX + 1]);
/* A label ("pr-1") or a full preview name ("nf/preview/pr-1") into the label; 0 when neither is valid. */
int neonflow__preview_label_of(const char *label_or_name, char label_out[NEONFLOW_PREVIEW_LABEL_MAX + 1]);
/* A new preview owning copies of b and ep (ep may be NULL); NULL on ENOMEM. */
neonflow_preview *neonflow__preview_new(const neonflow_branch *b, const neonflow_endpoint *ep);
/* Appends p (taking it over; freed on failure). */
int neonflow__preview_list_push(neonflow_preview_list *l, neonflow_preview *p);
/* The read_write endpoint of branch_id in l, or NULL. */
const neonflow_endpoint *neonflow__rw_endpoint_in(const neonflow_endpoint_list *l, const char *branch_id);
/* Waits for ops (may be NULL) under ctx's deadline and cancel. */
int neonflow__preview_await(neonflow_client *c, neonflow__call_ctx *ctx, const char *project_id,
                            const neonflow_operation_list *ops, neonflow_error **err);
/* Fetches the connection URI of the preview's endpoint into p->uri (preview_uri.c). */
int neonflow__preview_uri_fetch(neonflow_preview *p, neonflow_client *c, neonflow__call_ctx *ctx,
                                const char *project_id, neonflow_error **err);
/* The previews of the project (newest first), with their endpoints. */
int neonflow__previews_list_ctx(neonflow_preview_list **out, neonflow_client *c, neonflow__call_ctx *ctx,
                                const char *project_id, const char *label_prefix, neonflow_error **err);
/* Deletes the preview branch named `name`: branch_id when known (just listed), else found by
 * name; *gone = 1 when it was already absent. */
int neonflow__preview_delete_ctx(neonflow_client *c, neonflow__call_ctx *ctx, const char *project_id,
                                 const char *name, const char *branch_id, int *gone, neonflow_error **err);

#endif
