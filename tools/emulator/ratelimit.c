/* Neon's rate limits as sliding logs: `per_minute` requests per 60 s for the
 * whole account, `per_second_route` per 1 s for each route (method + path
 * template). A log remembers the times of accepted requests only, so a
 * rejected request does not extend the wait. Caller holds s->mu. */
#include "emu_internal.h"

#include <stdlib.h>
#include <string.h>

static void win_init(emu_window *w, int cap)
{
    free(w->t);
    memset(w, 0, sizeof(*w));
    if (cap > 0) {
        w->t = calloc((size_t)cap, sizeof(*w->t));
        w->cap = w->t ? cap : 0;
    }
}

/* ms until a slot frees, 0 if one is free now. */
static int64_t win_wait(emu_window *w, int64_t now, int64_t span)
{
    if (w->cap <= 0)
        return 0;
    while (w->n > 0 && w->t[w->head] <= now - span) {
        w->head = (w->head + 1) % w->cap;
        w->n--;
    }
    if (w->n < w->cap)
        return 0;
    return w->t[w->head] + span - now;
}

static void win_push(emu_window *w, int64_t now)
{
    if (w->cap <= 0)
        return;
    w->t[(w->head + w->n) % w->cap] = now;
    w->n++;
}

void emu_ratelimit_configure(emu_server *s, int32_t per_minute, int32_t per_second_route)
{
    s->rate_per_minute = per_minute > 0 ? per_minute : 0;
    s->rate_per_second_route = per_second_route > 0 ? per_second_route : 0;
    win_init(&s->account_win, s->rate_per_minute);
    for (int i = 0; i <= EMU_NROUTES; i++)
        win_init(&s->route_win[i], s->rate_per_second_route);
}

void emu_ratelimit_free(emu_server *s)
{
    win_init(&s->account_win, 0);
    for (int i = 0; i <= EMU_NROUTES; i++)
        win_init(&s->route_win[i], 0);
}

int emu_ratelimit_check(emu_server *s, int route)
{
    if (route < 0 || route > EMU_NROUTES)
        route = EMU_NROUTES;
    int64_t now = emu_mono_ms();
    int64_t wa = win_wait(&s->account_win, now, 60000);
    int64_t wr = win_wait(&s->route_win[route], now, 1000);
    int64_t w = wa > wr ? wa : wr;
    if (w > 0)
        return (int)((w + 999) / 1000); /* Retry-After in whole seconds, >= 1 */
    win_push(&s->account_win, now);
    win_push(&s->route_win[route], now);
    return 0;
}
