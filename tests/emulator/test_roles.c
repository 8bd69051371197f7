/* Emulator: roles, databases, reveal_password, connection_uri and
 * GET /projects/shared (the routes Neon's CLI `connection-string` and
 * `projects list` use), with the seed and copy rules of Neon. */
#include "emu_http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static int setup(void **state)
{
    static emu_fixture fx;
    if (fx_start(&fx, NULL) != 0)
        return -1;
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fx_stop(*state);
    return 0;
}

static void password_of(emu_fixture *fx, const char *branch, const char *role, char *out, size_t len)
{
    char path[300];
    http_resp r;
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/roles/%s/reveal_password", branch, role);
    json_t *j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_non_null(jstr(j, "password"));
    snprintf(out, len, "%s", jstr(j, "password"));
    http_free(&r);
}

static void test_seed_roles_and_databases(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char path[300];
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/roles", fx->bid);
    json_t *j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    json_t *roles = json_object_get(j, "roles");
    assert_int_equal(json_array_size(roles), 1);
    json_t *role = json_array_get(roles, 0);
    assert_string_equal(jstr(role, "name"), "neondb_owner");
    assert_string_equal(jstr(role, "branch_id"), fx->bid);
    assert_non_null(jstr(role, "created_at"));
    assert_non_null(jstr(role, "updated_at"));
    assert_true(json_is_boolean(json_object_get(role, "protected")));
    assert_null(json_object_get(role, "password")); /* only on reveal */
    http_free(&r);

    snprintf(path, sizeof(path), "/projects/proj/branches/%s/databases", fx->bid);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    json_t *dbs = json_object_get(j, "databases");
    assert_int_equal(json_array_size(dbs), 1);
    json_t *db = json_array_get(dbs, 0);
    assert_string_equal(jstr(db, "name"), "neondb");
    assert_string_equal(jstr(db, "owner_name"), "neondb_owner");
    assert_string_equal(jstr(db, "branch_id"), fx->bid);
    assert_true(json_is_integer(json_object_get(db, "id")));
    assert_non_null(jstr(db, "created_at"));
    assert_non_null(jstr(db, "updated_at"));
    http_free(&r);

    snprintf(path, sizeof(path), "/projects/proj/branches/%s/databases/neondb", fx->bid);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "database.owner_name"), "neondb_owner");
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/roles/neondb_owner", fx->bid);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "role.name"), "neondb_owner");
    assert_null(json_object_get(json_object_get(j, "role"), "password"));
    http_free(&r);

    char pw[64], pw2[64];
    password_of(fx, fx->bid, "neondb_owner", pw, sizeof(pw));
    assert_true(strncmp(pw, "npg_", 4) == 0 && strlen(pw) == 16);
    password_of(fx, fx->bid, "neondb_owner", pw2, sizeof(pw2));
    assert_string_equal(pw, pw2); /* stored, not regenerated */

    /* errors: unknown branch, role, database */
    http_expect(fx->s, "GET", "/projects/proj/branches/br-no-such-branch/roles", NULL, 404, &r);
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/proj/branches/br-no-such-branch/databases", NULL, 404, &r);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/roles/nobody/reveal_password", fx->bid);
    http_expect(fx->s, "GET", path, NULL, 404, &r);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/roles/nobody", fx->bid);
    http_expect(fx->s, "GET", path, NULL, 404, &r);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/databases/nodb", fx->bid);
    http_expect(fx->s, "GET", path, NULL, 404, &r);
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/nope/branches/x/roles", NULL, 404, &r);
    http_free(&r);
}

static void test_child_copies_roles_with_same_password(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char path[300], pw[64], cpw[64], child[64];
    json_t *j = http_expect(fx->s, "POST", "/projects/proj/branches", "{\"branch\":{\"name\":\"dev\"}}", 201, &r);
    snprintf(child, sizeof(child), "%s", jstr(j, "branch.id"));
    http_free(&r);
    password_of(fx, fx->bid, "neondb_owner", pw, sizeof(pw));
    password_of(fx, child, "neondb_owner", cpw, sizeof(cpw));
    assert_string_equal(pw, cpw);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/databases", child);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "databases.0.name"), "neondb");
    assert_string_equal(jstr(j, "databases.0.branch_id"), child);
    http_free(&r);

    /* a role created on the child is not on the parent */
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/roles", child);
    j = http_expect(fx->s, "POST", path, "{\"role\":{\"name\":\"app\"}}", 201, &r);
    assert_string_equal(jstr(j, "role.name"), "app");
    assert_non_null(jstr(j, "role.password"));
    assert_int_equal(json_array_size(json_object_get(j, "operations")), 1);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/roles/app", fx->bid);
    http_expect(fx->s, "GET", path, NULL, 404, &r);
    http_free(&r);
}

static void test_snapshot_restore_keeps_passwords(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char path[300], pw[64], rpw[64], snap[64], restored[64];
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/snapshot", fx->bid);
    json_t *j = http_expect(fx->s, "POST", path, NULL, 200, &r);
    snprintf(snap, sizeof(snap), "%s", jstr(j, "snapshot.id"));
    http_free(&r);
    wait_ops(fx->s, "proj");
    snprintf(path, sizeof(path), "/projects/proj/snapshots/%s/restore", snap);
    j = http_expect(fx->s, "POST", path, "{\"finalize_restore\":true}", 200, &r);
    snprintf(restored, sizeof(restored), "%s", jstr(j, "branch.id"));
    http_free(&r);
    wait_ops(fx->s, "proj");
    /* the app's credentials stay valid across a restore, as on Neon */
    password_of(fx, fx->bid, "neondb_owner", pw, sizeof(pw));
    password_of(fx, restored, "neondb_owner", rpw, sizeof(rpw));
    assert_string_equal(pw, rpw);
}

static void test_role_database_create_delete(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char path[300];
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/roles", fx->bid);
    json_t *j = http_expect(fx->s, "POST", path, "{\"role\":{\"name\":\"casey\"}}", 201, &r);
    char pw[64];
    snprintf(pw, sizeof(pw), "%s", jstr(j, "role.password"));
    assert_string_equal(jstr(j, "operations.0.action"), "apply_config");
    http_free(&r);
    wait_ops(fx->s, "proj");
    char revealed[64];
    password_of(fx, fx->bid, "casey", revealed, sizeof(revealed));
    assert_string_equal(pw, revealed);
    http_expect(fx->s, "POST", path, "{\"role\":{\"name\":\"casey\"}}", 409, &r);
    http_free(&r);
    http_expect(fx->s, "POST", path, "{\"role\":{}}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "POST", path, "{\"role\":{\"name\":\"0123456789012345678901234567890123456789012345678901234567890123\"}}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "POST", path, "{}", 400, &r);
    http_free(&r);

    snprintf(path, sizeof(path), "/projects/proj/branches/%s/databases", fx->bid);
    j = http_expect(fx->s, "POST", path, "{\"database\":{\"name\":\"shop\",\"owner_name\":\"casey\"}}", 201, &r);
    assert_string_equal(jstr(j, "database.name"), "shop");
    assert_string_equal(jstr(j, "database.owner_name"), "casey");
    http_free(&r);
    wait_ops(fx->s, "proj");
    http_expect(fx->s, "POST", path, "{\"database\":{\"name\":\"shop\",\"owner_name\":\"casey\"}}", 409, &r);
    http_free(&r);
    http_expect(fx->s, "POST", path, "{\"database\":{\"name\":\"x\",\"owner_name\":\"ghost\"}}", 404, &r);
    http_free(&r);
    http_expect(fx->s, "POST", path, "{\"database\":{\"name\":\"x\"}}", 400, &r);
    http_free(&r);

    /* a role that owns a database cannot go */
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/roles/casey", fx->bid);
    http_expect(fx->s, "DELETE", path, NULL, 409, &r);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/databases/shop", fx->bid);
    j = http_expect(fx->s, "DELETE", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "database.name"), "shop");
    http_free(&r);
    wait_ops(fx->s, "proj");
    http_expect(fx->s, "DELETE", path, NULL, 404, &r);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/roles/casey", fx->bid);
    j = http_expect(fx->s, "DELETE", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "role.name"), "casey");
    http_free(&r);
    http_expect(fx->s, "GET", path, NULL, 404, &r);
    http_free(&r);
}

static void uri(emu_fixture *fx, const char *query, long status, char *out, size_t len)
{
    char path[600];
    http_resp r;
    snprintf(path, sizeof(path), "/projects/proj/connection_uri?%s", query);
    json_t *j = http_expect(fx->s, "GET", path, NULL, status, &r);
    if (out)
        snprintf(out, len, "%s", status == 200 ? jstr(j, "uri") : "");
    http_free(&r);
}

static void test_connection_uri(void **state)
{
    emu_fixture *fx = *state;
    char got[1024], want[1024], pw[64], q[400];
    password_of(fx, fx->bid, "neondb_owner", pw, sizeof(pw));
    uri(fx, "database_name=neondb&role_name=neondb_owner", 200, got, sizeof(got));
    snprintf(want, sizeof(want), "postgresql://neondb_owner:%s@%s.us-east-2.emulator.neon.local/neondb?sslmode=require",
             pw, fx->eid);
    assert_string_equal(got, want);
    snprintf(q, sizeof(q), "branch_id=%s&endpoint_id=%s&database_name=neondb&role_name=neondb_owner&pooled=true",
             fx->bid, fx->eid);
    uri(fx, q, 200, got, sizeof(got));
    snprintf(want, sizeof(want),
             "postgresql://neondb_owner:%s@%s-pooler.us-east-2.emulator.neon.local/neondb?sslmode=require", pw, fx->eid);
    assert_string_equal(got, want);

    /* errors as Neon: missing parameters 400; unknown branch/endpoint/role/db 404 */
    uri(fx, "role_name=neondb_owner", 400, NULL, 0);
    uri(fx, "database_name=neondb", 400, NULL, 0);
    uri(fx, "database_name=neondb&role_name=neondb_owner&pooled=maybe", 400, NULL, 0);
    uri(fx, "branch_id=br-no-such-branch&database_name=neondb&role_name=neondb_owner", 404, NULL, 0);
    uri(fx, "endpoint_id=ep-no-such-endpoint&database_name=neondb&role_name=neondb_owner", 404, NULL, 0);
    uri(fx, "database_name=neondb&role_name=ghost", 404, NULL, 0);
    uri(fx, "database_name=nodb&role_name=neondb_owner", 404, NULL, 0);
    uri(fx, "branch_id=BAD%2Fid&database_name=neondb&role_name=neondb_owner", 400, NULL, 0);

    /* a branch without an endpoint: 400 unless one is named; another branch's endpoint: 400 */
    char bid[64];
    assert_int_equal(emu_add_branch(fx->s, "proj", "noep", fx->bid, 0, bid, NULL), 0);
    snprintf(q, sizeof(q), "branch_id=%s&database_name=neondb&role_name=neondb_owner", bid);
    uri(fx, q, 400, NULL, 0);
    snprintf(q, sizeof(q), "branch_id=%s&endpoint_id=%s&database_name=neondb&role_name=neondb_owner", bid, fx->eid);
    uri(fx, q, 400, NULL, 0);
}

static void test_projects_shared_and_list_fields(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    json_t *j = http_expect(fx->s, "GET", "/projects/shared", NULL, 200, &r);
    assert_true(json_is_array(json_object_get(j, "projects")));
    assert_int_equal(json_array_size(json_object_get(j, "projects")), 0);
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/shared?limit=0", NULL, 400, &r);
    http_free(&r);

    /* every field the spec requires on ProjectListItem and Project */
    static const char *const list_req[] = {"active_time", "id", "platform_id", "region_id", "name", "pg_version",
                                           "proxy_host", "branch_logical_size_limit",
                                           "branch_logical_size_limit_bytes", "provisioner", "store_passwords",
                                           "cpu_used_sec", "creation_source", "created_at", "updated_at",
                                           "owner_id"};
    static const char *const proj_req[] = {
        "consumption_period_end", "consumption_period_start", "active_time_seconds", "compute_time_seconds",
        "written_data_bytes", "data_transfer_bytes", "data_storage_bytes_hour", "id", "platform_id", "region_id",
        "name", "pg_version", "proxy_host", "branch_logical_size_limit", "branch_logical_size_limit_bytes",
        "store_passwords", "cpu_used_sec", "provisioner", "creation_source", "history_retention_seconds",
        "created_at", "updated_at", "owner_id"};
    j = http_expect(fx->s, "GET", "/projects", NULL, 200, &r);
    json_t *p0 = json_array_get(json_object_get(j, "projects"), 0);
    for (size_t i = 0; i < sizeof(list_req) / sizeof(*list_req); i++)
        if (!json_object_get(p0, list_req[i]))
            fail_msg("projects[0] lacks %s", list_req[i]);
    http_free(&r);
    j = http_expect(fx->s, "GET", "/projects/proj", NULL, 200, &r);
    for (size_t i = 0; i < sizeof(proj_req) / sizeof(*proj_req); i++)
        if (!json_object_get(json_object_get(j, "project"), proj_req[i]))
            fail_msg("project lacks %s", proj_req[i]);
    http_free(&r);

    /* limit + cursor page through projects (Neon's CLI pages until a short page) */
    assert_int_equal(emu_add_project(fx->s, "proj-b", "main", NULL, NULL), 0);
    j = http_expect(fx->s, "GET", "/projects?limit=1", NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(j, "projects")), 1);
    char path[200];
    snprintf(path, sizeof(path), "/projects?limit=1&cursor=%s", jstr(j, "pagination.cursor"));
    http_free(&r);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "projects.0.id"), "proj-b");
    http_free(&r);
    http_expect(fx->s, "GET", "/projects?limit=0", NULL, 400, &r);
    http_free(&r);
}

static void test_roles_survive_save_and_load(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char path[300], pw[64], dump[] = "/tmp/emu-roles-XXXXXX";
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/roles", fx->bid);
    http_expect(fx->s, "POST", path, "{\"role\":{\"name\":\"saved\"}}", 201, &r);
    http_free(&r);
    password_of(fx, fx->bid, "saved", pw, sizeof(pw));
    int fd = mkstemp(dump);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(emu_save(fx->s, dump), 0);

    emu_config cfg;
    emu_config_init(&cfg);
    cfg.rate_per_minute = 0;
    cfg.rate_per_second_route = 0;
    cfg.fixture_path = dump;
    emu_server *s2 = NULL;
    assert_int_equal(emu_start(&s2, &cfg), 0);
    http_reset();
    char p2[300];
    snprintf(p2, sizeof(p2), "/projects/proj/branches/%s/roles/saved/reveal_password", fx->bid);
    json_t *j = http_expect(s2, "GET", p2, NULL, 200, &r);
    assert_string_equal(jstr(j, "password"), pw);
    http_free(&r);
    snprintf(p2, sizeof(p2), "/projects/proj/branches/%s/databases/neondb", fx->bid);
    http_expect(s2, "GET", p2, NULL, 200, &r);
    http_free(&r);
    http_reset();
    emu_stop(s2);
    unlink(dump);
}

int main(void)
{
    alarm(100);
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seed_roles_and_databases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_copies_roles_with_same_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_restore_keeps_passwords, setup, teardown),
        cmocka_unit_test_setup_teardown(test_role_database_create_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_uri, setup, teardown),
        cmocka_unit_test_setup_teardown(test_projects_shared_and_list_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roles_survive_save_and_load, setup, teardown),
    };
    int rc = cmocka_run_group_tests_name("emulator.roles", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
