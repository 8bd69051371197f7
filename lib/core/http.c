/* Transport lifetime, the system seam and URL helpers. The request path
 * (retries, rate limiting, tracing) lives in request.c. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "cancel-private.h"
#include "error.h"
#include "http.h"
#include "text.h"
#include "transport-private.h"

static int64_t real_now_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t real_wall_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int real_sleep_ms(void *ctx, int64_t ms, neonflow_cancel *cancel)
{
    (void)ctx;
    return neonflow__cancel_sleep(cancel, ms);
}

/* xorshift64* seeded per thread from the clock and the thread's address:
 * jitter needs spread, not secrecy. */
static uint64_t real_random(void *ctx)
{
    (void)ctx;
    static _Thread_local uint64_t state;
    if (state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&state;
        if (state == 0)
            state = 0x9E3779B97F4A7C15ULL;
    }
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
}

static const neonflow__sys real_sys = {real_now_ms, real_wall_ms, real_sleep_ms, real_random, NULL};

const neonflow__sys *neonflow__client_sys(const neonflow_client *c)
{
    return c && c->transport && c->transport->sys_overridden ? &c->transport->sys : &real_sys;
}

void neonflow__client_set_sys(neonflow_client *c, const neonflow__sys *sys)
{
    if (!c || !c->transport)
        return;
    if (sys) {
        c->transport->sys = *sys;
        c->transport->sys_overridden = 1;
    } else {
        c->transport->sys_overridden = 0;
    }
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *userptr)
{
    (void)h;
    (void)access;
    struct neonflow__transport *t = userptr;
    if ((int)data >= 0 && (int)data < NEONFLOW__SHARE_LOCKS)
        pthread_mutex_lock(&t->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userptr)
{
    (void)h;
    struct neonflow__transport *t = userptr;
    if ((int)data >= 0 && (int)data < NEONFLOW__SHARE_LOCKS)
        pthread_mutex_unlock(&t->share_locks[data]);
}

/* Header lists shared read-only by every call of the client (curl never
 * modifies a list it is given). "Expect:" stops curl waiting for 100-continue
 * on larger bodies; an empty "Content-Type:" keeps curl from inventing a form
 * type for a POST without body. */
static struct curl_slist *header_list(int json_body)
{
    struct curl_slist *l = NULL, *n;
    const char *hdrs[] = {"Accept: application/json", "Expect:",
                          json_body ? "Content-Type: application/json" : "Content-Type:"};
    for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        if (!(n = curl_slist_append(l, hdrs[i]))) {
            curl_slist_free_all(l);
            return NULL;
        }
        l = n;
    }
    return l;
}

int neonflow__transport_new(neonflow_client *c, neonflow_error **err)
{
    struct neonflow__transport *t = neonflow__calloc(1, sizeof(*t));
    if (!t)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    for (int i = 0; i < NEONFLOW__SHARE_LOCKS; i++)
        pthread_mutex_init(&t->share_locks[i], NULL);
    pthread_mutex_init(&t->pool_lock, NULL);
    t->share = curl_share_init();
    if (!t->share) {
        neonflow__transport_free(t);
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory: curl_share_init failed");
    }
    curl_share_setopt(t->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(t->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(t->share, CURLSHOPT_USERDATA, t);
    /* sharing allocates (caches): a failure would silently leave it unshared */
    if (curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
        curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
        curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK) {
        neonflow__transport_free(t);
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory setting up curl's shared caches");
    }

    const char *key = c->cfg.api_key ? c->cfg.api_key : "";
    size_t n = strlen("Authorization: Bearer ") + strlen(key) + 1;
    if ((t->auth_header = neonflow__malloc(n)) != NULL)
        snprintf(t->auth_header, n, "Authorization: Bearer %s", key);
    t->hdr_nobody = header_list(0);
    t->hdr_json = header_list(1);
    int limited = c->cfg.rate_per_minute > 0 || c->cfg.rate_per_second_route > 0;
    if (limited) {
        t->ratelimit = neonflow__ratelimit_new(c->cfg.rate_per_minute, c->cfg.rate_per_second_route);
        t->pacer = neonflow__pacer_new(c->cfg.rate_per_minute, c->cfg.rate_per_second_route);
    }
    if (!t->auth_header || !t->hdr_nobody || !t->hdr_json || (limited && (!t->ratelimit || !t->pacer))) {
        neonflow__transport_free(t);
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    }
    c->transport = t;
    return NEONFLOW_OK;
}

void neonflow__transport_free(struct neonflow__transport *t)
{
    if (!t)
        return;
    /* Easy handles first: the share cannot go while handles still use it. */
    for (int i = 0; i < t->pool_n; i++)
        curl_easy_cleanup(t->pool[i]);
    t->pool_n = 0;
    if (t->share)
        curl_share_cleanup(t->share);
    for (int i = 0; i < NEONFLOW__SHARE_LOCKS; i++)
        pthread_mutex_destroy(&t->share_locks[i]);
    pthread_mutex_destroy(&t->pool_lock);
    neonflow__ratelimit_free(t->ratelimit);
    neonflow__pacer_free(t->pacer);
    curl_slist_free_all(t->hdr_nobody);
    curl_slist_free_all(t->hdr_json);
    if (t->auth_header) {
        volatile char *p = t->auth_header;
        while (*p)
            *p++ = 0;
    }
    neonflow__free(t->auth_header);
    neonflow__free(t);
}

int neonflow__id_valid(const char *id)
{
    if (!id)
        return 0;
    size_t n = 0;
    for (; id[n]; n++) {
        char ch = id[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-') || n >= 60)
            return 0;
    }
    return n >= 1;
}

int neonflow__id_check(const char *what, const char *id, neonflow_error **err)
{
    if (neonflow__id_valid(id))
        return NEONFLOW_OK;
    if (!id)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "%s must not be NULL", what);
    char shown[100];
    return neonflow__error_set(err, NEONFLOW_EINVAL,
                               "%s is not a valid Neon ID (expected 1-60 of a-z, 0-9, '-'): \"%s\"", what,
                               neonflow__echo(shown, sizeof(shown), id));
}

char *neonflow__pct_encode(const char *s)
{
    if (!s)
        return NULL;
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = neonflow__malloc(n * 3 + 1);
    if (!out)
        return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char ch = *p;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            *o++ = (char)ch;
        } else {
            *o++ = '%';
            *o++ = hex[ch >> 4];
            *o++ = hex[ch & 15];
        }
    }
    *o = '\0';
    return out;
}
