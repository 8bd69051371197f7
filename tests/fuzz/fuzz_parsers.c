/* libFuzzer target: every lib/api response parser on arbitrary bytes, plus
 * the RFC 3339 and LSN parsers. A parser must never crash, leak or read out
 * of bounds; it either succeeds or returns an error. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "api/api-private.h"
#include "api/connection-private.h"
#include "core/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_all(json_t *root)
{
    neonflow_error *e = NULL;
    neonflow_operation *op = NULL;
    neonflow__parse_operation_response(root, &op, &e);
    if (op)
        (void)strlen(neonflow_operation_json(op));
    neonflow_operation_free(op);
    neonflow_error_free(e), e = NULL;

    for (int req = 0; req < 2; req++) {
        neonflow_operation_list *ops = NULL;
        neonflow__parse_operations_response(root, req, &ops, &e);
        for (size_t i = 0; i < neonflow_operation_list_count(ops); i++)
            (void)neonflow_operation_is_done(neonflow_operation_list_at(ops, i));
        (void)neonflow_operation_list_next_cursor(ops);
        neonflow_operation_list_free(ops);
        neonflow_error_free(e), e = NULL;
    }

    neonflow_endpoint_list *el = NULL;
    neonflow__parse_endpoints_response(root, &el, &e);
    for (size_t i = 0; i < neonflow_endpoint_list_count(el); i++)
        (void)strlen(neonflow_endpoint_json(neonflow_endpoint_list_at(el, i)));
    neonflow_endpoint_list_free(el);
    neonflow_error_free(e), e = NULL;

    neonflow_endpoint *ep = NULL;
    neonflow_operation_list *ops = NULL;
    neonflow__parse_endpoint_response(root, &ep, &ops, &e);
    neonflow_endpoint_free(ep);
    neonflow_operation_list_free(ops), ops = NULL;
    neonflow_error_free(e), e = NULL;

    neonflow_branch *b = NULL;
    neonflow__parse_branch_response(root, &b, &ops, &e);
    for (size_t i = 0; i < neonflow_branch_restricted_action_count(b); i++)
        (void)neonflow_branch_restricted_action_reason_at(b, i);
    (void)neonflow_branch_is_action_restricted(b, "restore");
    if (b)
        (void)strlen(neonflow_branch_json(b));
    neonflow_branch_free(b);
    neonflow_operation_list_free(ops), ops = NULL;
    neonflow_error_free(e), e = NULL;

    neonflow_branch_result *r = NULL;
    neonflow__parse_branch_result_response(root, &r, &e);
    neonflow_branch_result_free(r);
    neonflow_error_free(e), e = NULL;

    neonflow_branch_list *bl = NULL;
    if (neonflow__branch_list_new(&bl, NULL) == NEONFLOW_OK) {
        const char *next;
        size_t items;
        neonflow__branch_list_append_page(bl, root, &next, &items, &e);
        neonflow_branch_list_free(bl);
        neonflow_error_free(e), e = NULL;
    }

    neonflow_snapshot *s = NULL;
    neonflow__parse_snapshot_response(root, &s, &ops, &e);
    neonflow_snapshot_free(s);
    neonflow_operation_list_free(ops), ops = NULL;
    neonflow_error_free(e), e = NULL;

    neonflow_snapshot_list *sl = NULL;
    neonflow__parse_snapshots_response(root, &sl, &e);
    for (size_t i = 0; i < neonflow_snapshot_list_count(sl); i++)
        (void)strlen(neonflow_snapshot_json(neonflow_snapshot_list_at(sl, i)));
    neonflow_snapshot_list_free(sl);
    neonflow_error_free(e), e = NULL;

    neonflow_backup_schedule *bs = NULL;
    if (neonflow__parse_schedule_response(root, &bs, &e) == NEONFLOW_OK) {
        for (size_t i = 0; i < neonflow_backup_schedule_count(bs); i++)
            (void)strlen(neonflow_backup_schedule_item_json(neonflow_backup_schedule_at(bs, i)));
        json_t *back = neonflow__schedule_to_json(bs);
        json_decref(back);
    }
    neonflow_backup_schedule_free(bs);
    neonflow_error_free(e), e = NULL;

    neonflow_role_list *rl = NULL;
    neonflow__parse_roles_response(root, &rl, &e);
    for (size_t i = 0; i < neonflow_role_list_count(rl); i++)
        (void)strlen(neonflow_role_name(neonflow_role_list_at(rl, i)));
    neonflow_role_list_free(rl);
    neonflow_error_free(e), e = NULL;

    neonflow_database_list *dl = NULL;
    neonflow__parse_databases_response(root, &dl, &e);
    for (size_t i = 0; i < neonflow_database_list_count(dl); i++)
        (void)strlen(neonflow_database_owner_name(neonflow_database_list_at(dl, i)));
    neonflow_database_list_free(dl);
    neonflow_error_free(e), e = NULL;

    char *uri = NULL;
    neonflow__parse_uri_response(root, &uri, &e);
    neonflow__free(uri);
    neonflow_error_free(e), e = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    check_all(root); /* NULL root (not JSON) must be handled too */
    json_decref(root);

    char *s = neonflow__strndup((const char *)data, size < 256 ? size : 256);
    if (s) {
        int64_t ms;
        (void)neonflow__rfc3339_ms(s, &ms);
        (void)neonflow__is_lsn(s);
        neonflow__free(s);
    }
    return 0;
}
