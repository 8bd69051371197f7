/* Seeded fault campaign: 200+ promotions, each on its own project of one
 * emulator, with injected 423, 429, 503, 500, dropped connections, lost
 * responses (applied, then no answer), truncated bodies and failing
 * operations. Every run either completes, or stops with a report that says
 * what happened and (unless the switch already happened) an untouched
 * target; re-running with the same run id then completes; nothing is ever
 * created twice. */
#include "test_workflow_common.h"

#define RUNS 220

typedef struct proj_view {
    char prod[64], dev[64], ep_branch[64];
    char prod_content[64];
    int candidates, rollbacks, backups, previews, snapshots, branches;
    int leases; /* nf/<target>/lease: only left when releasing it failed (it expires by itself) */
} proj_view;

static void view(emu_server *s, const char *pid, const char *prod_ep, proj_view *v)
{
    memset(v, 0, sizeof(*v));
    json_t *p = project_state_of(s, pid);
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(p, "branches"), i, x) {
        const char *name = json_string_value(json_object_get(x, "name"));
        const char *id = json_string_value(json_object_get(x, "id"));
        if (neonflow__lease_name_is(name)) {
            v->leases++;
            continue;
        }
        v->branches++;
        if (strcmp(name, "production") == 0) {
            snprintf(v->prod, sizeof(v->prod), "%s", id);
            snprintf(v->prod_content, sizeof(v->prod_content), "%s",
                     json_string_value(json_object_get(x, "content")));
        }
        if (strcmp(name, "dev") == 0)
            snprintf(v->dev, sizeof(v->dev), "%s", id);
        neonflow__name_parts np;
        if (neonflow__name_parse(name, &np)) {
            v->backups += strcmp(np.kind, "promote-backup") == 0;
            v->previews += strcmp(np.kind, "promote-preview") == 0;
        }
    }
    json_array_foreach(json_object_get(p, "snapshots"), i, x) {
        neonflow__name_parts np;
        v->snapshots++;
        if (neonflow__name_parse(json_string_value(json_object_get(x, "name")), &np)) {
            v->candidates += strcmp(np.kind, "candidate") == 0;
            v->rollbacks += strcmp(np.kind, "rollback") == 0;
        }
    }
    json_array_foreach(json_object_get(p, "endpoints"), i, x) {
        if (strcmp(json_string_value(json_object_get(x, "id")), prod_ep) == 0)
            snprintf(v->ep_branch, sizeof(v->ep_branch), "%s", json_string_value(json_object_get(x, "branch_id")));
    }
    json_decref(p);
}

static int replays; /* duplicate snapshots found and removed by the workflow */
static int release_failed; /* the last run could not release its lease (a fault hit every attempt) */

static void debug_event(const neonflow_event *ev, void *payload)
{
    (void)payload;
    if (neonflow_event_kind(ev) == NEONFLOW_EVENT_WARNING && strstr(neonflow_event_message(ev), "was replayed"))
        replays++;
    if (neonflow_event_kind(ev) == NEONFLOW_EVENT_WARNING && strstr(neonflow_event_message(ev), "releasing the lease"))
        release_failed = 1;
    if (neonflow_event_kind(ev) == NEONFLOW_EVENT_LEASE && strstr(neonflow_event_message(ev), "released the lease"))
        release_failed = 0;
    if (!getenv("WF_DEBUG"))
        return;
    fprintf(stderr, "  [%d] %s: %s\n", (int)neonflow_event_kind(ev), neonflow_event_step(ev), neonflow_event_message(ev));
}

static void add_faults(emu_server *s)
{
    struct {
        const char *method;
        int kind, status;
        double p;
    } spec[] = {
        {NULL, EMU_FAULT_STATUS, 423, 0.04},
        {NULL, EMU_FAULT_STATUS, 429, 0.04},
        {NULL, EMU_FAULT_STATUS, 503, 0.04},
        {NULL, EMU_FAULT_STATUS, 500, 0.03},
        {NULL, EMU_FAULT_DROP_BEFORE, 0, 0.02},
        {"POST", EMU_FAULT_DROP_AFTER, 0, 0.06}, /* see known_replay() */
        {"DELETE", EMU_FAULT_DROP_AFTER, 0, 0.05},
        {"POST", EMU_FAULT_TRUNCATE, 0, 0.02},
    };
    for (size_t i = 0; i < sizeof(spec) / sizeof(spec[0]); i++) {
        if (getenv("WF_NO_POST_DROP_AFTER") && spec[i].kind == EMU_FAULT_DROP_AFTER && spec[i].method &&
            strcmp(spec[i].method, "POST") == 0)
            continue;
        emu_fault f;
        emu_fault_init(&f);
        f.method = spec[i].method;
        f.path = "/projects/**";
        f.kind = spec[i].kind;
        f.status = spec[i].status;
        f.retry_after_s = -1;
        f.probability = spec[i].p;
        assert_int_equal(emu_fault_add(s, &f), 0);
    }
}

static void test_fault_campaign(void **state)
{
    (void)state;
    emu_server *s = NULL;
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.port = 0;
    cfg.seed = 20261124;
    cfg.rate_per_minute = 0;
    cfg.rate_per_second_route = 0;
    assert_int_equal(emu_start(&s, &cfg), 0);
    neonflow_client *c = make_client(s);
    int completed_first = 0, stopped = 0, stopped_touched = 0, reruns = 0, op_faults = 0, leases_left = 0;
    int64_t retries = 0;
    for (int i = 0; i < RUNS; i++) {
        char pid[32], prod[64], prod_ep[64], dev[64], run[32];
        snprintf(pid, sizeof(pid), "fc-%d", i);
        snprintf(run, sizeof(run), "fc-run-%d", i);
        emu_faults_clear(s);
        assert_int_equal(emu_add_project(s, pid, "production", prod, prod_ep), 0);
        assert_int_equal(emu_add_branch(s, pid, "dev", NULL, 1, dev, NULL), 0);
        assert_int_equal(emu_write(s, pid, prod, "prod-data", NULL), 0);
        assert_int_equal(emu_write(s, pid, dev, "dev-data", NULL), 0);
        add_faults(s);
        /* the first operation of a run is its lease branch's create_branch, whose outcome the run
         * ignores (the name is taken either way): a count of 2 reaches the workflow's first one */
        if (i % 7 == 3) { /* an operation that ends in error */
            assert_int_equal(emu_op_fault_add(s, NULL, EMU_OPFAULT_ERROR, 2), 0);
            op_faults++;
        } else if (i % 7 == 5) { /* one that fails, then recovers */
            assert_int_equal(emu_op_fault_add(s, NULL, EMU_OPFAULT_FAIL_THEN_RECOVER, 2), 0);
            op_faults++;
        }
        emu_set_op_duration_ms(s, i % 5 == 0 ? 15 : 0);
        neonflow_run_options *ro = NULL;
        neonflow_run_options_new(&ro);
        neonflow_run_options_set_project_id(ro, pid);
        neonflow_run_options_set_run_id(ro, run);
        neonflow_run_options_set_busy_wait_ms(ro, 5000);
        neonflow_run_options_set_event_hook(ro, debug_event, NULL, NULL);
        neonflow_report *r = NULL;
        neonflow_error *err = NULL;
        release_failed = 0;
        int rc = neonflow_promote(&r, c, ro, NULL, &err);
        assert_non_null(r);
        retries += neonflow_report_retries(r);
        proj_view v;
        view(s, pid, prod_ep, &v);
        if (rc == NEONFLOW_OK) {
            completed_first++;
        } else {
            stopped++;
            /* the report says what happened and how to go on */
            const char *msg = neonflow_report_message(r);
            assert_non_null(strstr(msg, "stopped"));
            assert_non_null(strstr(msg, run));
            if (strstr(msg, "untouched")) {
                assert_string_equal(v.prod, prod);
                assert_string_equal(v.prod_content, "prod-data");
                assert_string_equal(v.ep_branch, prod);
            } else {
                assert_non_null(strstr(msg, "already switched"));
                stopped_touched++;
            }
            /* same run id again, faults still on, until it completes */
            for (int t = 0; t < 6 && rc != NEONFLOW_OK; t++) {
                if (t == 5)
                    emu_faults_clear(s);
                neonflow_error_free(err);
                err = NULL;
                neonflow_report_free(r);
                r = NULL;
                release_failed = 0;
                rc = neonflow_promote(&r, c, ro, NULL, &err);
                reruns++;
            }
            if (rc != NEONFLOW_OK)
                fail_msg("run %d did not complete: %s", i, neonflow_error_message(err));
            view(s, pid, prod_ep, &v);
        }
        /* completed: dev's data under prod's endpoint, exactly one of each */
        assert_string_equal(v.prod_content, "dev-data");
        assert_string_equal(v.ep_branch, v.prod);
        assert_string_equal(v.dev, dev);
        if (v.candidates != 1 || v.rollbacks != 1 || v.backups != 1 || v.previews != 0 || v.snapshots != 2 ||
            v.branches != 3) {
            json_t *pj = project_state_of(s, pid);
            char *d = json_dumps(json_object_get(pj, "snapshots"), JSON_INDENT(1));
            fprintf(stderr, "%s\n", d);
            free(d);
            json_decref(pj);
            fail_msg("run %d: %d candidates, %d rollbacks, %d backups, %d previews, %d snapshots, %d branches", i,
                     v.candidates, v.rollbacks, v.backups, v.previews, v.snapshots, v.branches);
        }
        /* the run released its lease, unless every attempt to delete it met a fault (one of which
         * may still have been applied) */
        if (v.leases > (release_failed ? 1 : 0))
            fail_msg("run %d: %d lease branch(es) left, release %s", i, v.leases, release_failed ? "failed" : "ok");
        leases_left += v.leases;
        neonflow_error_free(err);
        neonflow_report_free(r);
        neonflow_run_options_free(ro);
    }
    printf("# %d promotions: %d completed at once, %d stopped (%d after the switch), %d re-runs, %d operation "
           "faults, %lld HTTP retries, %lld responses 423/429/503/500, %d replayed snapshot creates cleaned up, %d "
           "leases left to expire\n",
           RUNS, completed_first, stopped, stopped_touched, reruns, op_faults, (long long)retries,
           (long long)(emu_responses_with_status(s, 423) + emu_responses_with_status(s, 429) +
                       emu_responses_with_status(s, 503) + emu_responses_with_status(s, 500)),
           replays, leases_left);
    assert_true(stopped > 0);
    /* The transport never replays a mutation, so the workflow's duplicate sweep finds nothing. */
    assert_int_equal(replays, 0);
    neonflow_client_free(c);
    emu_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_campaign),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
