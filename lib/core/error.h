/* Internal construction of neonflow_error objects. */
#ifndef NEONFLOW_CORE_ERROR_H
#define NEONFLOW_CORE_ERROR_H

#include <stdint.h>

#include "neonflow/errors.h"

struct neonflow_error {
    int code;
    int32_t http_status;
    int retryable;
    char *message;
    char *neon_code;
    char *request_id;
    char *method;
    char *path;
    int64_t retry_after_ms; /* the final answer's Retry-After, -1 when none */
};

/* The err rule of common.h, the first statement of every public function
 * that takes `neonflow_error **err`: an error already in *err on entry makes
 * the call fail with NEONFLOW_EINVAL at once, doing nothing, leaving *err
 * and the out-parameters untouched. */
#define NEONFLOW__ERR_ENTRY(err)                                                                      \
    do {                                                                                              \
        if ((err) && *(err))                                                                          \
            return NEONFLOW_EINVAL;                                                                   \
    } while (0)

/* Fills *err (when err && !*err) with code and a printf-style message; returns code.
 * An error already present in *err is kept (the first failure is the cause). */
int neonflow__error_set(neonflow_error **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Full form for HTTP failures; any string may be NULL. Returns code. */
int neonflow__error_set_http(neonflow_error **err, int code, int32_t http_status, int retryable,
                             const char *method, const char *path, const char *neon_code,
                             const char *request_id, const char *message);

/* Replaces *err (freeing any present one); used when a later layer knows better. */
int neonflow__error_replace(neonflow_error **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message of *err with "prefix: " when err and *err exist. */
void neonflow__error_prefix(neonflow_error **err, const char *prefix);

#endif
