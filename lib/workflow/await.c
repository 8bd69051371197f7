/* Waiting for operations inside a run: adaptive polling that forwards status
 * changes as OPERATION events and honours the run's cancel hook, cancel token
 * and deadline. (Written on top of neonflow__operation_get_ctx so a run owns
 * its polling policy and events.) */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "workflow-private.h"

#define POLL_FIRST_MS 25
#define POLL_MAX_MS 2000

static int terminal(int32_t st)
{
    return st == NEONFLOW_OP_STATUS_FINISHED || st == NEONFLOW_OP_STATUS_SKIPPED || st == NEONFLOW_OP_STATUS_ERROR ||
           st == NEONFLOW_OP_STATUS_CANCELLED;
}

typedef struct pending {
    char id[80];
    char action[48];
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

/* Judges a terminal or running status: NEONFLOW_OK when fine. */
static int judge(neonflow__run *r, const neonflow_operation *op, int fail_on_error)
{
    int32_t st = neonflow_operation_status(op);
    if (!fail_on_error)
        return NEONFLOW_OK;
    if (st == NEONFLOW_OP_STATUS_ERROR) {
        const char *e = neonflow_operation_error(op);
        return neonflow__fail(r, NEONFLOW_EOPFAILED, "operation %s (%s) ended in error%s%s",
                              neonflow_operation_id(op), neonflow_operation_action_raw(op), e ? ": " : "",
                              e ? e : "");
    }
    if (st == NEONFLOW_OP_STATUS_CANCELLED)
        return neonflow__fail(r, NEONFLOW_EOPCANCELLED, "operation %s (%s) was cancelled",
                              neonflow_operation_id(op), neonflow_operation_action_raw(op));
    return NEONFLOW_OK;
}

/* Polls every pending id until terminal. until_mono: 0 = only the run deadline;
 * reaching it returns NEONFLOW_EBUSY (not recorded; the caller words it). */
static int wait_pending(neonflow__run *r, pending *p, size_t n, int fail_on_error, int64_t until_mono)
{
    const neonflow__sys *sys = neonflow__client_sys(r->c);
    int64_t interval = POLL_FIRST_MS;
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
        interval = interval * 3 / 2 > POLL_MAX_MS ? POLL_MAX_MS : interval * 3 / 2;
        for (size_t i = 0; i < n; i++) {
            if (!p[i].id[0])
                continue;
            neonflow_operation *op = NULL;
            neonflow_error *e = NULL;
            rc = neonflow__operation_get_ctx(&op, r->c, &r->ctx, r->project_id, p[i].id, &e);
            if (rc == NEONFLOW_ENOTFOUND && !fail_on_error) { /* expired from the log: done */
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
                rc = judge(r, op, fail_on_error);
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

int neonflow__wait_ops(neonflow__run *r, const neonflow_operation_list *ops)
{
    size_t n = neonflow_operation_list_count(ops);
    if (n == 0)
        return NEONFLOW_OK;
    pending *p = neonflow__calloc(n, sizeof(*p));
    if (!p)
        return neonflow__fail(r, NEONFLOW_ENOMEM, "out of memory");
    size_t np = 0;
    int rc = NEONFLOW_OK;
    for (size_t i = 0; i < n && rc == NEONFLOW_OK; i++) {
        const neonflow_operation *op = neonflow_operation_list_get(ops, i);
        int32_t st = neonflow_operation_status(op);
        if (terminal(st)) {
            rc = judge(r, op, 1);
            continue;
        }
        op_event(r, op);
        snprintf(p[np].id, sizeof(p[np].id), "%s", neonflow_operation_id(op));
        snprintf(p[np].action, sizeof(p[np].action), "%s", neonflow_operation_action_raw(op));
        p[np].status = st;
        np++;
    }
    if (rc == NEONFLOW_OK && np)
        rc = wait_pending(r, p, np, 1, 0);
    neonflow__free(p);
    return rc;
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
        const neonflow_operation *op = neonflow_operation_list_get(ops, i);
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
        rc = wait_pending(r, p, np, 0, sys->now_ms(sys->ctx) + (max_ms > 0 ? max_ms : 1));
        if (rc == NEONFLOW_EBUSY)
            rc = neonflow__fail(r, busy_code,
                                "%zu operation(s) were still running on project %s after %lld ms (e.g. %s): "
                                "wait until they finish and run again, or raise the busy wait",
                                np, r->project_id, (long long)max_ms, first);
    }
    neonflow__free(p);
    return rc;
}
