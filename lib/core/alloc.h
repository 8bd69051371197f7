/* Internal allocation seam: every library allocation goes through here. */
#ifndef NEONFLOW_CORE_ALLOC_H
#define NEONFLOW_CORE_ALLOC_H

#include <stddef.h>

void *neonflow__malloc(size_t n);
void *neonflow__calloc(size_t count, size_t n);
void *neonflow__realloc(void *p, size_t n);
char *neonflow__strdup(const char *s);
char *neonflow__strndup(const char *s, size_t n);
void neonflow__free(void *p);

/* Test seam: the next `after` allocations succeed, then every one fails until reset with -1. */
void neonflow__alloc_fail_after(long after);

#endif
