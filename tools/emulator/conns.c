/* Request deadlines. Every connection must deliver a complete request (head
 * and body) within the connection timeout of connecting or of the end of its
 * previous response. libmicrohttpd's own timeout only measures idleness, which
 * a client sending one byte every few seconds never reaches; a reaper thread
 * shuts such connections down, and libmicrohttpd then closes them.
 *
 * An entry lives from MHD_CONNECTION_NOTIFY_STARTED to _CLOSED, which
 * libmicrohttpd reports before it closes the socket, so shutdown() under the
 * registry mutex never touches a descriptor that was reused. */
#include "emu_internal.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

typedef struct emu_conn {
    int fd;
    int64_t deadline; /* monotonic ms; 0 while a request is being handled */
    struct emu_conn *prev, *next;
} emu_conn;

struct emu_conns {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int stop;
    int64_t timeout_ms;
    emu_conn *head;
};

#define REAP_EVERY_MS 100

static void *reaper(void *arg)
{
    emu_conns *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        int64_t now = emu_mono_ms();
        for (emu_conn *c = g->head; c; c = c->next)
            if (c->deadline && now >= c->deadline) {
                shutdown(c->fd, SHUT_RDWR);
                c->deadline = 0;
            }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += REAP_EVERY_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->cv, &g->mu, &until);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

emu_conns *emu_conns_start(int64_t timeout_ms)
{
    emu_conns *g = calloc(1, sizeof(*g));
    pthread_condattr_t ca;
    if (!g)
        return NULL;
    g->timeout_ms = timeout_ms;
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&g->thread, NULL, reaper, g) != 0) {
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        free(g);
        return NULL;
    }
    return g;
}

void emu_conns_stop(emu_conns *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = 1;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    while (g->head) { /* none left once the daemon is stopped; belt and braces */
        emu_conn *c = g->head;
        g->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

void emu_conn_opened(emu_conns *g, struct MHD_Connection *conn, void **socket_context)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    emu_conn *c = ci ? calloc(1, sizeof(*c)) : NULL;
    *socket_context = c;
    if (!c)
        return; /* untracked: only libmicrohttpd's idle timeout applies */
    c->fd = ci->connect_fd;
    pthread_mutex_lock(&g->mu);
    c->deadline = emu_mono_ms() + g->timeout_ms;
    c->next = g->head;
    if (g->head)
        g->head->prev = c;
    g->head = c;
    pthread_mutex_unlock(&g->mu);
}

void emu_conn_closed(emu_conns *g, void **socket_context)
{
    emu_conn *c = *socket_context;
    if (!c)
        return;
    pthread_mutex_lock(&g->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&g->mu);
    free(c);
    *socket_context = NULL;
}

static void set_deadline(emu_conns *g, struct MHD_Connection *conn, int idle)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    emu_conn *c = ci ? ci->socket_context : NULL;
    if (!c)
        return;
    pthread_mutex_lock(&g->mu);
    c->deadline = idle ? emu_mono_ms() + g->timeout_ms : 0;
    pthread_mutex_unlock(&g->mu);
}

void emu_conn_busy(emu_conns *g, struct MHD_Connection *conn)
{
    set_deadline(g, conn, 0);
}

void emu_conn_idle(emu_conns *g, struct MHD_Connection *conn)
{
    set_deadline(g, conn, 1);
}
