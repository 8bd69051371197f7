/* Sliding-window-log rate limiter; see ratelimit.h for why it is exact. */
#include "ratelimit.h"

#include <pthread.h>
#include <string.h>

#include "alloc.h"

/* Idle routes are forgotten once the table holds more than this many. */
#define ROUTES_SOFT_MAX 64

/* One window: completion times of recent requests (sorted, oldest at head)
 * plus a count of requests still in flight. */
typedef struct window {
    int64_t *ring;
    int32_t cap, head, size;
    int32_t inflight;
    int32_t limit;
    int64_t window_ms;
    int64_t last_ts; /* keeps the log sorted even if a caller's clock wobbles */
} window;

typedef struct route {
    char *key;
    window w;
} route;

struct neonflow__ratelimit {
    pthread_mutex_t lock;
    window global; /* limit 0 = off */
    int32_t per_route;
    route **routes;
    size_t nroutes, routes_cap;
};

static void window_init(window *w, int32_t limit, int64_t window_ms)
{
    memset(w, 0, sizeof(*w));
    w->limit = limit;
    w->window_ms = window_ms;
    w->last_ts = INT64_MIN;
}

static void window_prune(window *w, int64_t now)
{
    while (w->size > 0 && w->ring[w->head] <= now - w->window_ms) {
        w->head = (w->head + 1) % w->cap;
        w->size--;
    }
}

static int window_admits(const window *w) { return w->inflight + w->size < w->limit; }

static int64_t window_wait(const window *w, int64_t now)
{
    if (w->size == 0) /* all in flight: the first to complete frees its slot a window later */
        return w->window_ms;
    int64_t wait = w->ring[w->head] + w->window_ms - now;
    return wait > 0 ? wait : 1;
}

/* Makes room for `need` entries (in flight ones included) without moving
 * the logical order. 0 or -1 on allocation failure. */
static int window_reserve_room(window *w, int32_t need)
{
    if (need <= w->cap)
        return 0;
    int64_t ncap = w->cap ? (int64_t)w->cap * 2 : 16;
    if (ncap < need)
        ncap = need;
    if (ncap > w->limit)
        ncap = w->limit;
    int64_t *n = neonflow__malloc((size_t)ncap * sizeof(*n));
    if (!n)
        return -1;
    for (int32_t i = 0; i < w->size; i++)
        n[i] = w->ring[(w->head + i) % w->cap];
    neonflow__free(w->ring);
    w->ring = n;
    w->cap = (int32_t)ncap;
    w->head = 0;
    return 0;
}

static void window_push(window *w, int64_t ts)
{
    if (w->inflight > 0)
        w->inflight--;
    if (ts < w->last_ts)
        ts = w->last_ts;
    w->last_ts = ts;
    if (w->size >= w->cap) /* cannot happen: room was made at reservation */
        return;
    w->ring[(w->head + w->size) % w->cap] = ts;
    w->size++;
}

neonflow__ratelimit *neonflow__ratelimit_new(int32_t per_minute, int32_t per_second_route)
{
    neonflow__ratelimit *rl = neonflow__calloc(1, sizeof(*rl));
    if (!rl)
        return NULL;
    pthread_mutex_init(&rl->lock, NULL);
    window_init(&rl->global, per_minute > 0 ? per_minute : 0, NEONFLOW__RL_MINUTE_WINDOW_MS);
    rl->per_route = per_second_route > 0 ? per_second_route : 0;
    return rl;
}

static void route_free(route *r)
{
    if (!r)
        return;
    neonflow__free(r->key);
    neonflow__free(r->w.ring);
    neonflow__free(r);
}

void neonflow__ratelimit_free(neonflow__ratelimit *rl)
{
    if (!rl)
        return;
    for (size_t i = 0; i < rl->nroutes; i++)
        route_free(rl->routes[i]);
    neonflow__free(rl->routes);
    neonflow__free(rl->global.ring);
    pthread_mutex_destroy(&rl->lock);
    neonflow__free(rl);
}

static void routes_evict_idle(neonflow__ratelimit *rl, int64_t now)
{
    size_t j = 0;
    for (size_t i = 0; i < rl->nroutes; i++) {
        route *r = rl->routes[i];
        window_prune(&r->w, now);
        if (r->w.inflight == 0 && r->w.size == 0)
            route_free(r);
        else
            rl->routes[j++] = r;
    }
    rl->nroutes = j;
}

static route *route_find(neonflow__ratelimit *rl, const char *key, int create, int64_t now)
{
    for (size_t i = 0; i < rl->nroutes; i++)
        if (strcmp(rl->routes[i]->key, key) == 0)
            return rl->routes[i];
    if (!create)
        return NULL;
    if (rl->nroutes >= ROUTES_SOFT_MAX)
        routes_evict_idle(rl, now);
    if (rl->nroutes == rl->routes_cap) {
        size_t ncap = rl->routes_cap ? rl->routes_cap * 2 : 16;
        route **n = neonflow__realloc(rl->routes, ncap * sizeof(*n));
        if (!n)
            return NULL;
        rl->routes = n;
        rl->routes_cap = ncap;
    }
    route *r = neonflow__calloc(1, sizeof(*r));
    if (!r || !(r->key = neonflow__strdup(key))) {
        neonflow__free(r);
        return NULL;
    }
    window_init(&r->w, rl->per_route, NEONFLOW__RL_SECOND_WINDOW_MS);
    rl->routes[rl->nroutes++] = r;
    return r;
}

int neonflow__ratelimit_reserve(neonflow__ratelimit *rl, const char *route_key, int64_t now_ms,
                                neonflow__rl_slot *slot, int64_t *wait_ms, int *which)
{
    slot->route = NULL;
    slot->global = 0;
    *wait_ms = 0;
    if (which)
        *which = 0;
    if (!rl || (rl->global.limit == 0 && rl->per_route == 0))
        return 1;
    int rc = 1;
    pthread_mutex_lock(&rl->lock);
    window *g = rl->global.limit ? &rl->global : NULL;
    route *r = NULL;
    if (rl->per_route) {
        r = route_find(rl, route_key ? route_key : "", 1, now_ms);
        if (!r) {
            rc = -1;
            goto out;
        }
    }
    int64_t wait = 0;
    if (g) {
        window_prune(g, now_ms);
        if (!window_admits(g)) {
            wait = window_wait(g, now_ms);
            if (which)
                *which = 1;
        }
    }
    if (r) {
        window_prune(&r->w, now_ms);
        if (!window_admits(&r->w)) {
            int64_t rw = window_wait(&r->w, now_ms);
            if (rw > wait) {
                wait = rw;
                if (which)
                    *which = 2;
            }
        }
    }
    if (wait > 0) {
        *wait_ms = wait;
        rc = 0;
        goto out;
    }
    if ((g && window_reserve_room(g, g->size + g->inflight + 1) != 0) ||
        (r && window_reserve_room(&r->w, r->w.size + r->w.inflight + 1) != 0)) {
        rc = -1;
        goto out;
    }
    if (g) {
        g->inflight++;
        slot->global = 1;
    }
    if (r) {
        r->w.inflight++;
        slot->route = r;
    }
out:
    pthread_mutex_unlock(&rl->lock);
    return rc;
}

void neonflow__ratelimit_release(neonflow__ratelimit *rl, neonflow__rl_slot *slot, int64_t now_ms)
{
    if (!rl || !slot || (!slot->global && !slot->route))
        return;
    pthread_mutex_lock(&rl->lock);
    if (slot->global)
        window_push(&rl->global, now_ms);
    if (slot->route)
        window_push(&((route *)slot->route)->w, now_ms);
    pthread_mutex_unlock(&rl->lock);
    slot->global = 0;
    slot->route = NULL;
}

int32_t neonflow__ratelimit_count(neonflow__ratelimit *rl, const char *route_key, int64_t now_ms)
{
    if (!rl)
        return 0;
    int32_t n = 0;
    pthread_mutex_lock(&rl->lock);
    window *w = NULL;
    if (!route_key) {
        w = rl->global.limit ? &rl->global : NULL;
    } else {
        route *r = route_find(rl, route_key, 0, now_ms);
        w = r ? &r->w : NULL;
    }
    if (w) {
        window_prune(w, now_ms);
        n = w->size + w->inflight;
    }
    pthread_mutex_unlock(&rl->lock);
    return n;
}
