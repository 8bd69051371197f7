/* --postgres with history kept (emu_config.pg_history, --pg-history): past
 * LSNs and times are honoured by WAL replay, checked with SQL — snapshot
 * lsn= and timestamp=, branch create parent_lsn, branch restore in place
 * source_lsn with a backup — and points outside the history are 400s. */
#include "pg_test_common.h"

#include <time.h>
#include <unistd.h>

#define P "pg-hist"

typedef struct fx {
    emu_server *s;
    char prod[64], ep[64], uri[512];
    char lsn1[32], ts1[40], lsn2[32]; /* after row 1; a time between rows 1 and 2; after row 2 */
} fx;

static void rfc3339_now(char *out, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.rate_per_minute = cfg.rate_per_second_route = 0;
    cfg.postgres = cfg.pg_history = 1;
    assert_int_equal(emu_start(&f->s, &cfg), 0);
    assert_int_equal(emu_add_project(f->s, P, "production", f->prod, f->ep), 0);
    pg_uri(f->s, P, f->ep, f->uri, sizeof(f->uri));
    pg_sql(f->uri, "CREATE TABLE t(x int); INSERT INTO t VALUES (1)");
    pg_scalar(f->uri, "SELECT pg_current_wal_lsn()", f->lsn1, sizeof(f->lsn1));
    sleep(2); /* whole seconds apart: timestamps are given in seconds */
    rfc3339_now(f->ts1, sizeof(f->ts1));
    sleep(2);
    pg_sql(f->uri, "INSERT INTO t VALUES (2)");
    pg_scalar(f->uri, "SELECT pg_current_wal_lsn()", f->lsn2, sizeof(f->lsn2));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    emu_stop(f->s);
    free(f);
    return 0;
}

/* The rows of branch bid, through a new endpoint on it. */
static void rows_of(fx *f, const char *bid, char *out, size_t len)
{
    char body[256], uri[512];
    json_t *r = NULL;
    snprintf(body, sizeof(body), "{\"endpoint\":{\"branch_id\":\"%s\",\"type\":\"read_write\"}}", bid);
    assert_int_equal(pg_http(f->s, "POST", "/projects/" P "/endpoints", body, &r), 201);
    pg_uri(f->s, P, pg_str(r, "endpoint", "id"), uri, sizeof(uri));
    json_decref(r);
    pg_scalar(uri, "SELECT string_agg(x::text, ',' ORDER BY x) FROM t", out, len);
}

/* Snapshot of production at `query` (lsn=... or timestamp=...), restored as a new branch: its rows. */
static void snapshot_rows(fx *f, const char *query, char *out, size_t len, char *snap_lsn)
{
    char path[300], bid[64];
    json_t *r = NULL;
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s/snapshot?%s", f->prod, query);
    long st = pg_http(f->s, "POST", path, NULL, &r);
    if (st != 200)
        fail_msg("snapshot?%s: %ld %s", query, st, pg_str(r, "message", NULL));
    snprintf(path, sizeof(path), "/projects/" P "/snapshots/%s/restore", pg_str(r, "snapshot", "id"));
    if (snap_lsn)
        snprintf(snap_lsn, 32, "%s", pg_str(r, "snapshot", "lsn"));
    json_decref(r);
    assert_int_equal(pg_http(f->s, "POST", path, "{}", &r), 200);
    snprintf(bid, sizeof(bid), "%s", pg_str(r, "branch", "id"));
    json_decref(r);
    rows_of(f, bid, out, len);
}

static void test_snapshot_at_lsn_and_time(void **state)
{
    fx *f = *state;
    char q[128], v[64], lsn[32];
    snprintf(q, sizeof(q), "lsn=%s", f->lsn1);
    snapshot_rows(f, q, v, sizeof(v), lsn);
    assert_string_equal(v, "1");
    assert_string_equal(lsn, f->lsn1);
    snprintf(q, sizeof(q), "timestamp=%s", f->ts1);
    snapshot_rows(f, q, v, sizeof(v), NULL);
    assert_string_equal(v, "1");
    /* a time after the last commit: all of the WAL (recovery finds no commit past it) */
    char now[40];
    sleep(1);
    rfc3339_now(now, sizeof(now));
    snprintf(q, sizeof(q), "timestamp=%s", now);
    snapshot_rows(f, q, v, sizeof(v), NULL);
    assert_string_equal(v, "1,2");
    /* production itself is untouched */
    pg_scalar(f->uri, "SELECT string_agg(x::text, ',' ORDER BY x) FROM t", v, sizeof(v));
    assert_string_equal(v, "1,2");
}

static void test_branch_at_parent_lsn(void **state)
{
    fx *f = *state;
    char body[300], v[64], bid[64];
    json_t *r = NULL;
    snprintf(body, sizeof(body), "{\"branch\":{\"parent_id\":\"%s\",\"parent_lsn\":\"%s\"}}", f->prod, f->lsn1);
    assert_int_equal(pg_http(f->s, "POST", "/projects/" P "/branches", body, &r), 201);
    assert_string_equal(pg_str(r, "branch", "parent_lsn"), f->lsn1);
    snprintf(bid, sizeof(bid), "%s", pg_str(r, "branch", "id"));
    json_decref(r);
    rows_of(f, bid, v, sizeof(v));
    assert_string_equal(v, "1");
    /* and a child of that child, at its present, keeps working */
    snprintf(body, sizeof(body), "{\"branch\":{\"parent_id\":\"%s\",\"parent_timestamp\":\"%s\"}}", f->prod, f->ts1);
    assert_int_equal(pg_http(f->s, "POST", "/projects/" P "/branches", body, &r), 201);
    snprintf(bid, sizeof(bid), "%s", pg_str(r, "branch", "id"));
    json_decref(r);
    rows_of(f, bid, v, sizeof(v));
    assert_string_equal(v, "1");
}

static void test_restore_in_place_with_backup(void **state)
{
    fx *f = *state;
    char path[256], body[300], v[64];
    json_t *r = NULL;
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s/restore", f->prod);
    snprintf(body, sizeof(body), "{\"source_branch_id\":\"%s\",\"source_lsn\":\"%s\",\"preserve_under_name\":\"before\"}",
             f->prod, f->lsn1);
    assert_int_equal(pg_http(f->s, "POST", path, body, &r), 200);
    json_decref(r);
    pg_scalar(f->uri, "SELECT string_agg(x::text, ',' ORDER BY x) FROM t", v, sizeof(v));
    assert_string_equal(v, "1");
    json_t *pj = pg_project(f->s, P), *x;
    size_t i;
    char bk[64] = "";
    json_array_foreach(json_object_get(pj, "branches"), i, x) {
        if (strcmp(json_string_value(json_object_get(x, "name")), "before") == 0)
            snprintf(bk, sizeof(bk), "%s", json_string_value(json_object_get(x, "id")));
    }
    json_decref(pj);
    rows_of(f, bk, v, sizeof(v));
    assert_string_equal(v, "1,2");
    /* the restored branch has a history of its own from there */
    pg_sql(f->uri, "INSERT INTO t VALUES (3)");
    char lsn3[32], bid[64];
    pg_scalar(f->uri, "SELECT pg_current_wal_lsn()", lsn3, sizeof(lsn3));
    pg_sql(f->uri, "INSERT INTO t VALUES (4)");
    snprintf(body, sizeof(body), "{\"branch\":{\"parent_id\":\"%s\",\"parent_lsn\":\"%s\"}}", f->prod, lsn3);
    assert_int_equal(pg_http(f->s, "POST", "/projects/" P "/branches", body, &r), 201);
    snprintf(bid, sizeof(bid), "%s", pg_str(r, "branch", "id"));
    json_decref(r);
    rows_of(f, bid, v, sizeof(v));
    assert_string_equal(v, "1,3");
}

static void test_outside_history_refused(void **state)
{
    fx *f = *state;
    char path[256];
    json_t *r = NULL;
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s/snapshot?lsn=FF/0", f->prod);
    assert_int_equal(pg_http(f->s, "POST", path, NULL, &r), 400);
    assert_non_null(strstr(pg_str(r, "message", NULL), "ahead"));
    json_decref(r);
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s/snapshot?lsn=0/10", f->prod);
    assert_int_equal(pg_http(f->s, "POST", path, NULL, &r), 400);
    assert_non_null(strstr(pg_str(r, "message", NULL), "precedes"));
    json_decref(r);
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s/snapshot?timestamp=2020-01-01T00:00:00Z", f->prod);
    assert_int_equal(pg_http(f->s, "POST", path, NULL, &r), 400);
    assert_non_null(strstr(pg_str(r, "message", NULL), "precedes"));
    json_decref(r);
    assert_int_equal(emu_count_snapshots(f->s, P), 0);
}

int main(void)
{
    pg_require();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_snapshot_at_lsn_and_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_branch_at_parent_lsn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_in_place_with_backup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outside_history_refused, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
