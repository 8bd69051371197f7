/* neonflow CLI — the workflow commands: setup, promote, refresh, rollback,
 * backups list, backups prune. Each is one libneonflow workflow call; the
 * destructive ones first show their plan (a dry run) and ask on a terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

struct hook_ctx {
    cli *c;
    const char *what;
    const char *cmd;
};

static int branch_hook(const neonflow_branch_hook_ctx *x, void *payload)
{
    struct hook_ctx *h = payload;
    const neonflow_branch *b = neonflow_branch_hook_ctx_branch(x);
    out_lock();
    out_progress_end();
    fprintf(stderr, "  running %s on %s (%s)\n", h->what, term_esc(neonflow_branch_name(b)),
            term_esc(neonflow_branch_id(b)));
    out_unlock();
    /* asked for only here, where a command will use it (it costs requests) */
    return cli_run_hook(h->c, h->what, h->cmd, b, neonflow_branch_hook_ctx_connection_uri(x));
}

struct wf_opts {
    neonflow_setup_options *setup;
    neonflow_promote_options *promote;
    neonflow_refresh_options *refresh;
    neonflow_rollback_options *rollback;
    neonflow_prune_options *prune;
    neonflow_backups_list_options *backups;
    struct hook_ctx verify, after;
};

static void wf_opts_free(struct wf_opts *w)
{
    neonflow_setup_options_free(w->setup);
    neonflow_promote_options_free(w->promote);
    neonflow_refresh_options_free(w->refresh);
    neonflow_rollback_options_free(w->rollback);
    neonflow_prune_options_free(w->prune);
    neonflow_backups_list_options_free(w->backups);
}

static int bad_value(const cli *c, const char *opt, const char *v)
{
    out_errorf(c, "invalid %s '%s' (see neonflow --help)", opt, v ? v : "");
    return EXIT_USAGE;
}

/* Returns EXIT_OK or an exit code after printing the error. */
static int build_opts(cli *c, struct wf_opts *w)
{
    int rc = 0;
    switch (c->cmd) {
    case CMD_SETUP:
        if (neonflow_setup_options_new(&w->setup) != 0)
            return EXIT_FAIL;
        if (c->source && neonflow_setup_options_set_source(w->setup, c->source) != 0)
            return bad_value(c, "--source", c->source);
        if (c->dev_name && neonflow_setup_options_set_dev_name(w->setup, c->dev_name) != 0)
            return bad_value(c, "--dev-name", c->dev_name);
        break;
    case CMD_PROMOTE:
        if (neonflow_promote_options_new(&w->promote) != 0)
            return EXIT_FAIL;
        if (c->source && neonflow_promote_options_set_source(w->promote, c->source) != 0)
            return bad_value(c, "--source", c->source);
        if (c->target && neonflow_promote_options_set_target(w->promote, c->target) != 0)
            return bad_value(c, "--target", c->target);
        if (c->verify_cmd) {
            w->verify = (struct hook_ctx){c, "verify command", c->verify_cmd};
            rc |= neonflow_promote_options_set_verify_hook(w->promote, branch_hook, &w->verify, NULL);
        }
        if (c->after_cmd) {
            w->after = (struct hook_ctx){c, "after-switch command", c->after_cmd};
            rc |= neonflow_promote_options_set_after_switch_hook(w->promote, branch_hook, &w->after, NULL);
        }
        if (c->auto_rollback)
            rc |= neonflow_promote_options_set_auto_rollback(w->promote, 1);
        if (c->verify_compute)
            rc |= neonflow_promote_options_set_verify_compute(w->promote, 1);
        break;
    case CMD_REFRESH:
        if (neonflow_refresh_options_new(&w->refresh) != 0)
            return EXIT_FAIL;
        if (c->source && neonflow_refresh_options_set_source(w->refresh, c->source) != 0)
            return bad_value(c, "--source", c->source);
        if (c->target && neonflow_refresh_options_set_target(w->refresh, c->target) != 0)
            return bad_value(c, "--target", c->target);
        if (c->delete_backup)
            rc |= neonflow_refresh_options_set_delete_backup(w->refresh, 1);
        if (c->verify_cmd) {
            w->verify = (struct hook_ctx){c, "verify command", c->verify_cmd};
            rc |= neonflow_refresh_options_set_verify_hook(w->refresh, branch_hook, &w->verify, NULL);
        }
        if (c->verify_compute)
            rc |= neonflow_refresh_options_set_verify_compute(w->refresh, 1);
        break;
    case CMD_ROLLBACK:
        if (neonflow_rollback_options_new(&w->rollback) != 0)
            return EXIT_FAIL;
        if (c->target && neonflow_rollback_options_set_target(w->rollback, c->target) != 0)
            return bad_value(c, "--target", c->target);
        if (c->snapshot_id && neonflow_rollback_options_set_snapshot_id(w->rollback, c->snapshot_id) != 0)
            return bad_value(c, "--snapshot", c->snapshot_id);
        if (c->no_snapshot_first)
            rc |= neonflow_rollback_options_set_snapshot_first(w->rollback, 0);
        break;
    case CMD_BACKUPS_PRUNE:
        if (neonflow_prune_options_new(&w->prune) != 0)
            return EXIT_FAIL;
        if (c->keep >= 0 && neonflow_prune_options_set_keep_newest(w->prune, c->keep) != 0)
            return bad_value(c, "--keep", "");
        if (c->older_than_s >= 0 && neonflow_prune_options_set_older_than_s(w->prune, c->older_than_s) != 0)
            return bad_value(c, "--older-than", "");
        if (c->branches_only)
            rc |= neonflow_prune_options_set_snapshots(w->prune, 0);
        if (c->snapshots_only)
            rc |= neonflow_prune_options_set_branches(w->prune, 0);
        break;
    case CMD_BACKUPS_LIST:
        if (neonflow_backups_list_options_new(&w->backups) != 0)
            return EXIT_FAIL;
        if (c->target && neonflow_backups_list_options_set_target(w->backups, c->target) != 0)
            return bad_value(c, "--target", c->target);
        if (c->older_than_s >= 0 && neonflow_backups_list_options_set_older_than_s(w->backups, c->older_than_s) != 0)
            return bad_value(c, "--older-than", "");
        if (c->branches_only)
            rc |= neonflow_backups_list_options_set_snapshots(w->backups, 0);
        if (c->snapshots_only)
            rc |= neonflow_backups_list_options_set_branches(w->backups, 0);
        break;
    default: break;
    }
    return rc ? EXIT_FAIL : EXIT_OK;
}

static int build_run(cli *c, neonflow_run_options **out, int dry, int events, const char *run_id)
{
    neonflow_run_options *run = NULL;
    if (neonflow_run_options_new(&run) != 0)
        return EXIT_FAIL;
    *out = run;
    if (neonflow_run_options_set_project_id(run, c->project_id) != 0)
        return bad_value(c, "project id", c->project_id);
    if (run_id && neonflow_run_options_set_run_id(run, run_id) != 0) {
        out_errorf(c, "invalid --run-id '%s': 1-32 characters of a-z, 0-9 and '-'", run_id);
        return EXIT_USAGE;
    }
    int64_t left = c->deadline_ms - cli_now_ms();
    int rc = neonflow_run_options_set_timeout_ms(run, left > 1 ? left : 1);
    rc |= neonflow_run_options_set_cancel(run, c->cancel);
    rc |= neonflow_run_options_set_dry_run(run, dry);
    if (c->lease_wait_s >= 0)
        rc |= neonflow_run_options_set_lease_wait_ms(run, c->lease_wait_s * 1000);
    if (c->lease_ttl_s >= 0)
        rc |= neonflow_run_options_set_lease_ttl_ms(run, c->lease_ttl_s * 1000);
    if (events)
        rc |= neonflow_run_options_set_event_hook(run, out_event, c, NULL);
    return rc ? EXIT_FAIL : EXIT_OK;
}

static int call(cli *c, struct wf_opts *w, const neonflow_run_options *run, neonflow_report **rep,
                neonflow_error **err)
{
    switch (c->cmd) {
    case CMD_SETUP: return neonflow_setup(rep, c->client, run, w->setup, err);
    case CMD_PROMOTE: return neonflow_promote(rep, c->client, run, w->promote, err);
    case CMD_REFRESH: return neonflow_refresh(rep, c->client, run, w->refresh, err);
    case CMD_ROLLBACK: return neonflow_rollback(rep, c->client, run, w->rollback, err);
    case CMD_BACKUPS_LIST: return neonflow_backups_list(rep, c->client, run, w->backups, err);
    case CMD_BACKUPS_PRUNE: return neonflow_prune(rep, c->client, run, w->prune, err);
    default: return NEONFLOW_EINVAL;
    }
}

static int widest(int w, const char *s)
{
    int n = s ? term_width(s) : 0;
    return n > w ? n : w;
}

static void print_backups(FILE *f, const neonflow_report *r)
{
    size_t rows = 0;
    int wrole = 4, wid = 2, wname = 4, wtarget = 6; /* columns as wide as their longest value */
    for (size_t i = 0; i < neonflow_report_step_count(r); i++) {
        const neonflow_step *s = neonflow_report_step_at(r, i);
        for (size_t k = 0; k < neonflow_step_resource_count(s); k++) {
            const neonflow_resource *x = neonflow_step_resource_at(s, k);
            wrole = widest(wrole, neonflow_resource_role(x));
            wid = widest(wid, neonflow_resource_id(x));
            wname = widest(wname, neonflow_resource_name(x));
            wtarget = widest(wtarget, neonflow_resource_target(x));
        }
    }
    for (size_t i = 0; i < neonflow_report_step_count(r); i++) {
        const neonflow_step *s = neonflow_report_step_at(r, i);
        for (size_t k = 0; k < neonflow_step_resource_count(s); k++) {
            const neonflow_resource *x = neonflow_step_resource_at(s, k);
            if (!rows++)
                fprintf(f, "%-8s  %-*s  %-*s  %-*s  %-*s  %6s %10s  %s\n", "KIND", wrole, "ROLE", wid, "ID", wname,
                        "NAME", wtarget, "TARGET", "AGE", "SIZE", "EXPIRES");
            char age[16], size[32];
            int64_t created = neonflow_resource_created_at_ms(x);
            struct timespec tsn;
            clock_gettime(CLOCK_REALTIME, &tsn);
            int64_t wall = (int64_t)tsn.tv_sec * 1000 + tsn.tv_nsec / 1000000;
            cli_format_age(age, sizeof age, created > 0 ? wall - created : 0);
            cli_format_bytes(size, sizeof size, neonflow_resource_size_bytes(x));
            const char *exp = neonflow_resource_expires_at(x);
            fprintf(f, "%-8s  %-*s  %-*s  %-*s  %-*s  %6s %10s  %s\n",
                    neonflow_resource_kind(x) == NEONFLOW_RESOURCE_BRANCH ? "branch" : "snapshot", wrole,
                    term_esc(neonflow_resource_role(x)), wid, term_esc(neonflow_resource_id(x)), wname,
                    term_esc(neonflow_resource_name(x)), wtarget,
                    *neonflow_resource_target(x) ? term_esc(neonflow_resource_target(x)) : "-", age, size,
                    *exp ? term_esc(exp) : "-");
        }
    }
    if (!rows)
        fprintf(f, "no backup branches or neonflow snapshots\n");
}

static int finish(cli *c, int rc, neonflow_report *rep, neonflow_error *err)
{
    if (rep) {
        if (c->json)
            out_report_json(c, rep);
        else if (c->cmd == CMD_BACKUPS_LIST && rc == 0)
            print_backups(stdout, rep);
        else
            out_report_text(stdout, rep);
        fflush(stdout);
    }
    if (rc == 0)
        return EXIT_OK;
    int code = cli_exit_for(rc);
    if (rc != NEONFLOW_EUNCERTAIN && cli_interrupted())
        code = EXIT_TIMEOUT;
    char what[160];
    const char *verb = rc == NEONFLOW_ECALLBACK ? "vetoed" : code == EXIT_TIMEOUT ? "stopped" : "failed";
    snprintf(what, sizeof what, "%s %s", c->cmd_name, verb);
    const char *msg = err ? neonflow_error_message(err) : "";
    if (!*msg)
        msg = neonflow_strerror(rc);
    const char *rid = err ? neonflow_error_request_id(err) : "";
    const char *run_id = rep ? neonflow_report_run_id(rep) : "";
    char hint[128] = "";
    if ((code == EXIT_TIMEOUT || code == EXIT_UNCERTAIN || rc == NEONFLOW_ESTATE) && run_id && *run_id &&
        c->cmd != CMD_BACKUPS_LIST && !strstr(msg, "--run-id"))
        snprintf(hint, sizeof hint, "; re-run with --run-id %s to continue", run_id);
    if (*rid)
        out_errorf(c, "%s: %s (request id: %s)%s", what, msg, rid, hint);
    else
        out_errorf(c, "%s: %s%s", what, msg, hint);
    return code;
}

int cmd_workflow(cli *c)
{
    struct wf_opts w;
    memset(&w, 0, sizeof w);
    neonflow_run_options *run = NULL;
    neonflow_report *rep = NULL;
    neonflow_error *err = NULL;
    char *run_id = c->run_id ? strdup(c->run_id) : NULL;

    int code = build_opts(c, &w);
    if (code != EXIT_OK)
        goto out;

    if (cli_is_destructive(c->cmd) && !c->yes && !c->dry_run) {
        /* main() refused already when stdin is no terminal: show the plan, ask. */
        code = build_run(c, &run, 1, 0, run_id);
        if (code != EXIT_OK)
            goto out;
        int rc = call(c, &w, run, &rep, &err);
        if (rc != 0) {
            code = finish(c, rc, rep, err);
            goto out;
        }
        out_lock();
        out_progress_end();
        out_unlock();
        out_report_text(stderr, rep);
        fputc('\n', stderr);
        if (!run_id && *neonflow_report_run_id(rep))
            run_id = strdup(neonflow_report_run_id(rep));
        neonflow_report_free(rep);
        rep = NULL;
        neonflow_run_options_free(run);
        run = NULL;
        if (!out_confirm(c, "Proceed?")) {
            out_errorf(c, "%s: not confirmed; nothing was changed", c->cmd_name);
            code = EXIT_USAGE;
            goto out;
        }
    }
    code = build_run(c, &run, c->dry_run, 1, run_id);
    if (code != EXIT_OK)
        goto out;
    out_progress_begin(c);
    int rc = call(c, &w, run, &rep, &err);
    code = finish(c, rc, rep, err);
out:
    neonflow_report_free(rep);
    neonflow_error_free(err);
    neonflow_run_options_free(run);
    wf_opts_free(&w);
    free(run_id);
    return code;
}
