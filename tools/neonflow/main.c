/* neonflow — command-line tool for snapshot-based promotion on Neon.
 * main.c: configuration, dispatch and exit codes (argument parsing: args.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int env_or(const char **v, const char *env)
{
    if (!*v || !**v) {
        const char *e = getenv(env);
        *v = (e && *e) ? e : NULL;
    }
    return *v != NULL;
}

static int make_client(cli *c)
{
    neonflow_client_options *o = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_client_options_new(&o);
    if (rc == 0)
        rc = neonflow_client_options_set_api_key(o, c->api_key);
    if (rc != 0) {
        neonflow_client_options_free(o);
        out_errorf(c, "invalid API key: it must not be empty or contain spaces or control characters");
        return EXIT_USAGE;
    }
    if (c->api_host && neonflow_client_options_set_base_url(o, c->api_host) != 0) {
        neonflow_client_options_free(o);
        out_errorf(c, "invalid --api-host / NEON_API_HOST '%s': expected an http(s) URL like "
                      "https://console.neon.tech/api/v2, without credentials", term_url(c->api_host));
        return EXIT_USAGE;
    }
    char ua[64];
    snprintf(ua, sizeof ua, "neonflow-cli/%s", NEONFLOW_VERSION_STRING);
    neonflow_client_options_set_user_agent_suffix(o, ua);
    neonflow_client_options_set_use_environment(o, 1); /* a command line tool: NEON_API_* and proxy variables */
    if (c->verbose > 0) {
        neonflow_client_options_set_log_hook(o, out_log, (void *)c, NULL);
        neonflow_client_options_set_log_level(o, c->verbose > 1 ? NEONFLOW_LOG_DEBUG : NEONFLOW_LOG_INFO);
    }
    if (c->verbose > 2)
        neonflow_client_options_set_trace_hook(o, out_trace, (void *)c, NULL);
    rc = neonflow_client_new(&c->client, o, &err);
    neonflow_client_options_free(o);
    if (rc != 0) {
        out_error(c, "cannot create the client", rc, err);
        neonflow_error_free(err);
        return (rc == NEONFLOW_ECONFIG || rc == NEONFLOW_EINSECURE || rc == NEONFLOW_EINVAL) ? EXIT_USAGE
                                                                                            : EXIT_FAIL;
    }
    return EXIT_OK;
}

/* The key's private copy: a global, so early exits do not leak it. */
static char *key_copy;

/*
 * Overwrites the values of --api-key in argv (what /proc/PID/cmdline and ps
 * show) once they are parsed; c->api_key then points to a private copy.
 * Returns the copy (to free) or NULL.
 */
static char *hide_api_key(cli *c, int argc, char **argv)
{
    char *copy = NULL;
    if (c->api_key && !(copy = strdup(c->api_key)))
        return NULL;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i], *v = NULL;
        if (strcmp(a, "--") == 0)
            break;
        if (strcmp(a, "--api-key") == 0 && i + 1 < argc)
            v = argv[++i];
        else if (strncmp(a, "--api-key=", 10) == 0)
            v = a + 10;
        if (v)
            memset(v, 'x', strlen(v));
    }
    if (copy)
        c->api_key = copy;
    return copy;
}

int main(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof c);
    c.timeout_s = 1800;
    c.lease_wait_s = c.lease_ttl_s = -1;
    c.keep = -1;
    c.older_than_s = -1;
    c.expires_in_s = -1;
    term_set_secret(getenv("NEON_API_KEY"));

    int rc = cli_parse_args(&c, argc, argv);
    key_copy = hide_api_key(&c, argc, argv);
    if (rc >= 0) {
        term_free();
        return rc;
    }
    char **words = c.words;

    c.stderr_tty = isatty(STDERR_FILENO);
    c.stdin_tty = isatty(STDIN_FILENO);
    c.start_ms = cli_now_ms();
    c.deadline_ms = c.start_ms + c.timeout_s * 1000;

    if (!env_or(&c.api_key, "NEON_API_KEY")) {
        out_errorf(&c, "no API key: pass --api-key KEY or set NEON_API_KEY");
        free(words);
        term_free();
        return EXIT_USAGE;
    }
    term_set_secret(c.api_key);
    env_or(&c.api_host, "NEON_API_HOST");
    if (!env_or(&c.project_id, "NEON_PROJECT_ID") && !(B(c.cmd) & FLEET_CMDS)) {
        out_errorf(&c, "no project: pass --project-id ID or set NEON_PROJECT_ID");
        free(words);
        return EXIT_USAGE;
    }
    if (cli_is_destructive(c.cmd) && !c.yes && !c.dry_run && !c.stdin_tty) {
        out_errorf(&c, "'%s' changes Neon state and needs confirmation: re-run with --yes "
                       "(or --dry-run to see the plan)", c.cmd_name);
        free(words);
        return EXIT_USAGE;
    }
    rc = make_client(&c);
    if (rc != EXIT_OK) {
        free(words);
        return rc;
    }
    if (neonflow_cancel_new(&c.cancel) != 0 || neonflow_call_options_new(&c.call) != 0 ||
        neonflow_call_options_set_cancel(c.call, c.cancel) != 0 || cli_signals_start(&c) != 0) {
        out_errorf(&c, "cannot set up signal handling");
        neonflow_client_free(c.client);
        neonflow_call_options_free(c.call);
        neonflow_cancel_free(c.cancel);
        free(words);
        return EXIT_FAIL;
    }
    switch (c.cmd) {
    case CMD_SETUP:
    case CMD_PROMOTE:
    case CMD_REFRESH:
    case CMD_ROLLBACK:
    case CMD_BACKUPS_LIST:
    case CMD_BACKUPS_PRUNE:
        rc = cmd_workflow(&c);
        break;
    case CMD_PREVIEW_CREATE:
    case CMD_PREVIEW_LIST:
    case CMD_PREVIEW_DELETE:
    case CMD_PREVIEW_PRUNE:
        rc = cmd_preview(&c);
        break;
    case CMD_CONNECTION_STRING:
    case CMD_ROLES_LIST:
    case CMD_DATABASES_LIST:
        rc = cmd_connection(&c);
        break;
    case CMD_FLEET_PROMOTE:
    case CMD_FLEET_REFRESH:
    case CMD_FLEET_ROLLBACK:
        rc = cmd_fleet(&c);
        break;
    default:
        rc = cmd_resources(&c);
        break;
    }
    fflush(stdout);
    cli_signals_stop();
    neonflow_client_free(c.client);
    neonflow_call_options_free(c.call);
    neonflow_cancel_free(c.cancel);
    free(words);
    if (key_copy) {
        memset(key_copy, 0, strlen(key_copy));
        free(key_copy);
        key_copy = NULL;
    }
    term_free();
    return rc;
}
