/* Shared between lease.c (taking, renewing and releasing the lease, the lock
 * hook) and lease_neon.c (the lease branch's calls in Neon). */
#ifndef NEONFLOW_LEASE_PRIVATE_H
#define NEONFLOW_LEASE_PRIVATE_H

#include "workflow-private.h"

/* The holder a lease branch records: its annotation, id and expiry. */
typedef struct neonflow__lease_holder {
    int found;
    char id[64], run_id[NEONFLOW__RUN_ID_MAX + 1], workflow[16], taken_at[40], expires_at[40];
    int64_t expires_ms; /* -1: none */
} neonflow__lease_holder;

/* ---- lease.c ---- */
/* The client's monotonic clock, in ms. */
int64_t neonflow__lease_mono(const neonflow__run *r);
/* The lease's TTL: the run option, or the default. */
int64_t neonflow__lease_ttl(const neonflow__run *r);
/* The workflow's name as the lease's annotation records it (the public,
 * append-only names: "promote", "rollback", ...). */
const char *neonflow__lease_wf_name(int32_t w);

/* ---- lease_neon.c ---- */
/* The holder recorded in lease branch id's annotation, which is in the page
 * of the list that holds the branch. */
void neonflow__lease_annotation_of(const neonflow_branch_list *l, const char *id,
                                   neonflow__lease_holder *h);
/* PATCH expires_at; ENOTFOUND when the lease branch is gone (retried on
 * EUNCERTAIN, ESERVER, ENOMEM). */
int neonflow__lease_extend(neonflow__run *r, neonflow__call_ctx *ctx, neonflow_error **e);
/* DELETE the lease branch id (retried as extend; a missing one is OK). */
int neonflow__lease_delete(neonflow__run *r, neonflow__call_ctx *ctx, const char *id,
                           neonflow_error **e);
/* Fails the run with NEONFLOW_ELEASE_HELD, naming the holder h. */
int neonflow__lease_held_error(neonflow__run *r, const neonflow__lease_holder *h);
/* One attempt at the Neon lease: 1 = held, 0 = held by another (h filled),
 * <0 = failure. */
int neonflow__lease_try_neon(neonflow__run *r, neonflow__lease_holder *h,
                             neonflow_operation_list **ops, neonflow_branch_list **seen,
                             int look_first);

#endif
