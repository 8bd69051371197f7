/* Lists that scale, against the emulator: one branch page per call with a
 * limit or a cursor, walking every page by cursor gives the full list, search
 * across pages, next_cursor NULL at the end, bad limits and cursors, and
 * element copies (`_dup`) of every list element type that outlive their list. */
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

static void test_one_page_with_limit(void **state)
{
    api_fixture *f = *state;
    seed(f, 130);
    neonflow_branches_list_options *o;
    neonflow_branch_list *l = NULL;
    assert_int_equal(neonflow_branches_list_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_branches_list_options_set_limit(o, 7), NEONFLOW_OK);
    assert_int_equal(neonflow_branches_list_options_set_sort_by(o, "name"), NEONFLOW_OK);
    assert_int_equal(neonflow_branches_list_options_set_sort_order(o, "asc"), NEONFLOW_OK);
    emu_counters_reset(f->s);
    CHECK_OK(neonflow_branches_list(&l, f->c, PROJECT, o, NULL, err));
    assert_int_equal(emu_requests(f->s, "GET", "/projects/*/branches"), 1);
    assert_int_equal(neonflow_branch_list_count(l), 7);
    assert_string_equal(neonflow_branch_name(neonflow_branch_list_at(l, 0)), "feat-000");
    assert_string_equal(neonflow_branch_name(neonflow_branch_list_at(l, 6)), "feat-006");
    assert_non_null(neonflow_branch_list_next_cursor(l));
    neonflow_branch_list_free(l);
    /* a limit above Neon's cap of 100 gives a page of 100, and a cursor */
    assert_int_equal(neonflow_branches_list_options_set_limit(o, 10000), NEONFLOW_OK);
    CHECK_OK(neonflow_branches_list(&l, f->c, PROJECT, o, NULL, err));
    assert_int_equal(neonflow_branch_list_count(l), 100);
    assert_non_null(neonflow_branch_list_next_cursor(l));
    neonflow_branch_list_free(l);
    /* limit cleared: all pages again, and no cursor */
    assert_int_equal(neonflow_branches_list_options_set_limit(o, 0), NEONFLOW_OK);
    emu_counters_reset(f->s);
    CHECK_OK(neonflow_branches_list(&l, f->c, PROJECT, o, NULL, err));
    assert_int_equal(emu_requests(f->s, "GET", "/projects/*/branches"), 2);
    assert_int_equal(neonflow_branch_list_count(l), 131);
    assert_null(neonflow_branch_list_next_cursor(l));
    neonflow_branch_list_free(l);
    neonflow_branches_list_options_free(o);
}

/* Walks every page of `o` (limit set) into ids[]; returns the count. */
static size_t walk(api_fixture *f, neonflow_branches_list_options *o, char ids[][64], size_t cap, int *pages)
{
    size_t n = 0;
    *pages = 0;
    assert_int_equal(neonflow_branches_list_options_set_cursor(o, NULL), NEONFLOW_OK);
    for (;;) {
        neonflow_branch_list *l = NULL;
        CHECK_OK(neonflow_branches_list(&l, f->c, PROJECT, o, NULL, err));
        (*pages)++;
        for (size_t i = 0; i < neonflow_branch_list_count(l); i++) {
            assert_true(n < cap);
            snprintf(ids[n++], 64, "%s", neonflow_branch_id(neonflow_branch_list_at(l, i)));
        }
        const char *next = neonflow_branch_list_next_cursor(l);
        assert_int_equal(neonflow_branches_list_options_set_cursor(o, next), NEONFLOW_OK);
        neonflow_branch_list_free(l);
        if (!next)
            return n;
        assert_true(*pages < 100);
    }
}

static void test_walk_by_cursor_equals_full_list(void **state)
{
    api_fixture *f = *state;
    seed(f, 250);
    static char ids[400][64];
    neonflow_branch_list *all = NULL;
    CHECK_OK(neonflow_branches_list(&all, f->c, PROJECT, NULL, NULL, err));
    assert_int_equal(neonflow_branch_list_count(all), 251);
    neonflow_branches_list_options *o;
    assert_int_equal(neonflow_branches_list_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_branches_list_options_set_limit(o, 40), NEONFLOW_OK);
    int pages;
    size_t n = walk(f, o, ids, 400, &pages);
    assert_int_equal(pages, 7); /* 6 x 40 + 11 */
    assert_int_equal(n, 251);
    /* same branches in the same order (both use Neon's default sort) */
    for (size_t i = 0; i < n; i++)
        assert_string_equal(ids[i], neonflow_branch_id(neonflow_branch_list_at(all, i)));
    neonflow_branch_list_free(all);

    /* search across pages: feat-100..feat-199 match "feat-1" */
    assert_int_equal(neonflow_branches_list_options_set_search(o, "feat-1"), NEONFLOW_OK);
    assert_int_equal(neonflow_branches_list_options_set_limit(o, 30), NEONFLOW_OK);
    n = walk(f, o, ids, 400, &pages);
    assert_int_equal(pages, 4);
    assert_int_equal(n, 100);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]);
    neonflow_branches_list_options_free(o);

    /* a cursor alone (no limit) also fetches one page, of Neon's size */
    assert_int_equal(neonflow_branches_list_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_branches_list_options_set_limit(o, 100), NEONFLOW_OK);
    neonflow_branch_list *l = NULL;
    CHECK_OK(neonflow_branches_list(&l, f->c, PROJECT, o, NULL, err));
    assert_int_equal(neonflow_branches_list_options_set_limit(o, 0), NEONFLOW_OK);
    assert_int_equal(neonflow_branches_list_options_set_cursor(o, neonflow_branch_list_next_cursor(l)), NEONFLOW_OK);
    neonflow_branch_list_free(l);
    emu_counters_reset(f->s);
    CHECK_OK(neonflow_branches_list(&l, f->c, PROJECT, o, NULL, err));
    assert_int_equal(emu_requests(f->s, "GET", "/projects/*/branches"), 1);
    assert_int_equal(neonflow_branch_list_count(l), 100);
    assert_non_null(neonflow_branch_list_next_cursor(l));
    neonflow_branch_list_free(l);
    neonflow_branches_list_options_free(o);
}

static void test_bad_limit_and_cursor(void **state)
{
    api_fixture *f = *state;
    neonflow_branches_list_options *o;
    assert_int_equal(neonflow_branches_list_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_branches_list_options_set_limit(NULL, 5), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branches_list_options_set_limit(o, -1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branches_list_options_set_limit(o, 10001), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branches_list_options_set_limit(o, 1), NEONFLOW_OK);
    assert_int_equal(neonflow_branches_list_options_set_cursor(NULL, "x"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branches_list_options_set_cursor(o, ""), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branches_list_options_set_cursor(o, "a b"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branches_list_options_set_cursor(o, "ab\n"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branches_list_options_set_cursor(o, "caf\xc3\xa9"), NEONFLOW_EINVAL);
    char long_cursor[1026];
    memset(long_cursor, 'c', sizeof(long_cursor) - 1);
    long_cursor[1025] = '\0';
    assert_int_equal(neonflow_branches_list_options_set_cursor(o, long_cursor), NEONFLOW_EINVAL);
    long_cursor[1024] = '\0';
    assert_int_equal(neonflow_branches_list_options_set_cursor(o, long_cursor), NEONFLOW_OK);
    /* a cursor Neon did not issue: its 400 */
    assert_int_equal(neonflow_branches_list_options_set_cursor(o, "eyJjcmVhdGV+/="), NEONFLOW_OK);
    neonflow_branch_list *l = (neonflow_branch_list *)o; /* must be reset */
    CHECK_RC(NEONFLOW_EBADREQUEST, neonflow_branches_list(&l, f->c, PROJECT, o, NULL, err));
    assert_null(l);
    neonflow_branches_list_options_free(o);
    assert_null(neonflow_branch_list_next_cursor(NULL));
}

static void test_dup_outlives_list(void **state)
{
    api_fixture *f = *state;
    seed(f, 3);
    /* branch from a list */
    neonflow_branch_list *l = NULL;
    CHECK_OK(neonflow_branches_list(&l, f->c, PROJECT, NULL, NULL, err));
    const neonflow_branch *in_list = NULL;
    for (size_t i = 0; i < neonflow_branch_list_count(l); i++)
        if (strcmp(neonflow_branch_name(neonflow_branch_list_at(l, i)), "feat-001") == 0)
            in_list = neonflow_branch_list_at(l, i);
    assert_non_null(in_list);
    char id[64], json[4096];
    snprintf(id, sizeof(id), "%s", neonflow_branch_id(in_list));
    snprintf(json, sizeof(json), "%s", neonflow_branch_json(in_list));
    int64_t created = neonflow_branch_created_at_ms(in_list);
    neonflow_branch *b = (neonflow_branch *)l, *b2 = NULL;
    assert_int_equal(neonflow_branch_dup(NULL, in_list), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branch_dup(&b, NULL), NEONFLOW_EINVAL);
    assert_null(b);
    assert_int_equal(neonflow_branch_dup(&b, in_list), NEONFLOW_OK);
    neonflow_branch_list_free(l);
    assert_string_equal(neonflow_branch_name(b), "feat-001");
    assert_string_equal(neonflow_branch_id(b), id);
    assert_string_equal(neonflow_branch_parent_id(b), f->main_id);
    assert_int_equal(neonflow_branch_created_at_ms(b), created);
    assert_string_equal(neonflow_branch_json(b), json);
    /* a copy of a copy outlives the first copy */
    assert_int_equal(neonflow_branch_dup(&b2, b), NEONFLOW_OK);
    neonflow_branch_free(b);
    assert_string_equal(neonflow_branch_id(b2), id);
    assert_string_equal(neonflow_branch_json(b2), json);
    neonflow_branch_free(b2);

    /* branch, endpoint and operation from a create result */
    neonflow_branch_create_options *co;
    neonflow_branch_create_options_new(&co);
    neonflow_branch_create_options_set_name(co, "with-compute");
    neonflow_branch_create_options_set_with_rw_endpoint(co, 1);
    neonflow_branch_result *r = NULL;
    CHECK_OK(neonflow_branch_create(&r, f->c, PROJECT, co, NULL, err));
    neonflow_branch_create_options_free(co);
    CHECK_OK(neonflow_operations_await(NULL, f->c, PROJECT, neonflow_branch_result_operations(r), NULL, NULL, err));
    neonflow_endpoint *e = NULL;
    neonflow_operation *op = NULL;
    const neonflow_endpoint *re = neonflow_endpoint_list_at(neonflow_branch_result_endpoints(r), 0);
    const neonflow_operation *rop = neonflow_operation_list_at(neonflow_branch_result_operations(r), 0);
    char ep_id[64], op_id[64], new_id[64];
    snprintf(ep_id, sizeof(ep_id), "%s", neonflow_endpoint_id(re));
    snprintf(op_id, sizeof(op_id), "%s", neonflow_operation_id(rop));
    snprintf(new_id, sizeof(new_id), "%s", neonflow_branch_id(neonflow_branch_result_branch(r)));
    assert_int_equal(neonflow_branch_dup(&b, neonflow_branch_result_branch(r)), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_dup(&e, re), NEONFLOW_OK);
    assert_int_equal(neonflow_operation_dup(&op, rop), NEONFLOW_OK);
    neonflow_branch_result_free(r);
    assert_string_equal(neonflow_branch_name(b), "with-compute");
    assert_string_equal(neonflow_branch_id(b), new_id);
    assert_string_equal(neonflow_endpoint_id(e), ep_id);
    assert_string_equal(neonflow_endpoint_branch_id(e), new_id);
    assert_int_equal(neonflow_endpoint_type(e), NEONFLOW_ENDPOINT_TYPE_READ_WRITE);
    assert_non_null(neonflow_endpoint_json(e));
    assert_string_equal(neonflow_operation_id(op), op_id);
    assert_string_equal(neonflow_operation_project_id(op), PROJECT);
    assert_non_null(neonflow_operation_json(op));
    neonflow_branch_free(b);
    neonflow_endpoint_free(e);
    neonflow_operation_free(op);
    assert_int_equal(neonflow_endpoint_dup(NULL, re), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_operation_dup(&op, NULL), NEONFLOW_EINVAL);
    assert_null(op);

    /* endpoint from an endpoint list */
    neonflow_endpoint_list *el = NULL;
    CHECK_OK(neonflow_endpoints_list(&el, f->c, PROJECT, NULL, err));
    assert_true(neonflow_endpoint_list_count(el) >= 2);
    assert_int_equal(neonflow_endpoint_dup(&e, neonflow_endpoint_list_at(el, 1)), NEONFLOW_OK);
    snprintf(ep_id, sizeof(ep_id), "%s", neonflow_endpoint_id(neonflow_endpoint_list_at(el, 1)));
    neonflow_endpoint_list_free(el);
    assert_string_equal(neonflow_endpoint_id(e), ep_id);
    assert_string_equal(neonflow_endpoint_project_id(e), PROJECT);
    neonflow_endpoint_free(e);

    /* operation from an operations page */
    neonflow_operation_list *ol = NULL;
    CHECK_OK(neonflow_operations_list(&ol, f->c, PROJECT, NULL, 5, NULL, err));
    assert_true(neonflow_operation_list_count(ol) >= 1);
    snprintf(op_id, sizeof(op_id), "%s", neonflow_operation_id(neonflow_operation_list_at(ol, 0)));
    assert_int_equal(neonflow_operation_dup(&op, neonflow_operation_list_at(ol, 0)), NEONFLOW_OK);
    neonflow_operation_list_free(ol);
    assert_string_equal(neonflow_operation_id(op), op_id);
    assert_int_equal(neonflow_operation_is_done(op), 1);
    neonflow_operation_free(op);

    /* snapshot from a snapshot list */
    neonflow_snapshot_create_options *so;
    neonflow_snapshot_create_options_new(&so);
    neonflow_snapshot_create_options_set_name(so, "keep-me");
    neonflow_snapshot *s = NULL;
    neonflow_operation_list *sops = NULL;
    CHECK_OK(neonflow_snapshot_create(&s, &sops, f->c, PROJECT, f->main_id, so, NULL, err));
    neonflow_snapshot_create_options_free(so);
    CHECK_OK(neonflow_operations_await(NULL, f->c, PROJECT, sops, NULL, NULL, err));
    neonflow_operation_list_free(sops);
    char snap_id[64];
    snprintf(snap_id, sizeof(snap_id), "%s", neonflow_snapshot_id(s));
    neonflow_snapshot_free(s);
    neonflow_snapshot_list *sl = NULL;
    CHECK_OK(neonflow_snapshots_list(&sl, f->c, PROJECT, NULL, err));
    assert_int_equal(neonflow_snapshot_list_count(sl), 1);
    assert_int_equal(neonflow_snapshot_dup(&s, neonflow_snapshot_list_at(sl, 0)), NEONFLOW_OK);
    neonflow_snapshot_list_free(sl);
    assert_string_equal(neonflow_snapshot_id(s), snap_id);
    assert_string_equal(neonflow_snapshot_name(s), "keep-me");
    assert_string_equal(neonflow_snapshot_source_branch_id(s), f->main_id);
    assert_non_null(neonflow_snapshot_json(s));
    neonflow_snapshot_free(s);
    assert_int_equal(neonflow_snapshot_dup(&s, NULL), NEONFLOW_EINVAL);
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_page_with_limit, api_setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_walk_by_cursor_equals_full_list, api_setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_bad_limit_and_cursor, api_setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_dup_outlives_list, api_setup, api_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
