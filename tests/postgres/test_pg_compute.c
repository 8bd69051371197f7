/* --postgres: roles and databases made through the API exist in the cluster
 * with the revealed password; endpoint suspend / start / restart / PATCH
 * stop and start the server for real on the same port; a branch restore
 * (POST .../branches/{b}/restore) replaces the branch's data and keeps the
 * old data under preserve_under_name. */
#include "pg_test_common.h"

#include <unistd.h>

#define P "pg-compute"

typedef struct fx {
    emu_server *s;
    char prod[64], ep[64], uri[512];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    f->s = pg_emulator(NULL, NULL);
    assert_int_equal(emu_add_project(f->s, P, "production", f->prod, f->ep), 0);
    pg_uri(f->s, P, f->ep, f->uri, sizeof(f->uri));
    pg_sql(f->uri, "CREATE TABLE t(x int); INSERT INTO t VALUES (1)");
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

static int can_connect(const char *uri)
{
    PGconn *c = PQconnectdb(uri);
    int ok = PQstatus(c) == CONNECTION_OK;
    PQfinish(c);
    return ok;
}

static void test_roles_and_databases_are_real(void **state)
{
    fx *f = *state;
    char path[256], uri[512], pw[128], v[64];
    json_t *r = NULL;
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s/roles", f->prod);
    assert_int_equal(pg_http(f->s, "POST", path, "{\"role\":{\"name\":\"app_user\"}}", &r), 201);
    json_decref(r);
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s/databases", f->prod);
    assert_int_equal(pg_http(f->s, "POST", path, "{\"database\":{\"name\":\"appdb\",\"owner_name\":\"app_user\"}}", &r),
                     201);
    json_decref(r);
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s/roles/app_user/reveal_password", f->prod);
    assert_int_equal(pg_http(f->s, "GET", path, NULL, &r), 200);
    snprintf(pw, sizeof(pw), "%s", pg_str(r, "password", NULL));
    json_decref(r);
    json_t *pj = pg_project(f->s, P);
    snprintf(uri, sizeof(uri), "postgresql://app_user:%s@%s/appdb?sslmode=require", pw,
             json_string_value(json_object_get(json_array_get(json_object_get(pj, "endpoints"), 0), "host")));
    json_decref(pj);
    pg_scalar(uri, "SELECT current_user || '@' || current_database()", v, sizeof(v));
    assert_string_equal(v, "app_user@appdb");
    /* deleted through the API: gone from the cluster */
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s/databases/appdb", f->prod);
    assert_int_equal(pg_http(f->s, "DELETE", path, NULL, &r) / 100, 2);
    json_decref(r);
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s/roles/app_user", f->prod);
    assert_int_equal(pg_http(f->s, "DELETE", path, NULL, &r) / 100, 2);
    json_decref(r);
    assert_false(can_connect(uri));
    pg_scalar(f->uri, "SELECT count(*) FROM pg_roles WHERE rolname = 'app_user'", v, sizeof(v));
    assert_string_equal(v, "0");
}

static void test_suspend_start_restart(void **state)
{
    fx *f = *state;
    char path[256];
    json_t *r = NULL;
    PGconn *held = PQconnectdb(f->uri);
    assert_int_equal(PQstatus(held), CONNECTION_OK);
    snprintf(path, sizeof(path), "/projects/" P "/endpoints/%s/suspend", f->ep);
    assert_int_equal(pg_http(f->s, "POST", path, NULL, &r), 200);
    json_decref(r);
    assert_false(can_connect(f->uri));
    /* the held connection was dropped with the server */
    PQclear(PQexec(held, "SELECT 1"));
    assert_int_not_equal(PQstatus(held), CONNECTION_OK);
    PQfinish(held);
    snprintf(path, sizeof(path), "/projects/" P "/endpoints/%s/start", f->ep);
    assert_int_equal(pg_http(f->s, "POST", path, NULL, &r), 200);
    json_decref(r);
    assert_true(can_connect(f->uri));

    char before[32], after[32];
    pg_scalar(f->uri, "SELECT pg_postmaster_start_time()::text", before, sizeof(before));
    snprintf(path, sizeof(path), "/projects/" P "/endpoints/%s/restart", f->ep);
    assert_int_equal(pg_http(f->s, "POST", path, NULL, &r), 200);
    json_decref(r);
    pg_scalar(f->uri, "SELECT pg_postmaster_start_time()::text", after, sizeof(after));
    assert_string_not_equal(before, after);

    snprintf(path, sizeof(path), "/projects/" P "/endpoints/%s", f->ep);
    assert_int_equal(pg_http(f->s, "PATCH", path, "{\"endpoint\":{\"autoscaling_limit_max_cu\":2}}", &r), 200);
    json_decref(r);
    pg_scalar(f->uri, "SELECT pg_postmaster_start_time()::text", before, sizeof(before));
    assert_string_not_equal(before, after);
    char v[16];
    pg_scalar(f->uri, "SELECT x FROM t", v, sizeof(v));
    assert_string_equal(v, "1");
}

static void test_branch_restore_replaces_data(void **state)
{
    fx *f = *state;
    char body[512], path[256], v[64];
    json_t *r = NULL;
    /* a root "other" with different data */
    char other[64], other_ep[64], other_uri[512];
    assert_int_equal(emu_add_branch(f->s, P, "other", NULL, 1, other, other_ep), 0);
    pg_uri(f->s, P, other_ep, other_uri, sizeof(other_uri));
    pg_sql(other_uri, "CREATE TABLE t(x int); INSERT INTO t VALUES (7), (8)");
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s/restore", f->prod);
    snprintf(body, sizeof(body), "{\"source_branch_id\":\"%s\",\"preserve_under_name\":\"prod-before\"}", other);
    assert_int_equal(pg_http(f->s, "POST", path, body, &r), 200);
    json_decref(r);
    /* production's connection string (its password is now other's, as on Neon) */
    pg_uri(f->s, P, f->ep, f->uri, sizeof(f->uri));
    pg_scalar(f->uri, "SELECT string_agg(x::text, ',' ORDER BY x) FROM t", v, sizeof(v));
    assert_string_equal(v, "7,8");
    /* the old data is the backup */
    json_t *pj = pg_project(f->s, P), *x;
    size_t i;
    char bk[64] = "";
    json_array_foreach(json_object_get(pj, "branches"), i, x) {
        if (strcmp(json_string_value(json_object_get(x, "name")), "prod-before") == 0)
            snprintf(bk, sizeof(bk), "%s", json_string_value(json_object_get(x, "id")));
    }
    json_decref(pj);
    assert_string_not_equal(bk, "");
    snprintf(body, sizeof(body), "{\"endpoint\":{\"branch_id\":\"%s\",\"type\":\"read_write\"}}", bk);
    assert_int_equal(pg_http(f->s, "POST", "/projects/" P "/endpoints", body, &r), 201);
    char bk_ep[64], bk_uri[512];
    snprintf(bk_ep, sizeof(bk_ep), "%s", pg_str(r, "endpoint", "id"));
    json_decref(r);
    pg_uri(f->s, P, bk_ep, bk_uri, sizeof(bk_uri));
    pg_scalar(bk_uri, "SELECT string_agg(x::text, ',' ORDER BY x) FROM t", v, sizeof(v));
    assert_string_equal(v, "1");
    /* a past point cannot be given: 400, not the present in disguise */
    snprintf(body, sizeof(body), "{\"source_branch_id\":\"%s\",\"source_timestamp\":\"2020-01-01T00:00:00Z\"}", other);
    assert_int_equal(pg_http(f->s, "POST", path, body, &r), 400);
    assert_non_null(strstr(pg_str(r, "message", NULL), "point-in-time history is not kept"));
    json_decref(r);
}

static void test_read_only_endpoint_follows(void **state)
{
    fx *f = *state;
    char body[256], ro_uri[512], v[128];
    json_t *r = NULL;
    snprintf(body, sizeof(body), "{\"endpoint\":{\"branch_id\":\"%s\",\"type\":\"read_only\"}}", f->prod);
    assert_int_equal(pg_http(f->s, "POST", "/projects/" P "/endpoints", body, &r), 201);
    pg_uri(f->s, P, pg_str(r, "endpoint", "id"), ro_uri, sizeof(ro_uri));
    json_decref(r);
    assert_string_not_equal(ro_uri, f->uri);
    pg_scalar(ro_uri, "SELECT string_agg(x::text, ',' ORDER BY x) FROM t", v, sizeof(v));
    assert_string_equal(v, "1");
    /* a hot standby: the primary's writes arrive */
    pg_sql(f->uri, "INSERT INTO t VALUES (2)");
    for (int i = 0; i < 1000; i++) { /* at most 10 s */
        pg_scalar(ro_uri, "SELECT count(*) FROM t", v, sizeof(v));
        if (strcmp(v, "2") == 0)
            break;
        usleep(10000);
    }
    assert_string_equal(v, "2");
    pg_scalar(ro_uri, "SELECT pg_is_in_recovery()::text", v, sizeof(v));
    assert_string_equal(v, "true");
    pg_scalar(ro_uri, "INSERT INTO t VALUES (3) RETURNING x", v, sizeof(v));
    assert_non_null(strstr(v, "read-only"));
    /* with the primary suspended it serves a read-only copy */
    char path[256];
    snprintf(path, sizeof(path), "/projects/" P "/endpoints/%s/suspend", f->ep);
    assert_int_equal(pg_http(f->s, "POST", path, NULL, &r), 200);
    json_decref(r);
    pg_scalar(ro_uri, "SELECT count(*) FROM t", v, sizeof(v));
    assert_string_equal(v, "2");
    pg_scalar(ro_uri, "INSERT INTO t VALUES (3) RETURNING x", v, sizeof(v));
    assert_non_null(strstr(v, "read-only"));
}

int main(void)
{
    pg_require();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roles_and_databases_are_real, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suspend_start_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_branch_restore_replaces_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_endpoint_follows, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
