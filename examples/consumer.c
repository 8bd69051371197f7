/* The smallest consumer of an installed libneonflow: built by the install
 * test with `pkg-config --cflags --libs libneonflow`. It checks the headers
 * and the loaded library agree and that a client can be created. */
#include <neonflow/neonflow.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    int32_t major, minor, patch;
    neonflow_version(&major, &minor, &patch);
    if (major != NEONFLOW_VERSION_MAJOR || minor != NEONFLOW_VERSION_MINOR ||
        patch != NEONFLOW_VERSION_PATCH) {
        printf("version mismatch: headers %s, library %s\n", NEONFLOW_VERSION_STRING,
               neonflow_version_string());
        return 1;
    }
    neonflow_client_options *opts = NULL;
    neonflow_client *client = NULL;
    neonflow_error *err = NULL;
    if (neonflow_client_options_new(&opts) != NEONFLOW_OK ||
        neonflow_client_options_set_api_key(opts, "example-key") != NEONFLOW_OK ||
        neonflow_client_options_set_base_url(opts, "http://127.0.0.1:9/api/v2") != NEONFLOW_OK ||
        neonflow_client_new(&client, opts, &err) != NEONFLOW_OK) {
        printf("client: %s\n", neonflow_error_message(err));
        neonflow_error_free(err);
        neonflow_client_options_free(opts);
        return 1;
    }
    printf("libneonflow %s: client for %s (%s)\n", neonflow_version_string(),
           neonflow_client_base_url(client), neonflow_error_name(NEONFLOW_EUNCERTAIN));
    neonflow_client_free(client);
    neonflow_client_options_free(opts);
    return 0;
}
