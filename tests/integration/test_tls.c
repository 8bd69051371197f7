/* TLS: certificate verification is on by default (an untrusted certificate
 * is refused and not retried), and the CA-file option makes it trusted. The
 * emulator serves HTTPS with the self-signed certificate in tests/data/tls. */
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

#define PROJECT "p-tls"
#define CERT TLS_DIR "/localhost.pem"
#define KEY TLS_DIR "/localhost.key"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (buf && n == 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

typedef struct tls_fixture {
    emu_server *s;
    char *cert, *key;
} tls_fixture;

static int setup(void **state)
{
    tls_fixture *f = calloc(1, sizeof(*f));
    f->cert = slurp(CERT);
    f->key = slurp(KEY);
    if (!f->cert || !f->key)
        return -1;
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.api_key = "tls-key";
    cfg.tls_cert_pem = f->cert;
    cfg.tls_key_pem = f->key;
    if (emu_start(&f->s, &cfg) != 0 || emu_add_project(f->s, PROJECT, "main", NULL, NULL) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    tls_fixture *f = *state;
    emu_stop(f->s);
    free(f->cert);
    free(f->key);
    free(f);
    return 0;
}

static neonflow_client *client(tls_fixture *f, const char *ca_file)
{
    neonflow_client_options *o = NULL;
    neonflow_client *c = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(o, "tls-key"), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(o, emu_base_url(f->s)), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_retry_backoff(o, 1, 5), NEONFLOW_OK);
    if (ca_file)
        assert_int_equal(neonflow_client_options_set_ca_file(o, ca_file), NEONFLOW_OK);
    assert_int_equal(neonflow_client_new(&c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    return c;
}

static void test_untrusted_certificate_refused(void **state)
{
    tls_fixture *f = *state;
    assert_true(strncmp(emu_base_url(f->s), "https://", 8) == 0);
    neonflow_client *c = client(f, NULL);
    neonflow_branch_list *l = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_branches_list(&l, c, PROJECT, NULL, NULL, &err), NEONFLOW_ETLS);
    assert_null(l);
    assert_int_equal(neonflow_error_retryable(err), 0);
    assert_null(strstr(neonflow_error_message(err), "tls-key"));
    neonflow_error_free(err);
    /* the request never reached the API */
    assert_int_equal(emu_requests(f->s, NULL, NULL), 0);
    neonflow_client_free(c);
}

static void test_ca_file_makes_it_trusted(void **state)
{
    tls_fixture *f = *state;
    neonflow_client *c = client(f, CERT);
    neonflow_branch_list *l = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_branches_list(&l, c, PROJECT, NULL, NULL, &err);
    if (rc != NEONFLOW_OK)
        fail_msg("%s: %s", neonflow_error_name(rc), neonflow_error_message(err));
    assert_int_equal(neonflow_branch_list_count(l), 1);
    neonflow_branch_list_free(l);
    neonflow_client_free(c);
}

int main(void)
{
    if (!emu_tls_supported()) {
        printf("1..0 # SKIP libmicrohttpd was built without TLS\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_untrusted_certificate_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_file_makes_it_trusted, setup, teardown),
    };
    return cmocka_run_group_tests_name("tls", tests, NULL, NULL);
}
