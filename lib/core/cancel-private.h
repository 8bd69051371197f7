/* Internal view of a cancel token: a flag plus a condition variable that
 * sleeping waits block on, so a trigger wakes them at once. */
#ifndef NEONFLOW_CORE_CANCEL_PRIVATE_H
#define NEONFLOW_CORE_CANCEL_PRIVATE_H

#include <stdint.h>

#include "neonflow/cancel.h"

/* Sleeps up to ms milliseconds (monotonic). Returns 1 when the token was or
 * became triggered, 0 after the full sleep. token may be NULL. */
int neonflow__cancel_sleep(neonflow_cancel *token, int64_t ms);

/* A waker is told once when the token fires, so a thread blocked somewhere
 * else than on the token (a curl_multi_poll) wakes at once. The node lives
 * in the caller's memory between watch and unwatch; wake runs on the
 * triggering thread with the token's lock held, so it must be quick and
 * must not touch the token. */
typedef struct neonflow__cancel_waker {
    void (*wake)(void *arg);
    void *arg;
    struct neonflow__cancel_waker *next;
} neonflow__cancel_waker;

/* Registers w; returns 1 (and does not register) when the token has already
 * fired. token may be NULL (returns 0). */
int neonflow__cancel_watch(neonflow_cancel *token, neonflow__cancel_waker *w);
/* Removes w; once it returns, wake is not running and will not run. */
void neonflow__cancel_unwatch(neonflow_cancel *token, neonflow__cancel_waker *w);

#endif
