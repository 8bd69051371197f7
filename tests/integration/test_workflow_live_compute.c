/* Verify on a live compute (neonflow_promote_options_set_verify_compute,
 * neonflow_refresh_options_set_verify_compute) against the emulator: the
 * preview gets a temporary read-write endpoint before the verify hook, whose
 * context has its host and connection URI; the endpoint is gone before the
 * switch, after a veto, and after a run resumed from a crash that left it;
 * the after-switch hook gets the new target's URI; no password reaches a
 * trace or log record or the report; the option's extra requests. */
#include "test_workflow_common.h"
#include "core/alloc.h"

#define VC_PREFIX "nf-verify-"

/* How many endpoints of the project carry a temporary verify name. */
static int vc_endpoints(emu_server *s)
{
    json_t *p = project_state(s);
    size_t i;
    json_t *x;
    int n = 0;
    json_array_foreach(json_object_get(p, "endpoints"), i, x) {
        const char *name = json_string_value(json_object_get(x, "name"));
        if (name && strncmp(name, VC_PREFIX, strlen(VC_PREFIX)) == 0)
            n++;
    }
    json_decref(p);
    return n;
}

typedef struct seen {
    emu_server *s;
    int calls[3];
    size_t endpoints[3];
    char host[3][256];
    char ep_name[3][80];
    char uri[3][512];
    char branch_id[3][64];
    int veto;
    int vc_at_finalize; /* temporary endpoints seen by the gate before "finalize" */
} seen;

static int record(const neonflow_branch_hook_ctx *x, void *payload)
{
    seen *s = payload;
    int h = neonflow_branch_hook_ctx_hook(x);
    assert_true(h == 1 || h == 2);
    s->calls[h]++;
    s->endpoints[h] = neonflow_branch_hook_ctx_endpoint_count(x);
    const char *host = neonflow_branch_hook_ctx_host(x);
    snprintf(s->host[h], sizeof(s->host[h]), "%s", host ? host : "(none)");
    const neonflow_endpoint *e = neonflow_branch_hook_ctx_endpoint_at(x, 0);
    snprintf(s->ep_name[h], sizeof(s->ep_name[h]), "%s",
             e && neonflow_endpoint_name(e) ? neonflow_endpoint_name(e) : "(none)");
    const char *uri = neonflow_branch_hook_ctx_connection_uri(x);
    snprintf(s->uri[h], sizeof(s->uri[h]), "%s", uri ? uri : "(none)");
    /* a second call gives the same string without another request */
    assert_ptr_equal(neonflow_branch_hook_ctx_connection_uri(x), uri);
    snprintf(s->branch_id[h], sizeof(s->branch_id[h]), "%s", neonflow_branch_id(neonflow_branch_hook_ctx_branch(x)));
    return h == NEONFLOW_HOOK_VERIFY ? s->veto : 0;
}

static int gate(const neonflow_step *st, void *payload)
{
    seen *s = payload;
    if (strcmp(neonflow_step_name(st), "finalize") == 0)
        s->vc_at_finalize = vc_endpoints(s->s);
    return 0;
}

/* The password of postgresql://role:password@host/... ("" when none). */
static void password_of(const char *uri, char *out, size_t len)
{
    out[0] = '\0';
    const char *p = strstr(uri, "://");
    const char *at = p ? strchr(p + 3, '@') : NULL;
    const char *colon = p ? strchr(p + 3, ':') : NULL;
    if (!at || !colon || colon > at)
        return;
    snprintf(out, len, "%.*s", (int)(at - colon - 1), colon + 1);
}

static char traced[1 << 20];
static size_t traced_len;
static void on_trace_all(const neonflow_trace_record *rec, void *payload)
{
    (void)payload;
    size_t n = neonflow_trace_record_data_len(rec);
    if (traced_len + n < sizeof(traced)) {
        memcpy(traced + traced_len, neonflow_trace_record_data(rec), n);
        traced_len += n;
    }
}
static void on_log_all(const neonflow_log_record *rec, void *payload)
{
    (void)payload;
    const char *m = neonflow_log_record_message(rec);
    size_t n = strlen(m);
    if (traced_len + n < sizeof(traced)) {
        memcpy(traced + traced_len, m, n);
        traced_len += n;
    }
}

static neonflow_client *tracing_client(emu_server *s)
{
    neonflow_client_options *co = NULL;
    assert_int_equal(neonflow_client_options_new(&co), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(co, emu_base_url(s)), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(co, "emulator-key"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_level(co, NEONFLOW_LOG_DEBUG), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_hook(co, on_log_all, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_trace_hook(co, on_trace_all, NULL, NULL), NEONFLOW_OK);
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_new(&c, co, NULL), NEONFLOW_OK);
    neonflow_client_options_free(co);
    traced_len = 0;
    return c;
}

static neonflow_promote_options *popts(seen *s, int compute)
{
    neonflow_promote_options *o = NULL;
    assert_int_equal(neonflow_promote_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_promote_options_set_verify_hook(o, record, s, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_promote_options_set_after_switch_hook(o, record, s, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_promote_options_set_verify_compute(o, compute), NEONFLOW_OK);
    return o;
}

static void test_promote_on_live_compute(void **state)
{
    wf_fixture *f = *state;
    seen s;
    memset(&s, 0, sizeof(s));
    s.s = f->s;
    s.vc_at_finalize = -1;
    neonflow_promote_options *o = popts(&s, 1);
    assert_int_equal(neonflow_run_options_set_run_id(f->ro, "live-1"), NEONFLOW_OK);
    assert_int_equal(neonflow_run_options_set_gate_hook(f->ro, gate, &s, NULL), NEONFLOW_OK);
    neonflow_client *c = tracing_client(f->s);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_promote(&r, c, f->ro, o, &err);
    if (rc != NEONFLOW_OK)
        fail_msg("promote: %s", neonflow_error_message(err));
    /* verify saw the preview with its temporary endpoint, host and URI */
    assert_int_equal(s.calls[NEONFLOW_HOOK_VERIFY], 1);
    assert_string_equal(s.branch_id[NEONFLOW_HOOK_VERIFY], neonflow_report_preview_branch_id(r));
    assert_int_equal(s.endpoints[NEONFLOW_HOOK_VERIFY], 1);
    assert_string_equal(s.ep_name[NEONFLOW_HOOK_VERIFY], VC_PREFIX "live-1");
    assert_string_not_equal(s.host[NEONFLOW_HOOK_VERIFY], "(none)");
    assert_string_not_equal(s.host[NEONFLOW_HOOK_VERIFY], f->prod_host);
    const char *vu = s.uri[NEONFLOW_HOOK_VERIFY];
    assert_true(strncmp(vu, "postgres", 8) == 0);
    assert_non_null(strstr(vu, s.host[NEONFLOW_HOOK_VERIFY]));
    /* after switch: the new target's URI, on production's own host */
    const char *au = s.uri[NEONFLOW_HOOK_AFTER_SWITCH];
    assert_true(strncmp(au, "postgres", 8) == 0);
    assert_non_null(strstr(au, f->prod_host));
    /* gone before the switch, and after */
    assert_int_equal(s.vc_at_finalize, 0);
    assert_int_equal(vc_endpoints(f->s), 0);
    const neonflow_step *cr = step_named(r, "verify-compute"), *del = step_named(r, "verify-compute-delete");
    assert_non_null(cr);
    assert_non_null(del);
    assert_int_equal(neonflow_step_status(cr), NEONFLOW_STEP_DONE);
    assert_int_equal(neonflow_step_status(del), NEONFLOW_STEP_DONE);
    const neonflow_resource *res = neonflow_step_resource_at(cr, 0);
    assert_int_equal(neonflow_resource_kind(res), NEONFLOW_RESOURCE_ENDPOINT);
    assert_int_equal(neonflow_resource_action(res), NEONFLOW_ACTION_CREATE);
    assert_string_equal(neonflow_resource_name(res), VC_PREFIX "live-1");
    res = neonflow_step_resource_at(del, 0);
    assert_int_equal(neonflow_resource_action(res), NEONFLOW_ACTION_DELETE);
    /* production holds dev's data on its own endpoint */
    char live[64], content[64];
    branch_id_by_name(f->s, "production", live, sizeof(live));
    content_of(f->s, live, content, sizeof(content));
    assert_string_equal(content, "dev-v1");
    /* no password anywhere the library writes */
    char pw[256];
    password_of(vu, pw, sizeof(pw));
    assert_true(strlen(pw) >= 8);
    assert_null(memmem(traced, traced_len, pw, strlen(pw)));
    password_of(au, pw, sizeof(pw));
    assert_true(strlen(pw) >= 8);
    assert_null(memmem(traced, traced_len, pw, strlen(pw)));
    char *json = NULL;
    assert_int_equal(neonflow_report_to_json(&json, r, 0, NULL), NEONFLOW_OK);
    assert_null(strstr(json, pw));
    neonflow_free(json);
    neonflow_report_free(r);
    neonflow_promote_options_free(o);
    neonflow_client_free(c);
}

static void test_veto_deletes_the_compute(void **state)
{
    wf_fixture *f = *state;
    seen s;
    memset(&s, 0, sizeof(s));
    s.veto = 1;
    neonflow_promote_options *o = popts(&s, 1);
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, o, NULL), NEONFLOW_ECALLBACK);
    assert_int_equal(s.calls[NEONFLOW_HOOK_VERIFY], 1);
    assert_int_equal(s.endpoints[NEONFLOW_HOOK_VERIFY], 1);
    assert_int_equal(vc_endpoints(f->s), 0);
    assert_int_equal(count_kind(f->s, "branches", "promote-preview"), 0);
    assert_int_equal(neonflow_step_status(step_named(r, "verify")), NEONFLOW_STEP_VETOED);
    assert_int_equal(neonflow_step_status(step_named(r, "verify-compute")), NEONFLOW_STEP_UNDONE);
    char live[64];
    branch_id_by_name(f->s, "production", live, sizeof(live));
    assert_string_equal(live, f->prod_id);
    neonflow_report_free(r);

    /* keep-on-veto keeps the preview, not its compute */
    assert_int_equal(neonflow_run_options_set_keep_on_veto(f->ro, 1), NEONFLOW_OK);
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, o, NULL), NEONFLOW_ECALLBACK);
    assert_int_equal(vc_endpoints(f->s), 0);
    assert_int_equal(count_kind(f->s, "branches", "promote-preview"), 1);
    neonflow_report_free(r);
    neonflow_promote_options_free(o);
}

/* Interrupted right after the endpoint was made (step 4: preflight,
 * snapshot-candidate, restore-preview, verify-compute), as if the process died. */
static void crash_after_create(wf_fixture *f, seen *s)
{
    neonflow_promote_options *o = popts(s, 1);
    assert_int_equal(neonflow_run_options_set_run_id(f->ro, "crash-1"), NEONFLOW_OK);
    neonflow__workflow_set_interrupt_after(4);
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, o, NULL), NEONFLOW_ECANCELLED);
    neonflow__workflow_set_interrupt_after(0);
    assert_int_equal(neonflow_step_status(step_named(r, "verify-compute")), NEONFLOW_STEP_DONE);
    assert_int_equal(vc_endpoints(f->s), 1); /* left behind */
    assert_int_equal(s->calls[NEONFLOW_HOOK_VERIFY], 0);
    neonflow_report_free(r);
    neonflow_promote_options_free(o);
}

static void test_resume_reuses_then_deletes(void **state)
{
    wf_fixture *f = *state;
    seen s;
    memset(&s, 0, sizeof(s));
    crash_after_create(f, &s);
    int64_t posts = emu_requests(f->s, "POST", "/projects/*/endpoints");
    neonflow_promote_options *o = popts(&s, 1);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_promote(&r, f->c, f->ro, o, &err);
    if (rc != NEONFLOW_OK)
        fail_msg("resume: %s", neonflow_error_message(err));
    assert_int_equal(emu_requests(f->s, "POST", "/projects/*/endpoints"), posts); /* found, not made again */
    assert_int_equal(s.endpoints[NEONFLOW_HOOK_VERIFY], 1);
    assert_string_equal(s.ep_name[NEONFLOW_HOOK_VERIFY], VC_PREFIX "crash-1");
    assert_int_equal(vc_endpoints(f->s), 0);
    neonflow_report_free(r);
    neonflow_promote_options_free(o);
}

static void test_resume_without_the_option_deletes_it(void **state)
{
    wf_fixture *f = *state;
    seen s;
    memset(&s, 0, sizeof(s));
    crash_after_create(f, &s);
    event_log log;
    memset(&log, 0, sizeof(log));
    assert_int_equal(neonflow_run_options_set_event_hook(f->ro, log_event, &log, NULL), NEONFLOW_OK);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_promote(&r, f->c, f->ro, NULL, &err); /* no hook, no option */
    if (rc != NEONFLOW_OK)
        fail_msg("resume: %s", neonflow_error_message(err));
    assert_int_equal(vc_endpoints(f->s), 0);
    assert_true(log.warnings >= 2); /* the sweep says what it deleted */
    char live[64], content[64];
    branch_id_by_name(f->s, "production", live, sizeof(live));
    content_of(f->s, live, content, sizeof(content));
    assert_string_equal(content, "dev-v1");
    neonflow_report_free(r);
}

static void test_no_hook_no_compute(void **state)
{
    wf_fixture *f = *state;
    neonflow_promote_options *o = NULL;
    assert_int_equal(neonflow_promote_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_promote_options_set_verify_compute(o, 1), NEONFLOW_OK);
    assert_int_equal(neonflow_promote_options_set_verify_compute(NULL, 1), NEONFLOW_EINVAL);
    int64_t posts = emu_requests(f->s, "POST", "/projects/*/endpoints");
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, o, NULL), NEONFLOW_OK);
    assert_int_equal(emu_requests(f->s, "POST", "/projects/*/endpoints"), posts);
    assert_int_equal(neonflow_step_status(step_named(r, "verify-compute")), NEONFLOW_STEP_SKIPPED);
    assert_int_equal(neonflow_step_status(step_named(r, "verify-compute-delete")), NEONFLOW_STEP_SKIPPED);
    neonflow_report_free(r);
    neonflow_promote_options_free(o);
}

/* What the option costs: the same promotion (verify hook asking for the URI)
 * with and without it, each on a fresh emulator. */
static int64_t promote_calls(int compute, int64_t *uri_calls)
{
    wf_fixture *f = fixture_new(0, 1);
    seen s;
    memset(&s, 0, sizeof(s));
    neonflow_promote_options *o = NULL;
    assert_int_equal(neonflow_promote_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_promote_options_set_verify_hook(o, record, &s, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_promote_options_set_verify_compute(o, compute), NEONFLOW_OK);
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, f->c, f->ro, o, NULL), NEONFLOW_OK);
    int64_t n = neonflow_report_api_calls(r);
    assert_int_equal(n, emu_requests(f->s, NULL, NULL));
    if (uri_calls)
        *uri_calls = emu_requests(f->s, "GET", "/projects/*/connection_uri") +
                     emu_requests(f->s, "GET", "/projects/*/branches/*/databases");
    neonflow_report_free(r);
    neonflow_promote_options_free(o);
    fixture_free(f);
    return n;
}

static void test_extra_requests(void **state)
{
    (void)state;
    int64_t uri_calls = 0;
    int64_t off = promote_calls(0, NULL), on = promote_calls(1, &uri_calls);
    print_message("# promote with a verify hook: %lld requests; with verify-compute: %lld (+%lld, of which %lld "
                  "for the connection URI)\n",
                  (long long)off, (long long)on, (long long)(on - off), (long long)uri_calls);
    assert_int_equal(uri_calls, 2);
    assert_true(on - off >= 2 + uri_calls); /* create, delete (+ polls of their operations), the URI */
    assert_true(on - off <= 10);
}

static void test_refresh_on_live_compute(void **state)
{
    wf_fixture *f = *state;
    seen s;
    memset(&s, 0, sizeof(s));
    s.s = f->s;
    s.vc_at_finalize = -1;
    assert_int_equal(neonflow_run_options_set_gate_hook(f->ro, gate, &s, NULL), NEONFLOW_OK);
    neonflow_refresh_options *o = NULL;
    assert_int_equal(neonflow_refresh_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_refresh_options_set_verify_hook(o, record, &s, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_refresh_options_set_verify_compute(o, 1), NEONFLOW_OK);
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_refresh(&r, f->c, f->ro, o, &err);
    if (rc != NEONFLOW_OK)
        fail_msg("refresh: %s", neonflow_error_message(err));
    assert_int_equal(s.calls[NEONFLOW_HOOK_VERIFY], 1);
    assert_int_equal(s.endpoints[NEONFLOW_HOOK_VERIFY], 1);
    assert_true(strncmp(s.uri[NEONFLOW_HOOK_VERIFY], "postgres", 8) == 0);
    assert_int_equal(s.vc_at_finalize, 0);
    assert_int_equal(vc_endpoints(f->s), 0);
    char live[64], content[64];
    branch_id_by_name(f->s, "dev", live, sizeof(live));
    content_of(f->s, live, content, sizeof(content));
    assert_string_equal(content, "prod-v1");
    neonflow_report_free(r);
    /* a veto leaves dev untouched and the compute gone */
    s.veto = 1;
    assert_int_equal(neonflow_refresh(&r, f->c, f->ro, o, NULL), NEONFLOW_ECALLBACK);
    assert_int_equal(vc_endpoints(f->s), 0);
    char again[64];
    branch_id_by_name(f->s, "dev", again, sizeof(again));
    assert_string_equal(again, live);
    neonflow_report_free(r);
    /* without a verify hook the refresh's plan is as before */
    neonflow_refresh_options *plain = NULL;
    assert_int_equal(neonflow_refresh_options_new(&plain), NEONFLOW_OK);
    assert_int_equal(neonflow_refresh_options_set_verify_compute(plain, 1), NEONFLOW_OK);
    assert_int_equal(neonflow_run_options_set_dry_run(f->ro, 1), NEONFLOW_OK);
    assert_int_equal(neonflow_refresh(&r, f->c, f->ro, plain, NULL), NEONFLOW_OK);
    assert_null(step_named(r, "verify"));
    assert_null(step_named(r, "verify-compute"));
    neonflow_report_free(r);
    neonflow_refresh_options_free(plain);
    neonflow_refresh_options_free(o);
}

/* Out of memory while a refresh with a verify hook and the option plans its
 * steps (before any request): ENOMEM, never a run that skipped a step whose
 * allocation failed (the plan loop once skipped steps it could not make). */
static void test_refresh_planning_out_of_memory(void **state)
{
    wf_fixture *f = *state;
    seen s;
    memset(&s, 0, sizeof(s));
    neonflow_refresh_options *o = NULL;
    assert_int_equal(neonflow_refresh_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_refresh_options_set_verify_hook(o, record, &s, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_refresh_options_set_verify_compute(o, 1), NEONFLOW_OK);
    assert_int_equal(neonflow_run_options_set_dry_run(f->ro, 1), NEONFLOW_OK);
    int tested = 0;
    for (long k = 1; k < 400; k++) {
        neonflow_report *r = NULL;
        neonflow__alloc_fail_nth(k);
        int rc = neonflow_refresh(&r, f->c, f->ro, o, NULL);
        neonflow__alloc_fail_nth(-1);
        int layer = neonflow__alloc_failed_layer();
        neonflow_report_free(r);
        if (layer != NEONFLOW__LAYER_LIB)
            break; /* the first request: from here on the in-process emulator shares the seam */
        tested++;
        if (rc != NEONFLOW_ENOMEM)
            fail_msg("allocation %ld failed: %s, not NEONFLOW_ENOMEM", k, neonflow_error_name(rc));
    }
    assert_true(tested >= 10); /* the report and its steps */
    neonflow_refresh_options_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_promote_on_live_compute, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_veto_deletes_the_compute, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_resume_reuses_then_deletes, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_resume_without_the_option_deletes_it, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_no_hook_no_compute, setup_instant, teardown_fixture),
        cmocka_unit_test(test_extra_requests),
        cmocka_unit_test_setup_teardown(test_refresh_on_live_compute, setup_instant, teardown_fixture),
        cmocka_unit_test_setup_teardown(test_refresh_planning_out_of_memory, setup_instant, teardown_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
