#include "alloc.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "neonflow/common.h"

/* ---- failure injection (tests only) ---------------------------------------------- */
/* One flag keeps the normal path to a relaxed load: nothing below runs unless a test armed it. */
static atomic_int armed;
static atomic_long fail_after = -1; /* fail_after mode: successes left, -1 off */
static atomic_long fail_nth;        /* nth mode: 1-based index to fail, 0 count only, -1 off */
static atomic_long counted;
static atomic_long per_layer[NEONFLOW__LAYERS];
static atomic_int failed_layer = -1;

static _Thread_local int oom_seen;

static void rearm(void)
{
    atomic_store(&armed, atomic_load(&fail_after) >= 0 || atomic_load(&fail_nth) >= 0);
}

void neonflow__alloc_fail_after(long after)
{
    atomic_store(&fail_after, after);
    rearm();
}

void neonflow__alloc_fail_nth(long k)
{
    if (k >= 0) {
        atomic_store(&counted, 0);
        for (int i = 0; i < NEONFLOW__LAYERS; i++)
            atomic_store(&per_layer[i], 0);
        atomic_store(&failed_layer, -1);
    }
    atomic_store(&fail_nth, k);
    rearm();
}

long neonflow__alloc_count(int layer)
{
    return layer >= 0 && layer < NEONFLOW__LAYERS ? atomic_load(&per_layer[layer]) : 0;
}

int neonflow__alloc_failed_layer(void) { return atomic_load(&failed_layer); }

static int inject(int layer)
{
    if (!atomic_load_explicit(&armed, memory_order_relaxed))
        return 0;
    long nth = atomic_load(&fail_nth);
    if (nth >= 0) {
        atomic_fetch_add(&per_layer[layer], 1);
        long me = atomic_fetch_add(&counted, 1) + 1;
        if (nth > 0 && me == nth) {
            atomic_store(&failed_layer, layer);
            return 1;
        }
    }
    long v = atomic_load(&fail_after);
    if (v < 0)
        return 0;
    if (v == 0)
        return 1;
    atomic_fetch_sub(&fail_after, 1);
    return 0;
}

/* Every allocation of every layer ends here. */
static void *checked(void *p)
{
    if (!p)
        oom_seen = 1;
    return p;
}

void neonflow__alloc_oom_clear(void) { oom_seen = 0; }
int neonflow__alloc_oom_seen(void) { return oom_seen; }
void neonflow__alloc_oom_mark(void) { oom_seen = 1; }

/* ---- the library's own ------------------------------------------------------------- */
void *neonflow__malloc(size_t n)
{
    return checked(inject(NEONFLOW__LAYER_LIB) ? NULL : malloc(n ? n : 1));
}

void *neonflow__calloc(size_t count, size_t n)
{
    return checked(inject(NEONFLOW__LAYER_LIB) ? NULL : calloc(count ? count : 1, n ? n : 1));
}

void *neonflow__realloc(void *p, size_t n)
{
    return checked(inject(NEONFLOW__LAYER_LIB) ? NULL : realloc(p, n ? n : 1));
}

char *neonflow__strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    size_t len = strnlen(s, n);
    char *d = neonflow__malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

char *neonflow__strdup(const char *s) { return s ? neonflow__strndup(s, strlen(s)) : NULL; }

void neonflow__free(void *p) { free(p); }

NEONFLOW_API void neonflow_free(void *ptr) { neonflow__free(ptr); }

/* ---- libcurl's ------------------------------------------------------------------------ */
/* curl_global_init_mem wants the five functions to agree: they all use the C allocator. */
static void *curl_m(size_t n) { return checked(inject(NEONFLOW__LAYER_CURL) ? NULL : malloc(n)); }
static void curl_f(void *p) { free(p); }
static void *curl_r(void *p, size_t n)
{
    return checked(inject(NEONFLOW__LAYER_CURL) ? NULL : realloc(p, n));
}
static char *curl_s(const char *s)
{
    if (inject(NEONFLOW__LAYER_CURL))
        return checked(NULL);
    return checked(strdup(s));
}
static void *curl_c(size_t n, size_t sz)
{
    return checked(inject(NEONFLOW__LAYER_CURL) ? NULL : calloc(n, sz));
}

/* ---- jansson's -------------------------------------------------------------------------- */
/* The functions in place before ours (a host application's, or malloc/free):
 * ours count and delegate, so memory jansson allocated before the switch is
 * freed by the function that allocated it. */
static json_malloc_t prev_json_malloc;
static json_free_t prev_json_free;

static void *json_m(size_t n)
{
    return checked(inject(NEONFLOW__LAYER_JSON) ? NULL : prev_json_malloc(n));
}
static void json_f(void *p) { prev_json_free(p); }

/* A mutex, not pthread_once: a failed curl_global_init_mem (out of memory)
 * is tried again at the next client creation. */
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int installed;
static int json_installed;

int neonflow__alloc_install(void)
{
    if (atomic_load(&installed))
        return CURLE_OK;
    pthread_mutex_lock(&install_lock);
    if (!json_installed) {
        json_get_alloc_funcs(&prev_json_malloc, &prev_json_free);
        if (!prev_json_malloc || !prev_json_free) {
            prev_json_malloc = malloc;
            prev_json_free = free;
        }
        json_set_alloc_funcs(json_m, json_f);
        json_installed = 1;
    }
    CURLcode rc = CURLE_OK;
    if (!atomic_load(&installed)) {
        rc = curl_global_init_mem(CURL_GLOBAL_DEFAULT, curl_m, curl_f, curl_r, curl_s, curl_c);
        if (rc == CURLE_OK)
            atomic_store(&installed, 1);
    }
    pthread_mutex_unlock(&install_lock);
    return (int)rc;
}
