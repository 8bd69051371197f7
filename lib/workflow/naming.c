/* Deterministic resource names: nf/<target>/<kind>/<YYYYMMDDTHHMMSSZ>/<run-id>.
 * The target part may itself contain '/', so names are parsed from the right. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "workflow-private.h"

int neonflow__run_id_valid(const char *id)
{
    if (!id || !*id)
        return 0;
    size_t n = 0;
    for (const char *p = id; *p; p++, n++) {
        if (n >= NEONFLOW__RUN_ID_MAX)
            return 0;
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    }
    return 1;
}

void neonflow__run_id_generate(const neonflow_client *c, char out[NEONFLOW__RUN_ID_MAX + 1])
{
    const neonflow__sys *sys = neonflow__client_sys(c);
    uint64_t v = sys->random(sys->ctx);
    snprintf(out, NEONFLOW__RUN_ID_MAX + 1, "%08x", (unsigned)(v ^ (v >> 32)));
}

static void utc_tm(int64_t wall_ms, struct tm *tm)
{
    time_t t = (time_t)(wall_ms / 1000);
    gmtime_r(&t, tm);
}

void neonflow__stamp_format(int64_t wall_ms, char out[NEONFLOW__STAMP_LEN + 1])
{
    struct tm tm;
    utc_tm(wall_ms, &tm);
    char buf[64];
    snprintf(buf, sizeof(buf), "%04d%02d%02dT%02d%02d%02dZ", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
             tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100);
    memcpy(out, buf, NEONFLOW__STAMP_LEN);
    out[NEONFLOW__STAMP_LEN] = '\0';
}

void neonflow__rfc3339_format(int64_t wall_ms, char *out, size_t len)
{
    struct tm tm;
    utc_tm(wall_ms, &tm);
    char buf[80];
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
             tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, (int)(wall_ms % 1000));
    snprintf(out, len, "%s", buf);
}

int64_t neonflow__stamp_ms(const char *stamp)
{
    char buf[32];
    if (!stamp || strlen(stamp) != NEONFLOW__STAMP_LEN || stamp[8] != 'T' || stamp[15] != 'Z')
        return -1;
    snprintf(buf, sizeof(buf), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", stamp, stamp + 4, stamp + 6, stamp + 9,
             stamp + 11, stamp + 13);
    int64_t ms;
    return neonflow__rfc3339_ms(buf, &ms) == 0 ? ms : -1;
}

int neonflow__name_build(char *out, size_t len, const char *target, const char *kind, const char *stamp,
                         const char *run_id)
{
    int n = snprintf(out, len, "nf/%s/%s/%s/%s", target, kind, stamp, run_id);
    if (n < 0 || (size_t)n >= len || n > NEONFLOW__NAME_MAX) {
        if (len)
            out[0] = '\0';
        return NEONFLOW_EINVAL;
    }
    return NEONFLOW_OK;
}

static int stamp_ok(const char *s, size_t n)
{
    if (n != NEONFLOW__STAMP_LEN || s[8] != 'T' || s[15] != 'Z')
        return 0;
    for (size_t i = 0; i < 15; i++)
        if (i != 8 && (s[i] < '0' || s[i] > '9'))
            return 0;
    return 1;
}

int neonflow__name_parse(const char *name, neonflow__name_parts *out)
{
    if (!name || strncmp(name, "nf/", 3) != 0)
        return 0;
    const char *t = name + 3;
    const char *end = name + strlen(name);
    const char *slash[3];
    const char *p = end;
    for (int i = 0; i < 3; i++) { /* the last three '/' */
        while (p > t && p[-1] != '/')
            p--;
        if (p <= t)
            return 0;
        slash[i] = p - 1;
        p--;
    }
    const char *run = slash[0] + 1, *stamp = slash[1] + 1, *kind = slash[2] + 1;
    size_t nrun = (size_t)(end - run), nstamp = (size_t)(slash[0] - stamp), nkind = (size_t)(slash[1] - kind);
    size_t ntarget = (size_t)(slash[2] - t);
    if (ntarget == 0 || ntarget > NEONFLOW__NAME_MAX || nkind == 0 || nkind >= 32 || !stamp_ok(stamp, nstamp) ||
        nrun == 0 || nrun > NEONFLOW__RUN_ID_MAX)
        return 0;
    char runbuf[NEONFLOW__RUN_ID_MAX + 1];
    memcpy(runbuf, run, nrun);
    runbuf[nrun] = '\0';
    if (!neonflow__run_id_valid(runbuf))
        return 0;
    for (size_t i = 0; i < nkind; i++)
        if (!((kind[i] >= 'a' && kind[i] <= 'z') || kind[i] == '-'))
            return 0;
    if (out) {
        memcpy(out->target, t, ntarget);
        out->target[ntarget] = '\0';
        memcpy(out->kind, kind, nkind);
        out->kind[nkind] = '\0';
        memcpy(out->stamp, stamp, nstamp);
        out->stamp[nstamp] = '\0';
        memcpy(out->run_id, runbuf, nrun + 1);
    }
    return 1;
}

int neonflow__name_matches(const char *name, const char *target, const char *kind, const char *run_id)
{
    neonflow__name_parts p;
    if (!neonflow__name_parse(name, &p))
        return 0;
    return (!target || strcmp(p.target, target) == 0) && (!kind || strcmp(p.kind, kind) == 0) &&
           (!run_id || strcmp(p.run_id, run_id) == 0);
}

int neonflow__old_name_parse(const char *name, char *base_out, size_t len)
{
    if (!name)
        return 0;
    size_t n = strlen(name);
    const char *open = NULL;
    /* "<base> (old)" or "<base> (old N)" */
    if (n > 6 && strcmp(name + n - 6, " (old)") == 0) {
        open = name + n - 6;
    } else if (n > 8 && name[n - 1] == ')') {
        const char *q = name + n - 2;
        while (q > name && *q >= '0' && *q <= '9')
            q--;
        if (q < name + n - 2 && q - name >= 5 && strncmp(q - 5, " (old ", 6) == 0)
            open = q - 5;
    }
    if (!open || open == name)
        return 0;
    if (base_out && len) {
        size_t b = (size_t)(open - name);
        if (b >= len)
            b = len - 1;
        memcpy(base_out, name, b);
        base_out[b] = '\0';
    }
    return 1;
}

/* Which workflow makes each kind. 0.1.0 named the preview and backup of
 * promote, refresh and rollback alike ("preview", "backup"): those say only
 * "one of the three" (0) and are attributed from the run's other resources. */
static const struct {
    const char *kind;
    int32_t workflow;
    int backup;
} kinds[] = {
    {"setup", NEONFLOW_WORKFLOW_SETUP, 0},
    {"candidate", NEONFLOW_WORKFLOW_PROMOTE, 0},
    {"rollback", NEONFLOW_WORKFLOW_PROMOTE, 0},
    {"promote-preview", NEONFLOW_WORKFLOW_PROMOTE, 0},
    {"promote-backup", NEONFLOW_WORKFLOW_PROMOTE, 1},
    {"undo-preview", NEONFLOW_WORKFLOW_PROMOTE, 0},
    {"undo-backup", NEONFLOW_WORKFLOW_PROMOTE, 1},
    {"refresh", NEONFLOW_WORKFLOW_REFRESH, 0},
    {"refresh-preview", NEONFLOW_WORKFLOW_REFRESH, 0},
    {"refresh-backup", NEONFLOW_WORKFLOW_REFRESH, 1},
    {"pre-rollback", NEONFLOW_WORKFLOW_ROLLBACK, 0},
    {"rollback-preview", NEONFLOW_WORKFLOW_ROLLBACK, 0},
    {"rollback-backup", NEONFLOW_WORKFLOW_ROLLBACK, 1},
    {NEONFLOW__KIND_LEGACY_PREVIEW, 0, 0},
    {NEONFLOW__KIND_LEGACY_BACKUP, 0, 1},
};

int32_t neonflow__kind_workflow(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return kinds[i].workflow;
    return -1;
}

int neonflow__kind_is_backup(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return kinds[i].backup;
    return 0;
}

const char *neonflow__workflow_label(int32_t workflow)
{
    switch (workflow) {
    case NEONFLOW_WORKFLOW_SETUP: return "setup";
    case NEONFLOW_WORKFLOW_PROMOTE: return "promote";
    case NEONFLOW_WORKFLOW_REFRESH: return "refresh";
    case NEONFLOW_WORKFLOW_ROLLBACK: return "rollback";
    case NEONFLOW_WORKFLOW_BACKUPS: return "backups list";
    case NEONFLOW_WORKFLOW_PRUNE: return "prune";
    default: return "unknown";
    }
}

int64_t neonflow__time_upper_ms(const char *s)
{
    int64_t ms;
    if (!s || neonflow__rfc3339_ms(s, &ms) != 0)
        return 0;
    const char *p = s + 19;
    if (*p != '.')
        return ms + 999; /* whole seconds: the instant may lie anywhere in that second */
    int n = 0, rest = 0;
    for (p++; *p >= '0' && *p <= '9'; p++, n++)
        rest |= n >= 3 && *p != '0';
    return ms + (n == 1 ? 99 : n == 2 ? 9 : rest);
}

int64_t neonflow__op_done_upper_ms(const neonflow_operation *op)
{
    int64_t u = neonflow__time_upper_ms(neonflow_operation_updated_at(op));
    int64_t c = neonflow__time_upper_ms(neonflow_operation_created_at(op));
    int64_t d = neonflow_operation_total_duration_ms(op);
    if (c > 0 && d >= 0 && c + d > u)
        u = c + d;
    return u;
}
