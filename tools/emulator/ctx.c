/* Request-context helpers for the route files, and the request/response
 * counters (all under the server mutex). */
#include "emu_internal.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- context helpers used by the route files ---- */

void emu_err(emu_ctx *c, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_decref(c->out);
    c->status = status;
    c->out = emu_error_body(code, msg, c->request_id);
}

void emu_ok(emu_ctx *c, int status, json_t *out)
{
    json_decref(c->out);
    c->status = status;
    c->out = out;
}

const char *emu_query(emu_ctx *c, const char *key)
{
    return c->no_query ? NULL : MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, key);
}

int emu_get_str(emu_ctx *c, json_t *obj, const char *key, const char **out)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        emu_err(c, 400, "", "%s must be a string", key);
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

int emu_get_bool(emu_ctx *c, json_t *obj, const char *key, int *out)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v)) {
        emu_err(c, 400, "", "%s must be a boolean", key);
        return -1;
    }
    *out = json_is_true(v);
    return 1;
}

json_t *emu_get_obj(emu_ctx *c, json_t *obj, const char *key, int *bad)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    *bad = 0;
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_object(v)) {
        emu_err(c, 400, "", "%s must be an object", key);
        *bad = 1;
        return NULL;
    }
    return v;
}

/* ---- counters ---- */

static unsigned hash_str(const char *a, const char *b)
{
    unsigned h = 2166136261u;
    for (; *a; a++)
        h = (h ^ (unsigned char)*a) * 16777619u;
    h = (h ^ ' ') * 16777619u;
    for (; *b; b++)
        h = (h ^ (unsigned char)*b) * 16777619u;
    return h;
}

/* Methods other than these share one name, so a client inventing methods
 * cannot add keys either. */
static const char *method_name(const char *m)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
        if (strcmp(m, known[i]) == 0)
            return known[i];
    return "OTHER";
}

static emu_counter_entry *counter_find(emu_server *s, unsigned h, const char *method, const char *path)
{
    size_t ml = strlen(method);
    for (emu_counter_entry *e = s->req_buckets[h]; e; e = e->next)
        if (strncmp(e->key, method, ml) == 0 && e->key[ml] == ' ' && strcmp(e->key + ml + 1, path) == 0)
            return e;
    return NULL;
}

/* Keys are "METHOD path" for matched routes. Unmatched requests share
 * "METHOD (unmatched)"; once EMU_COUNTER_MAX_KEYS keys exist, new paths share
 * "METHOD (overflow)". Either way memory stays bounded. */
void emu_count_request(emu_server *s, const char *method, const char *path)
{
    method = method_name(method);
    if (!path)
        path = "(unmatched)";
    unsigned h = hash_str(method, path) % EMU_COUNTER_BUCKETS;
    emu_counter_entry *e = counter_find(s, h, method, path);
    if (!e && s->counter_keys >= EMU_COUNTER_MAX_KEYS && path[0] == '/') {
        path = "(overflow)";
        h = hash_str(method, path) % EMU_COUNTER_BUCKETS;
        e = counter_find(s, h, method, path);
    }
    if (e) {
        e->count++;
        return;
    }
    e = calloc(1, sizeof(*e));
    if (!e)
        return;
    size_t kl = strlen(method) + strlen(path) + 2;
    e->key = malloc(kl);
    if (!e->key) {
        free(e);
        return;
    }
    snprintf(e->key, kl, "%s %s", method, path);
    e->count = 1;
    e->next = s->req_buckets[h];
    s->req_buckets[h] = e;
    s->counter_keys++;
}

int64_t emu_requests_locked(emu_server *s, const char *method, const char *path)
{
    int64_t total = 0;
    for (size_t i = 0; i < EMU_COUNTER_BUCKETS; i++)
        for (emu_counter_entry *e = s->req_buckets[i]; e; e = e->next) {
            const char *sp = strchr(e->key, ' ');
            if (method && (strlen(method) != (size_t)(sp - e->key) ||
                           strncasecmp(e->key, method, (size_t)(sp - e->key)) != 0))
                continue;
            if (emu_path_match(path, sp + 1))
                total += e->count;
        }
    return total;
}

void emu_counters_free(emu_server *s)
{
    for (size_t i = 0; i < EMU_COUNTER_BUCKETS; i++) {
        emu_counter_entry *e = s->req_buckets[i];
        while (e) {
            emu_counter_entry *n = e->next;
            free(e->key);
            free(e);
            e = n;
        }
        s->req_buckets[i] = NULL;
    }
    s->counter_keys = 0;
}

void emu_counters_reset_locked(emu_server *s)
{
    emu_counters_free(s);
    memset(s->status_counts, 0, sizeof(s->status_counts));
    atomic_store(&s->connections, 0);
}

json_t *emu_counters_json(emu_server *s)
{
    json_t *req = json_object(), *resp = json_object();
    for (size_t i = 0; i < EMU_COUNTER_BUCKETS; i++)
        for (emu_counter_entry *e = s->req_buckets[i]; e; e = e->next)
            json_object_set_new(req, e->key, json_integer(e->count));
    for (int i = 0; i < 600; i++)
        if (s->status_counts[i]) {
            char k[8];
            snprintf(k, sizeof(k), "%d", i);
            json_object_set_new(resp, k, json_integer(s->status_counts[i]));
        }
    return json_pack("{s:o, s:o, s:I, s:I}", "requests", req, "responses", resp, "connections",
                     (json_int_t)atomic_load(&s->connections), "in_flight", (json_int_t)atomic_load(&s->in_flight));
}

