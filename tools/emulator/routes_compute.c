/* Compute settings (autoscaling limits, suspend timeout, provisioner,
 * settings, disabled, name) kept as sent, and the endpoint routes PATCH,
 * start, suspend and restart with the operations Neon returns. */
#include "emu_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int emu_ep_settings_parse(emu_ctx *c, json_t *eo, const char *where, emu_ep_settings *out)
{
    static const char *const cu_keys[2] = {"autoscaling_limit_min_cu", "autoscaling_limit_max_cu"};
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(eo, cu_keys[i]);
        if (!v || json_is_null(v))
            continue;
        if (!json_is_number(v) || json_number_value(v) < 0.25 || json_number_value(v) > 1000) {
            emu_err(c, 400, "", "%s.%s must be a number of at least 0.25", where, cu_keys[i]);
            return -1;
        }
        *(i ? &out->has_max : &out->has_min) = 1;
        *(i ? &out->max_cu : &out->min_cu) = json_number_value(v);
    }
    if (out->has_min && out->has_max && out->min_cu > out->max_cu) {
        emu_err(c, 400, "", "%s.autoscaling_limit_min_cu must not exceed autoscaling_limit_max_cu", where);
        return -1;
    }
    json_t *st = json_object_get(eo, "suspend_timeout_seconds");
    if (st && !json_is_null(st)) {
        if (!json_is_integer(st) || json_integer_value(st) < -1 || json_integer_value(st) > 604800) {
            emu_err(c, 400, "", "%s.suspend_timeout_seconds must be an integer between -1 and 604800", where);
            return -1;
        }
        out->has_st = 1;
        out->suspend_timeout_s = json_integer_value(st);
    }
    int r;
    if ((r = emu_get_str(c, eo, "provisioner", &out->provisioner)) < 0)
        return -1;
    if (r && strcmp(out->provisioner, "k8s-pod") != 0 && strcmp(out->provisioner, "k8s-neonvm") != 0 &&
        strcmp(out->provisioner, "serverless-platform") != 0) {
        emu_err(c, 400, "", "%s.provisioner: unknown provisioner", where);
        return -1;
    }
    out->has_prov = r;
    if ((r = emu_get_str(c, eo, "name", &out->name)) < 0)
        return -1;
    if (r && (!*out->name || strlen(out->name) > 64)) {
        emu_err(c, 400, "", "%s.name must be 1 to 64 characters", where);
        return -1;
    }
    out->has_name = r;
    if ((r = emu_get_bool(c, eo, "disabled", &out->disabled)) < 0)
        return -1;
    out->has_disabled = r;
    json_t *settings = json_object_get(eo, "settings");
    if (settings && !json_is_null(settings)) {
        json_t *pg = json_object_get(settings, "pg_settings");
        if (!json_is_object(settings) || (pg && !json_is_null(pg) && !json_is_object(pg))) {
            emu_err(c, 400, "", "%s.settings.pg_settings must be an object", where);
            return -1;
        }
        const char *k;
        json_t *v;
        json_object_foreach(pg, k, v) {
            if (!json_is_string(v)) {
                emu_err(c, 400, "", "%s.settings.pg_settings values must be strings", where);
                return -1;
            }
        }
        out->has_pg = 1;
        out->pg = json_is_object(pg) ? pg : NULL;
    }
    return 0;
}

int emu_ep_settings_apply(emu_ctx *c, emu_endpoint *e, const emu_ep_settings *st)
{
    double mn = st->has_min ? st->min_cu : e->min_cu, mx = st->has_max ? st->max_cu : e->max_cu;
    if (mn > mx) {
        if (st->has_max || !st->has_min) {
            emu_err(c, 400, "", "autoscaling_limit_min_cu must not exceed autoscaling_limit_max_cu");
            return -1;
        }
        mx = mn; /* only min was sent: max follows it */
    }
    json_t *pg = st->has_pg && st->pg ? json_deep_copy(st->pg) : NULL;
    char *prov = st->has_prov ? emu_strdup(st->provisioner) : NULL, *name = st->has_name ? emu_strdup(st->name) : NULL;
    if ((st->has_pg && st->pg && !pg) || (st->has_prov && !prov) || (st->has_name && !name)) {
        json_decref(pg);
        free(prov);
        free(name);
        emu_err(c, 500, "", "out of memory");
        return -1;
    }
    e->min_cu = mn;
    e->max_cu = mx;
    if (st->has_st)
        e->suspend_timeout_s = st->suspend_timeout_s;
    if (st->has_prov) {
        free(e->provisioner);
        e->provisioner = prov;
    }
    if (st->has_name) {
        free(e->name);
        e->name = name;
    }
    if (st->has_disabled)
        e->disabled = st->disabled;
    if (st->has_pg) {
        json_decref(e->pg_settings);
        e->pg_settings = pg;
    }
    return 0;
}

static emu_endpoint *endpoint_or_404(emu_ctx *c)
{
    emu_endpoint *e = emu_endpoint_find(c->proj, c->seg[3]);
    if (!e)
        emu_err(c, 404, "", "endpoint not found");
    return e;
}

/* The state shown while the operations run: the one before the request. */
static void remember_state(emu_endpoint *e)
{
    const char *now = emu_mono_ms() < e->ready_at_mono ? (e->prev_state[0] ? e->prev_state : "init")
                      : e->suspended                    ? "idle"
                                                        : "active";
    snprintf(e->prev_state, sizeof(e->prev_state), "%s", now);
}

static void reply(emu_ctx *c, emu_endpoint *e, json_t *ops)
{
    emu_ok(c, 200, json_pack("{s:o, s:o}", "endpoint", emu_json_endpoint(e, c->proj), "operations", ops));
}

void emu_endpoint_update(emu_ctx *c)
{
    int bad;
    emu_endpoint *e = endpoint_or_404(c);
    if (!e)
        return;
    json_t *eo = emu_get_obj(c, c->body, "endpoint", &bad);
    if (bad)
        return;
    if (!eo)
        EMU_FAIL(c, 400, "", "request body must contain an endpoint object");
    emu_ep_settings st;
    const char *branch_id = NULL;
    if (emu_ep_settings_parse(c, eo, "endpoint", &st) != 0 || emu_get_str(c, eo, "branch_id", &branch_id) < 0)
        return;
    emu_branch *nb = NULL;
    if (branch_id && strcmp(branch_id, e->branch_id) != 0) { /* deprecated, still honoured by Neon */
        if (!(nb = emu_branch_find(c->proj, branch_id)))
            EMU_FAIL(c, 404, "", "branch not found");
        if (e->read_write && emu_endpoint_rw_of(c->proj, nb->id))
            EMU_FAIL(c, 409, "", "read-write endpoint already exists on branch %s", nb->id);
    }
    if (emu_ep_settings_apply(c, e, &st) != 0)
        return;
    if (nb)
        snprintf(e->branch_id, sizeof(e->branch_id), "%s", nb->id);
    e->updated_ms = emu_now_ms();
    json_t *ops = json_array();
    remember_state(e);
    int64_t end = emu_emit(c, ops, "apply_config", e->branch_id, e->id);
    if (!e->suspended)
        e->ready_at_mono = end;
    emu_pgb_endpoint_restart(c->s, e); /* --postgres: the new configuration means a restart */
    reply(c, e, ops);
}

void emu_endpoint_start(emu_ctx *c)
{
    emu_endpoint *e = endpoint_or_404(c);
    if (!e)
        return;
    if (e->disabled)
        EMU_FAIL(c, 400, "", "endpoint %s is disabled", e->id);
    json_t *ops = json_array();
    remember_state(e);
    e->suspended = 0;
    e->ready_at_mono = emu_emit(c, ops, "start_compute", e->branch_id, e->id);
    reply(c, e, ops);
}

void emu_endpoint_suspend(emu_ctx *c)
{
    emu_endpoint *e = endpoint_or_404(c);
    if (!e)
        return;
    json_t *ops = json_array();
    remember_state(e);
    e->suspended = 1;
    e->ready_at_mono = emu_emit(c, ops, "suspend_compute", e->branch_id, e->id);
    reply(c, e, ops);
}

void emu_endpoint_restart(emu_ctx *c)
{
    emu_endpoint *e = endpoint_or_404(c);
    if (!e)
        return;
    if (e->disabled)
        EMU_FAIL(c, 400, "", "endpoint %s is disabled", e->id);
    json_t *ops = json_array();
    remember_state(e);
    emu_emit(c, ops, "suspend_compute", e->branch_id, e->id);
    emu_pgb_endpoint_restart(c->s, e); /* --postgres: stopped here, started again by the reconcile */
    e->suspended = 0;
    e->ready_at_mono = emu_emit(c, ops, "start_compute", e->branch_id, e->id);
    reply(c, e, ops);
}
