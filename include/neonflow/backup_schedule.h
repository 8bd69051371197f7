/*
 * libneonflow — a root branch's backup schedule (automatic snapshots).
 *
 * A schedule is an opaque list of items. One read from Neon is immutable; a
 * schedule built with neonflow_backup_schedule_new() grows with _add().
 * Strings are borrowed until the schedule is freed. Thread-safety: reading
 * from many threads is safe; adding must not race with anything else.
 */
#ifndef NEONFLOW_BACKUP_SCHEDULE_H
#define NEONFLOW_BACKUP_SCHEDULE_H

#include "common.h"
#include "errors.h"
#include "client.h"
#include "call_options.h"

NEONFLOW_BEGIN_DECLS

typedef struct neonflow_backup_schedule neonflow_backup_schedule;
typedef struct neonflow_backup_schedule_item neonflow_backup_schedule_item;

/** Creates an empty schedule. Errors: NEONFLOW_EINVAL (out NULL), NEONFLOW_ENOMEM. */
NEONFLOW_API int neonflow_backup_schedule_new(neonflow_backup_schedule **out);

/**
 * Appends an item. `frequency` is required ("daily", "weekly", "monthly";
 * older schedules may also hold "hourly" or "yearly"; passed through as is).
 * hour 0..23, day 1..31, month 1..12, retention_seconds > 0; -1 for any of
 * them leaves that field out. Errors: NEONFLOW_EINVAL (NULL schedule or
 * frequency, value out of range), NEONFLOW_ENOMEM.
 */
NEONFLOW_API int neonflow_backup_schedule_add(neonflow_backup_schedule *sched, const char *frequency, int32_t hour,
                                              int32_t day, int32_t month, int64_t retention_seconds);

/** Number of items; 0 for NULL. */
NEONFLOW_API size_t neonflow_backup_schedule_count(const neonflow_backup_schedule *sched);
/** The i-th item (borrowed), or NULL when out of range. */
NEONFLOW_API const neonflow_backup_schedule_item *neonflow_backup_schedule_at(const neonflow_backup_schedule *sched,
                                                                               size_t i);
/** Frees the schedule and its items. NULL is accepted. */
NEONFLOW_API void neonflow_backup_schedule_free(neonflow_backup_schedule *sched);

/** The frequency string; NULL for NULL. */
NEONFLOW_API const char *neonflow_backup_schedule_item_frequency(const neonflow_backup_schedule_item *item);
/**
 * The item as Neon sent it, as compact JSON text (for fields this version has
 * no getter for); NULL for an item added with neonflow_backup_schedule_add(),
 * for NULL, or when memory ran out. Borrowed until the schedule is freed;
 * made once; reading from many threads is safe.
 */
NEONFLOW_API const char *neonflow_backup_schedule_item_json(const neonflow_backup_schedule_item *item);
/** Hour 0..23, or -1 when absent. */
NEONFLOW_API int32_t neonflow_backup_schedule_item_hour(const neonflow_backup_schedule_item *item);
/** Day of the week or month, or -1 when absent. */
NEONFLOW_API int32_t neonflow_backup_schedule_item_day(const neonflow_backup_schedule_item *item);
/** Month 1..12, or -1 when absent. */
NEONFLOW_API int32_t neonflow_backup_schedule_item_month(const neonflow_backup_schedule_item *item);
/** Retention in seconds, or -1 when absent (kept forever / Neon's default). */
NEONFLOW_API int64_t neonflow_backup_schedule_item_retention_s(const neonflow_backup_schedule_item *item);

/**
 * GET /projects/{project_id}/branches/{branch_id}/backup_schedule. *out
 * receives the schedule (empty when none is set). Errors: NEONFLOW_EINVAL
 * (NULL argument, malformed ID; nothing sent), NEONFLOW_ENOTFOUND,
 * NEONFLOW_EPROTOCOL, HTTP-layer codes. Thread-safety: any thread.
 * Every call takes `call` (call_options.h; NULL: no deadline, no cancel,
 * generated request ids) just before `err`: NEONFLOW_ETIMEOUT when its
 * deadline passes, NEONFLOW_ECANCELLED when its cancel token fires.
 */
NEONFLOW_API int neonflow_branch_backup_schedule_get(neonflow_backup_schedule **out, neonflow_client *client,
                                                     const char *project_id, const char *branch_id,
                                                     const neonflow_call_options *call, neonflow_error **err);

/**
 * PUT /projects/{project_id}/branches/{branch_id}/backup_schedule with every
 * item of `sched` (borrowed; an empty schedule is sent as [] and Neon decides
 * whether that turns the schedule off). Errors as above, plus
 * NEONFLOW_EBADREQUEST when Neon rejects the schedule and NEONFLOW_EUNCERTAIN.
 */
NEONFLOW_API int neonflow_branch_backup_schedule_set(neonflow_client *client, const char *project_id,
                                                     const char *branch_id, const neonflow_backup_schedule *sched,
                                                     const neonflow_call_options *call, neonflow_error **err);

NEONFLOW_END_DECLS

#endif /* NEONFLOW_BACKUP_SCHEDULE_H */
