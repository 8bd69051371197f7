/*
 * libneonflow — Neon endpoints (computes): list, get, create.
 *
 * Getter conventions (as in operation.h): a NULL object gives NULL / -1 /
 * the _NONE or _UNKNOWN constant; strings are borrowed until the owning
 * object (endpoint, list or result) is freed; absent optional strings give
 * NULL; booleans are exactly 1 or 0 (0 when absent or for NULL); `_ms`
 * timestamp getters give Unix epoch milliseconds, 0 when absent,
 * unparseable or for NULL. An endpoint needs only `id`, `host`, `branch_id`,
 * `project_id` and `type` to parse: every other field may be absent (Neon's
 * deprecated pooler_enabled, pooler_mode and proxy_host are not read).
 * neonflow_endpoint_json() reads any field this version has no getter for.
 * Thread-safety: objects are immutable and may be read from many threads.
 */
#ifndef NEONFLOW_ENDPOINT_H
#define NEONFLOW_ENDPOINT_H

#include "common.h"
#include "errors.h"
#include "client.h"
#include "call_options.h"
#include "operation.h"

NEONFLOW_BEGIN_DECLS

typedef struct neonflow_endpoint neonflow_endpoint;
typedef struct neonflow_endpoint_list neonflow_endpoint_list;

/*
 * The enumerations below are append-only: values are never renumbered or
 * reused, and later versions may add new ones (Neon adds states), so callers
 * must tolerate values they do not know (treat them like _UNKNOWN).
 */
/* Endpoint type. */
#define NEONFLOW_ENDPOINT_TYPE_UNKNOWN    0
#define NEONFLOW_ENDPOINT_TYPE_READ_ONLY  1
#define NEONFLOW_ENDPOINT_TYPE_READ_WRITE 2

/* Endpoint state (current_state, pending_state). */
#define NEONFLOW_ENDPOINT_STATE_NONE    -1 /**< field absent (pending_state only) */
#define NEONFLOW_ENDPOINT_STATE_UNKNOWN  0
#define NEONFLOW_ENDPOINT_STATE_INIT     1
#define NEONFLOW_ENDPOINT_STATE_ACTIVE   2
#define NEONFLOW_ENDPOINT_STATE_IDLE     3

/**
 * The static name of a NEONFLOW_ENDPOINT_TYPE_* value, Neon's own string
 * ("read_only", "read_write"); "unknown" for _UNKNOWN and values this version
 * does not know. Never NULL. Thread-safety: any thread.
 */
NEONFLOW_API const char *neonflow_endpoint_type_name(int32_t type);
/** Same for NEONFLOW_ENDPOINT_STATE_* ("init", "active", "idle", "none" for _NONE, "unknown"). */
NEONFLOW_API const char *neonflow_endpoint_state_name(int32_t state);

/** Endpoint ID, e.g. "ep-little-smoke-851426". */
NEONFLOW_API const char *neonflow_endpoint_id(const neonflow_endpoint *e);
/** Host name, e.g. "ep-x-1.us-east-2.aws.neon.tech". */
NEONFLOW_API const char *neonflow_endpoint_host(const neonflow_endpoint *e);
/** ID of the branch the endpoint serves; never NULL for a parsed endpoint. */
NEONFLOW_API const char *neonflow_endpoint_branch_id(const neonflow_endpoint *e);
/** ID of the project the endpoint belongs to; never NULL for a parsed endpoint. */
NEONFLOW_API const char *neonflow_endpoint_project_id(const neonflow_endpoint *e);
/** Display name, or NULL. */
NEONFLOW_API const char *neonflow_endpoint_name(const neonflow_endpoint *e);
/** NEONFLOW_ENDPOINT_TYPE_*. */
NEONFLOW_API int32_t neonflow_endpoint_type(const neonflow_endpoint *e);
/** type as Neon sent it ("read_write", "read_only"); never NULL for a parsed endpoint. */
NEONFLOW_API const char *neonflow_endpoint_type_raw(const neonflow_endpoint *e);
/**
 * The endpoint object as Neon sent it, as compact JSON text (e.g. to read
 * `settings`). Same contract as neonflow_branch_json(): borrowed until the
 * endpoint (or its list or result) is freed, made once, thread-safe, NULL
 * only for NULL or when memory ran out.
 */
NEONFLOW_API const char *neonflow_endpoint_json(const neonflow_endpoint *e);
/** NEONFLOW_ENDPOINT_STATE_*; _UNKNOWN also when absent. */
NEONFLOW_API int32_t neonflow_endpoint_current_state(const neonflow_endpoint *e);
/** current_state as Neon sent it; NULL when absent. */
NEONFLOW_API const char *neonflow_endpoint_current_state_raw(const neonflow_endpoint *e);
/** NEONFLOW_ENDPOINT_STATE_*, _NONE when absent. */
NEONFLOW_API int32_t neonflow_endpoint_pending_state(const neonflow_endpoint *e);
/** pending_state as Neon sent it; NULL when absent. */
NEONFLOW_API const char *neonflow_endpoint_pending_state_raw(const neonflow_endpoint *e);
/** Lower autoscaling limit in compute units; -1.0 when absent or for NULL. */
NEONFLOW_API double neonflow_endpoint_autoscaling_limit_min_cu(const neonflow_endpoint *e);
/** Upper autoscaling limit in compute units; -1.0 when absent or for NULL. */
NEONFLOW_API double neonflow_endpoint_autoscaling_limit_max_cu(const neonflow_endpoint *e);
/** Region, e.g. "aws-us-east-2"; NULL when absent. */
NEONFLOW_API const char *neonflow_endpoint_region_id(const neonflow_endpoint *e);
/** 1 when connections to the endpoint are refused (`disabled`), else 0 (also when absent). */
NEONFLOW_API int neonflow_endpoint_is_disabled(const neonflow_endpoint *e);
/** 1 when passwordless access is permitted, else 0 (also when absent). */
NEONFLOW_API int neonflow_endpoint_has_passwordless_access(const neonflow_endpoint *e);
/** When the compute was last active (RFC 3339); NULL when absent. */
NEONFLOW_API const char *neonflow_endpoint_last_active(const neonflow_endpoint *e);
/** When the compute last started (RFC 3339); NULL when absent. */
NEONFLOW_API const char *neonflow_endpoint_started_at(const neonflow_endpoint *e);
/** When the compute was last suspended (RFC 3339); NULL when absent. */
NEONFLOW_API const char *neonflow_endpoint_suspended_at(const neonflow_endpoint *e);
/** What created the endpoint (e.g. "console"); NULL when absent. */
NEONFLOW_API const char *neonflow_endpoint_creation_source(const neonflow_endpoint *e);
/** Creation time (RFC 3339); NULL when absent. */
NEONFLOW_API const char *neonflow_endpoint_created_at(const neonflow_endpoint *e);
/** Last update time (RFC 3339); NULL when absent. */
NEONFLOW_API const char *neonflow_endpoint_updated_at(const neonflow_endpoint *e);
/** Seconds of inactivity before suspend (0 = Neon default); -1 when absent or for NULL. */
NEONFLOW_API int64_t neonflow_endpoint_suspend_timeout_s(const neonflow_endpoint *e);
/** "k8s-pod", "k8s-neonvm", ...; NULL when absent. */
NEONFLOW_API const char *neonflow_endpoint_provisioner(const neonflow_endpoint *e);
/** Version of the compute software; NULL when absent. */
NEONFLOW_API const char *neonflow_endpoint_compute_release_version(const neonflow_endpoint *e);
/** Frees an endpoint returned by a get or create call or neonflow_endpoint_dup(). NULL is accepted. */
NEONFLOW_API void neonflow_endpoint_free(neonflow_endpoint *e);
/**
 * A copy of `e` that the caller owns and frees with neonflow_endpoint_free(),
 * and that outlives the list or result `e` was borrowed from (it shares the
 * immutable parsed JSON of that one endpoint). NEONFLOW_EINVAL for a NULL
 * out or e (*out NULL), NEONFLOW_ENOMEM. Thread-safety: any thread, also many
 * at once on the same `e`.
 */
NEONFLOW_API int neonflow_endpoint_dup(neonflow_endpoint **out, const neonflow_endpoint *e);

/** Number of endpoints; 0 for NULL. */
NEONFLOW_API size_t neonflow_endpoint_list_count(const neonflow_endpoint_list *list);
/** The i-th endpoint (borrowed), or NULL when out of range. */
NEONFLOW_API const neonflow_endpoint *neonflow_endpoint_list_at(const neonflow_endpoint_list *list, size_t i);
/** Frees the list. NULL is accepted. */
NEONFLOW_API void neonflow_endpoint_list_free(neonflow_endpoint_list *list);

/**
 * GET /projects/{project_id}/endpoints (not paginated). *out: new list.
 * Errors: NEONFLOW_EINVAL (NULL argument or malformed ID; no request sent),
 * NEONFLOW_ENOTFOUND, NEONFLOW_EPROTOCOL, HTTP-layer codes. *out is NULL on
 * failure. Thread-safety: any number of threads may call on one client.
 * Every call takes `call` (call_options.h; NULL: no deadline, no cancel,
 * generated request ids) just before `err`: NEONFLOW_ETIMEOUT when its
 * deadline passes, NEONFLOW_ECANCELLED when its cancel token fires.
 */
NEONFLOW_API int neonflow_endpoints_list(neonflow_endpoint_list **out, neonflow_client *client,
                                         const char *project_id,
                                         const neonflow_call_options *call, neonflow_error **err);

/** GET /projects/{project_id}/branches/{branch_id}/endpoints. As neonflow_endpoints_list(). */
NEONFLOW_API int neonflow_endpoints_list_for_branch(neonflow_endpoint_list **out, neonflow_client *client,
                                                    const char *project_id, const char *branch_id,
                                                    const neonflow_call_options *call, neonflow_error **err);

/** GET /projects/{project_id}/endpoints/{endpoint_id}. *out: new endpoint. Errors as above. */
NEONFLOW_API int neonflow_endpoint_get(neonflow_endpoint **out, neonflow_client *client, const char *project_id,
                                       const char *endpoint_id,
                                       const neonflow_call_options *call, neonflow_error **err);

/* ---- endpoint create options ---------------------------------------------
 * Every field of Neon's endpoint create request except the branch (a
 * parameter of the call) and the deprecated pooler fields. Unset fields are
 * not sent (Neon's defaults apply). Setters copy strings; errors:
 * NEONFLOW_EINVAL (NULL options or a value out of range; the old value is
 * kept), NEONFLOW_ENOMEM. Not for concurrent use while being set.
 */
typedef struct neonflow_endpoint_create_options neonflow_endpoint_create_options;

/** Creates options: type read_write, nothing else set. Errors: NEONFLOW_EINVAL (out NULL), NEONFLOW_ENOMEM. */
NEONFLOW_API int neonflow_endpoint_create_options_new(neonflow_endpoint_create_options **out);
/** Frees the options. NULL is accepted. */
NEONFLOW_API void neonflow_endpoint_create_options_free(neonflow_endpoint_create_options *opts);
/** NEONFLOW_ENDPOINT_TYPE_READ_WRITE (default) or NEONFLOW_ENDPOINT_TYPE_READ_ONLY. */
NEONFLOW_API int neonflow_endpoint_create_options_set_type(neonflow_endpoint_create_options *opts, int32_t type);
/** Endpoint name, 1-64 bytes; NULL clears it. */
NEONFLOW_API int neonflow_endpoint_create_options_set_name(neonflow_endpoint_create_options *opts, const char *name);
/** Region (Neon permits only the project's, e.g. "aws-us-east-2"); ^[a-z0-9-]{1,60}$; NULL clears it. */
NEONFLOW_API int neonflow_endpoint_create_options_set_region_id(neonflow_endpoint_create_options *opts,
                                                                const char *region_id);
/** Provisioner ("k8s-neonvm", "k8s-pod", ...; passed through, 1-64 printable bytes); NULL clears it. */
NEONFLOW_API int neonflow_endpoint_create_options_set_provisioner(neonflow_endpoint_create_options *opts,
                                                                  const char *provisioner);
/** autoscaling_limit_min_cu / _max_cu in compute units (>= 0.25, at most 1000); 0 clears it.
 * When both are set, min must not exceed max (checked by the create call: NEONFLOW_EINVAL). */
NEONFLOW_API int neonflow_endpoint_create_options_set_autoscaling_limit_min_cu(neonflow_endpoint_create_options *opts,
                                                                               double cu);
/** autoscaling_limit_max_cu, same range and rules as the _min_cu setter above; 0 clears it. */
NEONFLOW_API int neonflow_endpoint_create_options_set_autoscaling_limit_max_cu(neonflow_endpoint_create_options *opts,
                                                                               double cu);
/** Seconds of inactivity before suspend: -1 (never), 0 (Neon's default) or 60..604800. */
NEONFLOW_API int neonflow_endpoint_create_options_set_suspend_timeout_s(neonflow_endpoint_create_options *opts,
                                                                              int64_t seconds);
/** 1: create it disabled (connections refused), 0: enabled. Unset: not sent. */
NEONFLOW_API int neonflow_endpoint_create_options_set_disabled(neonflow_endpoint_create_options *opts, int disabled);
/**
 * One Postgres setting of settings.pg_settings (e.g. "work_mem", "64MB"),
 * both printable strings (name 1-128, value up to 4096 bytes); a NULL value
 * removes the name. Setting a name twice keeps the last value.
 */
NEONFLOW_API int neonflow_endpoint_create_options_set_pg_setting(neonflow_endpoint_create_options *opts,
                                                                 const char *name, const char *value);

/**
 * POST /projects/{project_id}/endpoints with {"endpoint":{"branch_id", "type",
 * and every field set in `opts`}}. `opts` may be NULL: a read_write endpoint
 * with Neon's defaults. *out receives the new endpoint; *ops_out (may be NULL
 * to discard) its operations, which must finish before the endpoint is
 * usable (see neonflow_operations_await()). Errors: NEONFLOW_EINVAL (also
 * min CU above max CU; nothing sent), NEONFLOW_EBADREQUEST (Neon rejected a
 * value), NEONFLOW_ECONFLICT (the branch already has a read-write endpoint),
 * NEONFLOW_EUNCERTAIN (response lost: list the branch's endpoints before
 * trying again), the codes above. Both outs are NULL after a failure.
 */
NEONFLOW_API int neonflow_endpoint_create(neonflow_endpoint **out, neonflow_operation_list **ops_out,
                                          neonflow_client *client, const char *project_id, const char *branch_id,
                                          const neonflow_endpoint_create_options *opts,
                                          const neonflow_call_options *call, neonflow_error **err);

NEONFLOW_END_DECLS

#endif /* NEONFLOW_ENDPOINT_H */
