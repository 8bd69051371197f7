/* Escaping and UTF-8-safe cutting of echoed input, and formatting without a
 * fixed-size buffer (so nothing is cut before it is scrubbed). */
#include "text.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"

/* Length of the valid UTF-8 sequence at s[0..len) and its code point, or 0
 * when the bytes there are not one (overlong, surrogate, > U+10FFFF, cut). */
static size_t utf8_seq(const unsigned char *s, size_t len, unsigned long *cp)
{
    unsigned char b = s[0];
    size_t n;
    unsigned long c;
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
        n = 2;
        c = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
        n = 3;
        c = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 4;
        c = b & 0x07;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

size_t neonflow__utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    /* Step back over continuation bytes to the start of the cut sequence. */
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

static int cp_needs_escape(unsigned long cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The printable form of the unit at s[i]; returns bytes consumed, fills out
 * (NUL-terminated, at most 12 bytes). */
static size_t unit_text(const char *s, size_t len, size_t i, char out[16])
{
    const unsigned char *u = (const unsigned char *)s + i;
    unsigned long cp = 0;
    size_t n = utf8_seq(u, len - i, &cp);
    if (n == 0) {
        snprintf(out, 16, "\\x%02x", u[0]);
        return 1;
    }
    if (n == 1) {
        unsigned char b = u[0];
        if (b == '\n')
            strcpy(out, "\\n");
        else if (b == '\r')
            strcpy(out, "\\r");
        else if (b == '\t')
            strcpy(out, "\\t");
        else if (b < 0x20 || b == 0x7f)
            snprintf(out, 16, "\\x%02x", b);
        else {
            out[0] = (char)b;
            out[1] = '\0';
        }
        return 1;
    }
    if (cp_needs_escape(cp)) {
        snprintf(out, 16, "\\u%04lx", cp);
        return n;
    }
    memcpy(out, u, n);
    out[n] = '\0';
    return n;
}

const char *neonflow__echo_mem(char *dst, size_t dstsize, const char *s, size_t len)
{
    if (!dst || dstsize == 0)
        return dst;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        char t[16];
        size_t used = unit_text(s, len, i, t);
        size_t tl = strlen(t);
        /* keep room for "..." unless this is the last unit and it fits */
        size_t room = dstsize - 1 - o;
        int last = i + used >= len;
        if (tl > room || (!last && tl + 3 > room)) {
            size_t dots = room < 3 ? room : 3;
            memcpy(dst + o, "...", dots);
            o += dots;
            break;
        }
        memcpy(dst + o, t, tl);
        o += tl;
        i += used;
    }
    dst[o] = '\0';
    return dst;
}

const char *neonflow__echo(char *dst, size_t dstsize, const char *s)
{
    if (!s)
        s = "(null)";
    return neonflow__echo_mem(dst, dstsize, s, strlen(s));
}

const char *neonflow__echo_url(char *dst, size_t dstsize, const char *url)
{
    if (!url)
        return neonflow__echo(dst, dstsize, NULL);
    size_t n = strlen(url);
    char *tmp = neonflow__malloc(n + 8);
    if (!tmp)
        return neonflow__echo(dst, dstsize, "(URL withheld)");
    const char *sep = strstr(url, "://");
    const char *auth = sep ? sep + 3 : url;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < auth + alen; p++)
        if (*p == '@')
            at = p;
    size_t o = 0;
    memcpy(tmp, url, (size_t)(auth - url));
    o = (size_t)(auth - url);
    if (at) {
        memcpy(tmp + o, "***@", 4);
        o += 4;
        auth = at + 1;
    }
    size_t rest = strcspn(auth, "?#");
    memcpy(tmp + o, auth, rest);
    o += rest;
    if (auth[rest]) {
        memcpy(tmp + o, "?***", 4);
        o += 4;
    }
    neonflow__echo_mem(dst, dstsize, tmp, o);
    neonflow__free(tmp);
    return dst;
}

char *neonflow__text_clean(char *s, size_t max)
{
    if (!s)
        return NULL;
    size_t len = strlen(s), esc = 0;
    int changed = 0;
    for (size_t i = 0; i < len;) {
        char t[16];
        size_t used = unit_text(s, len, i, t);
        size_t tl = strlen(t);
        changed |= tl != used || memcmp(t, s + i, used) != 0;
        esc += tl;
        i += used;
    }
    if (!changed && len <= max)
        return s;
    size_t cap = (esc < max ? esc : max) + 1;
    char *out = neonflow__malloc(cap);
    if (out)
        neonflow__echo_mem(out, cap, s, len);
    neonflow__free(s);
    return out;
}

char *neonflow__vformat(const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0)
        return NULL;
    char *s = neonflow__malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *neonflow__format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = neonflow__vformat(fmt, ap);
    va_end(ap);
    return s;
}
