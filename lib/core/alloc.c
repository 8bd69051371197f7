#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "neonflow/common.h"

/* -1: never fail. Only tests change it. */
static atomic_long fail_after = -1;

void neonflow__alloc_fail_after(long after) { atomic_store(&fail_after, after); }

static int should_fail(void)
{
    long v = atomic_load(&fail_after);
    if (v < 0)
        return 0;
    if (v == 0)
        return 1;
    atomic_fetch_sub(&fail_after, 1);
    return 0;
}

void *neonflow__malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }

void *neonflow__calloc(size_t count, size_t n)
{
    return should_fail() ? NULL : calloc(count ? count : 1, n ? n : 1);
}

void *neonflow__realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n ? n : 1); }

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
