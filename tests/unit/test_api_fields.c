/* lib/api objects against the fields Neon may drop or add: deprecated and
 * non-essential fields are optional, booleans are 0/1 with presence getters,
 * and the raw JSON accessors give back any field, also ones added later. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/api-private.h"
#include "core/alloc.h"
#include "neonflow/neonflow.h"

/* The spec's examples without any field Neon has deprecated (cpu_used_sec,
 * primary; pooler_enabled, pooler_mode, proxy_host). */
#define BRANCH_NO_DEPRECATED                                                                                  \
    "{\"id\":\"br-wispy-meadow-118737\",\"project_id\":\"spring-example-302709\","                          \
    "\"parent_id\":\"br-aged-salad-637688\",\"parent_lsn\":\"0/1DE2850\",\"name\":\"dev2\",\"protected\":false," \
    "\"current_state\":\"ready\",\"state_changed_at\":\"2022-11-30T20:09:48Z\",\"creation_source\":\"console\"," \
    "\"created_at\":\"2022-11-30T19:09:48Z\",\"updated_at\":\"2022-12-01T19:53:05Z\",\"default\":true,"      \
    "\"init_source\":\"parent-data\",\"data_transfer_bytes\":72911987,\"written_data_bytes\":542998300,"     \
    "\"compute_time_seconds\":823880990,\"active_time_seconds\":922200}"

#define EP_NO_DEPRECATED                                                                                      \
    "{\"host\":\"ep-silent-smoke-806639.us-east-2.aws.neon.tech\",\"id\":\"ep-silent-smoke-806639\","        \
    "\"name\":\"My cool compute\",\"project_id\":\"spring-example-302709\",\"branch_id\":\"br-wispy-meadow-118737\"," \
    "\"autoscaling_limit_min_cu\":1,\"autoscaling_limit_max_cu\":1,\"region_id\":\"aws-us-east-2\","        \
    "\"type\":\"read_write\",\"current_state\":\"init\",\"pending_state\":\"active\","                     \
    "\"settings\":{\"pg_settings\":{}},\"disabled\":false,\"passwordless_access\":true,"                    \
    "\"creation_source\":\"console\",\"created_at\":\"2022-12-03T15:37:07Z\","                              \
    "\"updated_at\":\"2022-12-03T15:37:07Z\",\"suspend_timeout_seconds\":0,\"provisioner\":\"k8s-neonvm\"}"

#define OP_JSON                                                                                              \
    "{\"id\":\"d8ac46eb-a757-42b1-9907-f78322ee394e\",\"project_id\":\"spring-example-302709\","          \
    "\"branch_id\":\"br-wispy-meadow-118737\",\"endpoint_id\":\"ep-silent-smoke-806639\","                 \
    "\"action\":\"start_compute\",\"status\":\"finished\",\"failures_count\":0,"                          \
    "\"created_at\":\"2022-11-15T20:02:00Z\",\"updated_at\":\"2022-11-15T20:02:02Z\",\"total_duration_ms\":200}"

#define SNAP_JSON                                                                                             \
    "{\"id\":\"snap-quiet-meadow-a5b6c7d8\",\"name\":\"prod_snap\",\"lsn\":\"0/1DE2850\","                    \
    "\"timestamp\":\"2025-08-05T22:00:00Z\",\"source_branch_id\":\"br-wispy-meadow-118737\","                 \
    "\"created_at\":\"2025-08-05T22:00:01.123456Z\",\"expires_at\":\"2025-09-04T22:00:00+02:00\","           \
    "\"manual\":true,\"full_size\":104857600,\"diff_size\":4096,\"slug\":\"prod-snap\"}"

/* Fields a later Neon might add: nested, with reals and non-ASCII text. */
#define FUTURE ",\"future\":{\"ratio\":0.1,\"cu\":[0.25,2.5,1e-7],\"label\":\"caf\xc3\xa9\",\"on\":true,\"n\":null}"

static json_t *load(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        fail_msg("bad test JSON: %s", je.text);
    return j;
}

static void must_parse_ok(int rc, neonflow_error **e)
{
    if (rc != NEONFLOW_OK)
        fail_msg("parse failed: %s", *e ? neonflow_error_message(*e) : neonflow_error_name(rc));
}

/* The "judged by": both parse, alone, in lists and in a create result. */
static void test_without_deprecated_fields(void **state)
{
    (void)state;
    neonflow_error *e = NULL;
    json_t *root = load("{\"branch\":" BRANCH_NO_DEPRECATED "}");
    neonflow_branch *b = NULL;
    must_parse_ok(neonflow__parse_branch_response(root, &b, NULL, &e), &e);
    json_decref(root);
    assert_string_equal(neonflow_branch_id(b), "br-wispy-meadow-118737");
    assert_int_equal(neonflow_branch_is_default(b), 1);
    assert_int_equal(neonflow_branch_compute_time_s(b), 823880990);
    neonflow_branch_free(b);

    root = load("{\"endpoint\":" EP_NO_DEPRECATED "}");
    neonflow_endpoint *ep = NULL;
    must_parse_ok(neonflow__parse_endpoint_response(root, &ep, NULL, &e), &e);
    json_decref(root);
    assert_string_equal(neonflow_endpoint_host(ep), "ep-silent-smoke-806639.us-east-2.aws.neon.tech");
    assert_int_equal(neonflow_endpoint_type(ep), NEONFLOW_ENDPOINT_TYPE_READ_WRITE);
    assert_int_equal(neonflow_endpoint_has_passwordless_access(ep), 1);
    neonflow_endpoint_free(ep);

    root = load("{\"endpoints\":[" EP_NO_DEPRECATED "," EP_NO_DEPRECATED "]}");
    neonflow_endpoint_list *el = NULL;
    must_parse_ok(neonflow__parse_endpoints_response(root, &el, &e), &e);
    json_decref(root);
    assert_int_equal(neonflow_endpoint_list_count(el), 2);
    neonflow_endpoint_list_free(el);

    neonflow_branch_list *bl = NULL;
    assert_int_equal(neonflow__branch_list_new(&bl, NULL), NEONFLOW_OK);
    root = load("{\"branches\":[" BRANCH_NO_DEPRECATED "]}");
    const char *next;
    size_t items;
    must_parse_ok(neonflow__branch_list_append_page(bl, root, &next, &items, &e), &e);
    json_decref(root);
    assert_int_equal(neonflow_branch_list_count(bl), 1);
    neonflow_branch_list_free(bl);

    root = load("{\"branch\":" BRANCH_NO_DEPRECATED ",\"endpoints\":[" EP_NO_DEPRECATED "],\"operations\":[" OP_JSON
                "]}");
    neonflow_branch_result *r = NULL;
    must_parse_ok(neonflow__parse_branch_result_response(root, &r, &e), &e);
    json_decref(root);
    assert_int_equal(neonflow_endpoint_list_count(neonflow_branch_result_endpoints(r)), 1);
    neonflow_branch_result_free(r);
}

/* Every field but the essential ones may be missing, each on its own. */
static void test_each_optional_field_may_be_absent(void **state)
{
    (void)state;
    static const char *const br_opt[] = {"parent_id", "parent_lsn", "protected", "current_state",
                                         "state_changed_at", "creation_source", "created_at", "updated_at",
                                         "default", "init_source", "data_transfer_bytes", "written_data_bytes",
                                         "compute_time_seconds", "active_time_seconds", "restricted_actions"};
    for (size_t i = 0; i < sizeof(br_opt) / sizeof(br_opt[0]); i++) {
        json_t *root = load("{\"branch\":" BRANCH_NO_DEPRECATED "}");
        json_t *br = json_object_get(root, "branch");
        if (strcmp(br_opt[i], "restricted_actions") == 0) /* an entry missing its reason */
            json_object_set_new(br, "restricted_actions", json_pack("[{s:s}]", "name", "restore"));
        else
            json_object_del(br, br_opt[i]);
        neonflow_branch *b = NULL;
        neonflow_error *e = NULL;
        must_parse_ok(neonflow__parse_branch_response(root, &b, NULL, &e), &e);
        json_decref(root);
        char key[64];
        snprintf(key, sizeof(key), "\"%s\":", br_opt[i]);
        if (strcmp(br_opt[i], "restricted_actions") != 0)
            assert_null(strstr(neonflow_branch_json(b), key));
        neonflow_branch_free(b);
    }
    static const char *const ep_opt[] = {"name", "autoscaling_limit_min_cu", "autoscaling_limit_max_cu",
                                         "region_id", "current_state", "pending_state", "settings", "disabled",
                                         "passwordless_access", "creation_source", "created_at", "updated_at",
                                         "suspend_timeout_seconds", "provisioner"};
    for (size_t i = 0; i < sizeof(ep_opt) / sizeof(ep_opt[0]); i++) {
        json_t *root = load("{\"endpoint\":" EP_NO_DEPRECATED "}");
        json_object_del(json_object_get(root, "endpoint"), ep_opt[i]);
        neonflow_endpoint *ep = NULL;
        neonflow_error *e = NULL;
        must_parse_ok(neonflow__parse_endpoint_response(root, &ep, NULL, &e), &e);
        json_decref(root);
        neonflow_endpoint_free(ep);
    }
    static const char *const op_opt[] = {"branch_id", "endpoint_id", "failures_count", "created_at", "updated_at",
                                         "total_duration_ms"};
    for (size_t i = 0; i < sizeof(op_opt) / sizeof(op_opt[0]); i++) {
        json_t *root = load("{\"operation\":" OP_JSON "}");
        json_object_del(json_object_get(root, "operation"), op_opt[i]);
        neonflow_operation *op = NULL;
        neonflow_error *e = NULL;
        must_parse_ok(neonflow__parse_operation_response(root, &op, &e), &e);
        json_decref(root);
        neonflow_operation_free(op);
    }

    /* and what the getters say then */
    json_t *root = load("{\"endpoint\":{\"id\":\"ep-1\",\"host\":\"h\",\"branch_id\":\"br-1\",\"project_id\":\"p\","
                        "\"type\":\"read_only\"},\"operations\":[{\"id\":\"o\",\"project_id\":\"p\","
                        "\"action\":\"x\",\"status\":\"running\"}]}");
    neonflow_endpoint *ep = NULL;
    neonflow_operation_list *ops = NULL;
    must_parse_ok(neonflow__parse_endpoint_response(root, &ep, &ops, NULL), NULL);
    json_decref(root);
    assert_int_equal(neonflow_endpoint_current_state(ep), NEONFLOW_ENDPOINT_STATE_UNKNOWN);
    assert_null(neonflow_endpoint_current_state_raw(ep));
    assert_true(neonflow_endpoint_autoscaling_limit_min_cu(ep) == -1.0);
    assert_int_equal(neonflow_endpoint_suspend_timeout_s(ep), -1);
    assert_null(neonflow_endpoint_region_id(ep));
    assert_null(neonflow_endpoint_provisioner(ep));
    assert_int_equal(neonflow_endpoint_is_disabled(ep), 0);
    assert_int_equal(neonflow_endpoint_has_passwordless_access(ep), 0);
    const neonflow_operation *op = neonflow_operation_list_at(ops, 0);
    assert_int_equal(neonflow_operation_failures_count(op), -1);
    assert_int_equal(neonflow_operation_total_duration_ms(op), -1);
    assert_null(neonflow_operation_created_at(op));
    assert_int_equal(neonflow_operation_created_at_ms(op), 0);
    neonflow_operation_list_free(ops);
    neonflow_endpoint_free(ep);
}

static neonflow_branch *branch_from(const char *members)
{
    char text[512];
    snprintf(text, sizeof(text), "{\"branch\":{\"id\":\"br-1\",\"project_id\":\"p\",\"name\":\"n\"%s}}", members);
    json_t *root = load(text);
    neonflow_branch *b = NULL;
    must_parse_ok(neonflow__parse_branch_response(root, &b, NULL, NULL), NULL);
    json_decref(root);
    return b;
}

/* A missing boolean is 0, never -1 (which `if (x)` would take for true). */
static void test_booleans_are_zero_or_one(void **state)
{
    (void)state;
    static const struct {
        const char *members;
        int is_default, has_default, is_protected, has_protected;
    } cases[] = {
        {"", 0, 0, 0, 0},
        {",\"primary\":true", 1, 1, 0, 0},
        {",\"default\":false,\"primary\":true", 0, 1, 0, 0},
        {",\"default\":true,\"protected\":true", 1, 1, 1, 1},
        {",\"default\":null,\"protected\":false", 0, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        neonflow_branch *b = branch_from(cases[i].members);
        assert_int_equal(neonflow_branch_is_default(b), cases[i].is_default);
        assert_int_equal(neonflow_branch_has_default(b), cases[i].has_default);
        assert_int_equal(neonflow_branch_is_protected(b), cases[i].is_protected);
        assert_int_equal(neonflow_branch_has_protected(b), cases[i].has_protected);
        neonflow_branch_free(b);
    }
    json_t *root = load("{\"snapshots\":[{\"id\":\"s1\",\"name\":\"a\",\"created_at\":\"2025-01-01T00:00:00Z\"},"
                        "{\"id\":\"s2\",\"name\":\"b\",\"created_at\":\"2025-01-01T00:00:00Z\",\"manual\":false},"
                        "{\"id\":\"s3\",\"name\":\"c\",\"created_at\":\"2025-01-01T00:00:00Z\",\"manual\":true}]}");
    neonflow_snapshot_list *sl = NULL;
    must_parse_ok(neonflow__parse_snapshots_response(root, &sl, NULL), NULL);
    json_decref(root);
    static const int manual[] = {0, 0, 1}, has[] = {0, 1, 1};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(neonflow_snapshot_is_manual(neonflow_snapshot_list_at(sl, i)), manual[i]);
        assert_int_equal(neonflow_snapshot_has_manual(neonflow_snapshot_list_at(sl, i)), has[i]);
    }
    neonflow_snapshot_list_free(sl);
    assert_int_equal(neonflow_branch_has_default(NULL), 0);
    assert_int_equal(neonflow_branch_has_protected(NULL), 0);
    assert_int_equal(neonflow_snapshot_has_manual(NULL), 0);
}

/* The raw text is the object as sent (compact), also for fields added later. */
static void test_raw_json_round_trip(void **state)
{
    (void)state;
    static const char br_text[] = "{\"id\":\"br-1\",\"project_id\":\"p\",\"name\":\"n\"" FUTURE "}";
    static const char ep_text[] = "{\"id\":\"ep-1\",\"host\":\"h\",\"branch_id\":\"br-1\",\"project_id\":\"p\","
                                  "\"type\":\"read_write\",\"settings\":{\"pg_settings\":{\"work_mem\":\"4MB\"}}"
                                  FUTURE "}";
    static const char op_text[] = "{\"id\":\"o-1\",\"project_id\":\"p\",\"action\":\"a\",\"status\":\"running\""
                                  FUTURE "}";
    static const char sn_text[] = "{\"id\":\"s-1\",\"name\":\"n\",\"created_at\":\"2025-01-01T00:00:00Z\"" FUTURE "}";
    static const char it_text[] = "{\"frequency\":\"daily\",\"hour\":3" FUTURE "}";
    char doc[2048];
    snprintf(doc, sizeof(doc), "{\"branch\":%s,\"endpoints\":[%s],\"operations\":[%s]}", br_text, ep_text, op_text);
    json_t *root = load(doc);
    neonflow_branch_result *r = NULL;
    must_parse_ok(neonflow__parse_branch_result_response(root, &r, NULL), NULL);
    json_decref(root);
    const neonflow_branch *b = neonflow_branch_result_branch(r);
    const char *t = neonflow_branch_json(b);
    assert_string_equal(t, br_text);
    assert_ptr_equal(neonflow_branch_json(b), t); /* made once */
    assert_string_equal(neonflow_endpoint_json(neonflow_endpoint_list_at(neonflow_branch_result_endpoints(r), 0)),
                        ep_text);
    assert_string_equal(neonflow_operation_json(neonflow_operation_list_at(neonflow_branch_result_operations(r), 0)),
                        op_text);
    neonflow_branch_result_free(r);

    snprintf(doc, sizeof(doc), "{\"snapshots\":[%s]}", sn_text);
    root = load(doc);
    neonflow_snapshot_list *sl = NULL;
    must_parse_ok(neonflow__parse_snapshots_response(root, &sl, NULL), NULL);
    json_decref(root);
    assert_string_equal(neonflow_snapshot_json(neonflow_snapshot_list_at(sl, 0)), sn_text);
    neonflow_snapshot_list_free(sl);

    snprintf(doc, sizeof(doc), "{\"schedule\":[%s]}", it_text);
    root = load(doc);
    neonflow_backup_schedule *bs = NULL;
    must_parse_ok(neonflow__parse_schedule_response(root, &bs, NULL), NULL);
    json_decref(root);
    assert_string_equal(neonflow_backup_schedule_item_json(neonflow_backup_schedule_at(bs, 0)), it_text);
    assert_int_equal(neonflow_backup_schedule_add(bs, "weekly", -1, 1, -1, -1), NEONFLOW_OK);
    assert_null(neonflow_backup_schedule_item_json(neonflow_backup_schedule_at(bs, 1))); /* made by hand */
    neonflow_backup_schedule_free(bs);

    /* a field a later version adds is readable without a new export */
    neonflow_branch *one = branch_from(",\"archived_reason\":\"idle\"");
    json_t *back = load(neonflow_branch_json(one));
    assert_string_equal(json_string_value(json_object_get(back, "archived_reason")), "idle");
    json_decref(back);
    neonflow_branch_free(one);
}

/* Copies never share the cached text: freeing one leaves the other intact. */
static void test_raw_json_copies(void **state)
{
    (void)state;
    json_t *root = load("{\"operation\":" OP_JSON "}");
    neonflow_operation *src = NULL;
    neonflow_operation_list *dst = NULL;
    must_parse_ok(neonflow__parse_operation_response(root, &src, NULL), NULL);
    json_decref(root);
    const char *t = neonflow_operation_json(src);
    assert_non_null(t);
    assert_int_equal(neonflow__operation_list_new(&dst, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow__operation_list_append(dst, src), NEONFLOW_OK); /* holds src's document */
    neonflow_operation_free(src);
    assert_string_equal(neonflow_operation_json(neonflow_operation_list_at(dst, 0)), OP_JSON);
    neonflow_operation_list_free(dst);

    neonflow_branch_list *bl = NULL;
    assert_int_equal(neonflow__branch_list_new(&bl, NULL), NEONFLOW_OK);
    root = load("{\"branches\":[" BRANCH_NO_DEPRECATED "]}");
    const char *next;
    size_t items;
    must_parse_ok(neonflow__branch_list_append_page(bl, root, &next, &items, NULL), NULL);
    const neonflow_branch *in_list = neonflow_branch_list_at(bl, 0);
    assert_non_null(neonflow_branch_json(in_list));
    neonflow_branch *copy = NULL;
    assert_int_equal(neonflow__branch_dup(in_list, root, &copy), NEONFLOW_OK);
    json_decref(root);
    neonflow_branch_list_free(bl);
    assert_string_equal(neonflow_branch_json(copy), BRANCH_NO_DEPRECATED);
    neonflow_branch_free(copy);
}

/* Many threads asking for the same texts at once all get the one kept copy. */
#define NTHREADS 4
#define NITEMS 64
struct race {
    const neonflow_branch_list *list;
    const char *seen[NITEMS];
};

static void *race_main(void *arg)
{
    struct race *r = arg;
    for (size_t i = 0; i < NITEMS; i++)
        r->seen[i] = neonflow_branch_json(neonflow_branch_list_at(r->list, i));
    return NULL;
}

static void test_raw_json_threads(void **state)
{
    (void)state;
    json_t *arr = json_array();
    for (int i = 0; i < NITEMS; i++)
        json_array_append_new(arr, load(BRANCH_NO_DEPRECATED));
    json_t *root = json_pack("{s:o}", "branches", arr);
    neonflow_branch_list *bl = NULL;
    assert_int_equal(neonflow__branch_list_new(&bl, NULL), NEONFLOW_OK);
    const char *next;
    size_t items;
    must_parse_ok(neonflow__branch_list_append_page(bl, root, &next, &items, NULL), NULL);
    json_decref(root);
    struct race races[NTHREADS];
    pthread_t th[NTHREADS];
    for (int k = 0; k < NTHREADS; k++) {
        races[k].list = bl;
        assert_int_equal(pthread_create(&th[k], NULL, race_main, &races[k]), 0);
    }
    for (int k = 0; k < NTHREADS; k++)
        pthread_join(th[k], NULL);
    for (size_t i = 0; i < NITEMS; i++) {
        assert_string_equal(races[0].seen[i], BRANCH_NO_DEPRECATED);
        for (int k = 1; k < NTHREADS; k++)
            assert_ptr_equal(races[k].seen[i], races[0].seen[i]);
    }
    neonflow_branch_list_free(bl);
}

/* Out of memory while making the text: NULL, never a shortened text; it can
 * be asked for again. */
static void test_raw_json_out_of_memory(void **state)
{
    (void)state;
    neonflow__alloc_install();
    static const char text[] = "{\"id\":\"br-1\",\"project_id\":\"p\",\"name\":\"n\"" FUTURE "}";
    long nulls = 0;
    for (long k = 1; k < 64; k++) {
        json_t *root = load("{\"branch\":{\"id\":\"br-1\",\"project_id\":\"p\",\"name\":\"n\"" FUTURE "}}");
        neonflow_branch *b = NULL;
        must_parse_ok(neonflow__parse_branch_response(root, &b, NULL, NULL), NULL);
        json_decref(root);
        neonflow__alloc_fail_nth(k);
        const char *t = neonflow_branch_json(b);
        neonflow__alloc_fail_nth(-1);
        if (t)
            assert_string_equal(t, text);
        else
            nulls++;
        assert_string_equal(neonflow_branch_json(b), text);
        neonflow_branch_free(b);
    }
    assert_true(nulls > 0); /* the sweep did reach the dump's allocations */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_deprecated_fields),
        cmocka_unit_test(test_each_optional_field_may_be_absent),
        cmocka_unit_test(test_booleans_are_zero_or_one),
        cmocka_unit_test(test_raw_json_round_trip),
        cmocka_unit_test(test_raw_json_copies),
        cmocka_unit_test(test_raw_json_threads),
        cmocka_unit_test(test_raw_json_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
