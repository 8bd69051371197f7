/* Emulator: snapshots, restore and finalize (neon-api.md §2, §3.9, §3.10, §9). */
#include "emu_http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

static void snap(emu_fixture *fx, const char *branch, const char *query, char *id_out)
{
    char path[400];
    http_resp r;
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/snapshot%s", branch, query ? query : "");
    json_t *j = http_expect(fx->s, "POST", path, NULL, 200, &r);
    snprintf(id_out, 64, "%s", jstr(j, "snapshot.id"));
    http_free(&r);
}

static json_t *get_branch(emu_fixture *fx, const char *id)
{
    char path[160];
    http_resp r;
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", id);
    json_t *j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    json_t *b = json_incref(json_object_get(j, "branch"));
    http_free(&r);
    return b;
}

static void test_snapshot_create_params(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char path[400], lsn1[32], lsn2[32];
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "A", lsn1), 0);
    usleep(1100 * 1000);
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "B", lsn2), 0);

    snprintf(path, sizeof(path),
             "/projects/proj/branches/%s/snapshot?name=prod%%20snap%%2Bx&expires_at=2099-01-01T00%%3A00%%3A00Z", fx->bid);
    json_t *j = http_expect(fx->s, "POST", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "snapshot.name"), "prod snap+x"); /* percent-decoded */
    assert_string_equal(jstr(j, "snapshot.expires_at"), "2099-01-01T00:00:00Z");
    assert_string_equal(jstr(j, "snapshot.source_branch_id"), fx->bid);
    assert_string_equal(jstr(j, "snapshot.lsn"), lsn2);
    assert_true(json_is_true(json_object_get(json_object_get(j, "snapshot"), "manual")));
    assert_true(strncmp(jstr(j, "snapshot.id"), "snap-", 5) == 0);
    assert_string_equal(jstr(j, "operations.0.action"), "create_branch");
    assert_string_equal(jstr(j, "operations.1.action"), "timeline_archive");
    http_free(&r);

    /* at an older LSN: the content as of that LSN */
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/snapshot?lsn=%s", fx->bid, lsn1);
    j = http_expect(fx->s, "POST", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "snapshot.lsn"), lsn1);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/snapshot?lsn=%s&timestamp=2024-01-01T00:00:00Z",
             fx->bid, lsn1);
    http_expect(fx->s, "POST", path, NULL, 400, &r);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/snapshot?lsn=FFFF/0", fx->bid);
    http_expect(fx->s, "POST", path, NULL, 400, &r); /* beyond head */
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/snapshot?lsn=zz", fx->bid);
    http_expect(fx->s, "POST", path, NULL, 400, &r);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/snapshot?timestamp=2001-01-01T00:00:00Z", fx->bid);
    http_expect(fx->s, "POST", path, NULL, 400, &r); /* before the branch existed */
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/snapshot?expires_at=soon", fx->bid);
    http_expect(fx->s, "POST", path, NULL, 400, &r);
    http_free(&r);
    http_expect(fx->s, "POST", "/projects/proj/branches/br-none-none-none/snapshot", NULL, 404, &r);
    http_free(&r);

    /* non-root branches cannot be snapshotted */
    char child[64];
    assert_int_equal(emu_add_branch(fx->s, "proj", "child", fx->bid, 0, child, NULL), 0);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/snapshot", child);
    http_expect(fx->s, "POST", path, NULL, 400, &r);
    http_free(&r);
    assert_int_equal(emu_count_snapshots(fx->s, "proj"), 2);

    /* slug: given and unique per project, or generated; LSNs unpadded like Postgres */
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/snapshot?slug=pre-migration", fx->bid);
    j = http_expect(fx->s, "POST", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "snapshot.slug"), "pre-migration");
    assert_true(strstr(jstr(j, "snapshot.lsn"), "/0") == NULL);
    http_free(&r);
    http_expect(fx->s, "POST", path, NULL, 409, &r); /* slug taken */
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/snapshot?slug=Bad-", fx->bid);
    http_expect(fx->s, "POST", path, NULL, 400, &r);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/snapshot", fx->bid);
    j = http_expect(fx->s, "POST", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "snapshot.slug"), jstr(j, "snapshot.id"));
    http_free(&r);
}

static void test_snapshot_timestamp_content(void **state)
{
    emu_fixture *fx = *state;
    char sid[64], out[64], body[200], path[400], ts[40];
    http_resp r;
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "old", NULL), 0);
    sleep(2);
    time_t now = time(NULL) - 1; /* a second before the next write, after "old" */
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    sleep(1);
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "new", NULL), 0);
    snprintf(path, sizeof(path), "?timestamp=%s", ts);
    snap(fx, fx->bid, path, sid);
    snprintf(path, sizeof(path), "/projects/proj/snapshots/%s/restore", sid);
    snprintf(body, sizeof(body), "{\"name\":\"at-ts\"}");
    json_t *j = http_expect(fx->s, "POST", path, body, 200, &r);
    assert_int_equal(emu_read(fx->s, "proj", jstr(j, "branch.id"), out, sizeof(out), NULL), 0);
    assert_string_equal(out, "old");
    http_free(&r);
}

static void test_snapshot_list_patch_delete_limit(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char s1[64], s2[64], path[200];
    snap(fx, fx->bid, "?expires_at=2099-01-01T00:00:00Z", s1);
    snap(fx, fx->bid, NULL, s2);
    json_t *j = http_expect(fx->s, "GET", "/projects/proj/snapshots", NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(j, "snapshots")), 2);
    assert_string_equal(jstr(j, "snapshots.0.id"), s1);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/snapshots/%s", s1);
    j = http_expect(fx->s, "PATCH", path, "{\"snapshot\":{\"name\":\"renamed\"}}", 200, &r);
    assert_string_equal(jstr(j, "snapshot.name"), "renamed");
    assert_string_equal(jstr(j, "snapshot.expires_at"), "2099-01-01T00:00:00Z"); /* absent keeps */
    http_free(&r);
    j = http_expect(fx->s, "PATCH", path, "{\"snapshot\":{\"expires_at\":null}}", 200, &r);
    assert_null(jstr(j, "snapshot.expires_at")); /* null clears */
    assert_string_equal(jstr(j, "snapshot.name"), "renamed");
    http_free(&r);
    j = http_expect(fx->s, "PATCH", path, "{\"snapshot\":{\"expires_at\":\"2098-05-05T10:00:00Z\"}}", 200, &r);
    assert_string_equal(jstr(j, "snapshot.expires_at"), "2098-05-05T10:00:00Z");
    http_free(&r);
    http_expect(fx->s, "PATCH", path, "{\"snapshot\":{\"name\":7}}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "PATCH", path, "{}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "PATCH", "/projects/proj/snapshots/snap-x-y-z", "{\"snapshot\":{}}", 404, &r);
    http_free(&r);
    j = http_expect(fx->s, "DELETE", path, NULL, 202, &r);
    assert_true(json_array_size(json_object_get(j, "operations")) >= 1);
    http_free(&r);
    http_expect(fx->s, "DELETE", path, NULL, 404, &r);
    http_free(&r);
    assert_int_equal(emu_count_snapshots(fx->s, "proj"), 1);

    /* manual snapshot limit: 422 SNAPSHOTS_LIMIT_EXCEEDED */
    assert_int_equal(emu_set_limits(fx->s, "proj", 0, 2), 0);
    snap(fx, fx->bid, NULL, s1);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/snapshot", fx->bid);
    http_expect(fx->s, "POST", path, NULL, 422, &r);
    assert_string_equal(jstr(r.json, "code"), "SNAPSHOTS_LIMIT_EXCEEDED");
    http_free(&r);
    /* expired snapshots disappear */
    snprintf(path, sizeof(path), "/projects/proj/snapshots/%s", s1);
    http_expect(fx->s, "PATCH", path, "{\"snapshot\":{\"expires_at\":\"2001-01-01T00:00:00Z\"}}", 200, &r);
    http_free(&r);
    assert_int_equal(emu_count_snapshots(fx->s, "proj"), 1);
}

/* The full story of neon-api.md §3.10, step by step. */
static void test_restore_then_finalize(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char sid[64], lsn_snap[32], content[64], lsn[32], path[200], b_id[64];
    json_t *j, *t, *b;
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "before", lsn_snap), 0);
    http_expect(fx->s, "PATCH", "/projects/proj/branches/x", NULL, 404, &r);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", fx->bid);
    http_expect(fx->s, "PATCH", path, "{\"branch\":{\"protected\":true}}", 200, &r);
    http_free(&r);
    snap(fx, fx->bid, NULL, sid);
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "after", NULL), 0); /* lost on restore */

    /* 1. restore without finalize: a new root preview branch */
    snprintf(path, sizeof(path), "/projects/proj/snapshots/%s/restore", sid);
    j = http_expect(fx->s, "POST", path, "{\"name\":\"preview\",\"target_branch_id\":null}", 200, &r);
    snprintf(b_id, sizeof(b_id), "%s", jstr(j, "branch.id"));
    assert_string_not_equal(b_id, fx->bid);
    assert_null(jstr(j, "branch.parent_id"));
    assert_string_equal(jstr(j, "branch.name"), "preview");
    assert_string_equal(jstr(j, "branch.restore_status"), "restored");
    assert_string_equal(jstr(j, "branch.restored_from"), sid);
    assert_string_equal(jstr(j, "branch.restored_as"), fx->bid);
    assert_int_equal(json_array_size(json_object_get(j, "endpoints")), 0);
    assert_string_equal(jstr(j, "operations.0.action"), "timeline_unarchive");
    assert_string_equal(jstr(j, "operations.1.action"), "create_branch");
    http_free(&r);
    assert_int_equal(emu_read(fx->s, "proj", b_id, content, sizeof(content), lsn), 0);
    assert_string_equal(content, "before");
    assert_string_equal(lsn, lsn_snap);
    t = get_branch(fx, fx->bid);
    assert_string_equal(jstr(t, "name"), "main"); /* nothing moved yet */
    json_decref(t);

    /* finalize on a branch that is not "restored" */
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/finalize_restore", fx->bid);
    http_expect(fx->s, "POST", path, NULL, 400, &r);
    http_free(&r);

    /* 2. finalize (the target has a child, e.g. a run's lease branch) */
    char kid[64];
    assert_int_equal(emu_add_branch(fx->s, "proj", "kid", fx->bid, 0, kid, NULL), 0);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/finalize_restore", b_id);
    j = http_expect(fx->s, "POST", path, "{}", 200, &r);
    assert_true(json_array_size(json_object_get(j, "operations")) >= 2);
    http_free(&r);
    b = get_branch(fx, b_id);
    t = get_branch(fx, fx->bid);
    assert_string_equal(jstr(b, "name"), "main");
    assert_string_equal(jstr(t, "name"), "main (old)");
    assert_string_equal(jstr(b, "restore_status"), "finalized");
    assert_string_equal(jstr(b, "restored_as"), fx->bid);
    assert_true(json_is_true(json_object_get(b, "protected")));
    assert_true(json_is_true(json_object_get(b, "default")));
    assert_true(json_is_false(json_object_get(t, "protected")));
    assert_true(json_is_false(json_object_get(t, "default")));
    assert_null(jstr(t, "parent_id"));
    json_decref(b);
    json_decref(t);
    /* the endpoint moved: same id and host, new branch */
    snprintf(path, sizeof(path), "/projects/proj/endpoints/%s", fx->eid);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "endpoint.branch_id"), b_id);
    assert_non_null(strstr(jstr(j, "endpoint.host"), fx->eid));
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/endpoints", fx->bid);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(j, "endpoints")), 0);
    http_free(&r);
    /* snapshots keep pointing at the old branch */
    j = http_expect(fx->s, "GET", "/projects/proj/snapshots", NULL, 200, &r);
    assert_string_equal(jstr(j, "snapshots.0.source_branch_id"), fx->bid);
    http_free(&r);
    /* finalize twice: 400 */
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/finalize_restore", b_id);
    http_expect(fx->s, "POST", path, NULL, 400, &r);
    http_free(&r);
    /* the target's children stay with it (it keeps its ID): the (old) branch has a child now */
    t = get_branch(fx, kid);
    assert_string_equal(jstr(t, "parent_id"), fx->bid);
    json_decref(t);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", fx->bid);
    http_expect(fx->s, "DELETE", path, NULL, 400, &r);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", kid);
    http_expect(fx->s, "DELETE", path, NULL, 200, &r);
    http_free(&r);
    /* the (old) branch can be deleted now that it is neither default nor protected nor a parent */
    snprintf(path, sizeof(path), "/projects/proj/branches/%s", fx->bid);
    http_expect(fx->s, "DELETE", path, NULL, 200, &r);
    http_free(&r);
}

static void test_restore_finalize_at_once_and_collisions(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char sid[64], path[200], body[300], b1[64], b2[64], content[64];
    snap(fx, fx->bid, NULL, sid);
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "later", NULL), 0);
    snprintf(path, sizeof(path), "/projects/proj/snapshots/%s/restore", sid);
    snprintf(body, sizeof(body), "{\"target_branch_id\":\"%s\",\"finalize_restore\":true,\"x\":1}", fx->bid);
    json_t *j = http_expect(fx->s, "POST", path, body, 200, &r);
    snprintf(b1, sizeof(b1), "%s", jstr(j, "branch.id"));
    assert_string_equal(jstr(j, "branch.name"), "main");
    assert_string_equal(jstr(j, "branch.restore_status"), "finalized");
    assert_string_equal(jstr(j, "endpoints.0.id"), fx->eid);
    assert_string_equal(jstr(j, "endpoints.0.branch_id"), b1);
    http_free(&r);
    assert_int_equal(emu_read(fx->s, "proj", b1, content, sizeof(content), NULL), 0);
    assert_string_equal(content, ""); /* "later" was written after the snapshot */

    /* restore again onto the new main: the old name collides -> "main (old 2)" */
    snprintf(body, sizeof(body), "{\"target_branch_id\":\"%s\",\"finalize_restore\":true}", b1);
    j = http_expect(fx->s, "POST", path, body, 200, &r);
    snprintf(b2, sizeof(b2), "%s", jstr(j, "branch.id"));
    assert_string_equal(jstr(j, "branch.name"), "main");
    assert_string_equal(jstr(j, "endpoints.0.id"), fx->eid);
    http_free(&r);
    json_t *o = get_branch(fx, b1);
    assert_string_equal(jstr(o, "name"), "main (old 2)");
    json_decref(o);

    /* restore without target: lands on source_branch_id = the first (old) */
    j = http_expect(fx->s, "POST", path, "{}", 200, &r);
    assert_string_equal(jstr(j, "branch.restored_as"), fx->bid);
    char b3[64];
    snprintf(b3, sizeof(b3), "%s", jstr(j, "branch.id"));
    assert_string_equal(jstr(j, "branch.name"), b3); /* generated name */
    http_free(&r);
    /* finalize with an explicit old name; name taken -> 409 */
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/finalize_restore", b3);
    http_expect(fx->s, "POST", path, "{\"name\":\"main\"}", 409, &r);
    http_free(&r);
    http_expect(fx->s, "POST", path, "{\"name\":42}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "POST", path, "{\"name\":\"archived-main\"}", 200, &r);
    http_free(&r);
    o = get_branch(fx, fx->bid);
    assert_string_equal(jstr(o, "name"), "archived-main");
    json_decref(o);
    o = get_branch(fx, b3);
    assert_string_equal(jstr(o, "name"), "main (old)");
    json_decref(o);
}

static void test_restore_errors_and_root_limit(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char sid[64], path[200], body[200];
    snap(fx, fx->bid, NULL, sid);
    http_expect(fx->s, "POST", "/projects/proj/snapshots/snap-a-b-c/restore", NULL, 404, &r);
    assert_string_equal(jstr(r.json, "message"), "snapshot not found");
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/snapshots/%s/restore", sid);
    http_expect(fx->s, "POST", path, "{\"target_branch_id\":\"br-q-q-q\"}", 404, &r);
    http_free(&r);
    http_expect(fx->s, "POST", path, "{\"finalize_restore\":\"yes\"}", 400, &r);
    http_free(&r);

    /* a branch that restricts "restore" reports it and refuses to be a restore target */
    assert_int_equal(emu_set_restricted(fx->s, "proj", fx->bid, "restore", "restore still detaching"), 0);
    char bpath[200];
    snprintf(bpath, sizeof(bpath), "/projects/proj/branches/%s", fx->bid);
    json_t *bj = http_expect(fx->s, "GET", bpath, NULL, 200, &r);
    assert_string_equal(jstr(bj, "branch.restricted_actions.0.name"), "restore");
    assert_string_equal(jstr(bj, "branch.restricted_actions.0.reason"), "restore still detaching");
    http_free(&r);
    snprintf(body, sizeof(body), "{\"target_branch_id\":\"%s\"}", fx->bid);
    http_expect(fx->s, "POST", path, body, 400, &r);
    assert_non_null(strstr(jstr(r.json, "message"), "restricted"));
    http_free(&r);
    snprintf(body, sizeof(body), "{\"project_id\":\"proj\",\"branch_id\":\"%s\"}", fx->bid);
    http_expect(fx->s, "PUT", "/__emulator/restricted", body, 200, &r); /* no action: clear */
    assert_null(json_object_get(r.json, "restricted_actions"));
    http_free(&r);
    http_expect(fx->s, "POST", path, "{\"name\":\"main\"}", 409, &r);
    http_free(&r);
    http_expect(fx->s, "POST", path, "{\"name\":", 400, &r);
    http_free(&r);
    /* root limit counts every root, (old) ones included */
    assert_int_equal(emu_set_limits(fx->s, "proj", 2, 0), 0);
    snprintf(body, sizeof(body), "{\"finalize_restore\":true}");
    http_expect(fx->s, "POST", path, body, 200, &r); /* roots: main, main (old) */
    http_free(&r);
    http_expect(fx->s, "POST", path, NULL, 422, &r);
    assert_string_equal(jstr(r.json, "code"), "ROOT_BRANCHES_LIMIT_EXCEEDED");
    http_free(&r);
    assert_int_equal(emu_count_branches(fx->s, "proj"), 2);
}

int main(void)
{
    alarm(100);
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_snapshot_create_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_timestamp_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_list_patch_delete_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_then_finalize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_finalize_at_once_and_collisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_errors_and_root_limit, setup, teardown),
    };
    int rc = cmocka_run_group_tests_name("emulator.restore", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
