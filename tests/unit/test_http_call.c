/* neonflow__http_call through real libcurl against a refused loopback port,
 * with a fake clock, sleep and random (the sys seam): retries of requests
 * that never left, backoff, deadline, cancel, rate-limit waits, bad input. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "http-fakes.h"

/* ---- refused port ------------------------------------------------------------- */

static void test_connect_refused_retried_for_post(void **state)
{
    (void)state;
    uint16_t port;
    int fd = listen_socket(&port, 0); /* bound, not listening: connections are refused */
    fake f = {.now = 1000, .rnd = 12345};
    neonflow_client *c = make_client(port, &f, 3, 0);
    notes nt = {0};
    neonflow__call_ctx ctx = {.notify = on_note, .notify_payload = &nt};
    json_t *body = json_pack("{s:s}", "name", "x");
    neonflow__request req = {"POST", "/projects/p-1/branches", "/projects/{project_id}/branches", body};
    neonflow__response resp;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow__http_call(c, &ctx, &req, &resp, &err), NEONFLOW_ECONNECT);
    /* never sent, so safe to retry even a POST: 1 + 3 attempts, 3 sleeps of full jitter */
    assert_int_equal(ctx.calls, 4);
    assert_int_equal(ctx.retries, 3);
    assert_int_equal(resp.attempts, 4);
    assert_null(resp.json);
    assert_int_equal(f.nsleeps, 3);
    assert_int_equal(f.sleeps[0], 12345 % 250);
    assert_int_equal(f.sleeps[1], 12345 % 500);
    assert_int_equal(f.sleeps[2], 12345 % 1000);
    assert_int_equal(nt.retry, 3);
    assert_int_equal(nt.last_wait, 12345 % 1000);
    assert_int_equal(neonflow_error_code(err), NEONFLOW_ECONNECT);
    assert_int_equal(neonflow_error_is_retryable(err), 1);
    assert_string_equal(neonflow_error_method(err), "POST");
    assert_string_equal(neonflow_error_path(err), "/projects/p-1/branches");
    assert_non_null(strstr(neonflow_error_message(err), "POST /projects/p-1/branches: "));
    assert_non_null(strstr(neonflow_error_message(err), "gave up after 4 attempts"));
    assert_int_equal(strncmp(neonflow_error_request_id(err), "nf-", 3), 0);
    assert_non_null(strstr(logbuf, "retrying POST /projects/p-1/branches in"));
    assert_no_key(err);
    neonflow_error_free(err);
    json_decref(body);
    neonflow_client_free(c);
    close(fd);
}

static void test_no_retries_and_bad_arguments(void **state)
{
    (void)state;
    uint16_t port;
    int fd = listen_socket(&port, 0);
    fake f = {.rnd = 7};
    neonflow_client *c = make_client(port, &f, 0, 0);
    neonflow__request req = {"GET", "/projects", NULL, NULL};
    neonflow_error *err = NULL;
    assert_int_equal(neonflow__http_call(c, NULL, &req, NULL, &err), NEONFLOW_ECONNECT);
    assert_int_equal(f.nsleeps, 0);
    assert_int_equal(neonflow_error_is_retryable(err), 1);
    neonflow_error_free(err);

    static const neonflow__request bad[] = {
        {"FETCH", "/projects", NULL, NULL}, {NULL, "/projects", NULL, NULL},
        {"GET", "projects", NULL, NULL},    {"GET", "/a b", NULL, NULL},
        {"GET", "/a\nb", NULL, NULL},       {"GET", NULL, NULL, NULL},
    };
    neonflow__response resp;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        assert_int_equal(neonflow__http_call(c, NULL, &bad[i], &resp, &err), NEONFLOW_EINVAL);
        assert_int_equal(resp.attempts, 0);
        neonflow_error_free(err);
    }
    assert_int_equal(neonflow__http_call(NULL, NULL, &req, &resp, NULL), NEONFLOW_EINVAL);
    assert_int_equal(neonflow__http_call(c, NULL, NULL, &resp, NULL), NEONFLOW_EINVAL);
    neonflow__response_clear(&resp);
    neonflow__response_clear(NULL);
    neonflow_client_free(c);
    close(fd);
}

static void test_deadline_stops_retries(void **state)
{
    (void)state;
    uint16_t port;
    int fd = listen_socket(&port, 0);
    fake f = {.now = 0, .rnd = 999};
    neonflow_client *c = make_client(port, &f, 10, 0);
    /* change backoff through a fresh client: base 600, cap 10000 */
    neonflow_client_free(c);
    neonflow_client_options *o = NULL;
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)port);
    neonflow_client_options_new(&o);
    neonflow_client_options_set_api_key(o, KEY);
    neonflow_client_options_set_base_url(o, url);
    neonflow_client_options_set_retry_backoff(o, 600, 10000);
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    neonflow__sys s = fake_sys(&f);
    neonflow__client_set_sys(c, &s);

    neonflow__call_ctx ctx = {.deadline_ms = 1000};
    neonflow__request req = {"GET", "/projects", NULL, NULL};
    neonflow_error *err = NULL;
    /* waits: 999 % 600 = 399, then 999 % 1200 = 999 would end past the deadline */
    assert_int_equal(neonflow__http_call(c, &ctx, &req, NULL, &err), NEONFLOW_ETIMEOUT);
    assert_int_equal(f.nsleeps, 1);
    assert_int_equal(f.sleeps[0], 399);
    assert_int_equal(ctx.calls, 2);
    assert_non_null(strstr(neonflow_error_message(err), "deadline"));
    assert_non_null(strstr(neonflow_error_message(err), "last failure"));
    assert_non_null(strstr(neonflow_error_message(err), "connect"));
    neonflow_error_free(err);

    /* a deadline already passed: no attempt at all */
    ctx.calls = 0;
    ctx.deadline_ms = f.now;
    err = NULL;
    assert_int_equal(neonflow__http_call(c, &ctx, &req, NULL, &err), NEONFLOW_ETIMEOUT);
    assert_int_equal(ctx.calls, 0);
    neonflow_error_free(err);
    neonflow_client_free(c);
    close(fd);
}

typedef struct canceller {
    neonflow_cancel *token;
    int delay_ms;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *cl = arg;
    struct timespec ts = {0, cl->delay_ms * 1000000L};
    nanosleep(&ts, NULL);
    neonflow_cancel_trigger(cl->token);
    return NULL;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_cancel_wakes_retry_sleep(void **state)
{
    (void)state;
    uint16_t port;
    int fd = listen_socket(&port, 0);
    neonflow_client_options *o = NULL;
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)port);
    neonflow_client_options_new(&o);
    neonflow_client_options_set_api_key(o, KEY);
    neonflow_client_options_set_base_url(o, url);
    neonflow_client_options_set_retry_backoff(o, 20000, 20000); /* huge sleeps, real clock */
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    /* make the jitter land near the top of the range: sleep ~20 s unless woken */
    fake f = {.rnd = 19999};
    neonflow__sys real = *neonflow__client_sys(c);
    real.random = f_random;
    real.ctx = &f;
    neonflow__client_set_sys(c, &real);

    canceller cl = {NULL, 200};
    neonflow_cancel_new(&cl.token);
    neonflow__call_ctx ctx = {.cancel = cl.token};
    neonflow__request req = {"GET", "/projects", NULL, NULL};
    pthread_t th;
    pthread_create(&th, NULL, cancel_later, &cl);
    int64_t t0 = mono_ms();
    neonflow_error *err = NULL;
    assert_int_equal(neonflow__http_call(c, &ctx, &req, NULL, &err), NEONFLOW_ECANCELLED);
    int64_t took = mono_ms() - t0;
    pthread_join(th, NULL);
    assert_true(took < 3000);
    assert_int_equal(ctx.retries, 1);
    assert_non_null(strstr(neonflow_error_message(err), "cancelled"));
    neonflow_error_free(err);

    /* already triggered: nothing is sent */
    ctx.calls = 0;
    err = NULL;
    assert_int_equal(neonflow__http_call(c, &ctx, &req, NULL, &err), NEONFLOW_ECANCELLED);
    assert_int_equal(ctx.calls, 0);
    neonflow_error_free(err);
    neonflow_cancel_free(cl.token);
    neonflow_client_free(c);
    close(fd);
}

static void test_rate_limit_waits_on_seam(void **state)
{
    (void)state;
    uint16_t port;
    int fd = listen_socket(&port, 0);
    neonflow_client_options *o = NULL;
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)port);
    neonflow_client_options_new(&o);
    neonflow_client_options_set_api_key(o, KEY);
    neonflow_client_options_set_base_url(o, url);
    neonflow_client_options_set_max_retries(o, 0);
    neonflow_client_options_set_rate_limit(o, 0, 2);
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    fake f = {.now = 50000};
    neonflow__sys s = fake_sys(&f);
    neonflow__client_set_sys(c, &s);

    notes nt = {0};
    neonflow__call_ctx ctx = {.notify = on_note, .notify_payload = &nt};
    neonflow__request req = {"GET", "/projects/p/operations/1", "/projects/{p}/operations/{id}", NULL};
    neonflow__request other = {"GET", "/projects/p/operations/2", "/projects/{p}/operations/{id}", NULL};
    neonflow__request route2 = {"GET", "/projects", "/projects", NULL};
    /* one route is paced: 2 per (stretched) second, one slot every half of it */
    int64_t slot = (neonflow__pacer_interval_us(2, 1, NEONFLOW__RL_SECOND_WINDOW_MS) + 999) / 1000;
    assert_int_equal(neonflow__http_call(c, &ctx, &req, NULL, NULL), NEONFLOW_ECONNECT);
    assert_int_equal(f.nsleeps, 0);
    assert_int_equal(neonflow__http_call(c, &ctx, &other, NULL, NULL), NEONFLOW_ECONNECT);
    assert_int_equal(f.nsleeps, 1);
    assert_int_equal(f.sleeps[0], slot);
    assert_int_equal(nt.ratewait, 1);
    assert_int_equal(nt.last_wait, slot);
    /* another route is not held */
    assert_int_equal(neonflow__http_call(c, &ctx, &route2, NULL, NULL), NEONFLOW_ECONNECT);
    assert_int_equal(f.nsleeps, 1);
    /* the third call to the same route takes the next slot, by then the
     * first has left the exact window behind the pacing */
    assert_int_equal(neonflow__http_call(c, &ctx, &req, NULL, NULL), NEONFLOW_ECONNECT);
    assert_int_equal(f.nsleeps, 2);
    assert_int_equal(f.sleeps[1], slot);
    /* a wait that would pass the deadline fails at once */
    assert_int_equal(neonflow__http_call(c, &ctx, &req, NULL, NULL), NEONFLOW_ECONNECT);
    ctx.deadline_ms = f.now + 10;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow__http_call(c, &ctx, &req, NULL, &err), NEONFLOW_ETIMEOUT);
    assert_non_null(strstr(neonflow_error_message(err), "rate limit"));
    neonflow_error_free(err);
    neonflow_client_free(c);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_refused_retried_for_post),
        cmocka_unit_test(test_no_retries_and_bad_arguments),
        cmocka_unit_test(test_deadline_stops_retries),
        cmocka_unit_test(test_cancel_wakes_retry_sleep),
        cmocka_unit_test(test_rate_limit_waits_on_seam),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
