/*
 * fleet_redis.c — one process of a fleet that shares one Neon API budget and
 * one promotion lock through Redis (nf_redis.h).
 *
 *   fleet_redis [options] PROJECT_ID...
 *     --redis HOST:PORT | /path.sock   Redis (default 127.0.0.1:6379)
 *     --prefix P           key prefix (default neonflow)
 *     --account NAME       budget name: one per API key (default default)
 *     --rate MIN:SEC       the account's limits (default Neon's 700:40)
 *     --margin F           share of each limit kept free, 0..0.5 (default 0.05)
 *     --fail-open          Redis failing past the grace period: send unpaced
 *                          (default: fail the request unsent)
 *     --grace-ms N         how long a failing Redis is waited out (default 5000)
 *     --promotions N       promotions to run (default one per project); the
 *                          i-th promotes project i mod count, each project
 *                          set up (dev) before its first
 *     --threads T          worker threads sharing one client (default 4)
 *     --lock-check         instead: check the Redis lock on the first project
 *     --neon-lease         keep the promotion lease in Neon (the library's
 *                          default) instead of the Redis lock
 *     --local-budget       for comparison: each process paces itself with the
 *                          built-in limiter at --rate (no shared budget)
 *
 * NEON_API_KEY and NEON_API_HOST configure the client. Start as many of these
 * processes as you like against one account: together they stay inside its
 * budget. Prints one summary line; exits 0 when every promotion succeeded.
 */
#include "nf_redis.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct fleet {
    neonflow_client *client;
    nf_redis *redis;
    char **projects;
    int nprojects, promotions, threads, neon_lease;
    pthread_mutex_t mu;
    int ok, failed;
    int64_t api_calls, retries;
} fleet;

typedef struct worker {
    fleet *f;
    int index;
} worker;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One workflow call with its own run options and the Redis lock. */
static int run_one(fleet *f, const char *project, int promote)
{
    neonflow_run_options *run = NULL;
    neonflow_report *rep = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_run_options_new(&run);
    if (rc == NEONFLOW_OK)
        rc = neonflow_run_options_set_project_id(run, project);
    if (rc == NEONFLOW_OK)
        rc = neonflow_run_options_set_timeout_ms(run, 900000);
    if (rc == NEONFLOW_OK && !f->neon_lease)
        rc = nf_redis_install_lock(f->redis, run);
    if (rc == NEONFLOW_OK)
        rc = promote ? neonflow_promote(&rep, f->client, run, NULL, &err) : neonflow_setup(&rep, f->client, run, NULL, &err);
    pthread_mutex_lock(&f->mu);
    f->api_calls += neonflow_report_api_calls(rep);
    f->retries += neonflow_report_retries(rep);
    pthread_mutex_unlock(&f->mu);
    if (rc != NEONFLOW_OK)
        fprintf(stderr, "%s %s: %s: %s\n", promote ? "promote" : "setup", project, neonflow_error_name(rc),
                err ? neonflow_error_message(err) : neonflow_strerror(rc));
    neonflow_error_free(err);
    neonflow_report_free(rep);
    neonflow_run_options_free(run);
    return rc;
}

/* Worker k owns the projects whose index mod threads is k, so no two
 * threads of this process promote one project at once. */
static void *work(void *arg)
{
    worker *w = arg;
    fleet *f = w->f;
    char *ready = calloc((size_t)f->nprojects, 1);
    for (int i = 0; ready && i < f->promotions; i++) {
        int p = i % f->nprojects;
        if (p % f->threads != w->index)
            continue;
        int rc = NEONFLOW_OK;
        if (!ready[p] && (rc = run_one(f, f->projects[p], 0)) == NEONFLOW_OK)
            ready[p] = 1;
        if (rc == NEONFLOW_OK)
            rc = run_one(f, f->projects[p], 1);
        pthread_mutex_lock(&f->mu);
        if (rc == NEONFLOW_OK)
            f->ok++;
        else
            f->failed++;
        pthread_mutex_unlock(&f->mu);
    }
    free(ready);
    return NULL;
}

#define CHECK(cond, what)                                                                                       \
    do {                                                                                                        \
        if (!(cond)) {                                                                                          \
            fprintf(stderr, "lock check FAILED: %s\n", what);                                                   \
            return 1;                                                                                           \
        }                                                                                                       \
        printf("lock: %s\n", what);                                                                             \
    } while (0)

/* The lock's contract, directly and through a workflow of the library. */
static int lock_check(fleet *f, const char *project)
{
    char holder[160], e[256] = "";
    const char *t = "production";
    nf_redis *r = f->redis;
    CHECK(nf_redis_lock(r, NEONFLOW_LOCK_ACQUIRE, project, t, "run-a", 60000, holder, sizeof(holder), e,
                        sizeof(e)) == NF_REDIS_OK,
          "run-a acquires");
    CHECK(nf_redis_lock(r, NEONFLOW_LOCK_ACQUIRE, project, t, "run-b", 60000, holder, sizeof(holder), e,
                        sizeof(e)) == NF_REDIS_HELD &&
              strcmp(holder, "run-a") == 0,
          "run-b is refused while run-a holds it, holder run-a reported");
    CHECK(nf_redis_lock(r, NEONFLOW_LOCK_RELEASE, project, t, "run-b", 0, NULL, 0, e, sizeof(e)) == NF_REDIS_HELD,
          "release by run-b (not the holder) does nothing");
    CHECK(nf_redis_lock(r, NEONFLOW_LOCK_RENEW, project, t, "run-b", 60000, NULL, 0, e, sizeof(e)) == NF_REDIS_HELD,
          "renew by run-b (not the holder) fails");
    CHECK(nf_redis_lock(r, NEONFLOW_LOCK_ACQUIRE, project, t, "run-b", 60000, holder, sizeof(holder), e,
                        sizeof(e)) == NF_REDIS_HELD &&
              strcmp(holder, "run-a") == 0,
          "run-a still holds it");
    CHECK(nf_redis_lock(r, NEONFLOW_LOCK_ACQUIRE, project, t, "run-a", 60000, holder, sizeof(holder), e,
                        sizeof(e)) == NF_REDIS_OK,
          "run-a re-enters its own lock");
    CHECK(nf_redis_lock(r, NEONFLOW_LOCK_RENEW, project, t, "run-a", 60000, NULL, 0, e, sizeof(e)) == NF_REDIS_OK,
          "run-a renews");

    /* A promotion with run id run-b must stop before changing anything. */
    neonflow_run_options *run = NULL;
    neonflow_report *rep = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_run_options_new(&run);
    if (rc == NEONFLOW_OK)
        rc = neonflow_run_options_set_project_id(run, project);
    if (rc == NEONFLOW_OK)
        rc = neonflow_run_options_set_run_id(run, "run-b");
    if (rc == NEONFLOW_OK)
        rc = nf_redis_install_lock(r, run);
    if (rc == NEONFLOW_OK)
        rc = neonflow_promote(&rep, f->client, run, NULL, &err);
    int held = rc == NEONFLOW_ELEASE_HELD && err && strstr(neonflow_error_message(err), "run-a");
    if (err)
        printf("lock: promote as run-b: %s: %s\n", neonflow_error_name(rc), neonflow_error_message(err));
    neonflow_error_free(err);
    neonflow_report_free(rep);
    neonflow_run_options_free(run);
    CHECK(held, "a promotion as run-b fails with NEONFLOW_ELEASE_HELD naming run-a");

    CHECK(nf_redis_lock(r, NEONFLOW_LOCK_RELEASE, project, t, "run-a", 0, NULL, 0, e, sizeof(e)) == NF_REDIS_OK,
          "run-a releases");
    CHECK(nf_redis_lock(r, NEONFLOW_LOCK_ACQUIRE, project, t, "run-b", 60000, holder, sizeof(holder), e,
                        sizeof(e)) == NF_REDIS_OK,
          "run-b acquires once run-a released");
    CHECK(nf_redis_lock(r, NEONFLOW_LOCK_RELEASE, project, t, "run-b", 0, NULL, 0, e, sizeof(e)) == NF_REDIS_OK,
          "run-b releases");
    printf("lock check passed\n");
    return 0;
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--redis HOST:PORT|/path.sock] [--prefix P] [--account NAME] [--rate MIN:SEC]\n"
            "       [--margin F] [--fail-open] [--grace-ms N] [--promotions N] [--threads T] [--lock-check]\n"
            "       [--neon-lease] [--local-budget] PROJECT_ID...\n",
            argv0);
    return 2;
}

int main(int argc, char **argv)
{
    char host[256] = "127.0.0.1";
    int port = 6379, lock_mode = 0, local_budget = 0;
    const char *prefix = "neonflow";
    nf_redis_budget b = {"default", 700, 40, 0.05, NF_REDIS_FAIL_CLOSED, 5000};
    fleet f;
    memset(&f, 0, sizeof(f));
    f.promotions = -1;
    f.threads = 4;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--fail-open") == 0) {
            b.fail_mode = NF_REDIS_FAIL_OPEN;
            continue;
        }
        if (strcmp(a, "--lock-check") == 0) {
            lock_mode = 1;
            continue;
        }
        if (strcmp(a, "--neon-lease") == 0) {
            f.neon_lease = 1;
            continue;
        }
        if (strcmp(a, "--local-budget") == 0) {
            local_budget = 1;
            continue;
        }
        if (!v)
            return usage(argv[0]);
        i++;
        if (strcmp(a, "--redis") == 0) {
            const char *colon = strrchr(v, ':');
            if (v[0] == '/' || !colon) {
                snprintf(host, sizeof(host), "%s", v);
            } else {
                snprintf(host, sizeof(host), "%.*s", (int)(colon - v), v);
                port = atoi(colon + 1);
            }
        } else if (strcmp(a, "--prefix") == 0) {
            prefix = v;
        } else if (strcmp(a, "--account") == 0) {
            b.account = v;
        } else if (strcmp(a, "--rate") == 0) {
            if (sscanf(v, "%d:%d", &b.per_minute, &b.per_second_route) != 2)
                return usage(argv[0]);
        } else if (strcmp(a, "--margin") == 0) {
            b.margin = atof(v);
        } else if (strcmp(a, "--grace-ms") == 0) {
            b.grace_ms = atoll(v);
        } else if (strcmp(a, "--promotions") == 0) {
            f.promotions = atoi(v);
        } else if (strcmp(a, "--threads") == 0) {
            f.threads = atoi(v);
        } else {
            return usage(argv[0]);
        }
    }
    f.projects = argv + i;
    f.nprojects = argc - i;
    if (f.nprojects < 1 || f.threads < 1 || f.threads > 64)
        return usage(argv[0]);
    if (f.promotions < 0)
        f.promotions = f.nprojects;

    char e[256] = "";
    if (nf_redis_new(&f.redis, host, port, prefix, 2000, e, sizeof(e)) != NF_REDIS_OK) {
        fprintf(stderr, "%s\n", e);
        return 1;
    }
    neonflow_client_options *copts = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_client_options_new(&copts);
    if (rc == NEONFLOW_OK)
        rc = neonflow_client_options_set_use_environment(copts, 1);
    if (rc == NEONFLOW_OK)
        rc = local_budget ? neonflow_client_options_set_rate_limit(copts, b.per_minute, b.per_second_route)
                          : nf_redis_install_rate_limit(f.redis, copts, &b);
    if (rc == NEONFLOW_OK)
        rc = neonflow_client_new(&f.client, copts, &err);
    neonflow_client_options_free(copts);
    if (rc != NEONFLOW_OK) {
        fprintf(stderr, "client: %s\n", err ? neonflow_error_message(err) : neonflow_strerror(rc));
        neonflow_error_free(err);
        nf_redis_free(f.redis);
        return 1;
    }
    if (lock_mode) {
        rc = lock_check(&f, f.projects[0]);
        neonflow_client_free(f.client);
        nf_redis_free(f.redis);
        return rc;
    }

    pthread_mutex_init(&f.mu, NULL);
    int64_t start = mono_ms();
    pthread_t th[64];
    worker w[64];
    int started = 0;
    for (int k = 0; k < f.threads; k++) {
        w[k].f = &f;
        w[k].index = k;
    }
    for (int k = 0; k < f.threads; k++)
        if (pthread_create(&th[started], NULL, work, &w[k]) == 0)
            started++;
        else
            work(&w[k]); /* no thread: do its share here */
    for (int k = 0; k < started; k++)
        pthread_join(th[k], NULL);
    int64_t wall = mono_ms() - start, waits = 0, throttled = 0;
    nf_redis_stats(f.redis, &waits, &throttled);
    printf("fleet_redis %s: %d of %d promotions ok in %lld ms; API calls %lld (retries %lld); token waits %lld; "
           "429s seen %lld\n",
           b.account, f.ok, f.promotions, (long long)wall, (long long)f.api_calls, (long long)f.retries,
           (long long)waits, (long long)throttled);
    neonflow_client_free(f.client);
    nf_redis_free(f.redis);
    pthread_mutex_destroy(&f.mu);
    return f.ok == f.promotions ? 0 : 1;
}
