/* neonflow CLI — preview environments: preview create/list/delete/prune.
 * A preview is the branch nf/preview/<LABEL> with a read-write compute
 * (see preview.h); these commands are one libneonflow call each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <jansson.h>

#include "cli.h"

static json_t *js(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

static const char *dash(const char *s)
{
    return s && *s ? term_esc(s) : "-";
}

static int64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int expired(const neonflow_preview *p, int64_t now)
{
    int64_t e = neonflow_preview_expires_at_ms(p);
    return e > 0 && e <= now;
}

static json_t *preview_json(const neonflow_preview *p, int64_t now)
{
    json_t *o = json_object();
    json_object_set_new(o, "label", js(neonflow_preview_label(p)));
    json_object_set_new(o, "name", js(neonflow_preview_name(p)));
    json_object_set_new(o, "branch_id", js(neonflow_preview_branch_id(p)));
    json_object_set_new(o, "parent_id", js(neonflow_preview_parent_id(p)));
    json_object_set_new(o, "endpoint_id", js(neonflow_preview_endpoint_id(p)));
    json_object_set_new(o, "host", js(neonflow_preview_host(p)));
    json_object_set_new(o, "created_at", js(neonflow_preview_created_at(p)));
    json_object_set_new(o, "expires_at", js(neonflow_preview_expires_at(p)));
    json_object_set_new(o, "expired", json_boolean(expired(p, now)));
    if (neonflow_preview_prune_reason(p))
        json_object_set_new(o, "reason", js(neonflow_preview_prune_reason(p)));
    if (neonflow_preview_connection_uri(p))
        json_object_set_new(o, "connection_uri", js(neonflow_preview_connection_uri(p)));
    return o;
}

static void header(FILE *f, int with_reason)
{
    fprintf(f, "%-24s %-24s %-44s %-22s %-22s %s\n", "LABEL", "BRANCH", "HOST", "CREATED", "EXPIRES",
            with_reason ? "REASON" : "EXPIRED");
}

static void row(FILE *f, const neonflow_preview *p, int64_t now)
{
    const char *reason = neonflow_preview_prune_reason(p);
    fprintf(f, "%-24s %-24s %-44s %-22s %-22s %s\n", term_esc(neonflow_preview_label(p)),
            term_esc(neonflow_preview_branch_id(p)), dash(neonflow_preview_host(p)),
            dash(neonflow_preview_created_at(p)), dash(neonflow_preview_expires_at(p)),
            reason ? term_esc(reason) : expired(p, now) ? "yes" : "no");
}

static int fail(cli *c, const char *what, int rc, neonflow_error *err)
{
    if (rc == NEONFLOW_EUNCERTAIN) {
        char w[256];
        snprintf(w, sizeof w, "%s (outcome unknown: run the same command again; it continues safely)", what);
        out_error(c, w, rc, err);
        neonflow_error_free(err);
        return EXIT_UNCERTAIN;
    }
    out_error(c, what, rc, err);
    neonflow_error_free(err);
    return cli_exit_for(rc);
}

static int preview_create(cli *c)
{
    neonflow_preview_create_options *o = NULL;
    neonflow_preview *p = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_preview_create_options_new(&o);
    if (rc == 0)
        rc = neonflow_preview_create_options_set_label(o, c->args[0]);
    if (rc == 0 && c->parent)
        rc = neonflow_preview_create_options_set_parent(o, c->parent);
    if (rc == 0 && c->ttl_s > 0)
        rc = neonflow_preview_create_options_set_ttl_s(o, c->ttl_s);
    if (rc == 0 && c->expires_at && neonflow_preview_create_options_set_expires_at(o, c->expires_at) != 0) {
        neonflow_preview_create_options_free(o);
        out_errorf(c, "preview create: invalid --expires-at '%s': expected an RFC 3339 time like "
                      "2030-01-31T12:00:00Z", c->expires_at);
        return EXIT_USAGE;
    }
    if (rc == 0)
        rc = neonflow_preview_create_options_set_connection_uri(o, !c->no_uri);
    if (rc != 0) {
        neonflow_preview_create_options_free(o);
        out_errorf(c, "preview create: cannot set the options (%s)", neonflow_strerror(rc));
        return rc == NEONFLOW_EINVAL ? EXIT_USAGE : EXIT_FAIL;
    }
    if (c->dry_run) {
        printf("would create preview %s%s (child of %s) with a read-write compute\n", NEONFLOW_PREVIEW_PREFIX,
               term_esc(c->args[0]), term_esc(c->parent ? c->parent : "dev"));
        neonflow_preview_create_options_free(o);
        return EXIT_OK;
    }
    rc = neonflow_preview_create(&p, c->client, c->project_id, o, cli_call(c), &err);
    neonflow_preview_create_options_free(o);
    if (rc)
        return fail(c, "preview create", rc, err);
    if (c->json) {
        out_json_print(preview_json(p, wall_ms()));
    } else {
        /* stdout: the connection string alone (for $(...)); the rest on stderr */
        const char *uri = neonflow_preview_connection_uri(p);
        printf("%s\n", uri ? term_esc(uri) : dash(neonflow_preview_host(p)));
        fprintf(stderr, "preview %s: branch %s, host %s, expires %s\n", term_esc(neonflow_preview_label(p)),
                term_esc(neonflow_preview_branch_id(p)), dash(neonflow_preview_host(p)),
                neonflow_preview_expires_at(p) ? term_esc(neonflow_preview_expires_at(p)) : "never");
    }
    neonflow_preview_free(p);
    return EXIT_OK;
}

static void print_list(cli *c, const neonflow_preview_list *l, int pruned, const char *none)
{
    int64_t now = wall_ms();
    size_t n = neonflow_preview_list_count(l);
    if (c->json) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, preview_json(neonflow_preview_list_at(l, i), now));
        out_json_print(a);
    } else if (n == 0) {
        printf("%s\n", none);
    } else {
        header(stdout, pruned);
        for (size_t i = 0; i < n; i++)
            row(stdout, neonflow_preview_list_at(l, i), now);
    }
}

static int preview_list(cli *c)
{
    neonflow_preview_list *l = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_previews_list(&l, c->client, c->project_id, NULL, cli_call(c), &err);
    if (rc)
        return fail(c, "preview list", rc, err);
    print_list(c, l, 0, "no previews");
    neonflow_preview_list_free(l);
    return EXIT_OK;
}

static int preview_delete(cli *c)
{
    neonflow_error *err = NULL;
    const char *label = c->args[0];
    if (c->dry_run || !c->yes) {
        fprintf(c->dry_run ? stdout : stderr, "%s preview '%s' (its branch and compute)\n",
                c->dry_run ? "would delete" : "will delete", term_esc(label));
        if (c->dry_run)
            return EXIT_OK;
        if (!out_confirm(c, "Proceed?")) {
            out_errorf(c, "preview delete: not confirmed; nothing was changed");
            return EXIT_USAGE;
        }
    }
    int rc = neonflow_preview_delete(c->client, c->project_id, label, NULL, cli_call(c), &err);
    if (rc)
        return fail(c, "preview delete", rc, err);
    if (!c->json)
        fprintf(stderr, "preview '%s' deleted (or already gone)\n", term_esc(label));
    return EXIT_OK;
}

static int prune_once(cli *c, int dry, neonflow_preview_list **out, neonflow_error **err)
{
    neonflow_previews_prune_options *o = NULL;
    int rc = neonflow_previews_prune_options_new(&o);
    if (rc == 0)
        rc = neonflow_previews_prune_options_set_expired(o, c->expired);
    if (rc == 0 && c->unused_s > 0)
        rc = neonflow_previews_prune_options_set_unused_s(o, c->unused_s);
    if (rc == 0 && c->keep >= 0)
        rc = neonflow_previews_prune_options_set_keep_newest(o, c->keep);
    if (rc == 0)
        rc = neonflow_previews_prune_options_set_dry_run(o, dry);
    if (rc == 0)
        rc = neonflow_previews_prune(out, c->client, c->project_id, o, cli_call(c), err);
    neonflow_previews_prune_options_free(o);
    return rc;
}

static int preview_prune(cli *c)
{
    neonflow_preview_list *l = NULL;
    neonflow_error *err = NULL;
    int rc;
    if (c->dry_run || !c->yes) { /* show the plan first */
        rc = prune_once(c, 1, &l, &err);
        if (rc) {
            neonflow_preview_list_free(l);
            return fail(c, "preview prune", rc, err);
        }
        size_t n = neonflow_preview_list_count(l);
        if (c->dry_run) {
            print_list(c, l, 1, "nothing to prune");
            neonflow_preview_list_free(l);
            return EXIT_OK;
        }
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "will delete preview '%s' (%s)\n", term_esc(neonflow_preview_label(neonflow_preview_list_at(l, i))),
                    term_esc(neonflow_preview_prune_reason(neonflow_preview_list_at(l, i))));
        neonflow_preview_list_free(l);
        l = NULL;
        if (n == 0) {
            print_list(c, NULL, 1, "nothing to prune");
            return EXIT_OK;
        }
        if (!out_confirm(c, "Proceed?")) {
            out_errorf(c, "preview prune: not confirmed; nothing was changed");
            return EXIT_USAGE;
        }
    }
    rc = prune_once(c, 0, &l, &err);
    print_list(c, l, 1, "nothing to prune");
    neonflow_preview_list_free(l);
    return rc ? fail(c, "preview prune", rc, err) : EXIT_OK;
}

int cmd_preview(cli *c)
{
    switch (c->cmd) {
    case CMD_PREVIEW_CREATE: return preview_create(c);
    case CMD_PREVIEW_LIST: return preview_list(c);
    case CMD_PREVIEW_DELETE: return preview_delete(c);
    case CMD_PREVIEW_PRUNE: return preview_prune(c);
    default: return EXIT_USAGE;
    }
}
