/*
 * One Neon API request: rate limiting, the curl transfer, retries with
 * full-jitter backoff, and the mapping of every failure to a NEONFLOW_E*
 * code with a message that names the request. The policy (what is retried,
 * how long to wait) is in http-policy.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "scrub.h"
#include "text.h"
#include "error.h"
#include "http.h"
#include "ratehook.h"
#include "records.h"
#include "jsonio.h"
#include "transfer.h"

typedef neonflow__attempt attempt;

typedef struct call {
    neonflow_client *c;
    neonflow__call_ctx *ctx;
    const neonflow__request *req;
    const neonflow__sys *sys;
    const char *url;
    const char *body;   /* serialized JSON or NULL */
    size_t body_len;
    char route_key[256];
    const char *route;      /* the template (the path without query when none) */
    const char *project_id; /* in project[], NULL when the request has none */
    char project[64];
    char last_desc[600]; /* the last failure, for ETIMEOUT / ECANCELLED messages */
    int32_t last_status;
    int64_t retry_after_ms; /* Retry-After of the latest answer, -1 when none */
    const char *rid;        /* X-Request-ID of the current attempt, NULL before the first */
} call;

/* What a log line is about: this call (and attempt, when rid is set). */
static struct neonflow_log_record about(const call *k, const char *rid, int32_t status)
{
    struct neonflow_log_record r = {0};
    r.method = k->req->method;
    r.route = k->req->route;
    r.run_id = k->ctx ? k->ctx->run_id : NULL;
    r.request_id = rid;
    r.http_status = status;
    return r;
}

/* ---- errors --------------------------------------------------------------- */

static const char *pick_rid(const neonflow__error_body *eb, const attempt *a)
{
    if (eb && eb->request_id[0])
        return eb->request_id;
    return a->resp_rid[0] ? a->resp_rid : a->rid;
}

/* Describes the failure of attempt a (without the "METHOD PATH: " prefix). */
static void describe(call *k, const attempt *a, const neonflow__error_body *eb, char *out,
                     size_t outsize)
{
    if (a->cc == CURLE_OK) {
        const char *msg = eb && eb->message[0] ? eb->message
                                               : neonflow_strerror(neonflow__status_to_code(a->status));
        if (eb && eb->code[0])
            snprintf(out, outsize, "HTTP %d: %s (code %s)", (int)a->status, msg, eb->code);
        else
            snprintf(out, outsize, "HTTP %d: %s", (int)a->status, msg);
    } else {
        char detail[CURL_ERROR_SIZE];
        snprintf(detail, sizeof(detail), "%s", a->errbuf[0] ? a->errbuf : curl_easy_strerror(a->cc));
        neonflow__scrub(detail, k->c->cfg.api_key);
        snprintf(out, outsize, "%s (%s)", neonflow_strerror(neonflow__curl_to_code(a->cc)), detail);
    }
    neonflow__scrub(out, k->c->cfg.api_key);
}

static int fail_with(call *k, neonflow_error **err, int code, int32_t status, int retryable,
                     const char *neon_code, const char *rid, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static int fail_with(call *k, neonflow_error **err, int code, int32_t status, int retryable,
                     const char *neon_code, const char *rid, const char *fmt, ...)
{
    const char *key = k->c->cfg.api_key;
    va_list ap;
    va_start(ap, fmt);
    char *tail = neonflow__vformat(fmt, ap);
    va_end(ap);
    /* Whole message first, scrubbed, and only then escaped and cut. */
    char *msg = neonflow__format("%s %s: %s", k->req->method, k->req->path,
                                 tail ? tail : neonflow_strerror(code));
    neonflow__free(tail);
    neonflow__scrub(msg, key);
    msg = neonflow__text_clean(msg, NEONFLOW__MESSAGE_MAX);
    struct neonflow_log_record ab = about(k, rid, status);
    neonflow__log(k->c, &ab, code == NEONFLOW_EUNCERTAIN ? NEONFLOW_LOG_WARN : NEONFLOW_LOG_DEBUG,
                  "%s", msg ? msg : neonflow_strerror(code));
    int had = err && *err;
    neonflow__error_set_http(err, code, status, retryable, k->req->method, k->req->path,
                             neon_code && *neon_code ? neon_code : NULL, rid, msg);
    if (err && *err && !had) {
        (*err)->retry_after_ms = k->retry_after_ms;
        neonflow__error_scrub(*err, key);
    }
    neonflow__free(msg);
    return code;
}

/* Neon's error body of an HTTP answer (all fields "" for transport failures). */
static void parse_error_body(const call *k, const attempt *a, neonflow__error_body *eb)
{
    memset(eb, 0, sizeof(*eb));
    if (a->cc != CURLE_OK || a->body.len == 0)
        return;
    json_t *j = neonflow__json_loadb(a->body.data, a->body.len, 0, NULL, NULL);
    neonflow__error_body_parse(j, a->body.data, a->body.len, k->c->cfg.api_key, eb);
    json_decref(j);
}

/* Final error for attempt a whose decision was `decision`; note (may be "")
 * is appended to the message. */
static int fail_attempt(call *k, const attempt *a, int decision, int attempts, const char *note,
                        neonflow_error **err)
{
    neonflow__error_body eb;
    parse_error_body(k, a, &eb);
    char desc[700];
    describe(k, a, &eb, desc, sizeof(desc));
    char after[160] = "";
    if (attempts > 1)
        snprintf(after, sizeof(after), " (gave up after %d attempts)%s", attempts, note);
    else
        snprintf(after, sizeof(after), "%s", note);
    const char *rid = pick_rid(&eb, a);
    if (a->cancelled) {
        return fail_with(k, err, NEONFLOW_ECANCELLED, 0, 0, NULL, rid, "cancelled during the request%s",
                         a->sent && !neonflow__method_idempotent(k->req->method)
                             ? "; it may have been applied: read the state back"
                             : "");
    }
    if (decision == NEONFLOW__RD_UNCERTAIN) {
        return fail_with(k, err, NEONFLOW_EUNCERTAIN, a->status, 0, NULL, rid,
                         "the response was lost after the request was sent (%s%s); it may or may "
                         "not have been applied, so it was not replayed: read the state back "
                         "before trying again",
                         desc, a->deadline_clamped && a->cc == CURLE_OPERATION_TIMEDOUT
                                   ? ", at the caller's deadline"
                                   : "");
    }
    if (a->cc == CURLE_OK) {
        int code = neonflow__status_to_code(a->status);
        return fail_with(k, err, code, a->status, neonflow__status_retryable(k->req->method, a->status),
                         eb.code, rid, "%s%s", desc, after);
    }
    int code = neonflow__curl_to_code(a->cc);
    if (a->cc == CURLE_OPERATION_TIMEDOUT && a->deadline_clamped)
        code = NEONFLOW_ETIMEOUT;
    int retryable = decision == NEONFLOW__RD_RETRY;
    if (a->cc == CURLE_FILESIZE_EXCEEDED)
        return fail_with(k, err, NEONFLOW_ETOOBIG, a->status, 0, NULL, rid,
                         "response larger than the %lld-byte limit (raise it with "
                         "neonflow_client_options_set_max_response_bytes)",
                         (long long)k->c->cfg.max_response_bytes);
    return fail_with(k, err, code, 0, retryable, NULL, rid, "%s%s", desc, after);
}

/* ---- success ------------------------------------------------------------- */

static int all_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

static int succeed(call *k, attempt *a, neonflow__response *resp, neonflow_error **err)
{
    resp->status = a->status;
    if (a->status == 204 || strcmp(k->req->method, "HEAD") == 0 ||
        all_blank(a->body.data ? a->body.data : "", a->body.len))
        return NEONFLOW_OK;
    json_error_t je;
    int oom = 0;
    resp->json = neonflow__json_loadb(a->body.data, a->body.len, 0, &je, &oom);
    if (resp->json)
        return NEONFLOW_OK;
    if (oom) /* the answer may be fine: this process could not hold it */
        return fail_with(k, err, NEONFLOW_ENOMEM, a->status, 0, NULL, a->resp_rid[0] ? a->resp_rid : a->rid,
                         "HTTP %d: out of memory parsing the response%s", (int)a->status,
                         neonflow__method_idempotent(k->req->method) ? ""
                                                                     : "; the request was applied");
    return fail_with(k, err, NEONFLOW_EPROTOCOL, a->status, 0, NULL, a->resp_rid[0] ? a->resp_rid : a->rid,
                     "HTTP %d: the response is not valid JSON: %s (line %d, column %d)%s",
                     (int)a->status, je.text, je.line, je.column,
                     neonflow__method_idempotent(k->req->method) ? ""
                                                                 : "; the request was applied");
}

/* ---- waits ----------------------------------------------------------------- */

static void notify(call *k, int32_t kind, int32_t status, int64_t wait_ms)
{
    if (k->ctx && k->ctx->notify)
        k->ctx->notify(k->ctx->notify_payload, kind, k->req->method, k->req->path, status, wait_ms);
}

static int deadline_error(call *k, neonflow_error **err, const char *what)
{
    if (k->last_desc[0])
        return fail_with(k, err, NEONFLOW_ETIMEOUT, k->last_status, 1, NULL, NULL,
                         "the caller's deadline leaves no time %s; last failure: %s", what,
                         k->last_desc);
    return fail_with(k, err, NEONFLOW_ETIMEOUT, 0, 1, NULL, NULL,
                     "the caller's deadline leaves no time %s", what);
}

static int cancelled_error(call *k, neonflow_error **err)
{
    if (k->last_desc[0])
        return fail_with(k, err, NEONFLOW_ECANCELLED, k->last_status, 0, NULL, NULL,
                         "cancelled while waiting to retry; last failure: %s", k->last_desc);
    return fail_with(k, err, NEONFLOW_ECANCELLED, 0, 0, NULL, NULL, "cancelled");
}

static int is_cancelled(const call *k)
{
    return k->ctx && (neonflow_cancel_is_triggered(k->ctx->cancel) || neonflow_cancel_is_triggered(k->ctx->cancel2));
}

/* Sleeps ms on the seam; NEONFLOW_OK, or ECANCELLED. A sleep wakes on one
 * token: with two, it sleeps in short slices so either stops it promptly. */
static int wait_ms(call *k, int64_t ms, neonflow_error **err)
{
    neonflow_cancel *a = k->ctx ? k->ctx->cancel : NULL, *b = k->ctx ? k->ctx->cancel2 : NULL;
    if (!a || !b || a == b) {
        if (k->sys->sleep_ms(k->sys->ctx, ms, a ? a : b) || is_cancelled(k))
            return cancelled_error(k, err);
        return NEONFLOW_OK;
    }
    for (; ms > 0; ms -= 50)
        if (k->sys->sleep_ms(k->sys->ctx, ms < 50 ? ms : 50, a) || is_cancelled(k))
            return cancelled_error(k, err);
    return is_cancelled(k) ? cancelled_error(k, err) : NEONFLOW_OK;
}

/* Waits `wait` ms the limiter or the hook asked for (why: what held it),
 * cancellable, and refused at once if it would pass the deadline. */
static int limiter_wait(call *k, int64_t wait, const char *why, neonflow_error **err)
{
    int64_t now = k->sys->now_ms(k->sys->ctx);
    if (k->ctx && k->ctx->deadline_ms > 0 && now + wait > k->ctx->deadline_ms)
        return deadline_error(k, err, "for the client-side rate limit");
    notify(k, NEONFLOW__NOTE_RATE_LIMIT_WAIT, 0, wait);
    struct neonflow_log_record ab = about(k, k->rid, 0);
    neonflow__log(k->c, &ab, wait >= 1000 ? NEONFLOW_LOG_INFO : NEONFLOW_LOG_DEBUG,
                  "rate limit: holding %s %s for %lld ms (%s)", k->req->method, k->req->path,
                  (long long)wait, why);
    return wait_ms(k, wait, err);
}

static const char *limit_name(int which)
{
    switch (which) {
    case 1:
        return "requests per minute";
    case 2:
        return "requests per second on this route";
    case 3:
        return "the server's Retry-After";
    default:
        return "rate limit";
    }
}

/* Asks the caller's rate-limit hook: once before an attempt (ACQUIRE, until
 * it grants without a wait), or after a 429 (THROTTLED). */
static int hook_ask(call *k, int32_t kind, neonflow_error **err)
{
    const neonflow__hook *h = k->c->cfg.rate_limit_hook;
    neonflow_rate_limit_fn fn = (neonflow_rate_limit_fn)h->fn;
    for (;;) {
        struct neonflow_rate_limit_request q = {kind, k->req->method, k->route, k->project_id,
                                                kind == NEONFLOW_RATE_LIMIT_THROTTLED ? k->retry_after_ms : -1, 0};
        if (fn(&q, h->payload) != 0) {
            if (kind == NEONFLOW_RATE_LIMIT_THROTTLED)
                return fail_with(k, err, NEONFLOW_EHOOK_FAILED, 429, 0, NULL, k->rid,
                                 "HTTP 429, and the rate-limit hook failed when told so");
            return fail_with(k, err, NEONFLOW_EHOOK_FAILED, 0, 0, NULL, k->rid,
                             "the rate-limit hook failed: the request was not sent");
        }
        if (kind != NEONFLOW_RATE_LIMIT_ACQUIRE || q.wait_ms <= 0)
            return NEONFLOW_OK;
        int rc = limiter_wait(k, q.wait_ms, "the rate-limit hook", err);
        if (rc != NEONFLOW_OK)
            return rc;
    }
}

/* Blocks until the client's rate limiter (or the caller's hook) admits this
 * request: first its paced slot, then the exact windows behind it. */
static int rate_admit(call *k, neonflow__rl_slot *slot, neonflow_error **err)
{
    slot->route = NULL;
    slot->global = 0;
    if (k->c->cfg.rate_limit_hook)
        return hook_ask(k, NEONFLOW_RATE_LIMIT_ACQUIRE, err);
    neonflow__pacer *p = k->c->transport->pacer;
    if (p) {
        int64_t now = k->sys->now_ms(k->sys->ctx);
        int64_t max_wait = -1;
        if (k->ctx && k->ctx->deadline_ms > 0)
            max_wait = k->ctx->deadline_ms > now ? k->ctx->deadline_ms - now : 0;
        int which = 0;
        int64_t start = neonflow__pacer_reserve(p, k->route_key, now, max_wait, &which);
        if (start < 0)
            return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory in the rate limiter");
        if (start > now) {
            int rc = limiter_wait(k, start - now, limit_name(which), err);
            if (rc != NEONFLOW_OK)
                return rc;
        }
    }
    neonflow__ratelimit *rl = k->c->transport->ratelimit;
    for (;;) {
        int64_t now = k->sys->now_ms(k->sys->ctx), wait = 0;
        int which = 0;
        int r = neonflow__ratelimit_reserve(rl, k->route_key, now, slot, &wait, &which);
        if (r == 1)
            return NEONFLOW_OK;
        if (r < 0)
            return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory in the rate limiter");
        int rc = limiter_wait(k, wait, limit_name(which), err);
        if (rc != NEONFLOW_OK)
            return rc;
    }
}

/* A 429 slows everyone down: the hook's store, or the built-in schedule. */
static int throttled(call *k, neonflow_error **err)
{
    if (k->c->cfg.rate_limit_hook)
        return hook_ask(k, NEONFLOW_RATE_LIMIT_THROTTLED, err);
    /* A wait the library does not take itself is the caller's to schedule
     * (the error hands it over): it must not hold every other call. */
    if (k->retry_after_ms <= NEONFLOW__RETRY_AFTER_MAX_MS)
        neonflow__pacer_throttle(k->c->transport->pacer, k->sys->now_ms(k->sys->ctx), k->retry_after_ms);
    return NEONFLOW_OK;
}

/* One exchange with the attempt's timeout cut to the caller's deadline. */
static int attempt_once(call *k, attempt *a)
{
    neonflow__transfer x = {k->c, k->req->method, k->url, k->body, k->body_len,
                            k->c->cfg.request_timeout_ms, k->ctx ? k->ctx->cancel : NULL,
                            k->ctx ? k->ctx->cancel2 : NULL, k->req->route,
                            k->ctx ? k->ctx->run_id : NULL};
    if (k->ctx && k->ctx->deadline_ms > 0) {
        int64_t left = k->ctx->deadline_ms - k->sys->now_ms(k->sys->ctx);
        if (left < x.timeout_ms) {
            x.timeout_ms = left > 1 ? left : 1;
            a->deadline_clamped = 1;
        }
    }
    return neonflow__transfer_perform(&x, a);
}

/* ---- the call ------------------------------------------------------------- */

static int method_known(const char *m)
{
    static const char *const known[] = {"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (m && strcmp(m, known[i]) == 0)
            return 1;
    return 0;
}

static int path_valid(const char *p)
{
    if (!p || p[0] != '/')
        return 0;
    for (; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#')
            return 0;
    return 1;
}

static int64_t retry_wait(call *k, const attempt *a, int retry_index, int64_t *retry_after)
{
    const struct neonflow__config *cfg = &k->c->cfg;
    int64_t wait = neonflow__backoff_ms(cfg->backoff_base_ms, cfg->backoff_cap_ms, retry_index,
                                        k->sys->random(k->sys->ctx));
    *retry_after = -1;
    if (a->cc == CURLE_OK && a->retry_after[0]) {
        *retry_after = neonflow__retry_after_ms(a->retry_after, k->sys->wall_ms(k->sys->ctx));
        if (*retry_after > wait)
            wait = *retry_after;
    }
    return wait;
}

static int run(call *k, neonflow__response *resp, neonflow_error **err)
{
    neonflow__ratelimit *rl = k->c->transport->ratelimit;
    for (int32_t n = 0;; n++) {
        if (is_cancelled(k))
            return cancelled_error(k, err);
        if (k->ctx && k->ctx->deadline_ms > 0 &&
            k->sys->now_ms(k->sys->ctx) >= k->ctx->deadline_ms)
            return deadline_error(k, err, "for another attempt");
        attempt a;
        memset(&a, 0, sizeof(a));
        a.body.max = (size_t)k->c->cfg.max_response_bytes;
        if (k->ctx && k->ctx->request_id) /* the caller's, on every attempt (validated by the setter) */
            snprintf(a.rid, sizeof(a.rid), "%s", k->ctx->request_id);
        else
            neonflow__request_id_make(a.rid, sizeof(a.rid), k->sys->random(k->sys->ctx),
                                      k->sys->random(k->sys->ctx));
        k->rid = a.rid; /* the limiter's and the hook's records name the attempt they hold */
        neonflow__rl_slot slot;
        int rc = rate_admit(k, &slot, err);
        if (rc != NEONFLOW_OK)
            return rc;
        int64_t t0 = k->sys->now_ms(k->sys->ctx);
        rc = attempt_once(k, &a);
        int64_t t1 = k->sys->now_ms(k->sys->ctx);
        neonflow__ratelimit_release(rl, &slot, t1);
        if (rc != NEONFLOW_OK) {
            neonflow__free(a.body.data);
            return neonflow__error_set(err, rc, "out of memory starting a request");
        }
        if (k->ctx)
            k->ctx->calls++;
        resp->attempts = n + 1;
        snprintf(resp->request_id, sizeof(resp->request_id), "%s", a.rid);
        resp->status = a.status;
        k->retry_after_ms = a.cc == CURLE_OK && a.retry_after[0]
                                ? neonflow__retry_after_ms(a.retry_after, k->sys->wall_ms(k->sys->ctx))
                                : -1;

        if (a.cc == CURLE_OK && a.status == 429 && (rc = throttled(k, err)) != NEONFLOW_OK) {
            neonflow__free(a.body.data);
            return rc;
        }
        int decision = a.cancelled ? NEONFLOW__RD_FAIL
                                   : neonflow__retry_decision(k->req->method, a.status, a.cc, a.sent);
        if (decision == NEONFLOW__RD_RETRY && a.status == 423 && k->ctx && k->ctx->locked_no_retry)
            decision = NEONFLOW__RD_FAIL;
        struct neonflow_log_record ab = about(k, a.rid, a.cc == CURLE_OK ? a.status : 0);
        neonflow__log(k->c, &ab, NEONFLOW_LOG_DEBUG, "%s %s -> %s%d in %lld ms (request %s)",
                      k->req->method, k->req->path, a.cc == CURLE_OK ? "HTTP " : "curl error ",
                      a.cc == CURLE_OK ? (int)a.status : (int)a.cc, (long long)(t1 - t0), a.rid);
        if (decision == NEONFLOW__RD_SUCCESS && a.oom && neonflow__method_idempotent(k->req->method)) {
            /* libcurl 7.88 drops a query string it cannot copy and still
             * succeeds: an answer to a request curl may have altered is not trusted */
            neonflow__free(a.body.data);
            return fail_with(k, err, NEONFLOW_ENOMEM, a.status, 0, NULL, a.rid,
                             "out of memory during the transfer: the answer may be to another request");
        }
        if (decision == NEONFLOW__RD_SUCCESS) {
            rc = succeed(k, &a, resp, err);
            neonflow__free(a.body.data);
            return rc;
        }
        if (decision != NEONFLOW__RD_RETRY || n >= k->c->cfg.max_retries) {
            rc = fail_attempt(k, &a, decision, n + 1, "", err);
            neonflow__free(a.body.data);
            return rc;
        }
        /* Retry: remember what failed, wait, go again. */
        neonflow__error_body eb;
        parse_error_body(k, &a, &eb);
        describe(k, &a, &eb, k->last_desc, sizeof(k->last_desc));
        k->last_status = a.status;
        int64_t retry_after = -1;
        int64_t wait = retry_wait(k, &a, n, &retry_after);
        if (retry_after > NEONFLOW__RETRY_AFTER_MAX_MS) {
            rc = fail_attempt(k, &a, NEONFLOW__RD_FAIL, n + 1,
                              "; the server asked to wait more than 5 minutes before retrying", err);
            neonflow__free(a.body.data);
            return rc;
        }
        neonflow__free(a.body.data);
        if (k->ctx && k->ctx->deadline_ms > 0 &&
            k->sys->now_ms(k->sys->ctx) + wait >= k->ctx->deadline_ms)
            return deadline_error(k, err, "for another attempt");
        notify(k, NEONFLOW__NOTE_RETRY, a.status, wait);
        neonflow__log(k->c, &ab, NEONFLOW_LOG_INFO, "retrying %s %s in %lld ms (retry %d of %d): %s",
                      k->req->method, k->req->path, (long long)wait, (int)n + 1,
                      (int)k->c->cfg.max_retries, k->last_desc);
        if (k->ctx)
            k->ctx->retries++;
        rc = wait_ms(k, wait, err);
        if (rc != NEONFLOW_OK)
            return rc;
    }
}

int neonflow__http_call(neonflow_client *c, neonflow__call_ctx *ctx, const neonflow__request *req,
                        neonflow__response *resp, neonflow_error **err)
{
    neonflow__response scratch;
    if (!resp)
        resp = &scratch;
    memset(resp, 0, sizeof(*resp));
    if (!c || !c->transport || !req)
        return neonflow__error_set(err, NEONFLOW_EINVAL, "HTTP call without client or request");
    if (!method_known(req->method))
    {
        char m[40];
        return neonflow__error_set(err, NEONFLOW_EINVAL, "unsupported HTTP method \"%s\"",
                                   neonflow__echo(m, sizeof(m), req->method));
    }
    if (!path_valid(req->path)) {
        char p[200];
        return neonflow__error_set(err, NEONFLOW_EINVAL,
                                   "request path must start with '/' and be percent-encoded: \"%s\"",
                                   neonflow__echo(p, sizeof(p), req->path));
    }
    call k;
    memset(&k, 0, sizeof(k));
    k.c = c;
    k.ctx = ctx;
    k.req = req;
    k.sys = neonflow__client_sys(c);
    k.retry_after_ms = -1;
    if (req->route) {
        snprintf(k.route_key, sizeof(k.route_key), "%s %s", req->method, req->route);
    } else {
        size_t q = strcspn(req->path, "?");
        snprintf(k.route_key, sizeof(k.route_key), "%s %.*s", req->method, (int)(q > 200 ? 200 : q),
                 req->path);
    }
    k.route = req->route ? req->route : k.route_key + strlen(req->method) + 1;
    k.project_id = neonflow__project_from_path(req->route, req->path, k.project, sizeof(k.project));
    size_t ulen = strlen(c->cfg.base_url) + strlen(req->path) + 1;
    char *url = neonflow__malloc(ulen);
    char *body = NULL;
    if (url)
        snprintf(url, ulen, "%s%s", c->cfg.base_url, req->path);
    if (req->body)
        body = neonflow__json_dumps(req->body, JSON_COMPACT, NULL);
    if (!url || (req->body && !body)) {
        neonflow__free(url);
        neonflow__json_free(body);
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory building %s %.200s",
                                   req->method, req->path);
    }
    k.url = url;
    k.body = body;
    k.body_len = body ? strlen(body) : 0;
    int rc = run(&k, resp, err);
    if (rc != NEONFLOW_OK) {
        json_decref(resp->json);
        resp->json = NULL;
    }
    neonflow__free(url);
    neonflow__json_free(body);
    if (resp == &scratch)
        neonflow__response_clear(&scratch);
    return rc;
}

void neonflow__response_clear(neonflow__response *resp)
{
    if (!resp)
        return;
    json_decref(resp->json);
    memset(resp, 0, sizeof(*resp));
}
