/* neonflow CLI — durations, time formatting, exit codes and shell hooks. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

int64_t cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "90" (seconds), "30s", "15m", "12h", "7d", "2w", or a sequence like "1d12h". */
int cli_parse_duration(const char *s, int64_t *out_s)
{
    if (!s || !*s)
        return -1;
    int64_t total = 0;
    const char *p = s;
    int first = 1;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return -1;
        int64_t n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n > (INT64_MAX / 10) - 10)
                return -1;
            n = n * 10 + (*p++ - '0');
        }
        int64_t unit;
        switch (*p) {
        case '\0': unit = first ? 1 : -1; break; /* a bare number only on its own */
        case 's': unit = 1; p++; break;
        case 'm': unit = 60; p++; break;
        case 'h': unit = 3600; p++; break;
        case 'd': unit = 86400; p++; break;
        case 'w': unit = 604800; p++; break;
        default: return -1;
        }
        if (unit < 0 || n > (INT64_MAX / 4) / unit || total > INT64_MAX / 4 - n * unit)
            return -1;
        total += n * unit;
        first = 0;
    }
    *out_s = total;
    return 0;
}

int cli_format_rfc3339(char *buf, size_t len, int64_t epoch_s)
{
    time_t t = (time_t)epoch_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return -1;
    return 0;
}

/* "45s", "12m", "3h", "5d" */
void cli_format_age(char *buf, size_t len, int64_t ms)
{
    int64_t s = ms / 1000;
    if (ms <= 0)
        snprintf(buf, len, "-");
    else if (s < 120)
        snprintf(buf, len, "%llds", (long long)s);
    else if (s < 7200)
        snprintf(buf, len, "%lldm", (long long)(s / 60));
    else if (s < 172800)
        snprintf(buf, len, "%lldh", (long long)(s / 3600));
    else
        snprintf(buf, len, "%lldd", (long long)(s / 86400));
}

void cli_format_bytes(char *buf, size_t len, int64_t bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    if (bytes < 0) {
        snprintf(buf, len, "-");
        return;
    }
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

int cli_is_destructive(int cmd)
{
    return cmd == CMD_PROMOTE || cmd == CMD_REFRESH || cmd == CMD_ROLLBACK || cmd == CMD_BACKUPS_PRUNE ||
           cmd == CMD_SNAPSHOTS_DELETE || cmd == CMD_PREVIEW_DELETE || cmd == CMD_PREVIEW_PRUNE ||
           cmd == CMD_FLEET_PROMOTE || cmd == CMD_FLEET_REFRESH || cmd == CMD_FLEET_ROLLBACK;
}

int cli_exit_for(int rc)
{
    switch (rc) {
    case NEONFLOW_OK: return EXIT_OK;
    case NEONFLOW_ECALLBACK: return EXIT_VETO;
    case NEONFLOW_ETIMEOUT:
    case NEONFLOW_ECANCELLED:
    case NEONFLOW_EOPTIMEOUT: return EXIT_TIMEOUT;
    case NEONFLOW_EUNCERTAIN: return EXIT_UNCERTAIN;
    case NEONFLOW_ELEASE_HELD: return EXIT_LEASE_HELD;
    case NEONFLOW_ECONFIG: return EXIT_USAGE;
    default: return cli_interrupted() ? EXIT_TIMEOUT : EXIT_FAIL;
    }
}

const neonflow_call_options *cli_call(cli *c)
{
    int64_t left = c->deadline_ms - cli_now_ms();
    neonflow_call_options_set_deadline_ms(c->call, left > 1 ? left : 1);
    return c->call;
}

static char *env_pair(const char *k, const char *v)
{
    size_t n = strlen(k) + strlen(v ? v : "") + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s=%s", k, v ? v : "");
    return s;
}

/* The child keeps stdin/stdout/stderr only: no API connection, no other
 * descriptor of ours leaks into the hook command. */
static void close_the_rest(posix_spawn_file_actions_t *fa)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    posix_spawn_file_actions_addclosefrom_np(fa, STDERR_FILENO + 1);
#else
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = STDERR_FILENO + 1; fd < max; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            posix_spawn_file_actions_addclose(fa, fd);
#endif
}

/*
 * Runs `cmd` through /bin/sh -c with NEONFLOW_BRANCH_ID/NAME/PROJECT_ID set,
 * without NEON_API_KEY (unless --hook-api-key) and without any descriptor
 * but 0-2. Its stdout goes to our stderr (stdout is reserved for the result). Returns
 * 0 when it exited 0; non-zero (a veto) otherwise, also when the command was
 * stopped because of Ctrl-C or the deadline.
 */
int cli_run_hook(const cli *c, const char *what, const char *cmd, const neonflow_branch *b, const char *uri)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 7, sizeof *env);
    if (!env)
        return 1;
    size_t k = 0;
    /* an inherited DATABASE_URL would point the check at another database */
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "NEONFLOW_BRANCH_ID=", 19) != 0 &&
            strncmp(environ[i], "NEONFLOW_BRANCH_NAME=", 21) != 0 &&
            strncmp(environ[i], "NEONFLOW_PROJECT_ID=", 20) != 0 && strncmp(environ[i], "NEON_API_KEY=", 13) != 0 &&
            strncmp(environ[i], "DATABASE_URL=", 13) != 0 && strncmp(environ[i], "NEONFLOW_CONNECTION_URI=", 24) != 0)
            env[k++] = environ[i];
    char *extra[6] = {env_pair("NEONFLOW_BRANCH_ID", neonflow_branch_id(b)),
                      env_pair("NEONFLOW_BRANCH_NAME", neonflow_branch_name(b)),
                      env_pair("NEONFLOW_PROJECT_ID", c->project_id),
                      c->hook_api_key ? env_pair("NEON_API_KEY", c->api_key) : NULL,
                      uri ? env_pair("DATABASE_URL", uri) : NULL,
                      uri ? env_pair("NEONFLOW_CONNECTION_URI", uri) : NULL};
    for (int i = 0; i < 6; i++)
        if (extra[i])
            env[k++] = extra[i];
    env[k] = NULL;

    posix_spawnattr_t attr;
    posix_spawn_file_actions_t fa;
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGINT);
    sigaddset(&dfl, SIGTERM);
    sigaddset(&dfl, SIGPIPE);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", 0, 0);
    close_the_rest(&fa);

    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    pid_t pid;
    out_lock();
    out_progress_end();
    out_unlock();
    fflush(stdout);
    fflush(stderr);
    int src = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    for (int i = 0; i < 6; i++) {
        if (i >= 3 && extra[i]) /* secrets: the key, the URIs' password */
            memset(extra[i], 0, strlen(extra[i]));
        free(extra[i]);
    }
    free(env);
    if (src != 0) {
        fprintf(stderr, "  %s: cannot run /bin/sh: %s\n", what, strerror(src));
        return 1;
    }
    int status = 0, killed = 0;
    int64_t kill_at = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            return 1;
        int64_t now = cli_now_ms();
        int stop = neonflow_cancel_is_triggered(c->cancel) || now >= c->deadline_ms;
        if (stop && !killed) {
            kill(pid, SIGTERM);
            killed = 1;
            kill_at = now + 3000;
        } else if (killed == 1 && now >= kill_at) {
            kill(pid, SIGKILL);
            killed = 2;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !killed)
        return 0;
    if (killed)
        fprintf(stderr, "  %s: stopped (%s)\n", what, cli_interrupted() ? "interrupted" : "deadline reached");
    else if (WIFEXITED(status))
        fprintf(stderr, "  %s: exited with status %d: veto\n", what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        fprintf(stderr, "  %s: killed by signal %d: veto\n", what, WTERMSIG(status));
    return 1;
}
