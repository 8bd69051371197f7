/* neonflow-emulator: serves the emulator until SIGINT/SIGTERM.
 * Prints exactly one line on stdout, "listening on <base url>", once ready. */
#include "emulator.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Each connection holds a descriptor: lift the soft limit towards what
 * --max-connections needs (within the hard limit). */
static void raise_nofile(int32_t max_connections)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)max_connections + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        fprintf(stderr, "neonflow-emulator: cannot raise the open-file limit\n");
}

static void usage(FILE *f)
{
    fputs("usage: neonflow-emulator [options]\n"
          "  --host ADDR           loopback address to bind (default 127.0.0.1)\n"
          "  --port N              TCP port, 0 = ephemeral (default 0)\n"
          "  --api-key KEY         accepted Bearer token (default emulator-key)\n"
          "  --seed N              seed for IDs and probabilistic faults (default 1)\n"
          "  --op-duration-ms N    operation duration, 0 = instant (default 0)\n"
          "  --fixture FILE        load state from a JSON fixture\n"
          "  --save FILE           save state to FILE on exit and on POST /__emulator/save\n"
          "  --project-id ID       seed a project (default demo-project when no fixture)\n"
          "  --branch NAME         name of the seeded default branch (default production)\n"
          "  --no-rate-limit       disable the 700/min and 40/s per route limits\n"
          "  --rate-limit M:S      M requests per minute, S per second per route\n"
          "                        (0 disables one; e.g. 7000:400 for a 10x scaled run)\n"
          "  --max-connections N   connections served at once (default 4096)\n"
          "  --connection-timeout S  seconds a connection has to send a complete request,\n"
          "                        from connecting or its previous response (default 10)\n"
          "  --help                show this help\n"
          "Control routes: /__emulator/ (see tools/emulator/README.md).\n",
          f);
}

static int parse_num(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    emu_config cfg;
    const char *save = NULL, *project = NULL, *branch = "production";
    long long v;
    emu_config_init(&cfg);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--no-rate-limit") == 0) {
            cfg.rate_per_minute = cfg.rate_per_second_route = 0;
            takes = 0;
        } else if (!val) {
            fprintf(stderr, "neonflow-emulator: %s needs a value (or is unknown)\n", a);
            usage(stderr);
            return 2;
        } else if (strcmp(a, "--rate-limit") == 0) {
            long long m, sec;
            const char *colon = strchr(val, ':');
            char head[32];
            if (!colon || (size_t)(colon - val) >= sizeof(head))
                goto bad;
            memcpy(head, val, (size_t)(colon - val));
            head[colon - val] = '\0';
            /* the control route's bounds: each limit keeps a log that long */
            if (parse_num(head, 0, 1000000, &m) != 0 || parse_num(colon + 1, 0, 100000, &sec) != 0)
                goto bad;
            cfg.rate_per_minute = (int32_t)m;
            cfg.rate_per_second_route = (int32_t)sec;
        } else if (strcmp(a, "--host") == 0) {
            cfg.host = val;
        } else if (strcmp(a, "--port") == 0) {
            if (parse_num(val, 0, 65535, &v) != 0)
                goto bad;
            cfg.port = (uint16_t)v;
        } else if (strcmp(a, "--api-key") == 0) {
            cfg.api_key = val;
        } else if (strcmp(a, "--seed") == 0) {
            if (parse_num(val, 0, INT64_MAX, &v) != 0)
                goto bad;
            cfg.seed = (uint64_t)v;
        } else if (strcmp(a, "--op-duration-ms") == 0) {
            if (parse_num(val, 0, 3600000, &v) != 0)
                goto bad;
            cfg.op_duration_ms = v;
        } else if (strcmp(a, "--fixture") == 0) {
            cfg.fixture_path = val;
        } else if (strcmp(a, "--save") == 0) {
            save = cfg.save_path = val;
        } else if (strcmp(a, "--max-connections") == 0) {
            if (parse_num(val, 1, 1000000, &v) != 0)
                goto bad;
            cfg.max_connections = (int32_t)v;
        } else if (strcmp(a, "--connection-timeout") == 0) {
            if (parse_num(val, 1, 3600, &v) != 0)
                goto bad;
            cfg.connection_timeout_s = (int32_t)v;
        } else if (strcmp(a, "--project-id") == 0) {
            project = val;
        } else if (strcmp(a, "--branch") == 0) {
            branch = val;
        } else {
            fprintf(stderr, "neonflow-emulator: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        i += takes;
        continue;
    bad:
        fprintf(stderr, "neonflow-emulator: invalid value for %s: %s\n", a, val);
        return 2;
    }

    /* Block the signals before the server's threads exist, so only
     * sigwait below receives them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    raise_nofile(cfg.max_connections);
    emu_server *s = NULL;
    if (emu_start(&s, &cfg) != 0) {
        fprintf(stderr, "neonflow-emulator: cannot start (host must be loopback; port free; fixture readable)\n");
        return 1;
    }
    if (project || !cfg.fixture_path) {
        char bid[64], eid[64];
        if (!project)
            project = "demo-project";
        if (emu_add_project(s, project, branch, bid, eid) == 0)
            fprintf(stderr, "neonflow-emulator: project %s, branch %s (%s), endpoint %s\n", project, branch, bid, eid);
        else
            fprintf(stderr, "neonflow-emulator: project %s not seeded (exists or invalid id)\n", project);
    }
    printf("listening on %s\n", emu_base_url(s));
    fflush(stdout);

    int sig = 0;
    sigwait(&set, &sig);
    int rc = 0;
    if (save && emu_save(s, save) != 0) {
        fprintf(stderr, "neonflow-emulator: cannot save state to %s\n", save);
        rc = 1;
    }
    emu_stop(s);
    return rc;
}
