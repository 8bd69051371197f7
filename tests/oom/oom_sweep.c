/* Out-of-memory sweep: runs a whole promotion through the public API with
 * the k-th allocation failing — the library's own, libcurl's and jansson's,
 * all counted by the library's allocator seam — then resumes with the same
 * run id without failures, and checks the outcome:
 *   - the first call returned OK or an accepted code (see accepted()), and an
 *     OK is real: the project is promoted under the planned names;
 *   - the resume returns OK and the project is consistent: one "production"
 *     with dev's data on the same endpoint, one backup with the old data,
 *     one candidate and one rollback snapshot, no other snapshot (none with
 *     Neon's default name), no duplicate names, no preview left;
 *   - no crash, no hang (a watchdog bounds each case), no leak (LSan in the
 *     sanitizer build reports at exit).
 * The emulator runs out of process (neonflow-emulator on an ephemeral
 * loopback port): in process, its own jansson calls would hit the injected
 * failures. Each case gets a fresh project of its own.
 *
 *   oom-sweep EMULATOR [--sample SEED] [--from K] [--to K] [--verbose]
 * --sample: every 37th point (offset by SEED) plus the first and last 20. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/alloc.h"
#include "neonflow/neonflow.h"
#include "workflow/workflow-private.h"

#define KEY "emulator-key"
#define CASE_SECONDS 60

static char base_url[256];
static pid_t emu_pid = -1;
static int verbose;

/* ---- the emulator process --------------------------------------------------------- */
static void emu_stop(void)
{
    if (emu_pid > 0) {
        kill(emu_pid, SIGTERM);
        waitpid(emu_pid, NULL, 0);
        emu_pid = -1;
    }
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "oom-sweep: a case took longer than the watchdog allows (hang)\n";
    if (write(2, msg, sizeof(msg) - 1) < 0) {
    }
    if (emu_pid > 0)
        kill(emu_pid, SIGKILL);
    _exit(3);
}

static int emu_start(const char *exe)
{
    int out[2];
    if (pipe(out) != 0)
        return -1;
    emu_pid = fork();
    if (emu_pid < 0)
        return -1;
    if (emu_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the sweep */
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2);
        execl(exe, exe, "--host", "127.0.0.1", "--port", "0", "--api-key", KEY, "--no-rate-limit", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    char line[512] = "";
    alarm(20);
    if (!f || !fgets(line, sizeof(line), f)) {
        alarm(0);
        return -1;
    }
    alarm(0);
    /* keep the pipe open (and unread): the emulator prints nothing more */
    const char *p = strstr(line, "http://");
    if (!p)
        return -1;
    snprintf(base_url, sizeof(base_url), "%.*s", (int)strcspn(p, "\r\n"), p);
    return 0;
}

/* ---- control routes (never while failures are armed) -------------------------------- */
typedef struct buf {
    char *d;
    size_t n;
} buf;

static size_t on_data(char *p, size_t s, size_t n, void *u)
{
    buf *b = u;
    char *d = realloc(b->d, b->n + s * n + 1);
    if (!d)
        return 0;
    memcpy(d + b->n, p, s * n);
    b->d = d;
    b->n += s * n;
    b->d[b->n] = '\0';
    return s * n;
}

/* path below the API root ("/__emulator/..." is next to it); the answer or NULL. */
static json_t *control(const char *method, const char *path, const char *body)
{
    char url[768];
    size_t root = strlen(base_url) - strlen("/api/v2");
    snprintf(url, sizeof(url), "%.*s%s", (int)root, base_url, path);
    CURL *h = curl_easy_init();
    buf b = {0};
    struct curl_slist *hd = curl_slist_append(NULL, "Authorization: Bearer " KEY);
    hd = curl_slist_append(hd, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    CURLcode cc = curl_easy_perform(h);
    long st = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    json_t *j = cc == CURLE_OK && st < 300 && b.d ? json_loads(b.d, 0, NULL) : NULL;
    free(b.d);
    return j;
}

/* ---- one case --------------------------------------------------------------------------- */
typedef struct project {
    char id[64], prod_id[64], prod_ep[64], dev_id[64];
} project;

static int jcopy(json_t *j, const char *key, char *out, size_t len)
{
    const char *v = json_string_value(json_object_get(j, key));
    snprintf(out, len, "%s", v ? v : "");
    return v ? 0 : -1;
}

static int write_content(const project *p, const char *branch_id, const char *content)
{
    char body[512];
    snprintf(body, sizeof(body), "{\"project_id\":\"%s\",\"branch_id\":\"%s\",\"content\":\"%s\"}", p->id, branch_id,
             content);
    json_t *j = control("POST", "/__emulator/write", body);
    json_decref(j);
    return j ? 0 : -1;
}

static int content_of(const project *p, const char *branch_id, char *out, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "/__emulator/read?project_id=%s&branch_id=%s", p->id, branch_id);
    json_t *j = control("GET", path, NULL);
    int rc = j ? jcopy(j, "content", out, len) : -1;
    json_decref(j);
    return rc;
}

static int project_new(project *p, long k)
{
    snprintf(p->id, sizeof(p->id), "oom-%ld", k);
    char body[256];
    snprintf(body, sizeof(body), "{\"project_id\":\"%s\",\"branch_name\":\"production\"}", p->id);
    json_t *j = control("POST", "/__emulator/projects", body);
    if (!j || jcopy(j, "branch_id", p->prod_id, sizeof(p->prod_id)) || jcopy(j, "endpoint_id", p->prod_ep, sizeof(p->prod_ep))) {
        json_decref(j);
        return -1;
    }
    json_decref(j);
    snprintf(body, sizeof(body), "{\"project_id\":\"%s\",\"name\":\"dev\",\"with_rw_endpoint\":true}", p->id);
    j = control("POST", "/__emulator/branches", body);
    if (!j || jcopy(j, "branch_id", p->dev_id, sizeof(p->dev_id))) {
        json_decref(j);
        return -1;
    }
    json_decref(j);
    return write_content(p, p->prod_id, "prod-v1") || write_content(p, p->dev_id, "dev-v1") ? -1 : 0;
}

/* Codes a promotion may return when one allocation fails:
 *   ENOMEM     - the failure itself, from whichever layer;
 *   EUNCERTAIN - a mutation was sent and its answer was lost to the failure:
 *                its fate is unknown until the state is read back (the resume
 *                does that). */
static int accepted(int rc)
{
    return rc == NEONFLOW_ENOMEM || rc == NEONFLOW_EUNCERTAIN;
}

static char failure[2048], why[2048];

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(failure, sizeof(failure), fmt, ap);
    va_end(ap);
    return -1;
}

static long renamed; /* resources created under another name than asked, and repaired */

static void on_event(const neonflow_event *ev, void *payload)
{
    (void)payload;
    if (neonflow_event_kind(ev) == NEONFLOW_EVENT_WARNING && strstr(neonflow_event_message(ev), "renaming it"))
        renamed++;
}

static int promote(const project *p, const char *run_id, neonflow_report **rep, neonflow_error **err)
{
    neonflow_client_options *co = NULL;
    neonflow_client *c = NULL;
    neonflow_run_options *ro = NULL;
    neonflow_promote_options *po = NULL;
    int rc = neonflow_client_options_new(&co);
    if (rc == NEONFLOW_OK)
        rc = neonflow_client_options_set_base_url(co, base_url);
    if (rc == NEONFLOW_OK)
        rc = neonflow_client_options_set_api_key(co, KEY);
    if (rc == NEONFLOW_OK)
        rc = neonflow_client_options_set_retry_backoff(co, 1, 20);
    if (rc == NEONFLOW_OK)
        rc = neonflow_client_new(&c, co, err);
    if (rc == NEONFLOW_OK)
        rc = neonflow_run_options_new(&ro);
    if (rc == NEONFLOW_OK)
        rc = neonflow_run_options_set_project_id(ro, p->id);
    if (rc == NEONFLOW_OK)
        rc = neonflow_run_options_set_run_id(ro, run_id);
    if (rc == NEONFLOW_OK)
        rc = neonflow_run_options_set_timeout_ms(ro, 30000);
    if (rc == NEONFLOW_OK)
        rc = neonflow_run_options_set_event_hook(ro, on_event, NULL, NULL);
    if (rc == NEONFLOW_OK)
        rc = neonflow_promote_options_new(&po);
    if (rc == NEONFLOW_OK)
        rc = neonflow_promote_options_set_source(po, "dev");
    if (rc == NEONFLOW_OK)
        rc = neonflow_promote_options_set_target(po, "production");
    if (rc == NEONFLOW_OK)
        rc = neonflow_promote(rep, c, ro, po, err);
    neonflow_promote_options_free(po);
    neonflow_run_options_free(ro);
    neonflow_client_free(c);
    neonflow_client_options_free(co);
    return rc;
}

/* 1 when name is this run's neonflow name for the target production with a
 * kind ending in `kind` ("backup" matches "backup" and "promote-backup"). */
static int ours(const char *name, const char *kind, const char *run_id)
{
    neonflow__name_parts np;
    if (!neonflow__name_parse(name, &np) || strcmp(np.target, "production") != 0 || strcmp(np.run_id, run_id) != 0)
        return 0;
    size_t n = strlen(np.kind), k = strlen(kind);
    return n >= k && strcmp(np.kind + n - k, kind) == 0 && (n == k || np.kind[n - k - 1] == '-');
}

/* The project after a promotion; run_id's names, rep's ids (rep may be NULL). */
static int check_promoted(const project *p, const char *run_id, const neonflow_report *rep)
{
    neonflow_client_options *co = NULL;
    neonflow_client *c = NULL;
    neonflow_client_options_new(&co);
    neonflow_client_options_set_base_url(co, base_url);
    neonflow_client_options_set_api_key(co, KEY);
    neonflow_error *err = NULL;
    if (neonflow_client_new(&c, co, &err) != NEONFLOW_OK) {
        neonflow_client_options_free(co);
        neonflow_error_free(err);
        return fail("check: no client");
    }
    neonflow_client_options_free(co);
    neonflow_branch_list *bl = NULL;
    neonflow_snapshot_list *sl = NULL;
    neonflow_endpoint_list *el = NULL;
    int rc = 0;
    if (neonflow_branches_list(&bl, c, p->id, NULL, NULL, NULL) || neonflow_snapshots_list(&sl, c, p->id, NULL, NULL) ||
        neonflow_endpoints_list(&el, c, p->id, NULL, NULL)) {
        rc = fail("check: listing failed");
        goto out;
    }
    const char *live = NULL, *backup = NULL, *other = "";
    int n_prod = 0, n_backup = 0, n_other = 0;
    for (size_t i = 0; i < neonflow_branch_list_count(bl); i++) {
        const neonflow_branch *b = neonflow_branch_list_at(bl, i);
        const char *name = neonflow_branch_name(b);
        for (size_t j = 0; j < i; j++)
            if (strcmp(neonflow_branch_name(neonflow_branch_list_at(bl, j)), name) == 0) {
                rc = fail("duplicate branch name \"%s\"", name);
                goto out;
            }
        if (strcmp(name, "production") == 0) {
            n_prod++;
            live = neonflow_branch_id(b);
        } else if (ours(name, "backup", run_id)) {
            n_backup++;
            backup = neonflow_branch_id(b);
        } else if (strcmp(name, "dev") != 0) {
            n_other++;
            other = name;
        }
    }
    if (n_prod != 1 || n_backup != 1 || n_other != 0 || neonflow_branch_list_count(bl) != 3) {
        rc = fail("branches: %d production, %d backup, %d other (\"%s\") of %zu", n_prod, n_backup, n_other,
                  other, neonflow_branch_list_count(bl));
        goto out;
    }
    if (strcmp(backup, p->prod_id) != 0) {
        rc = fail("the backup is %s, not the old production %s", backup, p->prod_id);
        goto out;
    }
    char content[128];
    if (content_of(p, live, content, sizeof(content)) || strcmp(content, "dev-v1") != 0) {
        rc = fail("production holds \"%s\", not dev's data", content);
        goto out;
    }
    if (content_of(p, backup, content, sizeof(content)) || strcmp(content, "prod-v1") != 0) {
        rc = fail("the backup holds \"%s\", not the old production data", content);
        goto out;
    }
    int ep_ok = 0, rw_on_live = 0;
    for (size_t i = 0; i < neonflow_endpoint_list_count(el); i++) {
        const neonflow_endpoint *e = neonflow_endpoint_list_at(el, i);
        if (strcmp(neonflow_endpoint_branch_id(e), live) == 0) {
            rw_on_live += neonflow_endpoint_type(e) == NEONFLOW_ENDPOINT_TYPE_READ_WRITE;
            ep_ok |= strcmp(neonflow_endpoint_id(e), p->prod_ep) == 0;
        }
    }
    if (!ep_ok || rw_on_live != 1) {
        rc = fail("production's endpoint %s did not move (or %d read_write endpoints)", p->prod_ep, rw_on_live);
        goto out;
    }
    int n_cand = 0, n_rb = 0;
    const char *cand_id = "", *rb_id = "";
    for (size_t i = 0; i < neonflow_snapshot_list_count(sl); i++) {
        const neonflow_snapshot *s = neonflow_snapshot_list_at(sl, i);
        const char *name = neonflow_snapshot_name(s);
        if (ours(name, "candidate", run_id)) {
            n_cand++;
            cand_id = neonflow_snapshot_id(s);
        } else if (ours(name, "rollback", run_id)) {
            n_rb++;
            rb_id = neonflow_snapshot_id(s);
        } else {
            rc = fail("stray snapshot %s named \"%s\"", neonflow_snapshot_id(s), name);
            goto out;
        }
    }
    if (n_cand != 1 || n_rb != 1) {
        rc = fail("snapshots: %d candidate, %d rollback", n_cand, n_rb);
        goto out;
    }
    if (rep && (strcmp(neonflow_report_candidate_snapshot_id(rep), cand_id) != 0 ||
                strcmp(neonflow_report_rollback_snapshot_id(rep), rb_id) != 0 ||
                strcmp(neonflow_report_target_branch_id(rep), live) != 0 ||
                strcmp(neonflow_report_backup_branch_id(rep), backup) != 0)) {
        rc = fail("the report names resources the project does not hold under the planned names: "
                  "candidate %s/%s rollback %s/%s target %s/%s backup %s/%s",
                  neonflow_report_candidate_snapshot_id(rep), cand_id, neonflow_report_rollback_snapshot_id(rep), rb_id,
                  neonflow_report_target_branch_id(rep), live, neonflow_report_backup_branch_id(rep), backup);
        goto out;
    }
out:
    neonflow_branch_list_free(bl);
    neonflow_snapshot_list_free(sl);
    neonflow_endpoint_list_free(el);
    neonflow_client_free(c);
    return rc;
}

#define NCODES 256 /* by_code[-rc] */
static long by_layer[NEONFLOW__LAYERS + 1]; /* + "not reached" */
static long by_code[NCODES];

/* k = 0: a clean counting run. Returns 0, or -1 with `failure` set. */
static int run_case(long k)
{
    project p;
    if (project_new(&p, k) != 0)
        return fail("could not seed the project");
    char run_id[32];
    snprintf(run_id, sizeof(run_id), "oom%ld", k);
    alarm(CASE_SECONDS);
    neonflow_report *rep = NULL;
    neonflow_error *err = NULL;
    neonflow__alloc_fail_nth(k);
    int rc = promote(&p, run_id, &rep, &err);
    int layer = neonflow__alloc_failed_layer();
    neonflow__alloc_fail_nth(-1);
    if (k > 0) {
        by_layer[layer < 0 ? NEONFLOW__LAYERS : layer]++;
        by_code[rc <= 0 && -rc < NCODES ? -rc : 0]++;
    }
    int bad = 0;
    if (err && neonflow_error_code(err) != rc)
        bad = fail("returned %s but the error says %s", neonflow_error_name(rc),
                   neonflow_error_name(neonflow_error_code(err)));
    else if (rc != NEONFLOW_OK && !accepted(rc))
        bad = fail("returned %s: %s", neonflow_error_name(rc), err ? neonflow_error_message(err) : "(no error)");
    else if (rc == NEONFLOW_OK && check_promoted(&p, run_id, rep) != 0)
        bad = fail("false success: %.1900s", strcpy(why, failure));
    if (verbose)
        fprintf(stderr, "k=%ld layer=%d -> %s%s%s\n", k, layer, neonflow_error_name(rc), err ? ": " : "",
                err ? neonflow_error_message(err) : "");
    neonflow_report_free(rep);
    neonflow_error_free(err);
    if (bad) {
        alarm(0);
        return -1;
    }
    /* the resume, with the same run id and no failures */
    rep = NULL;
    err = NULL;
    rc = promote(&p, run_id, &rep, &err);
    if (rc != NEONFLOW_OK)
        bad = fail("the resume returned %s: %s", neonflow_error_name(rc), err ? neonflow_error_message(err) : "");
    else if (check_promoted(&p, run_id, rep) != 0)
        bad = fail("after the resume: %.1900s", strcpy(why, failure));
    neonflow_report_free(rep);
    neonflow_error_free(err);
    alarm(0);
    return bad ? -1 : 0;
}

static int wanted(long k, long n, long seed, int sample)
{
    if (!sample)
        return 1;
    return k <= 20 || k > n - 20 || (k + seed) % 37 == 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: oom-sweep EMULATOR [--sample SEED] [--from K] [--to K] [--verbose]\n");
        return 2;
    }
    long seed = 0, from = 1, to = -1;
    int sample = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--sample") == 0 && i + 1 < argc)
            sample = 1, seed = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--verbose") == 0)
            verbose = 1;
    }
    /* before curl is first used here: curl_global_init_mem takes effect only
     * when the library initialises curl first */
    if (neonflow__alloc_install() != 0) {
        fprintf(stderr, "oom-sweep: curl_global_init_mem failed\n");
        return 2;
    }
    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    if (emu_start(argv[1]) != 0) {
        fprintf(stderr, "oom-sweep: could not start %s\n", argv[1]);
        emu_stop();
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* a clean run installs the allocators and counts the points */
    if (run_case(0) != 0) {
        fprintf(stderr, "oom-sweep: the clean run failed: %s\n", failure);
        emu_stop();
        return 1;
    }
    long n = 0, layers[NEONFLOW__LAYERS];
    for (int l = 0; l < NEONFLOW__LAYERS; l++)
        n += layers[l] = neonflow__alloc_count(l);
    printf("clean promotion: %ld allocations (library %ld, curl %ld, jansson %ld)\n", n, layers[NEONFLOW__LAYER_LIB],
           layers[NEONFLOW__LAYER_CURL], layers[NEONFLOW__LAYER_JSON]);
    if (to < 0 || to > n)
        to = n;
    long ran = 0, failed = 0;
    for (long k = from; k <= to; k++) {
        if (!wanted(k, n, seed, sample))
            continue;
        ran++;
        if (run_case(k) != 0) {
            failed++;
            printf("FAIL k=%ld (layer %d): %s\n", k, neonflow__alloc_failed_layer(), failure);
            fflush(stdout);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("points run: %ld of %ld, failures: %ld, %.1f s\n", ran, n, failed, secs);
    printf("by layer: library %ld, curl %ld, jansson %ld, not reached %ld\n", by_layer[NEONFLOW__LAYER_LIB],
           by_layer[NEONFLOW__LAYER_CURL], by_layer[NEONFLOW__LAYER_JSON], by_layer[NEONFLOW__LAYERS]);
    printf("snapshots or branches created under another name and renamed: %ld\n", renamed);
    printf("by outcome:");
    for (int c = 0; c < NCODES; c++)
        if (by_code[c])
            printf(" %s %ld", neonflow_error_name(-c), by_code[c]);
    printf("\n");
    emu_stop();
    curl_global_cleanup();
    return failed ? 1 : 0;
}
