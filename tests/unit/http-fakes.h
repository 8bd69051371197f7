/* Test doubles shared by the HTTP unit tests: a fake sys seam, observers
 * for notes, logs and traces, a scripted one-answer-per-connection HTTP
 * responder on loopback, and client construction. Header-only (static). */
#ifndef NEONFLOW_TESTS_HTTP_FAKES_H
#define NEONFLOW_TESTS_HTTP_FAKES_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/http.h"
#include "core/transport-private.h"

#define KEY "napi_unit_secret_key_0123456789"

/* ---- fake sys ------------------------------------------------------------ */

typedef struct fake {
    int64_t now;
    int64_t wall;
    uint64_t rnd;
    int64_t sleeps[64];
    int nsleeps;
} fake;

static inline int64_t f_now(void *ctx) { return ((fake *)ctx)->now; }
static inline int64_t f_wall(void *ctx) { return ((fake *)ctx)->wall + ((fake *)ctx)->now; }
static inline uint64_t f_random(void *ctx) { return ((fake *)ctx)->rnd; }
static inline int f_sleep(void *ctx, int64_t ms, neonflow_cancel *cancel)
{
    fake *f = ctx;
    if (f->nsleeps < 64)
        f->sleeps[f->nsleeps++] = ms;
    f->now += ms;
    return neonflow_cancel_is_triggered(cancel);
}

static inline neonflow__sys fake_sys(fake *f)
{
    neonflow__sys s = {f_now, f_wall, f_sleep, f_random, f};
    return s;
}

/* ---- observers ----------------------------------------------------------- */

typedef struct notes {
    int n, retry, ratewait;
    int64_t last_wait;
    int32_t last_status;
} notes;

static inline void on_note(void *payload, int32_t kind, const char *method, const char *path,
                    int32_t status, int64_t wait)
{
    notes *n = payload;
    assert_non_null(method);
    assert_non_null(path);
    n->n++;
    if (kind == NEONFLOW__NOTE_RETRY)
        n->retry++;
    if (kind == NEONFLOW__NOTE_RATE_LIMIT_WAIT)
        n->ratewait++;
    n->last_wait = wait;
    n->last_status = status;
}

static char logbuf[16384];
static inline void on_log(const neonflow_log_record *rec, void *payload)
{
    (void)payload;
    const char *msg = neonflow_log_record_message(rec);
    size_t used = strlen(logbuf);
    if (used + 2 >= sizeof(logbuf))
        return; /* full: keep the start */
    strncat(logbuf, msg, sizeof(logbuf) - used - 2);
    strcat(logbuf, "\n");
}

static char tracebuf[65536];
static size_t tracelen;
static inline void on_trace(const neonflow_trace_record *rec, void *payload)
{
    int32_t kind = neonflow_trace_record_kind(rec);
    const char *data = neonflow_trace_record_data(rec);
    size_t len = neonflow_trace_record_data_len(rec);
    (void)payload;
    if (kind != NEONFLOW_TRACE_HEADER_OUT && kind != NEONFLOW_TRACE_INFO)
        return;
    if (tracelen + len < sizeof(tracebuf) - 1) {
        memcpy(tracebuf + tracelen, data, len);
        tracelen += len;
        tracebuf[tracelen] = '\0';
    }
}

/* ---- scripted responder ---------------------------------------------------- */

typedef struct step {
    const char *raw; /* bytes to answer with; NULL = close without answering */
} step;

typedef struct responder {
    int fd;
    uint16_t port;
    pthread_t th;
    const step *steps;
    int nsteps;
    int served;
    char reqs[8][4096];
} responder;

/* The request head and body (by Content-Length); gives up after silence_ms
 * without a byte (a client that failed part-way may send a part and stop). */
static inline void read_request_within(int c, char *buf, size_t size, int silence_ms)
{
    size_t n = 0;
    buf[0] = '\0';
    long want = -1;
    while (n + 1 < size) {
        struct pollfd p = {c, POLLIN, 0};
        if (poll(&p, 1, silence_ms) <= 0)
            break;
        ssize_t r = recv(c, buf + n, size - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end && want < 0) {
            char *cl = strcasestr(buf, "\r\nContent-Length:");
            want = (long)(end + 4 - buf) + (cl && cl < end ? strtol(cl + 17, NULL, 10) : 0);
        }
        if (want >= 0 && (long)n >= want)
            break;
    }
}

static inline void read_request(int c, char *buf, size_t size)
{
    read_request_within(c, buf, size, 2000);
}

static inline void *responder_main(void *arg)
{
    responder *r = arg;
    for (int i = 0; i < r->nsteps; i++) {
        struct pollfd p = {r->fd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0)
            break;
        int c = accept(r->fd, NULL, NULL);
        if (c < 0)
            break;
        read_request(c, i < 8 ? r->reqs[i] : r->reqs[7], sizeof(r->reqs[0]));
        if (r->steps[i].raw) {
            size_t len = strlen(r->steps[i].raw), off = 0;
            while (off < len) {
                ssize_t w = send(c, r->steps[i].raw + off, len - off, MSG_NOSIGNAL);
                if (w <= 0)
                    break;
                off += (size_t)w;
            }
        }
        r->served++;
        shutdown(c, SHUT_RDWR);
        close(c);
    }
    return NULL;
}

static inline int listen_socket(uint16_t *port, int do_listen)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    if (do_listen)
        assert_int_equal(listen(fd, 8), 0);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

static inline void responder_start(responder *r, const step *steps, int n)
{
    memset(r, 0, sizeof(*r));
    r->fd = listen_socket(&r->port, 1);
    r->steps = steps;
    r->nsteps = n;
    pthread_create(&r->th, NULL, responder_main, r);
}

static inline void responder_stop(responder *r)
{
    pthread_join(r->th, NULL);
    close(r->fd);
}

static char *made[32];
static int nmade;

/* An answer with a correct Content-Length; freed by mk_free_all(). */
static inline char *mk(const char *status_line, const char *headers, const char *body)
{
    char *out = NULL;
    if (asprintf(&out, "HTTP/1.1 %s\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n%s",
                 status_line, headers, strlen(body), body) < 0)
        return NULL;
    assert_true(nmade < 32);
    made[nmade++] = out;
    return out;
}

static inline void mk_free_all(void)
{
    while (nmade > 0)
        free(made[--nmade]);
}

/* An answer promising 100 bytes and sending fewer (the connection then closes). */
#define TRUNCATED "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 100\r\n\r\n{\"operations\":"

/* ---- client helpers --------------------------------------------------------- */

static inline neonflow_client *make_client(uint16_t port, fake *f, int32_t retries, int trace)
{
    neonflow_client_options *o = NULL;
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v2", (unsigned)port);
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(o, KEY), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(o, url), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_max_retries(o, retries), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_level(o, NEONFLOW_LOG_DEBUG), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_hook(o, on_log, NULL, NULL),
                     NEONFLOW_OK);
    if (trace)
        assert_int_equal(neonflow_client_options_set_trace_hook(o, on_trace, NULL, NULL), NEONFLOW_OK);
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    if (f) {
        neonflow__sys s = fake_sys(f);
        neonflow__client_set_sys(c, &s);
    }
    logbuf[0] = '\0';
    tracelen = 0;
    tracebuf[0] = '\0';
    return c;
}

static inline void assert_no_key(const neonflow_error *e)
{
    assert_null(strstr(neonflow_error_message(e), KEY));
    assert_null(strstr(logbuf, KEY));
    assert_null(strstr(tracebuf, KEY));
}


#endif
