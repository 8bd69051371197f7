/* Every JSON parse and dump the library does goes through these: jansson
 * 2.14 can drop a byte instead of failing when an allocation fails while
 * lexing or dumping, so a parse or dump during which any allocation on this
 * thread failed is thrown away and reported as out of memory. */
#ifndef NEONFLOW_CORE_JSONIO_H
#define NEONFLOW_CORE_JSONIO_H

#include <jansson.h>
#include <stddef.h>

/* json_loadb; on failure *oom (may be NULL) says whether an allocation failed
 * (then je->text, if je, says "out of memory") rather than the text being malformed. */
json_t *neonflow__json_loadb(const char *buf, size_t len, size_t flags, json_error_t *je, int *oom);
/* json_dumps; NULL when the value cannot be dumped or an allocation failed
 * (*oom, may be NULL, tells which). Free the result with neonflow__json_free. */
char *neonflow__json_dumps(const json_t *json, size_t flags, int *oom);
/* Frees memory jansson allocated (the result of neonflow__json_dumps). */
void neonflow__json_free(void *p);

#endif
