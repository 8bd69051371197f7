/*
 * libneonflow — umbrella header: include this one.
 *
 * libneonflow runs Neon's snapshot-based promotion workflow (snapshot prod,
 * snapshot dev, restore dev's snapshot onto prod, refresh, rollback, prune)
 * as single, safe calls. See README.md and docs/ for the concepts.
 */
#ifndef NEONFLOW_H
#define NEONFLOW_H

#include "common.h"
#include "version.h"
#include "errors.h"
#include "cancel.h"
#include "call_options.h"
#include "client.h"
#include "operation.h"
#include "endpoint.h"
#include "branch.h"
#include "snapshot.h"
#include "backup_schedule.h"
#include "connection.h"
#include "workflow.h"
#include "preview.h"
#include "fleet.h"

#endif /* NEONFLOW_H */
