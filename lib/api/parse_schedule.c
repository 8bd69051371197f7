/* Backup schedules: parser, builder, getters. */
#include <stddef.h>
#include <string.h>

#include "api-private.h"
#include "core/alloc.h"
#include "core/error.h"

struct item_view {
    const char *frequency;
    int32_t hour, day, month;
    int64_t retention_seconds;
};

#define IV(f) offsetof(struct item_view, f)
static const neonflow__field item_fields[] = {
    {"frequency", NEONFLOW__F_STR, 1, IV(frequency), 0},
    {"hour", NEONFLOW__F_I32, 0, IV(hour), 0},
    {"day", NEONFLOW__F_I32, 0, IV(day), 0},
    {"month", NEONFLOW__F_I32, 0, IV(month), 0},
    {"retention_seconds", NEONFLOW__F_I64, 0, IV(retention_seconds), 0},
};

/* Items own their frequency string: a schedule may be built by hand. */
int neonflow__schedule_item_parse(const json_t *obj, void *item, const char *what, neonflow_error **err)
{
    struct item_view iv;
    int rc = neonflow__parse_fields(obj, item_fields, sizeof(item_fields) / sizeof(item_fields[0]), &iv, what, err);
    if (rc != NEONFLOW_OK)
        return rc;
    struct neonflow_backup_schedule_item *it = item;
    memset(it, 0, sizeof(*it));
    it->frequency = neonflow__strdup(iv.frequency);
    if (!it->frequency)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    it->obj = json_incref((json_t *)obj); /* items own their strings, not the document */
    it->hour = iv.hour;
    it->day = iv.day;
    it->month = iv.month;
    it->retention_seconds = iv.retention_seconds;
    return NEONFLOW_OK;
}

void neonflow__schedule_item_cleanup(void *item)
{
    struct neonflow_backup_schedule_item *it = item;
    neonflow__free(it->frequency);
    it->frequency = NULL;
    neonflow__json_cache_free(&it->json);
    json_decref(it->obj);
    it->obj = NULL;
}

NEONFLOW_API int neonflow_backup_schedule_new(neonflow_backup_schedule **out)
{
    if (!out)
        return NEONFLOW_EINVAL;
    *out = neonflow__malloc(sizeof(**out));
    if (!*out)
        return NEONFLOW_ENOMEM;
    neonflow__vec_init(&(*out)->v, sizeof(struct neonflow_backup_schedule_item), neonflow__schedule_item_cleanup);
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_backup_schedule_add(neonflow_backup_schedule *sched, const char *frequency, int32_t hour,
                                              int32_t day, int32_t month, int64_t retention_seconds)
{
    if (!sched || !frequency || !*frequency)
        return NEONFLOW_EINVAL;
    if ((hour != -1 && (hour < 0 || hour > 23)) || (day != -1 && (day < 1 || day > 31)) ||
        (month != -1 && (month < 1 || month > 12)) || (retention_seconds != -1 && retention_seconds <= 0))
        return NEONFLOW_EINVAL;
    char *f = neonflow__strdup(frequency);
    if (!f)
        return NEONFLOW_ENOMEM;
    struct neonflow_backup_schedule_item *it = neonflow__vec_push(&sched->v);
    if (!it) {
        neonflow__free(f);
        return NEONFLOW_ENOMEM;
    }
    it->frequency = f;
    it->hour = hour;
    it->day = day;
    it->month = month;
    it->retention_seconds = retention_seconds;
    return NEONFLOW_OK;
}

NEONFLOW_API size_t neonflow_backup_schedule_count(const neonflow_backup_schedule *sched)
{
    return sched ? sched->v.n : 0;
}

NEONFLOW_API const neonflow_backup_schedule_item *neonflow_backup_schedule_at(const neonflow_backup_schedule *sched,
                                                                               size_t i)
{
    return sched ? neonflow__vec_at(&sched->v, i) : NULL;
}

NEONFLOW_API void neonflow_backup_schedule_free(neonflow_backup_schedule *sched)
{
    if (!sched)
        return;
    neonflow__vec_clear(&sched->v);
    neonflow__free(sched);
}

NEONFLOW_API const char *neonflow_backup_schedule_item_frequency(const neonflow_backup_schedule_item *item)
{
    return item ? item->frequency : NULL;
}

NEONFLOW_API const char *neonflow_backup_schedule_item_json(const neonflow_backup_schedule_item *item)
{
    return item ? neonflow__json_text(item->obj, &((neonflow_backup_schedule_item *)item)->json) : NULL;
}

NEONFLOW_API int32_t neonflow_backup_schedule_item_hour(const neonflow_backup_schedule_item *item)
{
    return item ? item->hour : -1;
}

NEONFLOW_API int32_t neonflow_backup_schedule_item_day(const neonflow_backup_schedule_item *item)
{
    return item ? item->day : -1;
}

NEONFLOW_API int32_t neonflow_backup_schedule_item_month(const neonflow_backup_schedule_item *item)
{
    return item ? item->month : -1;
}

NEONFLOW_API int64_t neonflow_backup_schedule_item_retention_s(const neonflow_backup_schedule_item *item)
{
    return item ? item->retention_seconds : -1;
}

int neonflow__parse_schedule_response(json_t *root, neonflow_backup_schedule **out, neonflow_error **err)
{
    *out = NULL;
    json_t *arr;
    int rc = neonflow__member(root, "schedule", JSON_ARRAY, 0, "backup schedule response", &arr, err);
    if (rc != NEONFLOW_OK)
        return rc;
    neonflow_backup_schedule *s;
    if (neonflow_backup_schedule_new(&s) != NEONFLOW_OK)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    if (arr)
        rc = neonflow__vec_parse_array(&s->v, NULL, arr, neonflow__schedule_item_parse, "schedule", err);
    if (rc != NEONFLOW_OK) {
        neonflow_backup_schedule_free(s);
        return rc;
    }
    *out = s;
    return NEONFLOW_OK;
}

json_t *neonflow__schedule_to_json(const neonflow_backup_schedule *sched)
{
    json_t *arr = json_array();
    json_t *root = json_object();
    if (!arr || !root || json_object_set(root, "schedule", arr) != 0)
        goto fail;
    for (size_t i = 0; sched && i < sched->v.n; i++) {
        const struct neonflow_backup_schedule_item *it = neonflow__vec_at(&sched->v, i);
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o) != 0)
            goto fail;
        int bad = json_object_set_new(o, "frequency", json_string(it->frequency));
        if (it->hour >= 0)
            bad |= json_object_set_new(o, "hour", json_integer(it->hour));
        if (it->day >= 0)
            bad |= json_object_set_new(o, "day", json_integer(it->day));
        if (it->month >= 0)
            bad |= json_object_set_new(o, "month", json_integer(it->month));
        if (it->retention_seconds >= 0)
            bad |= json_object_set_new(o, "retention_seconds", json_integer(it->retention_seconds));
        if (bad)
            goto fail;
    }
    json_decref(arr);
    return root;
fail:
    json_decref(arr);
    json_decref(root);
    return NULL;
}
