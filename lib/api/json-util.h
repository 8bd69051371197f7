/* Internal JSON helpers for lib/api: table-driven field extraction, RFC 3339
 * parsing, growable vectors of parsed objects, and a string builder for
 * request paths. Nothing here sends requests. */
#ifndef NEONFLOW_API_JSON_UTIL_H
#define NEONFLOW_API_JSON_UTIL_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "neonflow/errors.h"

/* ---- fields ------------------------------------------------------------- */
#define NEONFLOW__F_STR 1   /* const char * (borrowed from the json) */
#define NEONFLOW__F_TIME 2  /* const char * at off, int64_t epoch ms at off2 */
#define NEONFLOW__F_I64 3   /* int64_t; absent -> -1 */
#define NEONFLOW__F_BOOL 4  /* int; absent -> -1 */
#define NEONFLOW__F_NUM 5   /* double; absent -> -1.0 */
#define NEONFLOW__F_I32 6   /* int32_t; absent -> -1 */
#define NEONFLOW__F_OBJ 7   /* json_t * object (borrowed); absent -> NULL */
#define NEONFLOW__F_ARR 8   /* json_t * array (borrowed); absent -> NULL */

typedef struct neonflow__field {
    const char *key;
    int kind;
    int required;
    size_t off;
    size_t off2;
} neonflow__field;

/* Reads every field of `table` from the JSON object `obj` into the struct at
 * `out`. Unknown keys are ignored; null counts as absent. A missing required
 * field or a wrong type gives NEONFLOW_EPROTOCOL naming "<what>.<key>". */
int neonflow__parse_fields(const json_t *obj, const neonflow__field *table, size_t n, void *out,
                           const char *what, neonflow_error **err);

/* Fetches a required member of a response root of the given JSON type
 * (JSON_OBJECT or JSON_ARRAY); optional members give NULL when absent/null. */
int neonflow__member(const json_t *root, const char *key, int type, int required, const char *what,
                     json_t **out, neonflow_error **err);

/* RFC 3339 ("2022-11-30T20:09:48.123+02:00") to Unix epoch milliseconds.
 * Returns 0 and sets *out, or -1 when s is not a valid timestamp. */
int neonflow__rfc3339_ms(const char *s, int64_t *out);

/* ---- raw JSON text of a parsed object ------------------------------------
 * Produced on first request and cached in the object: objects are shared
 * read-only between threads, so the first writer wins a compare-and-swap and
 * a loser frees its copy. A struct copy must not share the cache: copies
 * start with neonflow__json_cache_reset() and owners end with _free(). */
typedef _Atomic(char *) neonflow__json_cache;

/* The compact JSON text of obj (members in Neon's order, numbers as short as
 * round-trips), borrowed from *cache. NULL when obj is NULL or memory ran out. */
const char *neonflow__json_text(const json_t *obj, neonflow__json_cache *cache);
void neonflow__json_cache_reset(neonflow__json_cache *cache);
void neonflow__json_cache_free(neonflow__json_cache *cache);

/* Maps s through a NULL-terminated table of names to 1-based indexes; 0 when
 * unknown, `absent` when s is NULL. */
int32_t neonflow__enum_lookup(const char *s, const char *const *names, int32_t absent);

/* ---- vectors of parsed objects ---------------------------------------------- */
typedef int (*neonflow__parse_fn)(const json_t *obj, void *item, const char *what, neonflow_error **err);
typedef void (*neonflow__cleanup_fn)(void *item);

typedef struct neonflow__vec {
    char *items;        /* n * elem bytes */
    size_t n, cap, elem;
    json_t **roots;     /* references that keep the items' strings alive */
    size_t nroots, caproots;
    neonflow__cleanup_fn cleanup; /* per item, may be NULL */
} neonflow__vec;

void neonflow__vec_init(neonflow__vec *v, size_t elem, neonflow__cleanup_fn cleanup);
void neonflow__vec_clear(neonflow__vec *v);
/* Keeps a reference to `root` for the lifetime of the vector. */
int neonflow__vec_hold(neonflow__vec *v, json_t *root);
/* Appends a zeroed item and returns it (NULL on ENOMEM). */
void *neonflow__vec_push(neonflow__vec *v);
void *neonflow__vec_at(const neonflow__vec *v, size_t i);
/* Parses every element of the array `arr` with `parse` and appends it; holds
 * `root` (the document arr belongs to). */
int neonflow__vec_parse_array(neonflow__vec *v, json_t *root, const json_t *arr, neonflow__parse_fn parse,
                              const char *what, neonflow_error **err);

/* ---- string builder ------------------------------------------------------------ */
typedef struct neonflow__sb {
    char *s;
    size_t len, cap;
    int oom;
} neonflow__sb;

void neonflow__sb_add(neonflow__sb *b, const char *s);
/* Appends s percent-encoded. */
void neonflow__sb_add_enc(neonflow__sb *b, const char *s);
/* Appends "?key=value" or "&key=value" (value percent-encoded); NULL value: nothing. */
void neonflow__sb_query(neonflow__sb *b, const char *key, const char *value);
/* Returns the string (owned by the caller, neonflow__free) or NULL on ENOMEM. */
char *neonflow__sb_take(neonflow__sb *b);

/* 1 when s is an RFC 3339 timestamp. */
int neonflow__is_rfc3339(const char *s);
/* 1 when s looks like an LSN: 1-16 hex digits '/' 1-16 hex digits. */
int neonflow__is_lsn(const char *s);

/* Request bodies: call neonflow__body_begin() before building one with
 * jansson; when building failed, neonflow__body_error() gives ENOMEM if an
 * allocation failed since then, else EINVAL with the message `invalid`. */
void neonflow__body_begin(void);
int neonflow__body_error(neonflow_error **err, const char *invalid);

/* Replaces *slot with a copy of value (NULL clears). NEONFLOW_OK or NEONFLOW_ENOMEM. */
int neonflow__set_str(char **slot, const char *value);

#endif
