/* lib/api branches against the emulator: list over >100 branches
 * (pagination), search, sort, get, find by name, create with and without an
 * endpoint, update, delete (twice), finalize_restore errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "test_api_fixture.h"

static void seed(api_fixture *f, int n)
{
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "feat-%03d", i);
        assert_int_equal(emu_add_branch(f->s, PROJECT, name, f->main_id, 0, NULL, NULL), 0);
    }
}

static void test_list_all_pages_search_sort(void **state)
{
    api_fixture *f = *state;
    seed(f, 130);
    neonflow_branch_list *l = NULL;
    emu_counters_reset(f->s);
    CHECK_OK(neonflow_branches_list(&l, f->c, PROJECT, NULL, NULL, err));
    assert_int_equal(neonflow_branch_list_count(l), 131);
    assert_true(emu_requests(f->s, "GET", "/projects/*/branches") >= 2);
    /* every ID once */
    for (size_t i = 0; i < neonflow_branch_list_count(l); i++)
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(neonflow_branch_id(neonflow_branch_list_at(l, i)),
                                    neonflow_branch_id(neonflow_branch_list_at(l, j)));
    neonflow_branch_list_free(l);

    neonflow_branches_list_options *o;
    neonflow_branches_list_options_new(&o);
    neonflow_branches_list_options_set_search(o, "feat-01");
    neonflow_branches_list_options_set_sort_by(o, "name");
    neonflow_branches_list_options_set_sort_order(o, "asc");
    CHECK_OK(neonflow_branches_list(&l, f->c, PROJECT, o, NULL, err));
    assert_int_equal(neonflow_branch_list_count(l), 10); /* feat-010 .. feat-019 */
    assert_string_equal(neonflow_branch_name(neonflow_branch_list_at(l, 0)), "feat-010");
    assert_string_equal(neonflow_branch_name(neonflow_branch_list_at(l, 9)), "feat-019");
    neonflow_branch_list_free(l);
    neonflow_branches_list_options_set_sort_order(o, "desc");
    neonflow_branches_list_options_set_search(o, NULL);
    CHECK_OK(neonflow_branches_list(&l, f->c, PROJECT, o, NULL, err));
    assert_int_equal(neonflow_branch_list_count(l), 131);
    assert_string_equal(neonflow_branch_name(neonflow_branch_list_at(l, 0)), "main");
    assert_string_equal(neonflow_branch_name(neonflow_branch_list_at(l, 1)), "feat-129");
    neonflow_branch_list_free(l);
    /* a search value that needs encoding reaches Neon intact (no match) */
    neonflow_branches_list_options_set_search(o, "a&b=c d/?");
    CHECK_OK(neonflow_branches_list(&l, f->c, PROJECT, o, NULL, err));
    assert_int_equal(neonflow_branch_list_count(l), 0);
    neonflow_branch_list_free(l);
    /* Neon rejects a bad sort_by */
    neonflow_branches_list_options_set_sort_by(o, "colour");
    CHECK_RC(NEONFLOW_EBADREQUEST, neonflow_branches_list(&l, f->c, PROJECT, o, NULL, err));
    neonflow_branches_list_options_free(o);
    CHECK_RC(NEONFLOW_ENOTFOUND, neonflow_branches_list(&l, f->c, "p-missing", NULL, NULL, err));
}

static void test_get_and_find(void **state)
{
    api_fixture *f = *state;
    seed(f, 105);
    neonflow_branch *b = NULL;
    CHECK_OK(neonflow_branch_get(&b, f->c, PROJECT, f->main_id, NULL, err));
    assert_string_equal(neonflow_branch_name(b), "main");
    assert_string_equal(neonflow_branch_project_id(b), PROJECT);
    assert_null(neonflow_branch_parent_id(b));
    assert_int_equal(neonflow_branch_is_default(b), 1);
    assert_int_equal(neonflow_branch_is_protected(b), 0);
    assert_int_equal(neonflow_branch_current_state(b), NEONFLOW_BRANCH_STATE_READY);
    assert_true(neonflow_branch_created_at_ms(b) > 0);
    assert_true(neonflow_branch_updated_at_ms(b) > 0);
    assert_non_null(neonflow_branch_creation_source(b));
    assert_true(neonflow_branch_written_data_bytes(b) >= 0);
    neonflow_branch_free(b);
    /* feat-1 is a prefix of many; exact match over all pages */
    CHECK_OK(neonflow_branch_find_by_name(&b, f->c, PROJECT, "feat-100", NULL, err));
    assert_string_equal(neonflow_branch_name(b), "feat-100");
    assert_string_equal(neonflow_branch_parent_id(b), f->main_id);
    neonflow_branch_free(b);
    b = NULL;
    CHECK_RC(NEONFLOW_ENOTFOUND, neonflow_branch_find_by_name(&b, f->c, PROJECT, "feat-1", NULL, err));
    CHECK_RC(NEONFLOW_ENOTFOUND, neonflow_branch_get(&b, f->c, PROJECT, "br-nope-1", NULL, err));
    assert_null(b);
}

static void test_create_update_delete(void **state)
{
    api_fixture *f = *state;
    /* no options: a child of the default branch, no compute */
    neonflow_branch_result *r = NULL;
    CHECK_OK(neonflow_branch_create(&r, f->c, PROJECT, NULL, NULL, err));
    assert_string_equal(neonflow_branch_parent_id(neonflow_branch_result_branch(r)), f->main_id);
    assert_int_equal(neonflow_endpoint_list_count(neonflow_branch_result_endpoints(r)), 0);
    CHECK_OK(neonflow_operations_await(NULL, f->c, PROJECT, neonflow_branch_result_operations(r), NULL, NULL, err));
    neonflow_branch_result_free(r);

    neonflow_branch_create_options *o;
    neonflow_branch_create_options_new(&o);
    neonflow_branch_create_options_set_name(o, "preview/pr 42");
    neonflow_branch_create_options_set_parent_id(o, f->main_id);
    neonflow_branch_create_options_set_with_rw_endpoint(o, 1);
    neonflow_branch_create_options_set_expires_at(o, "2099-01-01T00:00:00Z");
    neonflow_branch_create_options_set_protected(o, 1);
    CHECK_OK(neonflow_branch_create(&r, f->c, PROJECT, o, NULL, err));
    const neonflow_branch *nb = neonflow_branch_result_branch(r);
    char id[64];
    snprintf(id, sizeof(id), "%s", neonflow_branch_id(nb));
    assert_string_equal(neonflow_branch_name(nb), "preview/pr 42");
    assert_int_equal(neonflow_branch_is_protected(nb), 1);
    const neonflow_endpoint_list *eps = neonflow_branch_result_endpoints(r);
    assert_int_equal(neonflow_endpoint_list_count(eps), 1);
    assert_int_equal(neonflow_endpoint_type(neonflow_endpoint_list_at(eps, 0)), NEONFLOW_ENDPOINT_TYPE_READ_WRITE);
    assert_string_equal(neonflow_endpoint_branch_id(neonflow_endpoint_list_at(eps, 0)), id);
    assert_true(neonflow_operation_list_count(neonflow_branch_result_operations(r)) >= 2);
    CHECK_OK(neonflow_operations_await(NULL, f->c, PROJECT, neonflow_branch_result_operations(r), NULL, NULL, err));
    neonflow_branch_result_free(r);
    /* duplicate name */
    CHECK_RC(NEONFLOW_ECONFLICT, neonflow_branch_create(&r, f->c, PROJECT, o, NULL, err));
    neonflow_branch_create_options_free(o);

    /* update name and protection; clear expiry */
    neonflow_branch_update_options *u;
    neonflow_branch_update_options_new(&u);
    neonflow_branch_update_options_set_name(u, "renamed");
    neonflow_branch_update_options_set_protected(u, 0);
    neonflow_branch_update_options_set_expires_at(u, NULL);
    neonflow_branch *b = NULL;
    neonflow_operation_list *ops = NULL;
    CHECK_OK(neonflow_branch_update(&b, &ops, f->c, PROJECT, id, u, NULL, err));
    assert_string_equal(neonflow_branch_name(b), "renamed");
    assert_int_equal(neonflow_branch_is_protected(b), 0);
    assert_null(neonflow_branch_expires_at(b));
    AWAIT_OPS(f, ops);
    neonflow_branch_free(b);
    neonflow_branch_update_options_free(u);
    /* only the name: protection unchanged */
    neonflow_branch_update_options_new(&u);
    neonflow_branch_update_options_set_protected(u, 1);
    CHECK_OK(neonflow_branch_update(&b, NULL, f->c, PROJECT, id, u, NULL, err));
    assert_string_equal(neonflow_branch_name(b), "renamed");
    assert_int_equal(neonflow_branch_is_protected(b), 1);
    neonflow_branch_free(b);
    neonflow_branch_update_options_free(u);
    /* a protected branch cannot be deleted */
    neonflow_error *e = NULL;
    assert_true(neonflow_branch_delete(NULL, f->c, PROJECT, id, NULL, NULL, &e) < 0);
    neonflow_error_free(e);
    neonflow_branch_update_options_new(&u);
    neonflow_branch_update_options_set_protected(u, 0);
    CHECK_OK(neonflow_branch_update(NULL, NULL, f->c, PROJECT, id, u, NULL, err));
    neonflow_branch_update_options_free(u);

    /* delete, then delete again: 204 means already gone, which is success */
    CHECK_OK(neonflow_branch_delete(&ops, f->c, PROJECT, id, NULL, NULL, err));
    AWAIT_OPS(f, ops);
    emu_counters_reset(f->s);
    CHECK_OK(neonflow_branch_delete(&ops, f->c, PROJECT, id, NULL, NULL, err));
    assert_int_equal(emu_responses_with_status(f->s, 204), 1);
    assert_non_null(ops);
    assert_int_equal(neonflow_operation_list_count(ops), 0);
    neonflow_operation_list_free(ops);
    CHECK_RC(NEONFLOW_ENOTFOUND, neonflow_branch_get(&b, f->c, PROJECT, id, NULL, err));
    /* finalize on a branch that is not a restore */
    e = NULL;
    assert_true(neonflow_branch_finalize_restore(NULL, f->c, PROJECT, f->main_id, NULL, NULL, &e) < 0);
    neonflow_error_free(e);
}

/* hard_delete reaches the server: sent as asked, absent when unset. */
static void test_delete_options(void **state)
{
    api_fixture *f = *state;
    char ids[3][64], eid[64];
    static const char *const names[] = {"del-hard", "del-soft", "del-default"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(emu_add_branch(f->s, PROJECT, names[i], f->main_id, 0, ids[i], eid), 0);
    neonflow_branch_delete_options *o = NULL;
    assert_int_equal(neonflow_branch_delete_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_branch_delete_options_set_hard_delete(NULL, 1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branch_delete_options_set_hard_delete(o, 1), NEONFLOW_OK);
    neonflow_operation_list *ops = NULL;
    CHECK_OK(neonflow_branch_delete(&ops, f->c, PROJECT, ids[0], o, NULL, err));
    AWAIT_OPS(f, ops);
    assert_int_equal(neonflow_branch_delete_options_set_hard_delete(o, 0), NEONFLOW_OK);
    CHECK_OK(neonflow_branch_delete(&ops, f->c, PROJECT, ids[1], o, NULL, err));
    AWAIT_OPS(f, ops);
    CHECK_OK(neonflow_branch_delete(&ops, f->c, PROJECT, ids[2], NULL, NULL, err));
    AWAIT_OPS(f, ops);
    neonflow_branch_delete_options_free(o);
    neonflow_branch_delete_options_free(NULL);

    json_t *st = emu_state(f->s), *v;
    json_t *del = json_object_get(json_array_get(json_object_get(st, "projects"), 0), "deleted_branches");
    int seen = 0;
    size_t i;
    json_array_foreach(del, i, v) {
        const char *id = json_string_value(json_object_get(v, "id"));
        for (int k = 0; k < 3; k++)
            if (strcmp(id, ids[k]) == 0) {
                assert_int_equal(json_is_true(json_object_get(v, "hard_delete")), k == 0);
                seen++;
            }
    }
    assert_int_equal(seen, 3);
    json_decref(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_all_pages_search_sort, api_setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_get_and_find, api_setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_create_update_delete, api_setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_delete_options, api_setup, api_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
