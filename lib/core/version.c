#include "neonflow/version.h"

NEONFLOW_API void neonflow_version(int32_t *major, int32_t *minor, int32_t *patch)
{
    if (major)
        *major = NEONFLOW_VERSION_MAJOR;
    if (minor)
        *minor = NEONFLOW_VERSION_MINOR;
    if (patch)
        *patch = NEONFLOW_VERSION_PATCH;
}

NEONFLOW_API const char *neonflow_version_string(void) { return NEONFLOW_VERSION_STRING; }
