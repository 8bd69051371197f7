/*
 * bench-http: the cost of the client's HTTP layer over raw libcurl.
 *
 *   bench-http [REQUESTS]        (default 2000)
 *
 * Starts the in-process emulator (rate limiting off), then times, in one run
 * and against the same server:
 *   raw        REQUESTS sequential `GET /projects/{id}/branches` over ONE
 *              keep-alive libcurl easy handle, body collected into a buffer;
 *   raw+json   the same, and the body parsed with jansson (json_loadb), which
 *              any caller of raw libcurl has to do to use the answer;
 *   client     the same GETs through neonflow__http_call (rate limiter off):
 *              handle pool, shared connection cache, headers, request ids,
 *              retry bookkeeping and JSON parsing included.
 * Two workloads are measured: the branch list (2.9 KB) and one branch (the
 * single-object GET that lookups and awaits make).
 * Each variant runs three rounds, interleaved, and the best round counts
 * (the least disturbed by the machine). Prints all three and the ratios; the
 * target is client <= 1.10 x raw+json (the like-for-like comparison: the
 * client always returns parsed JSON). client / raw is printed too.
 * Exit status 1 only when a request failed.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/http.h"
#include "emulator.h"

#define PROJECT "bench-1"
#define ROUNDS 3

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

static size_t collect(char *p, size_t size, size_t n, void *userdata)
{
    buf *b = userdata;
    size_t len = size * n;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, len);
    b->len += len;
    return len;
}

/* Seconds for n GETs over one keep-alive handle (parsing each body when
 * parse is set), or -1 on a failure. */
static double run_raw(const char *url, long n, int parse)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, "Authorization: Bearer emulator-key");
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    /* The client sends a request id; so does this loop, so the server does the same work for both. */
    hdrs = curl_slist_append(hdrs, "X-Request-ID: bench-raw-0123456789abcdef0123456789abcdef");
    buf b = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        b.len = 0;
        long status = 0;
        CURLcode cc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (cc != CURLE_OK || status != 200) {
            fprintf(stderr, "raw GET %ld failed: %s, HTTP %ld\n", i, curl_easy_strerror(cc), status);
            t0 = -1;
            break;
        }
        if (parse) {
            json_t *j = json_loadb(b.data, b.len, 0, NULL);
            if (!j) {
                fprintf(stderr, "raw GET %ld: body is not JSON\n", i);
                t0 = -1;
                break;
            }
            json_decref(j);
        }
    }
    double took = t0 < 0 ? -1 : now_s() - t0;
    free(b.data);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return took;
}

static double run_client(neonflow_client *c, const char *path, const char *route, long n)
{
    neonflow__request req = {"GET", path, route, NULL};
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        neonflow__response resp;
        neonflow_error *err = NULL;
        if (neonflow__http_call(c, NULL, &req, &resp, &err) != NEONFLOW_OK) {
            fprintf(stderr, "client GET %ld failed: %s\n", i, neonflow_error_message(err));
            neonflow_error_free(err);
            return -1;
        }
        neonflow__response_clear(&resp);
    }
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 2000;
    if (n <= 0)
        n = 2000;
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.rate_per_minute = 0;
    cfg.rate_per_second_route = 0;
    emu_server *s = NULL;
    char main_branch[64];
    if (emu_start(&s, &cfg) != 0 || emu_add_project(s, PROJECT, "main", main_branch, NULL) != 0) {
        fprintf(stderr, "emulator did not start\n");
        return 1;
    }
    emu_set_rate_limit(s, 0, 0);
    for (int i = 0; i < 5; i++) /* a few branches so the body is realistic */
        emu_add_branch(s, PROJECT, NULL, NULL, 0, NULL, NULL);

    neonflow_client_options *o = NULL;
    neonflow_client *c = NULL;
    neonflow_error *err = NULL;
    neonflow_client_options_new(&o);
    neonflow_client_options_set_api_key(o, "emulator-key");
    neonflow_client_options_set_base_url(o, emu_base_url(s));
    neonflow_client_options_set_rate_limit(o, 0, 0);
    if (neonflow_client_new(&c, o, &err) != NEONFLOW_OK) {
        fprintf(stderr, "client: %s\n", neonflow_error_message(err));
        return 1;
    }
    neonflow_client_options_free(o);
    /* Two workloads: the branch list (a 2.9 KB body) and one branch (the
     * shape of the single-object GETs that awaits and lookups make). */
    char one_path[160];
    snprintf(one_path, sizeof(one_path), "/projects/%s/branches/%s", PROJECT, main_branch);
    const struct {
        const char *what, *path, *route;
    } loads[] = {
        {"branch list", "/projects/" PROJECT "/branches", "/projects/{project_id}/branches"},
        {"one branch", one_path, "/projects/{project_id}/branches/{branch_id}"},
    };
    for (size_t w = 0; w < sizeof(loads) / sizeof(loads[0]); w++) {
        char url[320];
        snprintf(url, sizeof(url), "%s%s", emu_base_url(s), loads[w].path);
        /* warm up both paths (connections, caches, page faults) */
        if (run_raw(url, 200, 1) < 0 || run_client(c, loads[w].path, loads[w].route, 200) < 0)
            return 1;
        double best_raw = 1e9, best_json = 1e9, best_client = 1e9;
        for (int r = 0; r < ROUNDS; r++) {
            double a = run_raw(url, n, 0);
            double j = run_raw(url, n, 1);
            double b = run_client(c, loads[w].path, loads[w].route, n);
            if (a < 0 || j < 0 || b < 0)
                return 1;
            best_raw = a < best_raw ? a : best_raw;
            best_json = j < best_json ? j : best_json;
            best_client = b < best_client ? b : best_client;
        }
        printf("== %s: GET %s ==\n", loads[w].what, loads[w].route);
        printf("raw libcurl keep-alive:   %ld GETs in %.3f s (%.1f us/req)\n", n, best_raw,
               best_raw * 1e6 / (double)n);
        printf("raw libcurl + json_loadb: %ld GETs in %.3f s (%.1f us/req)\n", n, best_json,
               best_json * 1e6 / (double)n);
        printf("neonflow client:          %ld GETs in %.3f s (%.1f us/req)\n", n, best_client,
               best_client * 1e6 / (double)n);
        double like = best_client / best_json, bare = best_client / best_raw;
        printf("client / raw+json: %.3f (target <= 1.10): %s\n", like, like <= 1.10 ? "met" : "NOT met");
        printf("client / raw (raw does not parse the body): %.3f (target <= 1.10): %s\n", bare,
               bare <= 1.10 ? "met" : "NOT met");
    }
    printf("TCP connections accepted by the emulator: %lld\n", (long long)emu_connections(s));
    neonflow_client_free(c);
    emu_stop(s);
    return 0;
}
