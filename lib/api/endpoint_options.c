/* neonflow_endpoint_create_options: every field of Neon's endpoint create
 * request, and the request body built from them. */
#include <string.h>

#include "api-private.h"
#include "core/alloc.h"

NEONFLOW_API int neonflow_endpoint_create_options_new(neonflow_endpoint_create_options **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__calloc(1, sizeof(**out));
    if (!*out)
        return NEONFLOW_ENOMEM;
    (*out)->type = NEONFLOW_ENDPOINT_TYPE_READ_WRITE;
    (*out)->disabled = -1;
    return NEONFLOW_OK;
}

NEONFLOW_API void neonflow_endpoint_create_options_free(neonflow_endpoint_create_options *o)
{
    if (!o)
        return;
    neonflow__free(o->name);
    neonflow__free(o->region_id);
    neonflow__free(o->provisioner);
    json_decref(o->pg_settings);
    neonflow__free(o);
}

NEONFLOW_API int neonflow_endpoint_create_options_set_type(neonflow_endpoint_create_options *o, int32_t type)
{
    if (!o || (type != NEONFLOW_ENDPOINT_TYPE_READ_WRITE && type != NEONFLOW_ENDPOINT_TYPE_READ_ONLY))
        return NEONFLOW_EINVAL;
    o->type = type;
    return NEONFLOW_OK;
}

/* min..max bytes of well-formed UTF-8 without control characters. */
static int text_ok(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return 0;
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)s[i];
        size_t len = ch < 0x80 ? 1 : (ch & 0xe0) == 0xc0 ? 2 : (ch & 0xf0) == 0xe0 ? 3 : (ch & 0xf8) == 0xf0 ? 4 : 0;
        if (len == 0 || (len == 1 && (ch < 0x20 || ch == 0x7f)) || (len == 2 && ch < 0xc2) || i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++)
            if (((unsigned char)s[i + k] & 0xc0) != 0x80)
                return 0;
        i += len;
    }
    return 1;
}

NEONFLOW_API int neonflow_endpoint_create_options_set_name(neonflow_endpoint_create_options *o, const char *name)
{
    if (!o || (name && !text_ok(name, 1, 64)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->name, name);
}

NEONFLOW_API int neonflow_endpoint_create_options_set_region_id(neonflow_endpoint_create_options *o,
                                                                const char *region_id)
{
    if (!o || (region_id && !neonflow__id_valid(region_id)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->region_id, region_id);
}

NEONFLOW_API int neonflow_endpoint_create_options_set_provisioner(neonflow_endpoint_create_options *o,
                                                                  const char *provisioner)
{
    if (!o || (provisioner && !text_ok(provisioner, 1, 64)))
        return NEONFLOW_EINVAL;
    return neonflow__set_str(&o->provisioner, provisioner);
}

static int cu_ok(double cu)
{
    return cu == 0 || (cu >= 0.25 && cu <= 1000);
}

NEONFLOW_API int neonflow_endpoint_create_options_set_autoscaling_limit_min_cu(neonflow_endpoint_create_options *o,
                                                                               double cu)
{
    if (!o || !cu_ok(cu))
        return NEONFLOW_EINVAL;
    o->min_cu = cu;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_endpoint_create_options_set_autoscaling_limit_max_cu(neonflow_endpoint_create_options *o,
                                                                               double cu)
{
    if (!o || !cu_ok(cu))
        return NEONFLOW_EINVAL;
    o->max_cu = cu;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_endpoint_create_options_set_suspend_timeout_s(neonflow_endpoint_create_options *o,
                                                                              int64_t seconds)
{
    if (!o || seconds < -1 || (seconds > 0 && seconds < 60) || seconds > 604800)
        return NEONFLOW_EINVAL;
    o->suspend_timeout_seconds = seconds;
    o->suspend_set = 1;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_endpoint_create_options_set_disabled(neonflow_endpoint_create_options *o, int disabled)
{
    if (!o)
        return NEONFLOW_EINVAL;
    o->disabled = disabled ? 1 : 0;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_endpoint_create_options_set_pg_setting(neonflow_endpoint_create_options *o,
                                                                 const char *name, const char *value)
{
    if (!o || !name || !text_ok(name, 1, 128) || (value && !text_ok(value, 0, 4096)))
        return NEONFLOW_EINVAL;
    if (!value) {
        if (o->pg_settings)
            json_object_del(o->pg_settings, name);
        return NEONFLOW_OK;
    }
    if (!o->pg_settings && !(o->pg_settings = json_object()))
        return NEONFLOW_ENOMEM;
    json_t *v = json_string(value);
    if (!v)
        return NEONFLOW_EINVAL; /* jansson's stricter UTF-8 check (overlongs, surrogates) or no memory */
    return json_object_set_new(o->pg_settings, name, v) == 0 ? NEONFLOW_OK : NEONFLOW_ENOMEM;
}

json_t *neonflow__endpoint_create_body(const char *branch_id, const neonflow_endpoint_create_options *o)
{
    const char *type = o && o->type == NEONFLOW_ENDPOINT_TYPE_READ_ONLY ? "read_only" : "read_write";
    json_t *e = json_pack("{s:s,s:s}", "branch_id", branch_id, "type", type);
    json_t *body = e ? json_pack("{s:o}", "endpoint", e) : NULL;
    if (!body || !o)
        return body;
    int bad = 0;
    if (o->name)
        bad |= json_object_set_new(e, "name", json_string(o->name));
    if (o->region_id)
        bad |= json_object_set_new(e, "region_id", json_string(o->region_id));
    if (o->provisioner)
        bad |= json_object_set_new(e, "provisioner", json_string(o->provisioner));
    if (o->min_cu > 0)
        bad |= json_object_set_new(e, "autoscaling_limit_min_cu", json_real(o->min_cu));
    if (o->max_cu > 0)
        bad |= json_object_set_new(e, "autoscaling_limit_max_cu", json_real(o->max_cu));
    if (o->suspend_set)
        bad |= json_object_set_new(e, "suspend_timeout_seconds", json_integer(o->suspend_timeout_seconds));
    if (o->disabled >= 0)
        bad |= json_object_set_new(e, "disabled", json_boolean(o->disabled));
    if (o->pg_settings && json_object_size(o->pg_settings) > 0)
        bad |= json_object_set_new(e, "settings", json_pack("{s:O}", "pg_settings", o->pg_settings));
    if (bad) {
        json_decref(body);
        return NULL;
    }
    return body;
}
