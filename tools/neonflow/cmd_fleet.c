/* neonflow CLI — `neonflow fleet promote|refresh|rollback --projects-file FILE`:
 * one workflow over many projects through libneonflow's fleet calls. FILE
 * holds lines `project source target` (rollback: `project target`; '#'
 * starts a comment) or a JSON array of {project, source, target} objects. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

#define FLEET_FILE_MAX (16 * 1024 * 1024)

typedef struct entry_line {
    char *project, *source, *target;
    int line; /* 1-based line (text) or entry number (JSON) */
} entry_line;

typedef struct entries {
    entry_line *v;
    size_t n, cap;
    int json;
} entries;

static void entries_free(entries *es)
{
    for (size_t i = 0; i < es->n; i++) {
        free(es->v[i].project);
        free(es->v[i].source);
        free(es->v[i].target);
    }
    free(es->v);
}

static int entries_add(entries *es, const char *p, const char *s, const char *t, int line)
{
    if (es->n == es->cap) {
        size_t nc = es->cap ? es->cap * 2 : 16;
        entry_line *nv = realloc(es->v, nc * sizeof(*nv));
        if (!nv)
            return -1;
        es->v = nv;
        es->cap = nc;
    }
    entry_line *e = &es->v[es->n];
    e->project = strdup(p);
    e->source = s ? strdup(s) : NULL;
    e->target = strdup(t);
    e->line = line;
    if (!e->project || !e->target || (s && !e->source)) {
        free(e->project);
        free(e->source);
        free(e->target);
        return -1;
    }
    es->n++;
    return 0;
}

static char *read_file(const cli *c, const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        out_errorf(c, "cannot open the projects file '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap >= FLEET_FILE_MAX) {
                out_errorf(c, "the projects file '%s' is larger than 16 MiB", path);
                free(buf);
                buf = NULL;
                break;
            }
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (buf && ferror(f)) {
        out_errorf(c, "cannot read the projects file '%s': %s", path, strerror(errno));
        free(buf);
        buf = NULL;
    }
    if (f != stdin)
        fclose(f);
    if (buf) {
        buf[n] = 0;
        *len = n;
    }
    return buf;
}

/* Text lines: `project source target`, or `project target` (rollback; a
 * rollback also takes three fields and ignores the source, so the file of
 * a promotion rolls it back). */
static int parse_lines(const cli *c, const char *path, char *text, entries *es)
{
    int rollback = c->cmd == CMD_FLEET_ROLLBACK;
    int line = 0;
    for (char *p = text; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        line++;
        char *hash = strchr(p, '#');
        if (hash)
            *hash = 0;
        char *f[4];
        int nf = 0;
        for (char *tok = strtok(p, " \t\r\v\f"); tok; tok = strtok(NULL, " \t\r\v\f"))
            if (nf < 4)
                f[nf++] = tok;
            else
                nf = 5;
        p = nl ? nl + 1 : NULL;
        if (nf == 0)
            continue;
        if (rollback && (nf == 2 || nf == 3)) {
            if (entries_add(es, f[0], NULL, f[nf - 1], line) != 0)
                return EXIT_FAIL;
        } else if (!rollback && nf == 3) {
            if (entries_add(es, f[0], f[1], f[2], line) != 0)
                return EXIT_FAIL;
        } else {
            out_errorf(c, "%s line %d: expected '%s', got %s%d field%s", path, line,
                       rollback ? "project target" : "project source target", nf > 4 ? "more than " : "",
                       nf > 4 ? 4 : nf, nf == 1 ? "" : "s");
            return EXIT_USAGE;
        }
    }
    return EXIT_OK;
}

static const char *jfield(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* JSON: an array of {"project": ..., "source": ..., "target": ...}. */
static int parse_json(const cli *c, const char *path, const char *text, size_t len, entries *es)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root) {
        out_errorf(c, "%s line %d: invalid JSON: %s", path, je.line, je.text);
        return EXIT_USAGE;
    }
    int rollback = c->cmd == CMD_FLEET_ROLLBACK, code = EXIT_OK;
    if (!json_is_array(root)) {
        out_errorf(c, "%s: expected a JSON array of {\"project\", \"source\", \"target\"} objects", path);
        code = EXIT_USAGE;
    }
    size_t i;
    json_t *o;
    json_array_foreach(root, i, o) {
        if (code != EXIT_OK)
            break;
        const char *p = jfield(o, "project"), *s = jfield(o, "source"), *t = jfield(o, "target");
        const char *missing = !json_is_object(o) ? "an object"
                              : !p              ? "\"project\""
                              : !s && !rollback ? "\"source\""
                              : !t              ? "\"target\""
                                                : NULL;
        if (missing) {
            out_errorf(c, "%s: entry %zu: needs %s (strings: project, %starget)", path, i + 1, missing,
                       rollback ? "" : "source, ");
            code = EXIT_USAGE;
        } else if (entries_add(es, p, rollback ? NULL : s, t, (int)i + 1) != 0) {
            code = EXIT_FAIL;
        }
    }
    json_decref(root);
    return code;
}

static int load_entries(const cli *c, entries *es)
{
    size_t len = 0;
    char *text = read_file(c, c->projects_file, &len);
    if (!text)
        return EXIT_USAGE;
    if (memchr(text, 0, len)) {
        out_errorf(c, "%s: not a text file (it holds a NUL byte)", c->projects_file);
        free(text);
        return EXIT_USAGE;
    }
    const char *q = text;
    while (isspace((unsigned char)*q))
        q++;
    es->json = *q == '[' || *q == '{';
    int code = es->json ? parse_json(c, c->projects_file, text, len, es) : parse_lines(c, c->projects_file, text, es);
    free(text);
    if (code == EXIT_OK && es->n == 0) {
        out_errorf(c, "%s: no projects in the file", c->projects_file);
        code = EXIT_USAGE;
    }
    /* one target takes one run: name both lines rather than entry numbers */
    for (size_t i = 0; code == EXIT_OK && i < es->n; i++)
        for (size_t k = 0; k < i; k++)
            if (strcmp(es->v[i].project, es->v[k].project) == 0 && strcmp(es->v[i].target, es->v[k].target) == 0) {
                out_errorf(c, "%s %s %d repeats project %s, target %s of %s %d", c->projects_file,
                           es->json ? "entry" : "line", es->v[i].line, es->v[i].project, es->v[i].target,
                           es->json ? "entry" : "line", es->v[k].line);
                code = EXIT_USAGE;
                break;
            }
    return code;
}

/* ---- progress (fleet event hook) ---------------------------------------------------- */
static void on_fleet(const neonflow_fleet_event *ev, void *payload)
{
    const cli *c = payload;
    const neonflow_fleet_entry *e = neonflow_fleet_event_entry(ev);
    int32_t kind = neonflow_fleet_event_kind(ev);
    double t = (double)neonflow_fleet_event_elapsed_ms(ev) / 1000.0;
    char *project = e ? term_clean(neonflow_fleet_entry_project_id(e)) : NULL;
    char *target = e ? term_clean(neonflow_fleet_entry_target(e)) : NULL;
    char *msg = e ? term_clean(neonflow_fleet_entry_message(e)) : NULL;
    char *run_id = term_clean(neonflow_fleet_event_run_id(ev));
    out_lock();
    out_progress_end();
    if (c->stderr_tty)
        fputs("\r\033[K", stderr); /* our own live line, redrawn below */
    switch (kind) {
    case NEONFLOW_FLEET_EVENT_STARTED:
        fprintf(stderr, "  fleet run id %s (%zu projects)\n", run_id ? run_id : "", neonflow_fleet_event_total(ev));
        break;
    case NEONFLOW_FLEET_EVENT_ENTRY_STARTED:
        if (c->verbose)
            fprintf(stderr, "[%6.1fs] %s %s: started (run id %s)\n", t, project ? project : "", target ? target : "",
                    neonflow_fleet_entry_run_id(e));
        break;
    case NEONFLOW_FLEET_EVENT_ENTRY_DONE:
    case NEONFLOW_FLEET_EVENT_ENTRY_FAILED: {
        int32_t st = neonflow_fleet_entry_status(e);
        fprintf(stderr, "[%6.1fs] %s %s: %s", t, project ? project : "", target ? target : "",
                neonflow_fleet_entry_status_name(st));
        if (st != NEONFLOW_FLEET_ENTRY_DONE)
            fprintf(stderr, " (%s): %s", neonflow_error_name(neonflow_fleet_entry_result(e)), msg ? msg : "");
        fputc('\n', stderr);
        break;
    }
    default: break;
    }
    if (c->stderr_tty && kind != NEONFLOW_FLEET_EVENT_ENDED)
        fprintf(stderr, "\r\033[K  %zu/%zu done, %zu failed, %zu running", /* the live line */
                neonflow_fleet_event_count(ev, NEONFLOW_FLEET_ENTRY_DONE), neonflow_fleet_event_total(ev),
                neonflow_fleet_event_count(ev, NEONFLOW_FLEET_ENTRY_FAILED) +
                    neonflow_fleet_event_count(ev, NEONFLOW_FLEET_ENTRY_CANCELLED),
                neonflow_fleet_event_count(ev, NEONFLOW_FLEET_ENTRY_RUNNING));
    else if (c->stderr_tty)
        fputs("\r\033[K", stderr);
    fflush(stderr);
    out_unlock();
    free(project);
    free(target);
    free(msg);
    free(run_id);
}

/* ---- output ----------------------------------------------------------------------------- */
static void print_text(const neonflow_fleet_report *r)
{
    size_t n = neonflow_fleet_report_entry_count(r);
    int wp = 7, wt = 6, ws = 6, wr = 6;
    for (size_t i = 0; i < n; i++) {
        const neonflow_fleet_entry *e = neonflow_fleet_report_entry_at(r, i);
        int a = term_width(neonflow_fleet_entry_project_id(e)), b = term_width(neonflow_fleet_entry_target(e));
        int s = term_width(neonflow_fleet_entry_source(e)), d = term_width(neonflow_fleet_entry_run_id(e));
        wp = a > wp ? a : wp;
        wt = b > wt ? b : wt;
        ws = s > ws ? s : ws;
        wr = d > wr ? d : wr;
    }
    int rc = neonflow_fleet_report_result(r);
    printf("fleet %s: %s (fleet run id %s, %.1f s, %lld API calls)\n",
           neonflow_workflow_kind_name(neonflow_fleet_report_workflow(r)), rc == 0 ? "ok" : neonflow_error_name(rc),
           term_esc(neonflow_fleet_report_run_id(r)), (double)neonflow_fleet_report_duration_ms(r) / 1000.0,
           (long long)neonflow_fleet_report_api_calls(r));
    printf("  %-*s  %-*s  %-*s  %-11s  %-*s  %s\n", wp, "PROJECT", ws, "SOURCE", wt, "TARGET", "STATUS", wr, "RUN ID",
           "RESULT");
    for (size_t i = 0; i < n; i++) {
        const neonflow_fleet_entry *e = neonflow_fleet_report_entry_at(r, i);
        int32_t st = neonflow_fleet_entry_status(e);
        const char *src = neonflow_fleet_entry_source(e);
        printf("  %-*s  %-*s  %-*s  %-11s  %-*s  %s\n", wp, term_esc(neonflow_fleet_entry_project_id(e)), ws,
               *src ? term_esc(src) : "-", wt, term_esc(neonflow_fleet_entry_target(e)),
               neonflow_fleet_entry_status_name(st), wr, term_esc(neonflow_fleet_entry_run_id(e)),
               st == NEONFLOW_FLEET_ENTRY_NOT_STARTED ? "-" : neonflow_error_name(neonflow_fleet_entry_result(e)));
    }
    printf("%s\n", term_esc(neonflow_fleet_report_message(r)));
}

static int print_json(const cli *c, const neonflow_fleet_report *r)
{
    char *s = NULL, *red = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_fleet_report_to_json(&s, r, 0, &err);
    if (rc != 0) {
        out_error(c, "cannot format the fleet report as JSON", rc, err);
        neonflow_error_free(err);
        return rc;
    }
    if (term_redact(&red, s) != 0) {
        neonflow_free(s);
        return NEONFLOW_ENOMEM;
    }
    fputs(red, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    neonflow_free(red);
    neonflow_free(s);
    return 0;
}

/* Exit status: 0 all done; 4 stopped (Ctrl-C, --timeout) with no entry
 * failed: resume with --run-id; 1 some entry failed (the table says which). */
static int exit_code(int rc, const neonflow_fleet_report *r)
{
    if (rc == NEONFLOW_OK)
        return EXIT_OK;
    if (!r)
        return cli_exit_for(rc);
    return neonflow_fleet_report_count(r, NEONFLOW_FLEET_ENTRY_FAILED) ? EXIT_FAIL : EXIT_TIMEOUT;
}

static int build_fleet(cli *c, const entries *es, neonflow_fleet_options **out)
{
    neonflow_fleet_options *fo = NULL;
    neonflow_run_options *run = NULL;
    if (neonflow_fleet_options_new(&fo) != 0 || neonflow_run_options_new(&run) != 0) {
        neonflow_fleet_options_free(fo);
        return EXIT_FAIL;
    }
    *out = fo;
    int code = EXIT_OK;
    for (size_t i = 0; i < es->n && code == EXIT_OK; i++) {
        const entry_line *e = &es->v[i];
        if (neonflow_fleet_options_add_entry(fo, e->project, e->source, e->target) != 0) {
            out_errorf(c, "%s %s %d: invalid project id or branch name ('%s', '%s', '%s')", c->projects_file,
                       es->json ? "entry" : "line", e->line, e->project, e->source ? e->source : "", e->target);
            code = EXIT_USAGE;
        }
    }
    if (code == EXIT_OK && c->run_id && neonflow_fleet_options_set_run_id(fo, c->run_id) != 0) {
        out_errorf(c, "invalid --run-id '%s': 1-32 characters of a-z, 0-9 and '-'", c->run_id);
        code = EXIT_USAGE;
    }
    if (code == EXIT_OK) {
        int64_t left = c->deadline_ms - cli_now_ms();
        int rc = neonflow_fleet_options_set_timeout_ms(fo, left > 1 ? left : 1);
        rc |= neonflow_fleet_options_set_concurrency(fo, c->concurrency > 0 ? c->concurrency : 4);
        rc |= neonflow_fleet_options_set_stop_on_failure(fo, c->stop_on_failure);
        rc |= neonflow_fleet_options_set_cancel(fo, c->cancel);
        rc |= neonflow_fleet_options_set_event_hook(fo, on_fleet, c, NULL);
        rc |= neonflow_run_options_set_dry_run(run, c->dry_run);
        if (c->lease_wait_s >= 0)
            rc |= neonflow_run_options_set_lease_wait_ms(run, c->lease_wait_s * 1000);
        if (c->lease_ttl_s >= 0)
            rc |= neonflow_run_options_set_lease_ttl_ms(run, c->lease_ttl_s * 1000);
        rc |= neonflow_fleet_options_set_run_options(fo, run);
        code = rc ? EXIT_FAIL : EXIT_OK;
    }
    neonflow_run_options_free(run);
    return code;
}

int cmd_fleet(cli *c)
{
    entries es;
    memset(&es, 0, sizeof es);
    neonflow_fleet_options *fo = NULL;
    neonflow_fleet_report *rep = NULL;
    neonflow_error *err = NULL;
    int code = load_entries(c, &es);
    if (code == EXIT_OK)
        code = build_fleet(c, &es, &fo);
    if (code == EXIT_OK && !c->yes && !c->dry_run) {
        /* main() refused already without a terminal: name the scope, ask */
        char q[160];
        snprintf(q, sizeof q, "%s %zu project%s (%zu at a time)?", c->cmd_name, es.n, es.n == 1 ? "" : "s",
                 (size_t)(c->concurrency > 0 ? c->concurrency : 4));
        if (!out_confirm(c, q)) {
            out_errorf(c, "%s: not confirmed; nothing was changed", c->cmd_name);
            code = EXIT_USAGE;
        }
    }
    if (code == EXIT_OK) {
        int rc;
        switch (c->cmd) {
        case CMD_FLEET_PROMOTE: rc = neonflow_fleet_promote(&rep, c->client, fo, NULL, &err); break;
        case CMD_FLEET_REFRESH: rc = neonflow_fleet_refresh(&rep, c->client, fo, NULL, &err); break;
        default: rc = neonflow_fleet_rollback(&rep, c->client, fo, NULL, &err); break;
        }
        if (rep) {
            if (c->json)
                print_json(c, rep);
            else
                print_text(rep);
            fflush(stdout);
        }
        code = exit_code(rc, rep);
        if (rc != 0) {
            const char *verb = code == EXIT_TIMEOUT ? "stopped" : "failed";
            if (rep)
                out_errorf(c, "%s %s: %zu of %zu done, %zu failed, %zu cancelled, %zu not started; re-run with "
                              "--run-id %s to resume the rest",
                           c->cmd_name, verb, neonflow_fleet_report_count(rep, NEONFLOW_FLEET_ENTRY_DONE),
                           neonflow_fleet_report_entry_count(rep),
                           neonflow_fleet_report_count(rep, NEONFLOW_FLEET_ENTRY_FAILED),
                           neonflow_fleet_report_count(rep, NEONFLOW_FLEET_ENTRY_CANCELLED),
                           neonflow_fleet_report_count(rep, NEONFLOW_FLEET_ENTRY_NOT_STARTED),
                           neonflow_fleet_report_run_id(rep));
            else
                out_error(c, c->cmd_name, rc, err);
        }
    }
    neonflow_fleet_report_free(rep);
    neonflow_error_free(err);
    neonflow_fleet_options_free(fo);
    entries_free(&es);
    return code;
}
