/* Version macros and run-time version agree. Built twice: against the
 * internal library and against the shared library a consumer loads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "neonflow/neonflow.h"

static void test_runtime_matches_macros(void **state)
{
    (void)state;
    int32_t ma = -1, mi = -1, pa = -1;
    neonflow_version(&ma, &mi, &pa);
    assert_int_equal(ma, NEONFLOW_VERSION_MAJOR);
    assert_int_equal(mi, NEONFLOW_VERSION_MINOR);
    assert_int_equal(pa, NEONFLOW_VERSION_PATCH);
    char buf[32];
    snprintf(buf, sizeof(buf), "%d.%d.%d", (int)ma, (int)mi, (int)pa);
    assert_string_equal(buf, neonflow_version_string());
    assert_int_equal(NEONFLOW_VERSION_HEX, (ma << 16) | (mi << 8) | pa);
}

static void test_null_pointers_accepted(void **state)
{
    (void)state;
    neonflow_version(NULL, NULL, NULL);
    int32_t mi = -1;
    neonflow_version(NULL, &mi, NULL);
    assert_int_equal(mi, NEONFLOW_VERSION_MINOR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runtime_matches_macros),
        cmocka_unit_test(test_null_pointers_accepted),
    };
    return cmocka_run_group_tests_name("version", tests, NULL, NULL);
}
