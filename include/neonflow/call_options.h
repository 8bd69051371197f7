/*
 * libneonflow — per-call options: a deadline, a cancel token and a request id
 * for one API call.
 *
 * Every call that talks to Neon outside the workflows (snapshots, branches,
 * endpoints, operations, awaits, backup schedules) takes
 * `const neonflow_call_options *call` just before `err`. NULL keeps the
 * behaviour of a call without options: no deadline beyond the client's
 * per-request timeout and retry budget, no cancellation, a generated
 * X-Request-ID per attempt. Workflows take their deadline and cancel token
 * from neonflow_run_options instead.
 *
 * What the options bound: a deadline covers the whole call — every attempt,
 * the backoff and Retry-After waits between them, the client-side rate-limit
 * waits, and each transfer (curl's timeout is cut to what is left) — and
 * ends it with NEONFLOW_ETIMEOUT. A triggered cancel token ends it with
 * NEONFLOW_ECANCELLED within about 100 ms, whether the call is in a transfer
 * or in a wait. A mutation whose request was already in flight may have
 * been applied: at the deadline it ends with NEONFLOW_EUNCERTAIN, on a
 * cancel with NEONFLOW_ECANCELLED and a message saying so; read the state
 * back before repeating it.
 *
 * Thread-safety: an options object may be passed to many concurrent calls
 * once it is set up; setters must not run while a call is using it.
 */
#ifndef NEONFLOW_CALL_OPTIONS_H
#define NEONFLOW_CALL_OPTIONS_H

#include "common.h"
#include "cancel.h"

NEONFLOW_BEGIN_DECLS

typedef struct neonflow_call_options neonflow_call_options;

/** Longest request id neonflow_call_options_set_request_id() accepts, in bytes. */
#define NEONFLOW_REQUEST_ID_MAX 64

/**
 * Creates call options without deadline, cancel token or request id (the
 * same as passing NULL). Errors: NEONFLOW_EINVAL (out NULL), NEONFLOW_ENOMEM.
 * Free with neonflow_call_options_free().
 */
NEONFLOW_API int neonflow_call_options_new(neonflow_call_options **out);

/** Frees the options (not the cancel token). NULL is accepted. */
NEONFLOW_API void neonflow_call_options_free(neonflow_call_options *call);

/**
 * Relative deadline: the call may take at most `deadline_ms` milliseconds,
 * counted from the moment each call using these options starts (so one
 * options object can serve many calls). 0 removes the deadline. Errors:
 * NEONFLOW_EINVAL (NULL options, negative value).
 */
NEONFLOW_API int neonflow_call_options_set_deadline_ms(neonflow_call_options *call, int64_t deadline_ms);

/**
 * The cancel token a call watches (borrowed: it must outlive every call
 * using these options); NULL removes it. Triggering it from any thread stops
 * the call with NEONFLOW_ECANCELLED. A token already triggered when the call
 * starts stops it before any request is sent. Errors: NEONFLOW_EINVAL (NULL
 * options).
 */
NEONFLOW_API int neonflow_call_options_set_cancel(neonflow_call_options *call, neonflow_cancel *token);

/**
 * The X-Request-ID sent instead of a generated one (copied). It must be 1 to
 * NEONFLOW_REQUEST_ID_MAX bytes of printable ASCII without spaces
 * (0x21-0x7e). The same value is sent on EVERY request of the call: each
 * retry, each page of a listing, each poll of an await, so everything the
 * call did can be found under one id in Neon's answers (errors carry it) and
 * in the client's log. NULL removes it (ids are generated again, one per
 * attempt). Errors: NEONFLOW_EINVAL (NULL options, empty, too long or
 * non-printable value; the old value is kept), NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_call_options_set_request_id(neonflow_call_options *call, const char *request_id);

NEONFLOW_END_DECLS

#endif /* NEONFLOW_CALL_OPTIONS_H */
