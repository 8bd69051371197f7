/* One HTTP exchange through a pooled curl easy handle: options, shared
 * headers, body collection with a size cap, response headers of interest,
 * cancellation and the redacted trace. No policy: see request.c. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "alloc.h"
#include "cancel-private.h"
#include "records.h"
#include "scrub.h"
#include "text.h"
#include "transfer.h"

#define BODY_INITIAL_CAP 4096

/* ---- curl callbacks ------------------------------------------------------- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    neonflow__body *b = userdata;
    size_t n = size * nmemb;
    if (n > b->max || b->len > b->max - n) {
        b->too_big = 1;
        return 0; /* CURLE_WRITE_ERROR */
    }
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : BODY_INITIAL_CAP;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        char *d = neonflow__realloc(b->data, ncap);
        if (!d)
            return 0;
        b->data = d;
        b->cap = ncap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* Copies a header value (after "name:") without surrounding blanks,
 * scrubbed of the key before it is cut to dst. */
static void header_value(char *dst, size_t dstsize, const char *v, size_t n, const char *secret)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    char *copy = neonflow__scrub_prefix(v, n, dstsize, secret, &n);
    if (!copy) {
        dst[0] = '\0';
        return;
    }
    n = neonflow__utf8_cut(copy, n, dstsize - 1);
    memcpy(dst, copy, n);
    dst[n] = '\0';
    neonflow__free(copy);
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    neonflow__attempt *a = userdata;
    size_t n = size * nitems;
    if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        /* A new response (e.g. after 100 Continue): forget earlier headers. */
        a->retry_after[0] = '\0';
        a->resp_rid[0] = '\0';
    } else if (n > 12 && strncasecmp(buf, "retry-after:", 12) == 0) {
        header_value(a->retry_after, sizeof(a->retry_after), buf + 12, n - 12, a->secret);
    } else if (n > 13 && strncasecmp(buf, "x-request-id:", 13) == 0) {
        header_value(a->resp_rid, sizeof(a->resp_rid), buf + 13, n - 13, a->secret);
    }
    return n;
}

static int on_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    const neonflow__transfer *k = clientp;
    return neonflow_cancel_is_triggered(k->cancel) || neonflow_cancel_is_triggered(k->cancel2) ? 1 : 0;
}

/* What the trace hook's records of one attempt share. */
typedef struct trace_ctx {
    const neonflow__transfer *k;
    const neonflow__attempt *a;
} trace_ctx;

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *userptr)
{
    const trace_ctx *tc = userptr;
    const neonflow_client *c = tc->k->c;
    int kind = neonflow__trace_kind(type);
    if (kind < 0 || !c->cfg.trace_hook)
        return 0;
    neonflow_trace_fn fn = (neonflow_trace_fn)c->cfg.trace_hook->fn;
    /* Everything passes through a redacted copy: the request headers carry
     * the key, and nothing else may echo it to the hook either. */
    int headers = kind == NEONFLOW_TRACE_HEADER_OUT || kind == NEONFLOW_TRACE_HEADER_IN;
    size_t n = 0;
    char *copy = neonflow__trace_redact(data, size, c->cfg.api_key, headers, &n);
    if (copy) {
        long status = 0;
        if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
            status = 0;
        struct neonflow_trace_record rec = {kind, copy, n, tc->a->rid, tc->k->method, tc->k->route,
                                            tc->k->run_id, (int32_t)status};
        fn(&rec, c->cfg.trace_hook->payload);
    }
    neonflow__free(copy);
    return 0;
}

/* Every socket the library opens is close-on-exec: a hook that starts a
 * program (fork + exec) must not hand it the API connections. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    (void)clientp;
    (void)purpose;
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* curl_easy_perform would keep a multi handle inside the easy handle, with a
 * wakeup socketpair that libcurl (7.88 at least) opens without
 * close-on-exec: every idle pooled handle would then hand two descriptors to
 * any program a hook starts. A multi of our own lives for one transfer only;
 * the connections stay in the share. */
static void wake_multi(void *arg)
{
    curl_multi_wakeup(arg); /* thread-safe by design */
}

/* The multi's poll returns at once when the cancel token fires (a waker on
 * the token), so a cancel stops a transfer that waits for an answer within
 * milliseconds instead of at curl's next progress tick. *cancelled is set
 * when the transfer was stopped that way. */
static CURLcode perform(CURL *h, neonflow_cancel *cancel, neonflow_cancel *cancel2, int *cancelled)
{
    *cancelled = 0;
    CURLM *m = curl_multi_init();
    if (!m)
        return CURLE_OUT_OF_MEMORY;
    /* The cap applies to the shared cache the handle returns its connection
     * to: without it, 8 threads would keep 4 and reconnect all the time. */
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)NEONFLOW__CONN_CACHE_MAX);
    if (curl_multi_add_handle(m, h) != CURLM_OK) {
        curl_multi_cleanup(m);
        return CURLE_OUT_OF_MEMORY;
    }
    neonflow__cancel_waker waker = {wake_multi, m, NULL}, waker2 = {wake_multi, m, NULL};
    int fired = neonflow__cancel_watch(cancel, &waker), watching = !fired;
    int fired2 = neonflow__cancel_watch(cancel2, &waker2), watching2 = !fired2;
    fired |= fired2;
    CURLcode cc = CURLE_OK;
    int running = 1;
    CURLMcode mc = CURLM_OK;
    while (running && mc == CURLM_OK && !fired) {
        mc = curl_multi_perform(m, &running);
        if (running && mc == CURLM_OK)
            mc = curl_multi_poll(m, NULL, 0, 1000, NULL);
        fired = neonflow_cancel_is_triggered(cancel) || neonflow_cancel_is_triggered(cancel2);
    }
    if (watching) /* before the multi goes: no wake may reach a freed handle */
        neonflow__cancel_unwatch(cancel, &waker);
    if (watching2)
        neonflow__cancel_unwatch(cancel2, &waker2);
    if (mc != CURLM_OK)
        cc = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_RECV_ERROR;
    int left = 0, done = 0;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == h) {
            cc = msg->data.result;
            done = 1;
        }
    if (fired && !done) {
        cc = CURLE_ABORTED_BY_CALLBACK;
        *cancelled = 1;
    }
    curl_multi_remove_handle(m, h);
    curl_multi_cleanup(m);
    return cc;
}

/* ---- easy handle pool ------------------------------------------------------ */

static CURL *handle_take(struct neonflow__transport *t)
{
    CURL *h = NULL;
    pthread_mutex_lock(&t->pool_lock);
    if (t->pool_n > 0)
        h = t->pool[--t->pool_n];
    pthread_mutex_unlock(&t->pool_lock);
    return h ? h : curl_easy_init();
}

static void handle_give_back(struct neonflow__transport *t, CURL *h)
{
    int seen = neonflow__alloc_oom_seen();
    neonflow__alloc_oom_clear();
    curl_easy_reset(h); /* drops every pointer into this call's memory */
    /* a reset that ran out of memory leaves the handle half set up: not reused */
    int broken = neonflow__alloc_oom_seen();
    if (seen)
        neonflow__alloc_oom_mark();
    pthread_mutex_lock(&t->pool_lock);
    if (!broken && t->pool_n < NEONFLOW__POOL_MAX) {
        t->pool[t->pool_n++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&t->pool_lock);
    if (h)
        curl_easy_cleanup(h);
}

/* ---- one attempt ------------------------------------------------------------ */

static void setup_method(CURL *h, const neonflow__transfer *k)
{
    const char *m = k->method;
    /* libcurl silently re-sends a request when a reused connection dies
     * before any answer byte. For a mutation that may already be applied,
     * that is a blind replay: send non-idempotent requests on a fresh
     * connection, where a lost answer surfaces as CURLE_GOT_NOTHING. */
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, neonflow__method_idempotent(m) ? 0L : 1L);
    if (strcmp(m, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        return;
    }
    if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        return;
    }
    if (strcmp(m, "POST") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
    if (k->body || strcmp(m, "DELETE") != 0) {
        /* POST/PATCH/PUT always carry a body (possibly empty: Content-Length: 0). */
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)k->body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, k->body ? k->body : "");
    }
}

int neonflow__transfer_perform(const neonflow__transfer *k, neonflow__attempt *a)
{
    neonflow_client *c = k->c;
    struct neonflow__transport *t = c->transport;
    neonflow__alloc_oom_clear();
    CURL *h = handle_take(t);
    if (!h)
        return NEONFLOW_ENOMEM;
    a->secret = c->cfg.api_key;
    int64_t timeout = k->timeout_ms > 0 ? k->timeout_ms : 1;
    int64_t connect_timeout = c->cfg.connect_timeout_ms;
    if (connect_timeout > timeout)
        connect_timeout = timeout;

    trace_ctx tc = {k, a}; /* lives until the transfer is done */
    char rid_header[96];
    snprintf(rid_header, sizeof(rid_header), "X-Request-ID: %s", a->rid);
    /* Per-attempt nodes in front of the client's shared read-only list. */
    struct curl_slist auth_node = {t->auth_header, k->body ? t->hdr_json : t->hdr_nobody};
    struct curl_slist rid_node = {rid_header, &auth_node};

    curl_easy_setopt(h, CURLOPT_URL, k->url);
    curl_easy_setopt(h, CURLOPT_SHARE, t->share);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 60L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 30L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_timeout);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    neonflow__tls_apply(h, &c->cfg); /* checked when the client was created */
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, &rid_node);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->cfg.max_response_bytes);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, a->errbuf);
    if (k->cancel || k->cancel2) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)k);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    if (c->cfg.trace_hook) {
        curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
        curl_easy_setopt(h, CURLOPT_DEBUGDATA, &tc);
        curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
    }
    setup_method(h, k);
    if (neonflow__alloc_oom_seen()) {
        /* An option curl could not copy (the method, the URL, a header) would
         * send another request than asked, e.g. a DELETE as a GET: send nothing. */
        a->oom = 1;
        a->cc = CURLE_OUT_OF_MEMORY;
        a->status = 0;
        a->sent = 0;
        a->cancelled = 0;
        handle_give_back(t, h);
        return NEONFLOW_OK;
    }

    int stopped = 0;
    a->cc = perform(h, k->cancel, k->cancel2, &stopped);
    /* A transfer that failed after an allocation failed (curl's own while
     * setting options or transferring, or the body buffer's) failed for want
     * of memory, whatever code curl chose. */
    int oom = a->oom = neonflow__alloc_oom_seen();
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    a->status = (int32_t)status;
    long request_size = 0;
    curl_off_t pretransfer = 0;
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &request_size);
    curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
    /* Conservative: once the transfer reached the sending stage, assume the
     * server may have seen the request. */
    a->sent = !neonflow__curl_never_sent(a->cc) && (request_size > 0 || pretransfer > 0);
    a->cancelled = stopped || a->cc == CURLE_ABORTED_BY_CALLBACK;
    if (a->cc == CURLE_WRITE_ERROR && a->body.too_big)
        a->cc = CURLE_FILESIZE_EXCEEDED;
    else if (oom && a->cc != CURLE_OK && !a->cancelled)
        a->cc = CURLE_OUT_OF_MEMORY;
    handle_give_back(t, h);
    return NEONFLOW_OK;
}
