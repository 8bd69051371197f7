/* pg-switch-bench: the emulator's --postgres mode.
 *  1. The switch gap a client sees when finalize moves production's endpoint
 *     onto a restored branch: a client querying production's connection string
 *     in a loop (reconnecting at once) measures the time between its last
 *     answer from the old server and its first from the new one. Median and
 *     maximum over ROUNDS finalizes of a small database (target < 1 s).
 *  2. Memory per idle endpoint: the proportional set size (PSS) of each
 *     server and its children, with 20 idle endpoints running. */
#include "emu_internal.h"
#include "pgproc.h"

#include <curl/curl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 9
#define IDLE_ENDPOINTS 20

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct client {
    char uri[512];
    atomic_int stop, failures;
    atomic_llong longest_gap;
} client;

static void *client_main(void *arg)
{
    client *c = arg;
    PGconn *conn = NULL;
    int64_t last_ok = now_ms();
    while (!atomic_load(&c->stop)) {
        if (!conn || PQstatus(conn) != CONNECTION_OK) {
            PQfinish(conn);
            conn = PQconnectdb(c->uri);
            if (PQstatus(conn) != CONNECTION_OK) {
                atomic_fetch_add(&c->failures, 1);
                usleep(1000); /* a 1 ms retry: the gap is the server's, not a backoff's */
                continue;
            }
        }
        PGresult *r = PQexec(conn, "SELECT count(*) FROM t");
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            int64_t t = now_ms();
            if (t - last_ok > atomic_load(&c->longest_gap))
                atomic_store(&c->longest_gap, t - last_ok);
            last_ok = t;
        }
        PQclear(r);
        usleep(500);
    }
    PQfinish(conn);
    return NULL;
}

static long http(emu_server *s, const char *method, const char *path, const char *body, char *out, size_t len)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", emu_base_url(s), path);
    FILE *mem = fmemopen(out, len, "w");
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer emulator-key");
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, mem);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    fclose(mem);
    return status;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static long http(emu_server *s, const char *method, const char *path, const char *body, char *out, size_t len);

/* The connection string the API gives for the project's default branch. */
static void uri_of(emu_server *s, char *out, size_t len)
{
    char buf[2048];
    out[0] = '\0';
    if (http(s, "GET", "/projects/bench/connection_uri?database_name=neondb&role_name=neondb_owner", NULL, buf,
             sizeof(buf)) == 200 && strstr(buf, "postgresql://"))
        sscanf(strstr(buf, "postgresql://"), "%511[^\"]", out);
    (void)len;
}

int main(void)
{
    if (!emu_postgres_available()) {
        printf("PostgreSQL 15 is not installed: nothing to measure\n");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.postgres = 1;
    cfg.rate_per_minute = cfg.rate_per_second_route = 0;
    emu_server *s = NULL;
    char prod[64], ep[64], path[256], body[256], out[65536];
    if (emu_start(&s, &cfg) != 0 || emu_add_project(s, "bench", "production", prod, ep) != 0) {
        printf("cannot start the emulator in --postgres mode\n");
        return 1;
    }
    client c;
    memset(&c, 0, sizeof(c));
    uri_of(s, c.uri, sizeof(c.uri));
    if (!c.uri[0]) {
        printf("no connection_uri\n");
        return 1;
    }
    PGconn *setup = PQconnectdb(c.uri);
    PQclear(PQexec(setup, "CREATE TABLE t(id int, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 10000) g"));
    PQfinish(setup);

    int64_t gaps[ROUNDS], calls[ROUNDS];
    pthread_t th;
    pthread_create(&th, NULL, client_main, &c);
    usleep(200000);
    for (int i = 0; i < ROUNDS; i++) {
        char branch[64], snap[64];
        pthread_mutex_lock(&s->mu);
        snprintf(branch, sizeof(branch), "%s", emu_branch_default(s->projects.v[0])->id);
        pthread_mutex_unlock(&s->mu);
        snprintf(path, sizeof(path), "/projects/bench/branches/%s/snapshot", branch);
        if (http(s, "POST", path, NULL, out, sizeof(out)) != 200 || sscanf(strstr(out, "\"id\":\""), "\"id\":\"%63[^\"]", snap) != 1) {
            printf("snapshot failed: %.200s\n", out);
            return 1;
        }
        atomic_store(&c.longest_gap, 0);
        usleep(100000);
        atomic_store(&c.longest_gap, 0);
        snprintf(path, sizeof(path), "/projects/bench/snapshots/%s/restore", snap);
        snprintf(body, sizeof(body), "{\"target_branch_id\":\"%s\",\"finalize_restore\":true}", branch);
        int64_t t0 = now_ms();
        if (http(s, "POST", path, body, out, sizeof(out)) != 200) {
            printf("restore failed: %.200s\n", out);
            return 1;
        }
        calls[i] = now_ms() - t0;
        usleep(300000); /* the client is back */
        gaps[i] = atomic_load(&c.longest_gap);
        /* drop the old branch and the snapshot so rounds stay alike */
        snprintf(path, sizeof(path), "/projects/bench/snapshots/%s", snap);
        http(s, "DELETE", path, NULL, out, sizeof(out));
        snprintf(path, sizeof(path), "/projects/bench/branches/%s", branch);
        http(s, "DELETE", path, NULL, out, sizeof(out));
    }
    atomic_store(&c.stop, 1);
    pthread_join(th, NULL);
    int64_t sorted[ROUNDS];
    memcpy(sorted, gaps, sizeof(gaps));
    qsort(sorted, ROUNDS, sizeof(sorted[0]), cmp);
    qsort(calls, ROUNDS, sizeof(calls[0]), cmp);
    printf("switch gap seen by a client (10,000-row table, %d finalizes): median %lld ms, max %lld ms "
           "(target < 1000 ms)\n",
           ROUNDS, (long long)sorted[ROUNDS / 2], (long long)sorted[ROUNDS - 1]);
    printf("restore + finalize request: median %lld ms (includes copying the snapshot)\n", (long long)calls[ROUNDS / 2]);

    /* memory of idle endpoints */
    for (int i = 0; i < IDLE_ENDPOINTS - 1; i++) {
        char name[32];
        snprintf(name, sizeof(name), "idle-%d", i);
        if (emu_add_branch(s, "bench", name, NULL, 1, NULL, NULL) != 0) {
            printf("cannot add endpoint %d\n", i);
            return 1;
        }
    }
    sleep(3);
    long total = 0, n = 0, maxkb = 0;
    pthread_mutex_lock(&s->mu);
    emu_project *p = s->projects.v[0];
    for (size_t i = 0; i < p->endpoints.n; i++) {
        long kb = emu_pg_rss_kb(s->pg, ((emu_endpoint *)p->endpoints.v[i])->pg_port);
        if (kb > 0) {
            total += kb;
            n++;
            if (kb > maxkb)
                maxkb = kb;
        }
    }
    pthread_mutex_unlock(&s->mu);
    printf("memory per idle endpoint (PSS of the server and its children, %ld running): mean %.1f MiB, max %.1f MiB, "
           "all %ld: %.0f MiB\n",
           n, n ? total / 1024.0 / n : 0.0, maxkb / 1024.0, n, total / 1024.0);
    emu_stop(s);
    curl_global_cleanup();
    return 0;
}
