/* Internal view of the fleet calls: options, report, entries and events
 * (fleet.c runs a fleet, fleet_report.c reads and renders its report). */
#ifndef NEONFLOW_FLEET_PRIVATE_H
#define NEONFLOW_FLEET_PRIVATE_H

#include "neonflow/fleet.h"
#include "workflow-private.h"

#define NEONFLOW__FLEET_MAX_CONCURRENCY 64
#define NEONFLOW__FLEET_DEFAULT_CONCURRENCY 4
#define NEONFLOW__FLEET_NSTATUS 5 /* NEONFLOW_FLEET_ENTRY_NOT_STARTED .. _CANCELLED */

/* One entry as added: source/target NULL = the workflow options' value. */
typedef struct neonflow__fleet_spec {
    char *project_id, *source, *target;
    neonflow_run_options *run; /* the entry's own copy, or NULL */
} neonflow__fleet_spec;

struct neonflow_fleet_options {
    neonflow__fleet_spec *specs;
    size_t n, cap;
    neonflow_run_options *run; /* copied template, or NULL for the defaults */
    int32_t concurrency;
    int stop_on_failure;
    int64_t timeout_ms; /* 0: none */
    char *run_id;
    neonflow_cancel *cancel;
    neonflow__hook *event_hook;
};

struct neonflow_fleet_entry {
    size_t index;
    char *project_id, *source, *target; /* as run: defaults resolved */
    char run_id[NEONFLOW__RUN_ID_MAX + 1];
    int32_t status;
    int result;
    char *message;
    neonflow_report *report;
};

struct neonflow_fleet_report {
    int32_t workflow;
    char run_id[NEONFLOW__RUN_ID_MAX + 1];
    int result;
    char *message;
    int64_t duration_ms, api_calls;
    neonflow_fleet_entry *entries;
    size_t n;
};

struct neonflow_fleet_event {
    int32_t kind, workflow;
    const char *run_id;
    const neonflow_fleet_entry *entry;
    size_t total;
    size_t counts[NEONFLOW__FLEET_NSTATUS];
    int64_t elapsed_ms;
};

/* fleet_report.c */
int neonflow__fleet_report_new(neonflow_fleet_report **out, int32_t workflow, size_t n);
size_t neonflow__fleet_count(const neonflow_fleet_report *r, int32_t status);

#endif
