/* A loopback HTTP server for the call-options tests and the cancel bench:
 * it accepts every connection, reads each request's headers, records its
 * X-Request-ID, and answers request i with script[i] — or never answers
 * when the script has no entry for it (the connection just stays open).
 * Binds 127.0.0.1 only; stall_stop() joins its thread and closes every
 * socket. Header-only (static), public API users included. */
#ifndef NEONFLOW_TESTS_STALL_SERVER_H
#define NEONFLOW_TESTS_STALL_SERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STALL_MAX_CONNS 32
#define STALL_MAX_REQS 32

typedef struct stall_server {
    int lfd, port;
    pthread_t th;
    atomic_int stop;
    const char *const *script; /* NULL-terminated answers, may be NULL */
    int nscript;
    pthread_mutex_t lock;
    int nreq;                   /* requests whose headers arrived */
    char rid[STALL_MAX_REQS][96]; /* X-Request-ID of each ("" when none) */
    char line[STALL_MAX_REQS][256]; /* request line of each */
} stall_server;

typedef struct stall_conn {
    int fd;
    char buf[8192];
    size_t len;
} stall_conn;

static inline void stall_header(const char *req, const char *name, char *out, size_t outsize)
{
    out[0] = '\0';
    size_t nl = strlen(name);
    for (const char *p = strstr(req, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char *v = p + 3 + nl;
            while (*v == ' ')
                v++;
            size_t n = strcspn(v, "\r");
            snprintf(out, outsize, "%.*s", (int)(n < outsize ? n : outsize - 1), v);
            return;
        }
    }
}

/* One complete request head in c->buf: record it, answer it (or not). */
static inline void stall_handle(stall_server *s, stall_conn *c)
{
    char *end = strstr(c->buf, "\r\n\r\n");
    if (!end)
        return;
    pthread_mutex_lock(&s->lock);
    int i = s->nreq < STALL_MAX_REQS ? s->nreq : STALL_MAX_REQS - 1;
    stall_header(c->buf, "X-Request-ID", s->rid[i], sizeof(s->rid[i]));
    snprintf(s->line[i], sizeof(s->line[i]), "%.*s", (int)strcspn(c->buf, "\r"), c->buf);
    const char *reply = s->nreq < s->nscript ? s->script[s->nreq] : NULL;
    s->nreq++;
    pthread_mutex_unlock(&s->lock);
    c->len = 0;
    c->buf[0] = '\0';
    if (reply) { /* each answer closes its connection */
        ssize_t w = write(c->fd, reply, strlen(reply));
        (void)w;
        close(c->fd);
        c->fd = -1;
    }
}

static inline void *stall_main(void *arg)
{
    stall_server *s = arg;
    stall_conn conns[STALL_MAX_CONNS];
    int n = 0;
    while (!atomic_load(&s->stop)) {
        struct pollfd pf[STALL_MAX_CONNS + 1];
        pf[0].fd = s->lfd;
        pf[0].events = POLLIN;
        for (int i = 0; i < n; i++) {
            pf[i + 1].fd = conns[i].fd;
            pf[i + 1].events = POLLIN;
        }
        if (poll(pf, (nfds_t)n + 1, 20) <= 0)
            continue;
        if ((pf[0].revents & POLLIN) && n < STALL_MAX_CONNS) {
            int fd = accept(s->lfd, NULL, NULL);
            if (fd >= 0) {
                conns[n].fd = fd;
                conns[n].len = 0;
                n++;
            }
        }
        for (int i = 0; i < n; i++) {
            if (conns[i].fd < 0 || !(pf[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            stall_conn *c = &conns[i];
            ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
            if (r <= 0) {
                close(c->fd);
                c->fd = -1;
                continue;
            }
            c->len += (size_t)r;
            c->buf[c->len] = '\0';
            stall_handle(s, c);
        }
        int k = 0;
        for (int i = 0; i < n; i++)
            if (conns[i].fd >= 0)
                conns[k++] = conns[i];
        n = k;
    }
    for (int i = 0; i < n; i++)
        close(conns[i].fd);
    return NULL;
}

/* Starts the server; script may be NULL (never answer). 0 on success. */
static inline int stall_start(stall_server *s, const char *const *script)
{
    memset(s, 0, sizeof(*s));
    s->script = script;
    while (script && script[s->nscript])
        s->nscript++;
    pthread_mutex_init(&s->lock, NULL);
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof(a);
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s->lfd, 16) != 0 ||
        getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->th, NULL, stall_main, s) == 0 ? 0 : -1;
}

static inline void stall_stop(stall_server *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    close(s->lfd);
    pthread_mutex_destroy(&s->lock);
}

static inline int stall_requests(stall_server *s)
{
    pthread_mutex_lock(&s->lock);
    int n = s->nreq;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static inline int64_t stall_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
