/* Roles, databases and connection URIs (connection.h) over real HTTP
 * against the in-process emulator: every call's happy path, 404s, bad input
 * rejected before any request, percent-encoded names, the database/role
 * defaults, and that no password reaches a log or trace record or an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/http.h"
#include "test_api_fixture.h"

static char seen[1 << 18];
static size_t seen_len;
static void keep(const char *s, size_t n)
{
    if (seen_len + n + 1 < sizeof(seen)) {
        memcpy(seen + seen_len, s, n);
        seen_len += n;
        seen[seen_len++] = '\n';
    }
}
static void on_trace(const neonflow_trace_record *rec, void *payload)
{
    (void)payload;
    keep(neonflow_trace_record_data(rec), neonflow_trace_record_data_len(rec));
}
static void on_log(const neonflow_log_record *rec, void *payload)
{
    (void)payload;
    keep(neonflow_log_record_message(rec), strlen(neonflow_log_record_message(rec)));
}

/* The fixture's client, but observed: every log line and trace record. */
static int setup(void **state)
{
    if (api_setup(state) != 0)
        return -1;
    api_fixture *f = *state;
    neonflow_client_free(f->c);
    neonflow_client_options *o = NULL;
    if (neonflow_client_options_new(&o) != NEONFLOW_OK ||
        neonflow_client_options_set_api_key(o, "emulator-key") != NEONFLOW_OK ||
        neonflow_client_options_set_base_url(o, emu_base_url(f->s)) != NEONFLOW_OK ||
        neonflow_client_options_set_rate_limit(o, 0, 0) != NEONFLOW_OK ||
        neonflow_client_options_set_log_level(o, NEONFLOW_LOG_DEBUG) != NEONFLOW_OK ||
        neonflow_client_options_set_log_hook(o, on_log, NULL, NULL) != NEONFLOW_OK ||
        neonflow_client_options_set_trace_hook(o, on_trace, NULL, NULL) != NEONFLOW_OK ||
        neonflow_client_new(&f->c, o, NULL) != NEONFLOW_OK)
        return -1;
    neonflow_client_options_free(o);
    seen_len = 0;
    return 0;
}

/* The password of postgresql://role:password@host/... */
static void password_of(const char *uri, char *out, size_t len)
{
    const char *p = strstr(uri, "://");
    assert_non_null(p);
    const char *colon = strchr(p + 3, ':'), *at = strchr(p + 3, '@');
    assert_non_null(colon);
    assert_non_null(at);
    assert_true(colon < at);
    snprintf(out, len, "%.*s", (int)(at - colon - 1), colon + 1);
    assert_true(strlen(out) >= 8);
}

static void assert_not_seen(const char *secret)
{
    if (memmem(seen, seen_len, secret, strlen(secret)))
        fail_msg("a log or trace record holds the password");
}

static char *uri_with(api_fixture *f, const char *branch, const char *endpoint, const char *db, const char *role,
                      int pooled, int want)
{
    neonflow_connection_uri_options *o = NULL;
    assert_int_equal(neonflow_connection_uri_options_new(&o), NEONFLOW_OK);
    if (branch)
        assert_int_equal(neonflow_connection_uri_options_set_branch_id(o, branch), NEONFLOW_OK);
    if (endpoint)
        assert_int_equal(neonflow_connection_uri_options_set_endpoint_id(o, endpoint), NEONFLOW_OK);
    if (db)
        assert_int_equal(neonflow_connection_uri_options_set_database_name(o, db), NEONFLOW_OK);
    if (role)
        assert_int_equal(neonflow_connection_uri_options_set_role_name(o, role), NEONFLOW_OK);
    assert_int_equal(neonflow_connection_uri_options_set_pooled(o, pooled), NEONFLOW_OK);
    char *uri = NULL;
    neonflow_error *e = NULL;
    int rc = neonflow_connection_uri_get(&uri, f->c, PROJECT, o, NULL, &e);
    if (rc != want)
        fail_msg("connection_uri -> %s (want %s): %s", neonflow_error_name(rc), neonflow_error_name(want),
                 neonflow_error_message(e));
    if (e && strstr(neonflow_error_message(e), "postgresql://"))
        fail_msg("the error quotes a URI: %s", neonflow_error_message(e));
    neonflow_error_free(e);
    neonflow_connection_uri_options_free(o);
    return uri;
}

static void endpoint_host_of(api_fixture *f, char *host, size_t len)
{
    neonflow_endpoint *e = NULL;
    CHECK_OK(neonflow_endpoint_get(&e, f->c, PROJECT, f->main_ep, NULL, err));
    snprintf(host, len, "%s", neonflow_endpoint_host(e));
    neonflow_endpoint_free(e);
}

static void test_roles_and_databases(void **state)
{
    api_fixture *f = *state;
    neonflow_role_list *rl = NULL;
    CHECK_OK(neonflow_roles_list(&rl, f->c, PROJECT, f->main_id, NULL, err));
    int owner = 0;
    for (size_t i = 0; i < neonflow_role_list_count(rl); i++) {
        const neonflow_role *r = neonflow_role_list_at(rl, i);
        assert_string_equal(neonflow_role_branch_id(r), f->main_id);
        assert_non_null(neonflow_role_created_at(r));
        if (strcmp(neonflow_role_name(r), "neondb_owner") == 0)
            owner = 1;
    }
    assert_true(owner);
    neonflow_role_list_free(rl);
    neonflow_database_list *dl = NULL;
    CHECK_OK(neonflow_databases_list(&dl, f->c, PROJECT, f->main_id, NULL, err));
    assert_int_equal(neonflow_database_list_count(dl), 1);
    const neonflow_database *d = neonflow_database_list_at(dl, 0);
    assert_string_equal(neonflow_database_name(d), "neondb");
    assert_string_equal(neonflow_database_owner_name(d), "neondb_owner");
    assert_string_equal(neonflow_database_branch_id(d), f->main_id);
    assert_true(neonflow_database_id(d) >= 0);
    neonflow_database_list_free(dl);

    /* 404: no such branch, no such project */
    CHECK_RC(NEONFLOW_ENOTFOUND, neonflow_roles_list(&rl, f->c, PROJECT, "br-does-not-exist", NULL, err));
    assert_null(rl);
    CHECK_RC(NEONFLOW_ENOTFOUND, neonflow_databases_list(&dl, f->c, "p-nope", f->main_id, NULL, err));
    assert_null(dl);
    /* bad IDs: no request at all */
    int64_t before = emu_requests(f->s, NULL, NULL);
    CHECK_RC(NEONFLOW_EINVAL, neonflow_roles_list(&rl, f->c, PROJECT, "br/../../x", NULL, err));
    CHECK_RC(NEONFLOW_EINVAL, neonflow_databases_list(&dl, f->c, "P-1", f->main_id, NULL, err));
    CHECK_RC(NEONFLOW_EINVAL, neonflow_databases_list(&dl, f->c, PROJECT, NULL, NULL, err));
    assert_int_equal(emu_requests(f->s, NULL, NULL), before);
}

static void test_connection_uri_defaults(void **state)
{
    api_fixture *f = *state;
    char host[256], pw[128];
    endpoint_host_of(f, host, sizeof(host));
    /* nothing set: the default branch, its only database and owner */
    char *uri = uri_with(f, NULL, NULL, NULL, NULL, 0, NEONFLOW_OK);
    assert_true(strncmp(uri, "postgresql://neondb_owner:", 26) == 0);
    assert_non_null(strstr(uri, host));
    assert_non_null(strstr(uri, "/neondb"));
    password_of(uri, pw, sizeof(pw));
    neonflow_free(uri);
    /* the branch named: the same URI, with fewer requests */
    int64_t before = emu_requests(f->s, NULL, NULL);
    uri = uri_with(f, f->main_id, NULL, NULL, NULL, 0, NEONFLOW_OK);
    assert_int_equal(emu_requests(f->s, NULL, NULL) - before, 2); /* databases, connection_uri */
    assert_non_null(strstr(uri, pw));
    neonflow_free(uri);
    /* all named: one request */
    before = emu_requests(f->s, NULL, NULL);
    uri = uri_with(f, f->main_id, NULL, "neondb", "neondb_owner", 0, NEONFLOW_OK);
    assert_int_equal(emu_requests(f->s, NULL, NULL) - before, 1);
    neonflow_free(uri);
    /* the endpoint alone: its branch's defaults */
    uri = uri_with(f, NULL, f->main_ep, NULL, NULL, 0, NEONFLOW_OK);
    assert_non_null(strstr(uri, host));
    neonflow_free(uri);
    /* pooled: the -pooler host */
    uri = uri_with(f, f->main_id, NULL, NULL, NULL, 1, NEONFLOW_OK);
    assert_non_null(strstr(uri, "-pooler"));
    assert_null(strstr(uri, host));
    neonflow_free(uri);
    assert_not_seen(pw);
}

static void test_connection_uri_errors(void **state)
{
    api_fixture *f = *state;
    char *uri = uri_with(f, "br-does-not-exist", NULL, NULL, NULL, 0, NEONFLOW_ENOTFOUND);
    assert_null(uri);
    uri = uri_with(f, f->main_id, NULL, "neondb", "no_such_role", 0, NEONFLOW_ENOTFOUND);
    assert_null(uri);
    uri = uri_with(f, f->main_id, NULL, "no_such_db", NULL, 0, NEONFLOW_ENOTFOUND);
    assert_null(uri);
    uri = uri_with(f, NULL, "ep-does-not-exist", NULL, NULL, 0, NEONFLOW_ENOTFOUND);
    assert_null(uri);
    int64_t before = emu_requests(f->s, NULL, NULL);
    char *out = (char *)"x";
    CHECK_RC(NEONFLOW_EINVAL, neonflow_connection_uri_get(&out, f->c, "p 1", NULL, NULL, err));
    assert_null(out);
    CHECK_RC(NEONFLOW_EINVAL, neonflow_connection_uri_get(NULL, f->c, PROJECT, NULL, NULL, err));
    assert_int_equal(emu_requests(f->s, NULL, NULL), before);
}

/* A database whose name needs percent-encoding, and a choice to make. */
static void test_several_databases_and_encoding(void **state)
{
    api_fixture *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "/projects/%s/branches/%s/databases", PROJECT, f->main_id);
    json_t *body = json_pack("{s:{s:s,s:s}}", "database", "name", "app db&x=1/é", "owner_name", "neondb_owner");
    neonflow__request req = {"POST", path, "/projects/{project_id}/branches/{branch_id}/databases", body};
    neonflow__response resp = {0};
    neonflow_error *e = NULL;
    int rc = neonflow__http_call(f->c, NULL, &req, &resp, &e);
    if (rc != NEONFLOW_OK)
        fail_msg("create database: %s", neonflow_error_message(e));
    neonflow__response_clear(&resp);
    json_decref(body);
    /* two databases: the caller must choose, and is told the choices */
    neonflow_connection_uri_options *o = NULL;
    assert_int_equal(neonflow_connection_uri_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_connection_uri_options_set_branch_id(o, f->main_id), NEONFLOW_OK);
    char *uri = NULL;
    e = NULL;
    assert_int_equal(neonflow_connection_uri_get(&uri, f->c, PROJECT, o, NULL, &e), NEONFLOW_EINVAL);
    assert_null(uri);
    assert_non_null(strstr(neonflow_error_message(e), "neondb"));
    assert_non_null(strstr(neonflow_error_message(e), "app db&x=1/"));
    neonflow_error_free(e);
    neonflow_connection_uri_options_free(o);
    /* naming it: the query carries it percent-encoded, the emulator finds it */
    uri = uri_with(f, f->main_id, NULL, "app db&x=1/é", NULL, 0, NEONFLOW_OK);
    assert_true(strncmp(uri, "postgresql://neondb_owner:", 26) == 0);
    assert_int_equal(emu_requests(f->s, "GET", "/projects/*/connection_uri"), 1);
    char pw[128];
    password_of(uri, pw, sizeof(pw));
    neonflow_free(uri);
    assert_not_seen(pw);
}

/* The revealed password is withheld from the trace like the URI. */
static void test_reveal_password_not_traced(void **state)
{
    api_fixture *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "/projects/%s/branches/%s/roles/neondb_owner/reveal_password", PROJECT,
             f->main_id);
    neonflow__request req = {"GET", path,
                             "/projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password", NULL};
    neonflow__response resp = {0};
    assert_int_equal(neonflow__http_call(f->c, NULL, &req, &resp, NULL), NEONFLOW_OK);
    const char *pw = json_string_value(json_object_get(resp.json, "password"));
    assert_non_null(pw);
    assert_true(strlen(pw) >= 8);
    assert_not_seen(pw);
    assert_non_null(memmem(seen, seen_len, "withheld", 8));
    neonflow__response_clear(&resp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roles_and_databases, setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_connection_uri_defaults, setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_connection_uri_errors, setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_several_databases_and_encoding, setup, api_teardown),
        cmocka_unit_test_setup_teardown(test_reveal_password_not_traced, setup, api_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
