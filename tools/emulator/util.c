/* Small helpers: clocks, time and LSN formats, seeded IDs, path patterns. */
#include "emu_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int emu_vec_push(emu_vec *vec, void *p)
{
    if (vec->n == vec->cap) {
        size_t ncap = vec->cap ? vec->cap * 2 : 8;
        void **nv = realloc(vec->v, ncap * sizeof(*nv));
        if (!nv)
            return -1;
        vec->v = nv;
        vec->cap = ncap;
    }
    vec->v[vec->n++] = p;
    return 0;
}

void emu_vec_remove(emu_vec *vec, size_t i)
{
    if (i >= vec->n)
        return;
    memmove(&vec->v[i], &vec->v[i + 1], (vec->n - i - 1) * sizeof(*vec->v));
    vec->n--;
}

int64_t emu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t emu_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void emu_fmt_time(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void emu_fmt_time_us(int64_t us, char *buf, size_t len)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    char tmp[32];
    gmtime_r(&t, &tm);
    strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%06lldZ", tmp, (long long)(us % 1000000));
}

/* Parses RFC 3339; returns microseconds since the epoch or -1. A '+' in the
 * offset may arrive as ' ' when a client forgot to percent-encode it. */
int64_t emu_parse_time_us(const char *s)
{
    if (!s)
        return -1;
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%*[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n < 19)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
        return -1;
    const char *p = s + n;
    int64_t frac_us = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        int64_t scale = 100000;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p)) {
            if (digits < 6)
                frac_us += (*p - '0') * scale;
            scale /= 10;
            digits++;
            p++;
        }
    }
    int64_t off_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-' || *p == ' ') {
        int sign = *p == '-' ? -1 : 1;
        int oh, om;
        if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || p[3] != ':' ||
            !isdigit((unsigned char)p[4]) || !isdigit((unsigned char)p[5]))
            return -1;
        oh = (p[1] - '0') * 10 + (p[2] - '0');
        om = (p[4] - '0') * 10 + (p[5] - '0');
        if (oh > 23 || om > 59)
            return -1;
        off_s = sign * (oh * 3600 + om * 60);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    return ((int64_t)t - off_s) * 1000000 + frac_us;
}

int64_t emu_parse_time_ms(const char *s)
{
    int64_t us = emu_parse_time_us(s);
    return us < 0 ? -1 : us / 1000;
}

void emu_fmt_lsn(uint64_t lsn, char *buf, size_t len)
{
    snprintf(buf, len, "%X/%X", (unsigned)(lsn >> 32), (unsigned)(lsn & 0xffffffffu));
}

int emu_parse_lsn(const char *s, uint64_t *out)
{
    if (!s)
        return -1;
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || slash - s > 8 || !slash[1] || strlen(slash + 1) > 8)
        return -1;
    for (const char *p = s; *p; p++)
        if (p != slash && !isxdigit((unsigned char)*p))
            return -1;
    uint64_t hi = strtoull(s, NULL, 16), lo = strtoull(slash + 1, NULL, 16);
    *out = (hi << 32) | lo;
    return 0;
}

/* splitmix64: small, seedable, good enough for IDs and fault dice. */
uint64_t emu_rand(emu_server *s)
{
    uint64_t z = (s->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double emu_rand_unit(emu_server *s)
{
    return (double)(emu_rand(s) >> 11) / (double)(1ull << 53);
}

static const char *const adjectives[] = {
    "aged", "bold", "calm", "cool", "damp", "dry", "empty", "fancy", "gentle", "green",
    "holy", "icy", "late", "lively", "lucky", "misty", "morning", "muddy", "noisy", "odd",
    "old", "plain", "proud", "quiet", "rapid", "red", "round", "shiny", "silent", "small",
    "snowy", "solitary", "square", "still", "summer", "sweet", "tiny", "twilight", "wild", "young",
};
static const char *const nouns[] = {
    "band", "bar", "base", "bird", "block", "boat", "breeze", "brook", "bush", "cake",
    "cell", "cherry", "cloud", "credit", "darkness", "dawn", "dew", "disk", "dream", "dust",
    "field", "fire", "flower", "fog", "forest", "frog", "glade", "grass", "haze", "hill",
    "lake", "leaf", "meadow", "moon", "mountain", "night", "paper", "pine", "rain", "river",
    "salad", "sea", "shadow", "sky", "smoke", "snow", "sound", "star", "sun", "surf",
    "thunder", "tree", "violet", "water", "wave", "wind", "wood",
};

void emu_gen_id(emu_server *s, const char *prefix, char *out, size_t len)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    char tail[9];
    const char *a = adjectives[emu_rand(s) % (sizeof(adjectives) / sizeof(*adjectives))];
    const char *n = nouns[emu_rand(s) % (sizeof(nouns) / sizeof(*nouns))];
    for (int i = 0; i < 8; i++)
        tail[i] = alnum[emu_rand(s) % 36];
    tail[8] = '\0';
    snprintf(out, len, "%s-%s-%s-%s", prefix, a, n, tail);
}

void emu_gen_uuid(emu_server *s, char *out, size_t len)
{
    uint64_t a = emu_rand(s), b = emu_rand(s);
    snprintf(out, len, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)((a >> 16) & 0xffff), (unsigned)(a & 0xfff),
             (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
             (unsigned long long)(b & 0xffffffffffffull));
}

/* '*' matches one segment; a trailing "**" matches whatever is left. */
int emu_path_match(const char *pattern, const char *path)
{
    if (!pattern)
        return 1;
    if (!path)
        return 0;
    const char *p = pattern, *s = path;
    for (;;) {
        if (p[0] == '*' && p[1] == '*' && p[2] == '\0')
            return 1;
        if (p[0] == '/' && p[1] == '*' && p[2] == '*' && p[3] == '\0')
            return *s == '\0' || *s == '/';
        if (*p == '*') {
            p++;
            while (*s && *s != '/')
                s++;
            continue;
        }
        if (*p == '\0' || *s == '\0')
            return *p == *s;
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
}

int emu_valid_id(const char *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (; s[n]; n++)
        if (!(islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '-'))
            return 0;
    return n >= 1 && n <= 60;
}

char *emu_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

void emu_set_str(char **dst, const char *src)
{
    char *n = emu_strdup(src);
    free(*dst);
    *dst = n;
}

json_t *emu_error_body(const char *code, const char *message, const char *request_id)
{
    json_t *o = json_object();
    json_object_set_new(o, "code", json_string(code ? code : ""));
    json_t *msg = json_string(message ? message : "");
    /* a message cut inside a UTF-8 sequence is not a JSON string */
    json_object_set_new(o, "message", msg ? msg : json_string("invalid request"));
    if (request_id)
        json_object_set_new(o, "request_id", json_string(request_id));
    return o;
}
