/* Projects, endpoints (one read_write per branch) and operations. */
#include "emu_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* limit/cursor honoured when given (Neon's CLI pages until a short page;
 * the cursor is the last project's id); without limit, every project. */
void emu_projects_list(emu_ctx *c)
{
    const char *lim = emu_query(c, "limit"), *cursor = emu_query(c, "cursor");
    long limit = -1;
    size_t start = 0;
    if (lim) {
        char *end;
        errno = 0;
        limit = strtol(lim, &end, 10);
        if (errno || end == lim || *end || limit < 1 || limit > 400)
            EMU_FAIL(c, 400, "", "limit must be an integer between 1 and 400");
    }
    if (cursor && *cursor) {
        emu_project *after = emu_project_find(c->s, cursor);
        if (!after)
            EMU_FAIL(c, 400, "", "invalid cursor");
        while (c->s->projects.v[start] != after)
            start++;
        start++;
    }
    json_t *arr = json_array();
    const emu_project *last = NULL;
    for (size_t i = start; i < c->s->projects.n && (limit < 0 || (long)json_array_size(arr) < limit); i++) {
        last = c->s->projects.v[i];
        json_array_append_new(arr, emu_json_project(last));
    }
    json_t *out = json_pack("{s:o}", "projects", arr);
    if (last)
        json_object_set_new(out, "pagination", json_pack("{s:s}", "cursor", last->id));
    emu_ok(c, 200, out);
}

void emu_project_get(emu_ctx *c)
{
    emu_ok(c, 200, json_pack("{s:o}", "project", emu_json_project(c->proj)));
}

static void list_endpoints(emu_ctx *c, const char *branch_id)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < c->proj->endpoints.n; i++) {
        emu_endpoint *e = c->proj->endpoints.v[i];
        if (!branch_id || strcmp(e->branch_id, branch_id) == 0)
            json_array_append_new(arr, emu_json_endpoint(e, c->proj));
    }
    emu_ok(c, 200, json_pack("{s:o}", "endpoints", arr));
}

void emu_endpoints_list(emu_ctx *c)
{
    list_endpoints(c, NULL);
}

void emu_branch_endpoints_list(emu_ctx *c)
{
    if (!emu_branch_find(c->proj, c->seg[3]))
        EMU_FAIL(c, 404, "", "branch not found");
    list_endpoints(c, c->seg[3]);
}

void emu_endpoint_get(emu_ctx *c)
{
    emu_endpoint *e = emu_endpoint_find(c->proj, c->seg[3]);
    if (!e)
        EMU_FAIL(c, 404, "", "endpoint not found");
    emu_ok(c, 200, json_pack("{s:o}", "endpoint", emu_json_endpoint(e, c->proj)));
}

void emu_endpoint_create(emu_ctx *c)
{
    emu_project *p = c->proj;
    int bad;
    const char *branch_id = NULL, *type = NULL, *region = NULL;
    emu_ep_settings st;
    json_t *eo = emu_get_obj(c, c->body, "endpoint", &bad);
    if (bad)
        return;
    if (!eo)
        EMU_FAIL(c, 400, "", "request body must contain an endpoint object");
    if (emu_get_str(c, eo, "branch_id", &branch_id) < 0 || emu_get_str(c, eo, "type", &type) < 0 ||
        emu_get_str(c, eo, "region_id", &region) < 0 || emu_ep_settings_parse(c, eo, "endpoint", &st) != 0)
        return;
    if (!branch_id)
        EMU_FAIL(c, 400, "", "endpoint.branch_id is required");
    if (!type || (strcmp(type, "read_write") != 0 && strcmp(type, "read_only") != 0))
        EMU_FAIL(c, 400, "", "endpoint.type must be read_write or read_only");
    if (region && strcmp(region, "aws-us-east-2") != 0)
        EMU_FAIL(c, 400, "", "region_id must be the project's region (aws-us-east-2)");
    emu_branch *b = emu_branch_find(p, branch_id);
    if (!b)
        EMU_FAIL(c, 404, "", "branch not found");
    int rw = strcmp(type, "read_write") == 0;
    if (rw && emu_endpoint_rw_of(p, b->id))
        EMU_FAIL(c, 409, "", "read-write endpoint already exists on branch %s", b->id);
    emu_endpoint *e = emu_endpoint_new(c->s, p, b->id, rw);
    if (!e)
        EMU_FAIL(c, 500, "", "out of memory");
    if (emu_ep_settings_apply(c, e, &st) != 0) {
        emu_endpoint_remove(p, e);
        return;
    }
    json_t *ops = json_array();
    e->ready_at_mono = emu_emit(c, ops, "start_compute", b->id, e->id);
    emu_ok(c, 201, json_pack("{s:o, s:o}", "endpoint", emu_json_endpoint(e, p), "operations", ops));
}

void emu_endpoint_delete(emu_ctx *c)
{
    emu_endpoint *e = emu_endpoint_find(c->proj, c->seg[3]);
    if (!e) {
        emu_ok(c, 204, NULL);
        return;
    }
    json_t *ops = json_array();
    emu_emit(c, ops, "suspend_compute", e->branch_id, e->id);
    json_t *ej = emu_json_endpoint(e, c->proj);
    emu_endpoint_remove(c->proj, e);
    emu_ok(c, 200, json_pack("{s:o, s:o}", "endpoint", ej, "operations", ops));
}

/* ---- operations: newest first; the cursor is the last item's creation
 * time with microseconds (unique per server), as Neon's looks. */

void emu_operations_list(emu_ctx *c)
{
    emu_project *p = c->proj;
    const char *cursor = emu_query(c, "cursor"), *lim = emu_query(c, "limit");
    long limit = 100;
    int64_t before = INT64_MAX;
    if (lim) {
        char *end;
        errno = 0;
        limit = strtol(lim, &end, 10);
        if (errno || end == lim || *end || limit < 1 || limit > 1000)
            EMU_FAIL(c, 400, "", "limit must be an integer between 1 and 1000");
    }
    if (cursor && *cursor) {
        before = emu_parse_time_us(cursor);
        if (before < 0)
            EMU_FAIL(c, 400, "", "invalid cursor");
    }
    json_t *arr = json_array();
    int64_t last = -1;
    for (size_t i = p->ops.n; i-- > 0 && (long)json_array_size(arr) < limit;) {
        emu_op *op = p->ops.v[i];
        if (op->created_us >= before)
            continue;
        json_array_append_new(arr, emu_json_op(op, p));
        last = op->created_us;
    }
    json_t *out = json_pack("{s:o}", "operations", arr);
    if (last >= 0) {
        char buf[48];
        emu_fmt_time_us(last, buf, sizeof(buf));
        json_object_set_new(out, "pagination", json_pack("{s:s}", "cursor", buf));
    }
    emu_ok(c, 200, out);
}

void emu_operation_get(emu_ctx *c)
{
    emu_op *op = emu_op_find(c->proj, c->seg[3]);
    if (!op)
        EMU_FAIL(c, 404, "", "operation not found");
    emu_ok(c, 200, json_pack("{s:o}", "operation", emu_json_op(op, c->proj)));
}
