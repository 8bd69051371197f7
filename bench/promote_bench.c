/* bench-promote: a whole neonflow_promote on the in-process emulator (instant
 * operations, no rate limit) against the same round trips made by hand with
 * the one-call-per-endpoint API, on fresh projects. Prints the API calls of
 * each and the ratio of the medians (target: promote <= 1.2 x by hand).
 *
 * "By hand" is the minimal round trips of a safe, resumable promotion:
 *   lock the target (create a branch with a fixed name), list branches, list
 *   snapshots (find an earlier attempt), target endpoints, recent operations
 *   (nothing running), snapshot dev, restore (not finalized), snapshot prod,
 *   check the target is unchanged, finalize, find prod by name, its
 *   endpoints, list snapshots (no duplicate), unlock = 14 requests.
 * The bare 6 (no resume, no checks) are timed too, for reference.
 *
 * Usage: bench-promote [iterations (default 200)] */
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

#define CHECK(x)                                                                                               \
    do {                                                                                                       \
        int rc_ = (x);                                                                                         \
        if (rc_ != NEONFLOW_OK) {                                                                              \
            fprintf(stderr, "%s failed: %s\n", #x, neonflow_error_name(rc_));                                  \
            exit(1);                                                                                           \
        }                                                                                                      \
    } while (0)

static void new_project(emu_server *s, int i, const char *tag, char *pid, char *prod, char *dev)
{
    sprintf(pid, "%s-%d", tag, i);
    if (emu_add_project(s, pid, "production", prod, NULL) != 0 || emu_add_branch(s, pid, "dev", NULL, 1, dev, NULL) != 0) {
        fprintf(stderr, "emulator seeding failed\n");
        exit(1);
    }
}

/* The same requests a promotion needs, one API call each; returns the calls made. */
static int by_hand(neonflow_client *c, const char *pid, const char *prod, const char *dev, int full)
{
    int calls = 0;
    neonflow_branch_list *bl = NULL;
    neonflow_snapshot_list *sl = NULL;
    neonflow_endpoint_list *el = NULL;
    neonflow_operation_list *ol = NULL;
    char lease[64] = "";
    if (full) { /* a safe script locks the target too: a branch with a fixed name (see lib/workflow/lease.c) */
        neonflow_branch_create_options *lo = NULL;
        neonflow_branch_create_options_new(&lo);
        neonflow_branch_create_options_set_name(lo, "nf/production/lease");
        neonflow_branch_result *lr = NULL;
        CHECK(neonflow_branch_create(&lr, c, pid, lo, NULL, NULL));
        snprintf(lease, sizeof(lease), "%s", neonflow_branch_id(neonflow_branch_result_branch(lr)));
        neonflow_branch_result_free(lr);
        neonflow_branch_create_options_free(lo);
        calls++;
    }
    CHECK(neonflow_branches_list(&bl, c, pid, NULL, NULL, NULL));
    neonflow_branch_list_free(bl);
    calls++;
    if (full) {
        CHECK(neonflow_snapshots_list(&sl, c, pid, NULL, NULL));
        neonflow_snapshot_list_free(sl);
        CHECK(neonflow_endpoints_list_for_branch(&el, c, pid, prod, NULL, NULL));
        neonflow_endpoint_list_free(el);
        CHECK(neonflow_operations_list(&ol, c, pid, NULL, 50, NULL, NULL));
        neonflow_operation_list_free(ol);
        calls += 3;
    }
    neonflow_snapshot_create_options *so = NULL;
    neonflow_snapshot_create_options_new(&so);
    neonflow_snapshot_create_options_set_name(so, "nf/production/candidate/20260101T000000Z/bench");
    neonflow_snapshot *cand = NULL, *rb = NULL;
    CHECK(neonflow_snapshot_create(&cand, NULL, c, pid, dev, so, NULL, NULL));
    calls++;
    neonflow_snapshot_restore_options *ro = NULL;
    neonflow_snapshot_restore_options_new(&ro);
    neonflow_snapshot_restore_options_set_name(ro, "nf/production/preview/20260101T000000Z/bench");
    neonflow_snapshot_restore_options_set_target_branch_id(ro, prod);
    neonflow_branch_result *res = NULL;
    CHECK(neonflow_snapshot_restore(&res, c, pid, neonflow_snapshot_id(cand), ro, NULL, NULL));
    calls++;
    char preview[64];
    snprintf(preview, sizeof(preview), "%s", neonflow_branch_id(neonflow_branch_result_branch(res)));
    neonflow_snapshot_create_options_set_name(so, "nf/production/rollback/20260101T000000Z/bench");
    CHECK(neonflow_snapshot_create(&rb, NULL, c, pid, prod, so, NULL, NULL));
    calls++;
    neonflow_branches_list_options *lo = NULL;
    neonflow_branches_list_options_new(&lo);
    neonflow_branches_list_options_set_search(lo, "production");
    if (full) { /* the target is still the branch the script saw */
        CHECK(neonflow_branches_list(&bl, c, pid, lo, NULL, NULL));
        neonflow_branch_list_free(bl);
        calls++;
    }
    CHECK(neonflow_branch_finalize_restore(NULL, c, pid, preview, "nf/production/backup/20260101T000000Z/bench", NULL,
                                           NULL));
    calls++;
    CHECK(neonflow_branches_list(&bl, c, pid, lo, NULL, NULL));
    neonflow_branch_list_free(bl);
    calls++;
    if (full) {
        CHECK(neonflow_endpoints_list_for_branch(&el, c, pid, preview, NULL, NULL));
        neonflow_endpoint_list_free(el);
        CHECK(neonflow_snapshots_list(&sl, c, pid, NULL, NULL));
        neonflow_snapshot_list_free(sl);
        CHECK(neonflow_branch_delete(NULL, c, pid, lease, NULL, NULL, NULL));
        calls += 3;
    }
    neonflow_branches_list_options_free(lo);
    neonflow_branch_result_free(res);
    neonflow_snapshot_restore_options_free(ro);
    neonflow_snapshot_create_options_free(so);
    neonflow_snapshot_free(cand);
    neonflow_snapshot_free(rb);
    return calls;
}

int main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : 200;
    if (iters < 3)
        iters = 3;
    emu_server *s = NULL;
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.rate_per_minute = 0;
    cfg.rate_per_second_route = 0;
    cfg.op_duration_ms = 0;
    if (emu_start(&s, &cfg) != 0) {
        fprintf(stderr, "cannot start the emulator\n");
        return 1;
    }
    neonflow_client_options *co = NULL;
    neonflow_client_options_new(&co);
    neonflow_client_options_set_base_url(co, emu_base_url(s));
    neonflow_client_options_set_api_key(co, "emulator-key");
    neonflow_client_options_set_rate_limit(co, 1000000, 100000);
    neonflow_client *c = NULL;
    CHECK(neonflow_client_new(&c, co, NULL));
    neonflow_client_options_free(co);

    double *tp = calloc((size_t)iters, sizeof(double)), *th = calloc((size_t)iters, sizeof(double));
    double *tb = calloc((size_t)iters, sizeof(double));
    int64_t calls = 0;
    int hand_calls = 0, bare_calls = 0;
    char pid[64], prod[64], dev[64];
    /* warm up the connection and the emulator */
    new_project(s, 0, "warm", pid, prod, dev);
    by_hand(c, pid, prod, dev, 1);
    for (int i = 0; i < iters; i++) {
        /* interleave the three so drift affects all alike */
        new_project(s, i, "wf", pid, prod, dev);
        neonflow_run_options *ro = NULL;
        neonflow_run_options_new(&ro);
        neonflow_run_options_set_project_id(ro, pid);
        neonflow_report *r = NULL;
        double t0 = now_ms();
        CHECK(neonflow_promote(&r, c, ro, NULL, NULL));
        tp[i] = now_ms() - t0;
        calls = neonflow_report_api_calls(r);
        neonflow_report_free(r);
        neonflow_run_options_free(ro);

        new_project(s, i, "hand", pid, prod, dev);
        t0 = now_ms();
        hand_calls = by_hand(c, pid, prod, dev, 1);
        th[i] = now_ms() - t0;

        new_project(s, i, "bare", pid, prod, dev);
        t0 = now_ms();
        bare_calls = by_hand(c, pid, prod, dev, 0);
        tb[i] = now_ms() - t0;
    }
    double mp = median(tp, iters), mh = median(th, iters), mb = median(tb, iters);
    printf("bench-promote: %d iterations, emulator with instant operations\n", iters);
    printf("  neonflow_promote        %7.3f ms median, %lld API calls\n", mp, (long long)calls);
    printf("  by hand (safe minimum)  %7.3f ms median, %d API calls\n", mh, hand_calls);
    printf("  by hand (bare minimum)  %7.3f ms median, %d API calls (no resume, no checks)\n", mb, bare_calls);
    printf("  ratio promote / safe minimum: %.3f (target <= 1.20)\n", mp / mh);
    printf("  ratio promote / bare minimum: %.3f\n", mp / mb);
    free(tp);
    free(th);
    free(tb);
    neonflow_client_free(c);
    emu_stop(s);
    return mp / mh <= 1.2 ? 0 : 2;
}
