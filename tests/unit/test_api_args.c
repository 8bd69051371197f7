/* lib/api argument handling: RFC 3339, query encoding, ID validation before
 * any request, NULL handling of every getter / free / setter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/api-private.h"
#include "core/alloc.h"
#include "neonflow/neonflow.h"

static void test_rfc3339(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t ms;
    } ok[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2022-11-30T20:09:48Z", 1669838988000LL},
        {"2022-11-30t20:09:48z", 1669838988000LL},
        {"2022-11-30 20:09:48Z", 1669838988000LL},
        {"2022-11-30T20:09:48.1Z", 1669838988100LL},
        {"2022-11-30T20:09:48.123456789Z", 1669838988123LL},
        {"2022-11-30T22:09:48+02:00", 1669838988000LL},
        {"2022-11-30T18:39:48.5-01:30", 1669838988500LL},
        {"2024-02-29T00:00:00Z", 1709164800000LL},
        {"1969-12-31T23:59:59Z", -1000},
        {"2000-03-01T00:00:00+00:00", 951868800000LL},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t ms = 42;
        assert_int_equal(neonflow__rfc3339_ms(ok[i].s, &ms), 0);
        assert_int_equal(ms, ok[i].ms);
        assert_true(neonflow__is_rfc3339(ok[i].s));
    }
    static const char *const bad[] = {NULL, "", "2022-11-30", "2022-11-30T20:09:48", "2022-11-30T20:09:48+0200",
                                      "2022-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2022-11-31T00:00:00Z",
                                      "2022-11-30T24:00:00Z", "2022-11-30T20:60:00Z", "2022-11-30T20:09:48.Z",
                                      "2022-11-30T20:09:48Zjunk", "2022/11/30T20:09:48Z", "x022-11-30T20:09:48Z",
                                      "2022-11-30T20:09:48+25:00", "2022-00-10T00:00:00Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms;
        assert_int_equal(neonflow__rfc3339_ms(bad[i], &ms), -1);
        assert_false(neonflow__is_rfc3339(bad[i]));
    }
}

static void test_lsn(void **state)
{
    (void)state;
    assert_true(neonflow__is_lsn("0/1DE2850"));
    assert_true(neonflow__is_lsn("FFFFFFFF/ffffffff"));
    assert_false(neonflow__is_lsn(NULL));
    assert_false(neonflow__is_lsn(""));
    assert_false(neonflow__is_lsn("0/"));
    assert_false(neonflow__is_lsn("/1"));
    assert_false(neonflow__is_lsn("0/1G"));
    assert_false(neonflow__is_lsn("0/1/2"));
    assert_false(neonflow__is_lsn("12345678901234567/1"));
}

static void test_query_encoding(void **state)
{
    (void)state;
    neonflow__sb b = {0};
    neonflow__sb_add(&b, "/projects/p-1/branches/br-1/snapshot");
    neonflow__sb_query(&b, "name", "prod snap/2025 & more=yes?#%ü");
    neonflow__sb_query(&b, "skipped", NULL);
    neonflow__sb_query(&b, "timestamp", "2025-08-05T22:00:00+02:00");
    neonflow__sb_query(&b, "empty", "");
    char *s = neonflow__sb_take(&b);
    assert_string_equal(s, "/projects/p-1/branches/br-1/snapshot"
                           "?name=prod%20snap%2F2025%20%26%20more%3Dyes%3F%23%25%C3%BC"
                           "&timestamp=2025-08-05T22%3A00%3A00%2B02%3A00&empty=");
    neonflow__free(s);
}

static void test_enum_lookup(void **state)
{
    (void)state;
    static const char *const names[] = {"a", "b", NULL};
    assert_int_equal(neonflow__enum_lookup("a", names, -1), 1);
    assert_int_equal(neonflow__enum_lookup("b", names, -1), 2);
    assert_int_equal(neonflow__enum_lookup("c", names, -1), 0);
    assert_int_equal(neonflow__enum_lookup(NULL, names, -1), -1);
}

/* A client pointing at a closed loopback port, counting attempted requests. */
static int traces;
static void on_trace(const neonflow_trace_record *rec, void *payload)
{
    int32_t kind = neonflow_trace_record_kind(rec);
    const char *data = neonflow_trace_record_data(rec);
    size_t len = neonflow_trace_record_data_len(rec);
    (void)kind;
    (void)data;
    (void)len;
    (void)payload;
    traces++;
}

static neonflow_client *offline_client(void)
{
    neonflow_client_options *o = NULL;
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(o, "test-key"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(o, "http://127.0.0.1:9/api/v2"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_max_retries(o, 0), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_trace_hook(o, on_trace, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    return c;
}

static void expect_einval(int rc, neonflow_error **ep, const char *needle)
{
    neonflow_error *e = *ep;
    *ep = NULL;
    assert_int_equal(rc, NEONFLOW_EINVAL);
    assert_non_null(e);
    if (needle && !strstr(neonflow_error_message(e), needle))
        fail_msg("\"%s\" lacks \"%s\"", neonflow_error_message(e), needle);
    neonflow_error_free(e);
}

static void test_bad_ids_rejected_before_request(void **state)
{
    (void)state;
    neonflow_client *c = offline_client();
    static const char *const bad_ids[] = {NULL, "", "UPPER", "a/b", "a b", "../x", "p?x=1", "p%2F",
                                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 61 */};
    traces = 0;
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        const char *bad = bad_ids[i];
        neonflow_error *e = NULL;
        void *o = NULL;
        neonflow_operation_list *ops = NULL;
        expect_einval(neonflow_snapshots_list((neonflow_snapshot_list **)&o, c, bad, NULL, &e), &e, "project_id");
        e = NULL;
        expect_einval(neonflow_snapshot_create((neonflow_snapshot **)&o, &ops, c, "p-1", bad, NULL, NULL, &e), &e, "branch_id");
        e = NULL;
        expect_einval(neonflow_snapshot_find_by_id((neonflow_snapshot **)&o, c, "p-1", bad, NULL, &e), &e, "snapshot_id");
        e = NULL;
        neonflow_snapshot_update_options *uo;
        neonflow_snapshot_update_options_new(&uo);
        expect_einval(neonflow_snapshot_update((neonflow_snapshot **)&o, c, "p-1", bad, uo, NULL, &e), &e, "snapshot_id");
        neonflow_snapshot_update_options_free(uo);
        e = NULL;
        expect_einval(neonflow_snapshot_delete(&ops, c, "p-1", bad, NULL, &e), &e, "snapshot_id");
        e = NULL;
        expect_einval(neonflow_snapshot_restore((neonflow_branch_result **)&o, c, "p-1", bad, NULL, NULL, &e), &e,
                      "snapshot_id");
        e = NULL;
        expect_einval(neonflow_branches_list((neonflow_branch_list **)&o, c, bad, NULL, NULL, &e), &e, "project_id");
        e = NULL;
        expect_einval(neonflow_branch_get((neonflow_branch **)&o, c, "p-1", bad, NULL, &e), &e, "branch_id");
        e = NULL;
        expect_einval(neonflow_branch_find_by_name((neonflow_branch **)&o, c, bad, "main", NULL, &e), &e, "project_id");
        e = NULL;
        expect_einval(neonflow_branch_create((neonflow_branch_result **)&o, c, bad, NULL, NULL, &e), &e, "project_id");
        e = NULL;
        neonflow_branch_update_options *bo;
        neonflow_branch_update_options_new(&bo);
        expect_einval(neonflow_branch_update((neonflow_branch **)&o, &ops, c, "p-1", bad, bo, NULL, &e), &e, "branch_id");
        neonflow_branch_update_options_free(bo);
        e = NULL;
        expect_einval(neonflow_branch_delete(&ops, c, "p-1", bad, NULL, NULL, &e), &e, "branch_id");
        e = NULL;
        expect_einval(neonflow_branch_finalize_restore(&ops, c, "p-1", bad, NULL, NULL, &e), &e, "branch_id");
        e = NULL;
        expect_einval(neonflow_endpoints_list((neonflow_endpoint_list **)&o, c, bad, NULL, &e), &e, "project_id");
        e = NULL;
        expect_einval(neonflow_endpoints_list_for_branch((neonflow_endpoint_list **)&o, c, "p-1", bad, NULL, &e), &e,
                      "branch_id");
        e = NULL;
        expect_einval(neonflow_endpoint_get((neonflow_endpoint **)&o, c, "p-1", bad, NULL, &e), &e, "endpoint_id");
        e = NULL;
        expect_einval(neonflow_endpoint_create((neonflow_endpoint **)&o, &ops, c, "p-1", bad,
                                               NULL, NULL, &e), &e, "branch_id");
        e = NULL;
        expect_einval(neonflow_operation_get((neonflow_operation **)&o, c, "p-1", bad, NULL, &e), &e, "operation_id");
        e = NULL;
        expect_einval(neonflow_operations_list((neonflow_operation_list **)&o, c, bad, NULL, 0, NULL, &e), &e,
                      "project_id");
        e = NULL;
        expect_einval(neonflow_operation_ids_await((neonflow_await_result **)&o, c, "p-1", &bad, 1, NULL, NULL, &e), &e,
                      "operation_id");
        e = NULL;
        expect_einval(neonflow_branch_backup_schedule_get((neonflow_backup_schedule **)&o, c, "p-1", bad, NULL, &e), &e,
                      "branch_id");
        e = NULL;
        neonflow_backup_schedule *bs;
        neonflow_backup_schedule_new(&bs);
        expect_einval(neonflow_branch_backup_schedule_set(c, bad, "br-1", bs, NULL, &e), &e, "project_id");
        neonflow_backup_schedule_free(bs);
        assert_null(o);
        assert_null(ops);
    }
    assert_int_equal(traces, 0);

    /* other argument errors, also before any request */
    neonflow_error *e = NULL;
    neonflow_snapshot *s = NULL;
    neonflow_snapshot_create_options *co;
    assert_int_equal(neonflow_snapshot_create_options_new(&co), NEONFLOW_OK);
    assert_int_equal(neonflow_snapshot_create_options_set_lsn(co, "0/16B3748"), NEONFLOW_OK);
    assert_int_equal(neonflow_snapshot_create_options_set_timestamp(co, "2025-01-01T00:00:00Z"), NEONFLOW_OK);
    expect_einval(neonflow_snapshot_create(&s, NULL, c, "p-1", "br-1", co, NULL, &e), &e, "mutually exclusive");
    neonflow_snapshot_create_options_free(co);
    e = NULL;
    expect_einval(neonflow_snapshot_create(NULL, NULL, c, "p-1", "br-1", NULL, NULL, &e), &e, NULL);
    e = NULL;
    expect_einval(neonflow_snapshot_create(&s, NULL, NULL, "p-1", "br-1", NULL, NULL, &e), &e, "client");
    e = NULL;
    expect_einval(neonflow_snapshot_find_by_name(&s, c, "p-1", NULL, NULL, &e), &e, "name");
    e = NULL;
    expect_einval(neonflow_snapshot_update(&s, c, "p-1", "snap-1", NULL, NULL, &e), &e, "options");
    e = NULL;
    neonflow_endpoint *ep = NULL;
    neonflow_endpoint_create_options *eo = NULL;
    assert_int_equal(neonflow_endpoint_create_options_new(&eo), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_type(eo, 7), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_endpoint_create_options_set_autoscaling_limit_min_cu(eo, 2), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_autoscaling_limit_max_cu(eo, 1), NEONFLOW_OK);
    expect_einval(neonflow_endpoint_create(&ep, NULL, c, "p-1", "br-1", eo, NULL, &e), &e, "exceeds");
    neonflow_endpoint_create_options_free(eo);
    e = NULL;
    neonflow_operation_list *ol = NULL;
    expect_einval(neonflow_operations_list(&ol, c, "p-1", NULL, 1001, NULL, &e), &e, "limit");
    e = NULL;
    expect_einval(neonflow_branch_finalize_restore(NULL, c, "p-1", "br-1", "", NULL, &e), &e, "old_branch_name");
    const char *ids[] = {"ok-1", "NOT OK"};
    e = NULL;
    expect_einval(neonflow_operation_ids_await(NULL, c, "p-1", ids, 2, NULL, NULL, &e), &e, "operation_id");
    e = NULL;
    expect_einval(neonflow_operation_ids_await(NULL, c, "p-1", NULL, 2, NULL, NULL, &e), &e, NULL);
    assert_int_equal(neonflow_operations_await(NULL, NULL, "p-1", NULL, NULL, NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(traces, 0);

    /* an empty wait succeeds without a request */
    neonflow_await_result *ar = NULL;
    assert_int_equal(neonflow_operations_await(&ar, c, "p-1", NULL, NULL, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_await_result_polls(ar), 0);
    assert_int_equal(neonflow_operation_list_count(neonflow_await_result_operations(ar)), 0);
    neonflow_await_result_free(ar);
    assert_int_equal(traces, 0);

    /* a valid call does reach the transport (and fails to connect) */
    neonflow_snapshot_list *sl = NULL;
    e = NULL;
    int rc = neonflow_snapshots_list(&sl, c, "p-1", NULL, &e);
    assert_true(rc < NEONFLOW_OK && rc != NEONFLOW_EINVAL);
    assert_null(sl);
    neonflow_error_free(e);
    neonflow_client_free(c);
}

static void test_options_setters(void **state)
{
    (void)state;
    /* NULL handling of every constructor, setter and free */
    assert_int_equal(neonflow_snapshot_create_options_new(NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_update_options_new(NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_restore_options_new(NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branches_list_options_new(NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branch_create_options_new(NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branch_update_options_new(NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_await_options_new(NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_create_options_set_name(NULL, "x"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_create_options_set_lsn(NULL, "0/1"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_create_options_set_timestamp(NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_create_options_set_expires_at(NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_update_options_set_name(NULL, "x"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_update_options_set_expires_at(NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_restore_options_set_name(NULL, "x"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_restore_options_set_target_branch_id(NULL, "br-1"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_restore_options_set_finalize(NULL, 1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branches_list_options_set_search(NULL, "x"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branches_list_options_set_sort_by(NULL, "name"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branches_list_options_set_sort_order(NULL, "asc"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branches_list_options_set_limit(NULL, 10), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branches_list_options_set_cursor(NULL, "c"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branch_create_options_set_parent_id(NULL, "br-1"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branch_create_options_set_name(NULL, "x"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branch_create_options_set_expires_at(NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branch_create_options_set_with_rw_endpoint(NULL, 1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branch_create_options_set_protected(NULL, 1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branch_update_options_set_name(NULL, "x"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branch_update_options_set_protected(NULL, 1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branch_update_options_set_expires_at(NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_await_options_set_timeout_ms(NULL, 1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_await_options_set_cancel(NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_await_options_set_progress_hook(NULL, NULL, NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_await_options_set_poll_interval_ms(NULL, 1, 2), NEONFLOW_EINVAL);
    neonflow_snapshot_create_options_free(NULL);
    neonflow_snapshot_update_options_free(NULL);
    neonflow_snapshot_restore_options_free(NULL);
    neonflow_branches_list_options_free(NULL);
    neonflow_branch_create_options_free(NULL);
    neonflow_branch_update_options_free(NULL);
    neonflow_await_options_free(NULL);

    /* validation of values */
    neonflow_snapshot_create_options *co;
    assert_int_equal(neonflow_snapshot_create_options_new(&co), NEONFLOW_OK);
    assert_int_equal(neonflow_snapshot_create_options_set_lsn(co, "nope"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_create_options_set_timestamp(co, "yesterday"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_create_options_set_expires_at(co, "2025-01-01"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_create_options_set_name(co, "a"), NEONFLOW_OK);
    assert_int_equal(neonflow_snapshot_create_options_set_name(co, "b"), NEONFLOW_OK); /* replaces */
    assert_int_equal(neonflow_snapshot_create_options_set_name(co, NULL), NEONFLOW_OK);   /* clears */
    neonflow_snapshot_create_options_free(co);

    neonflow_snapshot_update_options *uo;
    assert_int_equal(neonflow_snapshot_update_options_new(&uo), NEONFLOW_OK);
    assert_int_equal(neonflow_snapshot_update_options_set_name(uo, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_update_options_set_expires_at(uo, "bad"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_update_options_set_expires_at(uo, NULL), NEONFLOW_OK);
    assert_true(uo->expires_set && uo->expires_at == NULL);
    neonflow_snapshot_update_options_free(uo);

    neonflow_snapshot_restore_options *ro;
    assert_int_equal(neonflow_snapshot_restore_options_new(&ro), NEONFLOW_OK);
    assert_int_equal(neonflow_snapshot_restore_options_set_target_branch_id(ro, "BR 1"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_snapshot_restore_options_set_target_branch_id(ro, "br-1"), NEONFLOW_OK);
    assert_int_equal(neonflow_snapshot_restore_options_set_finalize(ro, 5), NEONFLOW_OK);
    assert_int_equal(ro->finalize, 1);
    neonflow_snapshot_restore_options_free(ro);

    neonflow_branch_create_options *bc;
    assert_int_equal(neonflow_branch_create_options_new(&bc), NEONFLOW_OK);
    assert_int_equal(neonflow_branch_create_options_set_parent_id(bc, "Br_1"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branch_create_options_set_name(bc, ""), NEONFLOW_EINVAL);
    char long_name[300];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_int_equal(neonflow_branch_create_options_set_name(bc, long_name), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branch_create_options_set_expires_at(bc, "tomorrow"), NEONFLOW_EINVAL);
    neonflow_branch_create_options_free(bc);

    neonflow_branch_update_options *bu;
    assert_int_equal(neonflow_branch_update_options_new(&bu), NEONFLOW_OK);
    assert_int_equal(neonflow_branch_update_options_set_name(bu, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branch_update_options_set_expires_at(bu, "x"), NEONFLOW_EINVAL);
    neonflow_branch_update_options_free(bu);

    neonflow_branches_list_options *bl;
    assert_int_equal(neonflow_branches_list_options_new(&bl), NEONFLOW_OK);
    assert_int_equal(neonflow_branches_list_options_set_sort_by(bl, ""), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_branches_list_options_set_sort_order(bl, ""), NEONFLOW_EINVAL);
    neonflow_branches_list_options_free(bl);

    neonflow_await_options *ao;
    assert_int_equal(neonflow_await_options_new(&ao), NEONFLOW_OK);
    assert_int_equal(neonflow_await_options_set_timeout_ms(ao, 0), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_await_options_set_poll_interval_ms(ao, 0, 10), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_await_options_set_poll_interval_ms(ao, 20, 10), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_await_options_set_poll_interval_ms(ao, 10, 20), NEONFLOW_OK);
    neonflow_await_options_free(ao);
}

static int destroyed;
static void count_destroy(void *p)
{
    (void)p;
    destroyed++;
}
static int ignore_progress(const neonflow_operation *op, void *p)
{
    (void)op;
    (void)p;
    return 0;
}

static void test_hook_destroy_once(void **state)
{
    (void)state;
    destroyed = 0;
    neonflow_await_options *ao;
    assert_int_equal(neonflow_await_options_new(&ao), NEONFLOW_OK);
    assert_int_equal(neonflow_await_options_set_progress_hook(ao, ignore_progress, NULL, count_destroy), NEONFLOW_OK);
    assert_int_equal(neonflow_await_options_set_progress_hook(ao, ignore_progress, NULL, count_destroy), NEONFLOW_OK);
    assert_int_equal(destroyed, 1); /* replaced */
    assert_int_equal(neonflow_await_options_set_progress_hook(ao, ignore_progress, NULL, count_destroy), NEONFLOW_OK);
    neonflow_await_options_free(ao);
    assert_int_equal(destroyed, 3);
    /* a NULL options object still runs destroy exactly once */
    assert_int_equal(neonflow_await_options_set_progress_hook(NULL, ignore_progress, NULL, count_destroy),
                     NEONFLOW_EINVAL);
    assert_int_equal(destroyed, 4);
}

static void test_getters_accept_null(void **state)
{
    (void)state;
    const neonflow_operation *op = NULL;
    assert_null(neonflow_operation_id(op));
    assert_null(neonflow_operation_project_id(op));
    assert_null(neonflow_operation_branch_id(op));
    assert_null(neonflow_operation_endpoint_id(op));
    assert_int_equal(neonflow_operation_action(op), NEONFLOW_OP_ACTION_UNKNOWN);
    assert_null(neonflow_operation_action_raw(op));
    assert_int_equal(neonflow_operation_status(op), NEONFLOW_OP_STATUS_UNKNOWN);
    assert_null(neonflow_operation_status_raw(op));
    assert_null(neonflow_operation_error(op));
    assert_int_equal(neonflow_operation_failures_count(op), -1);
    assert_null(neonflow_operation_retry_at(op));
    assert_null(neonflow_operation_created_at(op));
    assert_int_equal(neonflow_operation_created_at_ms(op), 0);
    assert_null(neonflow_operation_updated_at(op));
    assert_int_equal(neonflow_operation_total_duration_ms(op), -1);
    assert_int_equal(neonflow_operation_is_done(op), 0);
    assert_null(neonflow_operation_json(NULL));
    neonflow_operation_free(NULL);
    assert_int_equal(neonflow_operation_list_count(NULL), 0);
    assert_null(neonflow_operation_list_at(NULL, 0));
    assert_null(neonflow_operation_list_next_cursor(NULL));
    assert_null(neonflow_branch_list_next_cursor(NULL));
    neonflow_operation *op_copy = (neonflow_operation *)&op; /* must be reset */
    assert_int_equal(neonflow_operation_dup(&op_copy, NULL), NEONFLOW_EINVAL);
    assert_null(op_copy);
    assert_int_equal(neonflow_operation_dup(NULL, NULL), NEONFLOW_EINVAL);
    neonflow_branch *b_copy = NULL;
    assert_int_equal(neonflow_branch_dup(&b_copy, NULL), NEONFLOW_EINVAL);
    neonflow_snapshot *s_copy = NULL;
    assert_int_equal(neonflow_snapshot_dup(&s_copy, NULL), NEONFLOW_EINVAL);
    neonflow_endpoint *e_copy = NULL;
    assert_int_equal(neonflow_endpoint_dup(&e_copy, NULL), NEONFLOW_EINVAL);
    assert_null(b_copy);
    assert_null(s_copy);
    assert_null(e_copy);
    neonflow_operation_list_free(NULL);
    assert_int_equal(neonflow_await_result_polls(NULL), 0);
    assert_int_equal(neonflow_await_result_elapsed_ms(NULL), 0);
    assert_null(neonflow_await_result_operations(NULL));
    neonflow_await_result_free(NULL);

    const neonflow_endpoint *e = NULL;
    assert_null(neonflow_endpoint_id(e));
    assert_null(neonflow_endpoint_host(e));
    assert_null(neonflow_endpoint_branch_id(e));
    assert_null(neonflow_endpoint_project_id(e));
    assert_null(neonflow_endpoint_name(e));
    assert_int_equal(neonflow_endpoint_type(e), NEONFLOW_ENDPOINT_TYPE_UNKNOWN);
    assert_null(neonflow_endpoint_type_raw(e));
    assert_int_equal(neonflow_endpoint_current_state(e), NEONFLOW_ENDPOINT_STATE_UNKNOWN);
    assert_null(neonflow_endpoint_current_state_raw(e));
    assert_int_equal(neonflow_endpoint_pending_state(e), NEONFLOW_ENDPOINT_STATE_NONE);
    assert_null(neonflow_endpoint_pending_state_raw(e));
    assert_true(neonflow_endpoint_autoscaling_limit_min_cu(e) == -1.0);
    assert_true(neonflow_endpoint_autoscaling_limit_max_cu(e) == -1.0);
    assert_null(neonflow_endpoint_region_id(e));
    assert_null(neonflow_endpoint_json(e));
    assert_int_equal(neonflow_endpoint_is_disabled(e), 0);
    assert_int_equal(neonflow_endpoint_has_passwordless_access(e), 0);
    assert_null(neonflow_endpoint_last_active(e));
    assert_null(neonflow_endpoint_started_at(e));
    assert_null(neonflow_endpoint_suspended_at(e));
    assert_null(neonflow_endpoint_creation_source(e));
    assert_null(neonflow_endpoint_created_at(e));
    assert_null(neonflow_endpoint_updated_at(e));
    assert_int_equal(neonflow_endpoint_suspend_timeout_s(e), -1);
    assert_null(neonflow_endpoint_provisioner(e));
    assert_null(neonflow_endpoint_compute_release_version(e));
    neonflow_endpoint_free(NULL);
    assert_int_equal(neonflow_endpoint_list_count(NULL), 0);
    assert_null(neonflow_endpoint_list_at(NULL, 0));
    neonflow_endpoint_list_free(NULL);

    const neonflow_branch *b = NULL;
    assert_null(neonflow_branch_id(b));
    assert_null(neonflow_branch_project_id(b));
    assert_null(neonflow_branch_parent_id(b));
    assert_null(neonflow_branch_parent_lsn(b));
    assert_null(neonflow_branch_parent_timestamp(b));
    assert_null(neonflow_branch_name(b));
    assert_int_equal(neonflow_branch_current_state(b), NEONFLOW_BRANCH_STATE_UNKNOWN);
    assert_null(neonflow_branch_current_state_raw(b));
    assert_int_equal(neonflow_branch_pending_state(b), NEONFLOW_BRANCH_STATE_NONE);
    assert_null(neonflow_branch_pending_state_raw(b));
    assert_null(neonflow_branch_state_changed_at(b));
    assert_int_equal(neonflow_branch_logical_size_bytes(b), -1);
    assert_null(neonflow_branch_creation_source(b));
    assert_null(neonflow_branch_json(b));
    assert_int_equal(neonflow_branch_is_default(b), 0);
    assert_int_equal(neonflow_branch_has_default(b), 0);
    assert_int_equal(neonflow_branch_is_protected(b), 0);
    assert_int_equal(neonflow_branch_has_protected(b), 0);
    assert_int_equal(neonflow_branch_compute_time_s(b), -1);
    assert_int_equal(neonflow_branch_active_time_s(b), -1);
    assert_int_equal(neonflow_branch_written_data_bytes(b), -1);
    assert_int_equal(neonflow_branch_data_transfer_bytes(b), -1);
    assert_null(neonflow_branch_created_at(b));
    assert_int_equal(neonflow_branch_created_at_ms(b), 0);
    assert_null(neonflow_branch_updated_at(b));
    assert_int_equal(neonflow_branch_updated_at_ms(b), 0);
    assert_null(neonflow_branch_last_reset_at(b));
    assert_null(neonflow_branch_expires_at(b));
    assert_int_equal(neonflow_branch_ttl_interval_s(b), -1);
    assert_null(neonflow_branch_created_by_name(b));
    assert_null(neonflow_branch_created_by_image(b));
    assert_null(neonflow_branch_init_source(b));
    assert_int_equal(neonflow_branch_restore_status(b), NEONFLOW_RESTORE_STATUS_NONE);
    assert_null(neonflow_branch_restore_status_raw(b));
    assert_null(neonflow_branch_restored_from(b));
    assert_null(neonflow_branch_restored_as(b));
    assert_int_equal(neonflow_branch_restricted_action_count(b), 0);
    assert_null(neonflow_branch_restricted_action_name_at(b, 0));
    assert_null(neonflow_branch_restricted_action_reason_at(b, 0));
    assert_int_equal(neonflow_branch_is_action_restricted(b, "restore"), 0);
    neonflow_branch_free(NULL);
    assert_int_equal(neonflow_branch_list_count(NULL), 0);
    assert_null(neonflow_branch_list_at(NULL, 0));
    neonflow_branch_list_free(NULL);
    assert_null(neonflow_branch_result_branch(NULL));
    assert_null(neonflow_branch_result_endpoints(NULL));
    assert_null(neonflow_branch_result_operations(NULL));
    neonflow_branch_result_free(NULL);

    const neonflow_snapshot *s = NULL;
    assert_null(neonflow_snapshot_id(s));
    assert_null(neonflow_snapshot_name(s));
    assert_null(neonflow_snapshot_slug(s));
    assert_null(neonflow_snapshot_lsn(s));
    assert_null(neonflow_snapshot_timestamp(s));
    assert_int_equal(neonflow_snapshot_timestamp_ms(s), 0);
    assert_null(neonflow_snapshot_source_branch_id(s));
    assert_null(neonflow_snapshot_created_at(s));
    assert_int_equal(neonflow_snapshot_created_at_ms(s), 0);
    assert_null(neonflow_snapshot_expires_at(s));
    assert_int_equal(neonflow_snapshot_is_manual(s), 0);
    assert_int_equal(neonflow_snapshot_has_manual(s), 0);
    assert_null(neonflow_snapshot_json(s));
    assert_int_equal(neonflow_snapshot_full_size_bytes(s), -1);
    assert_int_equal(neonflow_snapshot_diff_size_bytes(s), -1);
    neonflow_snapshot_free(NULL);
    assert_int_equal(neonflow_snapshot_list_count(NULL), 0);
    assert_null(neonflow_snapshot_list_at(NULL, 0));
    neonflow_snapshot_list_free(NULL);

    assert_int_equal(neonflow_backup_schedule_count(NULL), 0);
    assert_null(neonflow_backup_schedule_at(NULL, 0));
    assert_null(neonflow_backup_schedule_item_frequency(NULL));
    assert_null(neonflow_backup_schedule_item_json(NULL));
    assert_int_equal(neonflow_backup_schedule_item_hour(NULL), -1);
    assert_int_equal(neonflow_backup_schedule_item_day(NULL), -1);
    assert_int_equal(neonflow_backup_schedule_item_month(NULL), -1);
    assert_int_equal(neonflow_backup_schedule_item_retention_s(NULL), -1);
    neonflow_backup_schedule_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_lsn),
        cmocka_unit_test(test_query_encoding),
        cmocka_unit_test(test_enum_lookup),
        cmocka_unit_test(test_bad_ids_rejected_before_request),
        cmocka_unit_test(test_options_setters),
        cmocka_unit_test(test_hook_destroy_once),
        cmocka_unit_test(test_getters_accept_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
