/* GCRA pacing; see pacer.h for why slots that far apart stay in budget. */
#include "pacer.h"

#include <pthread.h>
#include <string.h>

#include "alloc.h"
#include "ratelimit.h"

/* Routes idle this long have a schedule in the past: forgotten when the
 * table is full. */
#define ROUTES_SOFT_MAX 64
/* A rate window resets within a minute: a longer Retry-After is about
 * something else and must not hold every later call of the client. */
#define THROTTLE_MAX_MS 60000

/* One schedule, in microseconds: tat is the theoretical arrival time of the
 * next request at the sustained rate; tolerance lets a burst start early. */
typedef struct stream {
    int64_t tat, interval, tolerance;
} stream;

typedef struct route {
    char *key;
    stream s;
} route;

struct neonflow__pacer {
    pthread_mutex_t lock;
    int global_on, route_on;
    stream global;
    int32_t per_route;
    int64_t not_before; /* us: a Retry-After holds every slot until then */
    route **routes;
    size_t nroutes, cap;
};

int32_t neonflow__pacer_burst(int32_t limit, int32_t share)
{
    int32_t b = limit / share;
    return b < 1 ? 1 : b;
}

int64_t neonflow__pacer_interval_us(int32_t limit, int32_t burst, int64_t window_ms)
{
    /* b start at once, then one per interval: b + ceil(W / I) - 1 <= L */
    int64_t slots = (int64_t)limit - burst + 1;
    return (window_ms * 1000 + slots - 1) / slots;
}

static void stream_init(stream *s, int32_t limit, int32_t share, int64_t window_ms)
{
    int32_t b = neonflow__pacer_burst(limit, share);
    s->interval = neonflow__pacer_interval_us(limit, b, window_ms);
    s->tolerance = (int64_t)(b - 1) * s->interval;
    s->tat = INT64_MIN / 2;
}

neonflow__pacer *neonflow__pacer_new(int32_t per_minute, int32_t per_second_route)
{
    neonflow__pacer *p = neonflow__calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    p->global_on = per_minute > 0;
    if (p->global_on)
        stream_init(&p->global, per_minute, NEONFLOW__PACER_BURST_SHARE_MINUTE, NEONFLOW__RL_MINUTE_WINDOW_MS);
    p->route_on = per_second_route > 0;
    p->per_route = per_second_route;
    p->not_before = INT64_MIN / 2;
    return p;
}

void neonflow__pacer_free(neonflow__pacer *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nroutes; i++) {
        neonflow__free(p->routes[i]->key);
        neonflow__free(p->routes[i]);
    }
    neonflow__free(p->routes);
    pthread_mutex_destroy(&p->lock);
    neonflow__free(p);
}

/* Drops routes whose schedule is fully in the past (they would start at
 * once with a fresh burst either way). */
static void routes_evict_idle(neonflow__pacer *p, int64_t now_us)
{
    size_t j = 0;
    for (size_t i = 0; i < p->nroutes; i++) {
        route *r = p->routes[i];
        if (r->s.tat <= now_us) {
            neonflow__free(r->key);
            neonflow__free(r);
        } else {
            p->routes[j++] = r;
        }
    }
    p->nroutes = j;
}

static route *route_find(neonflow__pacer *p, const char *key, int64_t now_us)
{
    for (size_t i = 0; i < p->nroutes; i++)
        if (strcmp(p->routes[i]->key, key) == 0)
            return p->routes[i];
    if (p->nroutes >= ROUTES_SOFT_MAX)
        routes_evict_idle(p, now_us);
    if (p->nroutes == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 16;
        route **n = neonflow__realloc(p->routes, ncap * sizeof(*n));
        if (!n)
            return NULL;
        p->routes = n;
        p->cap = ncap;
    }
    route *r = neonflow__calloc(1, sizeof(*r));
    if (!r || !(r->key = neonflow__strdup(key))) {
        neonflow__free(r);
        return NULL;
    }
    stream_init(&r->s, p->per_route, NEONFLOW__PACER_BURST_SHARE_ROUTE, NEONFLOW__RL_SECOND_WINDOW_MS);
    p->routes[p->nroutes++] = r;
    return r;
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

int64_t neonflow__pacer_reserve(neonflow__pacer *p, const char *route_key, int64_t now_ms, int64_t max_wait_ms,
                                int *which)
{
    if (which)
        *which = 0;
    if (!p || (!p->global_on && !p->route_on))
        return now_ms;
    int64_t now = now_ms * 1000, start = now;
    int why = 0;
    pthread_mutex_lock(&p->lock);
    route *r = p->route_on ? route_find(p, route_key ? route_key : "", now) : NULL;
    if (p->route_on && !r) {
        pthread_mutex_unlock(&p->lock);
        return -1;
    }
    if (p->not_before > start) {
        start = p->not_before;
        why = 3;
    }
    if (p->global_on && p->global.tat - p->global.tolerance > start) {
        start = p->global.tat - p->global.tolerance;
        why = 1;
    }
    if (r && r->s.tat - r->s.tolerance > start) {
        start = r->s.tat - r->s.tolerance;
        why = 2;
    }
    /* A caller that cannot wait that long takes nothing: refused calls
     * must not push the schedule back for the ones that do wait. */
    if (max_wait_ms < 0 || start - now <= max_wait_ms * 1000) {
        if (p->global_on)
            p->global.tat = max64(p->global.tat, start) + p->global.interval;
        if (r)
            r->s.tat = max64(r->s.tat, start) + r->s.interval;
    }
    pthread_mutex_unlock(&p->lock);
    if (which)
        *which = why;
    return (start + 999) / 1000; /* never earlier than the slot */
}

void neonflow__pacer_throttle(neonflow__pacer *p, int64_t now_ms, int64_t retry_after_ms)
{
    if (!p)
        return;
    if (retry_after_ms < 0) /* how long is unknown: the retry's backoff decides */
        retry_after_ms = 0;
    if (retry_after_ms > THROTTLE_MAX_MS)
        retry_after_ms = THROTTLE_MAX_MS;
    int64_t until = (now_ms + retry_after_ms) * 1000;
    pthread_mutex_lock(&p->lock);
    p->not_before = max64(p->not_before, until);
    /* no burst after it either: the server's budget is spent */
    if (p->global_on)
        p->global.tat = max64(p->global.tat, until + p->global.tolerance);
    pthread_mutex_unlock(&p->lock);
}
