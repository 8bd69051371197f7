/* The rate-limit hook (client.h), public API against the emulator: asked
 * before every request with its method, route template and project; told of
 * every 429 with the Retry-After; its waits are honoured, cancellable and
 * bounded by the deadline; a failing hook fails the request unsent with
 * NEONFLOW_EHOOK_FAILED; it replaces the built-in limiter; its payload is
 * destroyed once. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emulator.h"
#include "neonflow/neonflow.h"

#define PROJECT "p-rate-hook"
#define KEY "rate-hook-key-0123456789"
#define MAXREC 64

typedef struct record {
    int32_t kind;
    char method[16], route[96], project[64];
    int has_project;
    int64_t retry_after_ms;
} record;

/* The hook's payload: what it was asked, and what it answers. */
typedef struct recorder {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    record rec[MAXREC];
    int n;
    int fail_kind;       /* -1: never fail; else fail questions of this kind */
    int64_t wait_ms;     /* ACQUIRE: ask for this wait ... */
    int waits_left;      /* ... this many times (-1: always) */
    int destroyed;
} recorder;

static int hook(neonflow_rate_limit_request *req, void *payload)
{
    recorder *r = payload;
    pthread_mutex_lock(&r->mu);
    if (r->n < MAXREC) {
        record *x = &r->rec[r->n];
        x->kind = neonflow_rate_limit_request_kind(req);
        snprintf(x->method, sizeof(x->method), "%s", neonflow_rate_limit_request_method(req));
        snprintf(x->route, sizeof(x->route), "%s", neonflow_rate_limit_request_route(req));
        const char *p = neonflow_rate_limit_request_project_id(req);
        x->has_project = p != NULL;
        snprintf(x->project, sizeof(x->project), "%s", p ? p : "");
        x->retry_after_ms = neonflow_rate_limit_request_retry_after_ms(req);
    }
    r->n++;
    int32_t kind = neonflow_rate_limit_request_kind(req);
    int fail = r->fail_kind == kind;
    if (kind == NEONFLOW_RATE_LIMIT_ACQUIRE && r->waits_left != 0) {
        assert_int_equal(neonflow_rate_limit_request_set_wait_ms(req, r->wait_ms), NEONFLOW_OK);
        if (r->waits_left > 0)
            r->waits_left--;
    }
    if (kind == NEONFLOW_RATE_LIMIT_THROTTLED) /* a wait is for ACQUIRE only */
        assert_int_equal(neonflow_rate_limit_request_set_wait_ms(req, 10), NEONFLOW_EINVAL);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return fail;
}

static void destroy(void *payload)
{
    recorder *r = payload;
    r->destroyed++;
}

typedef struct fixture {
    emu_server *s;
    recorder r;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.api_key = KEY;
    if (!f || emu_start(&f->s, &cfg) != 0 || emu_add_project(f->s, PROJECT, "main", NULL, NULL) != 0)
        return -1;
    pthread_mutex_init(&f->r.mu, NULL);
    pthread_cond_init(&f->r.cv, NULL);
    f->r.fail_kind = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    emu_stop(f->s);
    pthread_mutex_destroy(&f->r.mu);
    pthread_cond_destroy(&f->r.cv);
    free(f);
    return 0;
}

/* A client with the hook; per_minute > 0 also sets the built-in limiter,
 * which the hook must replace. */
static neonflow_client *client(fixture *f, int32_t per_minute)
{
    neonflow_client_options *o = NULL;
    neonflow_client *c = NULL;
    int destroyed = f->r.destroyed;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(o, KEY), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(o, emu_base_url(f->s)), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_max_retries(o, 2), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_retry_backoff(o, 1, 2), NEONFLOW_OK);
    if (per_minute > 0)
        assert_int_equal(neonflow_client_options_set_rate_limit(o, per_minute, 0), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_rate_limit_hook(o, hook, &f->r, destroy), NEONFLOW_OK);
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    assert_int_equal(f->r.destroyed, destroyed); /* the client holds it */
    return c;
}

static int list(neonflow_client *c, const neonflow_call_options *call, neonflow_error **err)
{
    neonflow_branch_list *l = NULL;
    int rc = neonflow_branches_list(&l, c, PROJECT, NULL, call, err);
    neonflow_branch_list_free(l);
    return rc;
}

static void test_acquire_for_every_request(void **state)
{
    fixture *f = *state;
    neonflow_client *c = client(f, 0);
    assert_int_equal(list(c, NULL, NULL), NEONFLOW_OK);
    neonflow_branch_result *res = NULL;
    assert_int_equal(neonflow_branch_create(&res, c, PROJECT, NULL, NULL, NULL), NEONFLOW_OK);
    neonflow_branch_result_free(res);
    neonflow_branch *b = NULL;
    assert_int_equal(neonflow_branch_get(&b, c, PROJECT, "br-no-such-branch", NULL, NULL), NEONFLOW_ENOTFOUND);
    neonflow_client_free(c);
    assert_int_equal(f->r.destroyed, 1);

    /* one question per request the server saw, in order, all ACQUIRE */
    assert_int_equal(f->r.n, 3);
    assert_int_equal(emu_requests(f->s, NULL, NULL), 3);
    const char *methods[] = {"GET", "POST", "GET"};
    const char *routes[] = {"/projects/{project_id}/branches", "/projects/{project_id}/branches",
                            "/projects/{project_id}/branches/{branch_id}"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f->r.rec[i].kind, NEONFLOW_RATE_LIMIT_ACQUIRE);
        assert_string_equal(f->r.rec[i].method, methods[i]);
        assert_string_equal(f->r.rec[i].route, routes[i]);
        assert_true(f->r.rec[i].has_project);
        assert_string_equal(f->r.rec[i].project, PROJECT);
        assert_int_equal(f->r.rec[i].retry_after_ms, -1);
    }
}

static void test_throttled_with_retry_after(void **state)
{
    fixture *f = *state;
    emu_fault ft;
    emu_fault_init(&ft);
    ft.method = "GET";
    ft.path = "/projects/*/branches";
    ft.kind = EMU_FAULT_STATUS;
    ft.status = 429;
    ft.retry_after_s = 1;
    ft.count = 1;
    assert_int_equal(emu_fault_add(f->s, &ft), 0);
    neonflow_client *c = client(f, 0);
    assert_int_equal(list(c, NULL, NULL), NEONFLOW_OK);
    neonflow_client_free(c);
    /* ACQUIRE, the 429 reported with its Retry-After, ACQUIRE for the retry */
    assert_int_equal(f->r.n, 3);
    assert_int_equal(f->r.rec[0].kind, NEONFLOW_RATE_LIMIT_ACQUIRE);
    assert_int_equal(f->r.rec[1].kind, NEONFLOW_RATE_LIMIT_THROTTLED);
    assert_int_equal(f->r.rec[1].retry_after_ms, 1000);
    assert_string_equal(f->r.rec[1].route, "/projects/{project_id}/branches");
    assert_string_equal(f->r.rec[1].project, PROJECT);
    assert_int_equal(f->r.rec[2].kind, NEONFLOW_RATE_LIMIT_ACQUIRE);
    assert_int_equal(emu_requests(f->s, "GET", "/projects/*/branches"), 2);

    /* a 429 without Retry-After: -1 */
    ft.retry_after_s = -1;
    assert_int_equal(emu_fault_add(f->s, &ft), 0);
    f->r.n = 0;
    c = client(f, 0);
    assert_int_equal(list(c, NULL, NULL), NEONFLOW_OK);
    neonflow_client_free(c);
    assert_int_equal(f->r.n, 3);
    assert_int_equal(f->r.rec[1].kind, NEONFLOW_RATE_LIMIT_THROTTLED);
    assert_int_equal(f->r.rec[1].retry_after_ms, -1);
}

static void test_wait_is_honoured(void **state)
{
    fixture *f = *state;
    f->r.wait_ms = 50;
    f->r.waits_left = 2;
    neonflow_client *c = client(f, 0);
    assert_int_equal(list(c, NULL, NULL), NEONFLOW_OK);
    neonflow_client_free(c);
    /* asked again after each wait, sent once when granted */
    assert_int_equal(f->r.n, 3);
    assert_int_equal(emu_requests(f->s, NULL, NULL), 1);
}

typedef struct canceller {
    recorder *r;
    neonflow_cancel *token;
} canceller;

/* Triggers the token once the hook has been asked (the call is waiting). */
static void *cancel_when_asked(void *arg)
{
    canceller *k = arg;
    pthread_mutex_lock(&k->r->mu);
    while (k->r->n == 0)
        pthread_cond_wait(&k->r->cv, &k->r->mu);
    pthread_mutex_unlock(&k->r->mu);
    neonflow_cancel_trigger(k->token);
    return NULL;
}

static void test_wait_is_cancellable_and_bounded(void **state)
{
    fixture *f = *state;
    f->r.wait_ms = 3600 * 1000; /* the test's timeout stops it if a wait is not cut */
    f->r.waits_left = -1;
    neonflow_client *c = client(f, 0);
    neonflow_cancel *token = NULL;
    neonflow_call_options *call = NULL;
    assert_int_equal(neonflow_cancel_new(&token), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_new(&call), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_set_cancel(call, token), NEONFLOW_OK);
    canceller k = {&f->r, token};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cancel_when_asked, &k), 0);
    neonflow_error *err = NULL;
    assert_int_equal(list(c, call, &err), NEONFLOW_ECANCELLED);
    pthread_join(th, NULL);
    neonflow_error_free(err);
    err = NULL;

    /* a wait past the deadline fails at once */
    assert_int_equal(neonflow_call_options_set_cancel(call, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_set_deadline_ms(call, 60000), NEONFLOW_OK);
    assert_int_equal(list(c, call, &err), NEONFLOW_ETIMEOUT);
    assert_non_null(strstr(neonflow_error_message(err), "rate limit"));
    neonflow_error_free(err);
    neonflow_call_options_free(call);
    neonflow_cancel_free(token);
    neonflow_client_free(c);
    assert_int_equal(emu_requests(f->s, NULL, NULL), 0);
}

static void test_failing_hook_fails_unsent(void **state)
{
    fixture *f = *state;
    f->r.fail_kind = NEONFLOW_RATE_LIMIT_ACQUIRE;
    neonflow_client *c = client(f, 0);
    neonflow_error *err = NULL;
    assert_int_equal(list(c, NULL, &err), NEONFLOW_EHOOK_FAILED);
    assert_int_equal(neonflow_error_code(err), NEONFLOW_EHOOK_FAILED);
    assert_non_null(strstr(neonflow_error_message(err), "not sent"));
    assert_int_equal(neonflow_error_is_retryable(err), 0);
    neonflow_error_free(err);
    err = NULL;
    assert_int_equal(emu_requests(f->s, NULL, NULL), 0);
    assert_int_equal(f->r.n, 1);

    /* failing when told of a 429: the request fails, it is not retried */
    f->r.fail_kind = NEONFLOW_RATE_LIMIT_THROTTLED;
    emu_fault ft;
    emu_fault_init(&ft);
    ft.kind = EMU_FAULT_STATUS;
    ft.status = 429;
    ft.retry_after_s = 1;
    assert_int_equal(emu_fault_add(f->s, &ft), 0);
    assert_int_equal(list(c, NULL, &err), NEONFLOW_EHOOK_FAILED);
    assert_int_equal(neonflow_error_http_status(err), 429);
    neonflow_error_free(err);
    assert_int_equal(emu_requests(f->s, NULL, NULL), 1);
    neonflow_client_free(c);
}

static void test_hook_replaces_builtin_limiter(void **state)
{
    fixture *f = *state;
    /* 1 request per minute built in: the second call would have to wait a
     * minute and so fail at once against a 30 s deadline; the hook grants */
    neonflow_client *c = client(f, 1);
    neonflow_call_options *call = NULL;
    assert_int_equal(neonflow_call_options_new(&call), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_set_deadline_ms(call, 30000), NEONFLOW_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(list(c, call, NULL), NEONFLOW_OK);
    neonflow_call_options_free(call);
    neonflow_client_free(c);
    assert_int_equal(f->r.n, 3);

    /* the check above can fail: without the hook, the same limiter refuses */
    neonflow_client_options *o = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    neonflow_client_options_set_api_key(o, KEY);
    neonflow_client_options_set_base_url(o, emu_base_url(f->s));
    neonflow_client_options_set_rate_limit(o, 1, 0);
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    assert_int_equal(neonflow_call_options_new(&call), NEONFLOW_OK);
    assert_int_equal(neonflow_call_options_set_deadline_ms(call, 30000), NEONFLOW_OK);
    assert_int_equal(list(c, call, NULL), NEONFLOW_OK);
    assert_int_equal(list(c, call, NULL), NEONFLOW_ETIMEOUT);
    neonflow_call_options_free(call);
    neonflow_client_free(c);
}

static void test_setter_rules(void **state)
{
    fixture *f = *state;
    /* NULL options: the payload is destroyed, EINVAL */
    assert_int_equal(neonflow_client_options_set_rate_limit_hook(NULL, hook, &f->r, destroy), NEONFLOW_EINVAL);
    assert_int_equal(f->r.destroyed, 1);
    /* replacing and clearing release the earlier payload */
    neonflow_client_options *o = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_rate_limit_hook(o, hook, &f->r, destroy), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_rate_limit_hook(o, NULL, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(f->r.destroyed, 2);
    neonflow_client_options_free(o);
    /* getters are NULL-safe */
    assert_int_equal(neonflow_rate_limit_request_kind(NULL), -1);
    assert_null(neonflow_rate_limit_request_method(NULL));
    assert_null(neonflow_rate_limit_request_route(NULL));
    assert_null(neonflow_rate_limit_request_project_id(NULL));
    assert_int_equal(neonflow_rate_limit_request_retry_after_ms(NULL), -1);
    assert_int_equal(neonflow_rate_limit_request_set_wait_ms(NULL, 1), NEONFLOW_EINVAL);
    assert_string_equal(neonflow_error_name(NEONFLOW_EHOOK_FAILED), "NEONFLOW_EHOOK_FAILED");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_acquire_for_every_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_throttled_with_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_is_honoured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_is_cancellable_and_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_hook_fails_unsent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hook_replaces_builtin_limiter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setter_rules, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
