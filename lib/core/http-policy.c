/* Pure helpers of the request path: the retry decision table, error and
 * status mapping, backoff, Retry-After, error bodies and trace redaction. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "scrub.h"
#include "text.h"
#include "transport-private.h"

int neonflow__method_idempotent(const char *method)
{
    return method && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
                      strcmp(method, "OPTIONS") == 0);
}

int neonflow__curl_never_sent(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return 1;
    default:
        return 0;
    }
}

static int curl_is_tls_failure(CURLcode cc)
{
    switch (cc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

/* Transfer failures after which the answer was lost or cut short: replayable
 * only when the request is idempotent or provably never went out. */
static int curl_is_lost_response(CURLcode cc)
{
    switch (cc) {
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

int neonflow__retry_decision(const char *method, int32_t status, CURLcode cc, int sent)
{
    int idem = neonflow__method_idempotent(method);
    if (cc == CURLE_OK) {
        if (status >= 200 && status < 300)
            return NEONFLOW__RD_SUCCESS;
        if (status == 423 || status == 429 || status == 503)
            return NEONFLOW__RD_RETRY;
        if (status >= 500 && status < 600)
            return idem ? NEONFLOW__RD_RETRY : NEONFLOW__RD_FAIL;
        return NEONFLOW__RD_FAIL;
    }
    if (neonflow__curl_never_sent(cc))
        return NEONFLOW__RD_RETRY;
    if (cc == CURLE_SSL_CONNECT_ERROR) /* handshake reset: nothing was sent yet */
        return NEONFLOW__RD_RETRY;
    if (curl_is_tls_failure(cc))
        return NEONFLOW__RD_FAIL; /* certificate problems do not heal by retrying */
    if (cc == CURLE_OUT_OF_MEMORY) /* retrying will not find memory; a sent mutation's fate is unknown */
        return sent && !idem ? NEONFLOW__RD_UNCERTAIN : NEONFLOW__RD_FAIL;
    if (curl_is_lost_response(cc)) {
        if (!sent || idem)
            return NEONFLOW__RD_RETRY;
        return NEONFLOW__RD_UNCERTAIN;
    }
    return NEONFLOW__RD_FAIL;
}

int neonflow__status_to_code(int32_t status)
{
    switch (status) {
    case 400:
    case 422:
        return NEONFLOW_EBADREQUEST;
    case 401:
    case 403:
        return NEONFLOW_EAUTH;
    case 404:
        return NEONFLOW_ENOTFOUND;
    case 409:
        return NEONFLOW_ECONFLICT;
    case 423:
        return NEONFLOW_ELOCKED;
    case 429:
        return NEONFLOW_ERATELIMIT;
    default:
        break;
    }
    if (status >= 500 && status < 600)
        return NEONFLOW_ESERVER;
    if (status >= 400 && status < 500)
        return NEONFLOW_EAPI;
    return NEONFLOW_EPROTOCOL; /* 1xx/3xx or garbage: not something the API sends */
}

int neonflow__status_retryable(const char *method, int32_t status)
{
    if (status == 423 || status == 429 || status == 503)
        return 1;
    return status >= 500 && status < 600 && neonflow__method_idempotent(method);
}

int neonflow__curl_to_code(CURLcode cc)
{
    switch (cc) {
    case CURLE_OK:
        return NEONFLOW_OK;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return NEONFLOW_ERESOLVE;
    case CURLE_COULDNT_CONNECT:
        return NEONFLOW_ECONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return NEONFLOW_ENETTIMEOUT;
    case CURLE_FILESIZE_EXCEEDED:
        return NEONFLOW_ETOOBIG;
    case CURLE_OUT_OF_MEMORY:
        return NEONFLOW_ENOMEM;
    case CURLE_ABORTED_BY_CALLBACK:
        return NEONFLOW_ECANCELLED;
    case CURLE_PARTIAL_FILE:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_WEIRD_SERVER_REPLY:
        return NEONFLOW_EPROTOCOL;
    default:
        break;
    }
    return curl_is_tls_failure(cc) ? NEONFLOW_ETLS : NEONFLOW_ETRANSPORT;
}

int64_t neonflow__backoff_ms(int64_t base_ms, int64_t cap_ms, int32_t retry_index, uint64_t rnd)
{
    if (base_ms < 1)
        base_ms = 1;
    if (cap_ms < base_ms)
        cap_ms = base_ms;
    if (retry_index < 0)
        retry_index = 0;
    int64_t ceiling = cap_ms;
    if (retry_index < 62 && base_ms <= (cap_ms >> retry_index))
        ceiling = base_ms << retry_index;
    return (int64_t)(rnd % (uint64_t)ceiling);
}

int64_t neonflow__retry_after_ms(const char *value, int64_t wall_now_ms)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t' || value[n - 1] == '\r' ||
                     value[n - 1] == '\n'))
        n--;
    if (n == 0 || n > 100)
        return -1;
    char buf[128];
    memcpy(buf, value, n);
    buf[n] = '\0';
    size_t digits = strspn(buf, "0123456789");
    if (digits == n) {
        if (n > 9) /* more than ~31 years: treat as "a very long time" */
            return 999999999LL * 1000;
        long long s = 0;
        for (size_t i = 0; i < n; i++)
            s = s * 10 + (buf[i] - '0');
        return (int64_t)s * 1000;
    }
    /* An HTTP-date always names a month or a weekday; refuse anything
     * without letters (e.g. "-5", "1.5") instead of guessing. */
    int letters = 0;
    for (size_t i = 0; i < n; i++)
        if (isalpha((unsigned char)buf[i]))
            letters = 1;
    if (!letters)
        return -1;
    time_t t = curl_getdate(buf, NULL);
    if (t == (time_t)-1)
        return -1;
    int64_t ms = (int64_t)t * 1000 - wall_now_ms;
    return ms > 0 ? ms : 0;
}

void neonflow__request_id_make(char *out, size_t outlen, uint64_t a, uint64_t b)
{
    snprintf(out, outlen, "nf-%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

/* Copies s into dst as one printable line: scrubbed of the key first, then
 * controls escaped and cut at a character boundary. */
static void copy_line(char *dst, size_t dstsize, const char *s, size_t n, const char *secret)
{
    char *copy = neonflow__scrub_prefix(s, n, dstsize, secret, &n);
    if (!copy) {
        dst[0] = '\0';
        return;
    }
    while (n > 0 && (copy[n - 1] == ' ' || copy[n - 1] == '\n' || copy[n - 1] == '\r' || copy[n - 1] == '\t'))
        n--;
    neonflow__echo_mem(dst, dstsize, copy, n);
    neonflow__free(copy);
}

static void copy_json_scalar(char *dst, size_t dstsize, const json_t *v, const char *secret)
{
    dst[0] = '\0';
    if (json_is_string(v)) {
        copy_line(dst, dstsize, json_string_value(v), json_string_length(v), secret);
    } else if (json_is_integer(v)) {
        snprintf(dst, dstsize, "%lld", (long long)json_integer_value(v));
    }
}

void neonflow__error_body_parse(const json_t *json, const char *raw, size_t raw_len, const char *secret,
                                neonflow__error_body *out)
{
    memset(out, 0, sizeof(*out));
    if (json_is_object(json)) {
        const json_t *src = json;
        const json_t *nested = json_object_get(json, "error");
        if (json_is_object(nested)) {
            src = nested;
        } else if (json_is_string(nested) && !json_object_get(json, "message")) {
            copy_json_scalar(out->message, sizeof(out->message), nested, secret);
        }
        copy_json_scalar(out->code, sizeof(out->code), json_object_get(src, "code"), secret);
        if (!out->message[0])
            copy_json_scalar(out->message, sizeof(out->message), json_object_get(src, "message"), secret);
        copy_json_scalar(out->request_id, sizeof(out->request_id),
                         json_object_get(src, "request_id"), secret);
        if (!out->request_id[0] && src != json)
            copy_json_scalar(out->request_id, sizeof(out->request_id),
                             json_object_get(json, "request_id"), secret);
        return;
    }
    if (json || !raw || raw_len == 0)
        return; /* JSON but not an object (array, number...): nothing useful */
    /* Not JSON (an HTML error page from a proxy, plain text): keep a snippet. */
    char snippet[204];
    copy_line(snippet, sizeof(snippet), raw, raw_len, secret);
    snprintf(out->message, sizeof(out->message), "%s", snippet);
}

static int starts_with_ci(const char *s, size_t n, const char *prefix)
{
    size_t pl = strlen(prefix);
    if (n < pl)
        return 0;
    for (size_t i = 0; i < pl; i++)
        if (tolower((unsigned char)s[i]) != prefix[i])
            return 0;
    return 1;
}

char *neonflow__trace_redact(const char *data, size_t len, const char *secret, int headers,
                             size_t *out_len)
{
    static const char repl[] = "Authorization: Bearer ***";
    size_t lines = 1;
    for (size_t i = 0; headers && i < len; i++)
        if (data[i] == '\n')
            lines++;
    /* Worst case: every line grows to the replacement; scrubbing never grows. */
    size_t cap = len + lines * sizeof(repl) + 1;
    char *out = neonflow__malloc(cap);
    if (!out)
        return NULL;
    size_t o = 0;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && data[end] != '\n')
            end++;
        size_t eol = end < len ? end + 1 : end; /* include '\n' */
        size_t content_end = end;
        if (content_end > i && data[content_end - 1] == '\r')
            content_end--;
        if (headers && (starts_with_ci(data + i, content_end - i, "authorization:") ||
                        starts_with_ci(data + i, content_end - i, "proxy-authorization:"))) {
            memcpy(out + o, repl, sizeof(repl) - 1);
            o += sizeof(repl) - 1;
            memcpy(out + o, data + content_end, eol - content_end); /* "\r\n" or "\n" */
            o += eol - content_end;
        } else {
            memcpy(out + o, data + i, eol - i);
            o += eol - i;
        }
        i = eol;
    }
    o = neonflow__scrub_mem(out, o, secret);
    out[o] = '\0';
    *out_len = o;
    return out;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int neonflow__route_holds_secret(const char *route)
{
    return route && (ends_with(route, "/connection_uri") || ends_with(route, "/reveal_password"));
}

int neonflow__trace_kind(curl_infotype type)
{
    switch (type) {
    case CURLINFO_TEXT:
        return NEONFLOW_TRACE_INFO;
    case CURLINFO_HEADER_OUT:
        return NEONFLOW_TRACE_HEADER_OUT;
    case CURLINFO_DATA_OUT:
        return NEONFLOW_TRACE_DATA_OUT;
    case CURLINFO_HEADER_IN:
        return NEONFLOW_TRACE_HEADER_IN;
    case CURLINFO_DATA_IN:
        return NEONFLOW_TRACE_DATA_IN;
    default:
        return -1; /* TLS records are binary noise */
    }
}
