/* Snapshots, restore and finalize (neon-api.md §2, §3.9, §3.10, §9).
 * Restore creates a new root branch B; finalizing moves the target T's
 * endpoints, name, `protected` and `default` to B and renames T "(old)". */
#include "emu_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int utf8_ok(const char *s)
{
    json_t *j = json_string(s);
    json_decref(j);
    return j != NULL;
}

/* Neon's slug rule: a lowercase letter, then up to 62 of [a-z0-9-], not ending in '-'. */
static int slug_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 63 || !(s[0] >= 'a' && s[0] <= 'z') || s[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

void emu_snapshot_create(emu_ctx *c)
{
    emu_project *p = c->proj;
    emu_branch *b = emu_branch_find(p, c->seg[3]);
    const char *lsn_s = emu_query(c, "lsn"), *ts_s = emu_query(c, "timestamp");
    const char *name = emu_query(c, "name"), *exp = emu_query(c, "expires_at");
    if (!b)
        EMU_FAIL(c, 404, "", "branch not found");
    if (lsn_s && ts_s)
        EMU_FAIL(c, 400, "", "lsn and timestamp are mutually exclusive");
    if (b->parent_id[0])
        EMU_FAIL(c, 400, "", "snapshots can only be created from root branches");
    if (name && (!*name || strlen(name) > 256 || !utf8_ok(name)))
        EMU_FAIL(c, 400, "", "name must be 1 to 256 characters of UTF-8");
    if (exp && emu_check_time(c, "expires_at", exp) != 0)
        return;
    const char *slug = emu_query(c, "slug");
    if (slug && !slug_ok(slug))
        EMU_FAIL(c, 400, "", "slug must match ^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$");
    for (size_t i = 0; slug && i < p->snapshots.n; i++) {
        const emu_snapshot *o = p->snapshots.v[i];
        if (strcmp(o->slug ? o->slug : o->id, slug) == 0)
            EMU_FAIL(c, 409, "", "snapshot with slug %s already exists", slug);
    }
    if (emu_count_manual_snapshots(p) >= p->max_snaps)
        EMU_FAIL(c, 422, "SNAPSHOTS_LIMIT_EXCEEDED", "manual snapshots limit exceeded: the project already has %d",
             (int)p->max_snaps);
    if (emu_pgb_check_point(c, b, lsn_s, ts_s) != 0)
        return;
    int64_t now = emu_now_ms();
    uint64_t lsn = b->lsn;
    int64_t ts = now;
    const char *content = b->content;
    if (c->s->pg) {
        /* the copy below gives the real LSN; the token history is not consulted */
    } else if (lsn_s) {
        if (emu_parse_lsn(lsn_s, &lsn) != 0)
            EMU_FAIL(c, 400, "", "lsn must look like 0/1DE2850");
        const emu_hist *h = lsn <= b->lsn ? emu_branch_at_lsn(b, lsn) : NULL;
        if (!h)
            EMU_FAIL(c, 400, "", "lsn %s is outside the branch's restore window", lsn_s);
        content = h->content;
        ts = h->ts_ms;
    } else if (ts_s) {
        ts = emu_parse_time_ms(ts_s);
        if (ts < 0)
            EMU_FAIL(c, 400, "", "timestamp must be an RFC 3339 timestamp");
        const emu_hist *h = ts <= now + 1000 ? emu_branch_at_time(b, ts) : NULL;
        if (!h)
            EMU_FAIL(c, 400, "", "timestamp %s is outside the branch's restore window", ts_s);
        content = h->content;
        lsn = h->lsn;
    }
    emu_snapshot *sn = calloc(1, sizeof(*sn));
    if (!sn)
        EMU_FAIL(c, 500, "", "out of memory");
    emu_gen_id(c->s, "snap", sn->id, sizeof(sn->id));
    snprintf(sn->source_branch_id, sizeof(sn->source_branch_id), "%s", b->id);
    if (name) {
        sn->name = strdup(name);
    } else {
        char buf[320], t[40];
        emu_fmt_time(now, t, sizeof(t));
        snprintf(buf, sizeof(buf), "%.256s %s", b->name, t);
        sn->name = strdup(buf);
    }
    sn->expires_at = emu_strdup(exp);
    sn->slug = emu_strdup(slug);
    sn->content = strdup(content ? content : "");
    sn->lsn = lsn;
    sn->ts_ms = ts;
    sn->created_ms = now;
    sn->manual = 1;
    if (!sn->name || !sn->content || emu_pgb_snapshot(c, c->s, p, b, sn) != 0 ||
        emu_vec_push(&p->snapshots, sn) != 0) {
        emu_snapshot_free(sn);
        if (c->status == 400) /* the point is outside the kept history */
            return;
        EMU_FAIL(c, 500, "", "cannot take the snapshot");
    }
    json_t *ops = json_array();
    emu_emit(c, ops, "create_branch", b->id, NULL);
    emu_emit(c, ops, "timeline_archive", b->id, NULL);
    emu_ok(c, 200, json_pack("{s:o, s:o}", "snapshot", emu_json_snapshot(sn), "operations", ops));
}

void emu_snapshots_list(emu_ctx *c)
{
    emu_purge_expired_snapshots(c->proj);
    json_t *arr = json_array();
    for (size_t i = 0; i < c->proj->snapshots.n; i++)
        json_array_append_new(arr, emu_json_snapshot(c->proj->snapshots.v[i]));
    emu_ok(c, 200, json_pack("{s:o}", "snapshots", arr));
}

static emu_snapshot *snapshot_or_404(emu_ctx *c)
{
    emu_purge_expired_snapshots(c->proj);
    emu_snapshot *sn = emu_snapshot_find(c->proj, c->seg[3]);
    if (!sn)
        emu_err(c, 404, "", "snapshot not found");
    return sn;
}

void emu_snapshot_update(emu_ctx *c)
{
    int bad;
    const char *name = NULL, *exp = NULL;
    emu_snapshot *sn = snapshot_or_404(c);
    if (!sn)
        return;
    json_t *so = emu_get_obj(c, c->body, "snapshot", &bad);
    if (bad)
        return;
    if (!so)
        EMU_FAIL(c, 400, "", "request body must contain a snapshot object");
    json_t *ev = json_object_get(so, "expires_at");
    if (emu_get_str(c, so, "name", &name) < 0 || emu_get_str(c, so, "expires_at", &exp) < 0)
        return;
    if (name && (!*name || strlen(name) > 256))
        EMU_FAIL(c, 400, "", "name must be 1 to 256 characters");
    if (exp && emu_check_time(c, "expires_at", exp) != 0)
        return;
    if (name)
        emu_set_str(&sn->name, name);
    if (exp || (ev && json_is_null(ev))) /* null clears, absent keeps */
        emu_set_str(&sn->expires_at, exp);
    emu_ok(c, 200, json_pack("{s:o}", "snapshot", emu_json_snapshot(sn)));
}

void emu_snapshot_delete(emu_ctx *c)
{
    emu_snapshot *sn = snapshot_or_404(c);
    if (!sn)
        return;
    json_t *ops = json_array();
    emu_emit(c, ops, "delete_timeline", sn->source_branch_id, NULL);
    for (size_t i = 0; i < c->proj->snapshots.n; i++)
        if (c->proj->snapshots.v[i] == sn) {
            emu_vec_remove(&c->proj->snapshots, i);
            break;
        }
    emu_snapshot_free(sn);
    emu_ok(c, 202, json_pack("{s:o}", "operations", ops));
}

/* Checks that finalizing b can succeed, without changing anything. */
static int finalize_check(emu_ctx *c, emu_branch *b, const char *old_name, emu_branch **t_out)
{
    emu_project *p = c->proj;
    emu_branch *t = emu_branch_find(p, b->restored_as);
    if (!t) {
        emu_err(c, 404, "", "branch not found: restore target %s no longer exists", b->restored_as);
        return -1;
    }
    const char *why = NULL;
    if (emu_branch_restricted(t, "restore", &why)) {
        emu_err(c, 400, "", "restore onto branch %s is restricted: %s", t->id, why);
        return -1;
    }
    if (old_name) {
        emu_branch *o = emu_branch_find_name(p, old_name);
        if (!*old_name || strlen(old_name) > 256) {
            emu_err(c, 400, "", "name must be 1 to 256 characters");
            return -1;
        }
        if ((o && o != t) || strcmp(old_name, t->name) == 0) {
            emu_err(c, 409, "", "branch already exists: a branch with name \"%s\" already exists", old_name);
            return -1;
        }
    }
    if (emu_endpoint_rw_of(p, t->id) && emu_endpoint_rw_of(p, b->id)) {
        emu_err(c, 409, "", "read-write endpoint already exists on branch %s", b->id);
        return -1;
    }
    *t_out = t;
    return 0;
}

int emu_do_finalize(emu_ctx *c, emu_branch *b, const char *old_name, json_t *ops)
{
    emu_project *p = c->proj;
    emu_branch *t;
    char oldbuf[300];
    if (finalize_check(c, b, old_name, &t) != 0)
        return -1;
    if (!old_name) {
        emu_unique_old_name(p, t->name, oldbuf, sizeof(oldbuf));
        old_name = oldbuf;
    }
    char *renamed = strdup(old_name);
    if (!renamed) {
        emu_err(c, 500, "", "out of memory");
        return -1;
    }
    int64_t now = emu_now_ms();
    for (size_t i = 0; i < p->endpoints.n; i++) {
        emu_endpoint *e = p->endpoints.v[i];
        if (strcmp(e->branch_id, t->id) != 0)
            continue;
        emu_emit(c, ops, "suspend_compute", t->id, e->id);
        snprintf(e->branch_id, sizeof(e->branch_id), "%s", b->id); /* same id and host */
        e->updated_ms = now;
        e->ready_at_mono = emu_emit(c, ops, "start_compute", b->id, e->id);
    }
    free(b->name);
    b->name = t->name;
    t->name = renamed;
    b->is_protected = t->is_protected;
    b->is_default = t->is_default;
    t->is_protected = t->is_default = 0;
    snprintf(b->restore_status, sizeof(b->restore_status), "finalized");
    b->updated_ms = t->updated_ms = now;
    return 0;
}

void emu_branch_finalize(emu_ctx *c)
{
    const char *name = NULL;
    emu_branch *b = emu_branch_find(c->proj, c->seg[3]);
    if (!b)
        EMU_FAIL(c, 404, "", "branch not found");
    if (emu_get_str(c, c->body, "name", &name) < 0)
        return;
    if (strcmp(b->restore_status, "restored") != 0)
        EMU_FAIL(c, 400, "", "branch %s is not a restored branch awaiting finalization", b->id);
    json_t *ops = json_array();
    if (emu_do_finalize(c, b, name, ops) != 0) {
        json_decref(ops);
        return;
    }
    emu_ok(c, 200, json_pack("{s:o}", "operations", ops));
}

void emu_snapshot_restore(emu_ctx *c)
{
    emu_project *p = c->proj;
    const char *name = NULL, *target = NULL;
    int fin = 0;
    emu_snapshot *sn = snapshot_or_404(c);
    if (!sn)
        return;
    if (emu_get_str(c, c->body, "name", &name) < 0 || emu_get_str(c, c->body, "target_branch_id", &target) < 0 ||
        emu_get_bool(c, c->body, "finalize_restore", &fin) < 0)
        return;
    if (name && (!*name || strlen(name) > 256))
        EMU_FAIL(c, 400, "", "branch name must be 1 to 256 characters");
    emu_branch *t = emu_branch_find(p, target ? target : sn->source_branch_id);
    if (!t)
        EMU_FAIL(c, 404, "", "branch not found: restore target %s does not exist", target ? target : sn->source_branch_id);
    const char *why = NULL;
    if (emu_branch_restricted(t, "restore", &why))
        EMU_FAIL(c, 400, "", "restore onto branch %s is restricted: %s", t->id, why);
    if (name && emu_branch_find_name(p, name))
        EMU_FAIL(c, 409, "", "branch already exists: a branch with name \"%s\" already exists", name);
    if (emu_count_roots(p) >= p->max_roots)
        EMU_FAIL(c, 422, "ROOT_BRANCHES_LIMIT_EXCEEDED", "root branches limit exceeded: the project already has %d",
             (int)p->max_roots);
    emu_branch *b = emu_branch_new(c->s, p, name, NULL);
    if (!b)
        EMU_FAIL(c, 500, "", "out of memory");
    /* roles and databases: the snapshot's source branch's (same passwords), else the target's */
    emu_branch *rsrc = emu_branch_find(p, sn->source_branch_id);
    char *content = strdup(sn->content ? sn->content : "");
    if (!content || emu_branch_copy_roles(b, rsrc ? rsrc : t) != 0) {
        free(content);
        emu_branch_remove(p, b);
        EMU_FAIL(c, 500, "", "out of memory");
    }
    if (emu_pgb_branch_restore(c->s, p, b, sn) != 0) {
        free(content);
        emu_branch_remove(p, b);
        EMU_FAIL(c, 500, "", "cannot copy the snapshot's data directory");
    }
    free(b->content);
    b->content = content;
    b->lsn = b->parent_lsn = sn->lsn;
    free(b->hist[0].content); /* history restarts at the snapshot */
    b->hist[0].content = strdup(content);
    b->hist[0].lsn = sn->lsn;
    if (!b->hist[0].content)
        b->nhist = 0;
    snprintf(b->restore_status, sizeof(b->restore_status), "restored");
    snprintf(b->restored_from, sizeof(b->restored_from), "%s", sn->id);
    snprintf(b->restored_as, sizeof(b->restored_as), "%s", t->id);
    json_t *ops = json_array();
    emu_emit(c, ops, "timeline_unarchive", b->id, NULL);
    b->ready_at_mono = emu_emit(c, ops, "create_branch", b->id, NULL);
    if (fin && emu_do_finalize(c, b, NULL, ops) != 0) {
        /* cannot happen for a fresh B (no endpoints, generated old name) */
        json_decref(ops);
        emu_branch_remove(p, b);
        return;
    }
    json_t *eps = json_array();
    for (size_t i = 0; i < p->endpoints.n; i++) {
        emu_endpoint *e = p->endpoints.v[i];
        if (strcmp(e->branch_id, b->id) == 0)
            json_array_append_new(eps, emu_json_endpoint(e, p));
    }
    emu_ok(c, 200, json_pack("{s:o, s:o, s:o}", "branch", emu_json_branch(b, p), "endpoints", eps,
                             "operations", ops));
}
