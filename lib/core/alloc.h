/* Internal allocation seam: every allocation made on the library's behalf —
 * its own, libcurl's (curl_global_init_mem) and jansson's
 * (json_set_alloc_funcs) — goes through here, so tests can fail any one of
 * them and the library can tell when one failed. */
#ifndef NEONFLOW_CORE_ALLOC_H
#define NEONFLOW_CORE_ALLOC_H

#include <stddef.h>

void *neonflow__malloc(size_t n);
void *neonflow__calloc(size_t count, size_t n);
void *neonflow__realloc(void *p, size_t n);
char *neonflow__strdup(const char *s);
char *neonflow__strndup(const char *s, size_t n);
void neonflow__free(void *p);

/* Installs the counting functions into libcurl and jansson, once per process
 * (thread-safe). curl's only take effect when nobody initialised curl before;
 * jansson's chain to the functions installed before. Returns the result of
 * curl_global_init_mem (a CURLcode). */
int neonflow__alloc_install(void);

/* Per-thread "an allocation failed" flag: set by every failed allocation in
 * any layer on this thread; the JSON wrappers clear it before and test it
 * after a parse or dump. */
void neonflow__alloc_oom_clear(void);
int neonflow__alloc_oom_seen(void);
void neonflow__alloc_oom_mark(void);

/* ---- test seams (process-wide; only tests change them) ---------------------- */
enum { NEONFLOW__LAYER_LIB, NEONFLOW__LAYER_CURL, NEONFLOW__LAYER_JSON, NEONFLOW__LAYERS };

/* The next `after` allocations succeed, then every one fails until reset with -1. */
void neonflow__alloc_fail_after(long after);
/* Counts allocations from now on; the k-th (1-based) fails once; k = 0 counts
 * without failing (both reset the counters); k < 0 stops counting and keeps them. */
void neonflow__alloc_fail_nth(long k);
/* Allocations counted per layer since the last neonflow__alloc_fail_nth. */
long neonflow__alloc_count(int layer);
/* The layer of the allocation that neonflow__alloc_fail_nth failed, or -1. */
int neonflow__alloc_failed_layer(void);

#endif
