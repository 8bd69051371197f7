/* One HTTP exchange (transfer.c), used by the retry loop in request.c. */
#ifndef NEONFLOW_CORE_TRANSFER_H
#define NEONFLOW_CORE_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include "transport-private.h"

typedef struct neonflow__body {
    char *data; /* NUL-terminated when not NULL; neonflow__free it */
    size_t len, cap;
    size_t max;  /* cap on len: more sets too_big and aborts the transfer */
    int too_big;
} neonflow__body;

/* Everything one attempt produced. */
typedef struct neonflow__attempt {
    CURLcode cc;
    int32_t status;
    int sent;             /* request bytes may have reached the server */
    int cancelled;        /* the cancel token stopped the transfer */
    int deadline_clamped; /* the attempt's timeout was cut to the caller's deadline */
    int oom;              /* an allocation failed during the attempt (curl may have sent less than asked) */
    neonflow__body body;
    char retry_after[64]; /* raw header value, "" when absent */
    char resp_rid[128];   /* X-Request-ID of the response, "" when absent */
    char rid[72];         /* X-Request-ID sent (set by the caller; NEONFLOW_REQUEST_ID_MAX + 1 fits) */
    char errbuf[CURL_ERROR_SIZE];
    const char *secret;   /* the client's key: header values are scrubbed before they are cut */
} neonflow__attempt;

typedef struct neonflow__transfer {
    neonflow_client *c;
    const char *method;
    const char *url;
    const char *body; /* NULL: none */
    size_t body_len;
    int64_t timeout_ms; /* whole exchange; the connect timeout never exceeds it */
    neonflow_cancel *cancel, *cancel2; /* either stops the exchange; may be NULL */
    const char *route, *run_id;        /* for the trace records; may be NULL */
} neonflow__transfer;

/* Runs the exchange; a->rid and a->body.max must be set. Returns NEONFLOW_OK
 * (the outcome is in a->cc / a->status) or NEONFLOW_ENOMEM. */
int neonflow__transfer_perform(const neonflow__transfer *x, neonflow__attempt *a);

#endif
