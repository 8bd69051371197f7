/* Scrubbing of reports and events with the client's key (rule: core/scrub.h). */
#include "redact.h"

#include <string.h>

#include "core/alloc.h"
#include "core/scrub.h"
#include "core/text.h"

static void resource_scrub(neonflow_resource *x, const char *secret)
{
    char *fields[] = {x->name, x->id, x->role, x->target, x->run_id, x->created_at, x->expires_at,
                      x->replaced_by};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        neonflow__scrub(fields[i], secret);
}

void neonflow__report_scrub(neonflow_report *r, const char *secret)
{
    if (!r || !secret || !*secret)
        return;
    neonflow__scrub(r->run_id, secret);
    neonflow__scrub(r->message, secret);
    for (int i = 0; i < NEONFLOW__R_COUNT; i++)
        neonflow__scrub(r->str[i], secret);
    for (size_t i = 0; i < r->nsteps; i++) {
        neonflow_step *s = r->steps[i];
        neonflow__scrub(s->name, secret);
        neonflow__scrub(s->description, secret);
        for (size_t k = 0; k < s->nres; k++)
            resource_scrub(s->res[k], secret);
    }
}

static char *scrubbed_copy(const char *s, const char *secret, int one_line)
{
    if (!s)
        return NULL;
    char *c = neonflow__strdup(s);
    if (!c)
        return NULL;
    neonflow__scrub(c, secret);
    return one_line ? neonflow__text_clean(c, NEONFLOW__MESSAGE_MAX) : c;
}

void neonflow__event_scrub(neonflow_event *ev, const char *secret, neonflow__event_strings *keep)
{
    memset(keep, 0, sizeof(*keep));
    if (ev->message) {
        keep->message = scrubbed_copy(ev->message, secret, 1);
        ev->message = keep->message ? keep->message : "";
    }
    if (ev->op_id) {
        keep->op_id = scrubbed_copy(ev->op_id, secret, 0);
        ev->op_id = keep->op_id ? keep->op_id : "";
    }
    if (ev->run_id) {
        keep->run_id = scrubbed_copy(ev->run_id, secret, 0);
        ev->run_id = keep->run_id ? keep->run_id : "";
    }
    if (ev->op_action) {
        keep->op_action = scrubbed_copy(ev->op_action, secret, 0);
        ev->op_action = keep->op_action ? keep->op_action : "";
    }
}

void neonflow__event_release(neonflow__event_strings *keep)
{
    neonflow__free(keep->message);
    neonflow__free(keep->op_id);
    neonflow__free(keep->op_action);
    neonflow__free(keep->run_id);
    memset(keep, 0, sizeof(*keep));
}
