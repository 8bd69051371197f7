/* Test helpers: start an in-process emulator and talk to it with plain
 * libcurl (one reused handle, so keep-alive is exercised). */
#ifndef EMU_TEST_HTTP_H
#define EMU_TEST_HTTP_H

#include "emulator.h"

#include <curl/curl.h>
#include <jansson.h>

typedef struct http_resp {
    CURLcode rc;
    long status;
    char *body;
    size_t len;
    json_t *json; /* NULL when the body is not JSON */
    char request_id[256];
    char retry_after[32];
    int has_retry_after;
} http_resp;

typedef struct emu_fixture {
    emu_server *s;
    char bid[64], eid[64]; /* default branch and its endpoint in project "proj" */
} emu_fixture;

/* Starts a server (rate limits off unless cfg says otherwise) with project
 * "proj" whose default branch is "main". cfg may be NULL. */
int fx_start(emu_fixture *fx, const emu_config *cfg);
void fx_stop(emu_fixture *fx);

/* method, path below /api/v2 (or absolute "/__emulator/..."), body or NULL.
 * Extra headers may be NULL-terminated list; key NULL = the right key. */
void http_req(emu_server *s, const char *method, const char *path, const char *body, http_resp *r);
void http_req_ex(emu_server *s, const char *method, const char *path, const char *body,
                 const char *key, const char *const *headers, http_resp *r);
void http_free(http_resp *r);
/* Closes the shared handle (the next request opens a new connection). */
void http_reset(void);

/* Shortcuts that assert the status and return the borrowed JSON in r. */
json_t *http_expect(emu_server *s, const char *method, const char *path, const char *body, long status,
                    http_resp *r);
const char *jstr(json_t *o, const char *path); /* "branch.id" style, NULL if missing */
/* Waits until every operation of the project is terminal (bounded). */
void wait_ops(emu_server *s, const char *project);

#endif
