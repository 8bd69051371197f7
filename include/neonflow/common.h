/*
 * libneonflow — common definitions shared by every public header.
 *
 * Public headers include only <stddef.h> and <stdint.h>. They are C99 (C89
 * lacks <stdint.h>) and usable from C++; their syntax is C89 (no // comments,
 * no inline), so a C89 compiler that ships <stdint.h> takes them too.
 * tests/headers compiles each as -std=c99 -pedantic and C++11 -pedantic, and
 * <neonflow/neonflow.h> as -std=c89 -pedantic.
 */
#ifndef NEONFLOW_COMMON_H
#define NEONFLOW_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32) || defined(__CYGWIN__)
#  if defined(NEONFLOW_BUILDING_LIBRARY)
#    define NEONFLOW_API __declspec(dllexport)
#  else
#    define NEONFLOW_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define NEONFLOW_API __attribute__((visibility("default")))
#else
#  define NEONFLOW_API
#endif

/*
 * NEONFLOW_DEPRECATED(msg) marks a function that stays exported for the whole
 * 1.x series but has a replacement (docs/api-stability.md): callers get a
 * compiler warning naming it, never a link or run-time failure. It expands to
 * nothing where the compiler has no deprecated attribute, so the headers stay
 * C89- and C++-usable. Use: NEONFLOW_API NEONFLOW_DEPRECATED("use x") int f(void);
 */
#if defined(__GNUC__) && (__GNUC__ > 4 || (__GNUC__ == 4 && __GNUC_MINOR__ >= 5))
#  define NEONFLOW_DEPRECATED(msg) __attribute__((deprecated(msg)))
#elif defined(__GNUC__)
#  define NEONFLOW_DEPRECATED(msg) __attribute__((deprecated))
#elif defined(_MSC_VER)
#  define NEONFLOW_DEPRECATED(msg) __declspec(deprecated(msg))
#else
#  define NEONFLOW_DEPRECATED(msg)
#endif

#ifdef __cplusplus
#  define NEONFLOW_BEGIN_DECLS extern "C" {
#  define NEONFLOW_END_DECLS }
#else
#  define NEONFLOW_BEGIN_DECLS
#  define NEONFLOW_END_DECLS
#endif

NEONFLOW_BEGIN_DECLS

/**
 * Destroy callback for a hook payload.
 *
 * THE DESTROY RULE, the same for every setter taking (fn, payload, destroy):
 * destroy(payload), when destroy is not NULL, is called exactly once for
 * every payload handed to a setter:
 * - at once, before the setter returns, when the setter fails (options object
 *   NULL or another invalid argument: NEONFLOW_EINVAL; out of memory:
 *   NEONFLOW_ENOMEM) or when fn is NULL (the hook is removed, the payload is
 *   not kept);
 * - otherwise when the hook is let go by its last holder: the options object
 *   (when the hook is replaced by another setter call, or the object is
 *   freed), and every client created from client options, or run of a
 *   workflow, that took a reference to it (a run lets go when it ends). It
 *   runs on the thread that lets go last: the one replacing the hook or
 *   freeing the options object, the client or the run's last reference.
 * The library never calls fn after destroy(payload).
 */
typedef void (*neonflow_destroy_fn)(void *payload);

/*
 * THE ERR RULE, the same for every function taking `neonflow_error **err`
 * (errors.h): pass NULL, or the address of a NULL pointer. A pointer that
 * already holds an error on entry (*err != NULL) makes the call fail with
 * NEONFLOW_EINVAL at once: it does nothing, sends nothing, leaves *err and
 * every out-parameter as they were. Free the error (neonflow_error_free) and
 * reset the pointer to NULL before reusing it, so that the details read after
 * a call are always that call's.
 */

/*
 * THE NAMING RULES (docs/api-vocabulary.md), the same in every header:
 * - calls are neonflow_<object>_<verb>; a call returning a collection is
 *   neonflow_<objects>_list (plural) and its options neonflow_<objects>_list_options;
 * - `_get` always fetches over HTTP; an element of a list, report, step or hook
 *   context is read with `_at(x, i)` below `_count(x)`;
 * - a boolean getter is `_is_<adjective>` or `_has_<noun>` and returns 0 or 1;
 * - a duration or time in an integer ends in `_ms` (milliseconds; Unix epoch ms
 *   for a point in time), or `_s` where it mirrors a Neon field counted in
 *   seconds; a size ends in `_bytes`.
 *
 * THE ABSENT-STRING RULE: a `const char *` getter returns NULL when the value
 * is absent (and for a NULL object) -- for every object that carries data from
 * Neon or from a request: branches, endpoints, snapshots, operations, backup
 * schedules, hook contexts, lock requests, log and trace records. "" is then a
 * real, empty value. The exceptions are the records the library writes for
 * display, which never return NULL so they can be printed directly: a
 * neonflow_error's strings and a workflow's report, steps, resources and
 * events return "" when a value is absent or was never reached.
 */

/**
 * Frees memory that the library handed out through a `char **out` parameter.
 * Never use libc free() on such memory. NULL is accepted and ignored.
 * Thread-safety: safe from any thread.
 */
NEONFLOW_API void neonflow_free(void *ptr);

NEONFLOW_END_DECLS

#endif /* NEONFLOW_COMMON_H */
