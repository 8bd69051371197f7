/* Shared helpers of the --postgres tests: an in-process emulator on real
 * PostgreSQL, HTTP calls to it, and SQL through libpq. Without PostgreSQL the
 * tests skip (exit 77), except under CI=true where they fail. */
#ifndef PG_TEST_COMMON_H
#define PG_TEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "emulator.h"

/* Exits 77 (skip) without PostgreSQL, or fails under CI. */
static inline void pg_require(void)
{
    if (emu_postgres_available())
        return;
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0) {
        fprintf(stderr, "PostgreSQL 15 is missing and CI=true: install it with scripts/install-deps\n");
        exit(1);
    }
    printf("1..0 # SKIP PostgreSQL 15 is not installed (scripts/install-deps installs it)\n");
    exit(77);
}

static inline emu_server *pg_emulator(const char *data_dir, const char *fixture)
{
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.rate_per_minute = cfg.rate_per_second_route = 0;
    cfg.postgres = 1;
    cfg.pg_data_dir = data_dir;
    cfg.fixture_path = fixture;
    emu_server *s = NULL;
    assert_int_equal(emu_start(&s, &cfg), 0);
    return s;
}

typedef struct pg_buf {
    char *p;
    size_t n;
} pg_buf;

static size_t pg_buf_write(char *d, size_t sz, size_t nm, void *u)
{
    pg_buf *b = u;
    char *np = realloc(b->p, b->n + sz * nm + 1);
    if (!np)
        return 0;
    memcpy(np + b->n, d, sz * nm);
    b->n += sz * nm;
    np[b->n] = '\0';
    b->p = np;
    return sz * nm;
}

/* One API call; returns the status and, when out is set, the JSON body. */
static inline long pg_http(emu_server *s, const char *method, const char *path, const char *body, json_t **out)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", emu_base_url(s), path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer emulator-key");
    h = curl_slist_append(h, "Content-Type: application/json");
    pg_buf b = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, pg_buf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (out)
        *out = b.p ? json_loads(b.p, 0, NULL) : NULL;
    free(b.p);
    return status;
}

/* The emulator's state of project pid (a new reference). */
static inline json_t *pg_project(emu_server *s, const char *pid)
{
    json_t *st = emu_state(s), *p = NULL, *x;
    size_t i;
    json_array_foreach(json_object_get(st, "projects"), i, x) {
        if (strcmp(json_string_value(json_object_get(x, "id")), pid) == 0)
            p = json_incref(x);
    }
    json_decref(st);
    assert_non_null(p);
    return p;
}

/* The endpoint's connection string as the owner role, from the API's
 * GET /projects/{p}/connection_uri (what an application is given). */
static inline void pg_uri(emu_server *s, const char *pid, const char *ep_id, char *out, size_t len)
{
    json_t *p = pg_project(s, pid), *x, *r = NULL;
    size_t i;
    const char *bid = NULL;
    json_array_foreach(json_object_get(p, "endpoints"), i, x) {
        if (strcmp(json_string_value(json_object_get(x, "id")), ep_id) == 0)
            bid = json_string_value(json_object_get(x, "branch_id"));
    }
    assert_non_null(bid);
    char path[512];
    snprintf(path, sizeof(path),
             "/projects/%s/connection_uri?branch_id=%s&endpoint_id=%s&database_name=neondb&role_name=neondb_owner", pid,
             bid, ep_id);
    json_decref(p);
    assert_int_equal(pg_http(s, "GET", path, NULL, &r), 200);
    const char *uri = json_string_value(json_object_get(r, "uri"));
    assert_non_null(uri);
    snprintf(out, len, "%s%sconnect_timeout=10", uri, strchr(uri, '?') ? "&" : "?");
    json_decref(r);
}

/* Runs SQL; fails the test on an error. */
static inline void pg_sql(const char *uri, const char *sql)
{
    PGconn *c = PQconnectdb(uri);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect %s: %s", uri, PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

/* First column of the first row as text ("" when no row; "ERROR: ..." on an SQL error). */
static inline void pg_scalar(const char *uri, const char *sql, char *out, size_t len)
{
    PGconn *c = PQconnectdb(uri);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect %s: %s", uri, PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        snprintf(out, len, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    else
        snprintf(out, len, "ERROR: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

static inline const char *pg_str(json_t *o, const char *a, const char *b)
{
    json_t *x = json_object_get(o, a);
    return json_string_value(b ? json_object_get(x, b) : x);
}

#endif
