/*
 * libneonflow — cancel tokens.
 *
 * A cancel token lets another thread stop a blocking call (an await, a
 * workflow, a retry wait) promptly: neonflow_cancel_trigger() wakes any wait
 * sleeping on the token, and the call returns NEONFLOW_ECANCELLED at its next
 * safe point.
 */
#ifndef NEONFLOW_CANCEL_H
#define NEONFLOW_CANCEL_H

#include "common.h"

NEONFLOW_BEGIN_DECLS

typedef struct neonflow_cancel neonflow_cancel;

/** Creates an untriggered token. Errors: NEONFLOW_EINVAL (out NULL), NEONFLOW_ENOMEM. */
NEONFLOW_API int neonflow_cancel_new(neonflow_cancel **out);

/**
 * Triggers the token and wakes every wait on it. Idempotent.
 * Thread-safety: safe from any thread, including a signal-free watchdog thread.
 */
NEONFLOW_API void neonflow_cancel_trigger(neonflow_cancel *token);

/** 1 once the token has been triggered, 0 before (and for NULL). Thread-safe. */
NEONFLOW_API int neonflow_cancel_is_triggered(const neonflow_cancel *token);

/** Frees the token. No call may still be using it. NULL is accepted. */
NEONFLOW_API void neonflow_cancel_free(neonflow_cancel *token);

NEONFLOW_END_DECLS

#endif /* NEONFLOW_CANCEL_H */
