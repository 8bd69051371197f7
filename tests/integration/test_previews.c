/* Preview environments against the in-process emulator (real HTTP):
 * create (idempotent, conflicting parent, repaired after an interruption or
 * lost answers), list (bounded requests in a project with thousands of
 * other branches), delete (idempotent), prune policies (expired, unused,
 * keep-N, dry run; never anything but previews) and bad input. */
#include "test_workflow_common.h"

#include <unistd.h>

static int64_t count_requests(wf_fixture *f, const char *method, const char *path)
{
    return emu_requests(f->s, method, path);
}

static neonflow_preview *create(wf_fixture *f, const char *label, const char *parent, int64_t ttl_s, int *rc_out)
{
    neonflow_preview_create_options *o = NULL;
    neonflow_preview *p = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_preview_create_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_create_options_set_label(o, label), NEONFLOW_OK);
    if (parent)
        assert_int_equal(neonflow_preview_create_options_set_parent(o, parent), NEONFLOW_OK);
    if (ttl_s)
        assert_int_equal(neonflow_preview_create_options_set_ttl_s(o, ttl_s), NEONFLOW_OK);
    int rc = neonflow_preview_create(&p, f->c, PROJECT, o, NULL, &err);
    if (rc_out)
        *rc_out = rc;
    else if (rc != NEONFLOW_OK)
        fail_msg("create %s: %s", label, neonflow_error_message(err));
    if (rc != NEONFLOW_OK)
        assert_null(p);
    neonflow_error_free(err);
    neonflow_preview_create_options_free(o);
    return p;
}

static int endpoints_of(wf_fixture *f, const char *branch_id)
{
    json_t *p = project_state(f->s);
    size_t i;
    json_t *x;
    int n = 0;
    json_array_foreach(json_object_get(p, "endpoints"), i, x) {
        n += strcmp(json_string_value(json_object_get(x, "branch_id")), branch_id) == 0;
    }
    json_decref(p);
    return n;
}

static void test_create_is_idempotent(void **state)
{
    wf_fixture *f = *state;
    int64_t before = wall_now_ms();
    neonflow_preview *p = create(f, "pr-1", NULL, 3600, NULL);
    assert_string_equal(neonflow_preview_label(p), "pr-1");
    assert_string_equal(neonflow_preview_name(p), "nf/preview/pr-1");
    assert_string_equal(neonflow_preview_parent_id(p), f->dev_id); /* default parent: dev */
    assert_non_null(neonflow_preview_endpoint_id(p));
    assert_non_null(neonflow_preview_host(p));
    assert_null(neonflow_preview_connection_uri(p)); /* not asked for */
    assert_null(neonflow_preview_prune_reason(p));
    int64_t exp = neonflow_preview_expires_at_ms(p);
    assert_true(exp >= before + 3600 * 1000 - 1000 && exp <= wall_now_ms() + 3600 * 1000 + 1000);
    char id[64];
    branch_id_by_name(f->s, "nf/preview/pr-1", id, sizeof(id));
    assert_string_equal(id, neonflow_preview_branch_id(p));
    assert_int_equal(endpoints_of(f, id), 1);

    int branches = emu_count_branches(f->s, PROJECT);
    emu_counters_reset(f->s);
    neonflow_preview *again = create(f, "pr-1", "dev", 60, NULL);
    assert_string_equal(neonflow_preview_branch_id(again), neonflow_preview_branch_id(p));
    assert_string_equal(neonflow_preview_endpoint_id(again), neonflow_preview_endpoint_id(p));
    assert_string_equal(neonflow_preview_expires_at(again), neonflow_preview_expires_at(p)); /* left as it was */
    assert_int_equal(count_requests(f, "POST", NULL), 0);
    assert_int_equal(emu_count_branches(f->s, PROJECT), branches);
    assert_int_equal(endpoints_of(f, id), 1);
    neonflow_preview_free(again);
    neonflow_preview_free(p);
}

/* Asked for, the connection URI of the preview's own endpoint comes back. */
static void test_create_with_connection_uri(void **state)
{
    wf_fixture *f = *state;
    neonflow_preview_create_options *o = NULL;
    neonflow_endpoint_create_options *eo = NULL;
    neonflow_preview *p = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_endpoint_create_options_new(&eo), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_autoscaling_limit_max_cu(eo, 2), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_create_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_create_options_set_label(o, "pr-uri"), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_create_options_set_endpoint_options(o, eo), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_create_options_set_connection_uri(o, 1), NEONFLOW_OK);
    int rc = neonflow_preview_create(&p, f->c, PROJECT, o, NULL, &err);
    if (rc != NEONFLOW_OK)
        fail_msg("create: %s", neonflow_error_message(err));
    const char *uri = neonflow_preview_connection_uri(p);
    assert_non_null(uri);
    assert_true(strncmp(uri, "postgres", 8) == 0);
    assert_non_null(strstr(uri, neonflow_preview_host(p)));
    assert_true(neonflow_endpoint_autoscaling_limit_max_cu(neonflow_preview_endpoint(p)) == 2.0);
    neonflow_preview_free(p);
    neonflow_preview_create_options_free(o);
    neonflow_endpoint_create_options_free(eo);
}

static void test_create_conflicting_parent(void **state)
{
    wf_fixture *f = *state;
    neonflow_preview *p = create(f, "pr-2", f->dev_id, 0, NULL); /* parent by ID */
    assert_null(neonflow_preview_expires_at(p));
    assert_int_equal(neonflow_preview_expires_at_ms(p), 0);
    int rc;
    assert_null(create(f, "pr-2", "production", 0, &rc));
    assert_int_equal(rc, NEONFLOW_ECONFLICT);
    assert_null(create(f, "pr-3", "no-such-branch", 0, &rc));
    assert_int_equal(rc, NEONFLOW_EBRANCH_MISSING);
    char id[64];
    branch_id_by_name(f->s, "nf/preview/pr-3", id, sizeof(id));
    assert_string_equal(id, ""); /* nothing made */
    neonflow_preview_free(p);
}

/* A create that died between the branch and the endpoint leaves a branch
 * without compute: the next create adds the endpoint to that same branch. */
static void test_create_repairs_missing_endpoint(void **state)
{
    wf_fixture *f = *state;
    char bid[64];
    assert_int_equal(emu_add_branch(f->s, PROJECT, "nf/preview/pr-4", f->dev_id, 0, bid, NULL), 0);
    assert_int_equal(endpoints_of(f, bid), 0);
    neonflow_preview_list *l = NULL;
    assert_int_equal(neonflow_previews_list(&l, f->c, PROJECT, NULL, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_list_count(l), 1);
    assert_null(neonflow_preview_host(neonflow_preview_list_at(l, 0))); /* listed without compute */
    neonflow_preview_list_free(l);
    emu_counters_reset(f->s);
    neonflow_preview *p = create(f, "pr-4", NULL, 0, NULL);
    assert_string_equal(neonflow_preview_branch_id(p), bid);
    assert_non_null(neonflow_preview_host(p));
    assert_int_equal(endpoints_of(f, bid), 1);
    assert_int_equal(count_requests(f, "POST", "/projects/*/branches"), 0);
    assert_int_equal(count_requests(f, "POST", "/projects/*/endpoints"), 1);
    neonflow_preview_free(p);
}

/* Lost answers of both creates: read back, never made twice. */
static void test_create_after_lost_answers(void **state)
{
    wf_fixture *f = *state;
    emu_fault fa;
    emu_fault_init(&fa);
    fa.method = "POST";
    fa.path = "/projects/*/branches";
    fa.kind = EMU_FAULT_DROP_AFTER;
    assert_int_equal(emu_fault_add(f->s, &fa), 0);
    fa.path = "/projects/*/endpoints";
    assert_int_equal(emu_fault_add(f->s, &fa), 0);
    int branches = emu_count_branches(f->s, PROJECT);
    neonflow_preview *p = create(f, "pr-5", NULL, 0, NULL);
    assert_int_equal(emu_count_branches(f->s, PROJECT), branches + 1);
    assert_int_equal(endpoints_of(f, neonflow_preview_branch_id(p)), 1);
    assert_non_null(neonflow_preview_host(p));
    neonflow_preview_free(p);
}

/* Listing costs one request per 100 previews plus one for the endpoints,
 * however many other branches the project has. */
static void test_list_is_bounded(void **state)
{
    wf_fixture *f = *state;
    char id[64];
    for (int i = 0; i < 2000; i++) {
        char name[64];
        snprintf(name, sizeof(name), "feature-%04d", i);
        assert_int_equal(emu_add_branch(f->s, PROJECT, name, f->dev_id, i % 50 == 0, id, NULL), 0);
    }
    /* look-alikes that are no previews */
    assert_int_equal(emu_add_branch(f->s, PROJECT, "x-nf/preview/pr-9", f->dev_id, 0, id, NULL), 0);
    assert_int_equal(emu_add_branch(f->s, PROJECT, "nf/preview/Upper", f->dev_id, 0, id, NULL), 0);
    assert_int_equal(emu_add_branch(f->s, PROJECT, "nf/preview/lease", f->dev_id, 0, id, NULL), 0);
    assert_int_equal(emu_add_branch(f->s, PROJECT, "nf/preview/a/b", f->dev_id, 0, id, NULL), 0);
    neonflow_preview *p = create(f, "pr-10", NULL, 7200, NULL);
    neonflow_preview_free(p);
    neonflow_preview_list *l = NULL;
    emu_counters_reset(f->s);
    assert_int_equal(neonflow_previews_list(&l, f->c, PROJECT, NULL, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(count_requests(f, NULL, NULL), 2);
    assert_int_equal(count_requests(f, "GET", "/projects/*/branches"), 1);
    assert_int_equal(count_requests(f, "GET", "/projects/*/endpoints"), 1);
    assert_int_equal(neonflow_preview_list_count(l), 1);
    const neonflow_preview *x = neonflow_preview_list_at(l, 0);
    assert_string_equal(neonflow_preview_label(x), "pr-10");
    assert_non_null(neonflow_preview_expires_at(x)); /* expiry shown */
    assert_true(neonflow_preview_expires_at_ms(x) > wall_now_ms() + 7000 * 1000);
    assert_non_null(neonflow_preview_host(x));
    neonflow_preview_list_free(l);

    /* 150 previews: two pages of branches, still one endpoint list */
    for (int i = 0; i < 150; i++) {
        char name[64];
        snprintf(name, sizeof(name), "nf/preview/bulk-%03d", i);
        assert_int_equal(emu_add_branch(f->s, PROJECT, name, f->dev_id, 0, id, NULL), 0);
    }
    emu_counters_reset(f->s);
    assert_int_equal(neonflow_previews_list(&l, f->c, PROJECT, NULL, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_list_count(l), 151);
    assert_int_equal(count_requests(f, "GET", "/projects/*/branches"), 2);
    assert_int_equal(count_requests(f, NULL, NULL), 3);
    neonflow_preview_list_free(l);

    /* a label prefix narrows the search */
    neonflow_previews_list_options *lo = NULL;
    assert_int_equal(neonflow_previews_list_options_new(&lo), NEONFLOW_OK);
    assert_int_equal(neonflow_previews_list_options_set_label_prefix(lo, "pr-"), NEONFLOW_OK);
    emu_counters_reset(f->s);
    assert_int_equal(neonflow_previews_list(&l, f->c, PROJECT, lo, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_list_count(l), 1);
    assert_int_equal(count_requests(f, NULL, NULL), 2);
    neonflow_preview_list_free(l);
    assert_int_equal(neonflow_previews_list_options_set_label_prefix(lo, "nope-"), NEONFLOW_OK);
    emu_counters_reset(f->s);
    assert_int_equal(neonflow_previews_list(&l, f->c, PROJECT, lo, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_list_count(l), 0);
    assert_int_equal(count_requests(f, NULL, NULL), 1); /* no previews: no endpoint list */
    neonflow_preview_list_free(l);
    neonflow_previews_list_options_free(lo);
}

static void test_delete_is_idempotent(void **state)
{
    wf_fixture *f = *state;
    neonflow_preview *p = create(f, "pr-6", NULL, 0, NULL);
    char bid[64];
    snprintf(bid, sizeof(bid), "%s", neonflow_preview_branch_id(p));
    neonflow_preview_free(p);
    assert_int_equal(neonflow_preview_delete(f->c, PROJECT, "pr-6", NULL, NULL, NULL), NEONFLOW_OK);
    char id[64];
    branch_id_by_name(f->s, "nf/preview/pr-6", id, sizeof(id));
    assert_string_equal(id, "");
    assert_int_equal(endpoints_of(f, bid), 0);
    /* again: already gone is fine, unless asked otherwise */
    assert_int_equal(neonflow_preview_delete(f->c, PROJECT, "nf/preview/pr-6", NULL, NULL, NULL), NEONFLOW_OK);
    neonflow_preview_delete_options *d = NULL;
    assert_int_equal(neonflow_preview_delete_options_new(&d), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_delete_options_set_missing_ok(d, 0), NEONFLOW_OK);
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_preview_delete(f->c, PROJECT, "pr-6", d, NULL, &err), NEONFLOW_ENOTFOUND);
    neonflow_error_free(err);
    neonflow_preview_delete_options_free(d);
    /* "dev" as a label names nf/preview/dev, never the branch dev */
    int branches = emu_count_branches(f->s, PROJECT);
    assert_int_equal(neonflow_preview_delete(f->c, PROJECT, "dev", NULL, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(emu_count_branches(f->s, PROJECT), branches);
}

/* ---- prune: previews with chosen times, loaded as a fixture ------------------------ */
typedef struct seeded {
    const char *label;
    int64_t age_s;      /* created (branch and endpoint) this long ago */
    int64_t expires_s;  /* expires_at relative to now; 0: none */
} seeded;

static char fixture_file[64];

/* Restarts f's emulator from its own state with previews added as given. */
static void reseed(wf_fixture *f, const seeded *v, size_t n)
{
    json_t *st = emu_state(f->s);
    json_t *projects = json_object_get(st, "projects"), *p = NULL;
    size_t i;
    json_t *x;
    json_array_foreach(projects, i, x) {
        if (strcmp(json_string_value(json_object_get(x, "id")), PROJECT) == 0)
            p = x;
    }
    assert_non_null(p);
    int64_t now = wall_now_ms();
    for (size_t k = 0; k < n; k++) {
        char name[128], bid[64], eid[64], when[64], exp[64];
        snprintf(name, sizeof(name), "nf/preview/%s", v[k].label);
        snprintf(bid, sizeof(bid), "br-seed-%zu", k);
        snprintf(eid, sizeof(eid), "ep-seed-%zu", k);
        neonflow__rfc3339_format(now - v[k].age_s * 1000, when, sizeof(when));
        json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", bid, "name", name, "parent_id", f->dev_id,
                              "created_at", when, "updated_at", when, "content", "seed");
        if (v[k].expires_s) {
            neonflow__rfc3339_format(now + v[k].expires_s * 1000, exp, sizeof(exp));
            json_object_set_new(b, "expires_at", json_string(exp));
        }
        json_array_append_new(json_object_get(p, "branches"), b);
        json_array_append_new(json_object_get(p, "endpoints"),
                              json_pack("{s:s, s:s, s:s, s:s}", "id", eid, "branch_id", bid, "type", "read_write",
                                        "created_at", when));
    }
    snprintf(fixture_file, sizeof(fixture_file), "/tmp/nf-previews-XXXXXX");
    int fd = mkstemp(fixture_file);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(json_dump_file(st, fixture_file, 0), 0);
    json_decref(st);
    neonflow_client_free(f->c);
    emu_stop(f->s);
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.port = 0;
    cfg.rate_per_minute = 0;
    cfg.rate_per_second_route = 0;
    cfg.fixture_path = fixture_file;
    assert_int_equal(emu_start(&f->s, &cfg), 0);
    unlink(fixture_file);
    assert_int_equal(emu_set_branch_expiry(f->s, PROJECT, 0), 0); /* keep expired ones listed, as Neon may */
    f->c = make_client(f->s);
}

static const seeded standard[] = {
    {"old-expired", 7200, -3600},
    {"old", 7200, 0},
    {"mid", 3600, 86400},
    {"new", 60, 0},
};

static neonflow_preview_list *prune(wf_fixture *f, int expired, int64_t unused_s, int32_t keep, int dry, int opts_null)
{
    neonflow_previews_prune_options *o = NULL;
    if (!opts_null) {
        assert_int_equal(neonflow_previews_prune_options_new(&o), NEONFLOW_OK);
        assert_int_equal(neonflow_previews_prune_options_set_expired(o, expired), NEONFLOW_OK);
        assert_int_equal(neonflow_previews_prune_options_set_unused_s(o, unused_s), NEONFLOW_OK);
        assert_int_equal(neonflow_previews_prune_options_set_keep_newest(o, keep), NEONFLOW_OK);
        assert_int_equal(neonflow_previews_prune_options_set_dry_run(o, dry), NEONFLOW_OK);
    }
    neonflow_preview_list *l = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_previews_prune(&l, f->c, PROJECT, o, NULL, &err);
    if (rc != NEONFLOW_OK)
        fail_msg("prune: %s", neonflow_error_message(err));
    neonflow_previews_prune_options_free(o);
    return l;
}

static int exists(wf_fixture *f, const char *label)
{
    char name[128], id[64];
    snprintf(name, sizeof(name), "nf/preview/%s", label);
    branch_id_by_name(f->s, name, id, sizeof(id));
    return id[0] != '\0';
}

static void check_pruned(wf_fixture *f, neonflow_preview_list *l, const char *const *want, const char *reason)
{
    size_t n = 0;
    for (; want[n]; n++) {
        int found = 0;
        for (size_t i = 0; i < neonflow_preview_list_count(l); i++)
            if (strcmp(neonflow_preview_label(neonflow_preview_list_at(l, i)), want[n]) == 0) {
                found = 1;
                assert_string_equal(neonflow_preview_prune_reason(neonflow_preview_list_at(l, i)), reason);
            }
        assert_true(found);
    }
    assert_int_equal(neonflow_preview_list_count(l), n);
    (void)f;
    neonflow_preview_list_free(l);
}

static void test_prune_expired(void **state)
{
    wf_fixture *f = *state;
    reseed(f, standard, 4);
    int branches = emu_count_branches(f->s, PROJECT);
    /* dry run: chosen, nothing deleted */
    check_pruned(f, prune(f, 1, 0, -1, 1, 0), (const char *const[]){"old-expired", NULL}, "expired");
    assert_int_equal(emu_count_branches(f->s, PROJECT), branches);
    /* NULL options: expired only */
    check_pruned(f, prune(f, 0, 0, -1, 0, 1), (const char *const[]){"old-expired", NULL}, "expired");
    assert_false(exists(f, "old-expired"));
    assert_true(exists(f, "old") && exists(f, "mid") && exists(f, "new"));
    assert_int_equal(emu_count_branches(f->s, PROJECT), branches - 1);
}

static void test_prune_unused(void **state)
{
    wf_fixture *f = *state;
    reseed(f, standard, 4);
    /* unused for 3h: none; for 50 min: the two created 1h and 2h ago (and the expired one) */
    check_pruned(f, prune(f, 0, 3 * 3600, -1, 0, 0), (const char *const[]){NULL}, NULL);
    check_pruned(f, prune(f, 0, 3000, -1, 0, 0), (const char *const[]){"old-expired", "old", "mid", NULL},
                 "unused");
    assert_true(exists(f, "new"));
    assert_false(exists(f, "mid"));
}

static void test_prune_keep_newest(void **state)
{
    wf_fixture *f = *state;
    reseed(f, standard, 4);
    char prod[64], dev[64];
    snprintf(prod, sizeof(prod), "%s", f->prod_id);
    snprintf(dev, sizeof(dev), "%s", f->dev_id);
    check_pruned(f, prune(f, 0, 0, 2, 1, 0), (const char *const[]){"old-expired", "old", NULL}, "over-keep");
    check_pruned(f, prune(f, 0, 0, 1, 0, 0), (const char *const[]){"old-expired", "old", "mid", NULL},
                 "over-keep");
    assert_true(exists(f, "new"));
    /* keep 0 deletes every preview and nothing else */
    int others = emu_count_branches(f->s, PROJECT) - 1;
    emu_counters_reset(f->s);
    check_pruned(f, prune(f, 1, 0, 0, 0, 0), (const char *const[]){"new", NULL}, "over-keep");
    /* one listing, then one DELETE per preview: no look-up by name again */
    assert_int_equal(count_requests(f, "GET", "/projects/*/branches"), 1);
    assert_int_equal(count_requests(f, "DELETE", NULL), 1);
    assert_int_equal(emu_count_branches(f->s, PROJECT), others);
    char id[64];
    branch_id_by_name(f->s, "production", id, sizeof(id));
    assert_string_equal(id, prod);
    branch_id_by_name(f->s, "dev", id, sizeof(id));
    assert_string_equal(id, dev);
}

/* Look-alike names are never pruned, whatever the policy. */
static void test_prune_never_touches_other_branches(void **state)
{
    wf_fixture *f = *state;
    char id[64];
    assert_int_equal(emu_add_branch(f->s, PROJECT, "x-nf/preview/pr-1", f->dev_id, 1, id, NULL), 0);
    assert_int_equal(emu_add_branch(f->s, PROJECT, "nf/preview/lease", f->dev_id, 0, id, NULL), 0);
    assert_int_equal(emu_add_branch(f->s, PROJECT, "nf/preview/pr-1/x", f->dev_id, 0, id, NULL), 0);
    assert_int_equal(emu_add_branch(f->s, PROJECT, "nf/dev/lease", f->dev_id, 0, id, NULL), 0);
    neonflow_preview_free(create(f, "pr-1", NULL, 0, NULL));
    int branches = emu_count_branches(f->s, PROJECT);
    check_pruned(f, prune(f, 1, 0, 0, 0, 0), (const char *const[]){"pr-1", NULL}, "over-keep");
    assert_int_equal(emu_count_branches(f->s, PROJECT), branches - 1);
}

static void test_bad_input(void **state)
{
    wf_fixture *f = *state;
    const char *bad[] = {"", "Pr-1", "-x", ".x", "a/b", "lease", "with space", "é",
                         "0123456789012345678901234567890123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(neonflow_preview_label_valid(bad[i]));
    assert_false(neonflow_preview_label_valid(NULL));
    assert_true(neonflow_preview_label_valid("pr-123"));
    assert_true(neonflow_preview_label_valid("123"));
    assert_true(neonflow_preview_label_valid("a.b_c-d"));
    neonflow_preview_create_options *o = NULL;
    neonflow_preview *p = NULL;
    neonflow_error *err = NULL;
    emu_counters_reset(f->s);
    assert_int_equal(neonflow_preview_create_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_create_options_set_label(o, "a/b"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_preview_create_options_set_ttl_s(o, -1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_preview_create_options_set_expires_at(o, "tomorrow"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_preview_create_options_set_parent(o, ""), NEONFLOW_EINVAL);
    neonflow_endpoint_create_options *ro = NULL;
    assert_int_equal(neonflow_endpoint_create_options_new(&ro), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_type(ro, NEONFLOW_ENDPOINT_TYPE_READ_ONLY), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_create_options_set_endpoint_options(o, ro), NEONFLOW_EINVAL);
    /* made read_only after it was set: refused at create, nothing sent */
    assert_int_equal(neonflow_endpoint_create_options_set_type(ro, NEONFLOW_ENDPOINT_TYPE_READ_WRITE), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_create_options_set_endpoint_options(o, ro), NEONFLOW_OK);
    assert_int_equal(neonflow_endpoint_create_options_set_type(ro, NEONFLOW_ENDPOINT_TYPE_READ_ONLY), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_create_options_set_label(o, "ro"), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_create(&p, f->c, PROJECT, o, NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_preview_create_options_set_endpoint_options(o, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_create_options_set_label(o, NULL), NEONFLOW_OK);
    neonflow_endpoint_create_options_free(ro);
    emu_counters_reset(f->s);
    /* no label */
    assert_int_equal(neonflow_preview_create(&p, f->c, PROJECT, o, NULL, &err), NEONFLOW_EINVAL);
    neonflow_error_free(err);
    err = NULL;
    assert_int_equal(neonflow_preview_create_options_set_label(o, "ok"), NEONFLOW_OK);
    assert_int_equal(neonflow_preview_create(&p, f->c, "bad/project", o, NULL, &err), NEONFLOW_EINVAL);
    neonflow_error_free(err);
    err = NULL;
    assert_int_equal(neonflow_preview_create(&p, f->c, PROJECT, NULL, NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_preview_delete(f->c, PROJECT, "a/b", NULL, NULL, &err), NEONFLOW_EINVAL);
    neonflow_error_free(err);
    assert_int_equal(neonflow_preview_delete(f->c, PROJECT, NULL, NULL, NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_previews_list(NULL, f->c, PROJECT, NULL, NULL, NULL), NEONFLOW_EINVAL);
    neonflow_preview_list *l = NULL;
    assert_int_equal(neonflow_previews_prune(&l, NULL, PROJECT, NULL, NULL, NULL), NEONFLOW_EINVAL);
    assert_null(l);
    assert_int_equal(count_requests(f, NULL, NULL), 0); /* nothing was sent */
    neonflow_previews_list_options *lo = NULL;
    assert_int_equal(neonflow_previews_list_options_new(&lo), NEONFLOW_OK);
    assert_int_equal(neonflow_previews_list_options_set_label_prefix(lo, "A"), NEONFLOW_EINVAL);
    neonflow_previews_list_options_free(lo);
    neonflow_previews_prune_options *po = NULL;
    assert_int_equal(neonflow_previews_prune_options_new(&po), NEONFLOW_OK);
    assert_int_equal(neonflow_previews_prune_options_set_unused_s(po, -5), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_previews_prune_options_set_keep_newest(po, -2), NEONFLOW_EINVAL);
    neonflow_previews_prune_options_free(po);
    /* NULL-safe getters */
    assert_null(neonflow_preview_label(NULL));
    assert_null(neonflow_preview_host(NULL));
    assert_int_equal(neonflow_preview_last_activity_ms(NULL), 0);
    assert_int_equal(neonflow_preview_list_count(NULL), 0);
    assert_null(neonflow_preview_list_at(NULL, 0));
    neonflow_preview_free(NULL);
    neonflow_preview_list_free(NULL);
    neonflow_preview_create_options_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_is_idempotent, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_create_with_connection_uri, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_create_conflicting_parent, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_create_repairs_missing_endpoint, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_create_after_lost_answers, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_list_is_bounded, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_delete_is_idempotent, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_prune_expired, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_prune_unused, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_prune_keep_newest, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_prune_never_touches_other_branches, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_bad_input, setup_instant, teardown_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
