#include "jsonio.h"

#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"

json_t *neonflow__json_loadb(const char *buf, size_t len, size_t flags, json_error_t *je, int *oom)
{
    if (oom)
        *oom = 0;
    neonflow__alloc_oom_clear();
    json_t *j = json_loadb(buf, len, flags, je);
    if (!neonflow__alloc_oom_seen())
        return j;
    json_decref(j); /* whatever was lexed may have lost bytes */
    if (oom)
        *oom = 1;
    if (je) {
        snprintf(je->text, sizeof(je->text), "out of memory");
        je->line = je->column = -1;
        je->position = 0;
    }
    return NULL;
}

char *neonflow__json_dumps(const json_t *json, size_t flags, int *oom)
{
    if (oom)
        *oom = 0;
    neonflow__alloc_oom_clear();
    char *s = json_dumps(json, flags);
    if (!neonflow__alloc_oom_seen())
        return s;
    neonflow__json_free(s);
    if (oom)
        *oom = 1;
    return NULL;
}

void neonflow__json_free(void *p)
{
    if (!p)
        return;
    json_free_t f = NULL;
    json_get_alloc_funcs(NULL, &f);
    (f ? f : free)(p);
}
