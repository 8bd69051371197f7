/* neonflow_error_retry_after_ms: the Retry-After of the final answer behind
 * a failure, in milliseconds, -1 when that answer had none or there was no
 * answer; it survives the scrubbing every error goes through. Public API
 * against the emulator's status faults. */
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

#define PROJECT "p-retry-after"
#define KEY "retry-after-key-0123456789"

typedef struct fixture {
    emu_server *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.api_key = KEY;
    if (!f || emu_start(&f->s, &cfg) != 0 || emu_add_project(f->s, PROJECT, "main", NULL, NULL) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    emu_stop(f->s);
    free(f);
    return 0;
}

static neonflow_client *client(fixture *f, int32_t retries)
{
    neonflow_client_options *o = NULL;
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(o, KEY), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(o, emu_base_url(f->s)), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_max_retries(o, retries), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_retry_backoff(o, 1, 2), NEONFLOW_OK);
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    return c;
}

static void fault(fixture *f, int status, int retry_after_s, int count)
{
    emu_fault ft;
    emu_fault_init(&ft);
    ft.method = "GET";
    ft.path = "/projects/*/branches";
    ft.kind = EMU_FAULT_STATUS;
    ft.status = status;
    ft.retry_after_s = retry_after_s;
    ft.count = count;
    assert_int_equal(emu_fault_add(f->s, &ft), 0);
}

/* Lists the branches; returns the code, *ra the error's Retry-After. */
static int list(neonflow_client *c, int64_t *ra)
{
    neonflow_branch_list *l = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_branches_list(&l, c, PROJECT, NULL, NULL, &err);
    *ra = rc == NEONFLOW_OK ? -2 : neonflow_error_retry_after_ms(err);
    neonflow_branch_list_free(l);
    neonflow_error_free(err);
    return rc;
}

static void test_429_with_retry_after(void **state)
{
    fixture *f = *state;
    neonflow_client *c = client(f, 0);
    int64_t ra = 0;
    fault(f, 429, 7, 1);
    assert_int_equal(list(c, &ra), NEONFLOW_ERATELIMIT);
    assert_int_equal(ra, 7000);
    /* a 503 without the header: -1 */
    fault(f, 503, -1, 1);
    assert_int_equal(list(c, &ra), NEONFLOW_ESERVER);
    assert_int_equal(ra, -1);
    /* Retry-After: 0 is an answer too */
    fault(f, 429, 0, 1);
    assert_int_equal(list(c, &ra), NEONFLOW_ERATELIMIT);
    assert_int_equal(ra, 0);
    neonflow_client_free(c);
}

/* After retries: the final answer counts, not an earlier one. */
static void test_final_answer_counts(void **state)
{
    fixture *f = *state;
    neonflow_client *c = client(f, 1);
    int64_t ra = 0;
    fault(f, 429, 0, 1);  /* first attempt: waits 0 s, retried */
    fault(f, 503, -1, 1); /* retry: no header */
    assert_int_equal(list(c, &ra), NEONFLOW_ESERVER);
    assert_int_equal(ra, -1);
    emu_faults_clear(f->s);
    fault(f, 503, -1, 1);
    fault(f, 429, 3, 1);
    neonflow_client_free(c);
    c = client(f, 1);
    /* 503 (retried at once), then 429 with 3 s: retries spent, 3000 */
    assert_int_equal(list(c, &ra), NEONFLOW_ERATELIMIT);
    assert_int_equal(ra, 3000);
    neonflow_client_free(c);
}

/* A wait longer than the library takes (5 min) fails at once, and the
 * caller learns how long the server asked for. */
static void test_long_retry_after_is_handed_to_the_caller(void **state)
{
    fixture *f = *state;
    neonflow_client *c = client(f, 6);
    int64_t ra = 0;
    fault(f, 429, 900, 1);
    assert_int_equal(list(c, &ra), NEONFLOW_ERATELIMIT);
    assert_int_equal(ra, 900000);
    assert_int_equal(emu_requests(f->s, "GET", "/projects/*/branches"), 1);
    /* success after all: nothing to read, and a NULL error says -1 */
    assert_int_equal(list(c, &ra), NEONFLOW_OK);
    assert_int_equal(neonflow_error_retry_after_ms(NULL), -1);
    neonflow_client_free(c);
}

/* Errors made without an answer (argument checks, connection refused) have none. */
static void test_no_answer_no_retry_after(void **state)
{
    (void)state;
    neonflow_client_options *o = NULL;
    neonflow_client *c = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_new(&c, o, &err), NEONFLOW_ECONFIG);
    assert_int_equal(neonflow_error_retry_after_ms(err), -1);
    neonflow_error_free(err);
    neonflow_client_options_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_429_with_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_final_answer_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_retry_after_is_handed_to_the_caller, setup, teardown),
        cmocka_unit_test(test_no_answer_no_retry_after),
    };
    return cmocka_run_group_tests_name("retry_after", tests, NULL, NULL);
}
