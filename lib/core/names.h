/* The one table of names per public enumeration (names.c). The Neon state
 * tables are NULL-terminated and start at value 1, the layout the API
 * parsers' neonflow__enum_lookup expects; the public _name() functions and
 * the report JSON read the same tables. */
#ifndef NEONFLOW_CORE_NAMES_H
#define NEONFLOW_CORE_NAMES_H

extern const char *const neonflow__branch_state_names[];
extern const char *const neonflow__restore_status_names[];
extern const char *const neonflow__endpoint_type_names[];
extern const char *const neonflow__endpoint_state_names[];
extern const char *const neonflow__operation_status_names[];
extern const char *const neonflow__operation_action_names[];

#endif
