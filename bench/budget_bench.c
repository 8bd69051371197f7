/* budget-bench: requests and wall time of one neonflow_promote as the project
 * grows: 10, 1,000 and 5,000 other branches (children of dev, as previews
 * are) and 100 manual snapshots, on the in-process emulator (instant
 * operations, no rate limit). Each size promotes dev onto production several
 * times in a row (each round with a new run id, after one to warm up) and
 * prints the median.
 * The requests should be the same at every size (at most 15).
 *
 * Usage: budget-bench [rounds (default 7)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emulator.h"
#include "neonflow/neonflow.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what, int rc, const neonflow_error *err)
{
    fprintf(stderr, "%s failed: %s (%s)\n", what, neonflow_error_name(rc), err ? neonflow_error_message(err) : "");
    exit(1);
}

static neonflow_client *client_for(emu_server *s)
{
    neonflow_client_options *co = NULL;
    neonflow_client *c = NULL;
    neonflow_error *err = NULL;
    if (neonflow_client_options_new(&co) != NEONFLOW_OK ||
        neonflow_client_options_set_base_url(co, emu_base_url(s)) != NEONFLOW_OK ||
        neonflow_client_options_set_api_key(co, "emulator-key") != NEONFLOW_OK ||
        neonflow_client_options_set_rate_limit(co, 1000000, 100000) != NEONFLOW_OK)
        die("client options", NEONFLOW_EINVAL, NULL);
    int rc = neonflow_client_new(&c, co, &err);
    if (rc != NEONFLOW_OK)
        die("client", rc, err);
    neonflow_client_options_free(co);
    return c;
}

/* One size: a fresh emulator and project; prints the medians of `rounds` promotions. */
static void run_size(int branches, int snapshots, int rounds)
{
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.port = 0;
    cfg.rate_per_minute = 0;
    cfg.rate_per_second_route = 0;
    emu_server *s = NULL;
    char prod[64], dev[64];
    if (emu_start(&s, &cfg) != 0 || emu_add_project(s, "bench", "production", prod, NULL) != 0 ||
        emu_add_branch(s, "bench", "dev", NULL, 1, dev, NULL) != 0 || emu_set_limits(s, "bench", 100000, 100000) != 0)
        die("emulator seeding", NEONFLOW_EGENERIC, NULL);
    for (int i = 0; i < branches; i++) {
        char name[64];
        snprintf(name, sizeof(name), "feature-%05d", i);
        if (emu_add_branch(s, "bench", name, dev, 0, NULL, NULL) != 0)
            die("emulator seeding", NEONFLOW_EGENERIC, NULL);
    }
    neonflow_client *c = client_for(s);
    for (int i = 0; i < snapshots; i++) {
        neonflow_snapshot_create_options *so = NULL;
        neonflow_snapshot *snap = NULL;
        neonflow_operation_list *ops = NULL;
        char name[64];
        snprintf(name, sizeof(name), "manual-%03d", i);
        neonflow_snapshot_create_options_new(&so);
        neonflow_snapshot_create_options_set_name(so, name);
        int rc = neonflow_snapshot_create(&snap, &ops, c, "bench", prod, so, NULL, NULL);
        if (rc != NEONFLOW_OK)
            die("snapshot create", rc, NULL);
        neonflow_snapshot_free(snap);
        neonflow_operation_list_free(ops);
        neonflow_snapshot_create_options_free(so);
    }
    neonflow_run_options *ro = NULL;
    neonflow_run_options_new(&ro);
    neonflow_run_options_set_project_id(ro, "bench");
    double *req = calloc((size_t)rounds, sizeof(double)), *ms = calloc((size_t)rounds, sizeof(double));
    if (!req || !ms)
        die("calloc", NEONFLOW_ENOMEM, NULL);
    for (int i = -1; i < rounds; i++) { /* round -1 warms up (connections, first allocations) */
        char run_id[32];
        snprintf(run_id, sizeof(run_id), "bench-%d", i + 1);
        neonflow_run_options_set_run_id(ro, run_id);
        neonflow_report *r = NULL;
        neonflow_error *err = NULL;
        int64_t before = emu_requests(s, NULL, NULL);
        double t0 = now_ms();
        int rc = neonflow_promote(&r, c, ro, NULL, &err);
        double took = now_ms() - t0;
        if (rc != NEONFLOW_OK)
            die("promote", rc, err);
        if (i >= 0) {
            ms[i] = took;
            req[i] = (double)(emu_requests(s, NULL, NULL) - before);
        }
        neonflow_report_free(r);
    }
    printf("  %5d branches, %3d snapshots: %4.0f requests, %8.2f ms per promotion (median of %d)\n", branches,
           snapshots, median(req, rounds), median(ms, rounds), rounds);
    fflush(stdout);
    free(req);
    free(ms);
    neonflow_run_options_free(ro);
    neonflow_client_free(c);
    emu_stop(s);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 7;
    if (rounds < 1 || rounds > 1000) {
        fprintf(stderr, "usage: budget-bench [rounds 1-1000]\n");
        return 2;
    }
    printf("promotion cost by project size (target: the same requests at every size, <= 15)\n");
    const int sizes[] = {10, 1000, 5000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        run_size(sizes[i], 100, rounds);
    return 0;
}
