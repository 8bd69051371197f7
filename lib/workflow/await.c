/* Waiting for operations inside a run, forwarding status changes as
 * OPERATION events and honouring the run's cancel token and
 * deadline: the run's own operations through lib/api's await; other people's
 * running operations (before a mutation) with a loop of the same schedule
 * whose failures are theirs, not the run's. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "workflow-private.h"


static int terminal(int32_t st)
{
    return st == NEONFLOW_OP_STATUS_FINISHED || st == NEONFLOW_OP_STATUS_SKIPPED || st == NEONFLOW_OP_STATUS_ERROR ||
           st == NEONFLOW_OP_STATUS_CANCELLED;
}

typedef struct pending {
    char id[80];
    int32_t status;
} pending;

static void op_event(neonflow__run *r, const neonflow_operation *op)
{
    if (!r->event_hook)
        return;
    char msg[300];
    const char *bid = neonflow_operation_branch_id(op);
    snprintf(msg, sizeof(msg), "operation %s %s%s%s: %s", neonflow_operation_action_raw(op),
             neonflow_operation_id(op), bid ? " on " : "", bid ? bid : "", neonflow_operation_status_raw(op));
    neonflow_event ev = {0};
    ev.kind = NEONFLOW_EVENT_OPERATION;
    ev.message = msg;
    ev.status = neonflow_operation_status(op);
    ev.op_id = neonflow_operation_id(op);
    ev.op_action = neonflow_operation_action_raw(op);
    neonflow__deliver_event(r, &ev);
}

/* Polls other people's operations until each is terminal (how they ended is
 * theirs) or until_mono, which returns NEONFLOW_EBUSY (not recorded; the
 * caller words it). */
static int wait_pending(neonflow__run *r, pending *p, size_t n, int64_t until_mono)
{
    const neonflow__sys *sys = neonflow__client_sys(r->c);
    int64_t interval = NEONFLOW__AWAIT_FIRST_MS;
    size_t left = n;
    while (left > 0) {
        if (until_mono && sys->now_ms(sys->ctx) >= until_mono)
            return NEONFLOW_EBUSY;
        int64_t nap = interval;
        if (until_mono && sys->now_ms(sys->ctx) + nap > until_mono)
            nap = until_mono - sys->now_ms(sys->ctx);
        int rc = neonflow__run_sleep(r, nap > 0 ? nap : 0);
        if (rc != NEONFLOW_OK)
            return rc;
        interval = interval * 3 / 2 > NEONFLOW__AWAIT_MAX_MS ? NEONFLOW__AWAIT_MAX_MS : interval * 3 / 2;
        for (size_t i = 0; i < n; i++) {
            if (!p[i].id[0])
                continue;
            neonflow_operation *op = NULL;
            neonflow_error *e = NULL;
            rc = neonflow__operation_get_ctx(&op, r->c, &r->ctx, r->project_id, p[i].id, &e);
            if (rc == NEONFLOW_ENOTFOUND) { /* expired from the log: done */
                neonflow_error_free(e);
                p[i].id[0] = '\0';
                left--;
                continue;
            }
            if (rc != NEONFLOW_OK)
                return neonflow__fail_with(r, &e, rc);
            int32_t st = neonflow_operation_status(op);
            if (st != p[i].status) {
                p[i].status = st;
                op_event(r, op);
            }
            if (terminal(st)) {
                p[i].id[0] = '\0';
                left--;
            }
            neonflow_operation_free(op);
            if (rc != NEONFLOW_OK)
                return rc;
        }
    }
    return NEONFLOW_OK;
}

static int on_progress(const neonflow_operation *op, void *payload)
{
    op_event(payload, op);
    return 0;
}

/* The run's own operations: lib/api's await (its tuned adaptive schedule,
 * `failed` not final, transient poll errors retried) with the run's events,
 * cancel token and deadline. */
int neonflow__wait_ops(neonflow__run *r, const neonflow_operation_list *ops)
{
    return neonflow__wait_ops_done_at(r, ops, NULL);
}

int neonflow__wait_ops_done_at(neonflow__run *r, const neonflow_operation_list *ops, int64_t *done_ms)
{
    if (done_ms)
        *done_ms = 0;
    size_t n = neonflow_operation_list_count(ops), running = 0;
    for (size_t i = 0; i < n; i++) {
        const neonflow_operation *op = neonflow_operation_list_at(ops, i);
        if (!terminal(neonflow_operation_status(op))) {
            op_event(r, op);
            running++;
        }
    }
    const neonflow__sys *sys = neonflow__client_sys(r->c);
    int64_t left = r->deadline_mono - sys->now_ms(sys->ctx);
    if (left <= 0 && running)
        return neonflow__run_check(r);
    struct neonflow_await_options o;
    memset(&o, 0, sizeof(o));
    o.timeout_ms = left > 0 ? left : 1;
    o.first_ms = NEONFLOW__AWAIT_FIRST_MS;
    o.max_ms = NEONFLOW__AWAIT_MAX_MS;
    o.progress_hook = neonflow__hook_new((void (*)(void))on_progress, r, NULL);
    int rc = NEONFLOW_ENOMEM;
    neonflow_error *e = NULL;
    neonflow_await_result *res = NULL;
    if (o.progress_hook)
        rc = neonflow__operations_await_ctx(done_ms ? &res : NULL, r->c, &r->ctx, r->project_id, ops, NULL, 0, &o,
                                            NULL, NULL, &e);
    neonflow__hook_unref(o.progress_hook);
    if (rc == NEONFLOW_OK && done_ms) { /* the final states the wait read */
        const neonflow_operation_list *fin = neonflow_await_result_operations(res);
        for (size_t i = 0; i < neonflow_operation_list_count(fin); i++) {
            int64_t t = neonflow__op_done_upper_ms(neonflow_operation_list_at(fin, i));
            if (t > *done_ms)
                *done_ms = t;
        }
    }
    neonflow_await_result_free(res);
    if (rc == NEONFLOW_OK)
        return NEONFLOW_OK;
    if (rc == NEONFLOW_ECANCELLED || (rc == NEONFLOW_EOPTIMEOUT && sys->now_ms(sys->ctx) >= r->deadline_mono)) {
        /* say which: the token, the hook or the run's deadline */
        int why = neonflow__run_check(r);
        if (why != NEONFLOW_OK) {
            neonflow_error_free(e);
            return why;
        }
    }
    if (rc == NEONFLOW_ENOMEM && !e)
        return neonflow__fail(r, NEONFLOW_ENOMEM, "out of memory");
    return neonflow__fail_with(r, &e, rc);
}

int neonflow__wait_quiet(neonflow__run *r, int64_t max_ms, int busy_code)
{
    neonflow_operation_list *ops = NULL;
    neonflow_error *e = NULL;
    int rc = neonflow__operations_list_ctx(&ops, r->c, &r->ctx, r->project_id, NULL, 50, &e);
    if (rc != NEONFLOW_OK)
        return neonflow__fail_with(r, &e, rc);
    size_t n = neonflow_operation_list_count(ops), np = 0;
    pending *p = n ? neonflow__calloc(n, sizeof(*p)) : NULL;
    if (n && !p) {
        neonflow_operation_list_free(ops);
        return neonflow__fail(r, NEONFLOW_ENOMEM, "out of memory");
    }
    char first[200] = "";
    for (size_t i = 0; i < n; i++) {
        const neonflow_operation *op = neonflow_operation_list_at(ops, i);
        if (terminal(neonflow_operation_status(op)))
            continue;
        if (!first[0]) {
            const char *bid = neonflow_operation_branch_id(op);
            snprintf(first, sizeof(first), "%s %s%s%s", neonflow_operation_action_raw(op),
                     neonflow_operation_id(op), bid ? " on branch " : "", bid ? bid : "");
        }
        snprintf(p[np].id, sizeof(p[np].id), "%s", neonflow_operation_id(op));
        p[np].status = neonflow_operation_status(op);
        np++;
    }
    neonflow_operation_list_free(ops);
    if (np) {
        const neonflow__sys *sys = neonflow__client_sys(r->c);
        neonflow__emit(r, NEONFLOW_EVENT_WARNING, "%zu operation(s) already running on the project (%s): waiting",
                       np, first);
        rc = wait_pending(r, p, np, sys->now_ms(sys->ctx) + (max_ms > 0 ? max_ms : 1));
        if (rc == NEONFLOW_EBUSY)
            rc = neonflow__fail(r, busy_code,
                                "%zu operation(s) were still running on project %s after %lld ms (e.g. %s): "
                                "wait until they finish and run again, or raise the busy wait",
                                np, r->project_id, (long long)max_ms, first);
    }
    neonflow__free(p);
    return rc;
}
