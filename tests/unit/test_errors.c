/* Error registry: names and texts for every code, unknown codes, getters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "neonflow/neonflow.h"

static const int all_codes[] = {
    NEONFLOW_OK, NEONFLOW_EGENERIC, NEONFLOW_EINVAL, NEONFLOW_ENOMEM, NEONFLOW_ERECURSIVE,
    NEONFLOW_ECANCELLED, NEONFLOW_ETIMEOUT, NEONFLOW_EINSECURE, NEONFLOW_ECONFIG,
    NEONFLOW_EUNSUPPORTED, NEONFLOW_ETRANSPORT, NEONFLOW_ERESOLVE, NEONFLOW_ECONNECT,
    NEONFLOW_ETLS, NEONFLOW_ETOOBIG, NEONFLOW_ENETTIMEOUT, NEONFLOW_EAPI, NEONFLOW_EAUTH,
    NEONFLOW_ENOTFOUND, NEONFLOW_ECONFLICT, NEONFLOW_ELOCKED, NEONFLOW_ERATELIMIT,
    NEONFLOW_ESERVER, NEONFLOW_EPROTOCOL, NEONFLOW_EUNCERTAIN, NEONFLOW_EBADREQUEST,
    NEONFLOW_EOPFAILED, NEONFLOW_EOPCANCELLED, NEONFLOW_EOPTIMEOUT, NEONFLOW_EBRANCH_MISSING,
    NEONFLOW_ENOT_ROOT, NEONFLOW_ESAME_BRANCH, NEONFLOW_ENO_ENDPOINT, NEONFLOW_ERESTRICTED,
    NEONFLOW_EBUSY, NEONFLOW_EROOT_LIMIT, NEONFLOW_ESNAPSHOT_LIMIT, NEONFLOW_ENO_ROLLBACK,
    NEONFLOW_ESTATE, NEONFLOW_ERUN_MISMATCH, NEONFLOW_ECALLBACK, NEONFLOW_EHOOK_FAILED,
};

static void test_every_code_has_name_and_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(all_codes) / sizeof(all_codes[0]); i++) {
        const char *name = neonflow_error_name(all_codes[i]);
        const char *text = neonflow_strerror(all_codes[i]);
        assert_non_null(name);
        assert_non_null(text);
        assert_true(strncmp(name, "NEONFLOW_", 9) == 0);
        assert_string_not_equal(name, "NEONFLOW_EUNKNOWN");
        assert_string_not_equal(text, "unknown error code");
        /* names are unique */
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(name, neonflow_error_name(all_codes[j]));
    }
    assert_string_equal(neonflow_error_name(NEONFLOW_EINVAL), "NEONFLOW_EINVAL");
    assert_string_equal(neonflow_error_name(NEONFLOW_EUNCERTAIN), "NEONFLOW_EUNCERTAIN");
}

static void test_unknown_code(void **state)
{
    (void)state;
    const int unknown[] = {1, 42, -99, -12345, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        assert_string_equal(neonflow_strerror(unknown[i]), "unknown error code");
        assert_string_equal(neonflow_error_name(unknown[i]), "NEONFLOW_EUNKNOWN");
    }
}

static void test_getters_accept_null(void **state)
{
    (void)state;
    assert_int_equal(neonflow_error_code(NULL), NEONFLOW_EINVAL);
    assert_string_equal(neonflow_error_message(NULL), "");
    assert_int_equal(neonflow_error_http_status(NULL), 0);
    assert_string_equal(neonflow_error_neon_code(NULL), "");
    assert_string_equal(neonflow_error_request_id(NULL), "");
    assert_string_equal(neonflow_error_method(NULL), "");
    assert_string_equal(neonflow_error_path(NULL), "");
    assert_int_equal(neonflow_error_is_retryable(NULL), 0);
    neonflow_error_free(NULL);
}

static void test_error_set_keeps_first_cause(void **state)
{
    (void)state;
    neonflow_error *e = NULL;
    assert_int_equal(neonflow__error_set(&e, NEONFLOW_EINVAL, "first %d", 1), NEONFLOW_EINVAL);
    assert_int_equal(neonflow__error_set(&e, NEONFLOW_ENOMEM, "second"), NEONFLOW_ENOMEM);
    assert_int_equal(neonflow_error_code(e), NEONFLOW_EINVAL);
    assert_string_equal(neonflow_error_message(e), "first 1");
    assert_string_equal(neonflow_error_method(e), "");
    neonflow__error_prefix(&e, "ctx");
    assert_string_equal(neonflow_error_message(e), "ctx: first 1");
    neonflow__error_replace(&e, NEONFLOW_ESTATE, "replaced");
    assert_int_equal(neonflow_error_code(e), NEONFLOW_ESTATE);
    neonflow_error_free(e);
    /* NULL err is fine: only the code comes back */
    assert_int_equal(neonflow__error_set(NULL, NEONFLOW_ETIMEOUT, "x"), NEONFLOW_ETIMEOUT);
}

static void test_http_error_fields(void **state)
{
    (void)state;
    neonflow_error *e = NULL;
    neonflow__error_set_http(&e, NEONFLOW_ELOCKED, 423, 1, "POST", "/projects/p/branches", "LOCKED",
                             "req-1", "project already has running operations");
    assert_int_equal(neonflow_error_code(e), NEONFLOW_ELOCKED);
    assert_int_equal(neonflow_error_http_status(e), 423);
    assert_int_equal(neonflow_error_is_retryable(e), 1);
    assert_string_equal(neonflow_error_method(e), "POST");
    assert_string_equal(neonflow_error_path(e), "/projects/p/branches");
    assert_string_equal(neonflow_error_neon_code(e), "LOCKED");
    assert_string_equal(neonflow_error_request_id(e), "req-1");
    assert_string_equal(neonflow_error_message(e), "project already has running operations");
    neonflow_error_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_has_name_and_text),
        cmocka_unit_test(test_unknown_code),
        cmocka_unit_test(test_getters_accept_null),
        cmocka_unit_test(test_error_set_keeps_first_cause),
        cmocka_unit_test(test_http_error_fields),
    };
    return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}
