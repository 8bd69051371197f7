/* neonflow CLI — error lines, progress (event hook), logs, report printing,
 * JSON output and confirmation. Everything written to stderr goes through
 * one mutex, shared with the signal thread that redraws the progress line. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

void out_lock(void) { pthread_mutex_lock(&out_mu); }
void out_unlock(void) { pthread_mutex_unlock(&out_mu); }

/* ---- progress state (guarded by out_mu) ---------------------------------- */
static const cli *prog_cli;
static int line_drawn;       /* a \r line is on the terminal */
static int in_step;
static char step_name[96];
static int64_t step_start_ms;
static char detail[160];     /* what the step is waiting for */

/* Names come from the library's tables (one table, not two). */
#define status_name neonflow_step_status_name
#define op_status_name neonflow_operation_status_name

static double since_start(void)
{
    return prog_cli ? (double)(cli_now_ms() - prog_cli->start_ms) / 1000.0 : 0.0;
}

void out_progress_begin(const cli *c)
{
    out_lock();
    prog_cli = c;
    out_unlock();
}

/* Caller holds the lock. Clears the live line so a full line can be printed. */
void out_progress_end(void)
{
    if (line_drawn) {
        fputs("\r\033[K", stderr);
        line_drawn = 0;
    }
}

/* Caller holds the lock. */
void out_progress_tick(void)
{
    if (!prog_cli || !prog_cli->stderr_tty || !in_step)
        return;
    double el = (double)(cli_now_ms() - step_start_ms) / 1000.0;
    struct winsize ws;
    int width = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 40 ? ws.ws_col : 80;
    int room = width - 38; /* what is left after the step name and the time */
    fprintf(stderr, "\r\033[K  ... %-22s %6.1fs%s%.*s", step_name, el, detail[0] && room > 0 ? "  " : "",
            room > 0 ? room : 0, detail);
    fflush(stderr);
    line_drawn = 1;
}

/* One line, control characters escaped, never the API key (term.c). */
static void error_line(const cli *c, const char *line)
{
    (void)c;
    char *clean = term_clean(line);
    out_lock();
    out_progress_end();
    fprintf(stderr, "neonflow: %s\n", clean ? clean : "(message withheld: out of memory)");
    fflush(stderr);
    out_unlock();
    free(clean);
}

void out_errorf(const cli *c, const char *fmt, ...)
{
    char *line = NULL; /* whole: redacted before anything could cut it */
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&line, fmt, ap);
    va_end(ap);
    error_line(c, n < 0 ? "(message withheld: out of memory)" : line);
    if (n >= 0)
        free(line);
}

void out_error(const cli *c, const char *what, int rc, const neonflow_error *err)
{
    const char *msg = err ? neonflow_error_message(err) : "";
    const char *rid = err ? neonflow_error_request_id(err) : "";
    if (!msg || !*msg)
        msg = neonflow_strerror(rc);
    if (rid && *rid)
        out_errorf(c, "%s: %s (request id: %s)", what, msg, rid);
    else
        out_errorf(c, "%s: %s", what, msg);
}

/* ---- event hook ----------------------------------------------------------- */
void out_event(const neonflow_event *ev, void *payload)
{
    const cli *c = payload;
    int tty = c->stderr_tty;
    /* escaped copies: the watcher thread redraws step_name and detail */
    char *step = term_clean(neonflow_event_step(ev)), *msg = term_clean(neonflow_event_message(ev));
    char *run_id = term_clean(neonflow_event_run_id(ev));
    char *op_id = term_clean(neonflow_event_operation_id(ev));
    char *op_action = term_clean(neonflow_event_operation_action(ev));
    if (!step || !msg || !run_id || !op_id || !op_action)
        goto done;
    out_lock();
    switch (neonflow_event_kind(ev)) {
    case NEONFLOW_EVENT_RUN_STARTED:
        out_progress_end();
        if (tty)
            fprintf(stderr, "  run id %s\n", run_id);
        else
            fprintf(stderr, "[%5.1fs] run id %s\n", since_start(), run_id);
        break;
    case NEONFLOW_EVENT_STEP_BEGIN:
        snprintf(step_name, sizeof step_name, "%s", step);
        step_start_ms = cli_now_ms();
        detail[0] = 0;
        in_step = 1;
        if (tty)
            out_progress_tick();
        else
            fprintf(stderr, "[%5.1fs] %s: begin%s%s\n", since_start(), step, *msg ? ": " : "", msg);
        break;
    case NEONFLOW_EVENT_STEP_END: {
        int32_t st = neonflow_event_status(ev);
        double d = (double)neonflow_event_duration_ms(ev) / 1000.0;
        in_step = 0;
        out_progress_end();
        if (tty) {
            const char *mark = st == NEONFLOW_STEP_DONE || st == NEONFLOW_STEP_RESUMED ? "ok "
                               : st == NEONFLOW_STEP_SKIPPED || st == NEONFLOW_STEP_PLANNED ? " - "
                                                                                              : "!! ";
            fprintf(stderr, "  %s %-22s %6.1fs  %s\n", mark, step, d, status_name(st));
        } else {
            fprintf(stderr, "[%5.1fs] %s: %s (%.1fs)\n", since_start(), step, status_name(st), d);
        }
        break;
    }
    case NEONFLOW_EVENT_OPERATION:
        snprintf(detail, sizeof detail, "waiting: %s %s", op_action, op_status_name(neonflow_event_status(ev)));
        if (tty)
            out_progress_tick();
        else if (c->verbose)
            fprintf(stderr, "[%5.1fs] %s: operation %s %s %s\n", since_start(), step, op_id, op_action, msg);
        break;
    case NEONFLOW_EVENT_RETRY:
    case NEONFLOW_EVENT_RATE_LIMIT_WAIT:
    case NEONFLOW_EVENT_LEASE:
        snprintf(detail, sizeof detail, "%s", msg);
        if (tty)
            out_progress_tick();
        else if (c->verbose)
            fprintf(stderr, "[%5.1fs] %s: %s\n", since_start(), step, msg);
        break;
    case NEONFLOW_EVENT_WARNING:
        out_progress_end();
        if (tty)
            fprintf(stderr, "  warning: %s\n", msg);
        else
            fprintf(stderr, "[%5.1fs] warning: %s\n", since_start(), msg);
        if (tty && in_step)
            out_progress_tick();
        break;
    case NEONFLOW_EVENT_RUN_ENDED:
        in_step = 0;
        out_progress_end();
        if (c->verbose)
            fprintf(stderr, "[%5.1fs] run ended: %s\n", since_start(), msg);
        break;
    default: break;
    }
    fflush(stderr);
    out_unlock();
done:
    free(step);
    free(msg);
    free(run_id);
    free(op_id);
    free(op_action);
}

/* ---- library log and trace hooks ------------------------------------------ */
void out_log(const neonflow_log_record *rec, void *payload)
{
    (void)payload;
    int32_t level = neonflow_log_record_level(rec);
    char *line = term_clean(neonflow_log_record_message(rec));
    out_lock();
    out_progress_end();
    fprintf(stderr, "  [%s] %s\n", neonflow_log_level_name(level), line ? line : "");
    out_unlock();
    free(line);
}

void out_trace(const neonflow_trace_record *rec, void *payload)
{
    int32_t kind = neonflow_trace_record_kind(rec);
    const char *data = neonflow_trace_record_data(rec);
    size_t len = neonflow_trace_record_data_len(rec);
    if (kind != NEONFLOW_TRACE_HEADER_OUT && kind != NEONFLOW_TRACE_HEADER_IN && kind != NEONFLOW_TRACE_INFO)
        return;
    /* whole: redacted before anything is cut (a NUL in the data ends it) */
    char *line = malloc(len + 1);
    if (!line)
        return;
    size_t n = len;
    memcpy(line, data, n);
    line[n] = 0;
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    (void)payload;
    char *clean = n ? term_clean(line) : NULL;
    free(line);
    if (!clean)
        return;
    out_lock();
    out_progress_end();
    fprintf(stderr, "  %s %s\n", kind == NEONFLOW_TRACE_HEADER_OUT ? ">" : kind == NEONFLOW_TRACE_HEADER_IN ? "<" : "*",
            clean);
    out_unlock();
    free(clean);
}

/* ---- reports ---------------------------------------------------------------- */
static void field(FILE *f, const char *label, const char *v)
{
    if (v && *v)
        fprintf(f, "  %-22s %s\n", label, term_esc(v));
}

void out_report_text(FILE *f, const neonflow_report *r)
{
    int32_t wf = neonflow_report_workflow(r);
    int rc = neonflow_report_result(r);
    fprintf(f, "%s%s: %s (run %s, %.1f s, %lld API calls, %lld retries)\n", neonflow_workflow_kind_name(wf),
            neonflow_report_is_dry_run(r) ? " (dry run)" : "", rc == 0 ? "ok" : neonflow_error_name(rc),
            term_esc(neonflow_report_run_id(r)), (double)neonflow_report_duration_ms(r) / 1000.0,
            (long long)neonflow_report_api_calls(r), (long long)neonflow_report_retries(r));
    const char *msg = neonflow_report_message(r);
    if (msg && *msg)
        fprintf(f, "%s\n", term_esc(msg));
    size_t n = neonflow_report_step_count(r);
    if (n)
        fprintf(f, "\n%s:\n", neonflow_report_is_dry_run(r) ? "Plan" : "Steps");
    for (size_t i = 0; i < n; i++) {
        const neonflow_step *s = neonflow_report_step_at(r, i);
        fprintf(f, "  %-8s %-22s %s%s\n", status_name(neonflow_step_status(s)), term_esc(neonflow_step_name(s)),
                term_esc(neonflow_step_description(s)), neonflow_step_is_mutating(s) ? "" : " (read-only)");
        for (size_t k = 0; k < neonflow_step_resource_count(s); k++) {
            const neonflow_resource *x = neonflow_step_resource_at(s, k);
            char size[32] = "";
            if (neonflow_resource_size_bytes(x) >= 0)
                cli_format_bytes(size, sizeof size, neonflow_resource_size_bytes(x));
            const char *id = term_esc(neonflow_resource_id(x)), *exp = term_esc(neonflow_resource_expires_at(x));
            const char *by = term_esc(neonflow_resource_replaced_by(x));
            fprintf(f, "           %-7s %-8s %-12s %s%s%s%s%s%s%s%s\n",
                    neonflow_resource_action_name(neonflow_resource_action(x)),
                    neonflow_resource_kind_name(neonflow_resource_kind(x)),
                    term_esc(neonflow_resource_role(x)), term_esc(neonflow_resource_name(x)), *id ? " [" : "", id,
                    *id ? "]" : "", *size ? " " : "", size, *exp ? " expires " : "", exp);
            if (*by)
                fprintf(f, "           %-7s replaced by %s\n", "", by);
        }
    }
    /* The report's snapshot fields mean different things per workflow. */
    const char *cand_label = wf == NEONFLOW_WORKFLOW_ROLLBACK  ? "restored snapshot"
                             : wf == NEONFLOW_WORKFLOW_REFRESH ? "source snapshot"
                             : wf == NEONFLOW_WORKFLOW_SETUP   ? "setup snapshot"
                                                               : "candidate snapshot";
    const char *rb_label = wf == NEONFLOW_WORKFLOW_ROLLBACK ? "pre-rollback snapshot" : "rollback snapshot";
    int any = 0;
    const char *fields[][2] = {
        {"source branch", neonflow_report_source_branch_id(r)},
        {"target was", neonflow_report_old_target_branch_id(r)},
        {"target branch", neonflow_report_target_branch_id(r)},
        {"endpoint", neonflow_report_target_endpoint_id(r)},
        {"endpoint host", neonflow_report_target_endpoint_host(r)},
        {cand_label, neonflow_report_candidate_snapshot_id(r)},
        {rb_label, neonflow_report_rollback_snapshot_id(r)},
        {"preview branch", neonflow_report_preview_branch_id(r)},
        {"backup branch", neonflow_report_backup_branch_id(r)},
        {"backup name", neonflow_report_backup_branch_name(r)},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        any |= fields[i][1] && *fields[i][1];
    if (any) {
        fprintf(f, "\nResult:\n");
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            field(f, fields[i][0], fields[i][1]);
    }
    const char *ls = neonflow_report_lost_writes_start(r), *le = neonflow_report_lost_writes_end(r);
    if (ls && *ls) {
        fprintf(f, "\nLost writes: writes to the target between %s and %s are NOT in the new target;\n"
                   "they remain on the backup branch%s%s.\n",
                term_esc(ls), le && *le ? term_esc(le) : "the switch", *neonflow_report_backup_branch_name(r) ? " " : "",
                term_esc(neonflow_report_backup_branch_name(r)));
        const char *dv = neonflow_report_divergence_start(r);
        if (dv && *dv)
            fprintf(f, "Target writes before %s that the source never had are lost as well.\n", term_esc(dv));
    }
}

void out_json_print(void *value)
{
    json_t *v = value;
    char *s = v ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (s) {
        /* data from the API, printed as jansson escapes it; only the key goes */
        char *red = NULL;
        if (term_redact(&red, s) == 0) {
            fputs(red, stdout);
            fputc('\n', stdout);
        }
        neonflow_free(red);
        free(s);
    }
    json_decref(v);
}

int out_report_json(const cli *c, const neonflow_report *r)
{
    char *s = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_report_to_json(&s, r, 0, &err);
    if (rc != 0) {
        out_error(c, "cannot format the report as JSON", rc, err);
        neonflow_error_free(err);
        return rc;
    }
    char *red = NULL;
    if (term_redact(&red, s) != 0) {
        neonflow_free(s);
        return NEONFLOW_ENOMEM;
    }
    fputs(red, stdout);
    if (!*red || red[strlen(red) - 1] != '\n')
        fputc('\n', stdout);
    fflush(stdout);
    neonflow_free(red);
    neonflow_free(s);
    return 0;
}

/* Asks on the terminal; 1 for yes. */
int out_confirm(const cli *c, const char *question)
{
    char buf[64];
    out_lock();
    out_progress_end();
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    out_unlock();
    if (!fgets(buf, sizeof buf, stdin))
        return 0;
    (void)c;
    return buf[0] == 'y' || buf[0] == 'Y';
}
