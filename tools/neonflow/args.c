/* neonflow — command-line tool for snapshot-based promotion on Neon.
 * args.c: the option and command tables, --help, and argument parsing. */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum opt_id {
    O_API_KEY = 1, O_API_HOST, O_PROJECT, O_JSON, O_TIMEOUT, O_RUN_ID, O_DRY_RUN, O_YES, O_VERBOSE,
    O_HELP, O_VERSION, O_SOURCE, O_TARGET, O_DEV_NAME, O_AUTO_ROLLBACK, O_VERIFY_CMD, O_AFTER_CMD,
    O_DELETE_BACKUP, O_SNAPSHOT, O_NO_SNAPSHOT_FIRST, O_KEEP, O_OLDER_THAN, O_BRANCHES_ONLY,
    O_SNAPSHOTS_ONLY, O_BRANCH, O_NAME, O_EXPIRES_IN, O_LIMIT, O_LEASE_WAIT, O_LEASE_TTL,
    O_HOOK_API_KEY, O_SEARCH, O_CURSOR, O_PARENT, O_TTL, O_EXPIRES_AT, O_NO_URI, O_EXPIRED, O_UNUSED,
    O_POOLED, O_DATABASE, O_ROLE, O_ENDPOINT, O_VERIFY_COMPUTE,
    O_PROJECTS_FILE, O_CONCURRENCY, O_STOP_ON_FAILURE
};

struct opt {
    const char *name;
    char short_name;
    int has_arg;
    int id;
    unsigned cmds; /* 0: global */
};

static const struct opt options[] = {
    {"api-key", 0, 1, O_API_KEY, 0},
    {"api-host", 0, 1, O_API_HOST, 0},
    {"project-id", 0, 1, O_PROJECT, 0},
    {"json", 0, 0, O_JSON, 0},
    {"timeout", 0, 1, O_TIMEOUT, 0},
    {"run-id", 0, 1, O_RUN_ID, 0},
    {"lease-wait", 0, 1, O_LEASE_WAIT, 0},
    {"lease-ttl", 0, 1, O_LEASE_TTL, 0},
    {"dry-run", 0, 0, O_DRY_RUN, 0},
    {"yes", 'y', 0, O_YES, 0},
    {"verbose", 'v', 0, O_VERBOSE, 0},
    {"help", 'h', 0, O_HELP, 0},
    {"version", 'V', 0, O_VERSION, 0},
    {"source", 0, 1, O_SOURCE, B(CMD_SETUP) | B(CMD_PROMOTE) | B(CMD_REFRESH)},
    {"target", 0, 1, O_TARGET, B(CMD_PROMOTE) | B(CMD_REFRESH) | B(CMD_ROLLBACK) | B(CMD_BACKUPS_LIST)},
    {"dev-name", 0, 1, O_DEV_NAME, B(CMD_SETUP)},
    {"auto-rollback", 0, 0, O_AUTO_ROLLBACK, B(CMD_PROMOTE)},
    {"verify-cmd", 0, 1, O_VERIFY_CMD, B(CMD_PROMOTE) | B(CMD_REFRESH)},
    {"after-switch-cmd", 0, 1, O_AFTER_CMD, B(CMD_PROMOTE)},
    {"delete-backup", 0, 0, O_DELETE_BACKUP, B(CMD_REFRESH)},
    {"snapshot", 0, 1, O_SNAPSHOT, B(CMD_ROLLBACK)},
    {"no-snapshot-first", 0, 0, O_NO_SNAPSHOT_FIRST, B(CMD_ROLLBACK)},
    {"keep", 0, 1, O_KEEP, B(CMD_BACKUPS_PRUNE) | B(CMD_PREVIEW_PRUNE)},
    {"older-than", 0, 1, O_OLDER_THAN, B(CMD_BACKUPS_PRUNE) | B(CMD_BACKUPS_LIST)},
    {"branches-only", 0, 0, O_BRANCHES_ONLY, B(CMD_BACKUPS_PRUNE) | B(CMD_BACKUPS_LIST)},
    {"snapshots-only", 0, 0, O_SNAPSHOTS_ONLY, B(CMD_BACKUPS_PRUNE) | B(CMD_BACKUPS_LIST)},
    {"branch", 0, 1, O_BRANCH, B(CMD_SNAPSHOTS_CREATE)},
    {"name", 0, 1, O_NAME, B(CMD_SNAPSHOTS_CREATE)},
    {"expires-in", 0, 1, O_EXPIRES_IN, B(CMD_SNAPSHOTS_CREATE)},
    {"limit", 0, 1, O_LIMIT, B(CMD_OPERATIONS_LIST) | B(CMD_BRANCHES_LIST)},
    {"hook-api-key", 0, 0, O_HOOK_API_KEY, B(CMD_PROMOTE)},
    {"search", 0, 1, O_SEARCH, B(CMD_BRANCHES_LIST)},
    {"cursor", 0, 1, O_CURSOR, B(CMD_BRANCHES_LIST)},
    {"parent", 0, 1, O_PARENT, B(CMD_PREVIEW_CREATE)},
    {"ttl", 0, 1, O_TTL, B(CMD_PREVIEW_CREATE)},
    {"expires-at", 0, 1, O_EXPIRES_AT, B(CMD_PREVIEW_CREATE)},
    {"no-uri", 0, 0, O_NO_URI, B(CMD_PREVIEW_CREATE)},
    {"expired", 0, 0, O_EXPIRED, B(CMD_PREVIEW_PRUNE)},
    {"unused", 0, 1, O_UNUSED, B(CMD_PREVIEW_PRUNE)},
    {"pooled", 0, 0, O_POOLED, B(CMD_CONNECTION_STRING)},
    {"database", 0, 1, O_DATABASE, B(CMD_CONNECTION_STRING)},
    {"role", 0, 1, O_ROLE, B(CMD_CONNECTION_STRING)},
    {"endpoint", 0, 1, O_ENDPOINT, B(CMD_CONNECTION_STRING)},
    {"verify-compute", 0, 0, O_VERIFY_COMPUTE, B(CMD_PROMOTE) | B(CMD_REFRESH)},
    {"projects-file", 0, 1, O_PROJECTS_FILE, FLEET_CMDS},
    {"concurrency", 0, 1, O_CONCURRENCY, FLEET_CMDS},
    {"stop-on-failure", 0, 0, O_STOP_ON_FAILURE, FLEET_CMDS},
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static const struct {
    const char *group, *sub;
    int cmd;
    int min_args, max_args; /* positional arguments after the command words */
} commands[] = {
    {"setup", NULL, CMD_SETUP, 0, 0},
    {"promote", NULL, CMD_PROMOTE, 0, 0},
    {"refresh", NULL, CMD_REFRESH, 0, 0},
    {"rollback", NULL, CMD_ROLLBACK, 0, 0},
    {"backups", "list", CMD_BACKUPS_LIST, 0, 0},
    {"backups", "prune", CMD_BACKUPS_PRUNE, 0, 0},
    {"snapshots", "list", CMD_SNAPSHOTS_LIST, 0, 0},
    {"snapshots", "create", CMD_SNAPSHOTS_CREATE, 0, 0},
    {"snapshots", "delete", CMD_SNAPSHOTS_DELETE, 1, 1},
    {"branches", "list", CMD_BRANCHES_LIST, 0, 0},
    {"operations", "list", CMD_OPERATIONS_LIST, 0, 0},
    {"operations", "wait", CMD_OPERATIONS_WAIT, 1, INT_MAX},
    {"preview", "create", CMD_PREVIEW_CREATE, 1, 1},
    {"preview", "list", CMD_PREVIEW_LIST, 0, 0},
    {"preview", "delete", CMD_PREVIEW_DELETE, 1, 1},
    {"preview", "prune", CMD_PREVIEW_PRUNE, 0, 0},
    {"connection-string", NULL, CMD_CONNECTION_STRING, 0, 1},
    {"roles", "list", CMD_ROLES_LIST, 0, 1},
    {"databases", "list", CMD_DATABASES_LIST, 0, 1},
    {"fleet", "promote", CMD_FLEET_PROMOTE, 0, 0},
    {"fleet", "refresh", CMD_FLEET_REFRESH, 0, 0},
    {"fleet", "rollback", CMD_FLEET_ROLLBACK, 0, 0},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char help_text[] =
    "Usage: neonflow [global options] <command> [command options]\n"
    "\n"
    "Snapshot-based promotion for Neon: replace production with a known-good dev\n"
    "branch, keep a backup and a rollback point, and clean up afterwards.\n"
    "\n"
    "Commands:\n"
    "  setup      [--source production] [--dev-name dev]\n"
    "             create dev as an independent root branch from a snapshot of the source\n"
    "  promote    [--source dev] [--target production] [--auto-rollback]\n"
    "             [--verify-cmd CMD [--verify-compute]] [--after-switch-cmd CMD] [--hook-api-key]\n"
    "             replace the target with a snapshot of the source (endpoint kept)\n"
    "  refresh    [--source production] [--target dev] [--delete-backup]\n"
    "             [--verify-cmd CMD [--verify-compute]]\n"
    "             replace the target with a fresh snapshot of the source\n"
    "  rollback   [--target production] [--snapshot ID] [--no-snapshot-first]\n"
    "             restore a snapshot (default: the newest rollback point) onto the target\n"
    "  backups list [--target NAME] [--older-than DURATION] [--branches-only | --snapshots-only]\n"
    "  backups prune [--keep N] [--older-than DURATION] [--branches-only | --snapshots-only]\n"
    "  snapshots list\n"
    "  snapshots create --branch NAME_OR_ID [--name NAME] [--expires-in DURATION]\n"
    "  snapshots delete ID\n"
    "  branches list [--search TEXT] [--limit N] [--cursor CURSOR]\n"
    "             with --limit or --cursor: one page; the next page's cursor goes to stderr\n"
    "  operations list [--limit N]\n"
    "  operations wait ID [ID...]\n"
    "  preview create LABEL [--parent BRANCH] [--ttl DURATION | --expires-at TIME] [--no-uri]\n"
    "             child branch nf/preview/LABEL of BRANCH (default dev) with a read-write\n"
    "             compute; prints its connection string (again: the same preview)\n"
    "  preview list\n"
    "  preview delete LABEL\n"
    "  preview prune [--expired] [--unused DURATION] [--keep N]\n"
    "             delete previews by policy (default --expired); never other branches\n"
    "  connection-string [BRANCH] [--pooled] [--database D] [--role R] [--endpoint E]\n"
    "             print the branch's connection URI (it holds a password) on stdout\n"
    "  roles list [BRANCH]\n"
    "  databases list [BRANCH]\n"
    "             BRANCH: a name or ID (default: the project's default branch)\n"
    "  fleet promote|refresh|rollback --projects-file FILE [--concurrency N]\n"
    "             [--stop-on-failure]   run the workflow on every project of FILE\n"
    "             (lines 'project source target', rollback 'project target', or a\n"
    "             JSON array of {project, source, target}; no --project-id needed)\n"
    "\n"
    "Global options (before or after the command words):\n"
    "  --api-key KEY        Neon API key (default: $NEON_API_KEY)\n"
    "  --api-host URL       API base URL incl. /api/v2 (default: $NEON_API_HOST,\n"
    "                       then https://console.neon.tech/api/v2)\n"
    "  --project-id ID      Neon project (default: $NEON_PROJECT_ID)\n"
    "  --json               print the result as JSON on stdout (progress on stderr)\n"
    "  --timeout SECONDS    deadline of the whole command (default 1800; 30s, 15m also work)\n"
    "  --run-id ID          run id: give the id of an interrupted run to resume it\n"
    "  --lease-wait DURATION\n"
    "                       wait this long for another run's lease on the target\n"
    "                       (default 0: exit 6 at once)\n"
    "  --lease-ttl DURATION lifetime of this run's lease, renewed while it runs\n"
    "                       (default 10m; a crashed run's lease expires after it)\n"
    "  --dry-run            show the plan of a mutating command and change nothing\n"
    "  -y, --yes            do not ask for confirmation\n"
    "  -v, --verbose        more log output on stderr (repeat for more)\n"
    "  -h, --help           show this help\n"
    "  -V, --version        show the version\n"
    "\n"
    "DURATION is a number with a unit: 30s, 15m, 12h, 7d (or 1w, 1d12h).\n"
    "promote, refresh, rollback, backups prune, snapshots delete, preview delete and\n"
    "preview prune show their plan\n"
    "and ask \"Proceed? [y/N]\" on a terminal; without a terminal they need --yes.\n"
    "--verify-cmd and --after-switch-cmd run through /bin/sh -c with NEONFLOW_BRANCH_ID,\n"
    "NEONFLOW_BRANCH_NAME and NEONFLOW_PROJECT_ID set; a non-zero exit vetoes. They get\n"
    "no open descriptor but stdin/stdout/stderr, and no NEON_API_KEY unless\n"
    "--hook-api-key passes it. When the branch has a compute, DATABASE_URL and\n"
    "NEONFLOW_CONNECTION_URI hold its connection URI: for --verify-cmd the preview's\n"
    "temporary endpoint (--verify-compute gives it one, deleted before the switch),\n"
    "for --after-switch-cmd the new target's.\n"
    "\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  failure\n"
    "  2  usage error (bad flags, missing project id or API key, no confirmation)\n"
    "  3  vetoed by a hook (--verify-cmd or --after-switch-cmd failed)\n"
    "  4  timed out or cancelled (Ctrl-C); the run stopped safely\n"
    "  5  uncertain outcome: re-run with the same --run-id\n"
    "  6  another run holds the target (NEONFLOW_ELEASE_HELD); nothing was changed\n"
    "  fleet: 0 every project done, 1 a project failed, 4 stopped (resume with --run-id)\n"
    "\n"
    "See neonflow(1).\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    char *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&line, fmt, ap);
    va_end(ap);
    /* values echoed from the command line: redacted and escaped */
    char *clean = n < 0 ? NULL : term_clean(line);
    fprintf(stderr, "neonflow: %s (see neonflow --help)\n", clean ? clean : "invalid arguments");
    free(clean);
    if (n >= 0)
        free(line);
    return EXIT_USAGE;
}

static int parse_int32(const char *s, int32_t min, int32_t *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > INT32_MAX)
        return -1;
    *out = (int32_t)v;
    return 0;
}

static int apply_option(cli *c, const struct opt *o, const char *val, const char *shown)
{
    switch (o->id) {
    case O_API_KEY:
        c->api_key = val;
        term_set_secret(val); /* redacted from every message from now on */
        break;
    case O_HOOK_API_KEY: c->hook_api_key = 1; break;
    case O_API_HOST: c->api_host = val; break;
    case O_PROJECT: c->project_id = val; break;
    case O_JSON: c->json = 1; break;
    case O_RUN_ID: c->run_id = val; break;
    case O_DRY_RUN: c->dry_run = 1; break;
    case O_YES: c->yes = 1; break;
    case O_VERBOSE: c->verbose++; break;
    case O_TIMEOUT:
        if (cli_parse_duration(val, &c->timeout_s) != 0 || c->timeout_s <= 0)
            return usage_error("invalid --timeout '%s': expected seconds > 0 (or 30s, 15m, 2h)", val);
        break;
    case O_LEASE_WAIT:
        if (cli_parse_duration(val, &c->lease_wait_s) != 0)
            return usage_error("invalid --lease-wait '%s': expected seconds >= 0 (or 30s, 15m, 2h)", val);
        break;
    case O_LEASE_TTL:
        if (cli_parse_duration(val, &c->lease_ttl_s) != 0 || c->lease_ttl_s < 1)
            return usage_error("invalid --lease-ttl '%s': expected seconds >= 1 (or 30s, 15m, 2h)", val);
        break;
    case O_SOURCE: c->source = val; break;
    case O_TARGET: c->target = val; break;
    case O_DEV_NAME: c->dev_name = val; break;
    case O_AUTO_ROLLBACK: c->auto_rollback = 1; break;
    case O_VERIFY_CMD: c->verify_cmd = val; break;
    case O_AFTER_CMD: c->after_cmd = val; break;
    case O_DELETE_BACKUP: c->delete_backup = 1; break;
    case O_SNAPSHOT: c->snapshot_id = val; break;
    case O_NO_SNAPSHOT_FIRST: c->no_snapshot_first = 1; break;
    case O_BRANCHES_ONLY: c->branches_only = 1; break;
    case O_SNAPSHOTS_ONLY: c->snapshots_only = 1; break;
    case O_BRANCH: c->branch = val; break;
    case O_NAME: c->name = val; break;
    case O_KEEP:
        if (parse_int32(val, 0, &c->keep) != 0)
            return usage_error("invalid --keep '%s': expected a number >= 0", val);
        break;
    case O_LIMIT:
        if (parse_int32(val, 1, &c->limit) != 0 || c->limit > 10000)
            return usage_error("invalid --limit '%s': expected 1..1000 (operations), 1..10000 (branches)", val);
        break;
    case O_SEARCH: c->search = val; break;
    case O_PARENT: c->parent = val; break;
    case O_EXPIRES_AT: c->expires_at = val; break;
    case O_NO_URI: c->no_uri = 1; break;
    case O_EXPIRED: c->expired = 1; break;
    case O_TTL:
        if (cli_parse_duration(val, &c->ttl_s) != 0 || c->ttl_s <= 0)
            return usage_error("invalid --ttl '%s': expected a duration like 30m, 12h, 7d", val);
        break;
    case O_UNUSED:
        if (cli_parse_duration(val, &c->unused_s) != 0 || c->unused_s <= 0)
            return usage_error("invalid --unused '%s': expected a duration like 30m, 12h, 7d", val);
        break;
    case O_POOLED: c->pooled = 1; break;
    case O_DATABASE: c->database = val; break;
    case O_ROLE: c->role = val; break;
    case O_ENDPOINT: c->endpoint = val; break;
    case O_VERIFY_COMPUTE: c->verify_compute = 1; break;
    case O_PROJECTS_FILE: c->projects_file = val; break;
    case O_STOP_ON_FAILURE: c->stop_on_failure = 1; break;
    case O_CONCURRENCY:
        if (parse_int32(val, 1, &c->concurrency) != 0 || c->concurrency > 64)
            return usage_error("invalid --concurrency '%s': expected 1..64", val);
        break;
    case O_CURSOR: c->cursor = val; break;
    case O_OLDER_THAN:
        if (cli_parse_duration(val, &c->older_than_s) != 0)
            return usage_error("invalid --older-than '%s': expected a duration like 30s, 15m, 12h, 7d", val);
        break;
    case O_EXPIRES_IN:
        if (cli_parse_duration(val, &c->expires_in_s) != 0 || c->expires_in_s <= 0)
            return usage_error("invalid --expires-in '%s': expected a duration like 30s, 15m, 12h, 7d", val);
        break;
    default: break;
    }
    (void)shown;
    return 0;
}

int cli_parse_args(cli *c, int argc, char **argv)
{
    const struct opt *given[N_OPTIONS];
    const char *given_as[N_OPTIONS];
    size_t ngiven = 0;
    char **words = calloc((size_t)argc + 1, sizeof *words);
    int nwords = 0, only_words = 0, want_help = 0, want_version = 0;
    if (!words)
        return EXIT_FAIL;

    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_words || a[0] != '-' || a[1] == '\0') {
            words[nwords++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_words = 1;
            continue;
        }
        if (a[1] != '-') { /* short options, possibly grouped: -vv, -yv */
            for (const char *p = a + 1; *p; p++) {
                const struct opt *o = NULL;
                for (size_t k = 0; k < N_OPTIONS; k++)
                    if (options[k].short_name == *p)
                        o = &options[k];
                if (!o) {
                    char sh[3] = {'-', *p, 0};
                    free(words);
                    return usage_error("unknown option '%s'", sh);
                }
                if (o->id == O_HELP)
                    want_help = 1;
                else if (o->id == O_VERSION)
                    want_version = 1;
                else
                    apply_option(c, o, NULL, a);
            }
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt *o = NULL;
        for (size_t k = 0; k < N_OPTIONS; k++)
            if (strlen(options[k].name) == nlen && strncmp(options[k].name, name, nlen) == 0)
                o = &options[k];
        if (!o) {
            /* the name only: a misspelled --api-key=KEY must not print KEY */
            free(words);
            return usage_error("unknown option '--%.*s'", (int)(nlen > 64 ? 64 : nlen), name);
        }
        const char *val = NULL;
        if (o->has_arg) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                free(words);
                return usage_error("option '--%s' needs a value", o->name);
            }
        } else if (eq) {
            free(words);
            return usage_error("option '--%s' takes no value", o->name);
        }
        if (o->id == O_HELP) {
            want_help = 1;
            continue;
        }
        if (o->id == O_VERSION) {
            want_version = 1;
            continue;
        }
        int rc = apply_option(c, o, val, a);
        if (rc) {
            free(words);
            return rc;
        }
        if (o->cmds && ngiven < N_OPTIONS) {
            given[ngiven] = o;
            given_as[ngiven++] = a;
        }
    }
    if (want_help) {
        fputs(help_text, stdout);
        free(words);
        return EXIT_OK;
    }
    if (want_version) {
        printf("neonflow %s (libneonflow %s)\n", NEONFLOW_VERSION_STRING, neonflow_version_string());
        free(words);
        return EXIT_OK;
    }
    if (nwords == 0) {
        free(words);
        return usage_error("no command given");
    }
    int found = -1, group_known = 0;
    for (size_t k = 0; k < N_COMMANDS; k++) {
        if (strcmp(commands[k].group, words[0]) != 0)
            continue;
        group_known = 1;
        if (!commands[k].sub || (nwords > 1 && strcmp(commands[k].sub, words[1]) == 0)) {
            found = (int)k;
            break;
        }
    }
    if (!group_known) {
        int rc = usage_error("unknown command '%s'", words[0]);
        free(words);
        return rc;
    }
    if (found < 0) {
        int rc = nwords > 1 ? usage_error("unknown subcommand '%s %s'", words[0], words[1])
                            : usage_error("'%s' needs a subcommand", words[0]);
        free(words);
        return rc;
    }
    int used = commands[found].sub ? 2 : 1;
    c->words = words;
    c->cmd = commands[found].cmd;
    c->args = words + used;
    c->nargs = nwords - used;
    if (c->nargs < commands[found].min_args || c->nargs > commands[found].max_args) {
        static char name[64];
        snprintf(name, sizeof name, "%s%s%s", commands[found].group, commands[found].sub ? " " : "",
                 commands[found].sub ? commands[found].sub : "");
        int rc = c->nargs < commands[found].min_args ? usage_error("'%s' needs an argument", name)
                                                     : usage_error("unexpected argument '%s' for '%s'",
                                                                   c->args[commands[found].max_args], name);
        free(words);
        c->args = NULL;
        return rc;
    }
    static char cmd_name[64];
    snprintf(cmd_name, sizeof cmd_name, "%s%s%s", commands[found].group, commands[found].sub ? " " : "",
             commands[found].sub ? commands[found].sub : "");
    c->cmd_name = cmd_name;
    for (size_t k = 0; k < ngiven; k++)
        if (!(given[k]->cmds & B(c->cmd))) {
            free(words);
            c->args = NULL;
            return usage_error("option '%s' does not apply to '%s'", given_as[k], cmd_name);
        }
    if (c->cmd == CMD_SNAPSHOTS_CREATE && !c->branch) {
        free(words);
        c->args = NULL;
        return usage_error("'snapshots create' needs --branch NAME_OR_ID");
    }
    if (c->cmd == CMD_OPERATIONS_LIST && c->limit > 1000) {
        free(words);
        c->args = NULL;
        return usage_error("invalid --limit '%d': expected 1..1000", (int)c->limit);
    }
    if (c->ttl_s > 0 && c->expires_at) {
        free(words);
        c->args = NULL;
        return usage_error("--ttl and --expires-at exclude each other");
    }
    if ((c->cmd == CMD_PREVIEW_CREATE || c->cmd == CMD_PREVIEW_DELETE) && !neonflow_preview_label_valid(c->args[0]) &&
        !(c->cmd == CMD_PREVIEW_DELETE && strncmp(c->args[0], NEONFLOW_PREVIEW_PREFIX, strlen(NEONFLOW_PREVIEW_PREFIX)) == 0 &&
          neonflow_preview_label_valid(c->args[0] + strlen(NEONFLOW_PREVIEW_PREFIX)))) {
        int rc = usage_error("invalid preview label '%s': 1-63 characters of a-z, 0-9, '-', '_', '.', "
                             "starting with a letter or digit (not 'lease')", c->args[0]);
        free(words);
        c->args = NULL;
        return rc;
    }
    if (c->verify_compute && !c->verify_cmd) {
        free(words);
        c->args = NULL;
        return usage_error("--verify-compute needs --verify-cmd (the command it is for)");
    }
    if ((B(c->cmd) & FLEET_CMDS) && !c->projects_file) {
        free(words);
        c->args = NULL;
        return usage_error("'%s' needs --projects-file FILE", cmd_name);
    }
    if (c->branches_only && c->snapshots_only) {
        free(words);
        c->args = NULL;
        return usage_error("--branches-only and --snapshots-only exclude each other");
    }
    return -1; /* words stays allocated through c->args */
}
