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

#ifdef __cplusplus
#  define NEONFLOW_BEGIN_DECLS extern "C" {
#  define NEONFLOW_END_DECLS }
#else
#  define NEONFLOW_BEGIN_DECLS
#  define NEONFLOW_END_DECLS
#endif

NEONFLOW_BEGIN_DECLS

/**
 * Destroy callback for a hook payload. Called exactly once, when the hook is
 * replaced or when the object holding it (options object, client) is freed.
 */
typedef void (*neonflow_destroy_fn)(void *payload);

/**
 * Frees memory that the library handed out through a `char **out` parameter.
 * Never use libc free() on such memory. NULL is accepted and ignored.
 * Thread-safety: safe from any thread.
 */
NEONFLOW_API void neonflow_free(void *ptr);

NEONFLOW_END_DECLS

#endif /* NEONFLOW_COMMON_H */
