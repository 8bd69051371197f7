/* The workflow on real PostgreSQL, through the public API: setup, a migration
 * on dev, promote. An application thread queries production's connection
 * string in a loop through the promotion: it may only see dropped
 * connections (never an SQL error once connected), and after the promotion
 * the same connection string shows the new schema and dev's data. */
#include "pg_test_common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "neonflow/neonflow.h"

#define P "proj-pg"

typedef struct app {
    char uri[512];
    atomic_int stop, drops, sql_errors, ok_queries, new_schema_seen;
    char last_error[512];
    int64_t longest_gap_ms;
} app;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The application: one connection, reconnecting whenever it drops. */
static void *app_main(void *arg)
{
    app *a = arg;
    PGconn *c = NULL;
    int64_t last_ok = now_ms();
    while (!atomic_load(&a->stop)) {
        if (!c || PQstatus(c) != CONNECTION_OK) {
            PQfinish(c);
            c = PQconnectdb(a->uri);
            if (PQstatus(c) != CONNECTION_OK) { /* refused, starting up, shutting down */
                snprintf(a->last_error, sizeof(a->last_error), "%s", PQerrorMessage(c));
                usleep(2000);
                continue;
            }
        }
        PGresult *r = PQexec(c, "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM "
                                "information_schema.columns WHERE table_name = 'customers' AND column_name = "
                                "'email')) FROM customers");
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            int64_t t = now_ms();
            if (t - last_ok > a->longest_gap_ms)
                a->longest_gap_ms = t - last_ok;
            last_ok = t;
            atomic_fetch_add(&a->ok_queries, 1);
            if (strcmp(PQgetvalue(r, 0, 1), "0") != 0)
                atomic_store(&a->new_schema_seen, 1);
            else if (atomic_load(&a->new_schema_seen)) /* back to the old schema: wrong */
                atomic_fetch_add(&a->sql_errors, 1);
        } else if (PQstatus(c) != CONNECTION_OK) {
            atomic_fetch_add(&a->drops, 1); /* terminated by the server's shutdown */
        } else {
            snprintf(a->last_error, sizeof(a->last_error), "%s", PQerrorMessage(c));
            atomic_fetch_add(&a->sql_errors, 1);
        }
        PQclear(r);
        usleep(1000);
    }
    PQfinish(c);
    return NULL;
}

static neonflow_client *client_of(emu_server *s)
{
    neonflow_client_options *co = NULL;
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_options_new(&co), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(co, emu_base_url(s)), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(co, "emulator-key"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_new(&c, co, NULL), NEONFLOW_OK);
    neonflow_client_options_free(co);
    return c;
}

/* The endpoint of the branch named `name`. */
static void endpoint_of_branch(emu_server *s, const char *name, char *ep, size_t len)
{
    json_t *p = pg_project(s, P), *x;
    size_t i;
    const char *bid = NULL;
    ep[0] = '\0';
    json_array_foreach(json_object_get(p, "branches"), i, x) {
        if (strcmp(json_string_value(json_object_get(x, "name")), name) == 0)
            bid = json_string_value(json_object_get(x, "id"));
    }
    assert_non_null(bid);
    json_array_foreach(json_object_get(p, "endpoints"), i, x) {
        if (strcmp(json_string_value(json_object_get(x, "branch_id")), bid) == 0)
            snprintf(ep, len, "%s", json_string_value(json_object_get(x, "id")));
    }
    json_decref(p);
    assert_string_not_equal(ep, "");
}

static void test_promote_with_application(void **state)
{
    (void)state;
    emu_server *s = pg_emulator(NULL, NULL);
    char prod[64], prod_ep[64], dev_ep[64], dev_uri[512], v[64];
    assert_int_equal(emu_add_project(s, P, "production", prod, prod_ep), 0);
    app *a = calloc(1, sizeof(*a));
    pg_uri(s, P, prod_ep, a->uri, sizeof(a->uri));
    pg_sql(a->uri, "CREATE TABLE customers(id serial PRIMARY KEY, name text NOT NULL);"
                   "INSERT INTO customers(name) SELECT 'customer ' || g FROM generate_series(1, 100) g");

    neonflow_client *c = client_of(s);
    neonflow_run_options *ro = NULL;
    neonflow_report *r = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_run_options_new(&ro), NEONFLOW_OK);
    assert_int_equal(neonflow_run_options_set_project_id(ro, P), NEONFLOW_OK);
    if (neonflow_setup(&r, c, ro, NULL, &err) != NEONFLOW_OK)
        fail_msg("setup: %s", neonflow_error_message(err));
    neonflow_report_free(r);

    /* the migration, on dev's own endpoint */
    endpoint_of_branch(s, "dev", dev_ep, sizeof(dev_ep));
    pg_uri(s, P, dev_ep, dev_uri, sizeof(dev_uri));
    pg_scalar(dev_uri, "SELECT count(*) FROM customers", v, sizeof(v));
    assert_string_equal(v, "100");
    pg_sql(dev_uri, "ALTER TABLE customers ADD COLUMN email text; UPDATE customers SET email = name || '@example.com'");

    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, app_main, a), 0);
    int64_t deadline = now_ms() + 60000; /* every wait below is bounded by it */
    while (atomic_load(&a->ok_queries) < 20 && now_ms() < deadline) /* the application is up on the old schema */
        usleep(2000);
    assert_true(atomic_load(&a->ok_queries) >= 20);
    assert_int_equal(atomic_load(&a->new_schema_seen), 0);

    if (neonflow_promote(&r, c, ro, NULL, &err) != NEONFLOW_OK)
        fail_msg("promote: %s", neonflow_error_message(err));
    assert_int_equal(neonflow_report_result(r), NEONFLOW_OK);
    neonflow_report_free(r);

    /* the application reconnects by itself */
    deadline = now_ms() + 60000;
    while (!atomic_load(&a->new_schema_seen) && now_ms() < deadline)
        usleep(2000);
    int seen = atomic_load(&a->ok_queries);
    while (atomic_load(&a->ok_queries) < seen + 20 && now_ms() < deadline)
        usleep(2000);
    atomic_store(&a->stop, 1);
    pthread_join(th, NULL);
    if (!atomic_load(&a->new_schema_seen))
        fail_msg("the application never saw the new schema through the same connection string (last error: %s)",
                 a->last_error);

    printf("# application: %d queries, %d dropped connections, longest gap %lld ms\n", atomic_load(&a->ok_queries),
           atomic_load(&a->drops), (long long)a->longest_gap_ms);
    if (atomic_load(&a->sql_errors))
        fail_msg("%d SQL errors on a live connection, last: %s", atomic_load(&a->sql_errors), a->last_error);
    /* the server behind the unchanged connection string was restarted */
    assert_true(atomic_load(&a->drops) >= 1);
    /* the same connection string: dev's schema and data */
    pg_scalar(a->uri, "SELECT count(*) FROM customers WHERE email LIKE '%@example.com'", v, sizeof(v));
    assert_string_equal(v, "100");

    neonflow_run_options_free(ro);
    neonflow_client_free(c);
    free(a);
    emu_stop(s);
}

int main(void)
{
    pg_require();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_promote_with_application),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
