/* Shared fixture of the lib/api integration tests: an in-process emulator on
 * an ephemeral port with one project, and a client pointed at it. */
#ifndef NEONFLOW_TEST_API_FIXTURE_H
#define NEONFLOW_TEST_API_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "emulator.h"
#include "neonflow/neonflow.h"

#define PROJECT "p-1"

typedef struct api_fixture {
    emu_server *s;
    neonflow_client *c;
    char main_id[64];
    char main_ep[64];
} api_fixture;

static inline neonflow_client *api_client_for(emu_server *s)
{
    neonflow_client_options *o = NULL;
    neonflow_client *c = NULL;
    if (neonflow_client_options_new(&o) != NEONFLOW_OK ||
        neonflow_client_options_set_api_key(o, "emulator-key") != NEONFLOW_OK ||
        neonflow_client_options_set_base_url(o, emu_base_url(s)) != NEONFLOW_OK ||
        neonflow_client_options_set_rate_limit(o, 0, 0) != NEONFLOW_OK || neonflow_client_new(&c, o, NULL) != NEONFLOW_OK)
        c = NULL;
    neonflow_client_options_free(o);
    return c;
}

static inline int api_setup(void **state)
{
    api_fixture *f = calloc(1, sizeof(*f));
    emu_config cfg;
    emu_config_init(&cfg);
    if (!f || emu_start(&f->s, &cfg) != 0)
        return -1;
    if (emu_add_project(f->s, PROJECT, "main", f->main_id, f->main_ep) != 0)
        return -1;
    f->c = api_client_for(f->s);
    if (!f->c)
        return -1;
    *state = f;
    return 0;
}

static inline int api_teardown(void **state)
{
    api_fixture *f = *state;
    neonflow_client_free(f->c);
    emu_stop(f->s);
    free(f);
    return 0;
}

/* Fails the test with the error message when rc is not OK. */
#define CHECK_OK(call)                                                                     \
    do {                                                                                   \
        neonflow_error *e_ = NULL;                                                         \
        neonflow_error **err = &e_;                                                        \
        int rc_ = (call);                                                                  \
        if (rc_ != NEONFLOW_OK)                                                            \
            fail_msg("%s -> %s: %s", #call, neonflow_error_name(rc_), neonflow_error_message(e_)); \
        neonflow_error_free(e_);                                                           \
    } while (0)

/* Expects a given code. */
#define CHECK_RC(code, call)                                                               \
    do {                                                                                   \
        neonflow_error *e_ = NULL;                                                         \
        neonflow_error **err = &e_;                                                        \
        int rc_ = (call);                                                                  \
        if (rc_ != (code))                                                                 \
            fail_msg("%s -> %s (want %s): %s", #call, neonflow_error_name(rc_), neonflow_error_name(code), \
                     neonflow_error_message(e_));                                          \
        neonflow_error_free(e_);                                                           \
    } while (0)

/* Waits for a list of operations (freeing it). */
#define AWAIT_OPS(f, ops)                                                                  \
    do {                                                                                   \
        CHECK_OK(neonflow_operations_await(NULL, (f)->c, PROJECT, (ops), NULL, NULL, err));      \
        neonflow_operation_list_free(ops);                                                 \
        ops = NULL;                                                                        \
    } while (0)

#endif
