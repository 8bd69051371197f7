/* Preview names and the "last activity" the unused prune policy compares,
 * from parsed Neon objects (no server): what Neon's endpoint fields mean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/json-util.h"
#include "workflow/previews-private.h"
#include "workflow/workflow-private.h"

#define BRANCH "{\"branch\":{\"id\":\"br-a-1\",\"project_id\":\"p-1\",\"name\":\"nf/preview/pr-7\"," \
               "\"parent_id\":\"br-dev-1\",\"created_at\":\"2026-01-01T00:00:00Z\"}}"

static int64_t ms(const char *t)
{
    int64_t v = 0;
    assert_int_equal(neonflow__rfc3339_ms(t, &v), 0);
    return v;
}

static neonflow_preview *make(const char *endpoint_fields)
{
    json_t *broot = json_loads(BRANCH, 0, NULL);
    neonflow_branch *b = NULL;
    assert_int_equal(neonflow__parse_branch_response(broot, &b, NULL, NULL), NEONFLOW_OK);
    neonflow_endpoint *e = NULL;
    if (endpoint_fields) {
        char text[1024];
        snprintf(text, sizeof(text),
                 "{\"endpoint\":{\"id\":\"ep-a-1\",\"host\":\"ep-a-1.example\",\"branch_id\":\"br-a-1\","
                 "\"project_id\":\"p-1\",\"type\":\"read_write\"%s}}", endpoint_fields);
        json_t *eroot = json_loads(text, 0, NULL);
        assert_non_null(eroot);
        assert_int_equal(neonflow__parse_endpoint_response(eroot, &e, NULL, NULL), NEONFLOW_OK);
        json_decref(eroot);
    }
    neonflow_preview *p = neonflow__preview_new(b, e);
    assert_non_null(p);
    neonflow_branch_free(b);
    neonflow_endpoint_free(e);
    json_decref(broot);
    return p;
}

static void test_last_activity(void **state)
{
    (void)state;
    neonflow_preview *p = make(NULL); /* no compute: the branch's creation */
    assert_string_equal(neonflow_preview_label(p), "pr-7");
    assert_null(neonflow_preview_host(p));
    assert_int_equal(neonflow_preview_last_activity_ms(p), ms("2026-01-01T00:00:00Z"));
    neonflow_preview_free(p);
    p = make(",\"created_at\":\"2026-01-02T00:00:00Z\""); /* never used: the compute's creation */
    assert_string_equal(neonflow_preview_host(p), "ep-a-1.example");
    assert_int_equal(neonflow_preview_last_activity_ms(p), ms("2026-01-02T00:00:00Z"));
    neonflow_preview_free(p);
    p = make(",\"created_at\":\"2026-01-02T00:00:00Z\",\"last_active\":\"2026-01-05T00:00:00Z\","
             "\"started_at\":\"2026-01-04T00:00:00Z\"");
    assert_int_equal(neonflow_preview_last_activity_ms(p), ms("2026-01-05T00:00:00Z"));
    neonflow_preview_free(p);
    p = make(",\"created_at\":\"2026-01-02T00:00:00Z\",\"last_active\":\"2026-01-03T00:00:00Z\","
             "\"started_at\":\"2026-01-06T00:00:00Z\""); /* started since: in use then */
    assert_int_equal(neonflow_preview_last_activity_ms(p), ms("2026-01-06T00:00:00Z"));
    neonflow_preview_free(p);
}

static void test_names(void **state)
{
    (void)state;
    char label[NEONFLOW_PREVIEW_LABEL_MAX + 1];
    assert_true(neonflow__preview_name_parse("nf/preview/pr-1", label));
    assert_string_equal(label, "pr-1");
    assert_false(neonflow__preview_name_parse("nf/preview/", label));
    assert_false(neonflow__preview_name_parse("nf/preview/lease", label));
    assert_false(neonflow__preview_name_parse("nf/preview/pr-1/x", label));
    assert_false(neonflow__preview_name_parse("nf/preview/promote-preview/20260101T000000Z/abc", label));
    assert_false(neonflow__preview_name_parse("x-nf/preview/pr-1", label));
    assert_false(neonflow__preview_name_parse(NULL, label));
    /* workflow names never parse as previews, previews never as workflow resources */
    assert_false(neonflow__preview_name_parse("nf/production/candidate/20260101T000000Z/abc", label));
    assert_false(neonflow__name_parse("nf/preview/pr-1", NULL));
    assert_false(neonflow__lease_name_is("nf/preview/pr-1"));
    assert_true(neonflow__preview_label_of("nf/preview/a.b", label));
    assert_string_equal(label, "a.b");
    assert_true(neonflow__preview_label_of("a.b", label));
    assert_string_equal(label, "a.b");
    assert_false(neonflow__preview_label_of("nf/preview/A", label));
    assert_false(neonflow__preview_label_of("dev/x", label));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_last_activity),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
