/* neonflow CLI — SIGINT/SIGTERM and the whole-command deadline.
 *
 * The signals are blocked in every thread and taken by one watcher thread
 * with sigtimedwait(), so nothing runs in a signal handler: the first
 * SIGINT/SIGTERM triggers the cancel token (the run stops at its next safe
 * point, exit 4), a second one exits at once. The --timeout deadline is the
 * library's to enforce (the run and await options carry it, and report
 * NEONFLOW_ETIMEOUT): cancelling at the same instant would race it and turn
 * the result into ECANCELLED. So this thread only marks the timeout, cancels
 * CANCEL_MARGIN_MS later as a fallback for anything that does not watch the
 * deadline, exits if the command has not returned within a grace period,
 * and redraws the progress line on a terminal. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static pthread_t watcher;
static int started;
static cli *the_cli;
static sigset_t watched;
static atomic_int interrupted, timed_out, stopping;
static _Atomic int64_t grace_ms = 2000;
#define CANCEL_MARGIN_MS 1000

int cli_interrupted(void) { return atomic_load(&interrupted); }
int cli_timed_out(void) { return atomic_load(&timed_out); }
void cli_signals_set_grace(int64_t ms) { atomic_store(&grace_ms, ms); }

static void *watch(void *arg)
{
    cli *c = arg;
    int64_t force_at = 0, cancel_at = 0;
    for (;;) {
        int64_t now = cli_now_ms(), wait = 1000;
        if (!atomic_load(&timed_out) && c->deadline_ms - now < wait)
            wait = c->deadline_ms - now;
        if (cancel_at && cancel_at - now < wait)
            wait = cancel_at - now;
        if (force_at && force_at - now < wait)
            wait = force_at - now;
        if (c->stderr_tty && wait > 200)
            wait = 200;
        if (wait < 1)
            wait = 1;
        struct timespec ts = {(time_t)(wait / 1000), (long)(wait % 1000) * 1000000L};
        int sig = sigtimedwait(&watched, NULL, &ts);
        if (atomic_load(&stopping))
            return NULL;
        if (sig == SIGINT || sig == SIGTERM) {
            if (atomic_exchange(&interrupted, 1)) {
                out_lock();
                out_progress_end();
                fprintf(stderr, "neonflow: %s: interrupted twice, exiting at once "
                                "(re-run with the same --run-id to continue)\n", c->cmd_name);
                _exit(EXIT_TIMEOUT);
            }
            neonflow_cancel_trigger(c->cancel);
            if (c->stderr_tty) {
                out_lock();
                out_progress_end();
                fputs("  interrupted: stopping safely (Ctrl-C again to exit at once)\n", stderr);
                out_unlock();
            }
            continue;
        }
        if (sig < 0 && errno != EAGAIN && errno != EINTR)
            continue;
        now = cli_now_ms();
        if (!atomic_load(&timed_out) && now >= c->deadline_ms) {
            atomic_store(&timed_out, 1);
            cancel_at = now + CANCEL_MARGIN_MS;
            force_at = now + atomic_load(&grace_ms);
        } else if (cancel_at && now >= cancel_at) {
            neonflow_cancel_trigger(c->cancel);
            cancel_at = 0;
        } else if (force_at && now >= force_at) {
            out_lock();
            out_progress_end();
            fprintf(stderr, "neonflow: %s: timed out after %lld s%s\n", c->cmd_name, (long long)c->timeout_s,
                    cli_is_destructive(c->cmd) || c->cmd == CMD_SNAPSHOTS_CREATE
                        ? " (a request was in flight: check the state before retrying)"
                        : "");
            _exit(EXIT_TIMEOUT);
        }
        if (c->stderr_tty) {
            out_lock();
            out_progress_tick();
            out_unlock();
        }
    }
}

int cli_signals_start(cli *c)
{
    the_cli = c;
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&watched);
    sigaddset(&watched, SIGINT);
    sigaddset(&watched, SIGTERM);
    sigaddset(&watched, SIGUSR1);
    if (pthread_sigmask(SIG_BLOCK, &watched, NULL) != 0)
        return -1;
    if (pthread_create(&watcher, NULL, watch, c) != 0)
        return -1;
    started = 1;
    return 0;
}

void cli_signals_stop(void)
{
    if (!started)
        return;
    atomic_store(&stopping, 1);
    pthread_kill(watcher, SIGUSR1);
    pthread_join(watcher, NULL);
    started = 0;
}
