/* Issue 9 item 6 and the records of item 3, across every public setter and
 * several public calls:
 * - the destroy rule of common.h: destroy(payload) runs exactly once per
 *   payload handed to a hook setter, whatever happens (bad options object,
 *   fn NULL, out of memory, replaced, freed), on the thread that frees the
 *   last holder;
 * - the err rule: a non-NULL *err on entry fails with NEONFLOW_EINVAL, does
 *   nothing and leaves *err and the out-parameters alone;
 * - the log and trace records carry method, route, request id, HTTP status
 *   and run id. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "http-fakes.h"
#include "neonflow/neonflow.h"

/* ---- a counting destroy ----------------------------------------------------- */

typedef struct counted {
    int destroyed;
    pthread_t on;
} counted;

static void count_destroy(void *payload)
{
    counted *c = payload;
    c->destroyed++;
    c->on = pthread_self();
}

/* Hook functions of every type (never called here). */
static void fn_log(const neonflow_log_record *r, void *p) { (void)r, (void)p; }
static void fn_trace(const neonflow_trace_record *r, void *p) { (void)r, (void)p; }
static void fn_event(const neonflow_event *e, void *p) { (void)e, (void)p; }
static int fn_gate(const neonflow_step *s, void *p) { return (void)s, (void)p, 0; }
static int fn_lock(neonflow_lock_request *q, void *p) { return (void)q, (void)p, 0; }
static int fn_branch(const neonflow_branch_hook_ctx *x, void *p) { return (void)x, (void)p, 0; }
static int fn_progress(const neonflow_operation *o, void *p) { return (void)o, (void)p, 0; }

/* Every setter behind one shape: set(opts, with_fn, payload, destroy). */
typedef struct setter {
    const char *name;
    void *(*make)(void);
    void (*drop)(void *);
    int (*set)(void *o, int with_fn, void *payload, neonflow_destroy_fn d);
} setter;

static void *make_client_opts(void)
{
    neonflow_client_options *o = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    return o;
}
static void drop_client_opts(void *o) { neonflow_client_options_free(o); }
static void *make_run_opts(void)
{
    neonflow_run_options *o = NULL;
    assert_int_equal(neonflow_run_options_new(&o), NEONFLOW_OK);
    return o;
}
static void drop_run_opts(void *o) { neonflow_run_options_free(o); }
static void *make_promote_opts(void)
{
    neonflow_promote_options *o = NULL;
    assert_int_equal(neonflow_promote_options_new(&o), NEONFLOW_OK);
    return o;
}
static void drop_promote_opts(void *o) { neonflow_promote_options_free(o); }
static void *make_await_opts(void)
{
    neonflow_await_options *o = NULL;
    assert_int_equal(neonflow_await_options_new(&o), NEONFLOW_OK);
    return o;
}
static void drop_await_opts(void *o) { neonflow_await_options_free(o); }

#define SETTER(fname, otype, fnvalue)                                                              \
    static int set_##fname(void *o, int with_fn, void *payload, neonflow_destroy_fn d)             \
    {                                                                                              \
        return neonflow_##fname((otype *)o, with_fn ? fnvalue : NULL, payload, d);                 \
    }
SETTER(client_options_set_log_hook, neonflow_client_options, fn_log)
SETTER(client_options_set_trace_hook, neonflow_client_options, fn_trace)
SETTER(run_options_set_event_hook, neonflow_run_options, fn_event)
SETTER(run_options_set_gate_hook, neonflow_run_options, fn_gate)
SETTER(run_options_set_lock_hook, neonflow_run_options, fn_lock)
SETTER(promote_options_set_verify_hook, neonflow_promote_options, fn_branch)
SETTER(promote_options_set_after_switch_hook, neonflow_promote_options, fn_branch)
SETTER(await_options_set_progress_hook, neonflow_await_options, fn_progress)

static const setter setters[] = {
    {"client log", make_client_opts, drop_client_opts, set_client_options_set_log_hook},
    {"client trace", make_client_opts, drop_client_opts, set_client_options_set_trace_hook},
    {"run event", make_run_opts, drop_run_opts, set_run_options_set_event_hook},
    {"run gate", make_run_opts, drop_run_opts, set_run_options_set_gate_hook},
    {"run lock", make_run_opts, drop_run_opts, set_run_options_set_lock_hook},
    {"promote verify", make_promote_opts, drop_promote_opts, set_promote_options_set_verify_hook},
    {"promote after-switch", make_promote_opts, drop_promote_opts,
     set_promote_options_set_after_switch_hook},
    {"await progress", make_await_opts, drop_await_opts, set_await_options_set_progress_hook},
};
#define NSETTERS (sizeof(setters) / sizeof(setters[0]))

static void expect_destroyed(const setter *s, const char *path, const counted *c, int n)
{
    if (c->destroyed != n)
        fail_msg("%s, %s: destroy ran %d times, expected %d", s->name, path, c->destroyed, n);
}

static void test_destroy_when_the_setter_fails(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSETTERS; i++) {
        const setter *s = &setters[i];
        counted a = {0}, b = {0};
        /* bad options object, with and without a function */
        assert_int_equal(s->set(NULL, 1, &a, count_destroy), NEONFLOW_EINVAL);
        expect_destroyed(s, "NULL options", &a, 1);
        assert_int_equal(s->set(NULL, 0, &b, count_destroy), NEONFLOW_EINVAL);
        expect_destroyed(s, "NULL options and fn NULL", &b, 1);
        /* no destroy: nothing to call, nothing crashes */
        assert_int_equal(s->set(NULL, 1, &a, NULL), NEONFLOW_EINVAL);
    }
}

static void test_destroy_when_fn_is_null(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSETTERS; i++) {
        const setter *s = &setters[i];
        void *o = s->make();
        counted a = {0}, b = {0};
        assert_int_equal(s->set(o, 1, &a, count_destroy), NEONFLOW_OK);
        /* removing: the old payload and the one handed along both go at once */
        assert_int_equal(s->set(o, 0, &b, count_destroy), NEONFLOW_OK);
        expect_destroyed(s, "removed", &a, 1);
        expect_destroyed(s, "handed with fn NULL", &b, 1);
        s->drop(o);
        expect_destroyed(s, "removed, then freed", &a, 1);
        expect_destroyed(s, "handed with fn NULL, then freed", &b, 1);
    }
}

static void test_destroy_when_replaced_and_freed(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSETTERS; i++) {
        const setter *s = &setters[i];
        void *o = s->make();
        counted a = {0}, b = {0};
        assert_int_equal(s->set(o, 1, &a, count_destroy), NEONFLOW_OK);
        expect_destroyed(s, "set", &a, 0);
        assert_int_equal(s->set(o, 1, &b, count_destroy), NEONFLOW_OK);
        expect_destroyed(s, "replaced", &a, 1);
        expect_destroyed(s, "replacing", &b, 0);
        s->drop(o);
        expect_destroyed(s, "replaced, then freed", &a, 1);
        expect_destroyed(s, "freed", &b, 1);
        s->drop(NULL);
    }
}

static void test_destroy_when_out_of_memory(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSETTERS; i++) {
        const setter *s = &setters[i];
        void *o = s->make();
        counted a = {0}, b = {0};
        assert_int_equal(s->set(o, 1, &a, count_destroy), NEONFLOW_OK);
        neonflow__alloc_fail_after(0);
        int rc = s->set(o, 1, &b, count_destroy);
        neonflow__alloc_fail_after(-1);
        assert_int_equal(rc, NEONFLOW_ENOMEM);
        expect_destroyed(s, "out of memory", &b, 1);
        s->drop(o);
        expect_destroyed(s, "out of memory: the earlier hook", &a, 1);
        expect_destroyed(s, "out of memory, then freed", &b, 1);
    }
}

/* The last holder of a client hook is the client: destroy runs on the thread
 * that frees it, once, after the options went first. */
static void *free_client(void *arg)
{
    neonflow_client_free(arg);
    return NULL;
}

static void test_destroy_on_the_thread_freeing_the_last_holder(void **state)
{
    (void)state;
    counted lg = {0}, tr = {0};
    neonflow_client_options *o = make_client_opts();
    assert_int_equal(neonflow_client_options_set_api_key(o, KEY), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(o, "http://127.0.0.1:1/api/v2"),
                     NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_hook(o, fn_log, &lg, count_destroy),
                     NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_trace_hook(o, fn_trace, &tr, count_destroy),
                     NEONFLOW_OK);
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    assert_int_equal(lg.destroyed + tr.destroyed, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, free_client, c), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(lg.destroyed, 1);
    assert_int_equal(tr.destroyed, 1);
    assert_true(pthread_equal(lg.on, th));
    assert_true(pthread_equal(tr.on, th));
}

/* ---- the err rule ------------------------------------------------------------- */

/* A real error object, as a caller would hold one. */
static neonflow_error *some_error(void)
{
    neonflow_error *e = NULL;
    assert_int_equal(neonflow_client_new(NULL, NULL, &e), NEONFLOW_EINVAL);
    assert_non_null(e);
    return e;
}

static void test_err_set_on_entry_is_einval(void **state)
{
    (void)state;
    uint16_t port;
    int fd = listen_socket(&port, 0); /* refused: any request would fail with ECONNECT */
    neonflow_client *c = make_client(port, NULL, 0, 1);
    neonflow_error *stale = some_error();
    const char *msg = neonflow_error_message(stale);
    neonflow_error *err = stale;

    /* an API call: nothing sent, *err and *out untouched */
    neonflow_branch *b = (neonflow_branch *)&err; /* a sentinel, never dereferenced */
    assert_int_equal(neonflow_branch_get(&b, c, "p-1", "br-1", NULL, &err), NEONFLOW_EINVAL);
    assert_ptr_equal(b, (neonflow_branch *)&err);
    assert_ptr_equal(err, stale);
    assert_ptr_equal(neonflow_error_message(err), msg);
    assert_int_equal(tracelen, 0);
    assert_string_equal(logbuf, "");

    /* a workflow */
    neonflow_run_options *ro = make_run_opts();
    assert_int_equal(neonflow_run_options_set_project_id(ro, "p-1"), NEONFLOW_OK);
    neonflow_report *r = NULL;
    assert_int_equal(neonflow_promote(&r, c, ro, NULL, &err), NEONFLOW_EINVAL);
    assert_null(r);
    assert_ptr_equal(err, stale);
    assert_int_equal(tracelen, 0);
    neonflow_run_options_free(ro);

    /* an await, a list, the report serializer */
    neonflow_await_result *ar = NULL;
    assert_int_equal(neonflow_operation_ids_await(&ar, c, "p-1", (const char *const[]){"op-1"}, 1, NULL, NULL, &err),
                     NEONFLOW_EINVAL);
    assert_null(ar);
    neonflow_branch_list *bl = NULL;
    assert_int_equal(neonflow_branches_list(&bl, c, "p-1", NULL, NULL, &err), NEONFLOW_EINVAL);
    assert_null(bl);
    char *json = NULL;
    assert_int_equal(neonflow_report_to_json(&json, NULL, 0, &err), NEONFLOW_EINVAL);
    assert_ptr_equal(err, stale);
    assert_int_equal(tracelen, 0);

    /* client_new: no client made */
    neonflow_client_options *o = make_client_opts();
    assert_int_equal(neonflow_client_options_set_api_key(o, KEY), NEONFLOW_OK);
    neonflow_client *c2 = NULL;
    assert_int_equal(neonflow_client_new(&c2, o, &err), NEONFLOW_EINVAL);
    assert_null(c2);
    assert_ptr_equal(err, stale);
    neonflow_client_options_free(o);

    /* once freed and reset, the same call reports its own failure */
    neonflow_error_free(err);
    err = NULL;
    assert_int_equal(neonflow_branch_get(&b, c, "p-1", "br-1", NULL, &err), NEONFLOW_ECONNECT);
    assert_int_equal(neonflow_error_code(err), NEONFLOW_ECONNECT);
    assert_null(b);
    neonflow_error_free(err);
    /* err NULL: no details, the call still runs */
    assert_int_equal(neonflow_branch_get(&b, c, "p-1", "br-1", NULL, NULL), NEONFLOW_ECONNECT);
    neonflow_client_free(c);
    close(fd);
}

/* ---- log and trace records ------------------------------------------------------ */

typedef struct seen_records {
    int logs, traces, with_status;
    char log_method[8], log_route[128], log_rid[80], log_run[64];
    int32_t log_status;
    char trace_method[8], trace_route[128], trace_rid[80], trace_run[64];
    int32_t trace_status;
} seen_records;

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "(null)");
}

static void rec_log(const neonflow_log_record *r, void *payload)
{
    seen_records *s = payload;
    if (neonflow_log_record_http_status(r) == 0)
        return; /* keep the line about the answer */
    s->logs++;
    copy(s->log_method, sizeof(s->log_method), neonflow_log_record_method(r));
    copy(s->log_route, sizeof(s->log_route), neonflow_log_record_route(r));
    copy(s->log_rid, sizeof(s->log_rid), neonflow_log_record_request_id(r));
    copy(s->log_run, sizeof(s->log_run), neonflow_log_record_run_id(r));
    s->log_status = neonflow_log_record_http_status(r);
    assert_null(strstr(neonflow_log_record_message(r), KEY));
}

static void rec_trace(const neonflow_trace_record *r, void *payload)
{
    seen_records *s = payload;
    s->traces++;
    assert_null(
        memmem(neonflow_trace_record_data(r), neonflow_trace_record_data_len(r), KEY, strlen(KEY)));
    copy(s->trace_method, sizeof(s->trace_method), neonflow_trace_record_method(r));
    copy(s->trace_route, sizeof(s->trace_route), neonflow_trace_record_route(r));
    copy(s->trace_rid, sizeof(s->trace_rid), neonflow_trace_record_request_id(r));
    copy(s->trace_run, sizeof(s->trace_run), neonflow_trace_record_run_id(r));
    if (neonflow_trace_record_kind(r) == NEONFLOW_TRACE_DATA_IN) {
        s->with_status++;
        s->trace_status = neonflow_trace_record_http_status(r);
    }
}

static void test_records_carry_the_request(void **state)
{
    (void)state;
    const char *body = "{\"code\":\"\",\"message\":\"no such branch\"}";
    step steps[] = {{mk("404 Not Found", "Content-Type: application/json\r\n", body)}};
    responder rs;
    responder_start(&rs, steps, 1);
    seen_records s;
    memset(&s, 0, sizeof(s));
    neonflow_client_options *o = make_client_opts();
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v2", (unsigned)rs.port);
    assert_int_equal(neonflow_client_options_set_api_key(o, KEY), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(o, url), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_level(o, NEONFLOW_LOG_DEBUG), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_hook(o, rec_log, &s, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_trace_hook(o, rec_trace, &s, NULL), NEONFLOW_OK);
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);

    /* the run id a workflow puts in its calls' context */
    neonflow__call_ctx ctx = {.run_id = "run-42", .request_id = "req-fixed-1"};
    neonflow__request req = {"GET", "/projects/p-1/branches/br-1",
                             "/projects/{project_id}/branches/{branch_id}", NULL};
    neonflow__response resp;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow__http_call(c, &ctx, &req, &resp, &err), NEONFLOW_ENOTFOUND);
    neonflow_error_free(err);
    neonflow__response_clear(&resp);
    responder_stop(&rs);

    assert_true(s.logs >= 1);
    assert_string_equal(s.log_method, "GET");
    assert_string_equal(s.log_route, "/projects/{project_id}/branches/{branch_id}");
    assert_string_equal(s.log_rid, "req-fixed-1");
    assert_string_equal(s.log_run, "run-42");
    assert_int_equal(s.log_status, 404);
    assert_true(s.traces > 0);
    assert_string_equal(s.trace_method, "GET");
    assert_string_equal(s.trace_route, "/projects/{project_id}/branches/{branch_id}");
    assert_string_equal(s.trace_rid, "req-fixed-1");
    assert_string_equal(s.trace_run, "run-42");
    assert_true(s.with_status > 0);
    assert_int_equal(s.trace_status, 404);

    /* the getters on NULL: documented neutral values */
    assert_int_equal(neonflow_log_record_level(NULL), NEONFLOW_LOG_ERROR);
    assert_string_equal(neonflow_log_record_message(NULL), "");
    assert_null(neonflow_log_record_run_id(NULL));
    assert_int_equal(neonflow_trace_record_data_len(NULL), 0);
    assert_null(neonflow_trace_record_route(NULL));
    neonflow_client_free(c);
    mk_free_all();
}

/* The log level is a setter of its own; the default is NEONFLOW_LOG_INFO. */
static void test_log_level_setter(void **state)
{
    (void)state;
    neonflow_client_options *o = make_client_opts();
    assert_int_equal(neonflow_client_options_set_log_level(o, NEONFLOW_LOG_ERROR), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_level(o, NEONFLOW_LOG_DEBUG + 1),
                     NEONFLOW_EINVAL);
    assert_int_equal(neonflow_client_options_set_log_level(NULL, NEONFLOW_LOG_INFO),
                     NEONFLOW_EINVAL);
    neonflow_client_options_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_destroy_when_the_setter_fails),
        cmocka_unit_test(test_destroy_when_fn_is_null),
        cmocka_unit_test(test_destroy_when_replaced_and_freed),
        cmocka_unit_test(test_destroy_when_out_of_memory),
        cmocka_unit_test(test_destroy_on_the_thread_freeing_the_last_holder),
        cmocka_unit_test(test_err_set_on_entry_is_einval),
        cmocka_unit_test(test_records_carry_the_request),
        cmocka_unit_test(test_log_level_setter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
