/* A hook shared by an options object and the clients or runs created from it:
 * its destroy callback runs once, when the last holder lets go. */
#ifndef NEONFLOW_CORE_HOOK_H
#define NEONFLOW_CORE_HOOK_H

#include <stdatomic.h>

#include "neonflow/common.h"

typedef struct neonflow__hook {
    atomic_int refs;
    void (*fn)(void); /* cast to the hook's real type by its user */
    void *payload;
    neonflow_destroy_fn destroy;
} neonflow__hook;

/* Returns NULL on allocation failure (the caller then runs destroy itself). */
neonflow__hook *neonflow__hook_new(void (*fn)(void), void *payload, neonflow_destroy_fn destroy);
neonflow__hook *neonflow__hook_ref(neonflow__hook *h);
void neonflow__hook_unref(neonflow__hook *h);

/* The one implementation of every public hook setter (the destroy rule of
 * common.h): replaces *slot with a new hook (fn == NULL clears it and
 * destroys the payload at once). slot NULL (the options object was NULL):
 * destroys the payload, returns NEONFLOW_EINVAL. On allocation failure the
 * payload is destroyed at once and NEONFLOW_ENOMEM returned. */
int neonflow__hook_set(neonflow__hook **slot, void (*fn)(void), void *payload,
                       neonflow_destroy_fn destroy);

#endif
