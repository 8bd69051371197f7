/*
 * control_plane.c — many projects, a few threads, ONE client.
 *
 *   control_plane PROJECT_ID...
 *
 * A control plane promotes dev onto production in many projects at once. A
 * neonflow_client is made to be shared: every call in flight uses its own
 * HTTP handle, while connections, TLS sessions and the client-side rate
 * limit (Neon's 700 requests/min) are shared by all threads. So: one client,
 * a pool of worker threads, and one set of run options per project run.
 *
 * NEON_API_KEY (and optionally NEON_API_HOST) configure the client, read
 * because it enables the environment explicitly.
 */
#include <neonflow/neonflow.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define WORKERS 4

typedef struct job {
    const char *project;
    int result;              /* NEONFLOW_OK or the failing code */
    char new_branch[64];     /* production's branch id after the promotion */
    int64_t api_calls;       /* HTTP attempts of setup + promote */
    int64_t duration_ms;
} job;

static neonflow_client *client; /* shared by every worker */
static job *jobs;
static size_t njobs, next_job;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* One project: setup (idempotent) then promote, with its own run options. */
static void run_job(job *j)
{
    neonflow_run_options *run = NULL;
    neonflow_report *rep = NULL;
    j->result = neonflow_run_options_new(&run);
    if (j->result == NEONFLOW_OK)
        j->result = neonflow_run_options_set_project_id(run, j->project);
    if (j->result == NEONFLOW_OK) {
        j->result = neonflow_setup(&rep, client, run, NULL, NULL);
        j->api_calls += rep ? neonflow_report_api_calls(rep) : 0;
        j->duration_ms += rep ? neonflow_report_duration_ms(rep) : 0;
        neonflow_report_free(rep);
        rep = NULL;
    }
    if (j->result == NEONFLOW_OK) {
        j->result = neonflow_promote(&rep, client, run, NULL, NULL);
        if (rep) {
            j->api_calls += neonflow_report_api_calls(rep);
            j->duration_ms += neonflow_report_duration_ms(rep);
            snprintf(j->new_branch, sizeof(j->new_branch), "%s", neonflow_report_target_branch_id(rep));
        }
        neonflow_report_free(rep);
    }
    neonflow_run_options_free(run);
}

/* A worker takes the next unclaimed project until none is left. */
static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        job *j = next_job < njobs ? &jobs[next_job++] : NULL;
        pthread_mutex_unlock(&lock);
        if (!j)
            return NULL;
        run_job(j);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PROJECT_ID...\n", argv[0]);
        return 2;
    }
    job all[256];
    njobs = (size_t)(argc - 1) < 256 ? (size_t)(argc - 1) : 256;
    memset(all, 0, sizeof(all));
    for (size_t i = 0; i < njobs; i++)
        all[i].project = argv[i + 1];
    jobs = all;

    neonflow_client_options *copts = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_client_options_new(&copts);
    /* One operator key for this demo; a multi-tenant control plane sets each
     * tenant's key with neonflow_client_options_set_api_key instead and
     * leaves the environment off, so a tenant without a key fails. */
    if (rc == NEONFLOW_OK)
        rc = neonflow_client_options_set_use_environment(copts, 1);
    if (rc == NEONFLOW_OK)
        rc = neonflow_client_new(&client, copts, &err);
    neonflow_client_options_free(copts);
    if (rc != NEONFLOW_OK) {
        fprintf(stderr, "client: %s\n", err ? neonflow_error_message(err) : neonflow_strerror(rc));
        neonflow_error_free(err);
        return 1;
    }

    pthread_t threads[WORKERS];
    int started = 0;
    for (int i = 0; i < WORKERS; i++)
        if (pthread_create(&threads[i], NULL, worker, NULL) == 0)
            started++;
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    if (started == 0)
        worker(NULL); /* no threads available: do the work here */

    /* Summary: one line per project, then the totals. */
    int64_t total_calls = 0;
    size_t ok = 0;
    for (size_t i = 0; i < njobs; i++) {
        const job *j = &jobs[i];
        printf("%-24s %-22s %-26s %3lld calls %6lld ms\n", j->project, neonflow_error_name(j->result),
               j->result == NEONFLOW_OK ? j->new_branch : "-", (long long)j->api_calls,
               (long long)j->duration_ms);
        total_calls += j->api_calls;
        ok += j->result == NEONFLOW_OK;
    }
    printf("%zu of %zu projects promoted by %d workers sharing one client; total API calls: %lld\n", ok, njobs,
           started, (long long)total_calls);
    neonflow_client_free(client);
    return ok == njobs ? 0 : 1;
}
