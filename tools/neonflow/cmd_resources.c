/* neonflow CLI — resource commands: snapshots list/create/delete, branches
 * list, operations list/wait. One libneonflow API call each (plus the wait
 * for the operations a mutation returns). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"

static json_t *js(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

static json_t *jint(int64_t v, int64_t absent)
{
    return v == absent ? json_null() : json_integer(v);
}

/* null when Neon did not send the field */
static json_t *jbool(int has, int v)
{
    return has ? json_boolean(v) : json_null();
}

static const char *dash(const char *s)
{
    return s && *s ? term_esc(s) : "-";
}

static int fail(cli *c, const char *what, int rc, neonflow_error *err)
{
    if (rc == NEONFLOW_EUNCERTAIN) {
        char w[256];
        snprintf(w, sizeof w, "%s (outcome unknown: check with 'neonflow %s list' before retrying)", what,
                 c->cmd == CMD_SNAPSHOTS_CREATE || c->cmd == CMD_SNAPSHOTS_DELETE ? "snapshots" : "operations");
        out_error(c, w, rc, err);
        neonflow_error_free(err);
        return EXIT_UNCERTAIN;
    }
    out_error(c, what, rc, err);
    neonflow_error_free(err);
    return cli_exit_for(rc);
}

/* ---- operations ------------------------------------------------------------ */
static json_t *op_json(const neonflow_operation *op)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", js(neonflow_operation_id(op)));
    json_object_set_new(o, "action", js(neonflow_operation_action_raw(op)));
    json_object_set_new(o, "status", js(neonflow_operation_status_raw(op)));
    json_object_set_new(o, "branch_id", js(neonflow_operation_branch_id(op)));
    json_object_set_new(o, "endpoint_id", js(neonflow_operation_endpoint_id(op)));
    json_object_set_new(o, "error", js(neonflow_operation_error(op)));
    json_object_set_new(o, "failures_count", jint(neonflow_operation_failures_count(op), -1));
    json_object_set_new(o, "created_at", js(neonflow_operation_created_at(op)));
    json_object_set_new(o, "updated_at", js(neonflow_operation_updated_at(op)));
    json_object_set_new(o, "total_duration_ms", jint(neonflow_operation_total_duration_ms(op), -1));
    return o;
}

static void op_row(FILE *f, const neonflow_operation *op)
{
    fprintf(f, "%-36s  %-22s %-11s %-24s %-24s %s\n", term_esc(neonflow_operation_id(op)),
            term_esc(neonflow_operation_action_raw(op)), term_esc(neonflow_operation_status_raw(op)),
            dash(neonflow_operation_branch_id(op)), dash(neonflow_operation_created_at(op)),
            dash(neonflow_operation_error(op)));
}

static void op_header(FILE *f)
{
    fprintf(f, "%-36s  %-22s %-11s %-24s %-24s %s\n", "ID", "ACTION", "STATUS", "BRANCH", "CREATED", "ERROR");
}

static int progress(const neonflow_operation *op, void *payload)
{
    const cli *c = payload;
    out_lock();
    out_progress_end();
    if (c->stderr_tty) {
        fprintf(stderr, "\r\033[K  ... operation %s %s: %s", term_esc(neonflow_operation_id(op)),
                term_esc(neonflow_operation_action_raw(op)), term_esc(neonflow_operation_status_raw(op)));
        if (neonflow_operation_is_done(op))
            fputc('\n', stderr);
    } else {
        fprintf(stderr, "[%5.1fs] operation %s %s: %s\n", (double)(cli_now_ms() - c->start_ms) / 1000.0,
                term_esc(neonflow_operation_id(op)), term_esc(neonflow_operation_action_raw(op)),
                term_esc(neonflow_operation_status_raw(op)));
    }
    fflush(stderr);
    out_unlock();
    return 0;
}

static int await_opts(cli *c, neonflow_await_options **o)
{
    int64_t left = c->deadline_ms - cli_now_ms();
    if (neonflow_await_options_new(o) != 0)
        return -1;
    int rc = neonflow_await_options_set_timeout_ms(*o, left > 1 ? left : 1);
    rc |= neonflow_await_options_set_cancel(*o, c->cancel);
    rc |= neonflow_await_options_set_progress_hook(*o, progress, c, NULL);
    return rc;
}

/* Waits for the operations of a mutation; prints the error itself. */
static int await_ops(cli *c, const char *what, const neonflow_operation_list *ops)
{
    neonflow_await_options *o = NULL;
    neonflow_error *err = NULL;
    if (!ops || neonflow_operation_list_count(ops) == 0)
        return 0;
    if (await_opts(c, &o) != 0) {
        neonflow_await_options_free(o);
        return fail(c, what, NEONFLOW_ENOMEM, NULL);
    }
    int rc = neonflow_operations_await(NULL, c->client, c->project_id, ops, o, cli_call(c), &err);
    neonflow_await_options_free(o);
    return rc ? fail(c, what, rc, err) : 0;
}

static int operations_list(cli *c)
{
    neonflow_operation_list *l = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_operations_list(&l, c->client, c->project_id, NULL, c->limit, cli_call(c), &err);
    if (rc)
        return fail(c, "operations list", rc, err);
    size_t n = neonflow_operation_list_count(l);
    if (c->json) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, op_json(neonflow_operation_list_at(l, i)));
        out_json_print(a);
    } else {
        op_header(stdout);
        for (size_t i = 0; i < n; i++)
            op_row(stdout, neonflow_operation_list_at(l, i));
    }
    neonflow_operation_list_free(l);
    return EXIT_OK;
}

static int operations_wait(cli *c)
{
    neonflow_await_options *o = NULL;
    neonflow_await_result *res = NULL;
    neonflow_error *err = NULL;
    if (await_opts(c, &o) != 0) {
        neonflow_await_options_free(o);
        return fail(c, "operations wait", NEONFLOW_ENOMEM, NULL);
    }
    int rc = neonflow_operation_ids_await(&res, c->client, c->project_id, (const char *const *)c->args,
                                          (size_t)c->nargs, o, NULL, &err);
    neonflow_await_options_free(o);
    if (rc == NEONFLOW_EINVAL) {
        neonflow_await_result_free(res);
        out_error(c, "operations wait: invalid operation id", rc, err);
        neonflow_error_free(err);
        return EXIT_USAGE;
    }
    const neonflow_operation_list *l = neonflow_await_result_operations(res);
    size_t n = neonflow_operation_list_count(l);
    if (c->json) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, op_json(neonflow_operation_list_at(l, i)));
        out_json_print(a);
    } else if (n) {
        op_header(stdout);
        for (size_t i = 0; i < n; i++)
            op_row(stdout, neonflow_operation_list_at(l, i));
    }
    neonflow_await_result_free(res);
    if (rc)
        return fail(c, "operations wait", rc, err);
    return EXIT_OK;
}

/* ---- snapshots -------------------------------------------------------------- */
static json_t *snap_json(const neonflow_snapshot *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", js(neonflow_snapshot_id(s)));
    json_object_set_new(o, "name", js(neonflow_snapshot_name(s)));
    json_object_set_new(o, "source_branch_id", js(neonflow_snapshot_source_branch_id(s)));
    json_object_set_new(o, "lsn", js(neonflow_snapshot_lsn(s)));
    json_object_set_new(o, "timestamp", js(neonflow_snapshot_timestamp(s)));
    json_object_set_new(o, "created_at", js(neonflow_snapshot_created_at(s)));
    json_object_set_new(o, "expires_at", js(neonflow_snapshot_expires_at(s)));
    json_object_set_new(o, "manual", jbool(neonflow_snapshot_has_manual(s), neonflow_snapshot_is_manual(s)));
    json_object_set_new(o, "full_size", jint(neonflow_snapshot_full_size_bytes(s), -1));
    return o;
}

static void snap_header(FILE *f)
{
    fprintf(f, "%-24s %-48s %-24s %-22s %s\n", "ID", "NAME", "SOURCE BRANCH", "CREATED", "EXPIRES");
}

static void snap_row(FILE *f, const neonflow_snapshot *s)
{
    fprintf(f, "%-24s %-48s %-24s %-22s %s\n", term_esc(neonflow_snapshot_id(s)), dash(neonflow_snapshot_name(s)),
            dash(neonflow_snapshot_source_branch_id(s)), dash(neonflow_snapshot_created_at(s)),
            dash(neonflow_snapshot_expires_at(s)));
}

static int snapshots_list(cli *c)
{
    neonflow_snapshot_list *l = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_snapshots_list(&l, c->client, c->project_id, cli_call(c), &err);
    if (rc)
        return fail(c, "snapshots list", rc, err);
    size_t n = neonflow_snapshot_list_count(l);
    if (c->json) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, snap_json(neonflow_snapshot_list_at(l, i)));
        out_json_print(a);
    } else if (n == 0) {
        printf("no snapshots\n");
    } else {
        snap_header(stdout);
        for (size_t i = 0; i < n; i++)
            snap_row(stdout, neonflow_snapshot_list_at(l, i));
    }
    neonflow_snapshot_list_free(l);
    return EXIT_OK;
}

/* By exact name first, then as an ID. */
static int resolve_branch(cli *c, const char *name_or_id, neonflow_branch **out)
{
    neonflow_error *err = NULL;
    int rc = neonflow_branch_find_by_name(out, c->client, c->project_id, name_or_id, cli_call(c), &err);
    if (rc == NEONFLOW_ENOTFOUND && strncmp(name_or_id, "br-", 3) == 0) {
        neonflow_error_free(err);
        err = NULL;
        rc = neonflow_branch_get(out, c->client, c->project_id, name_or_id, cli_call(c), &err);
    }
    if (rc == NEONFLOW_ENOTFOUND || (rc == NEONFLOW_EINVAL && !*out)) {
        out_errorf(c, "%s: no branch named '%s' in project %s", c->cmd_name, name_or_id, c->project_id);
        neonflow_error_free(err);
        return EXIT_FAIL;
    }
    return rc ? fail(c, c->cmd_name, rc, err) : EXIT_OK;
}

static int snapshots_create(cli *c)
{
    neonflow_branch *b = NULL;
    neonflow_snapshot_create_options *o = NULL;
    neonflow_snapshot *s = NULL;
    neonflow_operation_list *ops = NULL;
    neonflow_error *err = NULL;
    char expires[40] = "";
    int code = resolve_branch(c, c->branch, &b);
    if (code)
        return code;
    if (c->expires_in_s > 0)
        cli_format_rfc3339(expires, sizeof expires, (int64_t)time(NULL) + c->expires_in_s);
    if (c->dry_run) {
        if (c->json) {
            json_t *p = json_object();
            json_object_set_new(p, "dry_run", json_true());
            json_object_set_new(p, "branch_id", js(neonflow_branch_id(b)));
            json_object_set_new(p, "branch_name", js(neonflow_branch_name(b)));
            json_object_set_new(p, "name", js(c->name));
            json_object_set_new(p, "expires_at", js(*expires ? expires : NULL));
            out_json_print(p);
        } else {
            printf("would snapshot branch %s (%s)%s%s%s%s\n", term_esc(neonflow_branch_name(b)),
                   term_esc(neonflow_branch_id(b)), c->name ? " named " : "", c->name ? term_esc(c->name) : "",
                   *expires ? ", expiring " : "", expires);
        }
        neonflow_branch_free(b);
        return EXIT_OK;
    }
    if (neonflow_snapshot_create_options_new(&o) != 0 ||
        (c->name && neonflow_snapshot_create_options_set_name(o, c->name) != 0) ||
        (*expires && neonflow_snapshot_create_options_set_expires_at(o, expires) != 0)) {
        neonflow_snapshot_create_options_free(o);
        neonflow_branch_free(b);
        out_errorf(c, "snapshots create: invalid --name or --expires-in");
        return EXIT_USAGE;
    }
    int rc = neonflow_snapshot_create(&s, &ops, c->client, c->project_id, neonflow_branch_id(b), o, cli_call(c), &err);
    neonflow_snapshot_create_options_free(o);
    neonflow_branch_free(b);
    if (rc)
        return fail(c, "snapshots create", rc, err);
    code = await_ops(c, "snapshots create: waiting for the snapshot", ops);
    if (c->json) {
        out_json_print(snap_json(s));
    } else {
        snap_header(stdout);
        snap_row(stdout, s);
    }
    neonflow_operation_list_free(ops);
    neonflow_snapshot_free(s);
    return code;
}

static int snapshots_delete(cli *c)
{
    neonflow_snapshot *s = NULL;
    neonflow_operation_list *ops = NULL;
    neonflow_error *err = NULL;
    const char *id = c->args[0];
    int rc = neonflow_snapshot_find_by_id(&s, c->client, c->project_id, id, cli_call(c), &err);
    if (rc == NEONFLOW_ENOTFOUND || rc == NEONFLOW_EINVAL) {
        neonflow_error_free(err);
        out_errorf(c, "snapshots delete: no snapshot with id '%s' in project %s", id, c->project_id);
        return EXIT_FAIL;
    }
    if (rc)
        return fail(c, "snapshots delete", rc, err);
    if (c->dry_run || !c->yes) {
        FILE *f = c->dry_run ? stdout : stderr;
        if (c->dry_run && c->json) {
            json_t *p = json_object();
            json_object_set_new(p, "dry_run", json_true());
            json_object_set_new(p, "delete", snap_json(s));
            out_json_print(p);
        } else {
            fprintf(f, "%s snapshot %s (%s), taken from branch %s at %s\n", c->dry_run ? "would delete" : "will delete",
                    term_esc(neonflow_snapshot_id(s)), dash(neonflow_snapshot_name(s)),
                    dash(neonflow_snapshot_source_branch_id(s)), dash(neonflow_snapshot_created_at(s)));
        }
        if (c->dry_run) {
            neonflow_snapshot_free(s);
            return EXIT_OK;
        }
        if (!out_confirm(c, "Proceed?")) {
            neonflow_snapshot_free(s);
            out_errorf(c, "snapshots delete: not confirmed; nothing was changed");
            return EXIT_USAGE;
        }
    }
    rc = neonflow_snapshot_delete(&ops, c->client, c->project_id, id, cli_call(c), &err);
    if (rc) {
        neonflow_snapshot_free(s);
        return fail(c, "snapshots delete", rc, err);
    }
    int code = await_ops(c, "snapshots delete: waiting for the deletion", ops);
    if (c->json) {
        json_t *p = json_object();
        json_object_set_new(p, "deleted", snap_json(s));
        out_json_print(p);
    } else {
        printf("deleted snapshot %s (%s)\n", term_esc(id), dash(neonflow_snapshot_name(s)));
    }
    neonflow_operation_list_free(ops);
    neonflow_snapshot_free(s);
    return code;
}

/* ---- branches --------------------------------------------------------------- */
static const char *restore_status(const neonflow_branch *b)
{
    return neonflow_branch_restore_status(b) == NEONFLOW_RESTORE_STATUS_NONE ? NULL
                                                                            : neonflow_branch_restore_status_raw(b);
}

static int branches_list(cli *c)
{
    neonflow_branch_list *l = NULL;
    neonflow_endpoint_list *eps = NULL;
    neonflow_error *err = NULL;
    neonflow_branches_list_options *lo = NULL;
    int rc = neonflow_branches_list_options_new(&lo);
    if (!rc)
        rc = neonflow_branches_list_options_set_search(lo, c->search);
    if (!rc)
        rc = neonflow_branches_list_options_set_limit(lo, c->limit);
    if (!rc && (rc = neonflow_branches_list_options_set_cursor(lo, c->cursor)) == NEONFLOW_EINVAL) {
        neonflow_branches_list_options_free(lo);
        out_errorf(c, "branches list: invalid --cursor: pass back the value a previous page printed");
        return EXIT_USAGE;
    }
    if (!rc)
        rc = neonflow_branches_list(&l, c->client, c->project_id, lo, cli_call(c), &err);
    neonflow_branches_list_options_free(lo);
    if (rc)
        return fail(c, "branches list", rc, err);
    /* one page (--limit/--cursor): the way to the next one, beside the data */
    if (neonflow_branch_list_next_cursor(l))
        fprintf(stderr, "next cursor: %s\n", term_esc(neonflow_branch_list_next_cursor(l)));
    rc = neonflow_endpoints_list(&eps, c->client, c->project_id, cli_call(c), &err);
    if (rc) {
        neonflow_branch_list_free(l);
        return fail(c, "branches list: listing endpoints", rc, err);
    }
    size_t n = neonflow_branch_list_count(l), ne = neonflow_endpoint_list_count(eps);
    json_t *a = c->json ? json_array() : NULL;
    int wname = 4, wid = 2; /* columns as wide as their longest value */
    for (size_t i = 0; i < n; i++) {
        const neonflow_branch *b = neonflow_branch_list_at(l, i);
        int nw = term_width(neonflow_branch_name(b)), iw = term_width(neonflow_branch_id(b));
        wname = nw > wname ? nw : wname;
        wid = iw > wid ? iw : wid;
    }
    if (!c->json)
        printf("%-*s  %-*s  %-5s %-5s %-8s %-9s %s\n", wname, "NAME", wid, "ID", "ROOT", "DEFLT", "STATE",
               "RESTORE", "ENDPOINT");
    for (size_t i = 0; i < n; i++) {
        const neonflow_branch *b = neonflow_branch_list_at(l, i);
        const char *host = NULL;
        json_t *ej = c->json ? json_array() : NULL;
        for (size_t k = 0; k < ne; k++) {
            const neonflow_endpoint *e = neonflow_endpoint_list_at(eps, k);
            if (strcmp(neonflow_endpoint_branch_id(e), neonflow_branch_id(b)) != 0)
                continue;
            if (!host || neonflow_endpoint_type(e) == NEONFLOW_ENDPOINT_TYPE_READ_WRITE)
                host = neonflow_endpoint_host(e);
            if (ej) {
                json_t *eo = json_object();
                json_object_set_new(eo, "id", js(neonflow_endpoint_id(e)));
                json_object_set_new(eo, "host", js(neonflow_endpoint_host(e)));
                json_object_set_new(eo, "type", js(neonflow_endpoint_type_raw(e)));
                json_array_append_new(ej, eo);
            }
        }
        if (a) {
            json_t *o = json_object();
            json_object_set_new(o, "id", js(neonflow_branch_id(b)));
            json_object_set_new(o, "name", js(neonflow_branch_name(b)));
            json_object_set_new(o, "parent_id", js(neonflow_branch_parent_id(b)));
            json_object_set_new(o, "default", jbool(neonflow_branch_has_default(b), neonflow_branch_is_default(b)));
            json_object_set_new(o, "protected",
                                jbool(neonflow_branch_has_protected(b), neonflow_branch_is_protected(b)));
            json_object_set_new(o, "current_state", js(neonflow_branch_current_state_raw(b)));
            json_object_set_new(o, "restore_status", js(restore_status(b)));
            json_object_set_new(o, "restored_from", js(neonflow_branch_restored_from(b)));
            json_object_set_new(o, "restored_as", js(neonflow_branch_restored_as(b)));
            json_object_set_new(o, "created_at", js(neonflow_branch_created_at(b)));
            json_object_set_new(o, "logical_size", jint(neonflow_branch_logical_size_bytes(b), -1));
            json_object_set_new(o, "endpoints", ej);
            json_array_append_new(a, o);
        } else {
            printf("%-*s  %-*s  %-5s %-5s %-8s %-9s %s\n", wname, term_esc(neonflow_branch_name(b)), wid,
                   term_esc(neonflow_branch_id(b)),
                   neonflow_branch_parent_id(b) ? "child" : "root", neonflow_branch_is_default(b) ? "yes" : "",
                   dash(neonflow_branch_current_state_raw(b)), dash(restore_status(b)), dash(host));
        }
    }
    if (a)
        out_json_print(a);
    neonflow_endpoint_list_free(eps);
    neonflow_branch_list_free(l);
    return EXIT_OK;
}

int cmd_resources(cli *c)
{
    /* The read-only commands ignore --dry-run: running them changes nothing. */
    switch (c->cmd) {
    case CMD_SNAPSHOTS_LIST: return snapshots_list(c);
    case CMD_SNAPSHOTS_CREATE: return snapshots_create(c);
    case CMD_SNAPSHOTS_DELETE: return snapshots_delete(c);
    case CMD_BRANCHES_LIST: return branches_list(c);
    case CMD_OPERATIONS_LIST: return operations_list(c);
    case CMD_OPERATIONS_WAIT: return operations_wait(c);
    default: return EXIT_USAGE;
    }
}
