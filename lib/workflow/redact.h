/* The workflow side of the key scrubber (core/scrub.h): reports and events
 * are scrubbed with the client's key before they reach the caller. */
#ifndef NEONFLOW_WORKFLOW_REDACT_H
#define NEONFLOW_WORKFLOW_REDACT_H

#include "workflow-private.h"

/* Scrubs every string of the report in place (message, IDs, names, steps,
 * resources); the report JSON is built from these. */
void neonflow__report_scrub(neonflow_report *r, const char *secret);

/* Copies of an event's strings made safe for the hook. */
typedef struct neonflow__event_strings {
    char *message, *op_id, *op_action, *run_id;
} neonflow__event_strings;

/* Points ev's message, run id and operation strings at scrubbed copies (message also
 * escaped to one line); keep holds them until neonflow__event_release. On
 * ENOMEM the string is withheld (""), never passed on unscrubbed. */
void neonflow__event_scrub(neonflow_event *ev, const char *secret, neonflow__event_strings *keep);
void neonflow__event_release(neonflow__event_strings *keep);

#endif
