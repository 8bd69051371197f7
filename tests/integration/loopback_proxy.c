/* See loopback_proxy.h. One thread; up to MAX_TUNNELS tunnels at a time,
 * served with poll() in 50 ms rounds so lp_stop is seen promptly. */
#include "loopback_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_TUNNELS 8
#define HEAD_MAX 8192

struct tunnel {
    int client, server; /* -1 when unused */
};

struct loopback_proxy {
    int listen_fd;
    char url[64];
    pthread_t thread;
    pthread_mutex_t mu;
    int stop, tunnels;
    size_t bytes_up;
    char heads[HEAD_MAX];
    size_t heads_len;
    struct tunnel t[MAX_TUNNELS];
};

/* Reads a request head (to the blank line) within about 2 s; 0 on success. */
static int read_head(int fd, char *buf, size_t size)
{
    size_t n = 0;
    for (int idle = 0; idle < 40 && n + 1 < size;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 50) <= 0) {
            idle++;
            continue;
        }
        ssize_t r = read(fd, buf + n, 1); /* byte by byte: nothing past the head is consumed */
        if (r <= 0)
            return -1;
        n += (size_t)r;
        buf[n] = '\0';
        if (n >= 4 && strcmp(buf + n - 4, "\r\n\r\n") == 0)
            return 0;
    }
    return -1;
}

static void open_tunnel(loopback_proxy *p, int client)
{
    char head[2048];
    int port = 0;
    char host[64] = "";
    int server = -1;
    if (read_head(client, head, sizeof(head)) == 0) {
        pthread_mutex_lock(&p->mu);
        size_t n = strlen(head);
        if (p->heads_len + n < HEAD_MAX) {
            memcpy(p->heads + p->heads_len, head, n + 1);
            p->heads_len += n;
        }
        pthread_mutex_unlock(&p->mu);
        if (sscanf(head, "CONNECT %63[^:]:%d HTTP/1.", host, &port) == 2 && strcmp(host, "127.0.0.1") == 0 &&
            port > 0 && port < 65536) {
            struct sockaddr_in sa;
            memset(&sa, 0, sizeof(sa));
            sa.sin_family = AF_INET;
            sa.sin_port = htons((uint16_t)port);
            sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (server >= 0 && connect(server, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
                close(server);
                server = -1;
            }
        }
    }
    for (int i = 0; server >= 0 && i < MAX_TUNNELS; i++)
        if (p->t[i].client < 0) {
            static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
            if (write(client, ok, sizeof(ok) - 1) != (ssize_t)sizeof(ok) - 1)
                break;
            p->t[i].client = client;
            p->t[i].server = server;
            pthread_mutex_lock(&p->mu);
            p->tunnels++;
            pthread_mutex_unlock(&p->mu);
            return;
        }
    static const char refused[] = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
    if (write(client, refused, sizeof(refused) - 1) < 0) {
        /* the client went away: nothing to tell it */
    }
    close(client);
    if (server >= 0)
        close(server);
}

static void close_tunnel(struct tunnel *t)
{
    close(t->client);
    close(t->server);
    t->client = t->server = -1;
}

/* Moves what is readable from `from` to `to`; -1 when the tunnel is done. */
static int relay(loopback_proxy *p, int from, int to, int up)
{
    char buf[16384];
    ssize_t r = read(from, buf, sizeof(buf));
    if (r <= 0)
        return -1;
    for (ssize_t off = 0; off < r;) {
        ssize_t w = write(to, buf + off, (size_t)(r - off));
        if (w <= 0)
            return -1;
        off += w;
    }
    if (up) {
        pthread_mutex_lock(&p->mu);
        p->bytes_up += (size_t)r;
        pthread_mutex_unlock(&p->mu);
    }
    return 0;
}

static void *serve(void *arg)
{
    loopback_proxy *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        int stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        struct pollfd pfd[1 + 2 * MAX_TUNNELS];
        int n = 0;
        pfd[n++] = (struct pollfd){p->listen_fd, POLLIN, 0};
        for (int i = 0; i < MAX_TUNNELS; i++)
            if (p->t[i].client >= 0) {
                pfd[n++] = (struct pollfd){p->t[i].client, POLLIN, 0};
                pfd[n++] = (struct pollfd){p->t[i].server, POLLIN, 0};
            }
        if (poll(pfd, (nfds_t)n, 50) <= 0)
            continue;
        int k = 1;
        for (int i = 0; i < MAX_TUNNELS; i++) {
            if (p->t[i].client < 0)
                continue;
            short up = pfd[k].revents, down = pfd[k + 1].revents;
            k += 2;
            if (((up & (POLLIN | POLLHUP | POLLERR)) && relay(p, p->t[i].client, p->t[i].server, 1) != 0) ||
                ((down & (POLLIN | POLLHUP | POLLERR)) && relay(p, p->t[i].server, p->t[i].client, 0) != 0))
                close_tunnel(&p->t[i]);
        }
        if (pfd[0].revents & POLLIN) {
            int c = accept(p->listen_fd, NULL, NULL);
            if (c >= 0)
                open_tunnel(p, c);
        }
    }
    for (int i = 0; i < MAX_TUNNELS; i++)
        if (p->t[i].client >= 0)
            close_tunnel(&p->t[i]);
    return NULL;
}

int lp_start(loopback_proxy **out)
{
    loopback_proxy *p = calloc(1, sizeof(*p));
    if (!p)
        return -1;
    for (int i = 0; i < MAX_TUNNELS; i++)
        p->t[i].client = p->t[i].server = -1;
    pthread_mutex_init(&p->mu, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(p->listen_fd, 16) != 0 || getsockname(p->listen_fd, (struct sockaddr *)&sa, &len) != 0 ||
        pthread_create(&p->thread, NULL, serve, p) != 0) {
        if (p->listen_fd >= 0)
            close(p->listen_fd);
        free(p);
        return -1;
    }
    snprintf(p->url, sizeof(p->url), "http://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
    *out = p;
    return 0;
}

const char *lp_url(const loopback_proxy *p) { return p->url; }

int lp_tunnels(loopback_proxy *p)
{
    pthread_mutex_lock(&p->mu);
    int n = p->tunnels;
    pthread_mutex_unlock(&p->mu);
    return n;
}

size_t lp_bytes_up(loopback_proxy *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->bytes_up;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void lp_heads(loopback_proxy *p, char *buf, size_t size)
{
    pthread_mutex_lock(&p->mu);
    snprintf(buf, size, "%s", p->heads);
    pthread_mutex_unlock(&p->mu);
}

void lp_stop(loopback_proxy *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    close(p->listen_fd);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
