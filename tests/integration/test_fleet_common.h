/* Shared fixture of the fleet integration tests: an in-process emulator
 * with NPROJ projects fleet-0 .. fleet-5 (root "production" holding
 * prod-i, root "dev" holding dev-i), a fast client, and checks of what a
 * promotion left in each project. Each test file includes it once. */
#ifndef TEST_FLEET_COMMON_H
#define TEST_FLEET_COMMON_H

#include "test_workflow_common.h"

#define NPROJ 6

typedef struct fleet_fx {
    emu_server *s;
    neonflow_client *c;
    char pid[NPROJ][32];
    char prod_id[NPROJ][64];
} fleet_fx;

/* Projects fleet-0 .. fleet-5: root "production" (content prod-i) and root
 * "dev" (content dev-i); project `no_dev` (-1: none) has no dev branch. */
static inline fleet_fx *fx_new(int64_t op_ms, int no_dev)
{
    fleet_fx *f = calloc(1, sizeof(*f));
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.op_duration_ms = op_ms;
    cfg.rate_per_minute = 0;
    cfg.rate_per_second_route = 0;
    assert_int_equal(emu_start(&f->s, &cfg), 0);
    for (int i = 0; i < NPROJ; i++) {
        char dev[64], content[32];
        snprintf(f->pid[i], sizeof(f->pid[i]), "fleet-%d", i);
        assert_int_equal(emu_add_project(f->s, f->pid[i], "production", f->prod_id[i], NULL), 0);
        snprintf(content, sizeof(content), "prod-%d", i);
        assert_int_equal(emu_write(f->s, f->pid[i], f->prod_id[i], content, NULL), 0);
        if (i == no_dev)
            continue;
        assert_int_equal(emu_add_branch(f->s, f->pid[i], "dev", NULL, 1, dev, NULL), 0);
        snprintf(content, sizeof(content), "dev-%d", i);
        assert_int_equal(emu_write(f->s, f->pid[i], dev, content, NULL), 0);
    }
    f->c = make_client(f->s);
    return f;
}

static inline void fx_free(fleet_fx *f)
{
    neonflow_client_free(f->c);
    emu_stop(f->s);
    free(f);
}

static inline neonflow_fleet_options *fleet_of(fleet_fx *f, int n)
{
    neonflow_fleet_options *fo = NULL;
    assert_int_equal(neonflow_fleet_options_new(&fo), NEONFLOW_OK);
    for (int i = 0; i < n; i++)
        assert_int_equal(neonflow_fleet_options_add_entry(fo, f->pid[i], NULL, NULL), NEONFLOW_OK);
    return fo;
}

/* Content of project i's live branch `name`. */
static inline void live_content(fleet_fx *f, int i, const char *name, char *out, size_t len)
{
    json_t *p = project_state_of(f->s, f->pid[i]);
    size_t k;
    json_t *x;
    char id[64] = "";
    json_array_foreach(json_object_get(p, "branches"), k, x) {
        if (strcmp(json_string_value(json_object_get(x, "name")), name) == 0)
            snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(x, "id")));
    }
    json_decref(p);
    assert_true(id[0]);
    assert_int_equal(emu_read(f->s, f->pid[i], id, out, len, NULL), 0);
}

static inline void assert_promoted_once(fleet_fx *f, int i)
{
    char content[64], want[32];
    live_content(f, i, "production", content, sizeof(content));
    snprintf(want, sizeof(want), "dev-%d", i);
    assert_string_equal(content, want);
    assert_int_equal(count_kind_in(f->s, f->pid[i], "branches", "promote-backup"), 1);
    assert_int_equal(lease_branches_in(f->s, f->pid[i]), 0);
}

static inline void assert_untouched(fleet_fx *f, int i)
{
    char content[64], want[32];
    live_content(f, i, "production", content, sizeof(content));
    snprintf(want, sizeof(want), "prod-%d", i);
    assert_string_equal(content, want);
    assert_int_equal(count_kind_in(f->s, f->pid[i], "branches", "promote-backup"), 0);
}

#endif
