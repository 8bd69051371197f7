/* The connection URI of a preview's read-write endpoint, through the
 * connection calls (connection.h): the branch's only database and its owner.
 * The URI holds a password: it is never put into an error message, and the
 * HTTP layer withholds the connection_uri answer from trace records. */
#include <string.h>

#include "api/connection-private.h"
#include "previews-private.h"

int neonflow__preview_uri_fetch(neonflow_preview *p, neonflow_client *c, neonflow__call_ctx *ctx,
                                const char *pid, neonflow_error **err)
{
    const char *eid = neonflow_preview_endpoint_id(p);
    if (!eid)
        return neonflow__error_set(err, NEONFLOW_ENO_ENDPOINT, "preview \"%s\" has no read-write endpoint",
                                   p->label);
    neonflow_connection_uri_options *o = NULL;
    int rc = neonflow_connection_uri_options_new(&o);
    if (rc == NEONFLOW_OK)
        rc = neonflow_connection_uri_options_set_branch_id(o, neonflow_preview_branch_id(p));
    if (rc == NEONFLOW_OK)
        rc = neonflow_connection_uri_options_set_endpoint_id(o, eid);
    if (rc != NEONFLOW_OK)
        rc = neonflow__error_set(err, rc, "out of memory");
    else
        rc = neonflow__connection_uri_get_ctx(&p->uri, c, ctx, pid, o, err);
    neonflow_connection_uri_options_free(o);
    return rc;
}
