/* Internal JSON helpers for lib/api (see json-util.h). */
#include "json-util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/http.h"
#include "core/jsonio.h"

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

static int bad_type(neonflow_error **err, const char *what, const char *key, const char *want, const json_t *v)
{
    return neonflow__error_set(err, NEONFLOW_EPROTOCOL, "malformed response: %s.%s is %s, expected %s", what, key,
                               type_name(v), want);
}

/* An integer, or a real that holds an exact integer in range. */
static int get_int64(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (isfinite(d) && d == floor(d) && d >= -9.2e18 && d <= 9.2e18) {
            *out = (int64_t)d;
            return 0;
        }
    }
    return -1;
}

int neonflow__parse_fields(const json_t *obj, const neonflow__field *table, size_t n, void *out,
                           const char *what, neonflow_error **err)
{
    if (!json_is_object(obj))
        return neonflow__error_set(err, NEONFLOW_EPROTOCOL, "malformed response: %s is %s, expected object", what,
                                   obj ? type_name(obj) : "missing");
    char *base = out;
    for (size_t i = 0; i < n; i++) {
        const neonflow__field *f = &table[i];
        const json_t *v = json_object_get(obj, f->key);
        int absent = (v == NULL || json_is_null(v));
        if (absent && f->required)
            return neonflow__error_set(err, NEONFLOW_EPROTOCOL,
                                       "malformed response: required field %s.%s is missing", what, f->key);
        switch (f->kind) {
        case NEONFLOW__F_STR:
        case NEONFLOW__F_TIME: {
            const char **dst = (const char **)(base + f->off);
            *dst = NULL;
            if (f->kind == NEONFLOW__F_TIME)
                *(int64_t *)(base + f->off2) = 0;
            if (absent)
                break;
            if (!json_is_string(v))
                return bad_type(err, what, f->key, "string", v);
            *dst = json_string_value(v);
            if (f->kind == NEONFLOW__F_TIME) {
                int64_t ms;
                if (neonflow__rfc3339_ms(*dst, &ms) == 0)
                    *(int64_t *)(base + f->off2) = ms;
            }
            break;
        }
        case NEONFLOW__F_I64:
        case NEONFLOW__F_I32: {
            int64_t val = -1;
            if (!absent && get_int64(v, &val) != 0)
                return bad_type(err, what, f->key, "integer", v);
            if (f->kind == NEONFLOW__F_I32) {
                if (val < INT32_MIN || val > INT32_MAX)
                    return neonflow__error_set(err, NEONFLOW_EPROTOCOL,
                                               "malformed response: %s.%s is out of range", what, f->key);
                *(int32_t *)(base + f->off) = (int32_t)val;
            } else {
                *(int64_t *)(base + f->off) = val;
            }
            break;
        }
        case NEONFLOW__F_BOOL: {
            int *dst = (int *)(base + f->off);
            *dst = -1;
            if (absent)
                break;
            if (!json_is_boolean(v))
                return bad_type(err, what, f->key, "boolean", v);
            *dst = json_is_true(v) ? 1 : 0;
            break;
        }
        case NEONFLOW__F_NUM: {
            double *dst = (double *)(base + f->off);
            *dst = -1.0;
            if (absent)
                break;
            if (!json_is_number(v))
                return bad_type(err, what, f->key, "number", v);
            *dst = json_number_value(v);
            break;
        }
        case NEONFLOW__F_OBJ:
        case NEONFLOW__F_ARR: {
            const json_t **dst = (const json_t **)(base + f->off);
            *dst = NULL;
            if (absent)
                break;
            if (f->kind == NEONFLOW__F_OBJ && !json_is_object(v))
                return bad_type(err, what, f->key, "object", v);
            if (f->kind == NEONFLOW__F_ARR && !json_is_array(v))
                return bad_type(err, what, f->key, "array", v);
            *dst = v;
            break;
        }
        default:
            return neonflow__error_set(err, NEONFLOW_EGENERIC, "internal: bad field kind");
        }
    }
    return NEONFLOW_OK;
}

int neonflow__member(const json_t *root, const char *key, int type, int required, const char *what,
                     json_t **out, neonflow_error **err)
{
    *out = NULL;
    if (!json_is_object(root))
        return neonflow__error_set(err, NEONFLOW_EPROTOCOL, "malformed response: %s body is %s, expected object",
                                   what, root ? type_name(root) : "empty");
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v)) {
        if (required)
            return neonflow__error_set(err, NEONFLOW_EPROTOCOL,
                                       "malformed response: required field %s.%s is missing", what, key);
        return NEONFLOW_OK;
    }
    if ((int)json_typeof(v) != type)
        return bad_type(err, what, key, type == JSON_ARRAY ? "array" : "object", v);
    *out = v;
    return NEONFLOW_OK;
}

/* ---- RFC 3339 ---------------------------------------------------------------- */
static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

int neonflow__rfc3339_ms(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, sec;
    if (!s || strlen(s) < 20)
        return -1;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d))
        return -1;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        return -1;
    if (digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return -1;
    const char *p = s + 19;
    int ms = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        while (*p >= '0' && *p <= '9') {
            if (nd < 3)
                ms = ms * 10 + (*p - '0');
            nd++;
            p++;
        }
        if (nd == 0)
            return -1;
        for (int k = nd; k < 3; k++)
            ms *= 10;
    }
    int off_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        off_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec;
    secs -= (int64_t)off_min * 60;
    *out = secs * 1000 + ms;
    return 0;
}

int neonflow__is_rfc3339(const char *s)
{
    int64_t ms;
    return neonflow__rfc3339_ms(s, &ms) == 0;
}

static int hex_run(const char **p)
{
    int n = 0;
    while ((**p >= '0' && **p <= '9') || (**p >= 'a' && **p <= 'f') || (**p >= 'A' && **p <= 'F')) {
        (*p)++;
        n++;
    }
    return n;
}

int neonflow__is_lsn(const char *s)
{
    if (!s)
        return 0;
    const char *p = s;
    int a = hex_run(&p);
    if (a < 1 || a > 16 || *p != '/')
        return 0;
    p++;
    int b = hex_run(&p);
    return b >= 1 && b <= 16 && *p == '\0';
}

int32_t neonflow__enum_lookup(const char *s, const char *const *names, int32_t absent)
{
    if (!s)
        return absent;
    for (int32_t i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return i + 1;
    return 0;
}

/* ---- raw JSON text ------------------------------------------------------------------ */
/* Fewest significant digits (1-17) that read back as d. */
static int real_digits(double d)
{
    char buf[40];
    for (int p = 1; p < 17; p++) {
        snprintf(buf, sizeof(buf), "%.*g", p, d);
        if (strtod(buf, NULL) == d)
            return p;
    }
    return 17;
}

/* The precision every real of v needs to round-trip (0: no reals). */
static int needed_precision(const json_t *v)
{
    int p = 0, q;
    const char *key;
    size_t i;
    json_t *el;
    switch (json_typeof(v)) {
    case JSON_REAL:
        return isfinite(json_real_value(v)) ? real_digits(json_real_value(v)) : 17;
    case JSON_OBJECT:
        json_object_foreach((json_t *)v, key, el) {
            if ((q = needed_precision(el)) > p)
                p = q;
        }
        return p;
    case JSON_ARRAY:
        json_array_foreach(v, i, el) {
            if ((q = needed_precision(el)) > p)
                p = q;
        }
        return p;
    default:
        return 0;
    }
}

const char *neonflow__json_text(const json_t *obj, neonflow__json_cache *cache)
{
    char *text = atomic_load_explicit(cache, memory_order_acquire);
    if (text || !obj)
        return text;
    /* jansson's default precision prints 0.1 as 0.10000000000000001 */
    int p = needed_precision(obj);
    text = neonflow__json_dumps(obj, JSON_COMPACT | (p ? JSON_REAL_PRECISION(p) : 0), NULL);
    if (!text)
        return NULL;
    char *expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(cache, &expected, text, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        neonflow__json_free(text); /* another thread was first */
        return expected;
    }
    return text;
}

void neonflow__json_cache_reset(neonflow__json_cache *cache) { atomic_init(cache, NULL); }

void neonflow__json_cache_free(neonflow__json_cache *cache)
{
    neonflow__json_free(atomic_exchange(cache, NULL));
}

/* ---- vectors ------------------------------------------------------------------------ */
void neonflow__vec_init(neonflow__vec *v, size_t elem, neonflow__cleanup_fn cleanup)
{
    memset(v, 0, sizeof(*v));
    v->elem = elem;
    v->cleanup = cleanup;
}

void neonflow__vec_clear(neonflow__vec *v)
{
    if (!v)
        return;
    if (v->cleanup)
        for (size_t i = 0; i < v->n; i++)
            v->cleanup(v->items + i * v->elem);
    for (size_t i = 0; i < v->nroots; i++)
        json_decref(v->roots[i]);
    neonflow__free(v->items);
    neonflow__free(v->roots);
    size_t elem = v->elem;
    neonflow__cleanup_fn cleanup = v->cleanup;
    neonflow__vec_init(v, elem, cleanup);
}

int neonflow__vec_hold(neonflow__vec *v, json_t *root)
{
    if (!root)
        return NEONFLOW_OK;
    if (v->nroots == v->caproots) {
        size_t nc = v->caproots ? v->caproots * 2 : 4;
        json_t **nr = neonflow__realloc(v->roots, nc * sizeof(*nr));
        if (!nr)
            return NEONFLOW_ENOMEM;
        v->roots = nr;
        v->caproots = nc;
    }
    v->roots[v->nroots++] = json_incref(root);
    return NEONFLOW_OK;
}

void *neonflow__vec_push(neonflow__vec *v)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 8;
        char *ni = neonflow__realloc(v->items, nc * v->elem);
        if (!ni)
            return NULL;
        v->items = ni;
        v->cap = nc;
    }
    void *it = v->items + v->n * v->elem;
    memset(it, 0, v->elem);
    v->n++;
    return it;
}

void *neonflow__vec_at(const neonflow__vec *v, size_t i)
{
    if (!v || i >= v->n)
        return NULL;
    return v->items + i * v->elem;
}

int neonflow__vec_parse_array(neonflow__vec *v, json_t *root, const json_t *arr, neonflow__parse_fn parse,
                              const char *what, neonflow_error **err)
{
    if (!json_is_array(arr))
        return neonflow__error_set(err, NEONFLOW_EPROTOCOL, "malformed response: %s is not an array", what);
    if (neonflow__vec_hold(v, root) != NEONFLOW_OK)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
    size_t i;
    json_t *el;
    json_array_foreach(arr, i, el) {
        char label[96];
        snprintf(label, sizeof(label), "%s[%zu]", what, i);
        void *it = neonflow__vec_push(v);
        if (!it)
            return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory");
        int rc = parse(el, it, label, err);
        if (rc != NEONFLOW_OK) {
            v->n--; /* the failed item holds nothing that needs cleanup */
            return rc;
        }
    }
    return NEONFLOW_OK;
}

/* ---- string builder ------------------------------------------------------------------ */
static void sb_addn(neonflow__sb *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 64;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *ns = neonflow__realloc(b->s, nc);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = nc;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void neonflow__sb_add(neonflow__sb *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

void neonflow__sb_add_enc(neonflow__sb *b, const char *s)
{
    char *e = neonflow__pct_encode(s);
    if (!e) {
        b->oom = 1;
        return;
    }
    neonflow__sb_add(b, e);
    neonflow__free(e);
}

void neonflow__sb_query(neonflow__sb *b, const char *key, const char *value)
{
    if (!value)
        return;
    neonflow__sb_add(b, (b->s && strchr(b->s, '?')) ? "&" : "?");
    neonflow__sb_add(b, key);
    neonflow__sb_add(b, "=");
    neonflow__sb_add_enc(b, value);
}

char *neonflow__sb_take(neonflow__sb *b)
{
    if (b->oom || !b->s) {
        neonflow__free(b->s);
        memset(b, 0, sizeof(*b));
        return NULL;
    }
    char *s = b->s;
    memset(b, 0, sizeof(*b));
    return s;
}

void neonflow__body_begin(void) { neonflow__alloc_oom_clear(); }

int neonflow__body_error(neonflow_error **err, const char *invalid)
{
    if (neonflow__alloc_oom_seen())
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory building the request body");
    return neonflow__error_set(err, NEONFLOW_EINVAL, "%s", invalid);
}

int neonflow__set_str(char **slot, const char *value)
{
    char *copy = NULL;
    if (value) {
        copy = neonflow__strdup(value);
        if (!copy)
            return NEONFLOW_ENOMEM;
    }
    neonflow__free(*slot);
    *slot = copy;
    return NEONFLOW_OK;
}
