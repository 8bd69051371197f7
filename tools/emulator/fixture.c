/* State dump and fixture load. The dump is the fixture format: Neon's own
 * object shapes plus the emulator's hidden fields (branch `content`/`lsn`,
 * snapshot `content`, project limits). Hand-written fixtures may omit most
 * fields; missing IDs are generated. Operations load frozen in their status. */
#include "emu_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *emu_state_locked(emu_server *s)
{
    char buf[40];
    json_t *projects = json_array();
    for (size_t i = 0; i < s->projects.n; i++) {
        emu_project *p = s->projects.v[i];
        json_t *br = json_array(), *eps = json_array(), *snaps = json_array(), *ops = json_array();
        for (size_t k = 0; k < p->branches.n; k++) {
            emu_branch *b = p->branches.v[k];
            json_t *o = emu_json_branch(b, p);
            emu_fmt_lsn(b->lsn, buf, sizeof(buf));
            json_object_set_new(o, "content", json_string(b->content));
            json_object_set_new(o, "lsn", json_string(buf));
            json_object_set(o, "backup_schedule", b->schedule);
            emu_roles_dump(b, o);
            json_array_append_new(br, o);
        }
        for (size_t k = 0; k < p->endpoints.n; k++)
            json_array_append_new(eps, emu_json_endpoint(p->endpoints.v[k], p));
        for (size_t k = 0; k < p->snapshots.n; k++) {
            emu_snapshot *sn = p->snapshots.v[k];
            json_t *o = emu_json_snapshot(sn);
            json_object_set_new(o, "content", json_string(sn->content));
            json_array_append_new(snaps, o);
        }
        for (size_t k = 0; k < p->ops.n; k++) {
            emu_op *op = p->ops.v[k];
            json_t *o = emu_json_op(op, p);
            emu_fmt_time_us(op->created_us, buf, sizeof(buf));
            json_object_set_new(o, "created_at_us", json_string(buf));
            /* the emulator's own record of when a terminal operation ended (tests compare with it) */
            int64_t end = emu_op_end_offset(op);
            if (!op->fixed_status[0] && emu_mono_ms() - op->created_mono >= end) {
                emu_fmt_time_us(op->created_us + end * 1000, buf, sizeof(buf));
                json_object_set_new(o, "finished_at_us", json_string(buf));
            }
            json_array_append_new(ops, o);
        }
        json_t *del = json_array();
        for (size_t k = 0; k < p->deleted.n; k++) {
            const emu_deleted *d = p->deleted.v[k];
            json_array_append_new(del, json_pack("{s:s, s:b}", "id", d->id, "hard_delete", d->hard));
        }
        json_t *pj = emu_json_project(p);
        json_object_set_new(pj, "deleted_branches", del);
        json_object_set_new(pj, "max_root_branches", json_integer(p->max_roots));
        json_object_set_new(pj, "max_snapshots", json_integer(p->max_snaps));
        json_object_set_new(pj, "branches", br);
        json_object_set_new(pj, "endpoints", eps);
        json_object_set_new(pj, "snapshots", snaps);
        json_object_set_new(pj, "operations", ops);
        json_array_append_new(projects, pj);
    }
    return json_pack("{s:i, s:{s:I, s:i, s:i}, s:o}", "version", 1, "config", "op_duration_ms",
                     (json_int_t)s->op_duration_ms, "rate_per_minute", (int)s->rate_per_minute,
                     "rate_per_second_route", (int)s->rate_per_second_route, "projects", projects);
}

static const char *str_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t time_of(json_t *o, const char *key, int64_t dflt)
{
    int64_t t = emu_parse_time_ms(str_of(o, key));
    return t >= 0 ? t : dflt;
}

static int load_branch(emu_server *s, emu_project *p, json_t *bj)
{
    const char *id = str_of(bj, "id"), *name = str_of(bj, "name"), *lsn_s = str_of(bj, "lsn");
    uint64_t lsn;
    if (!json_is_object(bj) || (id && (!emu_valid_id(id) || emu_branch_find(p, id))))
        return -1;
    if (name && emu_branch_find_name(p, name))
        return -1;
    emu_branch *b = emu_branch_new(s, p, name, NULL);
    if (!b)
        return -1;
    if (id)
        snprintf(b->id, sizeof(b->id), "%s", id);
    if (!name)
        emu_set_str(&b->name, b->id);
    const char *v = str_of(bj, "parent_id");
    if (v)
        snprintf(b->parent_id, sizeof(b->parent_id), "%s", v);
    if ((v = str_of(bj, "parent_lsn")) && emu_parse_lsn(v, &lsn) == 0)
        b->parent_lsn = lsn;
    b->parent_ts_ms = time_of(bj, "parent_timestamp", 0);
    b->is_default = json_is_true(json_object_get(bj, "default"));
    b->is_protected = json_is_true(json_object_get(bj, "protected"));
    emu_set_str(&b->expires_at, str_of(bj, "expires_at"));
    b->created_ms = time_of(bj, "created_at", b->created_ms);
    b->updated_ms = time_of(bj, "updated_at", b->updated_ms);
    if ((v = str_of(bj, "restore_status")))
        snprintf(b->restore_status, sizeof(b->restore_status), "%s", v);
    if ((v = str_of(bj, "restored_from")))
        snprintf(b->restored_from, sizeof(b->restored_from), "%s", v);
    if ((v = str_of(bj, "restored_as")))
        snprintf(b->restored_as, sizeof(b->restored_as), "%s", v);
    if (lsn_s && emu_parse_lsn(lsn_s, &lsn) == 0)
        b->lsn = b->hist[0].lsn = lsn;
    if ((v = str_of(bj, "content"))) {
        emu_set_str(&b->content, v);
        emu_set_str(&b->hist[0].content, v);
    }
    if (!b->content || !b->hist[0].content)
        return -1;
    b->hist[0].ts_ms = b->created_ms;
    /* roles: as saved; a fixture without them keeps the seed (a child gets its
     * parent's in load_project, once every branch is loaded) */
    if (emu_roles_load(b, bj) < 0)
        return -1;
    b->schema_only = str_of(bj, "init_source") && strcmp(str_of(bj, "init_source"), "schema-only") == 0;
    b->last_reset_ms = time_of(bj, "last_reset_at", 0);
    json_t *sch = json_object_get(bj, "backup_schedule");
    if (json_is_array(sch)) {
        json_decref(b->schedule);
        b->schedule = json_deep_copy(sch);
    }
    return 0;
}

static int load_project(emu_server *s, json_t *pj)
{
    const char *id = str_of(pj, "id");
    size_t i;
    json_t *v;
    if (!json_is_object(pj) || !emu_valid_id(id) || emu_project_find(s, id))
        return -1;
    emu_project *p = emu_project_new(s, id, str_of(pj, "name"));
    if (!p)
        return -1;
    p->created_ms = time_of(pj, "created_at", p->created_ms);
    json_t *lim = json_object_get(pj, "max_root_branches");
    if (json_is_integer(lim) && json_integer_value(lim) > 0)
        p->max_roots = (int32_t)json_integer_value(lim);
    lim = json_object_get(pj, "max_snapshots");
    if (json_is_integer(lim) && json_integer_value(lim) > 0)
        p->max_snaps = (int32_t)json_integer_value(lim);
    json_array_foreach(json_object_get(pj, "branches"), i, v)
        if (load_branch(s, p, v) != 0)
            return -1;
    json_array_foreach(json_object_get(pj, "branches"), i, v) {
        emu_branch *b = p->branches.v[i], *parent = emu_branch_find(p, b->parent_id);
        if (!json_object_get(v, "roles") && !json_object_get(v, "databases") && parent &&
            emu_branch_copy_roles(b, parent) != 0)
            return -1;
    }
    if (p->branches.n && !emu_branch_default(p)) /* a project always has a default */
        ((emu_branch *)p->branches.v[0])->is_default = 1;
    json_array_foreach(json_object_get(pj, "endpoints"), i, v) {
        const char *bid = str_of(v, "branch_id"), *eid = str_of(v, "id");
        int rw = !str_of(v, "type") || strcmp(str_of(v, "type"), "read_write") == 0;
        if (!bid || !emu_branch_find(p, bid) || (eid && (!emu_valid_id(eid) || emu_endpoint_find(p, eid))))
            return -1;
        emu_endpoint *e = emu_endpoint_new(s, p, bid, rw);
        if (!e)
            return -1;
        if (eid) {
            snprintf(e->id, sizeof(e->id), "%s", eid);
            snprintf(e->host, sizeof(e->host), "%s.us-east-2.emulator.neon.local", eid);
        }
        if (str_of(v, "host"))
            snprintf(e->host, sizeof(e->host), "%s", str_of(v, "host"));
        e->name = emu_strdup(str_of(v, "name"));
        e->provisioner = emu_strdup(str_of(v, "provisioner"));
        json_t *mn = json_object_get(v, "autoscaling_limit_min_cu"), *mx = json_object_get(v, "autoscaling_limit_max_cu");
        if (json_is_number(mn) && json_number_value(mn) >= 0.25)
            e->min_cu = json_number_value(mn);
        if (json_is_number(mx) && json_number_value(mx) >= e->min_cu)
            e->max_cu = json_number_value(mx);
        e->disabled = json_is_true(json_object_get(v, "disabled"));
        e->suspended = str_of(v, "current_state") && strcmp(str_of(v, "current_state"), "idle") == 0;
        json_t *sts = json_object_get(v, "suspend_timeout_seconds");
        if (json_is_integer(sts))
            e->suspend_timeout_s = json_integer_value(sts);
        json_t *pg = json_object_get(json_object_get(v, "settings"), "pg_settings");
        if (json_is_object(pg) && json_object_size(pg) > 0)
            e->pg_settings = json_deep_copy(pg);
        e->created_ms = time_of(v, "created_at", e->created_ms);
        e->updated_ms = time_of(v, "updated_at", e->updated_ms);
    }
    json_array_foreach(json_object_get(pj, "snapshots"), i, v) {
        emu_snapshot *sn = calloc(1, sizeof(*sn));
        const char *sid = str_of(v, "id");
        if (!sn || emu_vec_push(&p->snapshots, sn) != 0) {
            free(sn);
            return -1;
        }
        if (sid && emu_valid_id(sid))
            snprintf(sn->id, sizeof(sn->id), "%s", sid);
        else
            emu_gen_id(s, "snap", sn->id, sizeof(sn->id));
        snprintf(sn->source_branch_id, sizeof(sn->source_branch_id), "%s",
                 str_of(v, "source_branch_id") ? str_of(v, "source_branch_id") : "");
        sn->name = strdup(str_of(v, "name") ? str_of(v, "name") : sn->id);
        sn->expires_at = emu_strdup(str_of(v, "expires_at"));
        sn->slug = emu_strdup(str_of(v, "slug"));
        sn->content = strdup(str_of(v, "content") ? str_of(v, "content") : "");
        if (!str_of(v, "lsn") || emu_parse_lsn(str_of(v, "lsn"), &sn->lsn) != 0)
            sn->lsn = 0x01500000;
        sn->created_ms = time_of(v, "created_at", emu_now_ms());
        sn->ts_ms = time_of(v, "timestamp", sn->created_ms);
        sn->manual = !json_is_false(json_object_get(v, "manual"));
        if (!sn->name || !sn->content)
            return -1;
    }
    json_array_foreach(json_object_get(pj, "operations"), i, v) {
        emu_op *op = calloc(1, sizeof(*op));
        const char *st = str_of(v, "status");
        if (!op || emu_vec_push(&p->ops, op) != 0) {
            free(op);
            return -1;
        }
        snprintf(op->id, sizeof(op->id), "%s", str_of(v, "id") ? str_of(v, "id") : "");
        if (!op->id[0])
            emu_gen_uuid(s, op->id, sizeof(op->id));
        snprintf(op->action, sizeof(op->action), "%s", str_of(v, "action") ? str_of(v, "action") : "apply_config");
        snprintf(op->branch_id, sizeof(op->branch_id), "%s", str_of(v, "branch_id") ? str_of(v, "branch_id") : "");
        snprintf(op->endpoint_id, sizeof(op->endpoint_id), "%s", str_of(v, "endpoint_id") ? str_of(v, "endpoint_id") : "");
        /* a fixture cannot resume a running operation: it loads finished */
        int terminal = st && (!strcmp(st, "finished") || !strcmp(st, "error") || !strcmp(st, "cancelled") ||
                              !strcmp(st, "skipped"));
        snprintf(op->fixed_status, sizeof(op->fixed_status), "%s", terminal ? st : "finished");
        int64_t us = emu_parse_time_us(str_of(v, "created_at_us"));
        op->created_us = us >= 0 ? us : time_of(v, "created_at", emu_now_ms()) * 1000;
        if (op->created_us <= s->last_op_us)
            op->created_us = s->last_op_us + 1;
        s->last_op_us = op->created_us;
        json_t *d = json_object_get(v, "total_duration_ms");
        op->duration_ms = json_is_integer(d) ? json_integer_value(d) : 0;
    }
    return 0;
}

int emu_load_fixture_locked(emu_server *s, json_t *root)
{
    size_t i;
    json_t *v;
    if (!json_is_object(root) || !json_is_array(json_object_get(root, "projects")))
        return -1;
    json_t *cfg = json_object_get(root, "config");
    if (json_is_object(cfg)) {
        json_t *d = json_object_get(cfg, "op_duration_ms");
        if (json_is_integer(d) && json_integer_value(d) >= 0 && s->op_duration_ms == 0)
            s->op_duration_ms = json_integer_value(d);
    }
    json_array_foreach(json_object_get(root, "projects"), i, v)
        if (load_project(s, v) != 0)
            return -1;
    return 0;
}
