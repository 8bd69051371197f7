/* The records handed to the log and trace hooks (client.h): plain structs
 * here, opaque to callers so that fields can be added. */
#ifndef NEONFLOW_CORE_RECORDS_H
#define NEONFLOW_CORE_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "neonflow/client.h"

struct neonflow_log_record {
    int32_t level;
    const char *message;
    const char *request_id, *method, *route, *run_id; /* NULL when not known */
    int32_t http_status;                              /* 0 when not known */
};

struct neonflow_trace_record {
    int32_t kind;
    const char *data;
    size_t len;
    const char *request_id, *method, *route, *run_id;
    int32_t http_status;
};

#endif
