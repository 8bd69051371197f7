/*
 * smoke_rollback.c — a smoke test after the switch, with automatic rollback.
 *
 *   smoke_rollback [SMOKE_COMMAND]
 *
 * Promotes dev onto production with an after-switch hook: once production
 * serves the new data, the hook runs a smoke test against it. When the smoke
 * test fails and auto-rollback is on, libneonflow restores the rollback
 * snapshot it took just before the switch, so production is back where it
 * was (on the same endpoint) and the promoted data is kept aside.
 *
 * The smoke test here is a shell command (run with NEONFLOW_BRANCH_ID set to
 * the new production branch and NEONFLOW_HOST to its read-write endpoint's host); without one it is a check that always fails.
 * Exit status: 0 when the smoke test failed and production was rolled back,
 * 1 otherwise. Configuration: NEON_API_KEY, NEON_API_HOST, NEON_PROJECT_ID.
 */
#include <neonflow/neonflow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* After-switch hook: 0 accepts the new production, non-zero rejects it. */
static int smoke_test(const neonflow_branch_hook_ctx *ctx, void *payload)
{
    const char *command = payload;
    const neonflow_branch *branch = neonflow_branch_hook_ctx_branch(ctx);
    const char *host = neonflow_branch_hook_ctx_host(ctx);
    printf("smoke test on the new production branch %s (%s): ", neonflow_branch_id(branch),
           host ? host : "no read-write endpoint");
    if (!command) {
        printf("FAILED (simulated: the health check returned 500)\n");
        return 1;
    }
    fflush(stdout);
    if (setenv("NEONFLOW_BRANCH_ID", neonflow_branch_id(branch), 1) != 0)
        return 1;
    if (host ? setenv("NEONFLOW_HOST", host, 1) != 0 : unsetenv("NEONFLOW_HOST") != 0)
        return 1;
    int status = system(command);
    printf("%s\n", status == 0 ? "passed" : "FAILED");
    return status != 0;
}

static const char *status_name(int32_t s)
{
    static const char *const names[] = {"planned", "done", "resumed", "skipped", "failed", "vetoed", "undone"};
    return s >= 0 && s <= 6 ? names[s] : "?";
}

int main(int argc, char **argv)
{
    const char *project = getenv("NEON_PROJECT_ID");
    if (!project) {
        fprintf(stderr, "set NEON_PROJECT_ID (and NEON_API_KEY, optionally NEON_API_HOST)\n");
        return 2;
    }
    neonflow_client_options *copts = NULL;
    neonflow_client *client = NULL;
    neonflow_run_options *run = NULL;
    neonflow_promote_options *popts = NULL;
    neonflow_report *rep = NULL;
    neonflow_error *err = NULL;
    int status = 1;

    if (neonflow_client_options_new(&copts) != NEONFLOW_OK ||
        neonflow_client_options_set_use_environment(copts, 1) != NEONFLOW_OK ||
        neonflow_client_new(&client, copts, &err) != NEONFLOW_OK ||
        neonflow_run_options_new(&run) != NEONFLOW_OK ||
        neonflow_run_options_set_project_id(run, project) != NEONFLOW_OK ||
        neonflow_promote_options_new(&popts) != NEONFLOW_OK ||
        /* The hook borrows argv[1]: no destroy callback needed. */
        neonflow_promote_options_set_after_switch_hook(popts, smoke_test, argc > 1 ? argv[1] : NULL,
                                                       NULL) != NEONFLOW_OK ||
        neonflow_promote_options_set_auto_rollback(popts, 1) != NEONFLOW_OK) {
        fprintf(stderr, "setup of the client or options failed: %s\n", neonflow_error_message(err));
        goto out;
    }

    /* Make sure dev exists (no-op when it does), then promote it. */
    int rc = neonflow_setup(&rep, client, run, NULL, &err);
    neonflow_report_free(rep);
    rep = NULL;
    if (rc == NEONFLOW_OK)
        rc = neonflow_promote(&rep, client, run, popts, &err);
    printf("promote returned %s\n", neonflow_error_name(rc));
    if (!rep) {
        fprintf(stderr, "%s\n", neonflow_error_message(err));
        goto out;
    }

    /* The report lists every step, the automatic rollback's included. */
    int rolled_back = 0;
    for (size_t i = 0; i < neonflow_report_step_count(rep); i++) {
        const neonflow_step *s = neonflow_report_step_at(rep, i);
        printf("  %-24s %s\n", neonflow_step_name(s), status_name(neonflow_step_status(s)));
        if (strcmp(neonflow_step_name(s), "auto-rollback-resolve") == 0)
            rolled_back = neonflow_step_status(s) == NEONFLOW_STEP_DONE;
    }
    printf("%s\n", neonflow_report_message(rep));
    printf("production is branch %s again; rollback snapshot %s; endpoint %s\n",
           neonflow_report_target_branch_id(rep), neonflow_report_rollback_snapshot_id(rep),
           neonflow_report_target_endpoint_id(rep));
    /* NEONFLOW_ECALLBACK: the hook vetoed; the last rollback step says it was undone. */
    status = rc == NEONFLOW_ECALLBACK && rolled_back ? 0 : 1;

out:
    neonflow_report_free(rep);
    neonflow_error_free(err);
    neonflow_promote_options_free(popts);
    neonflow_run_options_free(run);
    neonflow_client_free(client);
    neonflow_client_options_free(copts);
    return status;
}
