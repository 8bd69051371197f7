/* Branch routes: list (search, sort, cursor pages of at most 100), count, get,
 * create, update, delete, set_as_default, backup_schedule. */
#include "emu_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t emu_emit(emu_ctx *c, json_t *arr, const char *action, const char *branch_id,
                 const char *endpoint_id)
{
    emu_op *op = emu_op_new(c->s, c->proj, action, branch_id, endpoint_id);
    if (!op)
        return 0;
    json_array_append_new(arr, emu_json_op(op, c->proj));
    return op->created_mono + emu_op_end_offset(op);
}

int emu_check_time(emu_ctx *c, const char *what, const char *value)
{
    if (emu_parse_time_ms(value) < 0) {
        emu_err(c, 400, "", "%s must be an RFC 3339 timestamp", what);
        return -1;
    }
    return 0;
}

static int check_name(emu_ctx *c, const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > 256) {
        emu_err(c, 400, "", "branch name must be 1 to 256 characters");
        return -1;
    }
    return 0;
}

static int parse_int_param(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

typedef struct sort_spec {
    int by; /* 0 updated_at, 1 created_at, 2 name */
    int desc;
} sort_spec;

static int cmp_branch(const void *a, const void *b, void *arg)
{
    const emu_branch *x = *(emu_branch *const *)a, *y = *(emu_branch *const *)b;
    const sort_spec *sp = arg;
    int r;
    if (sp->by == 2)
        r = strcmp(x->name, y->name);
    else {
        int64_t kx = sp->by == 1 ? x->created_ms : x->updated_ms;
        int64_t ky = sp->by == 1 ? y->created_ms : y->updated_ms;
        r = kx < ky ? -1 : kx > ky;
    }
    if (r == 0) /* stable order across pages */
        r = x->seq < y->seq ? -1 : x->seq > y->seq;
    return sp->desc ? -r : r;
}

/* Keyset cursors, as Neon's (its spec links keyset pagination; its cursors
 * encode the last row's sort key): "k<by><desc>-<seq>-<key>" where key is
 * the sort value of the last branch of the page (ms, or the name in hex).
 * A branch deleted or added between pages shifts nothing, unlike an offset. */
static void cursor_make(char *out, size_t size, const emu_branch *last, const sort_spec *sp)
{
    int n = snprintf(out, size, "k%d%d-%llu-", sp->by, sp->desc, (unsigned long long)last->seq);
    if (sp->by != 2) {
        snprintf(out + n, size - (size_t)n, "%lld",
                 (long long)(sp->by == 1 ? last->created_ms : last->updated_ms));
        return;
    }
    for (const unsigned char *q = (const unsigned char *)last->name; *q && (size_t)n + 3 < size; q++)
        n += snprintf(out + n, size - (size_t)n, "%02x", *q);
}

/* Fills *key (name into namebuf) from a cursor made for sp; -1 when malformed or for another sort. */
static int cursor_parse(const char *cur, const sort_spec *sp, emu_branch *key, char *namebuf, size_t size)
{
    unsigned long long seq;
    int by, desc, pos = 0;
    if (sscanf(cur, "k%1d%1d-%llu-%n", &by, &desc, &seq, &pos) != 3 || pos == 0)
        return -1;
    if (by != sp->by || desc != sp->desc)
        return -1;
    memset(key, 0, sizeof(*key));
    key->seq = seq;
    const char *k = cur + pos;
    if (by != 2) {
        char *end;
        errno = 0;
        long long v = strtoll(k, &end, 10);
        if (errno || end == k || *end)
            return -1;
        key->created_ms = key->updated_ms = v;
        return 0;
    }
    size_t len = strlen(k);
    if (len == 0 || len % 2 || len / 2 >= size)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        unsigned v;
        if (sscanf(k + 2 * i, "%2x", &v) != 1 || v == 0)
            return -1;
        namebuf[i] = (char)v;
    }
    namebuf[len / 2] = '\0';
    key->name = namebuf;
    return 0;
}

static int matches_search(const emu_branch *b, const char *q)
{
    return !q || !*q || strcasestr(b->name, q) || strcasestr(b->id, q);
}

void emu_branches_list(emu_ctx *c)
{
    emu_project *p = c->proj;
    emu_purge_expired_branches(p);
    const char *search = emu_query(c, "search"), *by = emu_query(c, "sort_by");
    const char *order = emu_query(c, "sort_order"), *cursor = emu_query(c, "cursor");
    const char *lim = emu_query(c, "limit");
    sort_spec sp = {0, 1};
    long limit = 100;
    emu_branch after; /* the sort key of the previous page's last branch */
    char after_name[300];
    int have_after = 0;
    if (by && strcmp(by, "updated_at") != 0) {
        if (strcmp(by, "created_at") == 0)
            sp.by = 1;
        else if (strcmp(by, "name") == 0)
            sp.by = 2;
        else
            EMU_FAIL(c, 400, "", "sort_by must be one of name, created_at, updated_at");
    }
    if (order && strcmp(order, "desc") != 0) {
        if (strcmp(order, "asc") != 0)
            EMU_FAIL(c, 400, "", "sort_order must be asc or desc");
        sp.desc = 0;
    }
    if (lim && parse_int_param(lim, 1, 10000, &limit) != 0)
        EMU_FAIL(c, 400, "", "limit must be an integer between 1 and 10000");
    if (limit > 100)
        limit = 100; /* Neon caps pages at 100 */
    if (cursor && *cursor) {
        if (cursor_parse(cursor, &sp, &after, after_name, sizeof(after_name)) != 0)
            EMU_FAIL(c, 400, "", "invalid cursor (or one made for another sort)");
        have_after = 1;
    }
    emu_branch **arr = malloc((p->branches.n + 1) * sizeof(*arr));
    if (!arr)
        EMU_FAIL(c, 500, "", "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < p->branches.n; i++)
        if (matches_search(p->branches.v[i], search)) {
            const emu_branch *key = &after, *br = p->branches.v[i];
            if (!have_after || cmp_branch(&br, &key, &sp) > 0)
                arr[n++] = p->branches.v[i];
        }
    qsort_r(arr, n, sizeof(*arr), cmp_branch, &sp);
    json_t *list = json_array(), *anns = json_object();
    size_t end = (size_t)limit;
    for (size_t i = 0; i < n && i < end; i++) {
        json_array_append_new(list, emu_json_branch(arr[i], p));
        if (arr[i]->annotation) /* keyed by branch id, for the annotated branches of the page */
            json_object_set_new(anns, arr[i]->id, emu_json_annotation(arr[i]));
    }
    char next[sizeof(after_name) * 2 + 64];
    if (end < n)
        cursor_make(next, sizeof(next), arr[end - 1], &sp);
    free(arr);
    json_t *pag = json_pack("{s:s, s:s}", "sort_by", sp.by == 2 ? "name" : sp.by == 1 ? "created_at" : "updated_at",
                            "sort_order", sp.desc ? "desc" : "asc");
    if (end < n)
        json_object_set_new(pag, "next", json_string(next));
    emu_ok(c, 200, json_pack("{s:o, s:o, s:o}", "branches", list, "annotations", anns, "pagination", pag));
}

void emu_branches_count(emu_ctx *c)
{
    const char *search = emu_query(c, "search");
    json_int_t n = 0;
    emu_purge_expired_branches(c->proj);
    for (size_t i = 0; i < c->proj->branches.n; i++)
        if (matches_search(c->proj->branches.v[i], search))
            n++;
    emu_ok(c, 200, json_pack("{s:I}", "count", n));
}

static emu_branch *branch_or_404(emu_ctx *c)
{
    emu_purge_expired_branches(c->proj);
    emu_branch *b = emu_branch_find(c->proj, c->seg[3]);
    if (!b)
        emu_err(c, 404, "", "branch not found");
    return b;
}

void emu_branch_get(emu_ctx *c)
{
    emu_branch *b = branch_or_404(c);
    if (!b)
        return;
    emu_ok(c, 200, json_pack("{s:o, s:o}", "branch", emu_json_branch(b, c->proj), "annotation",
                             emu_json_annotation(b)));
}

/* Validates `endpoints: [{type, compute settings}]`; returns the count or -1 (error set). */
static int check_endpoints(emu_ctx *c, json_t *eps, int *types, emu_ep_settings *sets)
{
    size_t i;
    json_t *e;
    int rw = 0;
    if (!eps || json_is_null(eps))
        return 0;
    if (!json_is_array(eps) || json_array_size(eps) > 10) {
        emu_err(c, 400, "", "endpoints must be an array of at most 10 items");
        return -1;
    }
    json_array_foreach(eps, i, e) {
        const char *t = NULL;
        if (!json_is_object(e)) {
            emu_err(c, 400, "", "endpoints[%zu] must be an object", i);
            return -1;
        }
        if (emu_get_str(c, e, "type", &t) < 0)
            return -1;
        if (!t || (strcmp(t, "read_write") != 0 && strcmp(t, "read_only") != 0)) {
            emu_err(c, 400, "", "endpoints[%zu].type must be read_write or read_only", i);
            return -1;
        }
        char where[32];
        snprintf(where, sizeof(where), "endpoints[%zu]", i);
        if (emu_ep_settings_parse(c, e, where, &sets[i]) != 0)
            return -1;
        types[i] = strcmp(t, "read_write") == 0;
        rw += types[i];
    }
    if (rw > 1) {
        emu_err(c, 409, "", "read-write endpoint already exists on this branch");
        return -1;
    }
    return (int)json_array_size(eps);
}

void emu_branch_create(emu_ctx *c)
{
    emu_project *p = c->proj;
    int bad, prot = 0, types[10];
    const char *parent_id = NULL, *name = NULL, *expires = NULL, *plsn = NULL, *pts = NULL, *init = NULL;
    emu_ep_settings sets[10];
    json_t *bo = emu_get_obj(c, c->body, "branch", &bad);
    if (bad)
        return;
    if (emu_get_str(c, bo, "parent_id", &parent_id) < 0 || emu_get_str(c, bo, "name", &name) < 0 ||
        emu_get_bool(c, bo, "protected", &prot) < 0 || emu_get_str(c, bo, "expires_at", &expires) < 0 ||
        emu_get_str(c, bo, "parent_lsn", &plsn) < 0 || emu_get_str(c, bo, "parent_timestamp", &pts) < 0 ||
        emu_get_str(c, bo, "init_source", &init) < 0)
        return;
    if (name && check_name(c, name) != 0)
        return;
    if (expires && emu_check_time(c, "expires_at", expires) != 0)
        return;
    int neps = check_endpoints(c, json_object_get(c->body, "endpoints"), types, sets);
    if (neps < 0)
        return;
    json_t *ann = json_object_get(c->body, "annotation_value");
    if (ann && !json_is_null(ann)) {
        const char *k;
        json_t *v;
        if (!json_is_object(ann))
            EMU_FAIL(c, 400, "", "annotation_value must be an object of strings");
        json_object_foreach(ann, k, v) {
            if (!json_is_string(v))
                EMU_FAIL(c, 400, "", "annotation_value.%s must be a string", k);
        }
    }
    emu_purge_expired_branches(p);
    emu_branch *parent = parent_id ? emu_branch_find(p, parent_id) : emu_branch_default(p);
    if (!parent)
        EMU_FAIL(c, parent_id ? 404 : 400, "", parent_id ? "parent branch not found" : "project has no default branch");
    if (name && emu_branch_find_name(p, name))
        EMU_FAIL(c, 409, "", "branch already exists: a branch with name \"%s\" already exists", name);
    if (c->s->pg) { /* --postgres: the present only, and whole copies */
        if (emu_pgb_check_point(c, parent, plsn, pts) != 0)
            return;
        if (init && strcmp(init, "schema-only") == 0)
            EMU_FAIL(c, 400, "", "init_source schema-only is not supported in --postgres mode");
        plsn = pts = NULL; /* checked: the parent's present */
    }
    if (init && strcmp(init, "schema-only") == 0 && emu_count_roots(p) >= p->max_roots)
        EMU_FAIL(c, 422, "ROOT_BRANCHES_LIMIT_EXCEEDED", "root branches limit exceeded: the project already has %d",
                 (int)p->max_roots);
    emu_branch *b = emu_branch_new(c->s, p, name, parent);
    if (!b)
        EMU_FAIL(c, 500, "", "out of memory");
    if (emu_branch_init_point(c, b, parent, plsn, pts, init) != 0) {
        emu_branch_remove(p, b); /* nothing was emitted yet */
        return;
    }
    if (emu_pgb_branch_child(c, c->s, p, b, parent) != 0) {
        emu_branch_remove(p, b);
        if (c->status == 400) /* the point is outside the kept history */
            return;
        EMU_FAIL(c, 500, "", "cannot copy the parent branch's data directory");
    }
    b->is_protected = prot;
    emu_set_str(&b->expires_at, expires);
    if (ann && json_is_object(ann))
        b->annotation = json_deep_copy(ann);
    json_t *ops = json_array(), *eps = json_array();
    b->ready_at_mono = emu_emit(c, ops, "create_branch", b->id, NULL);
    for (int i = 0; i < neps; i++) {
        emu_endpoint *e = emu_endpoint_new(c->s, p, b->id, types[i]);
        if (!e)
            continue;
        /* checked above, so only out of memory fails here (the 201 below replaces its error) */
        (void)emu_ep_settings_apply(c, e, &sets[i]);
        e->ready_at_mono = emu_emit(c, ops, "start_compute", b->id, e->id);
        json_array_append_new(eps, emu_json_endpoint(e, p));
    }
    emu_ok(c, 201, json_pack("{s:o, s:o, s:o, s:[], s:[], s:[]}", "branch", emu_json_branch(b, p),
                             "endpoints", eps, "operations", ops, "roles", "databases", "connection_uris"));
}

void emu_branch_update(emu_ctx *c)
{
    int bad, prot = 0, has_prot;
    const char *name = NULL, *expires = NULL;
    emu_branch *b = branch_or_404(c);
    if (!b)
        return;
    json_t *bo = emu_get_obj(c, c->body, "branch", &bad);
    if (bad)
        return;
    if (!bo)
        EMU_FAIL(c, 400, "", "request body must contain a branch object");
    json_t *exp = json_object_get(bo, "expires_at");
    if (emu_get_str(c, bo, "name", &name) < 0 || (has_prot = emu_get_bool(c, bo, "protected", &prot)) < 0 ||
        emu_get_str(c, bo, "expires_at", &expires) < 0)
        return;
    if (name && check_name(c, name) != 0)
        return;
    if (expires && emu_check_time(c, "expires_at", expires) != 0)
        return;
    emu_branch *other = name ? emu_branch_find_name(c->proj, name) : NULL;
    if (other && other != b)
        EMU_FAIL(c, 409, "", "branch already exists: a branch with name \"%s\" already exists", name);
    if (name)
        emu_set_str(&b->name, name);
    if (has_prot)
        b->is_protected = prot;
    if (expires || (exp && json_is_null(exp)))
        emu_set_str(&b->expires_at, expires);
    b->updated_ms = emu_now_ms();
    emu_ok(c, 200, json_pack("{s:o, s:[]}", "branch", emu_json_branch(b, c->proj), "operations"));
}

void emu_branch_delete(emu_ctx *c)
{
    emu_project *p = c->proj;
    const char *hard_s = emu_query(c, "hard_delete");
    if (hard_s && strcmp(hard_s, "true") != 0 && strcmp(hard_s, "false") != 0)
        EMU_FAIL(c, 400, "", "hard_delete must be true or false");
    emu_purge_expired_branches(p);
    emu_branch *b = emu_branch_find(p, c->seg[3]);
    if (!b)
        {
        emu_ok(c, 204, NULL);
        return;
    }
    if (b->is_default)
        EMU_FAIL(c, 400, "", "cannot delete the project's default branch");
    if (b->is_protected)
        EMU_FAIL(c, 400, "", "cannot delete a protected branch");
    if (emu_has_children(p, b))
        EMU_FAIL(c, 400, "", "cannot delete a branch that has children");
    json_t *ops = json_array();
    for (size_t i = 0; i < p->endpoints.n;) {
        emu_endpoint *e = p->endpoints.v[i];
        if (strcmp(e->branch_id, b->id) == 0) {
            emu_emit(c, ops, "suspend_compute", b->id, e->id);
            emu_endpoint_remove(p, e);
        } else {
            i++;
        }
    }
    emu_emit(c, ops, "delete_timeline", b->id, NULL);
    json_t *bj = emu_json_branch(b, p);
    emu_deleted *d = calloc(1, sizeof(*d));
    if (d) { /* kept for the state dump: tests check what the request asked */
        snprintf(d->id, sizeof(d->id), "%s", b->id);
        d->hard = hard_s && strcmp(hard_s, "true") == 0;
        if (p->deleted.n >= EMU_DELETED_MAX) {
            free(p->deleted.v[0]);
            emu_vec_remove(&p->deleted, 0);
        }
        if (emu_vec_push(&p->deleted, d) != 0)
            free(d);
    }
    emu_branch_remove(p, b);
    emu_ok(c, 200, json_pack("{s:o, s:o}", "branch", bj, "operations", ops));
}

void emu_branch_set_default(emu_ctx *c)
{
    emu_branch *b = branch_or_404(c);
    if (!b)
        return;
    emu_branch *old = emu_branch_default(c->proj);
    if (old && old != b) {
        old->is_default = 0;
        old->updated_ms = emu_now_ms();
    }
    b->is_default = 1;
    b->updated_ms = emu_now_ms();
    emu_ok(c, 200, json_pack("{s:o, s:[]}", "branch", emu_json_branch(b, c->proj), "operations"));
}

void emu_schedule_get(emu_ctx *c)
{
    emu_branch *b = branch_or_404(c);
    if (b)
        emu_ok(c, 200, json_pack("{s:O}", "schedule", b->schedule));
}

static int check_int_member(emu_ctx *c, json_t *item, const char *key, json_int_t lo, json_int_t hi)
{
    json_t *v = json_object_get(item, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        emu_err(c, 400, "", "schedule %s must be an integer between %lld and %lld", key, (long long)lo,
                (long long)hi);
        return -1;
    }
    return 0;
}

void emu_schedule_put(emu_ctx *c)
{
    static const char *const freqs[] = {"hourly", "daily", "weekly", "monthly", "yearly"};
    emu_branch *b = branch_or_404(c);
    if (!b)
        return;
    json_t *sch = json_object_get(c->body, "schedule"), *item;
    size_t i;
    if (!json_is_array(sch))
        EMU_FAIL(c, 400, "", "schedule must be an array");
    if (b->parent_id[0])
        EMU_FAIL(c, 400, "", "backup schedules apply only to root branches");
    json_array_foreach(sch, i, item) {
        const char *f = NULL;
        int ok = 0;
        if (!json_is_object(item))
            EMU_FAIL(c, 400, "", "schedule[%zu] must be an object", i);
        if (emu_get_str(c, item, "frequency", &f) < 0)
            return;
        for (size_t k = 0; f && k < sizeof(freqs) / sizeof(*freqs); k++)
            ok |= strcmp(f, freqs[k]) == 0;
        if (!ok)
            EMU_FAIL(c, 400, "", "schedule[%zu].frequency must be one of hourly, daily, weekly, monthly, yearly", i);
        if (check_int_member(c, item, "hour", 0, 23) || check_int_member(c, item, "day", 1, 31) ||
            check_int_member(c, item, "month", 1, 12) ||
            check_int_member(c, item, "retention_seconds", 3600, 3024000))
            return;
    }
    json_decref(b->schedule);
    b->schedule = json_deep_copy(sch);
    emu_ok(c, 200, json_object());
}
