#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "text.h"

struct code_info {
    int code;
    const char *name;
    const char *text;
};

static const struct code_info codes[] = {
    {NEONFLOW_OK, "NEONFLOW_OK", "success"},
    {NEONFLOW_EGENERIC, "NEONFLOW_EGENERIC", "unspecified failure"},
    {NEONFLOW_EINVAL, "NEONFLOW_EINVAL", "invalid argument"},
    {NEONFLOW_ENOMEM, "NEONFLOW_ENOMEM", "out of memory"},
    {NEONFLOW_ERECURSIVE, "NEONFLOW_ERECURSIVE", "a workflow was started from a hook of a run on the same client"},
    {NEONFLOW_ECANCELLED, "NEONFLOW_ECANCELLED", "cancelled by the caller"},
    {NEONFLOW_ETIMEOUT, "NEONFLOW_ETIMEOUT", "deadline exceeded"},
    {NEONFLOW_EINSECURE, "NEONFLOW_EINSECURE", "plain http to a non-loopback host is not allowed"},
    {NEONFLOW_ECONFIG, "NEONFLOW_ECONFIG", "missing or invalid configuration"},
    {NEONFLOW_EUNSUPPORTED, "NEONFLOW_EUNSUPPORTED", "not supported by this build"},
    {NEONFLOW_EHOOK_FAILED, "NEONFLOW_EHOOK_FAILED", "the rate-limit hook failed"},
    {NEONFLOW_ETRANSPORT, "NEONFLOW_ETRANSPORT", "network failure"},
    {NEONFLOW_ERESOLVE, "NEONFLOW_ERESOLVE", "host name could not be resolved"},
    {NEONFLOW_ECONNECT, "NEONFLOW_ECONNECT", "could not connect"},
    {NEONFLOW_ETLS, "NEONFLOW_ETLS", "TLS failure"},
    {NEONFLOW_ETOOBIG, "NEONFLOW_ETOOBIG", "response too large"},
    {NEONFLOW_ENETTIMEOUT, "NEONFLOW_ENETTIMEOUT", "network timeout"},
    {NEONFLOW_EAPI, "NEONFLOW_EAPI", "request rejected by the Neon API"},
    {NEONFLOW_EAUTH, "NEONFLOW_EAUTH", "authentication failed or not permitted"},
    {NEONFLOW_ENOTFOUND, "NEONFLOW_ENOTFOUND", "not found"},
    {NEONFLOW_ECONFLICT, "NEONFLOW_ECONFLICT", "conflict with the current state"},
    {NEONFLOW_ELOCKED, "NEONFLOW_ELOCKED", "locked by a running operation"},
    {NEONFLOW_ERATELIMIT, "NEONFLOW_ERATELIMIT", "rate limited"},
    {NEONFLOW_ESERVER, "NEONFLOW_ESERVER", "Neon server error"},
    {NEONFLOW_EPROTOCOL, "NEONFLOW_EPROTOCOL", "malformed or unexpected response"},
    {NEONFLOW_EUNCERTAIN, "NEONFLOW_EUNCERTAIN",
     "outcome uncertain: the request may have been applied; read the state back"},
    {NEONFLOW_EBADREQUEST, "NEONFLOW_EBADREQUEST", "request rejected as invalid"},
    {NEONFLOW_EOPFAILED, "NEONFLOW_EOPFAILED", "operation failed"},
    {NEONFLOW_EOPCANCELLED, "NEONFLOW_EOPCANCELLED", "operation cancelled"},
    {NEONFLOW_EOPTIMEOUT, "NEONFLOW_EOPTIMEOUT", "operations not finished by the deadline"},
    {NEONFLOW_EBRANCH_MISSING, "NEONFLOW_EBRANCH_MISSING", "branch does not exist"},
    {NEONFLOW_ENOT_ROOT, "NEONFLOW_ENOT_ROOT", "branch is not a root branch"},
    {NEONFLOW_ESAME_BRANCH, "NEONFLOW_ESAME_BRANCH", "source and target are the same branch"},
    {NEONFLOW_ENO_ENDPOINT, "NEONFLOW_ENO_ENDPOINT", "target has no read-write endpoint"},
    {NEONFLOW_ERESTRICTED, "NEONFLOW_ERESTRICTED", "restore onto this branch is restricted"},
    {NEONFLOW_EBUSY, "NEONFLOW_EBUSY", "conflicting operations still running"},
    {NEONFLOW_EROOT_LIMIT, "NEONFLOW_EROOT_LIMIT", "root-branch limit reached: prune backups"},
    {NEONFLOW_ESNAPSHOT_LIMIT, "NEONFLOW_ESNAPSHOT_LIMIT", "snapshot limit reached: prune snapshots"},
    {NEONFLOW_ENO_ROLLBACK, "NEONFLOW_ENO_ROLLBACK", "no rollback point found"},
    {NEONFLOW_ESTATE, "NEONFLOW_ESTATE", "unexpected state"},
    {NEONFLOW_ERUN_MISMATCH, "NEONFLOW_ERUN_MISMATCH", "run id reused with different inputs"},
    {NEONFLOW_ELEASE_HELD, "NEONFLOW_ELEASE_HELD", "another run holds the target's lease"},
    {NEONFLOW_ECALLBACK, "NEONFLOW_ECALLBACK", "stopped by a hook"},
};

static const struct code_info *find_code(int code)
{
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (codes[i].code == code)
            return &codes[i];
    return NULL;
}

NEONFLOW_API const char *neonflow_strerror(int code)
{
    const struct code_info *ci = find_code(code);
    return ci ? ci->text : "unknown error code";
}

NEONFLOW_API const char *neonflow_error_name(int code)
{
    const struct code_info *ci = find_code(code);
    return ci ? ci->name : "NEONFLOW_EUNKNOWN";
}

static neonflow_error *error_alloc(int code, const char *message)
{
    neonflow_error *e = neonflow__calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->code = code;
    e->retry_after_ms = -1;
    e->message = neonflow__strdup(message ? message : neonflow_strerror(code));
    if (!e->message) {
        neonflow__free(e);
        return NULL;
    }
    return e;
}

__attribute__((format(printf, 4, 0))) static int error_vset(neonflow_error **err, int replace,
                                                             int code, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    if (*err && !replace)
        return code;
    /* The whole message: it is cut only after scrubbing (scrub.h). */
    char *buf = neonflow__vformat(fmt, ap);
    neonflow_error *e = buf ? error_alloc(code, buf) : NULL;
    neonflow__free(buf);
    if (!e)
        return code; /* keep whatever was there rather than lose the cause */
    neonflow_error_free(*err);
    *err = e;
    return code;
}

int neonflow__error_set(neonflow_error **err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, 0, code, fmt, ap);
    va_end(ap);
    return code;
}

int neonflow__error_replace(neonflow_error **err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, 1, code, fmt, ap);
    va_end(ap);
    return code;
}

int neonflow__error_set_http(neonflow_error **err, int code, int32_t http_status, int retryable,
                             const char *method, const char *path, const char *neon_code,
                             const char *request_id, const char *message)
{
    if (!err || *err)
        return code;
    neonflow_error *e = error_alloc(code, message);
    if (!e)
        return code;
    e->http_status = http_status;
    e->retryable = retryable ? 1 : 0;
    e->method = method ? neonflow__strdup(method) : NULL;
    e->path = path ? neonflow__strdup(path) : NULL;
    e->neon_code = neon_code ? neonflow__strdup(neon_code) : NULL;
    e->request_id = request_id ? neonflow__strdup(request_id) : NULL;
    *err = e;
    return code;
}

void neonflow__error_prefix(neonflow_error **err, const char *prefix)
{
    if (!err || !*err || !prefix || !*prefix)
        return;
    size_t n = strlen(prefix) + strlen((*err)->message) + 3;
    char *m = neonflow__malloc(n);
    if (!m)
        return;
    snprintf(m, n, "%s: %s", prefix, (*err)->message);
    neonflow__free((*err)->message);
    (*err)->message = m;
}

NEONFLOW_API int neonflow_error_code(const neonflow_error *e) { return e ? e->code : NEONFLOW_EINVAL; }

NEONFLOW_API const char *neonflow_error_message(const neonflow_error *e)
{
    if (!e)
        return "";
    return e->message ? e->message : neonflow_strerror(e->code);
}

NEONFLOW_API int32_t neonflow_error_http_status(const neonflow_error *e) { return e ? e->http_status : 0; }

#define STR_OR_EMPTY(e, field) ((e) && (e)->field ? (e)->field : "")

NEONFLOW_API const char *neonflow_error_neon_code(const neonflow_error *e) { return STR_OR_EMPTY(e, neon_code); }

NEONFLOW_API const char *neonflow_error_request_id(const neonflow_error *e) { return STR_OR_EMPTY(e, request_id); }

NEONFLOW_API const char *neonflow_error_method(const neonflow_error *e) { return STR_OR_EMPTY(e, method); }

NEONFLOW_API const char *neonflow_error_path(const neonflow_error *e) { return STR_OR_EMPTY(e, path); }

NEONFLOW_API int neonflow_error_is_retryable(const neonflow_error *e) { return e ? e->retryable : 0; }

NEONFLOW_API int64_t neonflow_error_retry_after_ms(const neonflow_error *e)
{
    return e ? e->retry_after_ms : -1;
}

NEONFLOW_API void neonflow_error_free(neonflow_error *e)
{
    if (!e)
        return;
    neonflow__free(e->message);
    neonflow__free(e->neon_code);
    neonflow__free(e->request_id);
    neonflow__free(e->method);
    neonflow__free(e->path);
    neonflow__free(e);
}
