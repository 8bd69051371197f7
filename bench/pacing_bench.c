/*
 * pacing-bench: many threads through ONE client under Neon's rate limits.
 *
 *   pacing-bench [--threads N] [--calls N] [--scale X]
 *
 * Starts the in-process emulator with Neon's limits (700 requests/min for
 * the account, 40/s per route) multiplied by --scale, gives the client the
 * same limits, and makes --calls `GET /projects/{id}/branches` from each of
 * --threads threads (defaults 8 x 1,000 at scale 1: about 12 minutes; scale
 * 10 runs the same shape ten times faster). Prints errors, the 429s the
 * server sent, the latency of a call (mean, p50, p99, max; the time a call
 * takes, limiter wait included), the TCP connections the server accepted,
 * and the wall time against what the budget allows (calls / per-minute).
 * Targets (issue 12): zero errors and 429s, p99 within 2 s of the mean (no
 * minute-long stalls), at most 2 connections per thread.
 * Exit status 1 only when the bench could not run or a call failed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emulator.h"
#include "neonflow/neonflow.h"

#define PROJECT "pacing-bench"
#define KEY "pacing-bench-key-0123456789"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct worker {
    neonflow_client *c;
    int calls;
    double *lat; /* seconds, one per call */
    int errors;
    pthread_t th;
} worker;

static void *run(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < w->calls; i++) {
        neonflow_branch_list *l = NULL;
        double t0 = now_s();
        if (neonflow_branches_list(&l, w->c, PROJECT, NULL, NULL, NULL) != NEONFLOW_OK)
            w->errors++;
        w->lat[i] = now_s() - t0;
        neonflow_branch_list_free(l);
    }
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int threads = 8, calls = 1000;
    double scale = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--calls") == 0)
            calls = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--scale") == 0)
            scale = atof(argv[i + 1]);
    }
    if (argc % 2 == 0 || threads < 1 || threads > 256 || calls < 1 || scale <= 0) {
        fprintf(stderr, "usage: pacing-bench [--threads N] [--calls N] [--scale X]\n");
        return 2;
    }
    int32_t per_min = (int32_t)(700 * scale), per_sec = (int32_t)(40 * scale);

    emu_config cfg;
    emu_config_init(&cfg);
    cfg.api_key = KEY;
    cfg.rate_per_minute = per_min;
    cfg.rate_per_second_route = per_sec;
    emu_server *s = NULL;
    if (emu_start(&s, &cfg) != 0 || emu_add_project(s, PROJECT, "main", NULL, NULL) != 0) {
        fprintf(stderr, "pacing-bench: could not start the emulator\n");
        return 1;
    }
    neonflow_client_options *o = NULL;
    neonflow_client *c = NULL;
    neonflow_client_options_new(&o);
    neonflow_client_options_set_api_key(o, KEY);
    neonflow_client_options_set_base_url(o, emu_base_url(s));
    neonflow_client_options_set_rate_limit(o, per_min, per_sec);
    if (neonflow_client_new(&c, o, NULL) != NEONFLOW_OK) {
        fprintf(stderr, "pacing-bench: could not create the client\n");
        return 1;
    }
    neonflow_client_options_free(o);
    emu_counters_reset(s);

    worker *w = calloc((size_t)threads, sizeof(*w));
    double *all = calloc((size_t)threads * (size_t)calls, sizeof(*all));
    if (!w || !all)
        return 1;
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        w[i].c = c;
        w[i].calls = calls;
        w[i].lat = all + (size_t)i * (size_t)calls;
        pthread_create(&w[i].th, NULL, run, &w[i]);
    }
    int errors = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(w[i].th, NULL);
        errors += w[i].errors;
    }
    double wall = now_s() - t0;
    size_t n = (size_t)threads * (size_t)calls;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += all[i];
    qsort(all, n, sizeof(*all), cmp);
    double mean = sum / (double)n, p50 = all[n / 2], p99 = all[(n * 99) / 100], max = all[n - 1];
    int64_t r429 = emu_responses_with_status(s, 429), conns = emu_connections(s);
    int64_t seen = emu_requests(s, NULL, NULL);
    double budget = (double)n / per_min * 60;

    printf("pacing-bench: %d threads x %d calls, limits %d/min and %d/s per route (scale %g)\n",
           threads, calls, per_min, per_sec, scale);
    printf("  errors %d, 429s %lld, requests seen %lld\n", errors, (long long)r429, (long long)seen);
    printf("  latency s: mean %.3f  p50 %.3f  p99 %.3f  max %.3f  (p99 - mean %.3f; target <= 2 s at scale 1)\n",
           mean, p50, p99, max, p99 - mean);
    printf("  TCP connections %lld (%.2f per thread; target <= 2)\n", (long long)conns,
           (double)conns / threads);
    printf("  wall %.1f s, budget allows %.1f s (%.3fx)\n", wall, budget, wall / budget);
    neonflow_client_free(c);
    emu_stop(s);
    free(all);
    free(w);
    return errors ? 1 : 0;
}
