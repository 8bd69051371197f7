/* nf_redis.c — the shared budget and the promotion lock in Redis (see nf_redis.h). */
#include "nf_redis.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One script for both bucket moves, so taking a token from the account's and
 * the route's bucket is a single atomic step (no read-then-write race between
 * processes) and time is the Redis server's, the one clock every process
 * shares. KEYS: account bucket, route bucket. ARGV: "take" | "throttle",
 * account rate (tokens/ms), account capacity, route rate, route capacity,
 * penalty ms (throttle), key ttl ms. Returns 0 (token taken / throttle
 * recorded) or the ms to wait before asking again. */
static const char BUCKET_LUA[] =
    /* Redis < 5 refuses writes after TIME unless effects are replicated. */
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000\n"
    "local throttle = ARGV[1] == 'throttle'\n"
    "local rate = {tonumber(ARGV[2]), tonumber(ARGV[4])}\n"
    "local cap = {tonumber(ARGV[3]), tonumber(ARGV[5])}\n"
    "local tok, blocked, wait = {}, {}, 0\n"
    "for i = 1, 2 do\n"
    "  local v = redis.call('HMGET', KEYS[i], 'tokens', 'ts', 'until')\n"
    "  local n, ts = tonumber(v[1]), tonumber(v[2])\n"
    "  blocked[i] = tonumber(v[3]) or 0\n"
    "  if not n or not ts then n = cap[i]\n"
    "  elseif now > ts then n = math.min(cap[i], n + (now - ts) * rate[i]) end\n"
    "  if throttle then\n"
    "    n = 0\n"
    "    blocked[i] = math.max(blocked[i], now + tonumber(ARGV[6]))\n"
    "  else\n"
    "    local w = math.max(blocked[i] - now, 0)\n"
    "    if n < 1 then w = math.max(w, (1 - n) / rate[i]) end\n"
    "    wait = math.max(wait, w)\n"
    "  end\n"
    "  tok[i] = n\n"
    "end\n"
    "if wait > 0 then return math.max(1, math.ceil(wait)) end\n"
    "for i = 1, 2 do\n"
    "  if not throttle then tok[i] = tok[i] - 1 end\n"
    "  redis.call('HSET', KEYS[i], 'tokens', tostring(tok[i]), 'ts', tostring(now),\n"
    "             'until', tostring(blocked[i]))\n"
    "  redis.call('PEXPIRE', KEYS[i], ARGV[7])\n"
    "end\n"
    "return 0\n";

/* Compare-and-renew / compare-and-delete: only the holder's run id may
 * extend or drop the lock. */
static const char RENEW_LUA[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
                                "  return redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
                                "end\n"
                                "return 0\n";
static const char RELEASE_LUA[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
                                  "  return redis.call('DEL', KEYS[1])\n"
                                  "end\n"
                                  "return 0\n";

enum { S_BUCKET, S_RENEW, S_RELEASE, S_COUNT };
static const char *const SCRIPTS[S_COUNT] = {BUCKET_LUA, RENEW_LUA, RELEASE_LUA};

struct nf_redis {
    pthread_mutex_t mu; /* guards everything below */
    int refs;
    redisContext *c;   /* NULL while disconnected */
    char sha[S_COUNT][41];
    char host[256];
    int port;
    struct timeval tv;
    char prefix[64];
    int64_t failing_since_ms; /* 0 while Redis answers scripts correctly */
    int64_t waits, throttled; /* what the rate-limit hook saw (nf_redis_stats) */
};

typedef struct budget_hook {
    nf_redis *r;
    nf_redis_budget b;
    char account[65];
} budget_hook;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_err(char *buf, size_t len, const char *what, const char *detail)
{
    if (buf && len)
        snprintf(buf, len, "redis: %s%s%s", what, detail ? ": " : "", detail ? detail : "");
}

/* Caller holds mu. Loads the scripts' SHA1s; a failure leaves the SHA empty
 * and the call falls back to EVAL. */
static int connect_locked(nf_redis *r, char *errbuf, size_t errlen)
{
    if (r->c && !r->c->err)
        return 0;
    if (r->c)
        redisFree(r->c);
    r->c = r->host[0] == '/' ? redisConnectUnixWithTimeout(r->host, r->tv)
                             : redisConnectWithTimeout(r->host, r->port, r->tv);
    if (!r->c || r->c->err) {
        set_err(errbuf, errlen, "cannot connect", r->c ? r->c->errstr : "out of memory");
        if (r->c)
            redisFree(r->c);
        r->c = NULL;
        return -1;
    }
    redisSetTimeout(r->c, r->tv);
    if (r->host[0] != '/')
        redisEnableKeepAlive(r->c);
    for (int i = 0; i < S_COUNT; i++) {
        redisReply *rep = redisCommand(r->c, "SCRIPT LOAD %s", SCRIPTS[i]);
        r->sha[i][0] = '\0';
        if (rep && rep->type == REDIS_REPLY_STRING && rep->len == 40)
            memcpy(r->sha[i], rep->str, 41);
        freeReplyObject(rep);
    }
    return 0;
}

/* Caller holds mu. One command; a lost connection is reopened and the
 * command sent once more (every command here tolerates a repeat: a second
 * token taken errs on the safe side, a lock SET finds its own run id). A
 * Redis error reply is returned as is; NULL = unreachable. */
static redisReply *command_locked(nf_redis *r, int argc, const char **argv, const size_t *lens, char *errbuf,
                                  size_t errlen)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (connect_locked(r, errbuf, errlen) != 0)
            continue;
        redisReply *rep = redisCommandArgv(r->c, argc, argv, lens);
        if (rep)
            return rep;
        set_err(errbuf, errlen, "connection lost", r->c->errstr);
        redisFree(r->c);
        r->c = NULL;
    }
    return NULL;
}

/* Runs script s by EVALSHA, falling back to EVAL when the server does not
 * know it (NOSCRIPT: restarted, flushed, or SCRIPT LOAD failed). Returns an
 * integer reply's value through *out; NF_REDIS_ERROR otherwise. */
static int eval_int(nf_redis *r, int s, int nkeys, const char **keys, int nargs, const char **args, long long *out,
                    char *errbuf, size_t errlen)
{
    const char *argv[16];
    size_t lens[16];
    char nk[12];
    int argc = 0;
    if (3 + nkeys + nargs > 16)
        return NF_REDIS_EINVAL;
    snprintf(nk, sizeof(nk), "%d", nkeys);
    argv[argc++] = "EVALSHA";
    argv[argc++] = r->sha[s];
    argv[argc++] = nk;
    for (int i = 0; i < nkeys; i++)
        argv[argc++] = keys[i];
    for (int i = 0; i < nargs; i++)
        argv[argc++] = args[i];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);

    int rc = NF_REDIS_ERROR;
    pthread_mutex_lock(&r->mu);
    redisReply *rep = NULL;
    if (r->sha[s][0])
        rep = command_locked(r, argc, argv, lens, errbuf, errlen);
    if (!r->sha[s][0] || (rep && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0)) {
        freeReplyObject(rep);
        argv[0] = "EVAL";
        argv[1] = SCRIPTS[s];
        lens[0] = 4;
        lens[1] = strlen(SCRIPTS[s]);
        rep = command_locked(r, argc, argv, lens, errbuf, errlen);
    }
    if (rep && rep->type == REDIS_REPLY_INTEGER) {
        *out = rep->integer;
        rc = NF_REDIS_OK;
    } else if (rep) {
        set_err(errbuf, errlen, "script failed", rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
    }
    /* Unreachable and answering errors (NOAUTH, OOM, a read-only replica)
     * alike start the grace period of the rate-limit hook. */
    if (rc == NF_REDIS_OK)
        r->failing_since_ms = 0;
    else if (!r->failing_since_ms)
        r->failing_since_ms = mono_ms();
    freeReplyObject(rep);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int nf_redis_new(nf_redis **out, const char *host, int port, const char *prefix, int64_t timeout_ms, char *errbuf,
                 size_t errlen)
{
    if (!out)
        return NF_REDIS_EINVAL;
    *out = NULL;
    if (!host || !host[0] || strlen(host) >= sizeof(((nf_redis *)0)->host) || !prefix || !prefix[0] ||
        strlen(prefix) >= sizeof(((nf_redis *)0)->prefix) || timeout_ms < 1) {
        set_err(errbuf, errlen, "invalid host, prefix or timeout", NULL);
        return NF_REDIS_EINVAL;
    }
    nf_redis *r = calloc(1, sizeof(*r));
    if (!r) {
        set_err(errbuf, errlen, "out of memory", NULL);
        return NF_REDIS_ERROR;
    }
    pthread_mutex_init(&r->mu, NULL);
    r->refs = 1;
    snprintf(r->host, sizeof(r->host), "%s", host);
    snprintf(r->prefix, sizeof(r->prefix), "%s", prefix);
    r->port = port;
    r->tv.tv_sec = (time_t)(timeout_ms / 1000);
    r->tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
    pthread_mutex_lock(&r->mu);
    int rc = connect_locked(r, errbuf, errlen);
    pthread_mutex_unlock(&r->mu);
    if (rc != 0) {
        nf_redis_free(r);
        return NF_REDIS_ERROR;
    }
    *out = r;
    return NF_REDIS_OK;
}

static nf_redis *ref(nf_redis *r)
{
    pthread_mutex_lock(&r->mu);
    r->refs++;
    pthread_mutex_unlock(&r->mu);
    return r;
}

void nf_redis_free(nf_redis *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    int last = --r->refs == 0;
    pthread_mutex_unlock(&r->mu);
    if (!last)
        return;
    if (r->c)
        redisFree(r->c);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* ---- the budget ---------------------------------------------------------- */

static int account_valid(const char *a)
{
    size_t n = a ? strlen(a) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = a[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

static int budget_valid(const nf_redis_budget *b)
{
    return b && account_valid(b->account) && b->per_minute > 0 && b->per_second_route > 0 && b->margin >= 0 &&
           b->margin <= 0.5 && (b->fail_mode == NF_REDIS_FAIL_CLOSED || b->fail_mode == NF_REDIS_FAIL_OPEN) &&
           b->grace_ms >= 0;
}

/* A bucket that never lets a sliding-window server see more than its limit:
 * it refills at limit*(1-margin) per window and holds at most limit*margin/2
 * tokens, so any window sees at most limit*(1-margin/2) requests, and the
 * other margin/2 absorbs the spread between when a token is taken and when
 * its request reaches the server. */
static void bucket_args(int32_t limit, double window_ms, double margin, char rate[32], char cap[32])
{
    double c = (double)limit * margin / 2;
    snprintf(rate, 32, "%.9g", (double)limit * (1 - margin) / window_ms);
    snprintf(cap, 32, "%.9g", c < 1 ? 1 : c);
}

static int bucket_call(nf_redis *r, const nf_redis_budget *b, const char *mode, const char *method,
                       const char *route, int64_t penalty_ms, long long *out, char *errbuf, size_t errlen)
{
    if (!r || !budget_valid(b) || !method || !route || strlen(method) > 16 || strlen(route) > 512) {
        set_err(errbuf, errlen, "invalid budget, method or route", NULL);
        return NF_REDIS_EINVAL;
    }
    /* {account} is a Redis Cluster hash tag: both buckets live in one slot,
     * as a script touching two keys needs. */
    char acct_key[160], route_key[720], ra[32], ca[32], rr[32], cr[32], pen[24];
    snprintf(acct_key, sizeof(acct_key), "%s:{%s}:account", r->prefix, b->account);
    snprintf(route_key, sizeof(route_key), "%s:{%s}:route:%s %s", r->prefix, b->account, method, route);
    bucket_args(b->per_minute, 60000.0, b->margin, ra, ca);
    bucket_args(b->per_second_route, 1000.0, b->margin, rr, cr);
    snprintf(pen, sizeof(pen), "%lld", (long long)(penalty_ms < 0 ? 1000 : penalty_ms));
    const char *keys[2] = {acct_key, route_key};
    /* Idle buckets expire; a missing bucket starts full, as a refilled one would be. */
    const char *args[7] = {mode, ra, ca, rr, cr, pen, "120000"};
    return eval_int(r, S_BUCKET, 2, keys, 7, args, out, errbuf, errlen);
}

int nf_redis_budget_take(nf_redis *r, const nf_redis_budget *b, const char *method, const char *route,
                         int64_t *wait_ms, char *errbuf, size_t errlen)
{
    long long w = 0;
    if (!wait_ms)
        return NF_REDIS_EINVAL;
    *wait_ms = 0;
    int rc = bucket_call(r, b, "take", method, route, 0, &w, errbuf, errlen);
    if (rc == NF_REDIS_OK)
        *wait_ms = w;
    return rc;
}

int nf_redis_budget_throttled(nf_redis *r, const nf_redis_budget *b, const char *method, const char *route,
                              int64_t retry_after_ms, char *errbuf, size_t errlen)
{
    long long ignored;
    return bucket_call(r, b, "throttle", method, route, retry_after_ms, &ignored, errbuf, errlen);
}

/* How long Redis has been failing (0 while it answers). */
static int64_t failing_for_ms(nf_redis *r)
{
    pthread_mutex_lock(&r->mu);
    int64_t since = r->failing_since_ms;
    pthread_mutex_unlock(&r->mu);
    return since ? mono_ms() - since : 0;
}

static void count(nf_redis *r, int64_t *counter)
{
    pthread_mutex_lock(&r->mu);
    (*counter)++;
    pthread_mutex_unlock(&r->mu);
}

void nf_redis_stats(nf_redis *r, int64_t *waits, int64_t *throttled)
{
    pthread_mutex_lock(&r->mu);
    *waits = r->waits;
    *throttled = r->throttled;
    pthread_mutex_unlock(&r->mu);
}

static int rate_limit_hook(neonflow_rate_limit_request *req, void *payload)
{
    budget_hook *h = payload;
    const char *method = neonflow_rate_limit_request_method(req);
    const char *route = neonflow_rate_limit_request_route(req);
    if (neonflow_rate_limit_request_kind(req) == NEONFLOW_RATE_LIMIT_THROTTLED) {
        /* Best effort: the client backs off by itself either way. */
        count(h->r, &h->r->throttled);
        nf_redis_budget_throttled(h->r, &h->b, method, route, neonflow_rate_limit_request_retry_after_ms(req), NULL,
                                  0);
        return 0;
    }
    if (neonflow_rate_limit_request_kind(req) != NEONFLOW_RATE_LIMIT_ACQUIRE)
        return 0;
    int64_t wait = 0;
    int rc = nf_redis_budget_take(h->r, &h->b, method, route, &wait, NULL, 0);
    if (rc == NF_REDIS_OK && wait > 0) {
        count(h->r, &h->r->waits);
        return neonflow_rate_limit_request_set_wait_ms(req, wait);
    }
    if (rc == NF_REDIS_OK)
        return 0;
    if (rc == NF_REDIS_EINVAL)
        return -1;
    /* Failing: a restart or failover is waited out for the grace period
     * (the client sleeps, within the call's deadline, and asks again). */
    if (failing_for_ms(h->r) < h->b.grace_ms)
        return neonflow_rate_limit_request_set_wait_ms(req, 250);
    return h->b.fail_mode == NF_REDIS_FAIL_OPEN ? 0 : -1;
}

static void budget_hook_free(void *payload)
{
    budget_hook *h = payload;
    if (!h)
        return;
    nf_redis_free(h->r);
    free(h);
}

int nf_redis_install_rate_limit(nf_redis *r, neonflow_client_options *opts, const nf_redis_budget *budget)
{
    if (!r || !opts || !budget_valid(budget))
        return NEONFLOW_EINVAL;
    budget_hook *h = calloc(1, sizeof(*h));
    if (!h)
        return NEONFLOW_ENOMEM;
    h->b = *budget;
    snprintf(h->account, sizeof(h->account), "%s", budget->account);
    h->b.account = h->account;
    h->r = ref(r);
    /* On failure the setter has already run budget_hook_free (the destroy rule). */
    return neonflow_client_options_set_rate_limit_hook(opts, rate_limit_hook, h, budget_hook_free);
}

/* ---- the lock ------------------------------------------------------------ */

static int run_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n > 0 && n <= 128;
}

/* ACQUIRE: SET NX PX; when that fails, the holder is read back: our own run
 * id re-enters (renewed), another is reported. The key may expire between
 * the two commands, hence the few rounds. */
static int lock_acquire(nf_redis *r, const char *key, const char *run_id, const char *ttl, char *holder,
                        size_t holder_len, char *errbuf, size_t errlen)
{
    for (int round = 0; round < 3; round++) {
        const char *set[6] = {"SET", key, run_id, "NX", "PX", ttl};
        const char *get[2] = {"GET", key};
        size_t set_len[6], get_len[2];
        for (int i = 0; i < 6; i++)
            set_len[i] = strlen(set[i]);
        for (int i = 0; i < 2; i++)
            get_len[i] = strlen(get[i]);
        pthread_mutex_lock(&r->mu);
        redisReply *rep = command_locked(r, 6, set, set_len, errbuf, errlen);
        int taken = rep && rep->type == REDIS_REPLY_STATUS;
        int refused = rep && rep->type == REDIS_REPLY_NIL;
        freeReplyObject(rep);
        rep = refused ? command_locked(r, 2, get, get_len, errbuf, errlen) : NULL;
        int gone = rep && rep->type == REDIS_REPLY_NIL;
        int mine = rep && rep->type == REDIS_REPLY_STRING && strcmp(rep->str, run_id) == 0;
        if (rep && rep->type == REDIS_REPLY_STRING && !mine && holder && holder_len)
            snprintf(holder, holder_len, "%s", rep->str);
        int other = rep && rep->type == REDIS_REPLY_STRING && !mine;
        freeReplyObject(rep);
        pthread_mutex_unlock(&r->mu);
        if (taken)
            return NF_REDIS_OK;
        if (other)
            return NF_REDIS_HELD;
        if (mine) {
            long long renewed = 0;
            const char *args[2] = {run_id, ttl};
            int rc = eval_int(r, S_RENEW, 1, &key, 2, args, &renewed, errbuf, errlen);
            if (rc != NF_REDIS_OK || renewed)
                return rc;
            continue; /* expired just now: try SET again */
        }
        if (!gone) {
            set_err(errbuf, errlen, "lock: unexpected reply", NULL);
            return NF_REDIS_ERROR;
        }
    }
    set_err(errbuf, errlen, "lock: the key kept changing hands", NULL);
    return NF_REDIS_ERROR;
}

int nf_redis_lock(nf_redis *r, int32_t kind, const char *project, const char *target, const char *run_id,
                  int64_t ttl_ms, char *holder, size_t holder_len, char *errbuf, size_t errlen)
{
    if (holder && holder_len)
        holder[0] = '\0';
    if (!r || !project || !target || !run_id_valid(run_id) || strlen(project) > 128 || strlen(target) > 512 ||
        (kind != NEONFLOW_LOCK_RELEASE && ttl_ms < 1)) {
        set_err(errbuf, errlen, "lock: invalid argument", NULL);
        return NF_REDIS_EINVAL;
    }
    /* Neon project ids have no ':', so the key is unambiguous. */
    char key[720], ttl[24];
    snprintf(key, sizeof(key), "%s:lock:%s:%s", r->prefix, project, target);
    snprintf(ttl, sizeof(ttl), "%lld", (long long)ttl_ms);
    const char *k = key;
    long long n = 0;
    int rc;
    switch (kind) {
    case NEONFLOW_LOCK_ACQUIRE:
        return lock_acquire(r, key, run_id, ttl, holder, holder_len, errbuf, errlen);
    case NEONFLOW_LOCK_RENEW: {
        const char *args[2] = {run_id, ttl};
        rc = eval_int(r, S_RENEW, 1, &k, 2, args, &n, errbuf, errlen);
        break;
    }
    case NEONFLOW_LOCK_RELEASE: {
        const char *args[1] = {run_id};
        rc = eval_int(r, S_RELEASE, 1, &k, 1, args, &n, errbuf, errlen);
        break;
    }
    default:
        set_err(errbuf, errlen, "lock: unknown kind", NULL);
        return NF_REDIS_EINVAL;
    }
    return rc != NF_REDIS_OK ? rc : n ? NF_REDIS_OK : NF_REDIS_HELD;
}

static int lock_hook(neonflow_lock_request *req, void *payload)
{
    char holder[160];
    int32_t kind = neonflow_lock_request_kind(req);
    int rc = nf_redis_lock(payload, kind, neonflow_lock_request_project_id(req), neonflow_lock_request_target(req),
                           neonflow_lock_request_run_id(req), neonflow_lock_request_ttl_ms(req), holder,
                           sizeof(holder), NULL, 0);
    if (rc == NF_REDIS_HELD && kind == NEONFLOW_LOCK_ACQUIRE && holder[0])
        neonflow_lock_request_set_holder(req, holder);
    /* A lock can only fail closed: an unreachable Redis refuses ACQUIRE and
     * fails RENEW, which stops the run before its next change. */
    return rc == NF_REDIS_OK ? 0 : 1;
}

static void lock_hook_free(void *payload)
{
    nf_redis_free(payload);
}

int nf_redis_install_lock(nf_redis *r, neonflow_run_options *run)
{
    if (!r || !run)
        return NEONFLOW_EINVAL;
    /* On failure the setter has already dropped the reference (the destroy rule). */
    return neonflow_run_options_set_lock_hook(run, lock_hook, ref(r), lock_hook_free);
}
