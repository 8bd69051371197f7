/* Internal view of a cancel token: a flag plus a condition variable that
 * sleeping waits block on, so a trigger wakes them at once. */
#ifndef NEONFLOW_CORE_CANCEL_PRIVATE_H
#define NEONFLOW_CORE_CANCEL_PRIVATE_H

#include <stdint.h>

#include "neonflow/cancel.h"

/* Sleeps up to ms milliseconds (monotonic). Returns 1 when the token was or
 * became triggered, 0 after the full sleep. token may be NULL. */
int neonflow__cancel_sleep(neonflow_cancel *token, int64_t ms);

#endif
