/* The C API of emulator.h: each call takes the state mutex. Seeding bypasses
 * plan limits and creates no operations (the objects are ready at once). */
#include "emu_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_out(char *out, const char *v)
{
    if (out)
        snprintf(out, 64, "%s", v);
}

int emu_add_project_locked(emu_server *s, const char *project_id, const char *branch_name,
                           char *branch_id_out, char *endpoint_id_out)
{
    char gen[EMU_ID_LEN];
    if (!project_id) {
        do {
            emu_gen_id(s, "x", gen, sizeof(gen));
        } while (emu_project_find(s, gen + 2));
        project_id = gen + 2; /* "word-word-xxxxxxxx" */
    }
    if (!emu_valid_id(project_id) || emu_project_find(s, project_id))
        return -1;
    emu_project *p = emu_project_new(s, project_id, project_id);
    if (!p)
        return -1;
    emu_branch *b = emu_branch_new(s, p, branch_name ? branch_name : "main", NULL);
    if (b && emu_pgb_branch_root(s, p, b) != 0)
        b = NULL;
    emu_endpoint *e = b ? emu_endpoint_new(s, p, b->id, 1) : NULL;
    if (!e) {
        s->projects.n--;
        emu_project_free(p);
        return -1;
    }
    b->is_default = 1;
    copy_out(branch_id_out, b->id);
    copy_out(endpoint_id_out, e->id);
    emu_pgb_reconcile(s);
    return 0;
}

int emu_add_project(emu_server *s, const char *project_id, const char *default_branch_name,
                    char *branch_id_out, char *endpoint_id_out)
{
    if (!s)
        return -1;
    pthread_mutex_lock(&s->mu);
    int rc = emu_add_project_locked(s, project_id, default_branch_name, branch_id_out, endpoint_id_out);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int emu_add_branch_locked(emu_server *s, const char *project_id, const char *name,
                          const char *parent_id, int with_rw_endpoint, char *branch_id_out,
                          char *endpoint_id_out)
{
    emu_project *p = emu_project_find(s, project_id);
    emu_branch *parent = NULL;
    if (!p || (name && (!*name || strlen(name) > 256 || emu_branch_find_name(p, name))))
        return -1;
    if (parent_id && !(parent = emu_branch_find(p, parent_id)))
        return -1;
    emu_branch *b = emu_branch_new(s, p, name, parent);
    if (!b)
        return -1;
    if ((parent ? emu_pgb_branch_child(NULL, s, p, b, parent) : emu_pgb_branch_root(s, p, b)) != 0) {
        emu_branch_remove(p, b);
        return -1;
    }
    if (!emu_branch_default(p))
        b->is_default = 1;
    copy_out(branch_id_out, b->id);
    if (with_rw_endpoint) {
        emu_endpoint *e = emu_endpoint_new(s, p, b->id, 1);
        if (!e)
            return -1;
        copy_out(endpoint_id_out, e->id);
    }
    emu_pgb_reconcile(s);
    return 0;
}

int emu_add_branch(emu_server *s, const char *project_id, const char *name, const char *parent_id,
                   int with_rw_endpoint, char *branch_id_out, char *endpoint_id_out)
{
    if (!s)
        return -1;
    pthread_mutex_lock(&s->mu);
    int rc = emu_add_branch_locked(s, project_id, name, parent_id, with_rw_endpoint, branch_id_out,
                                   endpoint_id_out);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int emu_set_limits(emu_server *s, const char *project_id, int32_t max_root_branches,
                   int32_t max_snapshots)
{
    if (!s)
        return -1;
    pthread_mutex_lock(&s->mu);
    emu_project *p = emu_project_find(s, project_id);
    if (p && max_root_branches > 0)
        p->max_roots = max_root_branches;
    if (p && max_snapshots > 0)
        p->max_snaps = max_snapshots;
    pthread_mutex_unlock(&s->mu);
    return p ? 0 : -1;
}

int emu_set_restricted(emu_server *s, const char *project_id, const char *branch_id, const char *action,
                       const char *reason)
{
    if (!s)
        return -1;
    pthread_mutex_lock(&s->mu);
    emu_branch *b = emu_branch_find(emu_project_find(s, project_id), branch_id);
    int rc = b ? emu_branch_restrict(b, action, reason) : -1;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int emu_write(emu_server *s, const char *project_id, const char *branch_id, const char *content,
              char *lsn_out)
{
    if (!s)
        return -1;
    pthread_mutex_lock(&s->mu);
    emu_branch *b = emu_branch_find(emu_project_find(s, project_id), branch_id);
    int rc = b ? emu_branch_write(b, s, content) : -1;
    if (rc == 0 && lsn_out)
        emu_fmt_lsn(b->lsn, lsn_out, 32);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int emu_read(emu_server *s, const char *project_id, const char *branch_id, char *content_out,
             size_t content_len, char *lsn_out)
{
    if (!s)
        return -1;
    pthread_mutex_lock(&s->mu);
    emu_branch *b = emu_branch_find(emu_project_find(s, project_id), branch_id);
    if (b && content_out && content_len)
        snprintf(content_out, content_len, "%s", b->content);
    if (b && lsn_out)
        emu_fmt_lsn(b->lsn, lsn_out, 32);
    pthread_mutex_unlock(&s->mu);
    return b ? 0 : -1;
}

void emu_set_op_duration_ms(emu_server *s, int64_t ms)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->op_duration_ms = ms > 0 ? ms : 0;
    pthread_mutex_unlock(&s->mu);
}

int emu_set_branch_expiry(emu_server *s, const char *project_id, int enabled)
{
    if (!s || !project_id)
        return -1;
    pthread_mutex_lock(&s->mu);
    emu_project *p = emu_project_find(s, project_id);
    if (p)
        p->keep_expired = !enabled;
    pthread_mutex_unlock(&s->mu);
    return p ? 0 : -1;
}

int emu_op_fault_add_locked(emu_server *s, const char *action, int kind, int count)
{
    if (kind < EMU_OPFAULT_FAIL_THEN_RECOVER || kind > EMU_OPFAULT_CANCELLED || count <= 0)
        return -1;
    emu_opfault *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->action = emu_strdup(action);
    f->kind = kind;
    f->count = count;
    if ((action && !f->action) || emu_vec_push(&s->opfaults, f) != 0) {
        free(f->action);
        free(f);
        return -1;
    }
    return 0;
}

int emu_op_fault_add(emu_server *s, const char *action, int kind, int count)
{
    if (!s)
        return -1;
    pthread_mutex_lock(&s->mu);
    int rc = emu_op_fault_add_locked(s, action, kind, count);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void emu_fault_init(emu_fault *f)
{
    memset(f, 0, sizeof(*f));
    f->retry_after_s = -1;
    f->count = 1;
}

int emu_fault_add_locked(emu_server *s, const emu_fault *f)
{
    if (!f || f->kind < EMU_FAULT_STATUS || f->kind > EMU_FAULT_DROP_BODY || f->skip < 0 ||
        f->count < 0 || f->probability < 0 || f->probability > 1 || f->delay_ms < 0)
        return -1;
    if (f->kind == EMU_FAULT_STATUS && (f->status < 100 || f->status > 599))
        return -1;
    emu_fault_rule *r = calloc(1, sizeof(*r));
    if (!r)
        return -1;
    r->f = *f;
    r->f.method = emu_strdup(f->method);
    r->f.path = emu_strdup(f->path);
    if ((f->method && !r->f.method) || (f->path && !r->f.path) || emu_vec_push(&s->faults, r) != 0) {
        free((char *)r->f.method);
        free((char *)r->f.path);
        free(r);
        return -1;
    }
    return 0;
}

int emu_fault_add(emu_server *s, const emu_fault *f)
{
    if (!s)
        return -1;
    pthread_mutex_lock(&s->mu);
    int rc = emu_fault_add_locked(s, f);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void emu_faults_clear_locked(emu_server *s)
{
    for (size_t i = 0; i < s->faults.n; i++) {
        emu_fault_rule *r = s->faults.v[i];
        free((char *)r->f.method);
        free((char *)r->f.path);
        free(r);
    }
    s->faults.n = 0;
}

void emu_faults_clear(emu_server *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    emu_faults_clear_locked(s);
    pthread_mutex_unlock(&s->mu);
}

int64_t emu_requests(emu_server *s, const char *method, const char *path)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->mu);
    int64_t n = emu_requests_locked(s, method, path);
    pthread_mutex_unlock(&s->mu);
    return n;
}

int64_t emu_responses_with_status(emu_server *s, int status)
{
    if (!s || status < 0 || status >= 600)
        return 0;
    pthread_mutex_lock(&s->mu);
    int64_t n = s->status_counts[status];
    pthread_mutex_unlock(&s->mu);
    return n;
}

int64_t emu_connections(emu_server *s)
{
    return s ? (int64_t)atomic_load(&s->connections) : 0;
}

void emu_counters_reset(emu_server *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    emu_counters_reset_locked(s);
    pthread_mutex_unlock(&s->mu);
}

void emu_set_rate_limit(emu_server *s, int32_t per_minute, int32_t per_second_route)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    emu_ratelimit_configure(s, per_minute, per_second_route);
    pthread_mutex_unlock(&s->mu);
}

json_t *emu_state(emu_server *s)
{
    if (!s)
        return NULL;
    pthread_mutex_lock(&s->mu);
    json_t *j = emu_state_locked(s);
    pthread_mutex_unlock(&s->mu);
    return j;
}

int emu_count_branches(emu_server *s, const char *project_id)
{
    if (!s)
        return -1;
    pthread_mutex_lock(&s->mu);
    emu_project *p = emu_project_find(s, project_id);
    if (p)
        emu_purge_expired_branches(p);
    int n = p ? (int)p->branches.n : -1;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int emu_count_snapshots(emu_server *s, const char *project_id)
{
    if (!s)
        return -1;
    pthread_mutex_lock(&s->mu);
    emu_project *p = emu_project_find(s, project_id);
    if (p)
        emu_purge_expired_snapshots(p);
    int n = p ? (int)p->snapshots.n : -1;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int emu_save(emu_server *s, const char *path)
{
    if (!s || !path)
        return -1;
    json_t *j = emu_state(s);
    int rc = j ? json_dump_file(j, path, JSON_INDENT(2)) : -1;
    json_decref(j);
    return rc == 0 ? 0 : -1;
}
