/*
 * promote.c — the smallest useful promotion.
 *
 * Promotes the root branch "dev" onto "production" of one project, printing
 * every step and how long it took through the event hook. If the project has
 * no "dev" yet, neonflow_setup() creates it first (setup is idempotent: on a
 * project already set up it changes nothing).
 *
 * Configuration comes from the environment, like the CLI:
 *   NEON_API_KEY     the API key (read by the client: use_environment is on)
 *   NEON_API_HOST    optional base URL, e.g. the emulator's
 *   NEON_PROJECT_ID  the project to promote in
 */
#include <neonflow/neonflow.h>
#include <stdio.h>
#include <stdlib.h>

static const char *status_name(int32_t s)
{
    static const char *const names[] = {"planned", "done", "resumed", "skipped", "failed", "vetoed", "undone"};
    return s >= 0 && s <= 6 ? names[s] : "?";
}

/* Event hook: runs synchronously on this thread; it cannot stop the run. */
static void on_event(const neonflow_event *ev, void *payload)
{
    (void)payload;
    switch (neonflow_event_kind(ev)) {
    case NEONFLOW_EVENT_RUN_STARTED:
        printf("run %s started\n", neonflow_event_run_id(ev));
        break;
    case NEONFLOW_EVENT_STEP_BEGIN:
        printf("  %-20s ...\n", neonflow_event_step(ev));
        break;
    case NEONFLOW_EVENT_STEP_END:
        printf("  %-20s %s in %lld ms\n", neonflow_event_step(ev),
               status_name(neonflow_event_status(ev)), (long long)neonflow_event_duration_ms(ev));
        break;
    case NEONFLOW_EVENT_WARNING:
        printf("  warning: %s\n", neonflow_event_message(ev));
        break;
    default:
        break; /* operations, retries, rate-limit waits: not shown here */
    }
}

/* Prints why a call failed: the report (if any) says how to continue. */
static int fail(const char *what, int rc, const neonflow_error *err, const neonflow_report *rep)
{
    fprintf(stderr, "%s failed: %s (%s)\n", what, neonflow_strerror(rc), neonflow_error_name(rc));
    if (err)
        fprintf(stderr, "  %s [http %d, request %s]\n", neonflow_error_message(err),
                (int)neonflow_error_http_status(err), neonflow_error_request_id(err));
    if (rep)
        fprintf(stderr, "  %s\n", neonflow_report_message(rep));
    return 1;
}

int main(void)
{
    const char *project = getenv("NEON_PROJECT_ID");
    if (!project) {
        fprintf(stderr, "set NEON_PROJECT_ID (and NEON_API_KEY, optionally NEON_API_HOST)\n");
        return 2;
    }

    neonflow_client_options *copts = NULL;
    neonflow_client *client = NULL;
    neonflow_run_options *run = NULL;
    neonflow_report *rep = NULL;
    neonflow_error *err = NULL;
    int rc, status = 1;

    /* A client with key and host from the environment, which the library
     * reads only when asked to. */
    if (neonflow_client_options_new(&copts) != NEONFLOW_OK)
        return 1;
    neonflow_client_options_set_use_environment(copts, 1);
    rc = neonflow_client_new(&client, copts, &err);
    neonflow_client_options_free(copts); /* the client keeps a copy */
    if (rc != NEONFLOW_OK) {
        status = fail("client", rc, err, NULL);
        goto out;
    }

    /* Run options are shared by every workflow: project, hooks, deadline. */
    if (neonflow_run_options_new(&run) != NEONFLOW_OK ||
        neonflow_run_options_set_project_id(run, project) != NEONFLOW_OK ||
        neonflow_run_options_set_event_hook(run, on_event, NULL, NULL) != NEONFLOW_OK ||
        neonflow_run_options_set_timeout_ms(run, 10 * 60 * 1000) != NEONFLOW_OK)
        goto out;

    /* 1. Setup: creates "dev" from a snapshot of "production" if missing. */
    printf("setup:\n");
    rc = neonflow_setup(&rep, client, run, NULL, &err);
    if (rc != NEONFLOW_OK) {
        status = fail("setup", rc, err, rep);
        goto out;
    }
    neonflow_report_free(rep);
    rep = NULL;

    /* 2. Promote with the default branches: "dev" replaces "production". */
    printf("promote:\n");
    rc = neonflow_promote(&rep, client, run, NULL, &err);
    if (rc != NEONFLOW_OK) {
        status = fail("promote", rc, err, rep);
        goto out;
    }

    /* The report says what changed, and what the promotion lost. */
    printf("production is now branch %s (endpoint %s unchanged)\n",
           neonflow_report_target_branch_id(rep), neonflow_report_target_endpoint_id(rep));
    printf("old production kept as \"%s\"; rollback snapshot %s\n",
           neonflow_report_backup_branch_name(rep), neonflow_report_rollback_snapshot_id(rep));
    printf("writes to production between %s and %s are not in the new production\n",
           neonflow_report_lost_writes_start(rep), neonflow_report_lost_writes_end(rep));
    printf("%lld API calls in %lld ms\n", (long long)neonflow_report_api_calls(rep),
           (long long)neonflow_report_duration_ms(rep));
    status = 0;

out:
    neonflow_report_free(rep);
    neonflow_error_free(err);
    neonflow_run_options_free(run);
    neonflow_client_free(client);
    return status;
}
