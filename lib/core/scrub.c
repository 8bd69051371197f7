/* The API-key scrubber (rule in scrub.h) and the error boundary built on it. */
#include "scrub.h"

#include <string.h>

#include "alloc.h"
#include "client-private.h"
#include "error.h"
#include "text.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* An escaped character at s[p]: %XX, \uXXXX (ASCII), \/ \\ \". Returns the
 * bytes it takes (0: none) and the character in *ch. */
static size_t escape_at(const char *s, size_t n, size_t p, unsigned char *ch)
{
    if (s[p] == '%' && p + 2 < n) {
        int h = hexval(s[p + 1]), l = hexval(s[p + 2]);
        if (h >= 0 && l >= 0) {
            *ch = (unsigned char)(h * 16 + l);
            return 3;
        }
    }
    if (s[p] == '\\' && p + 1 < n) {
        char e = s[p + 1];
        if (e == '/' || e == '\\' || e == '"') {
            *ch = (unsigned char)e;
            return 2;
        }
        if (e == 'u' && p + 5 < n && s[p + 2] == '0' && s[p + 3] == '0') {
            int h = hexval(s[p + 4]), l = hexval(s[p + 5]);
            if (h >= 0 && l >= 0 && h < 8) {
                *ch = (unsigned char)(h * 16 + l);
                return 6;
            }
        }
    }
    return 0;
}

/* How many characters of key[j..] s[p..] spells (literally or escaped), the
 * longest reading; *src gets the bytes of s that reading takes. */
static size_t run_at(const char *s, size_t n, size_t p, const char *key, size_t kl, size_t j, size_t *src)
{
    size_t matched = 0, used = 0;
    while (p < n && j < kl) {
        unsigned char ch = 0;
        size_t el = escape_at(s, n, p, &ch);
        int esc_ok = el && ch == (unsigned char)key[j];
        int lit_ok = s[p] == key[j];
        if (esc_ok && lit_ok) { /* both readings fit (e.g. "%25" for a '%'): take the longer */
            size_t s1 = 0, s2 = 0;
            size_t m1 = run_at(s, n, p + el, key, kl, j + 1, &s1);
            size_t m2 = run_at(s, n, p + 1, key, kl, j + 1, &s2);
            if (m1 >= m2) {
                *src = used + el + s1;
                return matched + 1 + m1;
            }
            *src = used + 1 + s2;
            return matched + 1 + m2;
        }
        if (!esc_ok && !lit_ok)
            break;
        size_t step = esc_ok ? el : 1;
        p += step;
        used += step;
        matched++;
        j++;
    }
    *src = used;
    return matched;
}

/* The longest key run starting at s[p]: key characters matched, bytes taken. */
static size_t best_run(const char *s, size_t n, size_t p, const char *key, size_t kl, size_t *src)
{
    size_t best = 0, best_src = 0;
    unsigned char ech = 0;
    size_t el = escape_at(s, n, p, &ech);
    for (size_t j = 0; j < kl && kl - j > best; j++) {
        if (key[j] != s[p] && !(el && (unsigned char)key[j] == ech))
            continue; /* the common case: not even the first character */
        size_t sl = 0, m = run_at(s, n, p, key, kl, j, &sl);
        if (m > best) {
            best = m;
            best_src = sl;
        }
    }
    *src = best_src;
    return best;
}

static size_t min_run(size_t kl) { return kl < NEONFLOW__SCRUB_MIN_RUN ? kl : NEONFLOW__SCRUB_MIN_RUN; }

size_t neonflow__scrub_mem(char *data, size_t len, const char *secret)
{
    if (!data || !secret || !*secret)
        return len;
    size_t kl = strlen(secret), need = min_run(kl), w = 0;
    /* The write position never passes the read position: every match takes
     * at least as many bytes as its mark. */
    for (size_t p = 0; p < len;) {
        size_t src = 0, m = best_run(data, len, p, secret, kl, &src);
        if (m >= need && src > 0) {
            size_t mark = src >= 3 ? 3 : src;
            memset(data + w, '*', mark);
            w += mark;
            p += src;
        } else {
            data[w++] = data[p++];
        }
    }
    return w;
}

void neonflow__scrub(char *s, const char *secret)
{
    if (!s)
        return;
    size_t n = neonflow__scrub_mem(s, strlen(s), secret);
    s[n] = '\0';
}

char *neonflow__scrub_prefix(const char *s, size_t n, size_t keep, const char *secret, size_t *out_len)
{
    /* A run starting before `keep` ends at most 6 bytes per key character
     * later (\uXXXX); read that far so the whole run is seen. */
    size_t kl = secret ? strlen(secret) : 0;
    size_t window = keep + 6 * kl + 8;
    if (window > n)
        window = n;
    char *copy = neonflow__malloc(window + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, window);
    window = neonflow__scrub_mem(copy, window, secret);
    copy[window] = '\0';
    *out_len = window;
    return copy;
}

int neonflow__scrub_found(const char *data, size_t len, const char *secret)
{
    if (!data || !secret || !*secret)
        return 0;
    size_t kl = strlen(secret), need = min_run(kl);
    for (size_t p = 0; p < len; p++) {
        size_t src = 0;
        if (best_run(data, len, p, secret, kl, &src) >= need)
            return 1;
    }
    return 0;
}

void neonflow__error_scrub(neonflow_error *e, const char *secret)
{
    if (!e)
        return;
    neonflow__scrub(e->message, secret);
    neonflow__scrub(e->neon_code, secret);
    neonflow__scrub(e->request_id, secret);
    neonflow__scrub(e->method, secret);
    neonflow__scrub(e->path, secret);
    /* text_clean frees what it cannot copy: NULL reads as "" (or strerror). */
    e->message = neonflow__text_clean(e->message, NEONFLOW__MESSAGE_MAX);
    e->neon_code = neonflow__text_clean(e->neon_code, 128);
    e->request_id = neonflow__text_clean(e->request_id, 128);
}

const char *neonflow__client_secret(const struct neonflow_client *c) { return c ? c->cfg.api_key : NULL; }

int neonflow__client_errors(const struct neonflow_client *c, int rc, neonflow_error **err)
{
    if (err && *err)
        neonflow__error_scrub(*err, neonflow__client_secret(c));
    return rc;
}

NEONFLOW_API int neonflow_secret_redact(char **out, const char *text, const char *secret)
{
    if (out)
        *out = NULL;
    if (!out || !text)
        return NEONFLOW_EINVAL;
    if (!(*out = neonflow__strdup(text)))
        return NEONFLOW_ENOMEM;
    neonflow__scrub(*out, secret);
    return NEONFLOW_OK;
}
