/* cancel-bench: how soon a cancel from another thread stops
 * neonflow_branch_get against a loopback server that accepts and never
 * answers (in a transfer), and one that answers 503 with Retry-After: 30 (in
 * a retry wait). 20 tries each; prints every latency, the median and the
 * maximum. The promise (issue 9): within 100 ms. */
#include <stdlib.h>

#include "neonflow/neonflow.h"
#include "stall-server.h"

#define TRIES 20

static const char *const retry_after_30[] = {
    "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", NULL};

typedef struct shot {
    neonflow_cancel *tok;
    stall_server *s;
    int64_t delay_ms, fired_at;
} shot;

static void *fire(void *arg)
{
    shot *t = arg;
    int64_t until = stall_now_ms() + 5000;
    while (stall_requests(t->s) < 1 && stall_now_ms() < until)
        usleep(2000);
    usleep((useconds_t)(t->delay_ms * 1000));
    t->fired_at = stall_now_ms();
    neonflow_cancel_trigger(t->tok);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int run(const char *what, const char *const *script)
{
    int64_t lat[TRIES];
    int bad = 0;
    for (int i = 0; i < TRIES; i++) {
        stall_server s;
        if (stall_start(&s, script) != 0)
            return 1;
        char url[64];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v2", s.port);
        neonflow_client_options *o = NULL;
        neonflow_client *c = NULL;
        neonflow_cancel *tok = NULL;
        neonflow_call_options *call = NULL;
        if (neonflow_client_options_new(&o) || neonflow_client_options_set_api_key(o, "bench-key") ||
            neonflow_client_options_set_base_url(o, url) || neonflow_client_new(&c, o, NULL) ||
            neonflow_cancel_new(&tok) || neonflow_call_options_new(&call) ||
            neonflow_call_options_set_cancel(call, tok))
            return 1;
        shot t = {tok, &s, 20 + (i * 37) % 130, 0};
        pthread_t th;
        pthread_create(&th, NULL, fire, &t);
        neonflow_branch *b = NULL;
        int rc = neonflow_branch_get(&b, c, "p-1", "br-bench-cancel-1", call, NULL);
        int64_t done = stall_now_ms();
        pthread_join(th, NULL);
        lat[i] = done - t.fired_at;
        bad += rc != NEONFLOW_ECANCELLED;
        neonflow_branch_free(b);
        neonflow_call_options_free(call);
        neonflow_cancel_free(tok);
        neonflow_client_free(c);
        neonflow_client_options_free(o);
        stall_stop(&s);
    }
    printf("%-26s", what);
    for (int i = 0; i < TRIES; i++)
        printf(" %lld", (long long)lat[i]);
    qsort(lat, TRIES, sizeof(lat[0]), cmp);
    printf("\n%-26s median %.1f ms, max %lld ms over %d tries%s\n", "", (double)(lat[TRIES / 2 - 1] + lat[TRIES / 2]) / 2,
           (long long)lat[TRIES - 1], TRIES, bad ? " (SOME DID NOT RETURN ECANCELLED)" : "");
    return bad != 0;
}

int main(void)
{
    int rc = run("in a transfer (ms):", NULL);
    rc |= run("in a Retry-After wait (ms):", retry_after_30);
    return rc;
}
