/* Shared fixture of the workflow integration tests: an in-process emulator
 * with project "proj-1" (root "production" with a read_write endpoint and a
 * root "dev" with its own endpoint), a fast-retrying client, run options, and
 * helpers to inspect the emulator's state. Each test file includes it once. */
#ifndef TEST_WORKFLOW_COMMON_H
#define TEST_WORKFLOW_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <cmocka.h>
#include <jansson.h>

#include "emulator.h"
#include "neonflow/neonflow.h"
#include "workflow/workflow-private.h"

#define PROJECT "proj-1"

typedef struct wf_fixture {
    emu_server *s;
    neonflow_client *c;
    neonflow_run_options *ro;
    char prod_id[64], prod_ep[64], dev_id[64], dev_ep[64];
    char prod_host[256];
} wf_fixture;

static inline int64_t wall_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static inline neonflow_client *make_client(emu_server *s)
{
    neonflow_client_options *co = NULL;
    assert_int_equal(neonflow_client_options_new(&co), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(co, emu_base_url(s)), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(co, "emulator-key"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_retry_backoff(co, 1, 20), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_rate_limit(co, 1000000, 100000), NEONFLOW_OK);
    neonflow_client *c = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_client_new(&c, co, &err);
    if (rc != NEONFLOW_OK)
        fail_msg("client: %s", neonflow_error_message(err));
    neonflow_client_options_free(co);
    return c;
}

/* Endpoint host of an endpoint id, from the emulator's state. */
static inline void endpoint_host(emu_server *s, const char *ep_id, char *host, size_t len);

static inline wf_fixture *fixture_new(int64_t op_ms, int with_dev)
{
    wf_fixture *f = calloc(1, sizeof(*f));
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.port = 0;
    cfg.op_duration_ms = op_ms;
    cfg.rate_per_minute = 0;
    cfg.rate_per_second_route = 0;
    assert_int_equal(emu_start(&f->s, &cfg), 0);
    assert_int_equal(emu_add_project(f->s, PROJECT, "production", f->prod_id, f->prod_ep), 0);
    if (with_dev)
        assert_int_equal(emu_add_branch(f->s, PROJECT, "dev", NULL, 1, f->dev_id, f->dev_ep), 0);
    assert_int_equal(emu_write(f->s, PROJECT, f->prod_id, "prod-v1", NULL), 0);
    if (with_dev)
        assert_int_equal(emu_write(f->s, PROJECT, f->dev_id, "dev-v1", NULL), 0);
    endpoint_host(f->s, f->prod_ep, f->prod_host, sizeof(f->prod_host));
    f->c = make_client(f->s);
    assert_int_equal(neonflow_run_options_new(&f->ro), NEONFLOW_OK);
    assert_int_equal(neonflow_run_options_set_project_id(f->ro, PROJECT), NEONFLOW_OK);
    return f;
}

static inline void fixture_free(wf_fixture *f)
{
    if (!f)
        return;
    neonflow_run_options_free(f->ro);
    neonflow_client_free(f->c);
    emu_stop(f->s);
    free(f);
}

static inline int setup_instant(void **state)
{
    *state = fixture_new(0, 1);
    return 0;
}

static inline int teardown_fixture(void **state)
{
    fixture_free(*state);
    neonflow__workflow_set_interrupt_after(0);
    return 0;
}

/* ---- state helpers -------------------------------------------------------------- */
static inline json_t *project_state_of(emu_server *s, const char *pid)
{
    json_t *st = emu_state(s);
    json_t *projects = json_object_get(st, "projects");
    json_t *p = NULL;
    if (json_is_array(projects)) {
        size_t i;
        json_t *x;
        json_array_foreach(projects, i, x) {
            if (strcmp(json_string_value(json_object_get(x, "id")), pid) == 0)
                p = x;
        }
    } else if (json_is_object(projects)) {
        p = json_object_get(projects, pid);
    }
    json_incref(p);
    json_decref(st);
    assert_non_null(p);
    return p;
}

static inline json_t *project_state(emu_server *s)
{
    return project_state_of(s, PROJECT);
}

/* In the project's state, the `want` field of the first element of `array`
 * whose `key` equals `value` ("" when none). */
static inline void state_lookup(emu_server *s, const char *array, const char *key, const char *value,
                                const char *want, char *out, size_t len)
{
    json_t *p = project_state(s);
    size_t i;
    json_t *x;
    out[0] = '\0';
    json_array_foreach(json_object_get(p, array), i, x) {
        if (strcmp(json_string_value(json_object_get(x, key)), value) == 0) {
            snprintf(out, len, "%s", json_string_value(json_object_get(x, want)));
            break;
        }
    }
    json_decref(p);
}

static inline void endpoint_host(emu_server *s, const char *ep_id, char *host, size_t len)
{
    state_lookup(s, "endpoints", "id", ep_id, "host", host, len);
}

/* The id of the branch named `name` ("" when none). */
static inline void branch_id_by_name(emu_server *s, const char *name, char *out, size_t len)
{
    state_lookup(s, "branches", "name", name, "id", out, len);
}

/* The branch id an endpoint belongs to. */
static inline void endpoint_branch(emu_server *s, const char *ep_id, char *out, size_t len)
{
    state_lookup(s, "endpoints", "id", ep_id, "branch_id", out, len);
}

/* How many branches / snapshots carry a neonflow name of this kind. */
static inline int count_kind_in(emu_server *s, const char *pid, const char *what, const char *kind)
{
    json_t *p = project_state_of(s, pid);
    size_t i;
    json_t *x;
    int n = 0;
    json_array_foreach(json_object_get(p, what), i, x) {
        neonflow__name_parts np;
        if (neonflow__name_parse(json_string_value(json_object_get(x, "name")), &np) && strcmp(np.kind, kind) == 0)
            n++;
    }
    json_decref(p);
    return n;
}

static inline int count_kind(emu_server *s, const char *what, const char *kind)
{
    return count_kind_in(s, PROJECT, what, kind);
}

static inline void content_of(emu_server *s, const char *branch_id, char *out, size_t len)
{
    assert_int_equal(emu_read(s, PROJECT, branch_id, out, len, NULL), 0);
}

static inline int64_t mutating_requests(emu_server *s)
{
    return emu_requests(s, "POST", NULL) + emu_requests(s, "PATCH", NULL) + emu_requests(s, "DELETE", NULL) +
           emu_requests(s, "PUT", NULL);
}

/* A run's lease costs two mutating requests: the create and the delete of
 * nf/<target>/lease (a dry run, a backups listing or a prune that deletes
 * nothing take none). */
#define LEASE_REQUESTS 2

/* Lease branches (nf/<target>/lease) in the project. */
static inline int lease_branches_in(emu_server *s, const char *pid)
{
    json_t *p = project_state_of(s, pid);
    size_t i;
    json_t *x;
    int n = 0;
    json_array_foreach(json_object_get(p, "branches"), i, x)
        n += neonflow__lease_name_is(json_string_value(json_object_get(x, "name")));
    json_decref(p);
    return n;
}

static inline uint64_t lsn_value(const char *lsn)
{
    unsigned hi = 0, lo = 0;
    if (sscanf(lsn, "%x/%x", &hi, &lo) != 2)
        return 0;
    return ((uint64_t)hi << 32) | lo;
}

#define RUN_OK(call)                                                                                           \
    do {                                                                                                       \
        neonflow_error *err_ = NULL;                                                                           \
        int rc_ = (call);                                                                                      \
        if (rc_ != NEONFLOW_OK)                                                                                \
            fail_msg("%s -> %s: %s", #call, neonflow_error_name(rc_), neonflow_error_message(err_));           \
        neonflow_error_free(err_);                                                                             \
    } while (0)

/* ---- hooks used by several tests ---------------------------------------------------- */
typedef struct event_log {
    int n;
    int kinds[4096];
    int warnings, operations, retries, step_ends;
    char first_run_id[40];
    char last_warning[1024];
} event_log;

static inline void log_event(const neonflow_event *ev, void *payload)
{
    event_log *l = payload;
    if (l->n == 0)
        snprintf(l->first_run_id, sizeof(l->first_run_id), "%s", neonflow_event_run_id(ev));
    if (l->n < 4096)
        l->kinds[l->n] = neonflow_event_kind(ev);
    l->n++;
    switch (neonflow_event_kind(ev)) {
    case NEONFLOW_EVENT_WARNING:
        l->warnings++;
        snprintf(l->last_warning, sizeof(l->last_warning), "%s", neonflow_event_message(ev));
        break;
    case NEONFLOW_EVENT_OPERATION: l->operations++; break;
    case NEONFLOW_EVENT_RETRY: l->retries++; break;
    case NEONFLOW_EVENT_STEP_END: l->step_ends++; break;
    default: break;
    }
}

static inline const neonflow_step *step_named(const neonflow_report *r, const char *name)
{
    for (size_t i = 0; i < neonflow_report_step_count(r); i++)
        if (strcmp(neonflow_step_name(neonflow_report_step_at(r, i)), name) == 0)
            return neonflow_report_step_at(r, i);
    return NULL;
}

#endif
