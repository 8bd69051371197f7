/* Emulator: points in a branch's remembered history. Branch create honours
 * parent_lsn / parent_timestamp (it used to ignore them and copy the head)
 * and init_source "schema-only"; POST .../branches/{b}/restore does
 * point-in-time restore, restore from another branch and reset from parent. */
#include "emu_http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
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

static void content_of(emu_fixture *fx, const char *bid, char *out, size_t len)
{
    assert_int_equal(emu_read(fx->s, "proj", bid, out, len, NULL), 0);
}

/* POST /branches with body; returns the new branch id (status must match). */
static void create(emu_fixture *fx, const char *body, long status, char *id_out)
{
    http_resp r;
    json_t *j = http_expect(fx->s, "POST", "/projects/proj/branches", body, status, &r);
    if (id_out)
        snprintf(id_out, 64, "%s", status == 201 ? jstr(j, "branch.id") : "");
    http_free(&r);
    wait_ops(fx->s, "proj");
}

static void test_parent_lsn_gives_old_data(void **state)
{
    emu_fixture *fx = *state;
    char lsn1[32], lsn2[32], body[300], child[64], got[64];
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "v1", lsn1), 0);
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "v2", lsn2), 0);
    snprintf(body, sizeof(body), "{\"branch\":{\"name\":\"at-v1\",\"parent_id\":\"%s\",\"parent_lsn\":\"%s\"}}",
             fx->bid, lsn1);
    create(fx, body, 201, child);
    content_of(fx, child, got, sizeof(got));
    assert_string_equal(got, "v1"); /* the head is v2: this is what was silently ignored */
    http_resp r;
    char path[200];
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", child);
    json_t *j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "branch.parent_lsn"), lsn1);
    assert_string_equal(jstr(j, "branch.init_source"), "parent-data");
    http_free(&r);
    char clsn[32];
    assert_int_equal(emu_read(fx->s, "proj", child, NULL, 0, clsn), 0);
    assert_string_equal(clsn, lsn1);

    /* the child's own history starts there: a write moves it on, the parent keeps v2 */
    assert_int_equal(emu_write(fx->s, "proj", child, "c1", NULL), 0);
    content_of(fx, fx->bid, got, sizeof(got));
    assert_string_equal(got, "v2");

    /* errors: malformed, ahead of the head, before the kept history, both given */
    snprintf(body, sizeof(body), "{\"branch\":{\"parent_id\":\"%s\",\"parent_lsn\":\"zz\"}}", fx->bid);
    create(fx, body, 400, NULL);
    snprintf(body, sizeof(body), "{\"branch\":{\"parent_id\":\"%s\",\"parent_lsn\":\"FF/0\"}}", fx->bid);
    create(fx, body, 400, NULL);
    snprintf(body, sizeof(body), "{\"branch\":{\"parent_id\":\"%s\",\"parent_lsn\":\"0/10\"}}", fx->bid);
    create(fx, body, 400, NULL);
    snprintf(body, sizeof(body),
             "{\"branch\":{\"parent_id\":\"%s\",\"parent_lsn\":\"%s\",\"parent_timestamp\":\"2020-01-01T00:00:00Z\"}}",
             fx->bid, lsn1);
    create(fx, body, 400, NULL);
    assert_int_equal(emu_count_branches(fx->s, "proj"), 2); /* nothing left behind by the failures */
}

static void test_parent_timestamp_gives_old_data(void **state)
{
    emu_fixture *fx = *state;
    char body[300], child[64], got[64], ts[40];
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "old", NULL), 0);
    usleep(1100 * 1000);
    time_t t = time(NULL);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    usleep(1100 * 1000);
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "new", NULL), 0);
    snprintf(body, sizeof(body), "{\"branch\":{\"parent_timestamp\":\"%s\"}}", ts);
    create(fx, body, 201, child);
    content_of(fx, child, got, sizeof(got));
    assert_string_equal(got, "old");

    /* before the parent existed, in the future, malformed: 400 */
    create(fx, "{\"branch\":{\"parent_timestamp\":\"2001-01-01T00:00:00Z\"}}", 400, NULL);
    create(fx, "{\"branch\":{\"parent_timestamp\":\"2999-01-01T00:00:00Z\"}}", 400, NULL);
    create(fx, "{\"branch\":{\"parent_timestamp\":\"yesterday\"}}", 400, NULL);
}

static void test_schema_only(void **state)
{
    emu_fixture *fx = *state;
    char child[64], got[64], path[200];
    http_resp r;
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "rows", NULL), 0);
    create(fx, "{\"branch\":{\"name\":\"schema\",\"init_source\":\"schema-only\"}}", 201, child);
    content_of(fx, child, got, sizeof(got));
    assert_string_equal(got, ""); /* no data */
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", child);
    json_t *j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "branch.init_source"), "schema-only");
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/roles", child);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "roles.0.name"), "neondb_owner");
    http_free(&r);
    create(fx, "{\"branch\":{\"init_source\":\"import\"}}", 400, NULL);
    /* schema-only branches count as roots */
    assert_int_equal(emu_set_limits(fx->s, "proj", 2, 0), 0);
    create(fx, "{\"branch\":{\"init_source\":\"schema-only\"}}", 422, NULL);
}

static json_t *restore(emu_fixture *fx, const char *bid, const char *body, long status, http_resp *r)
{
    char path[200];
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/restore", bid);
    return http_expect(fx->s, "POST", path, body, status, r);
}

static void test_restore_self_point_in_time(void **state)
{
    emu_fixture *fx = *state;
    char lsn1[32], body[300], got[64], path[200];
    http_resp r;
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "good", lsn1), 0);
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "bad", NULL), 0);

    /* own history needs a point and a backup name */
    snprintf(body, sizeof(body), "{\"source_branch_id\":\"%s\",\"preserve_under_name\":\"x\"}", fx->bid);
    restore(fx, fx->bid, body, 400, &r);
    http_free(&r);
    snprintf(body, sizeof(body), "{\"source_branch_id\":\"%s\",\"source_lsn\":\"%s\"}", fx->bid, lsn1);
    restore(fx, fx->bid, body, 400, &r);
    http_free(&r);

    snprintf(body, sizeof(body),
             "{\"source_branch_id\":\"%s\",\"source_lsn\":\"%s\",\"preserve_under_name\":\"main-before\"}", fx->bid,
             lsn1);
    json_t *j = restore(fx, fx->bid, body, 200, &r);
    assert_string_equal(jstr(j, "branch.id"), fx->bid); /* restored in place: same id */
    assert_non_null(jstr(j, "branch.last_reset_at"));
    char backup[64];
    snprintf(backup, sizeof(backup), "%s", jstr(j, "branch.parent_id"));
    json_t *ops = json_object_get(j, "operations");
    assert_true(json_array_size(ops) >= 3); /* suspend, create_branch, create_timeline, start */
    http_free(&r);
    wait_ops(fx->s, "proj");
    content_of(fx, fx->bid, got, sizeof(got));
    assert_string_equal(got, "good");
    content_of(fx, backup, got, sizeof(got));
    assert_string_equal(got, "bad"); /* the backup keeps the state before the restore */
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", backup);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "branch.name"), "main-before");
    assert_false(json_is_true(json_object_get(json_object_get(j, "branch"), "default")));
    http_free(&r);
    /* the endpoint stays on the restored branch */
    snprintf(path, sizeof(path), "/projects/proj/endpoints/%s", fx->eid);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "endpoint.branch_id"), fx->bid);
    http_free(&r);

    /* the backup name is taken now: 409; restricted: 400 */
    restore(fx, fx->bid, body, 409, &r);
    http_free(&r);
    assert_int_equal(emu_set_restricted(fx->s, "proj", fx->bid, "restore", "protected by policy"), 0);
    snprintf(body, sizeof(body),
             "{\"source_branch_id\":\"%s\",\"source_lsn\":\"%s\",\"preserve_under_name\":\"other-name\"}",
             fx->bid, lsn1);
    restore(fx, fx->bid, body, 400, &r);
    http_free(&r);
}

static void test_reset_from_parent_and_other_source(void **state)
{
    emu_fixture *fx = *state;
    char child[64], other[64], body[300], got[64], pw[64], path[200];
    http_resp r;
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "p1", NULL), 0);
    create(fx, "{\"branch\":{\"name\":\"dev\"},\"endpoints\":[{\"type\":\"read_write\"}]}", 201, child);
    assert_int_equal(emu_write(fx->s, "proj", child, "dev-work", NULL), 0);
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "p2", NULL), 0);

    /* reset from parent (what `neon branches reset --parent` sends) */
    snprintf(body, sizeof(body), "{\"source_branch_id\":\"%s\"}", fx->bid);
    json_t *j = restore(fx, child, body, 200, &r);
    assert_string_equal(jstr(j, "branch.parent_id"), fx->bid);
    assert_string_equal(jstr(j, "branch.name"), "dev");
    http_free(&r);
    wait_ops(fx->s, "proj");
    content_of(fx, child, got, sizeof(got));
    assert_string_equal(got, "p2");

    /* restore from another branch at its head: roles copied with their passwords */
    create(fx, "{\"branch\":{\"name\":\"other\"}}", 201, other);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/roles", other);
    http_expect(fx->s, "POST", path, "{\"role\":{\"name\":\"extra\"}}", 201, &r);
    http_free(&r);
    wait_ops(fx->s, "proj");
    assert_int_equal(emu_write(fx->s, "proj", other, "from-other", NULL), 0);
    snprintf(body, sizeof(body), "{\"source_branch_id\":\"%s\"}", other);
    restore(fx, child, body, 200, &r);
    http_free(&r);
    wait_ops(fx->s, "proj");
    content_of(fx, child, got, sizeof(got));
    assert_string_equal(got, "from-other");
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/roles/extra/reveal_password", other);
    json_t *pj = http_expect(fx->s, "GET", path, NULL, 200, &r);
    snprintf(pw, sizeof(pw), "%s", jstr(pj, "password"));
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/roles/extra/reveal_password", child);
    pj = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(pj, "password"), pw);
    http_free(&r);

    /* errors: unknown target / source, missing source, branch with children, bad points */
    snprintf(body, sizeof(body), "{\"source_branch_id\":\"%s\"}", fx->bid);
    restore(fx, "br-no-such-branch", body, 404, &r);
    http_free(&r);
    restore(fx, child, "{\"source_branch_id\":\"br-no-such-branch\"}", 404, &r);
    http_free(&r);
    restore(fx, child, "{}", 400, &r);
    http_free(&r);
    restore(fx, child, "{\"source_branch_id\":7}", 400, &r);
    http_free(&r);
    snprintf(body, sizeof(body), "{\"source_branch_id\":\"%s\"}", other);
    restore(fx, fx->bid, body, 400, &r); /* main has children */
    http_free(&r);
    snprintf(body, sizeof(body), "{\"source_branch_id\":\"%s\",\"source_lsn\":\"0/8\"}", fx->bid);
    restore(fx, child, body, 400, &r); /* before the kept history */
    http_free(&r);
    snprintf(body, sizeof(body), "{\"source_branch_id\":\"%s\",\"source_timestamp\":\"2001-01-01T00:00:00Z\"}",
             fx->bid);
    restore(fx, child, body, 400, &r);
    http_free(&r);
    content_of(fx, child, got, sizeof(got));
    assert_string_equal(got, "from-other"); /* failed restores change nothing */
}

int main(void)
{
    alarm(100);
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parent_lsn_gives_old_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parent_timestamp_gives_old_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_self_point_in_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_from_parent_and_other_source, setup, teardown),
    };
    int rc = cmocka_run_group_tests_name("emulator.pitr", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
