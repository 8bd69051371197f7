/* Points in a branch's remembered history: parent_lsn / parent_timestamp /
 * init_source on branch create, and POST .../branches/{b}/restore
 * (point-in-time restore, restore from another branch, reset from parent).
 * A point outside the kept history is a 400, never silently the head. */
#include "emu_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct point {
    const char *content; /* borrowed from the source's history */
    uint64_t lsn;
    int64_t ts_ms;
} point;

/* Resolves lsn_s / ts_s (at most one) on src; neither = its head.
 * `what` names the members in messages. 0, or -1 with 400 set. */
static int find_point(emu_ctx *c, const emu_branch *src, const char *lsn_s, const char *ts_s, const char *what_lsn,
                      const char *what_ts, point *out)
{
    char head[32], oldest[32];
    emu_fmt_lsn(src->lsn, head, sizeof(head));
    emu_fmt_lsn(src->nhist ? src->hist[0].lsn : src->lsn, oldest, sizeof(oldest));
    if (lsn_s && ts_s) {
        emu_err(c, 400, "", "%s and %s are mutually exclusive", what_lsn, what_ts);
        return -1;
    }
    if (lsn_s) {
        uint64_t lsn;
        if (emu_parse_lsn(lsn_s, &lsn) != 0) {
            emu_err(c, 400, "", "%s must be an LSN such as 0/1A2B3C4D", what_lsn);
            return -1;
        }
        if (lsn > src->lsn) {
            emu_err(c, 400, "", "%s %s is ahead of branch %s (its head is at %s)", what_lsn, lsn_s, src->id, head);
            return -1;
        }
        const emu_hist *h = emu_branch_at_lsn(src, lsn);
        if (!h) {
            emu_err(c, 400, "",
                    "%s %s is outside the history kept for branch %s (oldest point %s): the emulator cannot give "
                    "the data of that point",
                    what_lsn, lsn_s, src->id, oldest);
            return -1;
        }
        *out = (point){h->content, lsn, h->ts_ms};
        return 0;
    }
    if (ts_s) {
        int64_t ts = emu_parse_time_ms(ts_s);
        if (ts < 0) {
            emu_err(c, 400, "", "%s must be an RFC 3339 timestamp", what_ts);
            return -1;
        }
        if (ts > emu_now_ms() + 1000) {
            emu_err(c, 400, "", "%s %s is in the future", what_ts, ts_s);
            return -1;
        }
        const emu_hist *h = emu_branch_at_time(src, ts);
        if (!h) {
            char t0[40];
            emu_fmt_time(src->nhist ? src->hist[0].ts_ms : src->created_ms, t0, sizeof(t0));
            emu_err(c, 400, "",
                    "%s %s is outside the history kept for branch %s (oldest point %s): the emulator cannot give "
                    "the data of that point",
                    what_ts, ts_s, src->id, t0);
            return -1;
        }
        *out = (point){h->content, h->lsn, ts};
        return 0;
    }
    *out = (point){src->content, src->lsn, emu_now_ms()};
    return 0;
}

/* b's data becomes `content` at `lsn`; its history restarts there. */
static int set_data(emu_branch *b, const char *content, uint64_t lsn)
{
    char *c1 = strdup(content ? content : ""), *c2 = strdup(content ? content : "");
    emu_hist *h = b->nhist ? b->hist : calloc(1, sizeof(*h));
    if (!c1 || !c2 || !h) {
        free(c1);
        free(c2);
        if (h != b->hist)
            free(h);
        return -1;
    }
    for (size_t i = 0; i < b->nhist; i++)
        free(b->hist[i].content);
    if (!b->nhist)
        b->caphist = 1;
    b->hist = h;
    b->hist[0] = (emu_hist){lsn, emu_now_ms(), c2};
    b->nhist = 1;
    free(b->content);
    b->content = c1;
    b->lsn = lsn;
    return 0;
}

int emu_branch_init_point(emu_ctx *c, emu_branch *b, const emu_branch *parent, const char *lsn_s,
                          const char *ts_s, const char *init_source)
{
    point pt;
    if (init_source && strcmp(init_source, "parent-data") != 0 && strcmp(init_source, "schema-only") != 0) {
        emu_err(c, 400, "", "init_source must be parent-data or schema-only");
        return -1;
    }
    if (find_point(c, parent, lsn_s, ts_s, "parent_lsn", "parent_timestamp", &pt) != 0)
        return -1;
    b->schema_only = init_source && strcmp(init_source, "schema-only") == 0;
    /* schema-only: the parent's schema without its data; the data token is empty */
    if (set_data(b, b->schema_only ? "" : pt.content, pt.lsn) != 0) {
        emu_err(c, 500, "", "out of memory");
        return -1;
    }
    b->parent_lsn = pt.lsn;
    b->parent_ts_ms = pt.ts_ms;
    return 0;
}

/* A copy of b's state (data, history, roles) named `name`: the backup
 * preserve_under_name asks for, in b's place under b's old parent. */
static emu_branch *preserve_copy(emu_ctx *c, emu_branch *b, const char *name)
{
    emu_branch *bk = emu_branch_new(c->s, c->proj, name, b);
    if (!bk)
        return NULL;
    emu_hist *h = malloc(b->nhist * sizeof(*h));
    size_t n = 0;
    for (; h && n < b->nhist; n++) {
        h[n] = b->hist[n];
        if (!(h[n].content = strdup(b->hist[n].content)))
            break;
    }
    if (!h || n < b->nhist) {
        while (h && n-- > 0)
            free(h[n].content);
        free(h);
        emu_branch_remove(c->proj, bk);
        return NULL;
    }
    for (size_t i = 0; i < bk->nhist; i++)
        free(bk->hist[i].content);
    free(bk->hist);
    bk->hist = h;
    bk->nhist = bk->caphist = b->nhist;
    snprintf(bk->parent_id, sizeof(bk->parent_id), "%s", b->parent_id);
    bk->parent_lsn = b->parent_lsn;
    bk->parent_ts_ms = b->parent_ts_ms;
    bk->schema_only = b->schema_only;
    return bk;
}

void emu_branch_restore(emu_ctx *c)
{
    emu_project *p = c->proj;
    const char *src_id = NULL, *lsn_s = NULL, *ts_s = NULL, *keep = NULL, *why = NULL;
    emu_purge_expired_branches(p);
    emu_branch *b = emu_branch_find(p, c->seg[3]);
    if (!b)
        EMU_FAIL(c, 404, "", "branch not found");
    if (emu_get_str(c, c->body, "source_branch_id", &src_id) < 0 ||
        emu_get_str(c, c->body, "source_lsn", &lsn_s) < 0 ||
        emu_get_str(c, c->body, "source_timestamp", &ts_s) < 0 ||
        emu_get_str(c, c->body, "preserve_under_name", &keep) < 0)
        return;
    if (!src_id)
        EMU_FAIL(c, 400, "", "source_branch_id is required");
    emu_branch *src = emu_branch_find(p, src_id);
    if (!src)
        EMU_FAIL(c, 404, "", "source branch %s not found", src_id);
    int self = src == b;
    if (self && !lsn_s && !ts_s)
        EMU_FAIL(c, 400, "", "restoring a branch from its own history needs source_lsn or source_timestamp");
    if (self && !keep)
        EMU_FAIL(c, 400, "", "preserve_under_name is required when restoring a branch from its own history");
    if (emu_branch_restricted(b, "restore", &why))
        EMU_FAIL(c, 400, "", "restore onto branch %s is restricted: %s", b->id, why);
    if (emu_has_children(p, b))
        EMU_FAIL(c, 400, "", "branch %s has children: restoring it is not supported", b->id);
    if (keep && (!*keep || strlen(keep) > 256))
        EMU_FAIL(c, 400, "", "preserve_under_name must be 1 to 256 characters");
    if (keep && emu_branch_find_name(p, keep))
        EMU_FAIL(c, 409, "", "branch already exists: a branch with name \"%s\" already exists", keep);
    if (keep && !b->parent_id[0] && emu_count_roots(p) >= p->max_roots)
        EMU_FAIL(c, 422, "ROOT_BRANCHES_LIMIT_EXCEEDED", "root branches limit exceeded: the project already has %d",
                 (int)p->max_roots);
    point pt;
    if (c->s->pg) { /* --postgres: the source's present only */
        if (emu_pgb_check_point(c, src, lsn_s, ts_s) != 0)
            return;
        lsn_s = ts_s = NULL;
    }
    if (find_point(c, src, lsn_s, ts_s, "source_lsn", "source_timestamp", &pt) != 0)
        return;
    char *content = strdup(pt.content); /* src's history changes below when src == b */
    if (!content)
        EMU_FAIL(c, 500, "", "out of memory");
    emu_branch *bk = keep ? preserve_copy(c, b, keep) : NULL;
    if ((keep && !bk) || set_data(b, content, pt.lsn) != 0 || (!self && emu_branch_copy_roles(b, src) != 0)) {
        free(content); /* set_data or the role copy failed after the backup: undo it */
        if (bk)
            emu_branch_remove(p, bk);
        EMU_FAIL(c, 500, "", "out of memory");
    }
    free(content);
    if (emu_pgb_branch_replace(c, c->s, p, b, src, bk) != 0) {
        if (bk)
            emu_branch_remove(p, bk);
        if (c->status == 400) /* the point is outside the kept history */
            return;
        EMU_FAIL(c, 500, "", "cannot replace the branch's data directory");
    }
    int64_t now = emu_now_ms();
    if (bk)
        snprintf(b->parent_id, sizeof(b->parent_id), "%s", bk->id); /* the CLI prints it as the backup */
    else if (!self)
        snprintf(b->parent_id, sizeof(b->parent_id), "%s", src->id);
    b->parent_lsn = pt.lsn;
    b->parent_ts_ms = pt.ts_ms;
    b->schema_only = self ? b->schema_only : 0;
    b->last_reset_ms = b->updated_ms = now;
    json_t *ops = json_array();
    for (size_t i = 0; i < p->endpoints.n; i++) {
        emu_endpoint *e = p->endpoints.v[i];
        if (strcmp(e->branch_id, b->id) == 0)
            emu_emit(c, ops, "suspend_compute", b->id, e->id);
    }
    if (bk)
        bk->ready_at_mono = emu_emit(c, ops, "create_branch", bk->id, NULL);
    b->ready_at_mono = emu_emit(c, ops, "create_timeline", b->id, NULL);
    for (size_t i = 0; i < p->endpoints.n; i++) {
        emu_endpoint *e = p->endpoints.v[i];
        if (strcmp(e->branch_id, b->id) == 0 && !e->suspended) {
            snprintf(e->prev_state, sizeof(e->prev_state), "idle");
            e->ready_at_mono = emu_emit(c, ops, "start_compute", b->id, e->id);
        }
    }
    emu_ok(c, 200, json_pack("{s:o, s:o}", "branch", emu_json_branch(b, p), "operations", ops));
}
