#include "emu_http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>

static CURL *shared;

int fx_start(emu_fixture *fx, const emu_config *cfg)
{
    emu_config c;
    if (cfg) {
        c = *cfg;
    } else {
        emu_config_init(&c);
        c.rate_per_minute = 0;
        c.rate_per_second_route = 0;
    }
    memset(fx, 0, sizeof(*fx));
    if (emu_start(&fx->s, &c) != 0)
        return -1;
    http_reset(); /* a new server: never reuse a connection to the old one */
    return emu_add_project(fx->s, "proj", "main", fx->bid, fx->eid);
}

void fx_stop(emu_fixture *fx)
{
    http_reset();
    emu_stop(fx->s);
    fx->s = NULL;
}

void http_reset(void)
{
    if (shared)
        curl_easy_cleanup(shared);
    shared = NULL;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    http_resp *r = ud;
    size_t n = size * nmemb;
    char *nb = realloc(r->body, r->len + n + 1);
    if (!nb)
        return 0;
    memcpy(nb + r->len, ptr, n);
    r->body = nb;
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

static void copy_header_value(const char *line, size_t n, size_t skip, char *out, size_t outlen)
{
    const char *v = line + skip;
    size_t vl = n - skip;
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    if (vl >= outlen)
        vl = outlen - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ud)
{
    http_resp *r = ud;
    size_t n = size * nmemb;
    if (n > 13 && strncasecmp(line, "X-Request-ID:", 13) == 0)
        copy_header_value(line, n, 13, r->request_id, sizeof(r->request_id));
    if (n > 12 && strncasecmp(line, "Retry-After:", 12) == 0) {
        copy_header_value(line, n, 12, r->retry_after, sizeof(r->retry_after));
        r->has_retry_after = 1;
    }
    return n;
}

void http_req_ex(emu_server *s, const char *method, const char *path, const char *body,
                 const char *key, const char *const *headers, http_resp *r)
{
    char url[1024], auth[256];
    struct curl_slist *hl = NULL;
    memset(r, 0, sizeof(*r));
    if (!shared)
        shared = curl_easy_init();
    CURL *h = shared;
    curl_easy_reset(h);
    if (strncmp(path, "/__emulator", 11) == 0)
        snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)emu_port(s), path);
    else
        snprintf(url, sizeof(url), "%s%s", emu_base_url(s), path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key ? key : "emulator-key");
    if (!(key && !*key))
        hl = curl_slist_append(hl, auth);
    hl = curl_slist_append(hl, "Accept: application/json");
    if (body)
        hl = curl_slist_append(hl, "Content-Type: application/json");
    for (size_t i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    r->rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hl);
    if (r->body && r->rc == CURLE_OK)
        r->json = json_loads(r->body, 0, NULL);
    if (r->rc != CURLE_OK)
        http_reset(); /* the connection is gone */
}

void http_req(emu_server *s, const char *method, const char *path, const char *body, http_resp *r)
{
    http_req_ex(s, method, path, body, NULL, NULL, r);
}

void http_free(http_resp *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

json_t *http_expect(emu_server *s, const char *method, const char *path, const char *body, long status,
                    http_resp *r)
{
    http_req(s, method, path, body, r);
    if (r->rc != CURLE_OK || r->status != status)
        fprintf(stderr, "# %s %s -> rc %d status %ld body %s\n", method, path, (int)r->rc, r->status,
                r->body ? r->body : "");
    assert_int_equal(r->rc, CURLE_OK);
    assert_int_equal(r->status, status);
    return r->json;
}

const char *jstr(json_t *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    char *save = NULL;
    for (char *t = strtok_r(buf, ".", &save); t && o; t = strtok_r(NULL, ".", &save)) {
        if (json_is_array(o))
            o = json_array_get(o, (size_t)atoi(t));
        else
            o = json_object_get(o, t);
    }
    return json_is_string(o) ? json_string_value(o) : NULL;
}

void wait_ops(emu_server *s, const char *project)
{
    char path[256];
    snprintf(path, sizeof(path), "/projects/%s/operations?limit=1000", project);
    for (int i = 0; i < 500; i++) {
        http_resp r;
        http_req(s, "GET", path, NULL, &r);
        int busy = 0;
        size_t k;
        json_t *op;
        json_array_foreach(json_object_get(r.json, "operations"), k, op) {
            const char *st = jstr(op, "status");
            if (st && (!strcmp(st, "scheduling") || !strcmp(st, "running") || !strcmp(st, "failed")))
                busy = 1;
        }
        http_free(&r);
        if (!busy)
            return;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fail_msg("operations did not finish");
}
