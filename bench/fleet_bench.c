/* fleet-bench: 200 promotions over 50 projects (four fleet rounds of 50,
 * one client) on the in-process emulator with Neon's rate limits on (700
 * requests per minute for the account, 40 per second per route, enforced by
 * the emulator with 429s). Prints whether any 429 was answered (target:
 * none), the wall time as a ratio of the rate bound (requests / 700 per
 * minute; target <= 1.15), the requests per promotion, and the peak RSS of
 * the process (which also holds the emulator).
 *
 * At Neon's real limits this takes about 4-6 minutes; --scale S multiplies
 * both limits (client and emulator) by S, so the same work runs S times
 * faster against a proportionally scaled bound.
 *
 * Usage: fleet-bench [--scale S] [--projects N] [--rounds R] [--concurrency C]
 *                    [--op-ms MS]
 * Defaults: scale 1, 50 projects, 4 rounds, concurrency 16, operations of 200 ms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "emulator.h"
#include "neonflow/neonflow.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* ru_maxrss is in KiB on Linux */
}

static long arg_long(int argc, char **argv, const char *name, long dflt, long lo, long hi)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) {
            char *end;
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || v < lo || v > hi) {
                fprintf(stderr, "fleet-bench: %s expects %ld..%ld\n", name, lo, hi);
                exit(2);
            }
            return v;
        }
    return dflt;
}

int main(int argc, char **argv)
{
    long scale = arg_long(argc, argv, "--scale", 1, 1, 1000);
    long nproj = arg_long(argc, argv, "--projects", 50, 1, 1000);
    long rounds = arg_long(argc, argv, "--rounds", 4, 1, 10);
    long conc = arg_long(argc, argv, "--concurrency", 16, 1, 64);
    long op_ms = arg_long(argc, argv, "--op-ms", 200, 0, 60000);
    int32_t per_min = (int32_t)(700 * scale), per_sec = (int32_t)(40 * scale);

    emu_config cfg;
    emu_config_init(&cfg);
    cfg.op_duration_ms = op_ms;
    cfg.rate_per_minute = per_min;
    cfg.rate_per_second_route = per_sec;
    emu_server *s = NULL;
    if (emu_start(&s, &cfg) != 0) {
        fprintf(stderr, "fleet-bench: cannot start the emulator\n");
        return 1;
    }
    neonflow_fleet_options *fo = NULL;
    neonflow_fleet_options_new(&fo);
    for (long i = 0; i < nproj; i++) {
        char pid[32], prod[64], dev[64];
        snprintf(pid, sizeof pid, "bench-%ld", i);
        if (emu_add_project(s, pid, "production", prod, NULL) != 0 ||
            emu_add_branch(s, pid, "dev", NULL, 1, dev, NULL) != 0 ||
            neonflow_fleet_options_add_entry(fo, pid, NULL, NULL) != NEONFLOW_OK) {
            fprintf(stderr, "fleet-bench: seeding failed\n");
            return 1;
        }
    }
    neonflow_client_options *co = NULL;
    neonflow_client *c = NULL;
    neonflow_error *err = NULL;
    neonflow_client_options_new(&co);
    neonflow_client_options_set_base_url(co, emu_base_url(s));
    neonflow_client_options_set_api_key(co, "emulator-key");
    neonflow_client_options_set_rate_limit(co, per_min, per_sec);
    if (neonflow_client_new(&c, co, &err) != NEONFLOW_OK) {
        fprintf(stderr, "fleet-bench: client: %s\n", neonflow_error_message(err));
        return 1;
    }
    neonflow_client_options_free(co);
    neonflow_fleet_options_set_concurrency(fo, (int32_t)conc);
    emu_counters_reset(s);
    double rss0 = peak_rss_mib();

    printf("fleet-bench: %ld promotions over %ld projects (%ld fleet rounds, concurrency %ld, operations %ld ms)\n",
           nproj * rounds, nproj, rounds, conc, op_ms);
    printf("  limits: %d requests/min, %d/s per route (Neon's x %ld) on both the emulator and the client\n", per_min,
           per_sec, scale);
    fflush(stdout);
    long ok = 0;
    double t0 = now_s();
    for (long r = 0; r < rounds; r++) {
        char rid[32];
        snprintf(rid, sizeof rid, "bench-round-%ld", r);
        neonflow_fleet_options_set_run_id(fo, rid);
        neonflow_fleet_report *rep = NULL;
        neonflow_error *ferr = NULL;
        int rc = neonflow_fleet_promote(&rep, c, fo, NULL, &ferr);
        ok += (long)neonflow_fleet_report_count(rep, NEONFLOW_FLEET_ENTRY_DONE);
        if (rc != NEONFLOW_OK)
            fprintf(stderr, "  round %ld: %s: %s\n", r, neonflow_error_name(rc), neonflow_error_message(ferr));
        neonflow_error_free(ferr);
        neonflow_fleet_report_free(rep);
    }
    double wall = now_s() - t0;
    int64_t requests = emu_requests(s, NULL, NULL);
    int64_t r429 = emu_responses_with_status(s, 429);
    double bound = (double)requests / (double)per_min * 60.0;
    long total = nproj * rounds;
    printf("  promotions ok: %ld/%ld\n", ok, total);
    printf("  429 responses: %lld (%s)\n", (long long)r429, r429 == 0 ? "zero: target met" : "NOT zero");
    printf("  requests: %lld, %.1f per promotion\n", (long long)requests, total ? (double)requests / (double)total : 0.0);
    /* A sliding-window limit lets the first minute's requests through at
     * once, so no client can beat (requests - per_min) / per_min minutes;
     * the ratio is only meaningful when the run spans several windows. */
    double tight = requests > per_min ? (double)(requests - per_min) / (double)per_min * 60.0 : 0.0;
    printf("  wall time: %.1f s; rate bound %.1f s (requests / %d per minute); ratio %.3f (target <= 1.15)\n", wall,
           bound, per_min, bound > 0 ? wall / bound : 0.0);
    if (tight > 0)
        printf("  sliding-window bound (first minute's burst free) %.1f s: ratio %.3f\n", tight, wall / tight);
    else
        printf("  (fewer requests than one minute's limit: not rate-bound; use a smaller --scale)\n");
    printf("  peak RSS: %.1f MiB (%.1f MiB before the fleets; the process holds the emulator too)\n", peak_rss_mib(),
           rss0);
    neonflow_fleet_options_free(fo);
    neonflow_client_free(c);
    emu_stop(s);
    return ok == total ? 0 : 1;
}
