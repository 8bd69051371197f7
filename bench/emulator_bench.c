/*
 * bench-emulator: how fast does the in-process emulator answer simple GETs?
 *
 *   bench-emulator [REQUESTS] [MAX_SECONDS]      (defaults 20000 and 30)
 *
 * Starts the emulator on 127.0.0.1 with an ephemeral port and rate limiting
 * off, warms up, then issues REQUESTS `GET /projects/{id}/branches/{id}` over
 * ONE keep-alive libcurl easy handle per client thread, stopping early at
 * MAX_SECONDS. Variants:
 *   1. one client thread;
 *   2. two client threads (REQUESTS split between them);
 *   3. the whole process (server and one client thread) pinned to one CPU:
 *      the strict "one core" figure, client cost included;
 *   4. (when there are >= 2 CPUs) the server pinned to one CPU, one client
 *      thread pinned to the others.
 *
 * Reported per variant: wall rate, latency percentiles (one-client variants),
 * server CPU per 1000 requests (process CPU minus the client threads' own
 * CPU) and the per-core capacity that implies, plus the number of TCP
 * connections the server accepted (1 per client thread when keep-alive
 * works). Target: >= 5,000 GETs/s on one core.
 *
 * Exit status: 0, or 1 when a request failed or the emulator misbehaved.
 * Whether the target was met is printed, not enforced.
 */
#include "emulator.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define TARGET_RPS 5000.0
#define WARMUP_REQUESTS 500

typedef struct client_arg {
    const char *url;
    const char *auth_header;
    long requests;     /* to send */
    double deadline;   /* monotonic seconds */
    double *latencies; /* optional, `requests` slots */
    /* results */
    long done;
    long errors;
    long last_status;
    size_t bytes; /* response bytes received */
    double cpu_s; /* this thread's CPU time */
    char errmsg[CURL_ERROR_SIZE + 64];
} client_arg;

static double now_mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double thread_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double process_cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
    (void)ptr;
    size_t *bytes = userdata;
    *bytes += size * nmemb;
    return size * nmemb;
}

static void *client_main(void *p) {
    client_arg *a = p;
    double cpu0 = thread_cpu();
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(a->errmsg, sizeof a->errmsg, "curl_easy_init failed");
        a->errors = 1;
        return NULL;
    }
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, a->auth_header);
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    size_t bytes = 0;
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, a->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &bytes);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");

    for (long i = 0; i < a->requests; i++) {
        if ((i & 63) == 0 && now_mono() > a->deadline) break;
        double t0 = a->latencies ? now_mono() : 0.0;
        CURLcode rc = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (a->latencies) a->latencies[a->done] = now_mono() - t0;
        a->done++;
        a->last_status = status;
        if (rc != CURLE_OK || status != 200) {
            if (a->errors++ == 0)
                snprintf(a->errmsg, sizeof a->errmsg, "request %ld: curl %d (%s), HTTP %ld", i,
                         (int)rc, errbuf[0] ? errbuf : curl_easy_strerror(rc), status);
            if (a->errors >= 10) break; /* something is broken; don't spin */
        }
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    a->bytes = bytes;
    a->cpu_s = thread_cpu() - cpu0;
    return NULL;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double percentile(const double *sorted, long n, double q) {
    if (n <= 0) return 0.0;
    long i = (long)(q * (double)(n - 1) + 0.5);
    if (i >= n) i = n - 1;
    return sorted[i];
}

typedef struct variant {
    const char *title;
    int clients;
    int pin_server_cpu; /* -1: no pinning */
    int pin_clients_too; /* clients share the server's CPU */
} variant;

/* Runs one variant on a fresh emulator. Returns 0 or -1. */
static int run_variant(const variant *v, long requests, double max_seconds) {
    cpu_set_t saved;
    int pinned = 0;
    if (v->pin_server_cpu >= 0) {
        if (sched_getaffinity(0, sizeof saved, &saved) != 0) {
            printf("  (cannot read CPU affinity: %s; skipped)\n", strerror(errno));
            return 0;
        }
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(v->pin_server_cpu, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0) {
            printf("  (cannot pin to CPU %d: %s; skipped)\n", v->pin_server_cpu, strerror(errno));
            return 0;
        }
        pinned = 1;
    }

    emu_config cfg;
    emu_config_init(&cfg);
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.api_key = "bench-key";
    cfg.rate_per_minute = 0;
    cfg.rate_per_second_route = 0;
    emu_server *s = NULL;
    int rc_start = emu_start(&s, &cfg); /* server threads inherit the affinity */
    if (pinned && !v->pin_clients_too) {
        /* Clients go to every other CPU so they don't share the server's. */
        cpu_set_t rest = saved;
        CPU_CLR(v->pin_server_cpu, &rest);
        if (CPU_COUNT(&rest) == 0) rest = saved;
        sched_setaffinity(0, sizeof rest, &rest);
    }
    if (rc_start != 0) {
        fprintf(stderr, "emu_start failed\n");
        if (pinned) sched_setaffinity(0, sizeof saved, &saved);
        return -1;
    }
    int result = 0;
    char branch_id[64] = "", endpoint_id[64] = "";
    if (emu_add_project(s, "bench-project", "main", branch_id, endpoint_id) != 0 || !branch_id[0]) {
        fprintf(stderr, "emu_add_project failed\n");
        emu_stop(s);
        if (pinned) sched_setaffinity(0, sizeof saved, &saved);
        return -1;
    }
    char url[512];
    snprintf(url, sizeof url, "%s/projects/bench-project/branches/%s", emu_base_url(s), branch_id);
    const char *auth = "Authorization: Bearer bench-key";

    /* Warm-up on its own connection(s), then reset the counters. */
    client_arg warm = {.url = url, .auth_header = auth, .requests = WARMUP_REQUESTS,
                       .deadline = now_mono() + 10.0};
    client_main(&warm);
    if (warm.errors) {
        fprintf(stderr, "warm-up failed: %s\n", warm.errmsg);
        emu_stop(s);
        if (pinned) sched_setaffinity(0, sizeof saved, &saved);
        return -1;
    }
    emu_counters_reset(s);

    int n = v->clients;
    client_arg args[8];
    pthread_t tids[8];
    memset(args, 0, sizeof args);
    double *lat = NULL;
    if (n == 1) lat = calloc((size_t)requests, sizeof *lat);
    double deadline = now_mono() + max_seconds;
    for (int i = 0; i < n; i++) {
        args[i].url = url;
        args[i].auth_header = auth;
        args[i].requests = requests / n + (i < requests % n ? 1 : 0);
        args[i].deadline = deadline;
        args[i].latencies = (i == 0) ? lat : NULL;
    }
    double cpu0 = process_cpu();
    double t0 = now_mono();
    for (int i = 0; i < n; i++) {
        if (pthread_create(&tids[i], NULL, client_main, &args[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            n = i;
            result = -1;
            break;
        }
    }
    for (int i = 0; i < n; i++) pthread_join(tids[i], NULL);
    double wall = now_mono() - t0;
    double cpu_total = process_cpu() - cpu0;

    long done = 0, errors = 0;
    size_t bytes = 0;
    double client_cpu = 0.0;
    for (int i = 0; i < n; i++) {
        done += args[i].done;
        bytes += args[i].bytes;
        errors += args[i].errors;
        client_cpu += args[i].cpu_s;
        if (args[i].errors) fprintf(stderr, "  client %d: %s\n", i, args[i].errmsg);
    }
    double server_cpu = cpu_total - client_cpu;
    if (server_cpu < 0) server_cpu = 0;
    int64_t seen = emu_requests(s, "GET", "/projects/*/branches/*");
    int64_t conns = emu_connections(s);
    double rps = wall > 0 ? (double)done / wall : 0.0;
    double srv_ms_per_k = done ? server_cpu * 1e6 / (double)done : 0.0;
    double cli_ms_per_k = done ? client_cpu * 1e6 / (double)done : 0.0;
    double per_core = server_cpu > 0 ? (double)done / server_cpu : 0.0;

    printf("  requests        %ld of %ld%s, errors %ld\n", done, requests,
           done < requests ? " (time limit)" : "", errors);
    printf("  wall            %.3f s  ->  %.0f GETs/s (%.0f body bytes per response)\n", wall, rps,
           done ? (double)bytes / (double)done : 0.0);
    if (lat && done > 0) {
        qsort(lat, (size_t)args[0].done, sizeof *lat, cmp_double);
        printf("  latency         p50 %.0f us, p90 %.0f us, p99 %.0f us, max %.0f us\n",
               percentile(lat, args[0].done, 0.50) * 1e6, percentile(lat, args[0].done, 0.90) * 1e6,
               percentile(lat, args[0].done, 0.99) * 1e6, lat[args[0].done - 1] * 1e6);
    }
    printf("  server CPU      %.3f s = %.1f ms per 1000 GETs  ->  ~%.0f GETs/s per core\n",
           server_cpu, srv_ms_per_k, per_core);
    printf("  client CPU      %.3f s = %.1f ms per 1000 GETs (libcurl, %d thread%s)\n", client_cpu,
           cli_ms_per_k, n, n == 1 ? "" : "s");
    printf("  connections     %lld accepted (expected %d with keep-alive)%s\n", (long long)conns, n,
           conns > n ? "  <-- keep-alive not honoured?" : "");
    printf("  server counted  %lld GETs%s\n", (long long)seen,
           seen != done ? "  <-- differs from requests sent" : "");
    if (pinned) {
        printf("  one-core rate   %.0f GETs/s with the server%s pinned to CPU %d (target %.0f): %s\n",
               rps, v->pin_clients_too ? " and the client" : "", v->pin_server_cpu, TARGET_RPS,
               rps >= TARGET_RPS ? "MET" : "NOT MET");
    }
    if (errors) result = -1;
    if (seen >= 0 && seen != done) result = -1;

    free(lat);
    emu_stop(s);
    if (pinned) sched_setaffinity(0, sizeof saved, &saved);
    return result;
}

int main(int argc, char **argv) {
    long requests = 20000;
    double max_seconds = 30.0;
    if (argc > 1) requests = strtol(argv[1], NULL, 10);
    if (argc > 2) max_seconds = strtod(argv[2], NULL);
    if (requests < 1 || requests > 100000000L || !(max_seconds > 0.0)) {
        fprintf(stderr, "usage: %s [REQUESTS (default 20000)] [MAX_SECONDS (default 30)]\n", argv[0]);
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "curl_global_init failed\n");
        return 1;
    }
    int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
    printf("bench-emulator: %ld GETs per variant, stop at %.0f s, %d CPU%s online, libcurl %s\n",
           requests, max_seconds, ncpu, ncpu == 1 ? "" : "s", curl_version_info(CURLVERSION_NOW)->version);
    printf("route: GET /api/v2/projects/{id}/branches/{id}, rate limiting off, target >= %.0f GETs/s on one core\n",
           TARGET_RPS);

    variant variants[] = {
        {"1 client thread, 1 keep-alive connection", 1, -1, 0},
        {"2 client threads, 1 keep-alive connection each", 2, -1, 0},
        {"everything (server and 1 client thread) pinned to one CPU", 1, 0, 1},
        {"server pinned to one CPU, 1 client thread on the other CPU(s)", 1, 0, 0},
    };
    int nvar = ncpu >= 2 ? 4 : 3;
    int failed = 0;
    for (int i = 0; i < nvar; i++) {
        printf("\n[%d] %s\n", i + 1, variants[i].title);
        fflush(stdout);
        if (run_variant(&variants[i], requests, max_seconds) != 0) failed = 1;
        fflush(stdout);
    }
    if (ncpu < 2) printf("\n(one CPU online: the server-alone-on-a-CPU variant was skipped)\n");
    curl_global_cleanup();
    return failed;
}
