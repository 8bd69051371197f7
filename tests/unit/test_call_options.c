/* Per-call options through the public API only, against a loopback server
 * that accepts and never answers (or answers from a script): a cancel from
 * another thread stops neonflow_branch_get in a transfer and in a
 * Retry-After wait, a deadline ends it with ETIMEOUT, the caller's request id
 * reaches the server on every attempt, and NULL options behave as before.
 * Times are printed; the only timed assertions are generous bounds (1 s for
 * what must take ~100 ms) so a loaded machine cannot fail them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "neonflow/neonflow.h"
#include "stall-server.h"

#define PROJECT "p-1"
#define BRANCH "br-one-two-12345678"

static const char *const retry_after_30[] = {
    "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nContent-Type: application/json\r\n"
    "Content-Length: 2\r\nConnection: close\r\n\r\n{}",
    NULL};

#define OPS_OK "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\n" \
               "Connection: close\r\n\r\n{\"operations\":[]}"
#define UNAVAILABLE_NOW "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\n" \
                        "Connection: close\r\n\r\n"
static const char *const fail_then_ok[] = {UNAVAILABLE_NOW, OPS_OK, NULL};

static neonflow_client *client_for(const stall_server *s)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v2", s->port);
    neonflow_client_options *o = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(o, "call-options-test-key"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(o, url), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_retry_backoff(o, 1, 1), NEONFLOW_OK);
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    return c;
}

typedef struct trigger {
    neonflow_cancel *token;
    int64_t after_ms;
    int64_t fired_at;
    stall_server *s;
    int wait_requests; /* fire only once the server saw this many requests */
} trigger;

static void *fire(void *arg)
{
    trigger *t = arg;
    int64_t until = stall_now_ms() + 10000;
    while (t->s && stall_requests(t->s) < t->wait_requests && stall_now_ms() < until)
        usleep(5000);
    usleep((useconds_t)(t->after_ms * 1000));
    t->fired_at = stall_now_ms();
    neonflow_cancel_trigger(t->token);
    return NULL;
}

/* branch_get with call options, cancelled from another thread once the
 * server has the request; returns the call's code, *latency_ms the time
 * from the trigger to the return. */
static int get_cancelled(const char *const *script, int64_t *latency_ms, int *requests)
{
    stall_server s;
    assert_int_equal(stall_start(&s, script), 0);
    neonflow_client *c = client_for(&s);
    neonflow_cancel *tok = NULL;
    neonflow_call_options *call = NULL;
    assert_int_equal(neonflow_cancel_new(&tok), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_new(&call), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_set_cancel(call, tok), NEONFLOW_OK);
    trigger t = {tok, 150, 0, &s, 1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fire, &t), 0);
    neonflow_branch *b = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_branch_get(&b, c, PROJECT, BRANCH, call, &err);
    int64_t done = stall_now_ms();
    pthread_join(th, NULL);
    *latency_ms = done - t.fired_at;
    *requests = stall_requests(&s);
    assert_null(b);
    if (rc == NEONFLOW_ECANCELLED)
        assert_int_equal(neonflow_error_code(err), NEONFLOW_ECANCELLED);
    neonflow_error_free(err);
    neonflow_call_options_free(call);
    neonflow_cancel_free(tok);
    neonflow_client_free(c);
    stall_stop(&s);
    return rc;
}

static void test_cancel_during_transfer(void **state)
{
    (void)state;
    int64_t latency = 0;
    int requests = 0;
    assert_int_equal(get_cancelled(NULL, &latency, &requests), NEONFLOW_ECANCELLED);
    printf("# cancel during a transfer: returned %lld ms after the trigger\n", (long long)latency);
    assert_int_equal(requests, 1);
    assert_true(latency < 1000); /* the promise is 100 ms: see bench/cancel_bench.c */
}

static void test_cancel_during_retry_after_wait(void **state)
{
    (void)state;
    int64_t latency = 0;
    int requests = 0;
    assert_int_equal(get_cancelled(retry_after_30, &latency, &requests), NEONFLOW_ECANCELLED);
    printf("# cancel during a 30 s Retry-After wait: returned %lld ms after the trigger\n", (long long)latency);
    assert_int_equal(requests, 1); /* no second attempt */
    assert_true(latency < 1000);
}

static void test_deadline_gives_etimeout(void **state)
{
    (void)state;
    stall_server s;
    assert_int_equal(stall_start(&s, NULL), 0);
    neonflow_client *c = client_for(&s);
    neonflow_call_options *call = NULL;
    assert_int_equal(neonflow_call_options_new(&call), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_set_deadline_ms(call, 300), NEONFLOW_OK);
    neonflow_branch *b = NULL;
    neonflow_error *err = NULL;
    int64_t t0 = stall_now_ms();
    int rc = neonflow_branch_get(&b, c, PROJECT, BRANCH, call, &err);
    int64_t took = stall_now_ms() - t0;
    printf("# deadline 300 ms against a silent server: %s after %lld ms\n", neonflow_strerror(rc),
           (long long)took);
    assert_int_equal(rc, NEONFLOW_ETIMEOUT);
    assert_true(took >= 300);
    assert_true(took < 2000);
    neonflow_error_free(err);
    /* the same options serve a second call: the budget counts from its start */
    t0 = stall_now_ms();
    assert_int_equal(neonflow_branch_get(&b, c, PROJECT, BRANCH, call, NULL), NEONFLOW_ETIMEOUT);
    assert_true(stall_now_ms() - t0 >= 300);
    neonflow_call_options_free(call);
    neonflow_client_free(c);
    stall_stop(&s);
}

static void test_deadline_shorter_than_retry_after(void **state)
{
    (void)state;
    stall_server s;
    assert_int_equal(stall_start(&s, retry_after_30), 0);
    neonflow_client *c = client_for(&s);
    neonflow_call_options *call = NULL;
    assert_int_equal(neonflow_call_options_new(&call), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_set_deadline_ms(call, 300), NEONFLOW_OK);
    neonflow_branch *b = NULL;
    int64_t t0 = stall_now_ms();
    assert_int_equal(neonflow_branch_get(&b, c, PROJECT, BRANCH, call, NULL), NEONFLOW_ETIMEOUT);
    assert_true(stall_now_ms() - t0 < 2000); /* not 30 s */
    assert_int_equal(stall_requests(&s), 1);
    neonflow_call_options_free(call);
    neonflow_client_free(c);
    stall_stop(&s);
}

static void test_cancel_before_the_call_sends_nothing(void **state)
{
    (void)state;
    stall_server s;
    assert_int_equal(stall_start(&s, NULL), 0);
    neonflow_client *c = client_for(&s);
    neonflow_cancel *tok = NULL;
    neonflow_call_options *call = NULL;
    assert_int_equal(neonflow_cancel_new(&tok), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_new(&call), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_set_cancel(call, tok), NEONFLOW_OK);
    neonflow_cancel_trigger(tok);
    neonflow_operation_list *l = NULL;
    assert_int_equal(neonflow_operations_list(&l, c, PROJECT, NULL, 0, call, NULL), NEONFLOW_ECANCELLED);
    usleep(50000);
    assert_int_equal(stall_requests(&s), 0);
    neonflow_call_options_free(call);
    neonflow_cancel_free(tok);
    neonflow_client_free(c);
    stall_stop(&s);
}

static void test_request_id_on_every_attempt(void **state)
{
    (void)state;
    stall_server s;
    assert_int_equal(stall_start(&s, fail_then_ok), 0);
    neonflow_client *c = client_for(&s);
    neonflow_call_options *call = NULL;
    assert_int_equal(neonflow_call_options_new(&call), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_set_request_id(call, "tenant-7/trace:abc-123"), NEONFLOW_OK);
    neonflow_operation_list *l = NULL;
    assert_int_equal(neonflow_operations_list(&l, c, PROJECT, NULL, 0, call, NULL), NEONFLOW_OK);
    neonflow_operation_list_free(l);
    assert_int_equal(stall_requests(&s), 2);
    assert_string_equal(s.rid[0], "tenant-7/trace:abc-123");
    assert_string_equal(s.rid[1], "tenant-7/trace:abc-123");
    neonflow_call_options_free(call);
    neonflow_client_free(c);
    stall_stop(&s);
}

static void test_null_call_options_unchanged(void **state)
{
    (void)state;
    for (int with_empty = 0; with_empty < 2; with_empty++) {
        stall_server s;
        assert_int_equal(stall_start(&s, fail_then_ok), 0);
        neonflow_client *c = client_for(&s);
        neonflow_call_options *call = NULL;
        if (with_empty) /* options with nothing set are the same as NULL */
            assert_int_equal(neonflow_call_options_new(&call), NEONFLOW_OK);
        neonflow_operation_list *l = NULL;
        assert_int_equal(neonflow_operations_list(&l, c, PROJECT, NULL, 0, call, NULL), NEONFLOW_OK);
        neonflow_operation_list_free(l);
        assert_int_equal(stall_requests(&s), 2);
        /* generated ids, one per attempt */
        assert_int_equal(strncmp(s.rid[0], "nf-", 3), 0);
        assert_int_equal(strncmp(s.rid[1], "nf-", 3), 0);
        assert_string_not_equal(s.rid[0], s.rid[1]);
        assert_non_null(strstr(s.line[0], "GET /api/v2/projects/p-1/operations"));
        neonflow_call_options_free(call);
        neonflow_client_free(c);
        stall_stop(&s);
    }
}

static void test_setters_validate(void **state)
{
    (void)state;
    neonflow_call_options *call = NULL;
    assert_int_equal(neonflow_call_options_new(NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_call_options_new(&call), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_set_deadline_ms(NULL, 1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_call_options_set_deadline_ms(call, -1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_call_options_set_deadline_ms(call, 0), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_set_cancel(NULL, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_call_options_set_cancel(call, NULL), NEONFLOW_OK);
    char max[NEONFLOW_REQUEST_ID_MAX + 2];
    memset(max, 'a', sizeof(max));
    max[NEONFLOW_REQUEST_ID_MAX] = '\0';
    assert_int_equal(neonflow_call_options_set_request_id(call, max), NEONFLOW_OK);
    max[NEONFLOW_REQUEST_ID_MAX] = 'a';
    max[NEONFLOW_REQUEST_ID_MAX + 1] = '\0';
    static const char *const bad[] = {"", "has space", "tab\there", "new\r\nX-Evil: 1", "caf\xc3\xa9", "\x7f"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(neonflow_call_options_set_request_id(call, bad[i]), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_call_options_set_request_id(call, max), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_call_options_set_request_id(call, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_set_request_id(NULL, "x"), NEONFLOW_EINVAL);
    neonflow_call_options_free(call);
    neonflow_call_options_free(NULL);
}

/* An await watches the call options' cancel token as well as its own: a
 * trigger of either stops a sleep between polls at once. */
static const char *const one_op[] = {"0b5c2a4e-1111-2222-3333-444455556666"};

static void test_await_stopped_by_call_cancel(void **state)
{
    (void)state;
    stall_server s;
    assert_int_equal(stall_start(&s, NULL), 0);
    neonflow_client *c = client_for(&s);
    neonflow_cancel *own = NULL, *tok = NULL;
    neonflow_await_options *ao = NULL;
    neonflow_call_options *call = NULL;
    assert_int_equal(neonflow_cancel_new(&own), NEONFLOW_OK);
    assert_int_equal(neonflow_cancel_new(&tok), NEONFLOW_OK);
    assert_int_equal(neonflow_await_options_new(&ao), NEONFLOW_OK);
    assert_int_equal(neonflow_await_options_set_cancel(ao, own), NEONFLOW_OK);
    assert_int_equal(neonflow_await_options_set_poll_interval_ms(ao, 5000, 5000), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_new(&call), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_set_cancel(call, tok), NEONFLOW_OK);
    trigger t = {tok, 200, 0, NULL, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fire, &t), 0);
    int rc = neonflow_operation_ids_await(NULL, c, PROJECT, one_op, 1, ao, call, NULL);
    int64_t done = stall_now_ms();
    pthread_join(th, NULL);
    printf("# await cancelled by the call options' token between polls: returned %lld ms after the trigger\n",
           (long long)(done - t.fired_at));
    assert_int_equal(rc, NEONFLOW_ECANCELLED);
    assert_true(done - t.fired_at < 1000); /* the first poll was 5 s away */
    assert_int_equal(stall_requests(&s), 0);

    /* the same during a poll the server never answers */
    neonflow_cancel *tok2 = NULL;
    assert_int_equal(neonflow_cancel_new(&tok2), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_set_cancel(call, tok2), NEONFLOW_OK);
    assert_int_equal(neonflow_await_options_set_poll_interval_ms(ao, 10, 5000), NEONFLOW_OK);
    trigger t2 = {tok2, 100, 0, &s, 1};
    assert_int_equal(pthread_create(&th, NULL, fire, &t2), 0);
    rc = neonflow_operation_ids_await(NULL, c, PROJECT, one_op, 1, ao, call, NULL);
    done = stall_now_ms();
    pthread_join(th, NULL);
    printf("# await cancelled by the call options' token during a poll: returned %lld ms after the trigger\n",
           (long long)(done - t2.fired_at));
    assert_int_equal(rc, NEONFLOW_ECANCELLED);
    assert_true(done - t2.fired_at < 1000);
    assert_int_equal(stall_requests(&s), 1);
    neonflow_cancel_free(tok2);
    neonflow_call_options_free(call);
    neonflow_await_options_free(ao);
    neonflow_cancel_free(tok);
    neonflow_cancel_free(own);
    neonflow_client_free(c);
    stall_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_during_transfer),
        cmocka_unit_test(test_cancel_during_retry_after_wait),
        cmocka_unit_test(test_deadline_gives_etimeout),
        cmocka_unit_test(test_deadline_shorter_than_retry_after),
        cmocka_unit_test(test_cancel_before_the_call_sends_nothing),
        cmocka_unit_test(test_request_id_on_every_attempt),
        cmocka_unit_test(test_null_call_options_unchanged),
        cmocka_unit_test(test_setters_validate),
        cmocka_unit_test(test_await_stopped_by_call_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
