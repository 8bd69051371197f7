#include "hook.h"

#include "alloc.h"
#include "neonflow/errors.h"

neonflow__hook *neonflow__hook_new(void (*fn)(void), void *payload, neonflow_destroy_fn destroy)
{
    neonflow__hook *h = neonflow__calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    atomic_init(&h->refs, 1);
    h->fn = fn;
    h->payload = payload;
    h->destroy = destroy;
    return h;
}

neonflow__hook *neonflow__hook_ref(neonflow__hook *h)
{
    if (h)
        atomic_fetch_add(&h->refs, 1);
    return h;
}

void neonflow__hook_unref(neonflow__hook *h)
{
    if (!h || atomic_fetch_sub(&h->refs, 1) != 1)
        return;
    if (h->destroy)
        h->destroy(h->payload);
    neonflow__free(h);
}

int neonflow__hook_set(neonflow__hook **slot, void (*fn)(void), void *payload,
                       neonflow_destroy_fn destroy)
{
    neonflow__hook *h = NULL;
    if (!slot) {
        /* The rule of common.h: a payload handed in is always released. */
        if (destroy)
            destroy(payload);
        return NEONFLOW_EINVAL;
    }
    if (fn) {
        h = neonflow__hook_new(fn, payload, destroy);
        if (!h) {
            if (destroy)
                destroy(payload);
            return NEONFLOW_ENOMEM;
        }
    } else if (destroy) {
        /* Clearing a hook: the payload passed along is not kept, so release it now. */
        destroy(payload);
    }
    neonflow__hook_unref(*slot);
    *slot = h;
    return NEONFLOW_OK;
}
