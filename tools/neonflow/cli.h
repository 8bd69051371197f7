/* neonflow CLI — shared declarations of the command-line tool.
 * The tool uses only the public libneonflow API. */
#ifndef NEONFLOW_CLI_H
#define NEONFLOW_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <neonflow/neonflow.h>

/* Exit codes (documented in --help and neonflow.1). */
#define EXIT_OK        0
#define EXIT_FAIL      1
#define EXIT_USAGE     2
#define EXIT_VETO      3
#define EXIT_TIMEOUT   4
#define EXIT_UNCERTAIN 5
#define EXIT_LEASE_HELD 6 /* another run holds the target (NEONFLOW_ELEASE_HELD); nothing was changed */

enum cli_cmd {
    CMD_NONE = 0,
    CMD_SETUP,
    CMD_PROMOTE,
    CMD_REFRESH,
    CMD_ROLLBACK,
    CMD_BACKUPS_LIST,
    CMD_BACKUPS_PRUNE,
    CMD_SNAPSHOTS_LIST,
    CMD_SNAPSHOTS_CREATE,
    CMD_SNAPSHOTS_DELETE,
    CMD_BRANCHES_LIST,
    CMD_OPERATIONS_LIST,
    CMD_OPERATIONS_WAIT,
    CMD_PREVIEW_CREATE,
    CMD_PREVIEW_LIST,
    CMD_PREVIEW_DELETE,
    CMD_PREVIEW_PRUNE,
    CMD_CONNECTION_STRING, /* cmd_connection.c */
    CMD_ROLES_LIST,
    CMD_DATABASES_LIST,
    CMD_FLEET_PROMOTE,
    CMD_FLEET_REFRESH,
    CMD_FLEET_ROLLBACK,
    CMD_COUNT
};

typedef struct cli {
    /* global options */
    const char *api_key;
    const char *api_host;
    const char *project_id;
    const char *run_id;
    int json;
    int dry_run;
    int yes;
    int verbose;
    int64_t timeout_s;
    int64_t lease_wait_s, lease_ttl_s; /* -1: the library's default */

    /* the command and its options */
    int cmd;
    const char *cmd_name; /* e.g. "snapshots create" */
    const char *source;
    const char *target;
    const char *dev_name;
    const char *verify_cmd;
    const char *after_cmd;
    const char *snapshot_id;
    const char *branch;
    const char *name;
    int auto_rollback;
    int hook_api_key; /* --hook-api-key: hooks get NEON_API_KEY */
    int delete_backup;
    int no_snapshot_first;
    int branches_only;
    int snapshots_only;
    int32_t keep;     /* -1: library default */
    int32_t limit;    /* 0: Neon's default */
    const char *search; /* branches list --search */
    const char *cursor; /* branches list --cursor */
    const char *projects_file; /* fleet --projects-file */
    int32_t concurrency;       /* fleet --concurrency; 0: the default */
    int stop_on_failure;       /* fleet --stop-on-failure */
    int64_t older_than_s;  /* -1: unset */
    int64_t expires_in_s;  /* -1: unset */
    /* preview create / prune */
    const char *parent, *expires_at;
    int64_t ttl_s, unused_s; /* 0: unset */
    int no_uri, expired;
    const char *endpoint, *database, *role; /* connection-string */
    int pooled;
    int verify_compute; /* promote, refresh --verify-compute */
    char **args;      /* positional arguments after the command words */
    int nargs;
    char **words;     /* owns the array args points into */

    /* runtime */
    neonflow_client *client;
    neonflow_cancel *cancel;
    neonflow_call_options *call; /* --timeout and Ctrl-C for each plain API call */
    int stderr_tty;
    int stdin_tty;
    int64_t start_ms;    /* monotonic */
    int64_t deadline_ms; /* monotonic, start + timeout */
} cli;

/* args.c */
/* A command's bit in a set of commands (an option's cmds mask). */
#define B(x) (1u << (x))
#define WF_CMDS (B(CMD_SETUP) | B(CMD_PROMOTE) | B(CMD_REFRESH) | B(CMD_ROLLBACK))
#define FLEET_CMDS (B(CMD_FLEET_PROMOTE) | B(CMD_FLEET_REFRESH) | B(CMD_FLEET_ROLLBACK))
/* Parses argv into c. Returns -1 to go on, else an exit code (help, version, usage error). */
int cli_parse_args(cli *c, int argc, char **argv);

/* util.c */
int64_t cli_now_ms(void);
int cli_parse_duration(const char *s, int64_t *out_s);
int cli_format_rfc3339(char *buf, size_t len, int64_t epoch_s);
void cli_format_age(char *buf, size_t len, int64_t ms);
void cli_format_bytes(char *buf, size_t len, int64_t bytes);
int cli_is_destructive(int cmd);
int cli_exit_for(int rc);
/* The call options of the next API call: what is left of --timeout, and the
 * Ctrl-C token. The library enforces both; no watchdog is needed. */
const neonflow_call_options *cli_call(cli *c);
/* uri (may be NULL): the branch's connection URI, given to the command as
 * DATABASE_URL and NEONFLOW_CONNECTION_URI. */
int cli_run_hook(const cli *c, const char *what, const char *cmd, const neonflow_branch *b, const char *uri);

/* signals.c: SIGINT/SIGTERM (the deadline is the library's: call and run options) */
int cli_signals_start(cli *c);
void cli_signals_stop(void);
int cli_interrupted(void);

/* output.c */
void out_lock(void);
void out_unlock(void);
void out_error(const cli *c, const char *what, int rc, const neonflow_error *err);
void out_errorf(const cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_event(const neonflow_event *ev, void *payload);
void out_progress_tick(void);
void out_progress_begin(const cli *c);
void out_progress_end(void);
void out_log(const neonflow_log_record *rec, void *payload);
void out_trace(const neonflow_trace_record *rec, void *payload);
void out_report_text(FILE *f, const neonflow_report *r);
int out_report_json(const cli *c, const neonflow_report *r);
int out_confirm(const cli *c, const char *question);
void out_json_print(void *json_value); /* json_t *, stolen */

/* term.c: every string from outside (API, library, command line) passes
 * term_esc/term_clean before it is printed: API key redacted, control
 * characters escaped. term_esc results stay valid for 15 more calls (main
 * thread only). */
void term_set_secret(const char *key);
const char *term_esc(const char *s);
char *term_clean(const char *s); /* malloc'd, or NULL */
int term_redact(char **out, const char *text); /* key only (JSON): neonflow_free(*out) */
int term_width(const char *s);   /* bytes of term_esc(s): for table columns */
const char *term_url(const char *url); /* term_esc without userinfo or query */
void term_free(void);

/* cmd_workflow.c */
int cmd_workflow(cli *c);

/* cmd_fleet.c */
int cmd_fleet(cli *c);

/* cmd_resources.c */
int cmd_resources(cli *c);

/* cmd_preview.c */
int cmd_preview(cli *c);
/* cmd_connection.c */
int cmd_connection(cli *c);

#endif /* NEONFLOW_CLI_H */
