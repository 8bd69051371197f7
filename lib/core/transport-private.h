/* Shared transport state of one client (curl share, rate limiter, seams). */
#ifndef NEONFLOW_CORE_TRANSPORT_PRIVATE_H
#define NEONFLOW_CORE_TRANSPORT_PRIVATE_H

#include <curl/curl.h>
#include <pthread.h>

#include "http.h"

#define NEONFLOW__SHARE_LOCKS (CURL_LOCK_DATA_LAST)

struct neonflow__transport {
    CURLSH *share;
    pthread_mutex_t share_locks[NEONFLOW__SHARE_LOCKS];
    neonflow__sys sys;
    int sys_overridden;
};

#endif
