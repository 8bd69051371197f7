/* Getters of the log and trace records (client.h). */
#include "records.h"

NEONFLOW_API int32_t neonflow_log_record_level(const neonflow_log_record *r)
{
    return r ? r->level : NEONFLOW_LOG_ERROR;
}

NEONFLOW_API const char *neonflow_log_record_message(const neonflow_log_record *r)
{
    return r && r->message ? r->message : "";
}

NEONFLOW_API const char *neonflow_log_record_request_id(const neonflow_log_record *r)
{
    return r && r->request_id && *r->request_id ? r->request_id : NULL;
}

NEONFLOW_API const char *neonflow_log_record_method(const neonflow_log_record *r)
{
    return r ? r->method : NULL;
}

NEONFLOW_API const char *neonflow_log_record_route(const neonflow_log_record *r)
{
    return r ? r->route : NULL;
}

NEONFLOW_API int32_t neonflow_log_record_http_status(const neonflow_log_record *r)
{
    return r ? r->http_status : 0;
}

NEONFLOW_API const char *neonflow_log_record_run_id(const neonflow_log_record *r)
{
    return r && r->run_id && *r->run_id ? r->run_id : NULL;
}

NEONFLOW_API int32_t neonflow_trace_record_kind(const neonflow_trace_record *r)
{
    return r ? r->kind : NEONFLOW_TRACE_INFO;
}

NEONFLOW_API const char *neonflow_trace_record_data(const neonflow_trace_record *r)
{
    return r ? r->data : NULL;
}

NEONFLOW_API size_t neonflow_trace_record_data_len(const neonflow_trace_record *r)
{
    return r ? r->len : 0;
}

NEONFLOW_API const char *neonflow_trace_record_request_id(const neonflow_trace_record *r)
{
    return r && r->request_id && *r->request_id ? r->request_id : NULL;
}

NEONFLOW_API const char *neonflow_trace_record_method(const neonflow_trace_record *r)
{
    return r ? r->method : NULL;
}

NEONFLOW_API const char *neonflow_trace_record_route(const neonflow_trace_record *r)
{
    return r ? r->route : NULL;
}

NEONFLOW_API int32_t neonflow_trace_record_http_status(const neonflow_trace_record *r)
{
    return r ? r->http_status : 0;
}

NEONFLOW_API const char *neonflow_trace_record_run_id(const neonflow_trace_record *r)
{
    return r && r->run_id && *r->run_id ? r->run_id : NULL;
}
