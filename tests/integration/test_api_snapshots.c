/* lib/api snapshots against the emulator: create (query parameters, lsn,
 * timestamp), list, find by id / name, update, delete, restore with and
 * without finalize and target, finalize_restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_api_fixture.h"

static neonflow_snapshot *make_snapshot(api_fixture *f, const char *branch_id, const char *name)
{
    neonflow_snapshot_create_options *o;
    assert_int_equal(neonflow_snapshot_create_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_snapshot_create_options_set_name(o, name), NEONFLOW_OK);
    neonflow_snapshot *s = NULL;
    neonflow_operation_list *ops = NULL;
    CHECK_OK(neonflow_snapshot_create(&s, &ops, f->c, PROJECT, branch_id, o, NULL, err));
    AWAIT_OPS(f, ops);
    neonflow_snapshot_create_options_free(o);
    return s;
}

static void test_create_list_find(void **state)
{
    api_fixture *f = *state;
    neonflow_snapshot_create_options *o;
    assert_int_equal(neonflow_snapshot_create_options_new(&o), NEONFLOW_OK);
    /* a name that needs percent-encoding in the query string */
    const char *name = "prod snap/2025 & co=1?#%";
    assert_int_equal(neonflow_snapshot_create_options_set_name(o, name), NEONFLOW_OK);
    assert_int_equal(neonflow_snapshot_create_options_set_expires_at(o, "2099-01-02T03:04:05Z"), NEONFLOW_OK);
    neonflow_snapshot *s = NULL;
    neonflow_operation_list *ops = NULL;
    emu_counters_reset(f->s);
    CHECK_OK(neonflow_snapshot_create(&s, &ops, f->c, PROJECT, f->main_id, o, NULL, err));
    assert_int_equal(emu_requests(f->s, "POST", "/projects/*/branches/*/snapshot"), 1);
    assert_true(neonflow_operation_list_count(ops) >= 1);
    AWAIT_OPS(f, ops);
    neonflow_snapshot_create_options_free(o);
    assert_string_equal(neonflow_snapshot_name(s), name);
    assert_string_equal(neonflow_snapshot_source_branch_id(s), f->main_id);
    assert_non_null(neonflow_snapshot_id(s));
    assert_non_null(neonflow_snapshot_expires_at(s));
    assert_true(neonflow_snapshot_created_at_ms(s) > 1700000000000LL);
    assert_non_null(neonflow_snapshot_lsn(s));

    /* with an LSN */
    char lsn[32];
    assert_int_equal(emu_write(f->s, PROJECT, f->main_id, "v2", lsn), 0);
    neonflow_snapshot_create_options *o2;
    neonflow_snapshot_create_options_new(&o2);
    assert_int_equal(neonflow_snapshot_create_options_set_lsn(o2, lsn), NEONFLOW_OK);
    assert_int_equal(neonflow_snapshot_create_options_set_name(o2, "at-lsn"), NEONFLOW_OK);
    neonflow_snapshot *s2 = NULL;
    CHECK_OK(neonflow_snapshot_create(&s2, &ops, f->c, PROJECT, f->main_id, o2, NULL, err));
    AWAIT_OPS(f, ops);
    assert_string_equal(neonflow_snapshot_lsn(s2), lsn);
    neonflow_snapshot_create_options_free(o2);

    /* with a timestamp (now, inside the restore window); ops discarded */
    char ts[32];
    usleep(1100000); /* a whole second after the branch was created: inside its window */
    time_t now = time(NULL);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    neonflow_snapshot_create_options *o3;
    neonflow_snapshot_create_options_new(&o3);
    assert_int_equal(neonflow_snapshot_create_options_set_timestamp(o3, ts), NEONFLOW_OK);
    neonflow_snapshot *s3 = NULL;
    CHECK_OK(neonflow_snapshot_create(&s3, NULL, f->c, PROJECT, f->main_id, o3, NULL, err));
    neonflow_snapshot_create_options_free(o3);
    assert_non_null(neonflow_snapshot_id(s3));

    /* list, find by id, find by name */
    neonflow_snapshot_list *l = NULL;
    CHECK_OK(neonflow_snapshots_list(&l, f->c, PROJECT, NULL, err));
    assert_int_equal(neonflow_snapshot_list_count(l), 3);
    int seen = 0;
    for (size_t i = 0; i < neonflow_snapshot_list_count(l); i++)
        seen += strcmp(neonflow_snapshot_id(neonflow_snapshot_list_at(l, i)), neonflow_snapshot_id(s2)) == 0;
    assert_int_equal(seen, 1);
    neonflow_snapshot_list_free(l);

    neonflow_snapshot *found = NULL;
    CHECK_OK(neonflow_snapshot_find_by_id(&found, f->c, PROJECT, neonflow_snapshot_id(s), NULL, err));
    assert_string_equal(neonflow_snapshot_name(found), name);
    neonflow_snapshot_free(found);
    CHECK_OK(neonflow_snapshot_find_by_name(&found, f->c, PROJECT, "at-lsn", NULL, err));
    assert_string_equal(neonflow_snapshot_id(found), neonflow_snapshot_id(s2));
    neonflow_snapshot_free(found);
    found = NULL;
    CHECK_RC(NEONFLOW_ENOTFOUND, neonflow_snapshot_find_by_name(&found, f->c, PROJECT, "nope", NULL, err));
    CHECK_RC(NEONFLOW_ENOTFOUND, neonflow_snapshot_find_by_id(&found, f->c, PROJECT, "snap-none", NULL, err));
    assert_null(found);

    /* duplicates by name: ECONFLICT naming the count */
    neonflow_snapshot *d1 = make_snapshot(f, f->main_id, "dup");
    neonflow_snapshot *d2 = make_snapshot(f, f->main_id, "dup");
    neonflow_error *e = NULL;
    assert_int_equal(neonflow_snapshot_find_by_name(&found, f->c, PROJECT, "dup", NULL, &e), NEONFLOW_ECONFLICT);
    assert_non_null(strstr(neonflow_error_message(e), "2 snapshots"));
    assert_non_null(strstr(neonflow_error_message(e), neonflow_snapshot_id(d2)));
    neonflow_error_free(e);
    neonflow_snapshot_free(d1);
    neonflow_snapshot_free(d2);
    neonflow_snapshot_free(s);
    neonflow_snapshot_free(s2);
    neonflow_snapshot_free(s3);

    /* unknown branch: ENOTFOUND from Neon */
    CHECK_RC(NEONFLOW_ENOTFOUND, neonflow_snapshot_create(&s, NULL, f->c, PROJECT, "br-missing-1", NULL, NULL, err));
}

static void test_update_delete(void **state)
{
    api_fixture *f = *state;
    neonflow_snapshot_create_options *o;
    neonflow_snapshot_create_options_new(&o);
    neonflow_snapshot_create_options_set_name(o, "before");
    neonflow_snapshot_create_options_set_expires_at(o, "2099-01-01T00:00:00Z");
    neonflow_snapshot *s = NULL;
    neonflow_operation_list *ops = NULL;
    CHECK_OK(neonflow_snapshot_create(&s, &ops, f->c, PROJECT, f->main_id, o, NULL, err));
    AWAIT_OPS(f, ops);
    neonflow_snapshot_create_options_free(o);
    const char *id = neonflow_snapshot_id(s);

    neonflow_snapshot_update_options *u;
    neonflow_snapshot_update_options_new(&u);
    neonflow_snapshot_update_options_set_name(u, "after");
    neonflow_snapshot *s2 = NULL;
    CHECK_OK(neonflow_snapshot_update(&s2, f->c, PROJECT, id, u, NULL, err));
    assert_string_equal(neonflow_snapshot_name(s2), "after");
    assert_non_null(neonflow_snapshot_expires_at(s2)); /* unchanged */
    neonflow_snapshot_free(s2);
    neonflow_snapshot_update_options_free(u);

    neonflow_snapshot_update_options_new(&u);
    neonflow_snapshot_update_options_set_expires_at(u, "2098-05-06T07:08:09Z");
    CHECK_OK(neonflow_snapshot_update(&s2, f->c, PROJECT, id, u, NULL, err));
    assert_string_equal(neonflow_snapshot_name(s2), "after"); /* unchanged */
    neonflow_snapshot_free(s2);
    neonflow_snapshot_update_options_set_expires_at(u, NULL); /* clear */
    CHECK_OK(neonflow_snapshot_update(NULL, f->c, PROJECT, id, u, NULL, err));
    neonflow_snapshot_update_options_free(u);
    CHECK_OK(neonflow_snapshot_find_by_id(&s2, f->c, PROJECT, id, NULL, err));
    assert_null(neonflow_snapshot_expires_at(s2));
    neonflow_snapshot_free(s2);

    CHECK_OK(neonflow_snapshot_delete(&ops, f->c, PROJECT, id, NULL, err));
    AWAIT_OPS(f, ops);
    assert_int_equal(emu_count_snapshots(f->s, PROJECT), 0);
    CHECK_RC(NEONFLOW_ENOTFOUND, neonflow_snapshot_delete(NULL, f->c, PROJECT, id, NULL, err));
    neonflow_snapshot_free(s);
}

static void test_restore_then_finalize(void **state)
{
    api_fixture *f = *state;
    assert_int_equal(emu_write(f->s, PROJECT, f->main_id, "golden", NULL), 0);
    neonflow_snapshot *s = make_snapshot(f, f->main_id, "golden");
    assert_int_equal(emu_write(f->s, PROJECT, f->main_id, "later", NULL), 0);

    /* restore without finalize: a new root preview branch */
    neonflow_snapshot_restore_options *ro;
    neonflow_snapshot_restore_options_new(&ro);
    neonflow_snapshot_restore_options_set_name(ro, "preview");
    neonflow_branch_result *r = NULL;
    CHECK_OK(neonflow_snapshot_restore(&r, f->c, PROJECT, neonflow_snapshot_id(s), ro, NULL, err));
    neonflow_snapshot_restore_options_free(ro);
    const neonflow_branch *nb = neonflow_branch_result_branch(r);
    char new_id[64];
    snprintf(new_id, sizeof(new_id), "%s", neonflow_branch_id(nb));
    assert_string_equal(neonflow_branch_name(nb), "preview");
    assert_null(neonflow_branch_parent_id(nb));
    assert_int_equal(neonflow_branch_restore_status(nb), NEONFLOW_RESTORE_STATUS_RESTORED);
    assert_string_equal(neonflow_branch_restored_from(nb), neonflow_snapshot_id(s));
    assert_string_equal(neonflow_branch_restored_as(nb), f->main_id);
    assert_true(neonflow_operation_list_count(neonflow_branch_result_operations(r)) >= 1);
    assert_non_null(neonflow_branch_result_endpoints(r));
    CHECK_OK(neonflow_operations_await(NULL, f->c, PROJECT, neonflow_branch_result_operations(r), NULL, NULL, err));
    neonflow_branch_result_free(r);
    char content[64];
    assert_int_equal(emu_read(f->s, PROJECT, new_id, content, sizeof(content), NULL), 0);
    assert_string_equal(content, "golden");

    /* finalize: the new branch takes main's name and endpoint */
    neonflow_operation_list *ops = NULL;
    CHECK_OK(neonflow_branch_finalize_restore(&ops, f->c, PROJECT, new_id, "main (backup)", NULL, err));
    AWAIT_OPS(f, ops);
    neonflow_branch *b = NULL;
    CHECK_OK(neonflow_branch_find_by_name(&b, f->c, PROJECT, "main", NULL, err));
    assert_string_equal(neonflow_branch_id(b), new_id);
    assert_int_equal(neonflow_branch_restore_status(b), NEONFLOW_RESTORE_STATUS_FINALIZED);
    neonflow_branch_free(b);
    CHECK_OK(neonflow_branch_get(&b, f->c, PROJECT, f->main_id, NULL, err));
    assert_string_equal(neonflow_branch_name(b), "main (backup)");
    neonflow_branch_free(b);
    neonflow_endpoint *ep = NULL;
    CHECK_OK(neonflow_endpoint_get(&ep, f->c, PROJECT, f->main_ep, NULL, err));
    assert_string_equal(neonflow_endpoint_branch_id(ep), new_id);
    neonflow_endpoint_free(ep);
    /* finalizing twice is refused by Neon */
    neonflow_error *e = NULL;
    assert_true(neonflow_branch_finalize_restore(NULL, f->c, PROJECT, f->main_id, NULL, NULL, &e) < 0);
    neonflow_error_free(e);
    neonflow_snapshot_free(s);
}

static void test_restore_with_finalize_and_target(void **state)
{
    api_fixture *f = *state;
    char dev_id[64];
    assert_int_equal(emu_add_branch(f->s, PROJECT, "dev", NULL, 1, dev_id, NULL), 0);
    assert_int_equal(emu_write(f->s, PROJECT, dev_id, "candidate", NULL), 0);
    neonflow_snapshot *s = make_snapshot(f, dev_id, "cand");
    neonflow_snapshot_restore_options *ro;
    neonflow_snapshot_restore_options_new(&ro);
    neonflow_snapshot_restore_options_set_target_branch_id(ro, f->main_id);
    neonflow_snapshot_restore_options_set_finalize(ro, 1);
    neonflow_branch_result *r = NULL;
    CHECK_OK(neonflow_snapshot_restore(&r, f->c, PROJECT, neonflow_snapshot_id(s), ro, NULL, err));
    neonflow_snapshot_restore_options_free(ro);
    char new_id[64];
    snprintf(new_id, sizeof(new_id), "%s", neonflow_branch_id(neonflow_branch_result_branch(r)));
    assert_string_equal(neonflow_branch_restored_as(neonflow_branch_result_branch(r)), f->main_id);
    CHECK_OK(neonflow_operations_await(NULL, f->c, PROJECT, neonflow_branch_result_operations(r), NULL, NULL, err));
    neonflow_branch_result_free(r);
    neonflow_branch *b = NULL;
    CHECK_OK(neonflow_branch_find_by_name(&b, f->c, PROJECT, "main", NULL, err));
    assert_string_equal(neonflow_branch_id(b), new_id);
    neonflow_branch_free(b);
    char content[64];
    assert_int_equal(emu_read(f->s, PROJECT, new_id, content, sizeof(content), NULL), 0);
    assert_string_equal(content, "candidate");
    CHECK_OK(neonflow_branch_get(&b, f->c, PROJECT, f->main_id, NULL, err));
    assert_string_equal(neonflow_branch_name(b), "main (old)");
    neonflow_branch_free(b);
    /* unknown snapshot */
    CHECK_RC(NEONFLOW_ENOTFOUND, neonflow_snapshot_restore(&r, f->c, PROJECT, "snap-missing", NULL, NULL, err));
    neonflow_snapshot_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_list_find, api_setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_update_delete, api_setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_restore_then_finalize, api_setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_restore_with_finalize_and_target, api_setup, api_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
