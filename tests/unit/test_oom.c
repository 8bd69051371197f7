/* Out-of-memory handling, at every allocation of a short call in turn (the
 * library's own, libcurl's and jansson's, through the allocator seam):
 * a failure gives NEONFLOW_ENOMEM and never a wrong answer — no shortened ID
 * from jansson's lexer, no "malformed response" (EPROTOCOL), no EINVAL for a
 * valid URL, no request body that lost a byte. */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/api-private.h"
#include "core/alloc.h"
#include "core/jsonio.h"
#include "http-fakes.h"

#define BRANCH_ID "br-wispy-meadow-615nltoq"
#define BRANCH_FIELDS                                                                                     \
    "\"project_id\":\"p-1\",\"name\":\"nf/production/candidate/20261201T150000Z/abcd1234\","                 \
    "\"current_state\":\"ready\",\"state_changed_at\":\"2022-11-30T20:09:48Z\",\"creation_source\":\"console\"," \
    "\"protected\":false,\"cpu_used_sec\":1,\"compute_time_seconds\":1,\"active_time_seconds\":1,"              \
    "\"written_data_bytes\":1,\"data_transfer_bytes\":1,\"created_at\":\"2022-11-30T19:09:48Z\","             \
    "\"updated_at\":\"2022-12-01T19:53:05Z\",\"default\":false,\"init_source\":\"parent-data\""
#define BODY "{\"branch\":{\"id\":\"" BRANCH_ID "\"," BRANCH_FIELDS "}}"
#define MAX_POINTS 3000

/* ---- a server that answers every connection with the same answer ---------------------------- */
typedef struct server {
    int fd;
    uint16_t port;
    pthread_t th;
    atomic_int stop;
    const char *answer;
    char last[8192]; /* the last request seen */
    pthread_mutex_t mu;
} server;

static void *serve(void *arg)
{
    server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        char req[8192];
        read_request_within(c, req, sizeof(req), 200);
        pthread_mutex_lock(&s->mu);
        memcpy(s->last, req, sizeof(req));
        pthread_mutex_unlock(&s->mu);
        size_t len = strlen(s->answer), off = 0;
        while (off < len) {
            ssize_t w = send(c, s->answer + off, len - off, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        shutdown(c, SHUT_RDWR);
        close(c);
    }
    return NULL;
}

static void server_start(server *s, const char *answer)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    s->answer = answer;
    s->fd = listen_socket(&s->port, 1);
    pthread_create(&s->th, NULL, serve, s);
}

static void server_stop(server *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
}

static void take_last(server *s, char *out, size_t len)
{
    pthread_mutex_lock(&s->mu);
    snprintf(out, len, "%s", s->last);
    s->last[0] = '\0';
    pthread_mutex_unlock(&s->mu);
}

static neonflow_client *client_for(const server *s)
{
    neonflow_client *c = make_client(s->port, NULL, 0, 0);
    return c;
}

/* Allocations made by fn(arg) when nothing fails. */
static long count_points(void (*fn)(void *, int *), void *arg)
{
    int rc;
    neonflow__alloc_fail_nth(0);
    fn(arg, &rc);
    neonflow__alloc_fail_nth(-1);
    if (rc != NEONFLOW_OK)
        fail_msg("the call fails without failures: %s\n%s", neonflow_error_name(rc), logbuf);
    long n = 0;
    for (int l = 0; l < NEONFLOW__LAYERS; l++)
        n += neonflow__alloc_count(l);
    assert_true(n > 0 && n < MAX_POINTS);
    return n;
}

/* ---- jansson: a parse that lost an allocation is never a shorter document ------------------------ */
static void test_json_wrappers(void **state)
{
    (void)state;
    neonflow__alloc_install();
    const char *doc = BODY;
    long enomem = 0;
    for (long k = 1; k < 200; k++) {
        int oom = 0;
        json_error_t je;
        neonflow__alloc_fail_nth(k);
        json_t *j = neonflow__json_loadb(doc, strlen(doc), 0, &je, &oom);
        neonflow__alloc_fail_nth(-1);
        if (!j) {
            assert_true(oom); /* the text is fine: only memory failed */
            assert_string_equal(je.text, "out of memory");
            enomem++;
            continue;
        }
        assert_false(oom);
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_string_equal(s, doc);
        free(s);
        json_decref(j);
    }
    assert_true(enomem > 0);
    /* a malformed text is not out of memory */
    int oom = 1;
    assert_null(neonflow__json_loadb("{\"a\":", 5, 0, NULL, &oom));
    assert_false(oom);

    json_t *j = json_loads(doc, 0, NULL);
    enomem = 0;
    for (long k = 1; k < 200; k++) {
        int oom2 = 0;
        neonflow__alloc_fail_nth(k);
        char *s = neonflow__json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER, &oom2);
        neonflow__alloc_fail_nth(-1);
        if (!s) {
            assert_true(oom2);
            enomem++;
            continue;
        }
        assert_string_equal(s, doc);
        neonflow__json_free(s);
    }
    assert_true(enomem > 0);
    json_decref(j);
}

/* ---- a GET whose answer is parsed under failure ---------------------------------------------------- */
typedef struct get_case {
    server *s;
    neonflow_client *c;
    char id[128];
    neonflow_error *err;
} get_case;

static void do_branch_get(void *arg, int *rc)
{
    get_case *g = arg;
    neonflow_branch *b = NULL;
    g->id[0] = '\0';
    *rc = neonflow_branch_get(&b, g->c, "p-1", BRANCH_ID, NULL, &g->err);
    if (*rc == NEONFLOW_OK)
        snprintf(g->id, sizeof(g->id), "%s", neonflow_branch_id(b));
    neonflow_branch_free(b);
}

static void test_parse_failure_is_enomem(void **state)
{
    (void)state;
    server s;
    server_start(&s, mk("200 OK", "Content-Type: application/json\r\n", BODY));
    get_case g = {&s, NULL, "", NULL};
    g.c = client_for(&s);
    long n = count_points(do_branch_get, &g);
    long enomem = 0, ok = 0;
    for (long k = 1; k <= n; k++) {
        int rc;
        neonflow__alloc_fail_nth(k);
        do_branch_get(&g, &rc);
        neonflow__alloc_fail_nth(-1);
        if (rc == NEONFLOW_OK) {
            ok++;
            assert_string_equal(g.id, BRANCH_ID); /* never "br-wispy-meado-615nltoq" */
        } else {
            if (rc != NEONFLOW_ENOMEM)
                fail_msg("k=%ld (layer %d): %s: %s", k, neonflow__alloc_failed_layer(), neonflow_error_name(rc),
                         g.err ? neonflow_error_message(g.err) : "");
            enomem++;
        }
        if (g.err)
            assert_int_equal(neonflow_error_code(g.err), rc);
        neonflow_error_free(g.err);
        g.err = NULL;
    }
    assert_true(enomem > 0);
    neonflow_client_free(g.c);
    server_stop(&s);
    mk_free_all();
}

/* ---- a POST whose body is dumped under failure --------------------------------------------------------- */
typedef struct post_case {
    server *s;
    neonflow_client *c;
    neonflow_error *err;
} post_case;

static void do_branch_create(void *arg, int *rc)
{
    post_case *p = arg;
    neonflow_branch_create_options *o = NULL;
    neonflow_branch_result *res = NULL;
    *rc = neonflow_branch_create_options_new(&o);
    if (*rc == NEONFLOW_OK)
        *rc = neonflow_branch_create_options_set_parent_id(o, BRANCH_ID);
    if (*rc == NEONFLOW_OK)
        *rc = neonflow_branch_create_options_set_name(o, "nf/production/preview/20261201T150000Z/abcd1234");
    if (*rc == NEONFLOW_OK)
        *rc = neonflow_branch_create(&res, p->c, "p-1", o, NULL, &p->err);
    neonflow_branch_result_free(res);
    neonflow_branch_create_options_free(o);
}

static void test_request_body_never_shortened(void **state)
{
    (void)state;
    server s;
    server_start(&s, mk("201 Created", "Content-Type: application/json\r\n",
                        "{\"branch\":{\"id\":\"br-new-1\"," BRANCH_FIELDS "},\"operations\":[]}"));
    post_case p = {&s, NULL, NULL};
    p.c = client_for(&s);
    long n = count_points(do_branch_create, &p);
    const char *want = "{\"branch\":{\"parent_id\":\"" BRANCH_ID
                       "\",\"name\":\"nf/production/preview/20261201T150000Z/abcd1234\"}}";
    char last[8192];
    take_last(&s, last, sizeof(last));
    assert_non_null(strstr(last, want));
    for (long k = 1; k <= n; k++) {
        int rc;
        neonflow__alloc_fail_nth(k);
        do_branch_create(&p, &rc);
        neonflow__alloc_fail_nth(-1);
        /* a POST whose answer was lost to the failure is uncertain, never malformed */
        if (rc != NEONFLOW_OK && rc != NEONFLOW_ENOMEM && rc != NEONFLOW_EUNCERTAIN)
            fail_msg("k=%ld (layer %d): %s: %s", k, neonflow__alloc_failed_layer(), neonflow_error_name(rc),
                     p.err ? neonflow_error_message(p.err) : "");
        neonflow_error_free(p.err);
        p.err = NULL;
        take_last(&s, last, sizeof(last));
        const char *b = strstr(last, "\r\n\r\n");
        if (b && b[4]) /* whatever reached the server is the whole body */
            assert_string_equal(b + 4, want);
    }
    neonflow_client_free(p.c);
    server_stop(&s);
    mk_free_all();
}

/* ---- a DELETE under failure is a DELETE or nothing ------------------------------------------------------- */
static void do_branch_delete(void *arg, int *rc)
{
    post_case *p = arg;
    *rc = neonflow_branch_delete(NULL, p->c, "p-1", BRANCH_ID, NULL, NULL, &p->err);
}

/* curl_easy_setopt(CURLOPT_CUSTOMREQUEST) copies the method; when that copy
 * failed the request went out as a GET and its answer was taken for the
 * DELETE's. Whatever reaches the server must be the DELETE asked for. */
static void test_method_never_altered(void **state)
{
    (void)state;
    server s;
    server_start(&s, mk("200 OK", "Content-Type: application/json\r\n",
                        "{\"branch\":{\"id\":\"" BRANCH_ID "\"," BRANCH_FIELDS "},\"operations\":[]}"));
    post_case p = {&s, NULL, NULL};
    p.c = client_for(&s);
    long n = count_points(do_branch_delete, &p);
    char last[8192];
    take_last(&s, last, sizeof(last));
    assert_true(strncmp(last, "DELETE /", 8) == 0);
    for (long k = 1; k <= n; k++) {
        int rc;
        neonflow__alloc_fail_nth(k);
        do_branch_delete(&p, &rc);
        neonflow__alloc_fail_nth(-1);
        if (rc != NEONFLOW_OK && rc != NEONFLOW_ENOMEM && rc != NEONFLOW_EUNCERTAIN)
            fail_msg("k=%ld (layer %d): %s: %s", k, neonflow__alloc_failed_layer(), neonflow_error_name(rc),
                     p.err ? neonflow_error_message(p.err) : "");
        neonflow_error_free(p.err);
        p.err = NULL;
        take_last(&s, last, sizeof(last));
        if (last[0] && strncmp(last, "DELETE /", 8) != 0)
            fail_msg("k=%ld (layer %d): the server got \"%.40s\" instead of a DELETE", k,
                     neonflow__alloc_failed_layer(), last);
    }
    neonflow_client_free(p.c);
    server_stop(&s);
    mk_free_all();
}

/* ---- client creation ---------------------------------------------------------------------------------- */
static void do_client_new(void *arg, int *rc)
{
    (void)arg;
    neonflow_client_options *o = NULL;
    neonflow_client *c = NULL;
    neonflow_error *err = NULL;
    *rc = neonflow_client_options_new(&o);
    if (*rc == NEONFLOW_OK)
        *rc = neonflow_client_options_set_api_key(o, KEY);
    if (*rc == NEONFLOW_OK)
        *rc = neonflow_client_options_set_base_url(o, "http://127.0.0.1:9/api/v2");
    if (*rc == NEONFLOW_OK)
        *rc = neonflow_client_new(&c, o, &err);
    if (err)
        assert_int_equal(neonflow_error_code(err), *rc);
    neonflow_error_free(err);
    neonflow_client_free(c);
    neonflow_client_options_free(o);
}

static void test_client_new(void **state)
{
    (void)state;
    long n = count_points(do_client_new, NULL);
    for (long k = 1; k <= n; k++) {
        int rc;
        neonflow__alloc_fail_nth(k);
        do_client_new(NULL, &rc);
        neonflow__alloc_fail_nth(-1);
        if (rc != NEONFLOW_OK && rc != NEONFLOW_ENOMEM) /* a valid URL is never EINVAL, a share never EGENERIC */
            fail_msg("k=%ld (layer %d): %s", k, neonflow__alloc_failed_layer(), neonflow_error_name(rc));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_wrappers),
        cmocka_unit_test(test_parse_failure_is_enomem),
        cmocka_unit_test(test_request_body_never_shortened),
        cmocka_unit_test(test_method_never_altered),
        cmocka_unit_test(test_client_new),
    };
    /* the library must install its allocator before anything else initialises curl */
    if (neonflow__alloc_install() != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
