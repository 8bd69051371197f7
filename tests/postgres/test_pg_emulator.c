/* The emulator's --postgres mode, checked with SQL: child branches copy their
 * parent's data, a snapshot is the data of its instant, finalize moves the
 * same host:port onto the restored data, LSNs are real, point-in-time targets
 * other than the present are refused, deletes stop servers and remove
 * directories, and --data-dir + save/fixture survive a restart. */
#include "pg_test_common.h"

#include <sys/stat.h>
#include <unistd.h>

#define P "pg-proj"

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
    pg_sql(f->uri, "CREATE TABLE items(id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'a'), (2, 'b')");
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

static uint64_t lsn_num(const char *s)
{
    unsigned hi, lo;
    assert_int_equal(sscanf(s, "%X/%X", &hi, &lo), 2);
    return ((uint64_t)hi << 32) | lo;
}

/* A new read_write endpoint on branch bid; its URI in uri. */
static void add_endpoint(fx *f, const char *bid, char *ep, char *uri, size_t len)
{
    char body[256];
    json_t *r = NULL;
    snprintf(body, sizeof(body), "{\"endpoint\":{\"branch_id\":\"%s\",\"type\":\"read_write\"}}", bid);
    assert_int_equal(pg_http(f->s, "POST", "/projects/" P "/endpoints", body, &r), 201);
    snprintf(ep, 64, "%s", pg_str(r, "endpoint", "id"));
    json_decref(r);
    pg_uri(f->s, P, ep, uri, len);
}

static void test_child_branch_copies_parent(void **state)
{
    fx *f = *state;
    char cur[64], body[256], curi[512], v[64];
    pg_scalar(f->uri, "SELECT pg_current_wal_lsn()", cur, sizeof(cur));
    json_t *r = NULL;
    snprintf(body, sizeof(body), "{\"branch\":{\"parent_id\":\"%s\",\"name\":\"child\"},\"endpoints\":[{\"type\":\"read_write\"}]}",
             f->prod);
    assert_int_equal(pg_http(f->s, "POST", "/projects/" P "/branches", body, &r), 201);
    /* the parent_lsn is the parent's real WAL position at the copy */
    uint64_t plsn = lsn_num(pg_str(r, "branch", "parent_lsn"));
    assert_true(plsn >= lsn_num(cur));
    json_t *ep = json_array_get(json_object_get(r, "endpoints"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(ep, "host")), "127.0.0.1:"));
    pg_uri(f->s, P, json_string_value(json_object_get(ep, "id")), curi, sizeof(curi));
    json_decref(r);
    pg_scalar(curi, "SELECT string_agg(name, ',' ORDER BY id) FROM items", v, sizeof(v));
    assert_string_equal(v, "a,b");
    /* independent afterwards */
    pg_sql(curi, "INSERT INTO items VALUES (3, 'child-only')");
    pg_scalar(f->uri, "SELECT count(*) FROM items", v, sizeof(v));
    assert_string_equal(v, "2");
}

static void test_snapshot_restore_finalize(void **state)
{
    fx *f = *state;
    char path[256], body[256], v[128], host_before[128], old_ep[64], old_uri[512];
    json_t *r = NULL;
    json_t *p = pg_project(f->s, P);
    snprintf(host_before, sizeof(host_before), "%s",
             json_string_value(json_object_get(json_array_get(json_object_get(p, "endpoints"), 0), "host")));
    json_decref(p);
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s/snapshot?name=before", f->prod);
    assert_int_equal(pg_http(f->s, "POST", path, NULL, &r), 200);
    char snap[64];
    snprintf(snap, sizeof(snap), "%s", pg_str(r, "snapshot", "id"));
    assert_true(lsn_num(pg_str(r, "snapshot", "lsn")) > 0);
    json_decref(r);
    /* written after the snapshot: only on the branch that becomes the backup */
    pg_sql(f->uri, "INSERT INTO items VALUES (9, 'late'); ALTER TABLE items ADD COLUMN extra int");

    snprintf(path, sizeof(path), "/projects/" P "/snapshots/%s/restore", snap);
    snprintf(body, sizeof(body), "{\"target_branch_id\":\"%s\",\"finalize_restore\":true}", f->prod);
    assert_int_equal(pg_http(f->s, "POST", path, body, &r), 200);
    json_decref(r);
    /* the same endpoint, host and port now serve the snapshot's data */
    p = pg_project(f->s, P);
    json_t *e = json_array_get(json_object_get(p, "endpoints"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "host")), host_before);
    assert_string_not_equal(json_string_value(json_object_get(e, "branch_id")), f->prod);
    json_decref(p);
    pg_scalar(f->uri, "SELECT string_agg(name, ',' ORDER BY id) FROM items", v, sizeof(v));
    assert_string_equal(v, "a,b");
    pg_scalar(f->uri, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'extra'",
              v, sizeof(v));
    assert_string_equal(v, "0");
    /* the replaced branch kept the late write */
    add_endpoint(f, f->prod, old_ep, old_uri, sizeof(old_uri));
    pg_scalar(old_uri, "SELECT string_agg(name, ',' ORDER BY id) FROM items", v, sizeof(v));
    assert_string_equal(v, "a,b,late");
}

static void test_point_in_time_present_only(void **state)
{
    fx *f = *state;
    char path[256], body[256];
    json_t *r = NULL;
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s/snapshot", f->prod);
    assert_int_equal(pg_http(f->s, "POST", path, NULL, &r), 200);
    char snap[64];
    snprintf(snap, sizeof(snap), "%s", pg_str(r, "snapshot", "id"));
    json_decref(r);
    /* a restored, never-started branch: its LSN stays put */
    snprintf(path, sizeof(path), "/projects/" P "/snapshots/%s/restore", snap);
    assert_int_equal(pg_http(f->s, "POST", path, "{\"name\":\"restored\"}", &r), 200);
    char bid[64], lsn[40];
    snprintf(bid, sizeof(bid), "%s", pg_str(r, "branch", "id"));
    snprintf(lsn, sizeof(lsn), "%s", pg_str(r, "branch", "parent_lsn"));
    json_decref(r);
    /* an earlier LSN: refused, clearly */
    uint64_t n = lsn_num(lsn) - 8;
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s/snapshot?lsn=%X/%X", bid, (unsigned)(n >> 32), (unsigned)n);
    assert_int_equal(pg_http(f->s, "POST", path, NULL, &r), 400);
    assert_non_null(strstr(pg_str(r, "message", NULL), "point-in-time history is not kept"));
    json_decref(r);
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s/snapshot?timestamp=2020-01-01T00:00:00Z", bid);
    assert_int_equal(pg_http(f->s, "POST", path, NULL, &r), 400);
    json_decref(r);
    snprintf(body, sizeof(body), "{\"branch\":{\"parent_id\":\"%s\",\"parent_lsn\":\"0/10\"}}", bid);
    assert_int_equal(pg_http(f->s, "POST", "/projects/" P "/branches", body, &r), 400);
    json_decref(r);
    /* the present is honoured */
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s/snapshot?lsn=%s", bid, lsn);
    assert_int_equal(pg_http(f->s, "POST", path, NULL, &r), 200);
    assert_string_equal(pg_str(r, "snapshot", "lsn"), lsn);
    json_decref(r);
    snprintf(body, sizeof(body), "{\"branch\":{\"parent_id\":\"%s\",\"parent_lsn\":\"%s\"}}", bid, lsn);
    assert_int_equal(pg_http(f->s, "POST", "/projects/" P "/branches", body, &r), 201);
    assert_string_equal(pg_str(r, "branch", "parent_lsn"), lsn);
    json_decref(r);
}

static void test_delete_stops_and_removes(void **state)
{
    fx *f = *state;
    char body[256], path[600], dir[600], uri[512];
    json_t *r = NULL;
    snprintf(body, sizeof(body), "{\"branch\":{\"parent_id\":\"%s\"},\"endpoints\":[{\"type\":\"read_write\"}]}", f->prod);
    assert_int_equal(pg_http(f->s, "POST", "/projects/" P "/branches", body, &r), 201);
    char bid[64];
    snprintf(bid, sizeof(bid), "%s", pg_str(r, "branch", "id"));
    pg_uri(f->s, P, json_string_value(json_object_get(json_array_get(json_object_get(r, "endpoints"), 0), "id")), uri,
           sizeof(uri));
    json_decref(r);
    snprintf(dir, sizeof(dir), "%s/p/" P "/b/%s", emu_pg_data_root(f->s), bid);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    pg_sql(uri, "SELECT 1");
    snprintf(path, sizeof(path), "/projects/" P "/branches/%s", bid);
    assert_int_equal(pg_http(f->s, "DELETE", path, NULL, &r), 200);
    json_decref(r);
    assert_int_not_equal(stat(dir, &st), 0);
    PGconn *c = PQconnectdb(uri);
    assert_int_not_equal(PQstatus(c), CONNECTION_OK);
    PQfinish(c);
}

static void test_data_dir_survives_restart(void **state)
{
    (void)state;
    char dir[] = "/tmp/nfemu-test-XXXXXX", fixture[128], prod[64], ep[64], uri[512], uri2[512], v[64];
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0755), 0); /* as root the servers run as `postgres` */
    snprintf(fixture, sizeof(fixture), "%s.json", dir);
    char data[128];
    snprintf(data, sizeof(data), "%s/data", dir);
    emu_server *s = pg_emulator(data, NULL);
    assert_int_equal(emu_add_project(s, P, "production", prod, ep), 0);
    pg_uri(s, P, ep, uri, sizeof(uri));
    pg_sql(uri, "CREATE TABLE kept(x int); INSERT INTO kept VALUES (42)");
    assert_int_equal(emu_save(s, fixture), 0);
    emu_stop(s);
    s = pg_emulator(data, fixture);
    pg_uri(s, P, ep, uri2, sizeof(uri2));
    assert_string_equal(uri2, uri); /* same port, same password */
    pg_scalar(uri2, "SELECT x FROM kept", v, sizeof(v));
    assert_string_equal(v, "42");
    emu_stop(s);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, fixture);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    pg_require();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_child_branch_copies_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_restore_finalize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_point_in_time_present_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_stops_and_removes, setup, teardown),
        cmocka_unit_test(test_data_dir_survives_restart),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
