/* Helpers of the lease tests (test_workflow_lease*.c): lease events, run
 * options, the lease's holder as Neon reports it, resources of a run, and a
 * recording lock hook. */
#ifndef TEST_LEASE_COMMON_H
#define TEST_LEASE_COMMON_H

#include <pthread.h>
#include <unistd.h>

#include "core/alloc.h"
#include "test_workflow_common.h"

/* ---- helpers ------------------------------------------------------------------------ */
typedef struct lease_log {
    int taken, waited, renewed, released, reentered, took_over, hook_events;
} lease_log;

static inline void log_lease(const neonflow_event *ev, void *payload)
{
    lease_log *l = payload;
    if (neonflow_event_kind(ev) != NEONFLOW_EVENT_LEASE)
        return;
    const char *m = neonflow_event_message(ev);
    l->taken += strncmp(m, "took the lease", 14) == 0;
    l->waited += strncmp(m, "waiting for the lease", 21) == 0;
    l->renewed += strncmp(m, "renewed the lease", 17) == 0;
    l->released += strncmp(m, "released the lease", 18) == 0;
    l->reentered += strncmp(m, "re-entered", 10) == 0;
    l->took_over += strncmp(m, "took over the expired lease", 27) == 0;
    l->hook_events += strstr(m, "lock") != NULL;
}

static inline neonflow_run_options *run_opts(const char *run_id, int64_t wait_ms, lease_log *log)
{
    neonflow_run_options *ro = NULL;
    assert_int_equal(neonflow_run_options_new(&ro), NEONFLOW_OK);
    assert_int_equal(neonflow_run_options_set_project_id(ro, PROJECT), NEONFLOW_OK);
    assert_int_equal(neonflow_run_options_set_run_id(ro, run_id), NEONFLOW_OK);
    assert_int_equal(neonflow_run_options_set_lease_wait_ms(ro, wait_ms), NEONFLOW_OK);
    if (log)
        assert_int_equal(neonflow_run_options_set_event_hook(ro, log_lease, log, NULL), NEONFLOW_OK);
    return ro;
}

/* The holder's run id (annotation) and the id of the lease branch of target ("" when none). */
static inline void lease_holder(wf_fixture *f, const char *target, char *run, size_t rlen, char *id, size_t idlen)
{
    char name[300];
    snprintf(name, sizeof(name), "nf/%s/lease", target);
    neonflow__sb b = {0};
    neonflow__sb_add(&b, "/projects/" PROJECT "/branches");
    neonflow__sb_query(&b, "search", name);
    char *path = neonflow__sb_take(&b);
    json_t *root = NULL;
    assert_int_equal(neonflow__api_call(f->c, NULL, "GET", path, "/projects/{project_id}/branches", NULL, &root,
                                        NULL, NULL),
                     NEONFLOW_OK);
    neonflow__free(path);
    run[0] = id[0] = '\0';
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(root, "branches"), i, x) {
        if (strcmp(json_string_value(json_object_get(x, "name")), name) != 0)
            continue;
        const char *bid = json_string_value(json_object_get(x, "id"));
        snprintf(id, idlen, "%s", bid);
        const char *r = json_string_value(json_object_get(
            json_object_get(json_object_get(json_object_get(root, "annotations"), bid), "value"), "neonflow_run_id"));
        snprintf(run, rlen, "%s", r ? r : "");
    }
    json_decref(root);
}

/* Branches and snapshots whose neonflow name carries run_id. */
static inline int resources_of_run(emu_server *s, const char *run_id)
{
    json_t *p = project_state(s);
    int n = 0;
    const char *arrays[2] = {"branches", "snapshots"};
    for (int a = 0; a < 2; a++) {
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(p, arrays[a]), i, x) {
            neonflow__name_parts np;
            if (neonflow__name_parse(json_string_value(json_object_get(x, "name")), &np) &&
                strcmp(np.run_id, run_id) == 0)
                n++;
        }
    }
    json_decref(p);
    return n;
}

static inline void content_by_name(emu_server *s, const char *name, char *out, size_t len)
{
    char id[64];
    branch_id_by_name(s, name, id, sizeof(id));
    assert_string_not_equal(id, "");
    content_of(s, id, out, len);
}

static inline int mutating_step_done(const neonflow_report *r)
{
    for (size_t i = 0; i < neonflow_report_step_count(r); i++) {
        const neonflow_step *st = neonflow_report_step_at(r, i);
        int32_t s = neonflow_step_status(st);
        if (neonflow_step_is_mutating(st) && (s == NEONFLOW_STEP_DONE || s == NEONFLOW_STEP_RESUMED))
            return 1;
    }
    return 0;
}


static inline int backups_of(emu_server *s, const char *target)
{
    json_t *p = project_state(s);
    size_t i;
    json_t *x;
    int n = 0;
    json_array_foreach(json_object_get(p, "branches"), i, x) {
        neonflow__name_parts np;
        if (neonflow__name_parse(json_string_value(json_object_get(x, "name")), &np) &&
            neonflow__kind_is_backup(np.kind) && strcmp(np.target, target) == 0)
            n++;
    }
    json_decref(p);
    return n;
}


/* ---- the lock hook ------------------------------------------------------------------ */
typedef struct lock_rec {
    int acquire, renew, release, destroyed, refuse, held, max_held;
    char targets[8][64];
    int ntargets;
    char run[40];
    int32_t workflow;
    int64_t ttl;
} lock_rec;

static inline int lock_fn(neonflow_lock_request *q, void *payload)
{
    lock_rec *l = payload;
    switch (neonflow_lock_request_kind(q)) {
    case NEONFLOW_LOCK_ACQUIRE:
        l->acquire++;
        assert_string_equal(neonflow_lock_request_project_id(q), PROJECT);
        snprintf(l->run, sizeof(l->run), "%s", neonflow_lock_request_run_id(q));
        l->workflow = neonflow_lock_request_workflow(q);
        l->ttl = neonflow_lock_request_ttl_ms(q);
        if (l->refuse) {
            assert_int_equal(neonflow_lock_request_set_holder(q, "BAD ID"), NEONFLOW_EINVAL);
            assert_int_equal(neonflow_lock_request_set_holder(q, "other-run"), NEONFLOW_OK);
            return 1;
        }
        if (l->ntargets < 8)
            snprintf(l->targets[l->ntargets++], 64, "%s", neonflow_lock_request_target(q));
        if (++l->held > l->max_held)
            l->max_held = l->held;
        return 0;
    case NEONFLOW_LOCK_RENEW: l->renew++; return 0;
    case NEONFLOW_LOCK_RELEASE:
        l->release++;
        l->held--;
        return 0;
    default: return 1;
    }
}

static inline void lock_destroy(void *payload)
{
    ((lock_rec *)payload)->destroyed++;
}


#endif
