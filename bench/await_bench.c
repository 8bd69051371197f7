/* await-bench: how soon a finished operation is noticed, and how many polls
 * it takes, with libneonflow's adaptive await versus fixed 1-second polling
 * (the Neon SDK's policy: poll every pending operation, then sleep 1 s).
 *
 * Operations with durations spread over 0.1-20 s run on the in-process
 * emulator, all at once (one project each, so no 423 locks), once per
 * policy, in the same run. The client-side and emulator rate limits are off
 * so the schedules, not the limiter, are compared. "Late" is the time from
 * the operation's completion (creation request sent + duration: an upper
 * bound, so lateness is never under-reported) to the moment the waiter
 * returns. Targets: operations under 2 s noticed >= 2x sooner on average;
 * <= 1.5x the polls of fixed polling over the whole range; never > 1 s late.
 * Exit status 0 when every target is met, 1 otherwise. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emulator.h"
#include "neonflow/neonflow.h"

static const double durations_s[] = {0.1, 0.2, 0.35, 0.5, 0.7, 0.9, 1.2, 1.5, 1.8,
                                     2.5, 3.5, 5.0, 7.0, 9.5, 12.0, 15.0, 17.5, 20.0};
#define NDUR (sizeof(durations_s) / sizeof(durations_s[0]))

struct job {
    int fixed; /* 1: fixed 1 s polling; 0: neonflow_operations_await */
    int64_t duration_ms;
    char project[32];
    neonflow_branch_result *created;
    int64_t t_sent, t_noticed, polls;
    int rc;
};

static emu_server *srv;
static neonflow_client *client;
static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Creates a branch whose operations take the job's duration. */
static int create(struct job *j)
{
    pthread_mutex_lock(&create_lock); /* the emulator's duration is global */
    emu_set_op_duration_ms(srv, j->duration_ms);
    j->t_sent = mono_ms();
    neonflow_error *e = NULL;
    int rc = neonflow_branch_create(&j->created, client, j->project, NULL, NULL, &e);
    pthread_mutex_unlock(&create_lock);
    if (rc != NEONFLOW_OK)
        fprintf(stderr, "create %s: %s\n", j->project, neonflow_error_message(e));
    neonflow_error_free(e);
    return rc;
}

static void wait_fixed(struct job *j)
{
    const neonflow_operation_list *ops = neonflow_branch_result_operations(j->created);
    size_t n = neonflow_operation_list_count(ops);
    int done[16] = {0};
    for (;;) {
        int pending = 0;
        for (size_t i = 0; i < n && i < 16; i++) {
            if (done[i])
                continue;
            neonflow_operation *op = NULL;
            int rc = neonflow_operation_get(&op, client, j->project,
                                            neonflow_operation_id(neonflow_operation_list_at(ops, i)), NULL, NULL);
            j->polls++;
            if (rc == NEONFLOW_OK && neonflow_operation_is_done(op))
                done[i] = 1;
            else
                pending = 1;
            neonflow_operation_free(op);
        }
        if (!pending)
            break;
        sleep_ms(1000);
    }
    j->t_noticed = mono_ms();
    j->rc = NEONFLOW_OK;
}

static void wait_adaptive(struct job *j)
{
    neonflow_await_result *r = NULL;
    neonflow_error *e = NULL;
    j->rc = neonflow_operations_await(&r, client, j->project, neonflow_branch_result_operations(j->created), NULL, NULL, &e);
    j->t_noticed = mono_ms();
    j->polls = neonflow_await_result_polls(r);
    if (j->rc != NEONFLOW_OK)
        fprintf(stderr, "await %s: %s\n", j->project, neonflow_error_message(e));
    neonflow_error_free(e);
    neonflow_await_result_free(r);
}

static void *run(void *arg)
{
    struct job *j = arg;
    if ((j->rc = create(j)) != NEONFLOW_OK)
        return NULL;
    if (j->fixed)
        wait_fixed(j);
    else
        wait_adaptive(j);
    return NULL;
}

int main(void)
{
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.rate_per_minute = 0;
    cfg.rate_per_second_route = 0;
    if (emu_start(&srv, &cfg) != 0) {
        fprintf(stderr, "await-bench: emulator did not start\n");
        return 2;
    }
    struct job jobs[2 * NDUR];
    memset(jobs, 0, sizeof(jobs));
    for (size_t i = 0; i < 2 * NDUR; i++) {
        jobs[i].fixed = (int)(i % 2);
        jobs[i].duration_ms = (int64_t)(durations_s[i / 2] * 1000.0 + 0.5);
        snprintf(jobs[i].project, sizeof(jobs[i].project), "bench-%zu", i);
        if (emu_add_project(srv, jobs[i].project, "main", NULL, NULL) != 0)
            return 2;
    }
    neonflow_client_options *o;
    neonflow_client_options_new(&o);
    neonflow_client_options_set_api_key(o, "emulator-key");
    neonflow_client_options_set_base_url(o, emu_base_url(srv));
    neonflow_client_options_set_rate_limit(o, 0, 0);
    if (neonflow_client_new(&client, o, NULL) != NEONFLOW_OK)
        return 2;
    neonflow_client_options_free(o);

    int64_t t0 = mono_ms();
    pthread_t th[2 * NDUR];
    for (size_t i = 0; i < 2 * NDUR; i++)
        pthread_create(&th[i], NULL, run, &jobs[i]);
    for (size_t i = 0; i < 2 * NDUR; i++)
        pthread_join(th[i], NULL);
    int64_t wall = mono_ms() - t0;

    printf("await-bench: %zu operations per policy, 0.1-20 s, run concurrently (%.1f s wall)\n", NDUR,
           (double)wall / 1000.0);
    printf("%10s | %12s %8s | %12s %8s\n", "duration", "adaptive late", "polls", "fixed-1s late", "polls");
    double short_a = 0, short_f = 0, max_late_a = 0, max_late_f = 0;
    int64_t polls_a = 0, polls_f = 0;
    int nshort = 0, failures = 0;
    for (size_t i = 0; i < NDUR; i++) {
        struct job *a = &jobs[2 * i], *f = &jobs[2 * i + 1];
        if (a->rc != NEONFLOW_OK || f->rc != NEONFLOW_OK) {
            failures++;
            continue;
        }
        double la = (double)(a->t_noticed - (a->t_sent + a->duration_ms));
        double lf = (double)(f->t_noticed - (f->t_sent + f->duration_ms));
        printf("%9.2fs | %10.0f ms %8lld | %10.0f ms %8lld\n", durations_s[i], la, (long long)a->polls, lf,
               (long long)f->polls);
        if (durations_s[i] < 2.0) {
            short_a += la;
            short_f += lf;
            nshort++;
        }
        polls_a += a->polls;
        polls_f += f->polls;
        if (la > max_late_a)
            max_late_a = la;
        if (lf > max_late_f)
            max_late_f = lf;
    }
    if (failures) {
        printf("await-bench: %d operations failed\n", failures);
        return 1;
    }
    short_a /= nshort;
    short_f /= nshort;
    double speedup = short_a > 0 ? short_f / short_a : 99.0;
    double poll_ratio = (double)polls_a / (double)polls_f;
    printf("ops < 2 s: mean late adaptive %.0f ms, fixed %.0f ms: %.2fx sooner (target >= 2x)\n", short_a, short_f,
           speedup);
    printf("polls: adaptive %lld, fixed %lld: %.2fx (target <= 1.5x)\n", (long long)polls_a, (long long)polls_f,
           poll_ratio);
    printf("max late: adaptive %.0f ms, fixed %.0f ms (target adaptive <= 1000 ms)\n", max_late_a, max_late_f);
    int ok = speedup >= 2.0 && poll_ratio <= 1.5 && max_late_a <= 1000.0;
    printf("await-bench: %s\n", ok ? "all targets met" : "TARGETS MISSED");

    for (size_t i = 0; i < 2 * NDUR; i++)
        neonflow_branch_result_free(jobs[i].created);
    neonflow_client_free(client);
    emu_stop(srv);
    return ok ? 0 : 1;
}
