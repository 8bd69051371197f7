/* Secrets and hostile data through whole workflows against the emulator:
 * the API key, given by mistake as the project ID or inside a branch name,
 * reaches no error field, report (text and JSON), event or log line; names
 * with control characters are escaped in messages; and every socket the
 * library leaves open is close-on-exec (hooks that exec inherit none). */
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/scrub.h"
#include "emulator.h"
#include "neonflow/neonflow.h"

/* Shaped like a Neon ID so that it passes ID validation and reaches URLs. */
#define KEY "k3yabcdefghij0123456789klmnopqrst"
#define PROJECT "proj-1"

typedef struct fx {
    emu_server *s;
    neonflow_client *c;
    char prod_id[64], prod_ep[64], dev_id[64], dev_ep[64];
    char seen[262144]; /* every log line and event string */
    size_t seen_len;
} fx;

static void seen_add(fx *f, const char *s)
{
    size_t n = strlen(s);
    if (f->seen_len + n + 2 < sizeof(f->seen)) {
        memcpy(f->seen + f->seen_len, s, n);
        f->seen_len += n;
        f->seen[f->seen_len++] = '\n';
        f->seen[f->seen_len] = '\0';
    }
}

static void on_log(const neonflow_log_record *rec, void *payload)
{
    seen_add(payload, neonflow_log_record_message(rec));
}

static void on_event(const neonflow_event *ev, void *payload)
{
    seen_add(payload, neonflow_event_message(ev));
    seen_add(payload, neonflow_event_step(ev));
    seen_add(payload, neonflow_event_run_id(ev));
    seen_add(payload, neonflow_event_operation_id(ev));
    seen_add(payload, neonflow_event_operation_action(ev));
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    emu_config cfg;
    emu_config_init(&cfg);
    cfg.api_key = KEY;
    cfg.rate_per_minute = 0;
    cfg.rate_per_second_route = 0;
    if (emu_start(&f->s, &cfg) != 0)
        return -1;
    if (emu_add_project(f->s, PROJECT, "production", f->prod_id, f->prod_ep) != 0 ||
        emu_add_branch(f->s, PROJECT, "dev", NULL, 1, f->dev_id, f->dev_ep) != 0)
        return -1;
    neonflow_client_options *o = NULL;
    assert_int_equal(neonflow_client_options_new(&o), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_base_url(o, emu_base_url(f->s)), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_api_key(o, KEY), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_retry_backoff(o, 1, 20), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_level(o, NEONFLOW_LOG_DEBUG), NEONFLOW_OK);
    assert_int_equal(neonflow_client_options_set_log_hook(o, on_log, f, NULL), NEONFLOW_OK);
    assert_int_equal(neonflow_client_new(&f->c, o, NULL), NEONFLOW_OK);
    neonflow_client_options_free(o);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    neonflow_client_free(f->c);
    emu_stop(f->s);
    free(f);
    return 0;
}

static neonflow_run_options *run_for(fx *f, const char *project)
{
    neonflow_run_options *ro = NULL;
    assert_int_equal(neonflow_run_options_new(&ro), NEONFLOW_OK);
    assert_int_equal(neonflow_run_options_set_project_id(ro, project), NEONFLOW_OK);
    assert_int_equal(neonflow_run_options_set_event_hook(ro, on_event, f, NULL), NEONFLOW_OK);
    return ro;
}

static void assert_clean(const char *what, const char *s)
{
    if (neonflow__scrub_found(s, strlen(s), KEY))
        fail_msg("%s holds the key: %s", what, s);
}

/* Error fields, the report's text and JSON, events and logs: no key. */
static void assert_nothing_holds_the_key(fx *f, const neonflow_report *rep, const neonflow_error *err)
{
    assert_non_null(err);
    assert_clean("error message", neonflow_error_message(err));
    assert_clean("error request id", neonflow_error_request_id(err));
    assert_clean("error Neon code", neonflow_error_neon_code(err));
    assert_clean("error path", neonflow_error_path(err));
    assert_non_null(rep);
    assert_clean("report message", neonflow_report_message(rep));
    char *json = NULL;
    assert_int_equal(neonflow_report_to_json(&json, rep, 0, NULL), NEONFLOW_OK);
    assert_clean("report JSON", json);
    neonflow_free(json);
    assert_clean("events and logs", f->seen);
}

static void test_key_as_project_id(void **state)
{
    fx *f = *state;
    neonflow_run_options *ro = run_for(f, KEY);
    neonflow_report *rep = NULL;
    neonflow_error *err = NULL;
    int rc = neonflow_promote(&rep, f->c, ro, NULL, &err);
    assert_int_not_equal(rc, NEONFLOW_OK);
    assert_true(f->seen_len > 0);
    assert_nothing_holds_the_key(f, rep, err);
    neonflow_report_free(rep);
    neonflow_error_free(err);
    neonflow_run_options_free(ro);
}

static void test_key_in_branch_names(void **state)
{
    fx *f = *state;
    neonflow_run_options *ro = run_for(f, PROJECT);
    neonflow_promote_options *po = NULL;
    assert_int_equal(neonflow_promote_options_new(&po), NEONFLOW_OK);
    assert_int_equal(neonflow_promote_options_set_source(po, "dev-" KEY), NEONFLOW_OK);
    neonflow_report *rep = NULL;
    neonflow_error *err = NULL;
    assert_int_equal(neonflow_promote(&rep, f->c, ro, po, &err), NEONFLOW_EBRANCH_MISSING);
    assert_nothing_holds_the_key(f, rep, err);
    assert_non_null(strstr(neonflow_error_message(err), "dev-***"));
    neonflow_report_free(rep);
    neonflow_error_free(err);
    neonflow_promote_options_free(po);
    neonflow_run_options_free(ro);
}

/* A name with an escape sequence and a newline: messages stay one line with
 * the controls visible, never raw. */
static void test_control_characters_escaped(void **state)
{
    fx *f = *state;
    neonflow_run_options *ro = run_for(f, PROJECT);
    neonflow_promote_options *po = NULL;
    assert_int_equal(neonflow_promote_options_new(&po), NEONFLOW_OK);
    assert_int_equal(neonflow_promote_options_set_source(po, "x\x1b[2J\nneonflow: forged"), NEONFLOW_OK);
    neonflow_report *rep = NULL;
    neonflow_error *err = NULL;
    assert_int_not_equal(neonflow_promote(&rep, f->c, ro, po, &err), NEONFLOW_OK);
    const char *texts[] = {neonflow_error_message(err), neonflow_report_message(rep), f->seen};
    for (size_t i = 0; i < 2; i++) {
        assert_null(strchr(texts[i], '\x1b'));
        assert_null(strchr(texts[i], '\n'));
        assert_non_null(strstr(texts[i], "x\\x1b[2J\\nneonflow: forged"));
    }
    assert_null(strchr(f->seen, '\x1b'));
    neonflow_report_free(rep);
    neonflow_error_free(err);
    neonflow_promote_options_free(po);
    neonflow_run_options_free(ro);
}

/* Port of the local end of socket fd, or -1. */
static int local_port(int fd)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof(a);
    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    if (a.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&a)->sin_port);
    if (a.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
    return 0;
}

static void test_sockets_close_on_exec(void **state)
{
    fx *f = *state;
    /* leave pooled connections open */
    for (int i = 0; i < 3; i++) {
        neonflow_branch_list *l = NULL;
        assert_int_equal(neonflow_branches_list(&l, f->c, PROJECT, NULL, NULL, NULL), NEONFLOW_OK);
        neonflow_branch_list_free(l);
    }
    const char *base = emu_base_url(f->s);
    int emu_port = atoi(strrchr(base, ':') + 1);
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int client_sockets = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
            continue;
        char path[64], target[256] = "";
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, target, sizeof(target) - 1);
        if (n <= 0 || strncmp(target, "socket:", 7) != 0)
            continue;
        int port = local_port(fd);
        if (port == emu_port) /* the emulator's own end, not the library's */
            continue;
        if (port > 0)
            client_sockets++;
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0 || !(flags & FD_CLOEXEC))
            fail_msg("fd %d (%s, local port %d) is inherited by exec", fd, target, port);
    }
    closedir(d);
    assert_true(client_sockets >= 1); /* the check saw the library's connection */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_key_as_project_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_in_branch_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_characters_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sockets_close_on_exec, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
