/* The in-memory model: projects, branches (content + LSN history), endpoints,
 * snapshots and operations whose status is derived lazily from the clock. */
#include "emu_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

emu_project *emu_project_find(emu_server *s, const char *id)
{
    if (!id)
        return NULL;
    for (size_t i = 0; i < s->projects.n; i++) {
        emu_project *p = s->projects.v[i];
        if (strcmp(p->id, id) == 0)
            return p;
    }
    return NULL;
}

emu_project *emu_project_new(emu_server *s, const char *id, const char *name)
{
    emu_project *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    snprintf(p->id, sizeof(p->id), "%s", id);
    p->name = strdup(name ? name : id);
    p->created_ms = emu_now_ms();
    p->max_roots = s->max_roots_default;
    p->max_snaps = s->max_snaps_default;
    if (!p->name || emu_vec_push(&s->projects, p) != 0) {
        free(p->name);
        free(p);
        return NULL;
    }
    return p;
}

emu_branch *emu_branch_find(emu_project *p, const char *id)
{
    if (!p || !id)
        return NULL;
    for (size_t i = 0; i < p->branches.n; i++) {
        emu_branch *b = p->branches.v[i];
        if (strcmp(b->id, id) == 0)
            return b;
    }
    return NULL;
}

emu_branch *emu_branch_find_name(emu_project *p, const char *name)
{
    for (size_t i = 0; i < p->branches.n; i++) {
        emu_branch *b = p->branches.v[i];
        if (strcmp(b->name, name) == 0)
            return b;
    }
    return NULL;
}

emu_branch *emu_branch_default(emu_project *p)
{
    for (size_t i = 0; i < p->branches.n; i++) {
        emu_branch *b = p->branches.v[i];
        if (b->is_default)
            return b;
    }
    return NULL;
}

static int hist_push(emu_branch *b, uint64_t lsn, int64_t ts_ms, const char *content)
{
    if (b->nhist == EMU_HIST_MAX) { /* forget the oldest write */
        free(b->hist[0].content);
        memmove(&b->hist[0], &b->hist[1], (b->nhist - 1) * sizeof(*b->hist));
        b->nhist--;
    }
    if (b->nhist == b->caphist) {
        size_t ncap = b->caphist ? b->caphist * 2 : 4;
        emu_hist *nh = realloc(b->hist, ncap * sizeof(*nh));
        if (!nh)
            return -1;
        b->hist = nh;
        b->caphist = ncap;
    }
    char *c = strdup(content ? content : "");
    if (!c)
        return -1;
    b->hist[b->nhist++] = (emu_hist){lsn, ts_ms, c};
    return 0;
}

/* A root starts at a seeded LSN; a child copies its parent's head. */
emu_branch *emu_branch_new(emu_server *s, emu_project *p, const char *name, const emu_branch *parent)
{
    emu_branch *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    do
        emu_gen_id(s, "br", b->id, sizeof(b->id));
    while (emu_branch_find(p, b->id));
    int64_t now = emu_now_ms();
    b->name = strdup(name ? name : b->id);
    b->created_ms = b->updated_ms = b->state_changed_ms = now;
    b->seq = p->next_seq++;
    if (parent) {
        snprintf(b->parent_id, sizeof(b->parent_id), "%s", parent->id);
        b->parent_lsn = parent->lsn;
        b->parent_ts_ms = now;
        b->lsn = parent->lsn;
        b->content = strdup(parent->content ? parent->content : "");
    } else {
        b->lsn = 0x01500000ull + ((emu_rand(s) % 0x100000) & ~7ull);
        b->content = strdup("");
    }
    b->schedule = json_array();
    /* roles and databases: a child's are its parent's (same passwords); a root gets Neon's seed */
    int roles_rc = parent ? emu_branch_copy_roles(b, parent) : emu_branch_seed_roles(s, b);
    if (!b->name || !b->content || !b->schedule || roles_rc != 0 || hist_push(b, b->lsn, now, b->content) != 0 ||
        emu_vec_push(&p->branches, b) != 0) {
        emu_branch_free(b);
        return NULL;
    }
    return b;
}

void emu_branch_free(emu_branch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->nhist; i++)
        free(b->hist[i].content);
    free(b->hist);
    free(b->name);
    free(b->expires_at);
    free(b->content);
    json_decref(b->schedule);
    json_decref(b->annotation);
    emu_branch_free_roles(b);
    free(b);
}

void emu_branch_remove(emu_project *p, emu_branch *b)
{
    for (size_t i = 0; i < p->branches.n; i++)
        if (p->branches.v[i] == b) {
            emu_vec_remove(&p->branches, i);
            break;
        }
    emu_branch_free(b);
}

int emu_branch_write(emu_branch *b, emu_server *s, const char *content)
{
    char *c = strdup(content ? content : "");
    if (!c)
        return -1;
    uint64_t lsn = b->lsn + 0x100 + ((emu_rand(s) % 0x2000) & ~7ull);
    if (hist_push(b, lsn, emu_now_ms(), c) != 0) {
        free(c);
        return -1;
    }
    free(b->content);
    b->content = c;
    b->lsn = lsn;
    return 0;
}

/* The newest remembered state at or before lsn (NULL: before the window). */
const emu_hist *emu_branch_at_lsn(const emu_branch *b, uint64_t lsn)
{
    const emu_hist *best = NULL;
    for (size_t i = 0; i < b->nhist; i++)
        if (b->hist[i].lsn <= lsn)
            best = &b->hist[i];
    return best;
}

const emu_hist *emu_branch_at_time(const emu_branch *b, int64_t ts_ms)
{
    const emu_hist *best = NULL;
    for (size_t i = 0; i < b->nhist; i++)
        if (b->hist[i].ts_ms <= ts_ms)
            best = &b->hist[i];
    /* The creation entry is stamped in ms: accept a time within its second. */
    if (!best && b->nhist && ts_ms / 1000 == b->hist[0].ts_ms / 1000)
        best = &b->hist[0];
    return best;
}

int emu_count_roots(const emu_project *p)
{
    int n = 0;
    for (size_t i = 0; i < p->branches.n; i++)
        if (!((emu_branch *)p->branches.v[i])->parent_id[0] || ((emu_branch *)p->branches.v[i])->schema_only)
            n++; /* Neon counts schema-only branches as roots */
    return n;
}

void emu_purge_expired_snapshots(emu_project *p)
{
    int64_t now = emu_now_ms();
    for (size_t i = 0; i < p->snapshots.n;) {
        emu_snapshot *sn = p->snapshots.v[i];
        int64_t exp = sn->expires_at ? emu_parse_time_ms(sn->expires_at) : -1;
        if (exp >= 0 && exp <= now) {
            emu_vec_remove(&p->snapshots, i);
            emu_snapshot_free(sn);
        } else {
            i++;
        }
    }
}

void emu_purge_expired_branches(emu_project *p)
{
    int64_t now = emu_now_ms();
    if (p->keep_expired)
        return;
    for (size_t i = 0; i < p->branches.n;) {
        emu_branch *b = p->branches.v[i];
        int64_t exp = b->expires_at ? emu_parse_time_ms(b->expires_at) : -1;
        if (exp < 0 || exp > now || b->is_default || b->is_protected || emu_has_children(p, b)) {
            i++;
            continue;
        }
        for (size_t k = 0; k < p->endpoints.n;) {
            emu_endpoint *e = p->endpoints.v[k];
            if (strcmp(e->branch_id, b->id) == 0)
                emu_endpoint_remove(p, e);
            else
                k++;
        }
        emu_branch_remove(p, b); /* i now holds the next branch */
    }
}

json_t *emu_json_annotation(const emu_branch *b)
{
    char t[40];
    emu_fmt_time(b->created_ms, t, sizeof(t));
    json_t *value = b->annotation ? json_deep_copy(b->annotation) : json_object();
    return json_pack("{s:{s:s, s:s}, s:o, s:s, s:s}", "object", "type", "console/branch", "id", b->id, "value",
                     value, "created_at", t, "updated_at", t);
}

int emu_count_manual_snapshots(emu_project *p)
{
    int n = 0;
    emu_purge_expired_snapshots(p);
    for (size_t i = 0; i < p->snapshots.n; i++)
        if (((emu_snapshot *)p->snapshots.v[i])->manual)
            n++;
    return n;
}

int emu_has_children(const emu_project *p, const emu_branch *b)
{
    for (size_t i = 0; i < p->branches.n; i++)
        if (strcmp(((emu_branch *)p->branches.v[i])->parent_id, b->id) == 0)
            return 1;
    return 0;
}

/* "<base> (old)", then "<base> (old 2)", ... until no branch has the name. */
void emu_unique_old_name(emu_project *p, const char *base, char *out, size_t len)
{
    snprintf(out, len, "%.230s (old)", base);
    for (int i = 2; emu_branch_find_name(p, out); i++)
        snprintf(out, len, "%.230s (old %d)", base, i);
}

emu_endpoint *emu_endpoint_find(emu_project *p, const char *id)
{
    for (size_t i = 0; i < p->endpoints.n; i++) {
        emu_endpoint *e = p->endpoints.v[i];
        if (strcmp(e->id, id) == 0)
            return e;
    }
    return NULL;
}

emu_endpoint *emu_endpoint_rw_of(emu_project *p, const char *branch_id)
{
    for (size_t i = 0; i < p->endpoints.n; i++) {
        emu_endpoint *e = p->endpoints.v[i];
        if (e->read_write && strcmp(e->branch_id, branch_id) == 0)
            return e;
    }
    return NULL;
}

emu_endpoint *emu_endpoint_new(emu_server *s, emu_project *p, const char *branch_id, int read_write)
{
    emu_endpoint *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    do
        emu_gen_id(s, "ep", e->id, sizeof(e->id));
    while (emu_endpoint_find(p, e->id));
    snprintf(e->branch_id, sizeof(e->branch_id), "%s", branch_id);
    snprintf(e->host, sizeof(e->host), "%s.us-east-2.emulator.neon.local", e->id);
    e->read_write = read_write;
    e->min_cu = e->max_cu = 0.25;
    e->created_ms = e->updated_ms = emu_now_ms();
    emu_pgb_endpoint_init(s, e);
    if (emu_vec_push(&p->endpoints, e) != 0) {
        free(e);
        return NULL;
    }
    return e;
}

void emu_endpoint_remove(emu_project *p, emu_endpoint *e)
{
    for (size_t i = 0; i < p->endpoints.n; i++)
        if (p->endpoints.v[i] == e) {
            emu_vec_remove(&p->endpoints, i);
            break;
        }
    emu_endpoint_free(e);
}

void emu_endpoint_free(emu_endpoint *e)
{
    if (!e)
        return;
    free(e->name);
    free(e->provisioner);
    json_decref(e->pg_settings);
    free(e);
}

emu_snapshot *emu_snapshot_find(emu_project *p, const char *id)
{
    for (size_t i = 0; i < p->snapshots.n; i++) {
        emu_snapshot *sn = p->snapshots.v[i];
        if (strcmp(sn->id, id) == 0)
            return sn;
    }
    return NULL;
}

void emu_snapshot_free(emu_snapshot *sn)
{
    if (!sn)
        return;
    free(sn->name);
    free(sn->slug);
    free(sn->expires_at);
    free(sn->content);
    free(sn);
}

void emu_project_free(emu_project *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->branches.n; i++)
        emu_branch_free(p->branches.v[i]);
    for (size_t i = 0; i < p->endpoints.n; i++)
        emu_endpoint_free(p->endpoints.v[i]);
    for (size_t i = 0; i < p->deleted.n; i++)
        free(p->deleted.v[i]);
    free(p->deleted.v);
    for (size_t i = 0; i < p->snapshots.n; i++)
        emu_snapshot_free(p->snapshots.v[i]);
    for (size_t i = 0; i < p->ops.n; i++)
        free(p->ops.v[i]);
    free(p->branches.v);
    free(p->endpoints.v);
    free(p->snapshots.v);
    free(p->ops.v);
    free(p->name);
    free(p);
}

/* ---- operations ----------------------------------------------------------
 * Timeline of one operation with duration d (ms after creation):
 *   plain:      scheduling [0, d/4), running [d/4, d), finished >= d
 *   error:      same, but `error` at d; cancelled: `cancelled` at d
 *   fail+recover: scheduling [0,d/4), running [d/4,d/2), failed [d/2, end),
 *                 finished >= end, end = d/2 + max(d/2, 100)
 * so a failure is observable even with d = 0. */
int64_t emu_op_end_offset(const emu_op *op)
{
    int64_t d = op->duration_ms;
    if (op->fixed_status[0])
        return 0;
    if (op->fault == EMU_OPFAULT_FAIL_THEN_RECOVER)
        return d / 2 + (d / 2 > 100 ? d / 2 : 100);
    return d;
}

static int status_terminal(const char *st)
{
    return strcmp(st, "finished") == 0 || strcmp(st, "error") == 0 ||
           strcmp(st, "cancelled") == 0 || strcmp(st, "skipped") == 0;
}

emu_op *emu_op_new(emu_server *s, emu_project *p, const char *action, const char *branch_id,
                   const char *endpoint_id)
{
    emu_op *op = calloc(1, sizeof(*op));
    if (!op)
        return NULL;
    emu_gen_uuid(s, op->id, sizeof(op->id));
    snprintf(op->action, sizeof(op->action), "%s", action);
    snprintf(op->branch_id, sizeof(op->branch_id), "%s", branch_id ? branch_id : "");
    snprintf(op->endpoint_id, sizeof(op->endpoint_id), "%s", endpoint_id ? endpoint_id : "");
    int64_t us = emu_now_ms() * 1000;
    if (us <= s->last_op_us)
        us = s->last_op_us + 1;
    s->last_op_us = us;
    op->created_us = us;
    op->created_mono = emu_mono_ms();
    op->duration_ms = s->op_duration_ms;
    for (size_t i = 0; i < s->opfaults.n; i++) {
        emu_opfault *f = s->opfaults.v[i];
        if (f->count > 0 && (!f->action || strcmp(f->action, action) == 0)) {
            op->fault = f->kind;
            if (--f->count == 0) {
                emu_vec_remove(&s->opfaults, i);
                free(f->action);
                free(f);
            }
            break;
        }
    }
    if (emu_vec_push(&p->ops, op) != 0) {
        free(op);
        return NULL;
    }
    /* error/cancelled end the lock at d like a success; failed keeps it. */
    int64_t end = op->created_mono + emu_op_end_offset(op);
    if (end > p->busy_until_mono)
        p->busy_until_mono = end;
    return op;
}

emu_op *emu_op_find(emu_project *p, const char *id)
{
    for (size_t i = p->ops.n; i-- > 0;) {
        emu_op *op = p->ops.v[i];
        if (strcmp(op->id, id) == 0)
            return op;
    }
    return NULL;
}

int emu_project_busy(const emu_project *p)
{
    return emu_mono_ms() < p->busy_until_mono;
}

json_t *emu_json_op(const emu_op *op, const emu_project *p)
{
    int64_t el = emu_mono_ms() - op->created_mono, d = op->duration_ms;
    int64_t changed = 0, total = el, retry_at = -1;
    const char *st = "finished", *err = NULL;
    int failures = 0;
    if (op->fixed_status[0]) {
        st = op->fixed_status;
        total = d;
    } else if (op->fault == EMU_OPFAULT_FAIL_THEN_RECOVER) {
        int64_t fail_at = d / 2, end = emu_op_end_offset(op);
        failures = el >= fail_at ? 1 : 0;
        if (el >= end) {
            st = "finished", changed = end, total = end;
        } else if (el >= fail_at) {
            st = "failed", changed = fail_at, retry_at = end;
            err = "emulated transient failure, will be retried";
        } else if (el >= d / 4) {
            st = "running", changed = d / 4;
        } else {
            st = "scheduling";
        }
    } else if (el >= d) {
        changed = total = d;
        st = op->fault == EMU_OPFAULT_ERROR       ? "error"
             : op->fault == EMU_OPFAULT_CANCELLED ? "cancelled"
                                                  : "finished";
        if (op->fault == EMU_OPFAULT_ERROR)
            err = "emulated operation error";
    } else if (el >= d / 4) {
        st = "running", changed = d / 4;
    } else {
        st = "scheduling";
    }
    /* times with microseconds, as Neon's are (its list cursor shows them) */
    char buf[48];
    int64_t created_us = op->created_us;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(op->id));
    json_object_set_new(o, "project_id", json_string(p->id));
    if (op->branch_id[0])
        json_object_set_new(o, "branch_id", json_string(op->branch_id));
    if (op->endpoint_id[0])
        json_object_set_new(o, "endpoint_id", json_string(op->endpoint_id));
    json_object_set_new(o, "action", json_string(op->action));
    json_object_set_new(o, "status", json_string(st));
    if (err)
        json_object_set_new(o, "error", json_string(err));
    json_object_set_new(o, "failures_count", json_integer(failures));
    if (retry_at >= 0) {
        emu_fmt_time_us(created_us + retry_at * 1000, buf, sizeof(buf));
        json_object_set_new(o, "retry_at", json_string(buf));
    }
    emu_fmt_time_us(created_us, buf, sizeof(buf));
    json_object_set_new(o, "created_at", json_string(buf));
    emu_fmt_time_us(created_us + changed * 1000, buf, sizeof(buf));
    json_object_set_new(o, "updated_at", json_string(buf));
    json_object_set_new(o, "total_duration_ms", json_integer(status_terminal(st) ? total : el));
    return o;
}

static void set_time(json_t *o, const char *key, int64_t ms)
{
    char buf[40];
    emu_fmt_time(ms, buf, sizeof(buf));
    json_object_set_new(o, key, json_string(buf));
}

static json_t *omit_fields(json_t *o, const emu_project *p)
{
    for (int i = 0; p && i < p->nomit; i++)
        json_object_del(o, p->omit[i]);
    return o;
}

json_t *emu_json_branch(const emu_branch *b, const emu_project *p)
{
    char buf[40];
    int ready = emu_mono_ms() >= b->ready_at_mono;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(b->id));
    json_object_set_new(o, "project_id", json_string(p->id));
    if (b->parent_id[0])
        json_object_set_new(o, "parent_id", json_string(b->parent_id));
    if (b->parent_lsn) {
        emu_fmt_lsn(b->parent_lsn, buf, sizeof(buf));
        json_object_set_new(o, "parent_lsn", json_string(buf));
    }
    if (b->parent_ts_ms)
        set_time(o, "parent_timestamp", b->parent_ts_ms);
    json_object_set_new(o, "name", json_string(b->name));
    json_object_set_new(o, "current_state", json_string(ready ? "ready" : "init"));
    if (!ready)
        json_object_set_new(o, "pending_state", json_string("ready"));
    set_time(o, "state_changed_at", b->state_changed_ms);
    json_object_set_new(o, "logical_size", json_integer(30785536));
    json_object_set_new(o, "creation_source", json_string("console"));
    json_object_set_new(o, "primary", json_boolean(b->is_default));
    json_object_set_new(o, "default", json_boolean(b->is_default));
    json_object_set_new(o, "protected", json_boolean(b->is_protected));
    json_object_set_new(o, "cpu_used_sec", json_integer(0));
    json_object_set_new(o, "compute_time_seconds", json_integer(0));
    json_object_set_new(o, "active_time_seconds", json_integer(0));
    json_object_set_new(o, "written_data_bytes", json_integer(0));
    json_object_set_new(o, "data_transfer_bytes", json_integer(0));
    set_time(o, "created_at", b->created_ms);
    set_time(o, "updated_at", b->updated_ms);
    if (b->expires_at)
        json_object_set_new(o, "expires_at", json_string(b->expires_at));
    json_object_set_new(o, "init_source", json_string(b->schema_only ? "schema-only" : "parent-data"));
    if (b->last_reset_ms)
        set_time(o, "last_reset_at", b->last_reset_ms);
    if (b->restore_status[0]) {
        json_object_set_new(o, "restore_status", json_string(b->restore_status));
        json_object_set_new(o, "restored_from", json_string(b->restored_from));
        json_object_set_new(o, "restored_as", json_string(b->restored_as));
    }
    if (b->nrestrict > 0) {
        json_t *ra = json_array();
        for (int i = 0; i < b->nrestrict; i++)
            json_array_append_new(ra, json_pack("{s:s, s:s}", "name", b->restrict_name[i], "reason",
                                                b->restrict_reason[i]));
        json_object_set_new(o, "restricted_actions", ra);
    }
    return omit_fields(o, p);
}

int emu_branch_restrict(emu_branch *b, const char *action, const char *reason)
{
    if (!action) {
        b->nrestrict = 0;
        return 0;
    }
    if (b->nrestrict >= 2 || strlen(action) >= sizeof(b->restrict_name[0]))
        return -1;
    snprintf(b->restrict_name[b->nrestrict], sizeof(b->restrict_name[0]), "%s", action);
    snprintf(b->restrict_reason[b->nrestrict], sizeof(b->restrict_reason[0]), "%s",
             reason ? reason : "restricted by the emulator");
    b->nrestrict++;
    return 0;
}

int emu_branch_restricted(const emu_branch *b, const char *action, const char **reason)
{
    for (int i = 0; b && i < b->nrestrict; i++)
        if (strcmp(b->restrict_name[i], action) == 0) {
            if (reason)
                *reason = b->restrict_reason[i];
            return 1;
        }
    return 0;
}

json_t *emu_json_endpoint(const emu_endpoint *e, const emu_project *p)
{
    int ready = emu_mono_ms() >= e->ready_at_mono;
    const char *target = e->suspended ? "idle" : "active";
    json_t *o = json_object();
    json_object_set_new(o, "host", json_string(e->host));
    json_object_set_new(o, "id", json_string(e->id));
    if (e->name)
        json_object_set_new(o, "name", json_string(e->name));
    json_object_set_new(o, "project_id", json_string(p->id));
    json_object_set_new(o, "branch_id", json_string(e->branch_id));
    json_object_set_new(o, "region_id", json_string("aws-us-east-2"));
    json_object_set_new(o, "autoscaling_limit_min_cu", json_real(e->min_cu));
    json_object_set_new(o, "autoscaling_limit_max_cu", json_real(e->max_cu));
    json_object_set_new(o, "type", json_string(e->read_write ? "read_write" : "read_only"));
    json_object_set_new(o, "current_state", json_string(ready ? target : e->prev_state[0] ? e->prev_state : "init"));
    if (!ready)
        json_object_set_new(o, "pending_state", json_string(target));
    json_object_set_new(o, "pooler_enabled", json_false());
    json_object_set_new(o, "pooler_mode", json_string("transaction"));
    json_object_set_new(o, "disabled", json_boolean(e->disabled));
    json_object_set_new(o, "passwordless_access", json_true());
    json_object_set_new(o, "creation_source", json_string("console"));
    set_time(o, "created_at", e->created_ms);
    set_time(o, "updated_at", e->updated_ms);
    json_object_set_new(o, "settings", e->pg_settings ? json_pack("{s:O}", "pg_settings", e->pg_settings)
                                                      : json_pack("{s:{}}", "pg_settings"));
    json_object_set_new(o, "proxy_host", json_string("us-east-2.emulator.neon.local"));
    json_object_set_new(o, "suspend_timeout_seconds", json_integer(e->suspend_timeout_s));
    json_object_set_new(o, "provisioner", json_string(e->provisioner ? e->provisioner : "k8s-neonvm"));
    return omit_fields(o, p);
}

json_t *emu_json_snapshot(const emu_snapshot *sn)
{
    char buf[40];
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(sn->id));
    json_object_set_new(o, "name", json_string(sn->name));
    json_object_set_new(o, "slug", json_string(sn->slug ? sn->slug : sn->id));
    emu_fmt_lsn(sn->lsn, buf, sizeof(buf));
    json_object_set_new(o, "lsn", json_string(buf));
    set_time(o, "timestamp", sn->ts_ms);
    json_object_set_new(o, "source_branch_id", json_string(sn->source_branch_id));
    set_time(o, "created_at", sn->created_ms);
    if (sn->expires_at)
        json_object_set_new(o, "expires_at", json_string(sn->expires_at));
    json_object_set_new(o, "manual", json_boolean(sn->manual));
    return o;
}

json_t *emu_json_project(const emu_project *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(p->id));
    json_object_set_new(o, "platform_id", json_string("aws"));
    json_object_set_new(o, "region_id", json_string("aws-us-east-2"));
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "provisioner", json_string("k8s-neonvm"));
    json_object_set_new(o, "pg_version", json_integer(17));
    json_object_set_new(o, "proxy_host", json_string("us-east-2.emulator.neon.local"));
    json_object_set_new(o, "branch_logical_size_limit", json_integer(0));
    json_object_set_new(o, "branch_logical_size_limit_bytes", json_integer(0));
    json_object_set_new(o, "store_passwords", json_true());
    json_object_set_new(o, "active_time_seconds", json_integer(0));
    json_object_set_new(o, "active_time", json_integer(0)); /* required on ProjectListItem */
    json_object_set_new(o, "compute_time_seconds", json_integer(0));
    json_object_set_new(o, "cpu_used_sec", json_integer(0));
    json_object_set_new(o, "written_data_bytes", json_integer(0));
    json_object_set_new(o, "data_transfer_bytes", json_integer(0));
    json_object_set_new(o, "data_storage_bytes_hour", json_integer(0));
    json_object_set_new(o, "creation_source", json_string("console"));
    json_object_set_new(o, "history_retention_seconds", json_integer(86400));
    set_time(o, "created_at", p->created_ms);
    set_time(o, "updated_at", p->created_ms);
    set_time(o, "consumption_period_start", p->created_ms);
    set_time(o, "consumption_period_end", p->created_ms + 30LL * 86400 * 1000);
    json_object_set_new(o, "owner_id", json_string("emulator-user"));
    return o;
}
