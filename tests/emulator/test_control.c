/* Emulator: endpoints, control routes, state dump, save/load, the program. */
#include "emu_http.h"

#include <setjmp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static const char *program_path;

static int setup(void **state)
{
    static emu_fixture fx;
    if (fx_start(&fx, NULL) != 0)
        return -1;
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fx_stop(*state);
    return 0;
}

static void test_endpoints(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char dev[64], path[200], body[300], ep[64];
    assert_int_equal(emu_add_branch(fx->s, "proj", "dev", fx->bid, 0, dev, NULL), 0);
    json_t *j = http_expect(fx->s, "GET", "/projects/proj/endpoints", NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(j, "endpoints")), 1);
    assert_string_equal(jstr(j, "endpoints.0.id"), fx->eid);
    assert_string_equal(jstr(j, "endpoints.0.type"), "read_write");
    assert_string_equal(jstr(j, "endpoints.0.current_state"), "active");
    http_free(&r);
    snprintf(body, sizeof(body), "{\"endpoint\":{\"branch_id\":\"%s\",\"type\":\"read_write\",\"zzz\":1}}", dev);
    j = http_expect(fx->s, "POST", "/projects/proj/endpoints", body, 201, &r);
    snprintf(ep, sizeof(ep), "%s", jstr(j, "endpoint.id"));
    assert_true(strncmp(ep, "ep-", 3) == 0);
    assert_string_equal(jstr(j, "endpoint.branch_id"), dev);
    assert_string_equal(jstr(j, "operations.0.action"), "start_compute");
    http_free(&r);
    http_expect(fx->s, "POST", "/projects/proj/endpoints", body, 409, &r); /* second read_write */
    http_free(&r);
    snprintf(body, sizeof(body), "{\"endpoint\":{\"branch_id\":\"%s\",\"type\":\"read_only\"}}", dev);
    http_expect(fx->s, "POST", "/projects/proj/endpoints", body, 201, &r);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/endpoints", dev);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(j, "endpoints")), 2);
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/proj/branches/br-x-x-x/endpoints", NULL, 404, &r);
    http_free(&r);
    /* bad bodies */
    const char *bad[] = {"{}", "{\"endpoint\":{\"type\":\"read_write\"}}",
                         "{\"endpoint\":{\"branch_id\":\"br-a\",\"type\":\"rw\"}}",
                         "{\"endpoint\":{\"branch_id\":1,\"type\":\"read_write\"}}", "{\"endpoint\":[]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        http_expect(fx->s, "POST", "/projects/proj/endpoints", bad[i], 400, &r);
        http_free(&r);
    }
    http_expect(fx->s, "POST", "/projects/proj/endpoints", "{\"endpoint\":{\"branch_id\":\"br-a-b-c\",\"type\":\"read_only\"}}",
                404, &r);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/proj/endpoints/%s", ep);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "endpoint.id"), ep);
    http_free(&r);
    j = http_expect(fx->s, "DELETE", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "endpoint.id"), ep);
    assert_true(json_array_size(json_object_get(j, "operations")) >= 1);
    http_free(&r);
    http_expect(fx->s, "GET", path, NULL, 404, &r);
    assert_string_equal(jstr(r.json, "message"), "endpoint not found");
    http_free(&r);
    http_expect(fx->s, "DELETE", path, NULL, 204, &r);
    http_free(&r);
}

static void test_control_routes(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char body[300], path[300], pb[64];
    json_t *j = http_expect(fx->s, "POST", "/__emulator/projects", "{\"project_id\":\"p2\",\"branch_name\":\"prod\"}", 200, &r);
    assert_string_equal(jstr(j, "project_id"), "p2");
    snprintf(pb, sizeof(pb), "%s", jstr(j, "branch_id"));
    assert_non_null(jstr(j, "endpoint_id"));
    http_free(&r);
    http_expect(fx->s, "POST", "/__emulator/projects", "{\"project_id\":\"p2\"}", 409, &r);
    http_free(&r);
    j = http_expect(fx->s, "POST", "/__emulator/projects", "{}", 200, &r);
    assert_non_null(jstr(j, "project_id"));
    http_free(&r);
    snprintf(body, sizeof(body), "{\"project_id\":\"p2\",\"name\":\"root2\",\"with_rw_endpoint\":true}");
    j = http_expect(fx->s, "POST", "/__emulator/branches", body, 200, &r);
    assert_non_null(jstr(j, "endpoint_id"));
    http_free(&r);
    http_expect(fx->s, "POST", "/__emulator/branches", body, 400, &r); /* duplicate name */
    http_free(&r);

    snprintf(body, sizeof(body), "{\"project_id\":\"p2\",\"branch_id\":\"%s\",\"content\":\"hello\"}", pb);
    j = http_expect(fx->s, "POST", "/__emulator/write", body, 200, &r);
    char lsn[32];
    snprintf(lsn, sizeof(lsn), "%s", jstr(j, "lsn"));
    http_free(&r);
    snprintf(path, sizeof(path), "/__emulator/read?project_id=p2&branch_id=%s", pb);
    j = http_expect(fx->s, "GET", path, NULL, 200, &r);
    assert_string_equal(jstr(j, "content"), "hello");
    assert_string_equal(jstr(j, "lsn"), lsn);
    http_free(&r);
    http_expect(fx->s, "GET", "/__emulator/read?project_id=p2&branch_id=nope", NULL, 404, &r);
    http_free(&r);

    /* faults through the control route */
    http_expect(fx->s, "POST", "/__emulator/faults",
                "{\"method\":\"GET\",\"path\":\"/projects/p2\",\"kind\":\"status\",\"status\":503,\"retry_after_s\":2}", 200, &r);
    http_free(&r);
    http_req(fx->s, "GET", "/projects/p2", NULL, &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.retry_after, "2");
    http_free(&r);
    http_expect(fx->s, "POST", "/__emulator/faults", "{\"kind\":\"status\",\"count\":5}", 200, &r);
    http_free(&r);
    http_expect(fx->s, "DELETE", "/__emulator/faults", NULL, 200, &r);
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/p2", NULL, 200, &r);
    http_free(&r);
    http_expect(fx->s, "POST", "/__emulator/faults", "{\"kind\":\"explode\"}", 400, &r);
    http_free(&r);
    http_expect(fx->s, "POST", "/__emulator/faults", "{\"kind\":\"delay\",\"delay_ms\":\"x\"}", 400, &r);
    http_free(&r);

    /* op faults and duration */
    http_expect(fx->s, "POST", "/__emulator/op_faults", "{\"action\":\"create_branch\",\"kind\":\"error\"}", 200, &r);
    http_free(&r);
    j = http_expect(fx->s, "POST", "/projects/p2/branches", NULL, 201, &r);
    assert_string_equal(jstr(j, "operations.0.status"), "error");
    http_free(&r);
    http_expect(fx->s, "PUT", "/__emulator/op_duration", "{\"ms\":500}", 200, &r);
    http_free(&r);
    j = http_expect(fx->s, "POST", "/projects/p2/branches", NULL, 201, &r);
    assert_string_equal(jstr(j, "operations.0.status"), "scheduling");
    http_free(&r);
    http_expect(fx->s, "POST", "/projects/p2/branches", NULL, 423, &r);
    http_free(&r);
    http_expect(fx->s, "PUT", "/__emulator/op_duration", "{\"ms\":0}", 200, &r);
    http_free(&r);
    wait_ops(fx->s, "p2");

    /* limits, rate limit */
    j = http_expect(fx->s, "PUT", "/__emulator/limits", "{\"project_id\":\"p2\",\"max_snapshots\":1}", 200, &r);
    assert_int_equal(json_integer_value(json_object_get(j, "max_snapshots")), 1);
    http_free(&r);
    snprintf(path, sizeof(path), "/projects/p2/branches/%s/snapshot", pb);
    http_expect(fx->s, "POST", path, NULL, 200, &r);
    http_free(&r);
    http_expect(fx->s, "POST", path, NULL, 422, &r);
    http_free(&r);
    http_expect(fx->s, "PUT", "/__emulator/rate_limit", "{\"per_minute\":0,\"per_second_route\":1}", 200, &r);
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/p2", NULL, 200, &r);
    http_free(&r);
    http_expect(fx->s, "GET", "/projects/p2", NULL, 429, &r);
    http_free(&r);
    http_expect(fx->s, "PUT", "/__emulator/rate_limit", "{\"per_minute\":0,\"per_second_route\":0}", 200, &r);
    http_free(&r);

    /* counters, state, unknown */
    j = http_expect(fx->s, "GET", "/__emulator/counters", NULL, 200, &r);
    assert_true(json_object_size(json_object_get(j, "requests")) > 0);
    http_free(&r);
    http_expect(fx->s, "DELETE", "/__emulator/counters", NULL, 200, &r);
    http_free(&r);
    assert_int_equal(emu_requests(fx->s, NULL, NULL), 0);
    j = http_expect(fx->s, "GET", "/__emulator/state", NULL, 200, &r);
    assert_int_equal(json_array_size(json_object_get(j, "projects")), 3);
    http_free(&r);
    http_expect(fx->s, "GET", "/__emulator/nothing", NULL, 404, &r);
    http_free(&r);
    http_expect(fx->s, "POST", "/__emulator/write", "{\"project_id\":", 400, &r);
    http_free(&r);
}

static void test_save_and_load(void **state)
{
    emu_fixture *fx = *state;
    http_resp r;
    char path[200], file[] = "/tmp/emu-fixture-XXXXXX", sid[64], child[64], content[64], lsn[32], lsn2[32];
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(emu_write(fx->s, "proj", fx->bid, "saved", lsn), 0);
    assert_int_equal(emu_add_branch(fx->s, "proj", "kid", fx->bid, 1, child, NULL), 0);
    snprintf(path, sizeof(path), "/projects/proj/branches/%s/snapshot?name=keep", fx->bid);
    json_t *j = http_expect(fx->s, "POST", path, NULL, 200, &r);
    snprintf(sid, sizeof(sid), "%s", jstr(j, "snapshot.id"));
    http_free(&r);
    assert_int_equal(emu_set_limits(fx->s, "proj", 7, 9), 0);
    assert_int_equal(emu_save(fx->s, file), 0);

    emu_config c;
    emu_server *s2;
    emu_config_init(&c);
    c.fixture_path = file;
    assert_int_equal(emu_start(&s2, &c), 0);
    assert_int_equal(emu_count_branches(s2, "proj"), 2);
    assert_int_equal(emu_count_snapshots(s2, "proj"), 1);
    assert_int_equal(emu_read(s2, "proj", fx->bid, content, sizeof(content), lsn2), 0);
    assert_string_equal(content, "saved");
    assert_string_equal(lsn2, lsn);
    json_t *st = emu_state(s2);
    json_t *p = json_array_get(json_object_get(st, "projects"), 0);
    assert_int_equal(json_integer_value(json_object_get(p, "max_root_branches")), 7);
    assert_string_equal(jstr(p, "snapshots.0.id"), sid);
    assert_string_equal(jstr(p, "endpoints.0.id"), fx->eid);
    json_decref(st);
    /* the loaded snapshot restores with its content */
    http_reset();
    snprintf(path, sizeof(path), "/projects/proj/snapshots/%s/restore", sid);
    j = http_expect(s2, "POST", path, "{\"finalize_restore\":true}", 200, &r);
    assert_int_equal(emu_read(s2, "proj", jstr(j, "branch.id"), content, sizeof(content), NULL), 0);
    assert_string_equal(content, "saved");
    assert_string_equal(jstr(j, "endpoints.0.id"), fx->eid);
    http_free(&r);
    http_reset();
    emu_stop(s2);

    /* broken fixtures fail cleanly */
    FILE *f = fopen(file, "w");
    fputs("{\"projects\":[{\"id\":\"Bad Id\"}]}", f);
    fclose(f);
    assert_int_not_equal(emu_start(&s2, &c), 0);
    f = fopen(file, "w");
    fputs("not json", f);
    fclose(f);
    assert_int_not_equal(emu_start(&s2, &c), 0);
    c.fixture_path = "/nonexistent/fixture.json";
    assert_int_not_equal(emu_start(&s2, &c), 0);
    unlink(file);

    /* non-loopback hosts are refused */
    emu_config_init(&c);
    c.host = "0.0.0.0";
    assert_int_not_equal(emu_start(&s2, &c), 0);
    c.host = "8.8.8.8";
    assert_int_not_equal(emu_start(&s2, &c), 0);
}

static void test_program(void **state)
{
    (void)state;
    if (!program_path)
        skip();
    char file[] = "/tmp/emu-save-XXXXXX";
    int fd = mkstemp(file), out[2];
    assert_true(fd >= 0);
    close(fd);
    unlink(file);
    assert_int_equal(pipe(out), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execl(program_path, program_path, "--port", "0", "--api-key", "k1", "--project-id", "demo",
              "--branch", "prod", "--save", file, "--no-rate-limit", "--max-connections", "64",
              "--connection-timeout", "30", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    FILE *fp = fdopen(out[0], "r");
    char line[256] = "";
    assert_non_null(fgets(line, sizeof(line), fp));
    unsigned port = 0;
    assert_int_equal(sscanf(line, "listening on http://127.0.0.1:%u/api/v2", &port), 1);
    assert_true(port > 0);

    CURL *h = curl_easy_init();
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v2/projects/demo/branches", port);
    struct curl_slist *hl = curl_slist_append(NULL, "Authorization: Bearer k1");
    FILE *sink = fopen("/dev/null", "w");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 200);

    /* the save route writes the --save file, and no other */
    char other[] = "/tmp/emu-other-XXXXXX", body[128];
    fd = mkstemp(other);
    assert_true(fd >= 0);
    close(fd);
    unlink(other);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/__emulator/save", port);
    snprintf(body, sizeof(body), "{\"path\":\"%s\"}", other);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 400);
    assert_int_equal(access(other, F_OK), -1);
    assert_int_equal(access(file, F_OK), -1);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{}");
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 200);
    assert_int_equal(access(file, F_OK), 0);
    unlink(file); /* SIGTERM below writes it again */
    fclose(sink);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);

    kill(pid, SIGTERM);
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 0);
    fclose(fp);
    json_t *saved = json_load_file(file, 0, NULL);
    assert_non_null(saved);
    json_t *p = json_array_get(json_object_get(saved, "projects"), 0);
    assert_string_equal(jstr(p, "id"), "demo");
    assert_string_equal(jstr(p, "branches.0.name"), "prod");
    json_decref(saved);
    unlink(file);

    /* --host must be loopback; connection options must be in range */
    const char *bad[][2] = {{"--host", "0.0.0.0"},          {"--max-connections", "0"},
                            {"--max-connections", "x"},     {"--connection-timeout", "0"},
                            {"--connection-timeout", "3601"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        pid = fork();
        if (pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, 1);
            dup2(devnull, 2);
            execl(program_path, program_path, bad[i][0], bad[i][1], (char *)NULL);
            _exit(127);
        }
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) != 0 && WEXITSTATUS(ws) != 127);
    }
}

/* --rate-limit M:S sets the limits (a scaled benchmark's); bad values exit. */
static void test_program_rate_limit(void **state)
{
    (void)state;
    if (!program_path)
        skip();
    int out[2], ws = 0;
    assert_int_equal(pipe(out), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        execl(program_path, program_path, "--port", "0", "--api-key", "k1", "--project-id", "demo",
              "--rate-limit", "2:0", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    FILE *fp = fdopen(out[0], "r");
    char line[256] = "";
    assert_non_null(fgets(line, sizeof(line), fp));
    unsigned port = 0;
    assert_int_equal(sscanf(line, "listening on http://127.0.0.1:%u/api/v2", &port), 1);
    CURL *h = curl_easy_init();
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v2/projects/demo/branches", port);
    struct curl_slist *hl = curl_slist_append(NULL, "Authorization: Bearer k1");
    FILE *sink = fopen("/dev/null", "w");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    /* 2 per minute: the third within the minute is refused */
    const long want[] = {200, 200, 429};
    for (int i = 0; i < 3; i++) {
        long status = 0;
        assert_int_equal(curl_easy_perform(h), CURLE_OK);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        assert_int_equal(status, want[i]);
    }
    fclose(sink);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    kill(pid, SIGTERM);
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    fclose(fp);

    const char *bad[] = {"7000", "x:1", "1:-1", ":", "1:2:3", "", "1000001:0", "0:100001"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        pid = fork();
        if (pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, 1);
            dup2(devnull, 2);
            execl(program_path, program_path, "--rate-limit", bad[i], (char *)NULL);
            _exit(127);
        }
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 2);
    }
}

int main(int argc, char **argv)
{
    alarm(100);
    signal(SIGPIPE, SIG_IGN);
    program_path = argc > 1 ? argv[1] : NULL;
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_endpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_and_load, setup, teardown),
        cmocka_unit_test(test_program),
        cmocka_unit_test(test_program_rate_limit),
    };
    int rc = cmocka_run_group_tests_name("emulator.control", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
