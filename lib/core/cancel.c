#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "alloc.h"
#include "cancel-private.h"
#include "neonflow/errors.h"

struct neonflow_cancel {
    atomic_int triggered;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC */
    neonflow__cancel_waker *wakers; /* under lock */
};

NEONFLOW_API int neonflow_cancel_new(neonflow_cancel **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    neonflow_cancel *t = neonflow__calloc(1, sizeof(*t));
    if (!t) {
        *out = NULL;
        return NEONFLOW_ENOMEM;
    }
    atomic_init(&t->triggered, 0);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, &attr);
    pthread_condattr_destroy(&attr);
    *out = t;
    return NEONFLOW_OK;
}

NEONFLOW_API void neonflow_cancel_trigger(neonflow_cancel *token)
{
    if (!token)
        return;
    pthread_mutex_lock(&token->lock);
    atomic_store(&token->triggered, 1);
    pthread_cond_broadcast(&token->cond);
    for (neonflow__cancel_waker *w = token->wakers; w; w = w->next)
        w->wake(w->arg);
    pthread_mutex_unlock(&token->lock);
}

NEONFLOW_API int neonflow_cancel_is_triggered(const neonflow_cancel *token)
{
    return token ? atomic_load(&((neonflow_cancel *)token)->triggered) : 0;
}

NEONFLOW_API void neonflow_cancel_free(neonflow_cancel *token)
{
    if (!token)
        return;
    pthread_cond_destroy(&token->cond);
    pthread_mutex_destroy(&token->lock);
    neonflow__free(token);
}

static struct timespec deadline_after(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

int neonflow__cancel_sleep(neonflow_cancel *token, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    if (!token) {
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
            ;
        return 0;
    }
    struct timespec until = deadline_after(ms);
    pthread_mutex_lock(&token->lock);
    while (!atomic_load(&token->triggered)) {
        if (pthread_cond_timedwait(&token->cond, &token->lock, &until) == ETIMEDOUT)
            break;
    }
    int fired = atomic_load(&token->triggered);
    pthread_mutex_unlock(&token->lock);
    return fired;
}

int neonflow__cancel_watch(neonflow_cancel *token, neonflow__cancel_waker *w)
{
    if (!token)
        return 0;
    pthread_mutex_lock(&token->lock);
    int fired = atomic_load(&token->triggered);
    if (!fired) {
        w->next = token->wakers;
        token->wakers = w;
    }
    pthread_mutex_unlock(&token->lock);
    return fired;
}

void neonflow__cancel_unwatch(neonflow_cancel *token, neonflow__cancel_waker *w)
{
    if (!token)
        return;
    pthread_mutex_lock(&token->lock);
    for (neonflow__cancel_waker **p = &token->wakers; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    pthread_mutex_unlock(&token->lock);
}
