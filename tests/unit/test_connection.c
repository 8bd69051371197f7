/* Roles, databases and connection URIs (connection.h) without the emulator:
 * the parsers (no password is ever read), option validation, the request's
 * path and percent-encoding, the database/role defaults, and that the URI's
 * password reaches no trace record, log line or error message. Against a
 * scripted responder on loopback (http-fakes.h). */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "http-fakes.h"
#include "api/connection-private.h"
#include "core/alloc.h"
#include "neonflow/neonflow.h"

#define PASSWORD "Sup3rSecretPassw0rdXYZ"
#define URI "postgresql://neondb_owner:" PASSWORD "@ep-a-1.us-east-2.aws.neon.tech/neondb?sslmode=require"
#define ONE_DB "{\"databases\":[{\"id\":7,\"branch_id\":\"br-a-1\",\"name\":\"neondb\",\"owner_name\":\"neondb_owner\"," \
               "\"created_at\":\"2022-11-30T18:25:15Z\",\"updated_at\":\"2022-11-30T18:25:15Z\"}]}"
#define TWO_DB "{\"databases\":[{\"id\":7,\"branch_id\":\"br-a-1\",\"name\":\"neondb\",\"owner_name\":\"o1\"}," \
               "{\"id\":8,\"branch_id\":\"br-a-1\",\"name\":\"app\",\"owner_name\":\"o2\"}]}"

static json_t *load(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_ALLOW_NUL, &je);
    assert_non_null(j);
    return j;
}

/* Every trace record of any kind, and every log line. */
static char alltrace[65536];
static size_t alltrace_len;
static void on_all(const neonflow_trace_record *rec, void *payload)
{
    (void)payload;
    size_t len = neonflow_trace_record_data_len(rec);
    if (alltrace_len + len + 1 < sizeof(alltrace)) {
        memcpy(alltrace + alltrace_len, neonflow_trace_record_data(rec), len);
        alltrace_len += len;
        alltrace[alltrace_len++] = '\n';
    }
}

static neonflow_client *client_for(uint16_t port)
{
    neonflow_client *c = make_client(port, NULL, 0, 0);
    neonflow_client_free(c);
    /* make_client's trace hook filters kinds: this one keeps every record. */
    neonflow_client_options *o = NULL;
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v2", (unsigned)port);
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(o, KEY), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(o, url), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_max_retries(o, 0), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_level(o, NEONFLOW_LOG_DEBUG), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_hook(o, on_log, NULL, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_trace_hook(o, on_all, NULL, NULL), NEONFLOW_OK);
    c = NULL;
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    logbuf[0] = '\0';
    alltrace_len = 0;
    return c;
}

static void assert_no_password(const neonflow_error *e)
{
    if (e && strstr(neonflow_error_message(e), "Secret"))
        fail_msg("the error holds the password: %s", neonflow_error_message(e));
    if (memmem(alltrace, alltrace_len, PASSWORD, strlen(PASSWORD)) || memmem(alltrace, alltrace_len, "Secret", 6))
        fail_msg("a trace record holds the password");
    if (strstr(logbuf, "Secret"))
        fail_msg("a log line holds the password: %s", logbuf);
}

/* ---- parsers -------------------------------------------------------------------- */
static void test_roles_parser_never_reads_the_password(void **state)
{
    (void)state;
    json_t *root = load("{\"roles\":[{\"branch_id\":\"br-a-1\",\"name\":\"casey\",\"protected\":true,"
                        "\"password\":\"" PASSWORD "\",\"authentication_method\":\"password\","
                        "\"created_at\":\"2022-11-23T17:42:25Z\",\"updated_at\":\"2022-11-23T17:42:26Z\"},"
                        "{\"branch_id\":\"br-a-1\",\"name\":\"x\",\"future\":1}]}");
    neonflow_role_list *l = NULL;
    assert_int_equal(neonflow__parse_roles_response(root, &l, NULL), NEONFLOW_OK);
    json_decref(root); /* the list keeps what it needs */
    assert_int_equal(neonflow_role_list_count(l), 2);
    const neonflow_role *r = neonflow_role_list_at(l, 0);
    assert_string_equal(neonflow_role_name(r), "casey");
    assert_string_equal(neonflow_role_branch_id(r), "br-a-1");
    assert_int_equal(neonflow_role_is_protected(r), 1);
    assert_string_equal(neonflow_role_authentication_method(r), "password");
    assert_string_equal(neonflow_role_created_at(r), "2022-11-23T17:42:25Z");
    assert_string_equal(neonflow_role_updated_at(r), "2022-11-23T17:42:26Z");
    /* No field of the parsed role points at the password. */
    const char *const *fields = (const char *const *)(const void *)r;
    for (size_t i = 0; i < 5; i++)
        assert_true(!fields[i] || !strstr(fields[i], "Secret"));
    const neonflow_role *x = neonflow_role_list_at(l, 1);
    assert_int_equal(neonflow_role_is_protected(x), 0);
    assert_null(neonflow_role_authentication_method(x));
    assert_null(neonflow_role_list_at(l, 2));
    neonflow_role_list_free(l);
    /* NULL-safety */
    assert_null(neonflow_role_name(NULL));
    assert_int_equal(neonflow_role_is_protected(NULL), 0);
    assert_int_equal(neonflow_role_list_count(NULL), 0);
    assert_null(neonflow_role_list_at(NULL, 0));
    neonflow_role_list_free(NULL);
}

static void test_databases_parser(void **state)
{
    (void)state;
    json_t *root = load(ONE_DB);
    neonflow_database_list *l = NULL;
    assert_int_equal(neonflow__parse_databases_response(root, &l, NULL), NEONFLOW_OK);
    json_decref(root);
    assert_int_equal(neonflow_database_list_count(l), 1);
    const neonflow_database *d = neonflow_database_list_at(l, 0);
    assert_int_equal(neonflow_database_id(d), 7);
    assert_string_equal(neonflow_database_name(d), "neondb");
    assert_string_equal(neonflow_database_owner_name(d), "neondb_owner");
    assert_string_equal(neonflow_database_branch_id(d), "br-a-1");
    assert_string_equal(neonflow_database_created_at(d), "2022-11-30T18:25:15Z");
    assert_string_equal(neonflow_database_updated_at(d), "2022-11-30T18:25:15Z");
    neonflow_database_list_free(l);
    assert_int_equal(neonflow_database_id(NULL), -1);
    assert_null(neonflow_database_owner_name(NULL));
    neonflow_database_list_free(NULL);

    /* A required field missing, a wrong type, no array: EPROTOCOL naming it. */
    const char *bad[] = {"{\"databases\":[{\"id\":1,\"branch_id\":\"b\",\"name\":\"n\"}]}",
                         "{\"databases\":[{\"branch_id\":\"b\",\"name\":7,\"owner_name\":\"o\"}]}",
                         "{\"databases\":{}}", "[]", "{\"roles\":[{\"name\":\"n\"}]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        root = load(bad[i]);
        neonflow_error *e = NULL;
        assert_int_equal(neonflow__parse_databases_response(root, &l, &e), NEONFLOW_EPROTOCOL);
        assert_null(l);
        assert_non_null(e);
        neonflow_error_free(e);
        json_decref(root);
    }
    root = load("{\"roles\":[{\"name\":\"n\"}]}");
    neonflow_role_list *rl = NULL;
    neonflow_error *e = NULL;
    assert_int_equal(neonflow__parse_roles_response(root, &rl, &e), NEONFLOW_EPROTOCOL);
    assert_non_null(strstr(neonflow_error_message(e), "branch_id"));
    neonflow_error_free(e);
    json_decref(root);
}

static void test_uri_parser_keeps_the_body_out_of_errors(void **state)
{
    (void)state;
    json_t *root = load("{\"uri\":\"" URI "\"}");
    char *uri = NULL;
    assert_int_equal(neonflow__parse_uri_response(root, &uri, NULL), NEONFLOW_OK);
    assert_string_equal(uri, URI);
    neonflow_free(uri);
    json_decref(root);
    const char *bad[] = {"{\"uri\":7,\"x\":\"" PASSWORD "\"}", "{\"url\":\"" URI "\"}", "{\"uri\":\"\"}",
                         "{\"uri\":\"a\\u0000" PASSWORD "\"}", "[\"" URI "\"]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        root = load(bad[i]);
        neonflow_error *e = NULL;
        assert_int_equal(neonflow__parse_uri_response(root, &uri, &e), NEONFLOW_EPROTOCOL);
        assert_null(uri);
        assert_null(strstr(neonflow_error_message(e), "Secret"));
        neonflow_error_free(e);
        json_decref(root);
    }
}

/* ---- options and paths ------------------------------------------------------------- */
static void test_options_validate(void **state)
{
    (void)state;
    assert_int_equal(neonflow_connection_uri_options_new(NULL), NEONFLOW_EINVAL);
    neonflow_connection_uri_options *o = NULL;
    assert_int_equal(neonflow_connection_uri_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_connection_uri_options_set_branch_id(o, "br-a-1"), NEONFLOW_OK);
    assert_int_equal(neonflow_connection_uri_options_set_branch_id(o, "BR/../x"), NEONFLOW_EINVAL);
    assert_string_equal(o->branch_id, "br-a-1"); /* the old value is kept */
    assert_int_equal(neonflow_connection_uri_options_set_branch_id(o, ""), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_connection_uri_options_set_branch_id(o, NULL), NEONFLOW_OK);
    assert_null(o->branch_id);
    assert_int_equal(neonflow_connection_uri_options_set_endpoint_id(o, "ep a"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_connection_uri_options_set_endpoint_id(o, "ep-a-1"), NEONFLOW_OK);
    char long_name[80];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_int_equal(neonflow_connection_uri_options_set_database_name(o, long_name), NEONFLOW_EINVAL);
    long_name[63] = '\0';
    assert_int_equal(neonflow_connection_uri_options_set_database_name(o, long_name), NEONFLOW_OK);
    assert_int_equal(neonflow_connection_uri_options_set_database_name(o, ""), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_connection_uri_options_set_database_name(o, "a\nb"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_connection_uri_options_set_role_name(o, "r\x7f"), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_connection_uri_options_set_role_name(o, "Mixed Case & \xc3\xa9"), NEONFLOW_OK);
    assert_int_equal(neonflow_connection_uri_options_set_pooled(o, 5), NEONFLOW_OK);
    assert_int_equal(o->pooled, 1);
    assert_int_equal(neonflow_connection_uri_options_set_pooled(NULL, 1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow_connection_uri_options_set_role_name(NULL, "r"), NEONFLOW_EINVAL);
    neonflow_connection_uri_options_free(o);
    neonflow_connection_uri_options_free(NULL);
}

static void test_path_is_percent_encoded(void **state)
{
    (void)state;
    char *p = neonflow__connection_uri_path("p-1", "br-a-1", NULL, "my db&x=1", "r\xc3\xa9/?#", 1);
    assert_string_equal(p, "/projects/p-1/connection_uri?branch_id=br-a-1&database_name=my%20db%26x%3D1"
                           "&role_name=r%C3%A9%2F%3F%23&pooled=true");
    neonflow__free(p);
    p = neonflow__connection_uri_path("p-1", NULL, "ep-a-1", "d", "r", 0);
    assert_string_equal(p, "/projects/p-1/connection_uri?endpoint_id=ep-a-1&database_name=d&role_name=r");
    neonflow__free(p);
}

static void test_bad_arguments_send_nothing(void **state)
{
    (void)state;
    /* No server: a request would fail with a transport code, not EINVAL. */
    neonflow_client *c = client_for(1);
    char *uri = (char *)"x";
    neonflow_error *e = NULL;
    assert_int_equal(neonflow_connection_uri_get(&uri, c, "P 1", NULL, NULL, &e), NEONFLOW_EINVAL);
    assert_null(uri);
    assert_non_null(strstr(neonflow_error_message(e), "project_id"));
    neonflow_error_free(e);
    e = NULL;
    assert_int_equal(neonflow_connection_uri_get(NULL, c, "p-1", NULL, NULL, &e), NEONFLOW_EINVAL);
    neonflow_error_free(e);
    assert_int_equal(neonflow_connection_uri_get(&uri, NULL, "p-1", NULL, NULL, NULL), NEONFLOW_EINVAL);
    neonflow_role_list *rl = (neonflow_role_list *)1;
    e = NULL;
    assert_int_equal(neonflow_roles_list(&rl, c, "p-1", "br/../x", NULL, &e), NEONFLOW_EINVAL);
    assert_null(rl);
    assert_non_null(strstr(neonflow_error_message(e), "branch_id"));
    neonflow_error_free(e);
    neonflow_database_list *dl = (neonflow_database_list *)1;
    assert_int_equal(neonflow_databases_list(&dl, c, "p-1", NULL, NULL, NULL), NEONFLOW_EINVAL);
    assert_null(dl);
    assert_int_equal(neonflow_databases_list(&dl, c, "", "br-a-1", NULL, NULL), NEONFLOW_EINVAL);
    /* The err rule: an error already in *err fails at once. */
    e = NULL;
    neonflow_roles_list(&rl, c, "P", "b", NULL, &e);
    assert_int_equal(neonflow_roles_list(&rl, c, "p-1", "br-a-1", NULL, &e), NEONFLOW_EINVAL);
    neonflow_error_free(e);
    assert_int_equal(alltrace_len, 0);
    neonflow_client_free(c);
}

/* ---- against a scripted server -------------------------------------------------------- */
static void test_defaults_from_the_only_database(void **state)
{
    (void)state;
    const step steps[] = {
        {mk("200 OK", "Content-Type: application/json\r\n", ONE_DB)},
        {mk("200 OK", "Content-Type: application/json\r\n", "{\"uri\":\"" URI "\"}")},
    };
    responder r;
    responder_start(&r, steps, 2);
    neonflow_client *c = client_for(r.port);
    neonflow_connection_uri_options *o = NULL;
    assert_int_equal(neonflow_connection_uri_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_connection_uri_options_set_branch_id(o, "br-a-1"), NEONFLOW_OK);
    assert_int_equal(neonflow_connection_uri_options_set_pooled(o, 1), NEONFLOW_OK);
    char *uri = NULL;
    neonflow_error *e = NULL;
    int rc = neonflow_connection_uri_get(&uri, c, "p-1", o, NULL, &e);
    if (rc != NEONFLOW_OK)
        fail_msg("%s", neonflow_error_message(e));
    responder_stop(&r);
    assert_string_equal(uri, URI);
    assert_non_null(strstr(r.reqs[0], "GET /api/v2/projects/p-1/branches/br-a-1/databases HTTP/1.1"));
    assert_non_null(strstr(r.reqs[1], "GET /api/v2/projects/p-1/connection_uri?branch_id=br-a-1"
                                      "&database_name=neondb&role_name=neondb_owner&pooled=true HTTP/1.1"));
    /* The response was traced, but withheld; nothing else shows the password. */
    assert_non_null(memmem(alltrace, alltrace_len, "withheld", 8));
    assert_no_password(NULL);
    neonflow_free(uri);
    neonflow_connection_uri_options_free(o);
    neonflow_client_free(c);
    mk_free_all();
}

static void test_several_databases_ask_to_choose(void **state)
{
    (void)state;
    const step steps[] = {{mk("200 OK", "Content-Type: application/json\r\n", TWO_DB)},
                          {mk("200 OK", "Content-Type: application/json\r\n", TWO_DB)},
                          {mk("200 OK", "Content-Type: application/json\r\n", "{\"uri\":\"" URI "\"}")}};
    responder r;
    responder_start(&r, steps, 3);
    neonflow_client *c = client_for(r.port);
    neonflow_connection_uri_options *o = NULL;
    assert_int_equal(neonflow_connection_uri_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_connection_uri_options_set_branch_id(o, "br-a-1"), NEONFLOW_OK);
    char *uri = NULL;
    neonflow_error *e = NULL;
    assert_int_equal(neonflow_connection_uri_get(&uri, c, "p-1", o, NULL, &e), NEONFLOW_EINVAL);
    assert_null(uri);
    assert_non_null(strstr(neonflow_error_message(e), "neondb, app"));
    neonflow_error_free(e);
    /* Naming one: its owner is the role. */
    assert_int_equal(neonflow_connection_uri_options_set_database_name(o, "app"), NEONFLOW_OK);
    e = NULL;
    assert_int_equal(neonflow_connection_uri_get(&uri, c, "p-1", o, NULL, &e), NEONFLOW_OK);
    responder_stop(&r);
    assert_non_null(strstr(r.reqs[2], "connection_uri?branch_id=br-a-1&database_name=app&role_name=o2 "));
    neonflow_free(uri);
    neonflow_connection_uri_options_free(o);
    neonflow_client_free(c);
    mk_free_all();
}

static void test_named_database_and_role_is_one_request(void **state)
{
    (void)state;
    const step steps[] = {{mk("404 Not Found", "Content-Type: application/json\r\n",
                              "{\"code\":\"\",\"message\":\"database not found\"}")},
                          {mk("200 OK", "Content-Type: application/json\r\n", "{\"uri\":\"" URI)}};
    responder r;
    responder_start(&r, steps, 2);
    neonflow_client *c = client_for(r.port);
    neonflow_connection_uri_options *o = NULL;
    assert_int_equal(neonflow_connection_uri_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_connection_uri_options_set_endpoint_id(o, "ep-a-1"), NEONFLOW_OK);
    assert_int_equal(neonflow_connection_uri_options_set_database_name(o, "nope"), NEONFLOW_OK);
    assert_int_equal(neonflow_connection_uri_options_set_role_name(o, "r"), NEONFLOW_OK);
    char *uri = NULL;
    neonflow_error *e = NULL;
    assert_int_equal(neonflow_connection_uri_get(&uri, c, "p-1", o, NULL, &e), NEONFLOW_ENOTFOUND);
    assert_int_equal(neonflow_error_http_status(e), 404);
    neonflow_error_free(e);
    /* A truncated/malformed body: EPROTOCOL without quoting it. */
    e = NULL;
    assert_int_equal(neonflow_connection_uri_get(&uri, c, "p-1", o, NULL, &e), NEONFLOW_EPROTOCOL);
    responder_stop(&r);
    assert_non_null(strstr(r.reqs[0], "GET /api/v2/projects/p-1/connection_uri?endpoint_id=ep-a-1"
                                      "&database_name=nope&role_name=r HTTP/1.1"));
    assert_no_password(e);
    neonflow_error_free(e);
    neonflow_connection_uri_options_free(o);
    neonflow_client_free(c);
    mk_free_all();
}

/* ---- out of memory at every allocation in turn ------------------------------------------ */
/* Answers every connection: the databases list or the URI, by the request's path. */
typedef struct server {
    int fd;
    uint16_t port;
    pthread_t th;
    atomic_int stop;
    const char *dbs, *uri;
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
        const char *answer = strstr(req, "/databases ") ? s->dbs : s->uri;
        size_t len = strlen(answer), off = 0;
        while (off < len) {
            ssize_t w = send(c, answer + off, len - off, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        shutdown(c, SHUT_RDWR);
        close(c);
    }
    return NULL;
}

typedef struct uri_case {
    neonflow_client *c;
    neonflow_connection_uri_options *o;
    char *uri;
    neonflow_error *err;
} uri_case;

static void do_uri(uri_case *u, int *rc)
{
    *rc = neonflow_connection_uri_get(&u->uri, u->c, "p-1", u->o, NULL, &u->err);
}

/* A failure gives ENOMEM, never a shorter URI or a wrong database. */
static void test_out_of_memory(void **state)
{
    (void)state;
    server s;
    memset(&s, 0, sizeof(s));
    s.dbs = mk("200 OK", "Content-Type: application/json\r\n", ONE_DB);
    s.uri = mk("200 OK", "Content-Type: application/json\r\n", "{\"uri\":\"" URI "\"}");
    s.fd = listen_socket(&s.port, 1);
    pthread_create(&s.th, NULL, serve, &s);
    uri_case u = {make_client(s.port, NULL, 0, 0), NULL, NULL, NULL};
    assert_int_equal(neonflow_connection_uri_options_new(&u.o), NEONFLOW_OK);
    assert_int_equal(neonflow_connection_uri_options_set_branch_id(u.o, "br-a-1"), NEONFLOW_OK);
    int rc;
    neonflow__alloc_fail_nth(0);
    do_uri(&u, &rc);
    neonflow__alloc_fail_nth(-1);
    assert_int_equal(rc, NEONFLOW_OK);
    neonflow_free(u.uri);
    long n = 0, enomem = 0;
    for (int l = 0; l < NEONFLOW__LAYERS; l++)
        n += neonflow__alloc_count(l);
    assert_true(n > 0 && n < 5000);
    for (long k = 1; k <= n; k++) {
        neonflow__alloc_fail_nth(k);
        do_uri(&u, &rc);
        neonflow__alloc_fail_nth(-1);
        if (rc == NEONFLOW_OK) {
            assert_string_equal(u.uri, URI);
        } else {
            if (rc != NEONFLOW_ENOMEM)
                fail_msg("k=%ld (layer %d): %s: %s", k, neonflow__alloc_failed_layer(), neonflow_error_name(rc),
                         u.err ? neonflow_error_message(u.err) : "");
            assert_null(u.uri);
            enomem++;
        }
        neonflow_free(u.uri);
        u.uri = NULL;
        neonflow_error_free(u.err);
        u.err = NULL;
    }
    assert_true(enomem > 0);
    neonflow_connection_uri_options_free(u.o);
    neonflow_client_free(u.c);
    atomic_store(&s.stop, 1);
    pthread_join(s.th, NULL);
    close(s.fd);
    mk_free_all();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles_parser_never_reads_the_password),
        cmocka_unit_test(test_databases_parser),
        cmocka_unit_test(test_uri_parser_keeps_the_body_out_of_errors),
        cmocka_unit_test(test_options_validate),
        cmocka_unit_test(test_path_is_percent_encoded),
        cmocka_unit_test(test_bad_arguments_send_nothing),
        cmocka_unit_test(test_defaults_from_the_only_database),
        cmocka_unit_test(test_several_databases_ask_to_choose),
        cmocka_unit_test(test_named_database_and_role_is_one_request),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
