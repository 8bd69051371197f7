/* neonflow CLI — the one gate for text from outside (the API, the library,
 * the command line) on its way to a terminal or a log: the API key redacted
 * (libneonflow's own rule, neonflow_secret_redact) and control characters
 * escaped visibly, so a branch name can neither move the cursor nor forge a
 * line. C0 controls, DEL and bytes that are not UTF-8 print as \xNN (\n, \r,
 * \t as such); C1 controls and bidi overrides as \uNNNN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static char *secret;

void term_set_secret(const char *key)
{
    if (secret) {
        memset(secret, 0, strlen(secret));
        free(secret);
    }
    secret = key && *key ? strdup(key) : NULL;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes) and its code
 * point; 0 when the bytes are not one. */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
    size_t len;
    unsigned long c;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    } else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2, c = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3, c = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4, c = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* Escaped copy of s (malloc'd), or NULL when out of memory. */
static char *escape(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n * 6 + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        const unsigned char *u = (const unsigned char *)s + i;
        unsigned long cp = 0;
        size_t len = utf8_seq(u, n - i, &cp);
        if (len == 0) {
            o += sprintf(o, "\\x%02x", u[0]);
            i++;
        } else if (len == 1 && (cp < 0x20 || cp == 0x7f)) {
            if (cp == '\n' || cp == '\r' || cp == '\t')
                o += sprintf(o, "\\%c", cp == '\n' ? 'n' : cp == '\r' ? 'r' : 't');
            else
                o += sprintf(o, "\\x%02lx", cp);
            i++;
        } else if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
            o += sprintf(o, "\\u%04lx", cp);
            i += len;
        } else {
            memcpy(o, u, len);
            o += len;
            i += len;
        }
    }
    *o = '\0';
    return out;
}

int term_redact(char **out, const char *text)
{
    return neonflow_secret_redact(out, text, secret);
}

char *term_clean(const char *s)
{
    char *red = NULL;
    if (neonflow_secret_redact(&red, s ? s : "", secret) != 0)
        return NULL;
    char *out = escape(red);
    neonflow_free(red);
    return out;
}

/* Results live in a ring: printf arguments of one statement stay valid. */
#define RING 16
static char *ring[RING];
static unsigned ring_next;

const char *term_esc(const char *s)
{
    if (!s)
        return "";
    char *c = term_clean(s);
    if (!c)
        return "(withheld: out of memory)";
    unsigned k = ring_next++ % RING;
    free(ring[k]);
    ring[k] = c;
    return c;
}

int term_width(const char *s)
{
    return (int)strlen(term_esc(s));
}

const char *term_url(const char *url)
{
    if (!url)
        return "";
    /* scheme://[userinfo@]host/path[?query][#fragment]: keep scheme, host, path */
    size_t n = strlen(url);
    char *tmp = malloc(n + 9), *o = tmp;
    if (!tmp)
        return "(withheld: out of memory)";
    const char *sep = strstr(url, "://");
    const char *auth = sep ? sep + 3 : url;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < auth + alen; p++)
        if (*p == '@')
            at = p;
    memcpy(o, url, (size_t)(auth - url));
    o += auth - url;
    if (at) {
        memcpy(o, "***@", 4);
        o += 4;
        auth = at + 1;
    }
    size_t rest = strcspn(auth, "?#");
    memcpy(o, auth, rest);
    o += rest;
    if (auth[rest]) {
        memcpy(o, "?***", 4);
        o += 4;
    }
    *o = '\0';
    const char *r = term_esc(tmp);
    free(tmp);
    return r;
}

void term_free(void)
{
    for (unsigned k = 0; k < RING; k++) {
        free(ring[k]);
        ring[k] = NULL;
    }
    term_set_secret(NULL);
}
