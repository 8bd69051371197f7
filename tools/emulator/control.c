/* Control routes, for tests in other languages, the demo and the CLI.
 *
 * They live under /__emulator/ (outside /api/v2, a prefix Neon never uses),
 * need the same Bearer key as the API, and are exempt from faults, rate
 * limits and request counters. Bodies are JSON objects; answers are JSON.
 *
 *   POST   /__emulator/projects     {project_id?, branch_name?}
 *                                   -> {project_id, branch_id, endpoint_id}
 *   POST   /__emulator/branches     {project_id, name?, parent_id?, with_rw_endpoint?}
 *                                   -> {branch_id, endpoint_id?}
 *   POST   /__emulator/write        {project_id, branch_id, content} -> {lsn}
 *   GET    /__emulator/read?project_id=&branch_id=                  -> {content, lsn}
 *   POST   /__emulator/faults       {method?, path?, kind, status?, retry_after_s?,
 *                                    delay_ms?, skip?, count?, probability?}
 *          kind: "status" | "drop_before" | "drop_after" | "delay" | "truncate" | "malformed" | "drop_query" | "drop_body"
 *   DELETE /__emulator/faults
 *   POST   /__emulator/op_faults    {action?, kind: "fail_then_recover"|"error"|"cancelled", count?}
 *   PUT    /__emulator/op_duration  {ms}
 *   PUT    /__emulator/rate_limit   {per_minute, per_second_route}   (0 disables)
 *   PUT    /__emulator/limits       {project_id, max_root_branches?, max_snapshots?}
 *   GET    /__emulator/counters[?method=&path=] -> {requests, responses, connections, in_flight[, count]}
 *   DELETE /__emulator/counters
 *   GET    /__emulator/state        full state (the fixture format)
 *   POST   /__emulator/save         {path?} -> {path}: writes the file fixed at start
 *                                   (--save); 409 without one, 400 if path names another
 * Setters accept POST or PUT. Runs with the state mutex held. Every input is
 * bounded: rule lists are capped, numbers range-checked, strings length-checked,
 * and no route takes a file path from the client. */
#include "emu_internal.h"

#include <stdio.h>
#include <string.h>

static int is_set(const char *m)
{
    return strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0;
}

#define MAX_DELAY_MS 3600000 /* also the program's --op-duration-ms ceiling */
#define MAX_CONTENT 1024      /* a content token, remembered for 4096 writes per branch */

/* An integer member in [lo, hi]; absent or null gives dflt. */
static int int_member(emu_ctx *c, const char *key, json_int_t dflt, json_int_t lo, json_int_t hi,
                      json_int_t *out)
{
    json_t *v = json_object_get(c->body, key);
    if (!v || json_is_null(v)) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v)) {
        emu_err(c, 400, "", "%s must be an integer", key);
        return -1;
    }
    *out = json_integer_value(v);
    if (*out < lo || *out > hi) {
        emu_err(c, 400, "", "%s must be between %lld and %lld", key, (long long)lo, (long long)hi);
        return -1;
    }
    return 0;
}

/* A string member of at most max bytes (0 absent/null, 1 present, -1 error set). */
static int str_member(emu_ctx *c, const char *key, size_t max, const char **out)
{
    int rc = emu_get_str(c, c->body, key, out);
    if (rc == 1 && strlen(*out) > max) {
        emu_err(c, 400, "", "%s is longer than %zu bytes", key, max);
        return -1;
    }
    return rc;
}

static int kind_of(const char *k, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(k, names[i]) == 0)
            return i + 1;
    return 0;
}

static void add_fault(emu_ctx *c)
{
    static const char *const kinds[] = {"status", "drop_before", "drop_after", "delay", "truncate", "malformed", "drop_query", "drop_body"};
    emu_fault f;
    json_int_t st, ra, delay, skip, count;
    const char *method = NULL, *path = NULL, *ks = NULL;
    emu_fault_init(&f);
    json_t *kv = json_object_get(c->body, "kind"), *pv = json_object_get(c->body, "probability");
    if (c->s->faults.n >= EMU_MAX_FAULT_RULES)
        EMU_FAIL(c, 409, "", "at most %d fault rules; DELETE /__emulator/faults first", EMU_MAX_FAULT_RULES);
    if (str_member(c, "method", 16, &method) < 0 || str_member(c, "path", 1024, &path) < 0)
        return;
    if (json_is_string(kv))
        ks = json_string_value(kv), f.kind = kind_of(ks, kinds, 8);
    else if (json_is_integer(kv))
        f.kind = (int)json_integer_value(kv);
    if (int_member(c, "status", 503, 100, 599, &st) || int_member(c, "retry_after_s", -1, -1, INT32_MAX, &ra) ||
        int_member(c, "delay_ms", 0, 0, MAX_DELAY_MS, &delay) || int_member(c, "skip", 0, 0, INT32_MAX, &skip) ||
        int_member(c, "count", 1, 0, INT32_MAX, &count))
        return;
    if (pv && !json_is_null(pv) && !json_is_number(pv))
        EMU_FAIL(c, 400, "", "probability must be a number");
    f.method = method;
    f.path = path;
    f.status = (int)st;
    f.retry_after_s = (int)ra;
    f.delay_ms = delay;
    f.skip = (int)skip;
    f.count = (int)count;
    f.probability = pv ? json_number_value(pv) : 0;
    if (emu_fault_add_locked(c->s, &f) != 0)
        EMU_FAIL(c, 400, "", "invalid fault");
    emu_ok(c, 200, json_object());
}

static void add_op_fault(emu_ctx *c)
{
    static const char *const kinds[] = {"fail_then_recover", "error", "cancelled"};
    const char *action = NULL;
    json_int_t count;
    int kind = 0;
    json_t *kv = json_object_get(c->body, "kind");
    if (c->s->opfaults.n >= EMU_MAX_FAULT_RULES)
        EMU_FAIL(c, 409, "", "at most %d operation faults pending", EMU_MAX_FAULT_RULES);
    if (str_member(c, "action", 47, &action) < 0 || int_member(c, "count", 1, 1, INT32_MAX, &count))
        return;
    if (json_is_string(kv))
        kind = kind_of(json_string_value(kv), kinds, 3);
    else if (json_is_integer(kv))
        kind = (int)json_integer_value(kv);
    if (emu_op_fault_add_locked(c->s, action, kind, (int)count) != 0)
        EMU_FAIL(c, 400, "", "invalid operation fault");
    emu_ok(c, 200, json_object());
}

static void counters(emu_ctx *c)
{
    json_t *out = emu_counters_json(c->s);
    const char *m = emu_query(c, "method"), *p = emu_query(c, "path");
    if (m || p)
        json_object_set_new(out, "count", json_integer(emu_requests_locked(c->s, m, p)));
    emu_ok(c, 200, out);
}

/* Writes the state to the file fixed at start, never to one the client names:
 * the route is reachable by anyone with the key, the file system is not. */
static void save(emu_ctx *c)
{
    const char *file = NULL;
    if (emu_get_str(c, c->body, "path", &file) < 0)
        return;
    if (!c->s->save_path)
        EMU_FAIL(c, 409, "", "no save file: start the emulator with --save FILE (emu_config.save_path)");
    if (file && strcmp(file, c->s->save_path) != 0)
        EMU_FAIL(c, 400, "", "the save file is fixed at start (--save); omit path");
    json_t *st = emu_state_locked(c->s);
    int rc = json_dump_file(st, c->s->save_path, JSON_INDENT(2));
    json_decref(st);
    if (rc != 0)
        EMU_FAIL(c, 500, "", "cannot write the save file");
    emu_ok(c, 200, json_pack("{s:s}", "path", c->s->save_path));
}

/* {"project_id", "fields": [names]}: those members are left out of the
 * project's branch and endpoint objects from now on ([] restores them). */
static void omit(emu_ctx *c)
{
    const char *pid = NULL;
    if (emu_get_str(c, c->body, "project_id", &pid) < 0)
        return;
    emu_project *p = emu_project_find(c->s, pid);
    if (!p)
        EMU_FAIL(c, 404, "", "project not found");
    json_t *fields = json_object_get(c->body, "fields");
    if (!json_is_array(fields) || json_array_size(fields) > EMU_MAX_OMIT)
        EMU_FAIL(c, 400, "", "fields must be an array of at most 16 names");
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f) {
        if (!json_is_string(f) || json_string_length(f) >= sizeof(p->omit[0]))
            EMU_FAIL(c, 400, "", "each field must be a name of at most 47 bytes");
    }
    p->nomit = 0;
    json_array_foreach(fields, i, f)
        snprintf(p->omit[p->nomit++], sizeof(p->omit[0]), "%s", json_string_value(f));
    emu_ok(c, 200, json_pack("{s:O}", "fields", fields));
}

void emu_control(emu_ctx *c, const char *path)
{
    const char *m = c->method;
    char bid[64] = "", eid[64] = "";
    const char *pid = NULL, *name = NULL, *parent = NULL, *content = NULL, *bname = NULL;
    int rw = 0;
    json_int_t a, b;
    c->status = 0;

    if (strcmp(path, "/projects") == 0 && strcmp(m, "POST") == 0) {
        if (emu_get_str(c, c->body, "project_id", &pid) < 0 || str_member(c, "branch_name", 256, &bname) < 0)
            return;
        char gen[64];
        if (!pid) { /* let the API pick, then report it */
            size_t before = c->s->projects.n;
            if (emu_add_project_locked(c->s, NULL, bname, bid, eid) != 0 || c->s->projects.n == before)
                EMU_FAIL(c, 400, "", "cannot create project");
            snprintf(gen, sizeof(gen), "%s", ((emu_project *)c->s->projects.v[c->s->projects.n - 1])->id);
            pid = gen;
        } else if (emu_add_project_locked(c->s, pid, bname, bid, eid) != 0) {
            EMU_FAIL(c, 409, "", "project exists or id invalid");
        }
        emu_ok(c, 200, json_pack("{s:s, s:s, s:s}", "project_id", pid, "branch_id", bid, "endpoint_id", eid));
    } else if (strcmp(path, "/branches") == 0 && strcmp(m, "POST") == 0) {
        if (emu_get_str(c, c->body, "project_id", &pid) < 0 || str_member(c, "name", 256, &name) < 0 ||
            emu_get_str(c, c->body, "parent_id", &parent) < 0 ||
            emu_get_bool(c, c->body, "with_rw_endpoint", &rw) < 0)
            return;
        if (emu_add_branch_locked(c->s, pid, name, parent, rw, bid, eid) != 0)
            EMU_FAIL(c, 400, "", "cannot create branch (unknown project/parent or duplicate name)");
        json_t *o = json_pack("{s:s}", "branch_id", bid);
        if (rw)
            json_object_set_new(o, "endpoint_id", json_string(eid));
        emu_ok(c, 200, o);
    } else if (strcmp(path, "/write") == 0 && strcmp(m, "POST") == 0) {
        if (emu_get_str(c, c->body, "project_id", &pid) < 0 || emu_get_str(c, c->body, "branch_id", &parent) < 0 ||
            str_member(c, "content", MAX_CONTENT, &content) < 0)
            return;
        emu_branch *br = emu_branch_find(emu_project_find(c->s, pid), parent);
        if (!br)
            EMU_FAIL(c, 404, "", "branch not found");
        if (emu_branch_write(br, c->s, content ? content : "") != 0)
            EMU_FAIL(c, 500, "", "out of memory");
        char lsn[32];
        emu_fmt_lsn(br->lsn, lsn, sizeof(lsn));
        emu_ok(c, 200, json_pack("{s:s}", "lsn", lsn));
    } else if (strcmp(path, "/read") == 0 && strcmp(m, "GET") == 0) {
        emu_branch *br = emu_branch_find(emu_project_find(c->s, emu_query(c, "project_id")),
                                         emu_query(c, "branch_id"));
        if (!br)
            EMU_FAIL(c, 404, "", "branch not found");
        char lsn[32];
        emu_fmt_lsn(br->lsn, lsn, sizeof(lsn));
        emu_ok(c, 200, json_pack("{s:s, s:s}", "content", br->content, "lsn", lsn));
    } else if (strcmp(path, "/faults") == 0 && strcmp(m, "POST") == 0) {
        add_fault(c);
    } else if (strcmp(path, "/faults") == 0 && strcmp(m, "DELETE") == 0) {
        emu_faults_clear_locked(c->s);
        emu_ok(c, 200, json_object());
    } else if (strcmp(path, "/op_faults") == 0 && strcmp(m, "POST") == 0) {
        add_op_fault(c);
    } else if (strcmp(path, "/op_duration") == 0 && is_set(m)) {
        if (int_member(c, "ms", 0, 0, MAX_DELAY_MS, &a))
            return;
        c->s->op_duration_ms = a > 0 ? a : 0;
        emu_ok(c, 200, json_object());
    } else if (strcmp(path, "/rate_limit") == 0 && is_set(m)) {
        /* each limit allocates a log of that many timestamps */
        if (int_member(c, "per_minute", 0, 0, 1000000, &a) || int_member(c, "per_second_route", 0, 0, 100000, &b))
            return;
        emu_ratelimit_configure(c->s, (int32_t)a, (int32_t)b);
        emu_ok(c, 200, json_object());
    } else if (strcmp(path, "/limits") == 0 && is_set(m)) {
        if (emu_get_str(c, c->body, "project_id", &pid) < 0 ||
            int_member(c, "max_root_branches", 0, 0, INT32_MAX, &a) || int_member(c, "max_snapshots", 0, 0, INT32_MAX, &b))
            return;
        emu_project *p = emu_project_find(c->s, pid);
        if (!p)
            EMU_FAIL(c, 404, "", "project not found");
        if (a > 0)
            p->max_roots = (int32_t)a;
        if (b > 0)
            p->max_snaps = (int32_t)b;
        emu_ok(c, 200, json_pack("{s:i, s:i}", "max_root_branches", (int)p->max_roots, "max_snapshots",
                                 (int)p->max_snaps));
    } else if (strcmp(path, "/restricted") == 0 && is_set(m)) {
        const char *act = NULL, *why = NULL;
        if (emu_get_str(c, c->body, "project_id", &pid) < 0 || emu_get_str(c, c->body, "branch_id", &parent) < 0 ||
            emu_get_str(c, c->body, "action", &act) < 0 || emu_get_str(c, c->body, "reason", &why) < 0)
            return;
        emu_branch *br = emu_branch_find(emu_project_find(c->s, pid), parent);
        if (!br)
            EMU_FAIL(c, 404, "", "branch not found");
        if (emu_branch_restrict(br, act, why) != 0)
            EMU_FAIL(c, 400, "", "at most two restrictions of up to 31 characters");
        emu_ok(c, 200, emu_json_branch(br, emu_project_find(c->s, pid)));
    } else if (strcmp(path, "/omit_fields") == 0 && is_set(m)) {
        omit(c);
    } else if (strcmp(path, "/counters") == 0 && strcmp(m, "GET") == 0) {
        counters(c);
    } else if (strcmp(path, "/counters") == 0 && strcmp(m, "DELETE") == 0) {
        emu_counters_reset_locked(c->s);
        emu_ok(c, 200, json_object());
    } else if (strcmp(path, "/state") == 0 && strcmp(m, "GET") == 0) {
        emu_ok(c, 200, emu_state_locked(c->s));
    } else if (strcmp(path, "/save") == 0 && strcmp(m, "POST") == 0) {
        save(c);
    } else {
        emu_err(c, 404, "", "unknown control route");
    }
}
