/* The end of the lost-write window when the run did not await the finalize
 * itself (resumed after a crash, or the finalize's answer was lost): find the
 * finalize's operations again in the project's operation log. Neon's log can
 * only be listed whole (newest first, by pages), so the operations are picked
 * by what only the finalize does: the target's endpoint restarting on the
 * branch that took over. Every choice here errs late, never early. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "workflow-private.h"

#define PAGE 100
#define MAX_PAGES 20 /* 2000 operations since the restore: beyond that, fall back */
#define GROUP_MS 2000 /* the finalize's operations are created together */

static int eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* The operations of the finalize: on the moved endpoint, on either side of the
 * switch, created around the first one on the new target (t0). Taking more
 * than needed can only make the end later. */
static int in_group(const neonflow_operation *op, const char *new_id, const char *backup_id, const char *ep_id,
                    int64_t t0)
{
    const char *b = neonflow_operation_branch_id(op);
    int64_t c = neonflow_operation_created_at_ms(op);
    return eq(neonflow_operation_endpoint_id(op), ep_id) && (eq(b, new_id) || eq(b, backup_id)) &&
           c >= t0 - GROUP_MS && c <= t0 + GROUP_MS;
}

static int from_log(neonflow__run *r, const char *new_id, const char *backup_id, const char *ep_id,
                    int64_t not_before_ms, int64_t *out_ms)
{
    neonflow_operation_list *pages[MAX_PAGES] = {0};
    size_t np = 0;
    int rc = NEONFLOW_OK;
    int64_t t0 = 0;
    const char *cursor = NULL;
    /* newest first: the first operation on (new target, endpoint) seen last is the finalize's */
    while (np < MAX_PAGES) {
        neonflow_error *e = NULL;
        rc = neonflow__operations_list_ctx(&pages[np], r->c, &r->ctx, r->project_id, cursor, PAGE, &e);
        if (rc != NEONFLOW_OK) {
            rc = neonflow__fail_with(r, &e, rc);
            break;
        }
        const neonflow_operation_list *l = pages[np++];
        size_t n = neonflow_operation_list_count(l);
        int older = 0;
        for (size_t i = 0; i < n; i++) {
            const neonflow_operation *op = neonflow_operation_list_at(l, i);
            int64_t c = neonflow_operation_created_at_ms(op);
            if (c < not_before_ms - GROUP_MS) {
                older = 1;
                continue;
            }
            if (eq(neonflow_operation_endpoint_id(op), ep_id) && eq(neonflow_operation_branch_id(op), new_id))
                t0 = c;
        }
        cursor = neonflow_operation_list_next_cursor(l);
        if (older || n < PAGE || !cursor) /* a short page is the last one */
            break;
    }
    *out_ms = 0;
    /* normally all ended (the preflight waited for a quiet project): their own
     * final timestamps; the ones still running are awaited first */
    neonflow_operation_list *running = NULL;
    if (rc == NEONFLOW_OK && t0 && neonflow__operation_list_new(&running, NULL) != NEONFLOW_OK)
        rc = neonflow__fail(r, NEONFLOW_ENOMEM, "out of memory");
    for (size_t k = 0; rc == NEONFLOW_OK && running && k < np; k++)
        for (size_t i = 0; i < neonflow_operation_list_count(pages[k]); i++) {
            const neonflow_operation *op = neonflow_operation_list_at(pages[k], i);
            if (!in_group(op, new_id, backup_id, ep_id, t0))
                continue;
            if (neonflow_operation_is_done(op)) {
                int64_t t = neonflow__op_done_upper_ms(op);
                if (t > *out_ms)
                    *out_ms = t;
            } else if (neonflow__operation_list_append(running, op) != 0) {
                rc = neonflow__fail(r, NEONFLOW_ENOMEM, "out of memory");
                break;
            }
        }
    int64_t later = 0;
    if (rc == NEONFLOW_OK && neonflow_operation_list_count(running))
        rc = neonflow__wait_ops_done_at(r, running, &later);
    if (later > *out_ms)
        *out_ms = later;
    neonflow_operation_list_free(running);
    for (size_t k = 0; k < np; k++)
        neonflow_operation_list_free(pages[k]);
    return rc;
}

int neonflow__switch_time(neonflow__run *r, const char *new_target_id, const char *backup_id, const char *ep_id,
                          int64_t not_before_ms, const char *backup_updated_at, int64_t *out_ms, const char **how)
{
    *out_ms = 0;
    if (!ep_id || !*ep_id) { /* no compute to restart: the rename is the switch */
        *out_ms = neonflow__time_upper_ms(backup_updated_at);
        *how = "backup-renamed";
    } else {
        int rc = from_log(r, new_target_id, backup_id, ep_id, not_before_ms, out_ms);
        if (rc != NEONFLOW_OK)
            return rc;
        *how = "finalize-operations";
    }
    if (*out_ms <= 0) {
        *out_ms = neonflow__run_wall_ms(r);
        *how = "checked-at";
        neonflow__emit(r, NEONFLOW_EVENT_WARNING,
                       "the operations of the switch to %s were not found any more: the lost-write window's end is "
                       "the time this run checked (an upper bound, later than the switch)",
                       new_target_id);
    }
    return NEONFLOW_OK;
}
