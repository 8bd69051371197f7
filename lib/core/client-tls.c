/* What a control plane configures on the transport: the environment opt-in,
 * proxy, trust anchors (file, directory or in-memory bundle), a client
 * certificate and the minimum TLS version. Setters validate; the client
 * checks the whole set once against libcurl when it is created. */
#include <curl/curl.h>
#include <string.h>

#include "alloc.h"
#include "client-private.h"
#include "error.h"

#define PATH_MAX_LEN 4096
#define PROXY_MAX 2048
#define BLOB_MAX (16u * 1024 * 1024)

/* Zeroes a secret before its memory goes back (NULL-safe). */
static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (v && n--)
        *v++ = 0;
}

static void blob_free(struct neonflow__blob *b, int secret)
{
    if (!b)
        return;
    if (secret)
        wipe(b->data, b->len);
    neonflow__free(b->data);
    neonflow__free(b);
}

static struct neonflow__blob *blob_copy(const void *data, size_t len)
{
    struct neonflow__blob *b = neonflow__calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->data = neonflow__malloc(len ? len : 1);
    if (!b->data) {
        neonflow__free(b);
        return NULL;
    }
    memcpy(b->data, data, len);
    b->len = len;
    return b;
}

static void str_free(char **s, int secret)
{
    if (*s && secret)
        wipe(*s, strlen(*s));
    neonflow__free(*s);
    *s = NULL;
}

void neonflow__tls_config_clear(struct neonflow__config *c)
{
    str_free(&c->ca_path, 0);
    str_free(&c->proxy, 1); /* may hold proxy credentials */
    str_free(&c->noproxy, 0);
    str_free(&c->cert_file, 0);
    str_free(&c->key_file, 0);
    str_free(&c->key_password, 1);
    blob_free(c->ca_blob, 0);
    blob_free(c->cert_blob, 0);
    blob_free(c->key_blob, 1);
    c->ca_blob = c->cert_blob = c->key_blob = NULL;
}

/* dst is a bytewise copy of src: replace its pointers by copies. */
int neonflow__tls_config_copy(struct neonflow__config *dst, const struct neonflow__config *src)
{
    char **strs[] = {&dst->ca_path, &dst->proxy, &dst->noproxy, &dst->cert_file, &dst->key_file, &dst->key_password};
    struct neonflow__blob **blobs[] = {&dst->ca_blob, &dst->cert_blob, &dst->key_blob};
    int bad = 0;
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (*strs[i] && !(*strs[i] = neonflow__strdup(*strs[i])))
            bad = 1;
    for (size_t i = 0; i < sizeof(blobs) / sizeof(blobs[0]); i++)
        if (*blobs[i] && !(*blobs[i] = blob_copy((*blobs[i])->data, (*blobs[i])->len)))
            bad = 1;
    return bad ? NEONFLOW_ENOMEM : NEONFLOW_OK;
}

/* ---- setters ----------------------------------------------------------------- */

static int printable(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return 0;
    return 1;
}

static int set_str(char **slot, const char *value, int secret)
{
    char *copy = NULL;
    if (value && !(copy = neonflow__strdup(value)))
        return NEONFLOW_ENOMEM;
    str_free(slot, secret);
    *slot = copy;
    return NEONFLOW_OK;
}

static int set_blob(struct neonflow__blob **slot, const void *data, size_t len, int secret)
{
    struct neonflow__blob *b = NULL;
    if (data && !(b = blob_copy(data, len)))
        return NEONFLOW_ENOMEM;
    blob_free(*slot, secret);
    *slot = b;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_client_options_set_use_environment(neonflow_client_options *opts, int use)
{
    if (!opts)
        return NEONFLOW_EINVAL;
    opts->cfg.use_environment = use ? 1 : 0;
    return NEONFLOW_OK;
}

static int proxy_scheme_ok(const char *url)
{
    static const char *const schemes[] = {"http://", "https://", "socks4://", "socks4a://", "socks5://", "socks5h://"};
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (strncmp(url, schemes[i], strlen(schemes[i])) == 0)
            return url[strlen(schemes[i])] != '\0' && url[strlen(schemes[i])] != '/';
    return 0;
}

NEONFLOW_API int neonflow_client_options_set_proxy(neonflow_client_options *opts, const char *url)
{
    if (!opts || (url && (!printable(url, PROXY_MAX) || strchr(url, ' ') || !proxy_scheme_ok(url))))
        return NEONFLOW_EINVAL;
    return set_str(&opts->cfg.proxy, url, 1);
}

NEONFLOW_API int neonflow_client_options_set_noproxy(neonflow_client_options *opts, const char *hosts)
{
    if (!opts || (hosts && *hosts && !printable(hosts, PROXY_MAX)))
        return NEONFLOW_EINVAL;
    return set_str(&opts->cfg.noproxy, hosts, 0);
}

NEONFLOW_API int neonflow_client_options_set_ca_path(neonflow_client_options *opts, const char *dir)
{
    if (!opts || (dir && !printable(dir, PATH_MAX_LEN)))
        return NEONFLOW_EINVAL;
    return set_str(&opts->cfg.ca_path, dir, 0);
}

NEONFLOW_API int neonflow_client_options_set_ca_blob(neonflow_client_options *opts, const void *pem, size_t len)
{
    if (!opts || (pem && (len == 0 || len > BLOB_MAX)) || (!pem && len))
        return NEONFLOW_EINVAL;
    return set_blob(&opts->cfg.ca_blob, pem, len, 0);
}

NEONFLOW_API int neonflow_client_options_set_client_cert_file(neonflow_client_options *opts, const char *cert_path,
                                                              const char *key_path)
{
    if (!opts || (cert_path && !printable(cert_path, PATH_MAX_LEN)) ||
        (key_path && (!cert_path || !printable(key_path, PATH_MAX_LEN))))
        return NEONFLOW_EINVAL;
    char *c = NULL, *k = NULL;
    if ((cert_path && set_str(&c, cert_path, 0)) || (key_path && set_str(&k, key_path, 0))) {
        str_free(&c, 0);
        return NEONFLOW_ENOMEM;
    }
    str_free(&opts->cfg.cert_file, 0);
    str_free(&opts->cfg.key_file, 0);
    opts->cfg.cert_file = c;
    opts->cfg.key_file = k;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_client_options_set_client_cert_blob(neonflow_client_options *opts, const void *cert_pem,
                                                              size_t cert_len, const void *key_pem, size_t key_len)
{
    if (!opts || (cert_pem && (cert_len == 0 || cert_len > BLOB_MAX)) || (!cert_pem && cert_len) ||
        (key_pem && (!cert_pem || key_len == 0 || key_len > BLOB_MAX)) || (!key_pem && key_len))
        return NEONFLOW_EINVAL;
    struct neonflow__blob *c = NULL, *k = NULL;
    if ((cert_pem && !(c = blob_copy(cert_pem, cert_len))) || (key_pem && !(k = blob_copy(key_pem, key_len)))) {
        blob_free(c, 0);
        return NEONFLOW_ENOMEM;
    }
    blob_free(opts->cfg.cert_blob, 0);
    blob_free(opts->cfg.key_blob, 1);
    opts->cfg.cert_blob = c;
    opts->cfg.key_blob = k;
    return NEONFLOW_OK;
}

NEONFLOW_API int neonflow_client_options_set_client_key_password(neonflow_client_options *opts, const char *password)
{
    if (!opts || (password && strlen(password) > 1024))
        return NEONFLOW_EINVAL;
    return set_str(&opts->cfg.key_password, password && *password ? password : NULL, 1);
}

NEONFLOW_API int neonflow_client_options_set_tls_min_version(neonflow_client_options *opts, int32_t version)
{
    if (!opts || (version != NEONFLOW_TLS_1_2 && version != NEONFLOW_TLS_1_3))
        return NEONFLOW_EINVAL;
    opts->cfg.tls_min_version = version;
    return NEONFLOW_OK;
}

/* ---- applying them ----------------------------------------------------------- */

static CURLcode set_blob_opt(CURL *h, CURLoption opt, const struct neonflow__blob *b)
{
    /* The client owns the bytes for its whole life: curl need not copy them. */
    struct curl_blob cb = {b->data, b->len, CURL_BLOB_NOCOPY};
    return curl_easy_setopt(h, opt, &cb);
}

int neonflow__tls_apply(void *handle, const struct neonflow__config *c)
{
    CURL *h = handle;
    CURLcode cc = CURLE_OK;
#define SET(opt, val)                                                                                              \
    do {                                                                                                           \
        CURLcode r_ = curl_easy_setopt(h, opt, val);                                                               \
        if (r_ != CURLE_OK && cc == CURLE_OK)                                                                      \
            cc = r_;                                                                                               \
    } while (0)
    if (c->ca_file)
        SET(CURLOPT_CAINFO, c->ca_file);
    if (c->ca_path)
        SET(CURLOPT_CAPATH, c->ca_path);
    if (c->ca_blob) {
        CURLcode r = set_blob_opt(h, CURLOPT_CAINFO_BLOB, c->ca_blob);
        if (r != CURLE_OK && cc == CURLE_OK)
            cc = r;
    }
    if (c->cert_file)
        SET(CURLOPT_SSLCERT, c->cert_file);
    if (c->key_file)
        SET(CURLOPT_SSLKEY, c->key_file);
    if (c->cert_blob) {
        CURLcode r = set_blob_opt(h, CURLOPT_SSLCERT_BLOB, c->cert_blob);
        if (r != CURLE_OK && cc == CURLE_OK)
            cc = r;
    }
    if (c->key_blob) {
        CURLcode r = set_blob_opt(h, CURLOPT_SSLKEY_BLOB, c->key_blob);
        if (r != CURLE_OK && cc == CURLE_OK)
            cc = r;
    }
    if (c->cert_file || c->cert_blob) {
        SET(CURLOPT_SSLCERTTYPE, "PEM");
        SET(CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (c->key_password)
        SET(CURLOPT_KEYPASSWD, c->key_password);
    SET(CURLOPT_SSLVERSION, (long)(c->tls_min_version == NEONFLOW_TLS_1_3 ? CURL_SSLVERSION_TLSv1_3
                                                                          : CURL_SSLVERSION_TLSv1_2));
    /* libcurl reads http_proxy, https_proxy, all_proxy and no_proxy from the
     * environment unless told otherwise: "" turns that off. */
    if (c->proxy || !c->use_environment)
        SET(CURLOPT_PROXY, c->proxy ? c->proxy : "");
    if (c->noproxy || !c->use_environment)
        SET(CURLOPT_NOPROXY, c->noproxy ? c->noproxy : "");
#undef SET
    return (int)cc;
}

int neonflow__tls_config_check(const struct neonflow__config *c, neonflow_error **err)
{
    if (c->key_password && !c->cert_file && !c->cert_blob)
        return neonflow__error_set(err, NEONFLOW_ECONFIG,
                                   "a client key password was set without a client certificate");
    if (c->cert_file && c->cert_blob)
        return neonflow__error_set(err, NEONFLOW_ECONFIG,
                                   "a client certificate was set both as a file and in memory: choose one");
    CURL *h = curl_easy_init();
    if (!h)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory checking the TLS options");
    CURLcode cc = (CURLcode)neonflow__tls_apply(h, c);
    curl_easy_cleanup(h);
    if (cc == CURLE_OUT_OF_MEMORY)
        return neonflow__error_set(err, NEONFLOW_ENOMEM, "out of memory checking the TLS options");
    if (cc != CURLE_OK)
        return neonflow__error_set(err, NEONFLOW_EUNSUPPORTED,
                                   "this libcurl (%s) does not support a TLS or proxy option that was set: %s",
                                   curl_version_info(CURLVERSION_NOW)->version, curl_easy_strerror(cc));
    return NEONFLOW_OK;
}
