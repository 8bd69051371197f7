/* Emulator: projects, branches, auth, request IDs and bad requests. */
#include "emu_http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
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

static size_t ops_count(json_t *j)
{
    return json_array_size(json_object_get(j, "operations"));
}

static void test_auth_and_request_id(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    const char *hdr[] = {"X-Request-ID: my-req-42", NULL};
    http_req_ex(fx->s, "GET", "/projects/proj", NULL, "", NULL, &r);
    assert_int_equal(r.status, 401);
    assert_non_null(jstr(r.json, "message"));
    assert_non_null(jstr(r.json, "code"));
    assert_true(strlen(r.request_id) > 0); /* generated */
    assert_string_equal(jstr(r.json, "request_id"), r.request_id);
    http_free(&r);
    http_req_ex(fx->s, "GET", "/projects/proj", NULL, "wrong-key", hdr, &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.request_id, "my-req-42");
    assert_string_equal(jstr(r.json, "request_id"), "my-req-42");
    http_free(&r);
    http_req_ex(fx->s, "GET", "/projects/nope", NULL, NULL, hdr, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(jstr(r.json, "message"), "project not found");
    assert_string_equal(jstr(r.json, "request_id"), "my-req-42");
    http_free(&r);
    /* control routes need the key too */
    http_req_ex(fx->s, "GET", "/__emulator/state", NULL, "bad", NULL, &r);
    assert_int_equal(r.status, 401);
    http_free(&r);
}

static void test_project_get(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    json_t *j = http_expect(fx->s, "GET", "/projects/proj", NULL, 200, &r);
    assert_string_equal(jstr(j, "project.id"), "proj");
    assert_non_null(jstr(j, "project.created_at"));
    http_free(&r);
    j = http_expect(fx->s, "GET", "/projects", NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(j, "projects")), 1);
    http_free(&r);
}

static void test_create_get_child_copies_data(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char lsn[32], lsn2[32], content[64];
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "v1", lsn), 0);
    json_t *j = http_expect(fx->s, "POST", "/projects/proj/branches",
                            "{\"branch\":{\"name\":\"dev\",\"protected\":false,\"unknown_field\":1},"
                            "\"endpoints\":[{\"type\":\"read_write\"}],\"extra\":true}",
                            201, &r);
    char id[64], ep[64];
    snprintf(id, sizeof(id), "%s", jstr(j, "branch.id"));
    snprintf(ep, sizeof(ep), "%s", jstr(j, "endpoints.0.id"));
    assert_true(strncmp(id, "br-", 3) == 0);
    assert_string_equal(jstr(j, "branch.parent_id"), fx->bid);
    assert_string_equal(jstr(j, "branch.parent_lsn"), lsn);
    assert_string_equal(jstr(j, "branch.name"), "dev");
    assert_string_equal(jstr(j, "endpoints.0.branch_id"), id);
    assert_string_equal(jstr(j, "endpoints.0.type"), "read_write");
    assert_non_null(strstr(jstr(j, "endpoints.0.host"), ".emulator.neon.local"));
    assert_string_equal(jstr(j, "operations.0.action"), "create_branch");
    assert_string_equal(jstr(j, "operations.1.action"), "start_compute");
    assert_true(json_is_array(json_object_get(j, "roles")));
    assert_true(json_is_array(json_object_get(j, "databases")));
    assert_true(json_is_array(json_object_get(j, "connection_uris")));
    http_free(&r);
    assert_int_equal(emu_read(fx->s, "proj", id, content, sizeof(content), lsn2), 0);
    assert_string_equal(content, "v1");
    assert_string_equal(lsn2, lsn);
    /* writes advance the LSN and do not leak to the child */
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "v2", lsn2), 0);
    assert_string_not_equal(lsn, lsn2);
    assert_int_equal(emu_read(fx->s, "proj", id, content, sizeof(content), NULL), 0);
    assert_string_equal(content, "v1");

    char path[160];
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", id);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "branch.id"), id);
    assert_string_equal(jstr(j, "annotation.object.id"), id);
    assert_true(json_is_false(json_object_get(json_object_get(j, "branch"), "default")));
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/proj/branches/br-no-such-branch1", NULL, 404, &r);
    assert_string_equal(jstr(r.json, "message"), "branch not found");
    http_free(&r);

    /* no body: parent = default, name = id, no endpoints */
    j = http_expect(fx->s, "POST", "/projects/proj/branches", NULL, 201, &r);
    assert_string_equal(jstr(j, "branch.name"), jstr(j, "branch.id"));
    assert_string_equal(jstr(j, "branch.parent_id"), fx->bid);
    assert_int_equal(json_array_size(json_object_get(j, "endpoints")), 0);
    http_free(&r);
    http_expect(fx->s, "POST", "/projects/proj/branches", "{\"branch\":{\"parent_id\":\"br-x-y-z\"}}", 404, &r);
    http_free(&r);
    /* names are unique per project */
    http_expect(fx->s, "POST", "/projects/proj/branches", "{\"branch\":{\"name\":\"dev\"}}", 409, &r);
    assert_non_null(strstr(jstr(r.json, "message"), "branch already exists"));
    http_free(&r);
    http_expect(fx->s, "POST", "/projects/proj/branches",
                "{\"endpoints\":[{\"type\":\"read_write\"},{\"type\":\"read_write\"}]}", 409, &r);
    http_free(&r);
    assert_int_equal(emu_count_branches(fx->s, "proj"), 3);
}

static void test_pagination(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char name[32], path[256];
    for (int i = 0; i < 249; i++) {
        snprintf(name, sizeof(name), "b%03d", i);
        assert_int_equal(emu_add_branch(fx->s, "proj", name, fx->bid, 0, NULL, NULL), 0);
    }
    json_t *seen = json_object();
    const int sizes[] = {100, 100, 50};
    char cursor[64] = "";
    for (int page = 0; page < 3; page++) {
        if (page == 0)
            snprintf(path, sizeof(path), "/projects/proj/branches");
        else
            snprintf(path, sizeof(path), "/projects/proj/branches?cursor=%s", cursor);
        json_t *j = http_expect(fx->s, "GET", path, NULL, 200, &r);
        json_t *list = json_object_get(j, "branches"), *b;
        size_t k;
        assert_int_equal(json_array_size(list), sizes[page]);
        assert_true(json_is_object(json_object_get(j, "annotations")));
        json_array_foreach(list, k, b) json_object_set(seen, jstr(b, "id"), json_true());
        const char *next = jstr(j, "pagination.next");
        if (page < 2) {
            assert_non_null(next);
            snprintf(cursor, sizeof(cursor), "%s", next);
        } else {
            assert_null(next);
        }
        http_free(&r);
    }
    assert_int_equal(json_object_size(seen), 250);
    json_decref(seen);
    /* small pages, limit capped at 100, invalid values */
    json_t *j = http_expect(fx->s, "GET", "/projects/proj/branches?limit=7&sort_by=name&sort_order=asc", NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(j, "branches")), 7);
    assert_string_equal(jstr(j, "branches.0.name"), "b000");
    assert_string_equal(jstr(j, "pagination.sort_by"), "name");
    assert_string_equal(jstr(j, "pagination.sort_order"), "asc");
    snprintf(path, sizeof(path), "/projects/proj/branches?limit=7&sort_by=name&sort_order=asc&cursor=%s",
             jstr(j, "pagination.next"));
    http_free(&r);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "branches.0.name"), "b007");
    http_free(&r);
    j = http_expect(fx->s, "GET", "/projects/proj/branches?limit=5000", NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(j, "branches")), 100);
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/proj/branches?limit=0", NULL, 400, &r);
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/proj/branches?limit=abc", NULL, 400, &r);
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/proj/branches?cursor=garbage", NULL, 400, &r);
    http_free(&r);
}

/* Keyset cursors (as Neon's): a branch deleted from an earlier page between
 * two requests does not make the next page skip one, and a cursor is only
 * valid for the sort it was made for. */
static void test_cursor_is_keyset(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char name[32], path[1024], ids[30][64], next[900];
    for (int i = 0; i < 30; i++) {
        snprintf(name, sizeof(name), "b%03d", i);
        assert_int_equal(emu_add_branch(fx->s, "proj", name, fx->bid, 0, ids[i], NULL), 0);
    }
    json_t *j = http_expect(fx->s, "GET", "/projects/proj/branches?limit=10&sort_by=name&sort_order=asc", NULL, 200, &r);
    assert_string_equal(jstr(j, "branches.9.name"), "b009");
    snprintf(next, sizeof(next), "%s", jstr(j, "pagination.next"));
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", ids[3]);
    http_expect(fx->s, "DELETE", path, NULL, 200, &r);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches?limit=10&sort_by=name&sort_order=asc&cursor=%s", next);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "branches.0.name"), "b010"); /* an offset would give b011 */
    assert_string_equal(jstr(j, "branches.9.name"), "b019");
    http_free(&r);
    /* the same cursor with another sort is refused */
    snprintf(path, sizeof(path), "/projects/proj/branches?limit=10&sort_by=created_at&sort_order=asc&cursor=%s", next);
    http_expect(fx->s, "GET", path, NULL, 400, &r);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches?limit=10&sort_by=name&cursor=%s", next);
    http_expect(fx->s, "GET", path, NULL, 400, &r);
    http_free(&r);
    /* names that need escaping make valid cursors; time sorts page too */
    assert_int_equal(emu_add_branch(fx->s, "proj", "b009 caf\xc3\xa9/x?y", fx->bid, 0, NULL, NULL), 0);
    j = http_expect(fx->s, "GET", "/projects/proj/branches?limit=10&sort_by=name&sort_order=asc", NULL, 200, &r);
    assert_string_equal(jstr(j, "branches.9.name"), "b009 caf\xc3\xa9/x?y");
    snprintf(next, sizeof(next), "%s", jstr(j, "pagination.next"));
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches?limit=10&sort_by=name&sort_order=asc&cursor=%s", next);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "branches.0.name"), "b010");
    http_free(&r);
    int total = 0;
    next[0] = '\0';
    for (int page = 0; page < 10; page++) {
        snprintf(path, sizeof(path), "/projects/proj/branches?limit=7&sort_by=created_at%s%s", next[0] ? "&cursor=" : "",
                 next);
        j = http_expect(fx->s, "GET", path, NULL, 200, &r);
        total += (int)json_array_size(json_object_get(j, "branches"));
        const char *nx = jstr(j, "pagination.next");
        snprintf(next, sizeof(next), "%s", nx ? nx : "");
        http_free(&r);
        if (!nx)
            break;
    }
    assert_int_equal(total, 31); /* main + 29 + the one added */
}

static void test_search_sort_count(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char gid[64], path[160];
    assert_int_equal(emu_add_branch(fx->s, "proj", "alpha", fx->bid, 0, NULL, NULL), 0);
    usleep(1100 * 1000); /* distinct created_at seconds */
    assert_int_equal(emu_add_branch(fx->s, "proj", "Gamma-ray", fx->bid, 0, gid, NULL), 0);
    json_t *j = http_expect(fx->s, "GET", "/projects/proj/branches?search=amma", NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(j, "branches")), 1);
    assert_string_equal(jstr(j, "branches.0.id"), gid);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches?search=%.*s", 10, gid + 3);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "branches.0.id"), gid);
    http_free(&r);
    j = http_expect(fx->s, "GET", "/projects/proj/branches?sort_by=name&sort_order=desc", NULL, 200, &r);
    assert_string_equal(jstr(j, "branches.0.name"), "main");
    assert_string_equal(jstr(j, "branches.2.name"), "Gamma-ray");
    http_free(&r);
    j = http_expect(fx->s, "GET", "/projects/proj/branches?sort_by=created_at&sort_order=desc", NULL, 200, &r);
    assert_string_equal(jstr(j, "branches.0.name"), "Gamma-ray");
    http_free(&r);
    j = http_expect(fx->s, "GET", "/projects/proj/branches", NULL, 200, &r); /* updated_at desc */
    assert_string_equal(jstr(j, "branches.0.name"), "Gamma-ray");
    assert_string_equal(jstr(j, "pagination.sort_by"), "updated_at");
    assert_string_equal(jstr(j, "pagination.sort_order"), "desc");
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/proj/branches?sort_by=size", NULL, 400, &r);
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/proj/branches?sort_order=up", NULL, 400, &r);
    http_free(&r);
    j = http_expect(fx->s, "GET", "/projects/proj/branches/count", NULL, 200, &r);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 3);
    http_free(&r);
    j = http_expect(fx->s, "GET", "/projects/proj/branches/count?search=ALPHA", NULL, 200, &r);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 1);
    http_free(&r);
}

static void test_update(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char id[64], path[160];
    assert_int_equal(emu_add_branch(fx->s, "proj", "dev", fx->bid, 0, id, NULL), 0);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", id);
    json_t *j = http_expect(fx->s, "PATCH", path,
                            "{\"branch\":{\"name\":\"dev2\",\"protected\":true,"
                            "\"expires_at\":\"2099-01-01T00:00:00Z\",\"whatever\":[1]}}",
                            200, &r);
    assert_string_equal(jstr(j, "branch.name"), "dev2");
    assert_true(json_is_true(json_object_get(json_object_get(j, "branch"), "protected")));
    assert_string_equal(jstr(j, "branch.expires_at"), "2099-01-01T00:00:00Z");
    assert_int_equal(ops_count(j), 0);
    http_free(&r);
    j = http_expect(fx->s, "PATCH", path, "{\"branch\":{\"expires_at\":null}}", 200, &r);
    assert_null(jstr(j, "branch.expires_at"));
    assert_string_equal(jstr(j, "branch.name"), "dev2");
    http_free(&r);
    http_expect(fx->s, "PATCH", path, "{\"branch\":{\"name\":\"main\"}}", 409, &r);
    http_free(&r);
    http_expect(fx->s, "PATCH", path, "{\"branch\":{\"name\":\"dev2\"}}", 200, &r); /* own name ok */
    http_free(&r);
    http_expect(fx->s, "PATCH", path, "{\"branch\":{\"name\":123}}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "PATCH", path, "{\"branch\":{\"protected\":\"yes\"}}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "PATCH", path, "{\"branch\":{\"expires_at\":\"tomorrow\"}}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "PATCH", path, "{\"branch\":{\"name\":\"\"}}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "PATCH", path, "{}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "PATCH", "/projects/proj/branches/br-a-b-c", "{\"branch\":{}}", 404, &r);
    http_free(&r);
}

static void test_delete_rules(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char parent[64], child[64], path[160];
    assert_int_equal(emu_add_branch(fx->s, "proj", "parent", fx->bid, 1, parent, NULL), 0);
    assert_int_equal(emu_add_branch(fx->s, "proj", "child", parent, 0, child, NULL), 0);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", fx->bid);
    http_expect(fx->s, "DELETE", path, NULL, 400, &r); /* default */
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", parent);
    http_expect(fx->s, "DELETE", path, NULL, 400, &r); /* has children */
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", child);
    http_expect(fx->s, "PATCH", path, "{\"branch\":{\"protected\":true}}", 200, &r);
    http_free(&r);
    http_expect(fx->s, "DELETE", path, NULL, 400, &r); /* protected */
    http_free(&r);
    http_expect(fx->s, "PATCH", path, "{\"branch\":{\"protected\":false}}", 200, &r);
    http_free(&r);
    json_t *j = http_expect(fx->s, "DELETE", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "branch.id"), child);
    assert_string_equal(jstr(j, "operations.0.action"), "delete_timeline");
    http_free(&r);
    http_expect(fx->s, "GET", path, NULL, 404, &r);
    http_free(&r);
    http_expect(fx->s, "DELETE", path, NULL, 204, &r);
    assert_int_equal(r.len, 0);
    http_free(&r);
    /* a branch with an endpoint: suspend_compute then delete_timeline; endpoint gone */
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", parent);
    j = http_expect(fx->s, "DELETE", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "operations.0.action"), "suspend_compute");
    assert_string_equal(jstr(j, "operations.1.action"), "delete_timeline");
    http_free(&r);
    j = http_expect(fx->s, "GET", "/projects/proj/endpoints", NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(j, "endpoints")), 1);
    http_free(&r);
}

static void test_bad_requests(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    const char *bodies[] = {
        "{\"branch\":", "not json", "[1,2]", "{\"branch\":{\"name\":5}}", "{\"branch\":\"dev\"}",
        "{\"branch\":{\"parent_id\":false}}", "{\"endpoints\":[{\"type\":\"big\"}]}", "{\"endpoints\":{}}",
        "{\"endpoints\":[1]}", "{\"branch\":{\"expires_at\":\"2024-13-01T00:00:00Z\"}}", "\"str\"",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
        http_expect(fx->s, "POST", "/projects/proj/branches", bodies[i], 400, &r);
        assert_non_null(jstr(r.json, "message"));
        assert_non_null(jstr(r.json, "request_id"));
        http_free(&r);
    }
    http_expect(fx->s, "GET", "/projects/proj/nothing", NULL, 404, &r);
    http_free(&r);
    http_expect(fx->s, "GET", "/v1/whatever", NULL, 404, &r);
    http_free(&r);
    http_expect(fx->s, "PUT", "/projects/proj/branches", "{}", 405, &r);
    http_free(&r);
    /* a long, odd path never crashes */
    char path[2048];
    memset(path, 'a', sizeof(path));
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    http_req(fx->s, "GET", path, NULL, &r);
    assert_int_equal(r.status, 404);
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/proj/branches/%00/../x", NULL, 404, &r);
    http_free(&r);
    assert_int_equal(emu_count_branches(fx->s, "proj"), 1);
}

static void test_set_default_and_schedule(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char id[64], child[64], path[200];
    assert_int_equal(emu_add_branch(fx->s, "proj", "other", NULL, 0, id, NULL), 0);
    assert_int_equal(emu_add_branch(fx->s, "proj", "kid", fx->bid, 0, child, NULL), 0);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/set_as_default", id);
    json_t *j = http_expect(fx->s, "POST", path, NULL, 200, &r);
    assert_true(json_is_true(json_object_get(json_object_get(j, "branch"), "default")));
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", fx->bid);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_true(json_is_false(json_object_get(json_object_get(j, "branch"), "default")));
    http_free(&r);

    snprintf(path, sizeof(path), "/projects/proj/branches/%s/backup_schedule", fx->bid);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(j, "schedule")), 0);
    http_free(&r);
    j = http_expect(fx->s, "PUT", path,
                    "{\"schedule\":[{\"frequency\":\"daily\",\"hour\":23,\"retention_seconds\":604800}]}", 200, &r);
    assert_int_equal(json_object_size(j), 0);
    http_free(&r);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "schedule.0.frequency"), "daily");
    http_free(&r);
    http_expect(fx->s, "PUT", path, "{\"schedule\":[{\"frequency\":\"never\"}]}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "PUT", path, "{\"schedule\":[{\"frequency\":\"daily\",\"hour\":24}]}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "PUT", path, "{}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "PUT", path, "{\"schedule\":[]}", 200, &r);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/backup_schedule", child);
    http_expect(fx->s, "PUT", path, "{\"schedule\":[]}", 400, &r); /* roots only */
    http_free(&r);
}


static int64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* RFC 3339 at second precision, rounded up, delta_ms from now; *at_ms gets the instant. */
static void iso_in(int64_t delta_ms, char *out, size_t len, int64_t *at_ms)
{
    int64_t ms = (wall_ms() + delta_ms + 999) / 1000 * 1000;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (at_ms)
        *at_ms = ms;
}

/* annotation_value is stored and returned (list: keyed by branch id; get:
 * annotation.value); names stay unique (409). */
static void test_annotations(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char exp[40], body[400], id[64], path[200];
    iso_in(3600 * 1000, exp, sizeof(exp), NULL);
    snprintf(body, sizeof(body),
             "{\"branch\":{\"name\":\"nf/main/lease\",\"expires_at\":\"%s\"},"
             "\"annotation_value\":{\"neonflow_run_id\":\"r1\",\"neonflow_workflow\":\"promote\"}}",
             exp);
    json_t *j = http_expect(fx->s, "POST", "/projects/proj/branches", body, 201, &r);
    snprintf(id, sizeof(id), "%s", jstr(j, "branch.id"));
    assert_string_equal(jstr(j, "branch.parent_id"), fx->bid); /* default branch */
    assert_string_equal(jstr(j, "branch.expires_at"), exp);
    http_free(&r);
    j = http_expect(fx->s, "POST", "/projects/proj/branches", body, 409, &r);
    assert_non_null(strstr(jstr(j, "message"), "already exists"));
    http_free(&r);
    j = http_expect(fx->s, "GET", "/projects/proj/branches?search=nf%2Fmain%2Flease", NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(j, "branches")), 1);
    json_t *a = json_object_get(json_object_get(j, "annotations"), id);
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "value"), "neonflow_run_id")), "r1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "object"), "id")), id);
    http_free(&r);
    /* a branch without an annotation has no entry */
    j = http_expect(fx->s, "GET", "/projects/proj/branches", NULL, 200, &r);
    assert_null(json_object_get(json_object_get(j, "annotations"), fx->bid));
    assert_int_equal(json_object_size(json_object_get(j, "annotations")), 1);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", id);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "annotation.value.neonflow_workflow"), "promote");
    http_free(&r);
    http_expect(fx->s, "POST", "/projects/proj/branches", "{\"annotation_value\":[1]}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "POST", "/projects/proj/branches", "{\"annotation_value\":{\"k\":1}}", 400, &r);
    http_free(&r);
}

/* A branch whose expires_at passed disappears (Neon's background job; here at
 * the next branch request), unless it has children; with expiry held back
 * (the job has not run yet) it stays listed. */
static void test_branch_expiry(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char exp[40], body[300], gone[64], parent[64], path[200];
    int n0 = emu_count_branches(fx->s, "proj");
    int64_t at;
    iso_in(1000, exp, sizeof(exp), &at);
    snprintf(body, sizeof(body), "{\"branch\":{\"name\":\"short\",\"expires_at\":\"%s\"}}", exp);
    json_t *j = http_expect(fx->s, "POST", "/projects/proj/branches", body, 201, &r);
    snprintf(gone, sizeof(gone), "%s", jstr(j, "branch.id"));
    http_free(&r);
    snprintf(body, sizeof(body), "{\"branch\":{\"name\":\"short-parent\",\"expires_at\":\"%s\"}}", exp);
    j = http_expect(fx->s, "POST", "/projects/proj/branches", body, 201, &r);
    snprintf(parent, sizeof(parent), "%s", jstr(j, "branch.id"));
    http_free(&r);
    assert_int_equal(emu_add_branch(fx->s, "proj", "short-child", parent, 0, NULL, NULL), 0);
    assert_int_equal(emu_count_branches(fx->s, "proj"), n0 + 3);
    assert_int_equal(emu_set_branch_expiry(fx->s, "proj", 0), 0);
    while (wall_ms() < at + 50)
        usleep(50 * 1000);
    assert_int_equal(emu_count_branches(fx->s, "proj"), n0 + 3); /* not yet removed */
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", gone);
    http_expect(fx->s, "GET", path, NULL, 200, &r);
    http_free(&r);
    assert_int_equal(emu_set_branch_expiry(fx->s, "proj", 1), 0);
    http_expect(fx->s, "GET", path, NULL, 404, &r);
    http_free(&r);
    j = http_expect(fx->s, "GET", "/projects/proj/branches?search=short", NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(j, "branches")), 2); /* the parent stays with its child */
    http_free(&r);
    assert_int_equal(emu_count_branches(fx->s, "proj"), n0 + 2);
    /* the name is free again */
    http_expect(fx->s, "POST", "/projects/proj/branches", "{\"branch\":{\"name\":\"short\"}}", 201, &r);
    http_free(&r);
    assert_int_equal(emu_set_branch_expiry(fx->s, "nope", 0), -1);
}

int main(void)
{
    alarm(100); /* watchdog: the whole file must finish */
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_auth_and_request_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_project_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_get_child_copies_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pagination, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor_is_keyset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_sort_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_default_and_schedule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_annotations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_branch_expiry, setup, teardown),
    };
    int rc = cmocka_run_group_tests_name("emulator.branches", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
