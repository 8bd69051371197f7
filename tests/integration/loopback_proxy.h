/* A tiny HTTP CONNECT proxy for tests: listens on 127.0.0.1 only, tunnels
 * only to 127.0.0.1, counts the tunnels it opened and keeps the request
 * heads it was sent (what a proxy can read of a tunnelled request). Runs on
 * its own thread; every wait is bounded and lp_stop ends it. */
#ifndef TESTS_LOOPBACK_PROXY_H
#define TESTS_LOOPBACK_PROXY_H

#include <stddef.h>

typedef struct loopback_proxy loopback_proxy;

/* Starts the proxy; *url receives "http://127.0.0.1:PORT" (static in the proxy). */
int lp_start(loopback_proxy **out);
const char *lp_url(const loopback_proxy *p);
/* Tunnels opened so far. */
int lp_tunnels(loopback_proxy *p);
/* Copies the request heads seen so far (NUL-terminated, cut to size). */
void lp_heads(loopback_proxy *p, char *buf, size_t size);
/* Bytes relayed from the client into tunnels (encrypted for https). */
size_t lp_bytes_up(loopback_proxy *p);
void lp_stop(loopback_proxy *p);

#endif
