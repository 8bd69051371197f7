/* neonflow CLI — SIGINT/SIGTERM.
 *
 * The signals are blocked in every thread and taken by one watcher thread
 * with sigtimedwait(), so nothing runs in a signal handler: the first
 * SIGINT/SIGTERM triggers the cancel token (every API call and run watches
 * it through its call or run options and stops within ~100 ms, exit 4), a
 * second one exits at once. The --timeout deadline is the library's alone:
 * each call gets what is left of it (cli_call), each run its run options,
 * and both end with NEONFLOW_ETIMEOUT, so no watchdog cancels or exits on
 * the deadline. On a terminal the thread also redraws the progress line. */
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
static sigset_t watched;
static atomic_int interrupted, stopping;

int cli_interrupted(void) { return atomic_load(&interrupted); }

static void *watch(void *arg)
{
    cli *c = arg;
    for (;;) {
        int64_t wait = c->stderr_tty ? 200 : 1000;
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
        if (c->stderr_tty) {
            out_lock();
            out_progress_tick();
            out_unlock();
        }
    }
}

int cli_signals_start(cli *c)
{
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
