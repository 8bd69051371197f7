/* HTTP front end: libmicrohttpd daemon (a thread per connection, poll(), a
 * connection limit, request deadlines), routing, auth, request IDs, HTTP
 * faults, rate limiting and counters. Handlers run under the one state mutex;
 * JSON is serialised after it is released. */
#include "emu_internal.h"
#include "pgproc.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_BODY (1u << 20)

typedef struct req_state {
    char *body;
    size_t len, cap;
    int too_big;
    int in_flight; /* an API request: counted in s->in_flight until it completes */
} req_state;

static const struct route {
    const char *method, *pattern;
    emu_handler h;
} routes[] = {
    {"GET", "/projects", emu_projects_list},
    {"GET", "/projects/shared", emu_projects_shared}, /* matched before the project route */
    {"GET", "/projects/*", emu_project_get},
    {"GET", "/projects/*/connection_uri", emu_connection_uri},
    {"GET", "/projects/*/branches", emu_branches_list},
    {"POST", "/projects/*/branches", emu_branch_create},
    {"GET", "/projects/*/branches/count", emu_branches_count},
    {"GET", "/projects/*/branches/*", emu_branch_get},
    {"PATCH", "/projects/*/branches/*", emu_branch_update},
    {"DELETE", "/projects/*/branches/*", emu_branch_delete},
    {"POST", "/projects/*/branches/*/set_as_default", emu_branch_set_default},
    {"POST", "/projects/*/branches/*/finalize_restore", emu_branch_finalize},
    {"POST", "/projects/*/branches/*/restore", emu_branch_restore},
    {"GET", "/projects/*/branches/*/backup_schedule", emu_schedule_get},
    {"PUT", "/projects/*/branches/*/backup_schedule", emu_schedule_put},
    {"GET", "/projects/*/branches/*/endpoints", emu_branch_endpoints_list},
    {"GET", "/projects/*/branches/*/roles", emu_roles_list},
    {"POST", "/projects/*/branches/*/roles", emu_role_create},
    {"GET", "/projects/*/branches/*/roles/*", emu_role_get},
    {"DELETE", "/projects/*/branches/*/roles/*", emu_role_delete},
    {"GET", "/projects/*/branches/*/roles/*/reveal_password", emu_role_reveal_password},
    {"GET", "/projects/*/branches/*/databases", emu_databases_list},
    {"POST", "/projects/*/branches/*/databases", emu_database_create},
    {"GET", "/projects/*/branches/*/databases/*", emu_database_get},
    {"DELETE", "/projects/*/branches/*/databases/*", emu_database_delete},
    {"POST", "/projects/*/branches/*/snapshot", emu_snapshot_create},
    {"GET", "/projects/*/snapshots", emu_snapshots_list},
    {"PATCH", "/projects/*/snapshots/*", emu_snapshot_update},
    {"DELETE", "/projects/*/snapshots/*", emu_snapshot_delete},
    {"POST", "/projects/*/snapshots/*/restore", emu_snapshot_restore},
    {"GET", "/projects/*/endpoints", emu_endpoints_list},
    {"POST", "/projects/*/endpoints", emu_endpoint_create},
    {"GET", "/projects/*/endpoints/*", emu_endpoint_get},
    {"DELETE", "/projects/*/endpoints/*", emu_endpoint_delete},
    {"PATCH", "/projects/*/endpoints/*", emu_endpoint_update},
    {"POST", "/projects/*/endpoints/*/start", emu_endpoint_start},
    {"POST", "/projects/*/endpoints/*/suspend", emu_endpoint_suspend},
    {"POST", "/projects/*/endpoints/*/restart", emu_endpoint_restart},
    {"GET", "/projects/*/operations", emu_operations_list},
    {"GET", "/projects/*/operations/*", emu_operation_get},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))
_Static_assert(NROUTES <= EMU_NROUTES, "raise EMU_NROUTES");

/* ---- responses ---- */

typedef struct trunc_ctx {
    char *body;
    size_t half;
} trunc_ctx;

static ssize_t trunc_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    trunc_ctx *t = cls;
    if (pos >= t->half)
        return MHD_CONTENT_READER_END_WITH_ERROR; /* closes with the body short */
    size_t n = t->half - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, t->body + pos, n);
    return (ssize_t)n;
}

static void trunc_free(void *cls)
{
    trunc_ctx *t = cls;
    free(t->body);
    free(t);
}

/* body is malloc'd (or NULL) and always consumed. */
static enum MHD_Result send_body(emu_server *s, struct MHD_Connection *conn, int status,
                                 char *body, const char *request_id, int retry_after, int truncate)
{
    struct MHD_Response *r;
    size_t len = body ? strlen(body) : 0;
    if (truncate && len > 1) {
        trunc_ctx *t = malloc(sizeof(*t));
        if (!t) {
            free(body);
            return MHD_NO;
        }
        t->body = body;
        t->half = len / 2;
        r = MHD_create_response_from_callback(len, 4096, trunc_reader, t, trunc_free);
        if (!r)
            trunc_free(t);
    } else {
        r = MHD_create_response_from_buffer(len, body ? body : (void *)"",
                                            body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (!r)
            free(body);
    }
    if (!r)
        return MHD_NO;
    if (status != 204)
        MHD_add_response_header(r, "Content-Type", "application/json");
    if (request_id)
        MHD_add_response_header(r, "X-Request-ID", request_id);
    if (retry_after >= 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%d", retry_after);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static char *dump(json_t *j)
{
    char *out = j ? json_dumps(j, JSON_COMPACT) : NULL;
    return out;
}

static enum MHD_Result send_json(emu_server *s, struct MHD_Connection *conn, int status, json_t *j,
                                 const char *request_id, int retry_after, int truncate)
{
    char *body = status == 204 ? NULL : dump(j);
    json_decref(j);
    pthread_mutex_lock(&s->mu);
    if (status > 0 && status < 600)
        s->status_counts[status]++;
    pthread_mutex_unlock(&s->mu);
    return send_body(s, conn, status, body, request_id, retry_after, truncate);
}

/* ---- faults ---- */

static const emu_fault_rule *pick_fault(emu_server *s, const char *method, const char *path)
{
    for (size_t i = 0; i < s->faults.n; i++) {
        emu_fault_rule *r = s->faults.v[i];
        if (r->f.method && strcasecmp(r->f.method, method) != 0)
            continue;
        if (!emu_path_match(r->f.path, path))
            continue;
        r->seen++;
        if (r->seen <= r->f.skip)
            continue;
        if (r->f.probability > 0) {
            if (emu_rand_unit(s) < r->f.probability)
                return r;
        } else if (r->seen <= (int64_t)r->f.skip + r->f.count) {
            return r;
        }
    }
    return NULL;
}

static void sleep_ms(emu_server *s, int64_t ms)
{
    while (ms > 0 && !atomic_load(&s->stopping)) {
        int64_t step = ms > 10 ? 10 : ms;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

/* ---- request handling ---- */

static int split_path(char *buf, char **seg, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (n == max)
            return -1;
        seg[n++] = t;
    }
    return n;
}

static int authorized(emu_server *s, struct MHD_Connection *conn)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    h += 7;
    while (*h == ' ')
        h++;
    return strcmp(h, s->api_key) == 0;
}

static void request_id_of(emu_server *s, struct MHD_Connection *conn, char *out, size_t len)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-ID");
    size_t n = h ? strlen(h) : 0;
    int ok = n > 0 && n < len && n <= 200;
    for (size_t i = 0; ok && i < n; i++)
        if ((unsigned char)h[i] < 0x21 || (unsigned char)h[i] > 0x7e)
            ok = 0;
    if (ok)
        memcpy(out, h, n + 1);
    else
        emu_gen_uuid(s, out, len);
}

static enum MHD_Result handle(emu_server *s, struct MHD_Connection *conn, const char *url,
                              const char *method, req_state *rs)
{
    char rid[208];
    const char *path = url;
    int control = strncmp(url, "/__emulator/", 12) == 0 || strcmp(url, "/__emulator") == 0;
    if (!control && strncmp(url, "/api/v2", 7) == 0 && (url[7] == '/' || url[7] == '\0'))
        path = url + 7;
    else if (!control)
        path = NULL;

    pthread_mutex_lock(&s->mu);
    request_id_of(s, conn, rid, sizeof(rid));
    pthread_mutex_unlock(&s->mu);

    if (!authorized(s, conn))
        return send_json(s, conn, 401, emu_error_body("", "authentication required: missing or invalid API key", rid), rid, -1, 0);

    emu_ctx c = {.s = s, .conn = conn, .method = method, .request_id = rid, .retry_after_s = -1};
    /* route: exact method first; a path-only match means 405 */
    char pathbuf[1024], matchbuf[1024];
    size_t plen = path ? strlen(path) : 0;
    int route = -1, path_hit = -1, routable = !control && path && plen < sizeof(pathbuf);
    if (routable) {
        memcpy(matchbuf, path, plen + 1);
        if (plen > 1 && matchbuf[plen - 1] == '/')
            matchbuf[plen - 1] = '\0'; /* tolerate one trailing slash */
        memcpy(pathbuf, matchbuf, strlen(matchbuf) + 1);
        c.nseg = split_path(pathbuf, c.seg, EMU_MAX_SEGS);
    }
    for (size_t i = 0; routable && c.nseg >= 0 && i < NROUTES; i++) {
        if (!emu_path_match(routes[i].pattern, matchbuf))
            continue;
        if (path_hit < 0)
            path_hit = (int)i;
        if (strcmp(routes[i].method, method) == 0) {
            route = (int)i;
            break;
        }
    }
    if (!control) { /* authenticated only; unknown paths share one key */
        pthread_mutex_lock(&s->mu);
        emu_count_request(s, method, route >= 0 ? path : NULL);
        pthread_mutex_unlock(&s->mu);
    }
    if (rs->too_big)
        return send_json(s, conn, 413, emu_error_body("", "request body too large", rid), rid, -1, 0);

    int post_fault = 0;
    const char *bad_body = NULL; /* answered 400 after faults and rate limits */
    if (rs->len && (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                    strcmp(method, "PATCH") == 0 || control)) {
        json_error_t jerr;
        c.body = json_loadb(rs->body, rs->len, 0, &jerr);
        if (!c.body) {
            bad_body = "request body is not valid JSON";
        } else if (!json_is_object(c.body)) {
            json_decref(c.body);
            c.body = NULL;
            bad_body = "request body must be a JSON object";
        }
    }

    if (control && bad_body)
        return send_json(s, conn, 400, emu_error_body("", bad_body, rid), rid, -1, 0);
    if (control) {
        pthread_mutex_lock(&s->mu);
        emu_control(&c, url + 11);
        pthread_mutex_unlock(&s->mu);
        json_decref(c.body);
        return send_json(s, conn, c.status, c.out, rid, -1, 0);
    }

    /* faults decided before anything is applied */
    emu_fault fired = {0};
    int have_fault = 0;
    pthread_mutex_lock(&s->mu);
    const emu_fault_rule *fr = path ? pick_fault(s, method, path) : NULL;
    if (fr) {
        fired = fr->f;
        fired.method = fired.path = NULL; /* rule may be cleared concurrently */
        have_fault = 1;
    }
    pthread_mutex_unlock(&s->mu);
    if (have_fault) {
        switch (fired.kind) {
        case EMU_FAULT_STATUS:
            json_decref(c.body);
            return send_json(s, conn, fired.status >= 100 && fired.status < 600 ? fired.status : 503,
                             emu_error_body("", "emulated fault", rid), rid, fired.retry_after_s, 0);
        case EMU_FAULT_DROP_BEFORE:
            json_decref(c.body);
            return MHD_NO;
        case EMU_FAULT_DELAY:
            sleep_ms(s, fired.delay_ms);
            break;
        case EMU_FAULT_DROP_QUERY:
            c.no_query = 1;
            break;
        case EMU_FAULT_DROP_BODY:
            json_decref(c.body);
            c.body = NULL;
            bad_body = NULL;
            break;
        default:
            post_fault = fired.kind;
        }
    }

    if (!routable) {
        json_decref(c.body);
        return send_json(s, conn, 404, emu_error_body("", "not found", rid), rid, -1, 0);
    }

    pthread_mutex_lock(&s->mu);
    int ra = emu_ratelimit_check(s, route >= 0 ? route : path_hit >= 0 ? path_hit : EMU_NROUTES);
    if (ra > 0) {
        emu_err(&c, 429, "", "rate limit exceeded, retry later");
        c.retry_after_s = ra;
    } else if (route < 0) {
        if (path_hit >= 0)
            emu_err(&c, 405, "", "method not allowed");
        else
            emu_err(&c, 404, "", "not found");
    } else if (bad_body) {
        emu_err(&c, 400, "", "%s", bad_body);
    } else {
        int account = routes[route].h == emu_projects_shared; /* /projects/shared names no project */
        if (!account && c.nseg >= 2 && strcmp(c.seg[0], "projects") == 0)
            c.proj = emu_project_find(s, c.seg[1]);
        if (!account && c.nseg >= 2 && !c.proj)
            emu_err(&c, 404, "", "project not found");
        else if (c.proj && strcmp(method, "GET") != 0 && emu_project_busy(c.proj))
            emu_err(&c, 423, "",
                    "project already has running conflicting operations, scheduling of some are blocked");
        else
            routes[route].h(&c);
        emu_pgb_reconcile(s); /* --postgres; GETs too: they purge expired branches */
        if (!c.out && c.status != 204)
            emu_err(&c, 500, "", "internal error");
    }
    pthread_mutex_unlock(&s->mu);
    json_decref(c.body);

    if (post_fault == EMU_FAULT_DROP_AFTER) {
        json_decref(c.out);
        return MHD_NO;
    }
    if (post_fault == EMU_FAULT_MALFORMED) {
        json_decref(c.out);
        pthread_mutex_lock(&s->mu);
        s->status_counts[200]++;
        pthread_mutex_unlock(&s->mu);
        return send_body(s, conn, 200, strdup("<html><body>502 Bad Gateway</body></html>{\"branch\":"),
                         rid, -1, 0);
    }
    return send_json(s, conn, c.status, c.out, rid, c.retry_after_s, post_fault == EMU_FAULT_TRUNCATE);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    emu_server *s = cls;
    req_state *rs = *con_cls;
    if (!rs) {
        rs = calloc(1, sizeof(*rs));
        if (!rs)
            return MHD_NO;
        *con_cls = rs;
        /* control routes excluded: a harness polls in_flight through them */
        if (strncmp(url, "/__emulator/", 12) != 0 && strcmp(url, "/__emulator") != 0) {
            rs->in_flight = 1;
            atomic_fetch_add(&s->in_flight, 1);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rs->too_big || rs->len + n > MAX_BODY) {
            rs->too_big = 1;
            return MHD_YES;
        }
        if (rs->len + n + 1 > rs->cap) {
            size_t ncap = (rs->len + n + 1) * 2;
            char *nb = realloc(rs->body, ncap);
            if (!nb)
                return MHD_NO;
            rs->body = nb;
            rs->cap = ncap;
        }
        memcpy(rs->body + rs->len, upload_data, n);
        rs->len += n;
        rs->body[rs->len] = '\0';
        return MHD_YES;
    }
    emu_conn_busy(s->conns, conn); /* the whole request is in: its deadline is met */
    return handle(s, conn, url, method, rs);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    emu_server *s = cls;
    req_state *rs = *con_cls;
    if (rs) {
        if (rs->in_flight)
            atomic_fetch_sub(&s->in_flight, 1);
        free(rs->body);
        free(rs);
        *con_cls = NULL;
    }
    emu_conn_idle(s->conns, conn); /* the clock runs for the next request */
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    emu_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&s->connections, 1);
        emu_conn_opened(s->conns, conn, socket_context);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        emu_conn_closed(s->conns, socket_context);
    }
}

/* ---- lifecycle ---- */

void emu_config_init(emu_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->host = "127.0.0.1";
    cfg->api_key = "emulator-key";
    cfg->seed = 1;
    cfg->rate_per_minute = 700;
    cfg->rate_per_second_route = 40;
    cfg->max_root_branches = 25;
    cfg->max_snapshots = 100;
    cfg->max_connections = EMU_DEFAULT_MAX_CONNECTIONS;
    cfg->connection_timeout_s = EMU_DEFAULT_CONNECTION_TIMEOUT_S;
}

int emu_start(emu_server **out, const emu_config *cfg)
{
    struct sockaddr_in sa4;
    struct sockaddr_in6 sa6;
    const struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO;
    if (!out || !cfg)
        return -1;
    *out = NULL;
    const char *host = cfg->host ? cfg->host : "127.0.0.1";
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    memset(&sa4, 0, sizeof(sa4));
    memset(&sa6, 0, sizeof(sa6));
    if (inet_pton(AF_INET, host, &sa4.sin_addr) == 1) {
        if ((ntohl(sa4.sin_addr.s_addr) >> 24) != 127)
            return -1; /* loopback only */
        sa4.sin_family = AF_INET;
        sa4.sin_port = htons(cfg->port);
        sa = (const struct sockaddr *)&sa4;
    } else if (inet_pton(AF_INET6, host, &sa6.sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&sa6.sin6_addr))
            return -1;
        sa6.sin6_family = AF_INET6;
        sa6.sin6_port = htons(cfg->port);
        sa = (const struct sockaddr *)&sa6;
        flags |= MHD_USE_IPv6;
    } else {
        return -1;
    }

    emu_server *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    pthread_mutex_init(&s->mu, NULL);
    snprintf(s->host, sizeof(s->host), "%s", host);
    s->api_key = strdup(cfg->api_key ? cfg->api_key : "emulator-key");
    s->rng = cfg->seed;
    s->op_duration_ms = cfg->op_duration_ms > 0 ? cfg->op_duration_ms : 0;
    s->max_roots_default = cfg->max_root_branches > 0 ? cfg->max_root_branches : 25;
    s->max_snaps_default = cfg->max_snapshots > 0 ? cfg->max_snapshots : 100;
    emu_ratelimit_configure(s, cfg->rate_per_minute, cfg->rate_per_second_route);
    if (!s->api_key)
        goto fail;
    if (cfg->save_path && !(s->save_path = strdup(cfg->save_path)))
        goto fail;
    int32_t max_conns = cfg->max_connections > 0 ? cfg->max_connections : EMU_DEFAULT_MAX_CONNECTIONS;
    int32_t timeout_s = cfg->connection_timeout_s > 0 ? cfg->connection_timeout_s : EMU_DEFAULT_CONNECTION_TIMEOUT_S;
    if (!(s->conns = emu_conns_start((int64_t)timeout_s * 1000)))
        goto fail;
    if (cfg->postgres) {
        char why[512];
        if (emu_pg_open(&s->pg, cfg->pg_data_dir, why, sizeof(why)) != 0) {
            fprintf(stderr, "neonflow-emulator: --postgres: %s\n", why);
            goto fail;
        }
        if (cfg->pg_history && emu_pg_set_history(s->pg, 1) != 0) {
            fprintf(stderr, "neonflow-emulator: --pg-history: the data directory's path may only hold [A-Za-z0-9/._-]\n");
            goto fail;
        }
    }
    if (cfg->fixture_path) {
        json_error_t jerr;
        json_t *root = json_load_file(cfg->fixture_path, 0, &jerr);
        int rc = root ? emu_load_fixture_locked(s, root) : -1;
        json_decref(root);
        if (rc != 0 || emu_pgb_after_load(s) != 0)
            goto fail;
    }
    int tls = cfg->tls_cert_pem && cfg->tls_key_pem;
    struct MHD_OptionItem tls_opts[] = {
        {tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, (void *)cfg->tls_key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cfg->tls_cert_pem},
        {cfg->tls_priorities ? MHD_OPTION_HTTPS_PRIORITIES : MHD_OPTION_END, 0, (void *)cfg->tls_priorities},
        {MHD_OPTION_END, 0, NULL},
    };
    if (tls)
        flags |= MHD_USE_TLS;
    s->daemon = MHD_start_daemon(flags, cfg->port, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, tls_opts,
                                 MHD_OPTION_SOCK_ADDR, sa,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)max_conns,
                                 /* idleness only, which delay faults and slow response reads need
                                    to outlast; conns.c enforces the request deadline */
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(timeout_s > 120 ? timeout_s : 120),
                                 MHD_OPTION_END);
    if (!s->daemon)
        goto fail;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    const char *scheme = tls ? "https" : "http";
    if (strchr(s->host, ':'))
        snprintf(s->base_url, sizeof(s->base_url), "%s://[%s]:%u/api/v2", scheme, s->host, (unsigned)s->port);
    else
        snprintf(s->base_url, sizeof(s->base_url), "%s://%s:%u/api/v2", scheme, s->host, (unsigned)s->port);
    *out = s;
    return 0;
fail:
    emu_stop(s);
    return -1;
}

const char *emu_base_url(const emu_server *s)
{
    return s ? s->base_url : NULL;
}

uint16_t emu_port(const emu_server *s)
{
    return s ? s->port : 0;
}

void emu_stop(emu_server *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, 1);
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    emu_conns_stop(s->conns);
    emu_pg_close(s->pg); /* after the daemon: no handler runs any more */
    free(s->save_path);
    for (size_t i = 0; i < s->projects.n; i++)
        emu_project_free(s->projects.v[i]);
    free(s->projects.v);
    emu_faults_clear_locked(s);
    free(s->faults.v);
    for (size_t i = 0; i < s->opfaults.n; i++) {
        emu_opfault *f = s->opfaults.v[i];
        free(f->action);
        free(f);
    }
    free(s->opfaults.v);
    emu_counters_free(s);
    emu_ratelimit_free(s);
    free(s->api_key);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int emu_postgres_available(void)
{
    return emu_pg_available();
}

const char *emu_pg_data_root(const emu_server *s)
{
    return s ? emu_pg_root(s->pg) : NULL;
}

int emu_tls_supported(void) { return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES; }
