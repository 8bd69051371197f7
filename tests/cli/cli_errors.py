"""neonflow CLI tests: The errors group (silent server, lease races) and the tty group. Run through test_cli.py."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from cli_common import *  # noqa: F401,F403 (KEY, PROJECT, tap, run, Emulator, ...)


def group_errors():
    emu = Emulator()
    r = run(None, "--help", key=False, project=False)
    tap(r.rc == 0 and "Exit status" in r.out and "promote" in r.out, "--help (exit 0)", r)
    r = run(None, "--version", key=False, project=False)
    tap(r.rc == 0 and r.out.startswith("neonflow "), "--version", r)
    cases = [
        (["snapshots", "list", "--bogus"], "unknown option"),
        (["frobnicate"], "unknown command"),
        (["snapshots"], "missing subcommand"),
        (["snapshots", "explode"], "unknown subcommand"),
        ([], "no command"),
        (["snapshots", "list", "--keep", "3"], "option of another command"),
        (["backups", "prune", "--older-than", "7 days"], "bad duration"),
        (["backups", "prune", "--keep", "-1"], "negative --keep"),
        (["snapshots", "create"], "snapshots create without --branch"),
        (["snapshots", "delete"], "snapshots delete without an id"),
        (["operations", "list", "--limit"], "option without its value"),
        (["operations", "list", "--limit", "1001"], "operations list --limit above 1000"),
        (["branches", "list", "--limit", "10001"], "branches list --limit above 10000"),
        (["snapshots", "list", "--search", "x"], "--search of another command"),
        (["--timeout", "0", "branches", "list"], "--timeout 0"),
        (["backups", "prune", "--branches-only", "--snapshots-only", "--yes"], "exclusive flags"),
        (["--lease-wait", "soon", "promote", "--yes"], "bad --lease-wait"),
        (["--lease-ttl", "0", "promote", "--yes"], "--lease-ttl 0"),
    ]
    for args, what in cases:
        r = run(emu, *args)
        tap(r.rc == 2 and len(r.lines) == 1 and r.lines[0].startswith("neonflow: "), "bad flags: %s: exit 2" % what, r)

    r = run(emu, "snapshots", "list", key=False)
    tap(r.rc == 2 and len(r.lines) == 1 and "API key" in r.err, "missing API key: exit 2, one line", r)
    r = run(emu, "snapshots", "list", key=False, env={"NEON_API_KEY": KEY, "NEON_API_HOST": emu.base})
    tap(r.rc == 0, "NEON_API_KEY and NEON_API_HOST from the environment", r)
    r = run(emu, "snapshots", "list", project=False)
    tap(r.rc == 2 and len(r.lines) == 1 and "project" in r.err, "missing project id: exit 2", r)
    r = run(emu, "snapshots", "list", project=False, env={"NEON_PROJECT_ID": PROJECT})
    tap(r.rc == 0, "NEON_PROJECT_ID from the environment", r)

    r = run(emu, "snapshots", "create", "--branch", "nope")
    tap(r.rc == 1 and len(r.lines) == 1 and "nope" in r.err, "unknown branch (snapshots create): exit 1, one line", r)
    r = run(emu, "promote", "--source", "nope", "--yes")
    tap(r.rc == 1 and r.one_error_line() and "nope" in r.lines[-1], "unknown branch (promote): exit 1, one error line",
        r)
    r = run(emu, "promote", "--source", "nope", "--yes", "--json")
    tap(r.rc == 1 and (r.json() or {}).get("result_name") == "NEONFLOW_EBRANCH_MISSING",
        "failed promote still prints its report as JSON", r)

    r = run(emu, "snapshots", "list", "--api-key", "wrong-key-123456")
    tap(r.rc == 1 and len(r.lines) == 1 and "wrong-key-123456" not in r.err and "request id" in r.err,
        "wrong API key: exit 1, one line with the request id, key not printed", r)
    r = run(emu, "-vvv", "branches", "list")
    tap(r.rc == 0 and KEY not in r.err and KEY not in r.out and "Bearer ***" in r.err,
        "-vvv traces without printing the API key", r)

    r = run(emu, "snapshots", "list", host="http://127.0.0.1:1/api/v2", timeout=60)
    tap(r.rc == 1 and len(r.lines) == 1 and r.lines[0].startswith("neonflow: snapshots list:"),
        "unreachable host: exit 1, one line", r)
    r2 = run(emu, "--timeout", "2", "branches", "list", host="http://127.0.0.1:1/api/v2", timeout=60)
    # full-jitter backoff may spend all 7 attempts before the deadline: then it is a plain failure (exit 1)
    tap((r2.rc == 4 or (r2.rc == 1 and "gave up after" in r2.err)) and len(r2.lines) == 1 and r2.secs < 8,
        "unreachable host with --timeout 2: exit 4 (or 1 when the retries ran out first) in time", r2)
    silent_server_cases(emu)
    r = run(emu, "snapshots", "list", host="not a url")
    tap(r.rc == 2 and len(r.lines) == 1, "malformed --api-host: exit 2", r)
    r = run(emu, "snapshots", "list", host="http://example.com/api/v2")
    tap(r.rc == 2 and len(r.lines) == 1, "plain http to a non-loopback host is refused: exit 2", r)
    emu.stop()
    lease_cases()


class SilentServer:
    """Loopback server that accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.conns, self.stop = [], False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()
        self.base = "http://127.0.0.1:%d/api/v2" % self.sock.getsockname()[1]

    def loop(self):
        while not self.stop:
            try:
                self.conns.append(self.sock.accept()[0])
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join()
        for c in self.conns:
            c.close()
        self.sock.close()


def silent_server_cases(emu):
    """--timeout and Ctrl-C bound plain API calls in the library (call
    options): no watchdog exit, the library's own ETIMEOUT / ECANCELLED."""
    srv = SilentServer()
    try:
        r = run(emu, "--timeout", "1", "branches", "list", host=srv.base, timeout=60)
        tap(r.rc == 4 and r.one_error_line() and "deadline" in r.err and r.secs < 6,
            "server that never answers, --timeout 1: the library's deadline, exit 4", r)
        cmd = [CLI, "--api-key", KEY, "--api-host", srv.base, "--project-id", PROJECT, "snapshots", "list"]
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=clean_env())
        time.sleep(0.5)
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        r = Result(p.returncode, out.decode(errors="replace"), err.decode(errors="replace"), time.monotonic() - t0)
        tap(r.rc == 4 and r.one_error_line() and "cancel" in r.err and r.secs < 3,
            "server that never answers, SIGTERM: the call is cancelled at once, exit 4", r)
    finally:
        srv.close()


def lease_cases():
    """Issue 11 §1: two runs on one target never both switch it (exit 6 for the loser)."""
    emu = Emulator("--op-duration-ms", "250")
    r = run(emu, "--yes", "setup")
    tap(r.rc == 0, "lease: setup with slow operations", r)
    prod0 = branches(emu)["production"]["id"]
    cmd = [CLI, "--api-key", KEY, "--api-host", emu.base, "--project-id", PROJECT, "--yes"]
    procs = [subprocess.Popen(cmd + ["--run-id", rid, "promote"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=clean_env()) for rid in ("ra", "rb")]
    res = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=max(1, DEADLINE - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        res.append(Result(p.returncode, out.decode(errors="replace"), err.decode(errors="replace"), 0))
    codes = sorted(x.rc for x in res)
    loser = [x for x in res if x.rc == 6]
    winner = "ra" if res[0].rc == 0 else "rb"
    tap(codes == [0, 6], "lease: two promotes at once: one switches, the other exits 6", "\n".join(map(str, res)))
    tap(len(loser) == 1 and loser[0].one_error_line() and ("run id " + winner) in loser[0].lines[-1]
        and "nothing was changed" in loser[0].lines[-1], "lease: the loser names the winner's run id", loser)
    names = branches(emu)
    backups = [n for n in names if n.startswith("nf/production/promote-backup/")]
    tap(len(backups) == 1 and backups[0].endswith("/" + winner) and names[backups[0]]["id"] == prod0
        and not any(n.endswith("/lease") for n in names), "lease: one backup (the old production), no lease left",
        names)
    # a lease held by another run (made by hand): exit 6 at once, and after --lease-wait
    exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 600))
    api(emu, "POST", "/projects/%s/branches" % PROJECT,
        {"branch": {"name": "nf/production/lease", "expires_at": exp},
         "annotation_value": {"neonflow_run_id": "held-by-me", "neonflow_workflow": "rollback"}})
    for extra in ([], ["--lease-wait", "1s"]):
        r = run(emu, "--yes", *extra, "rollback")
        tap(r.rc == 6 and r.one_error_line() and "held-by-me" in r.lines[-1] and "rollback" in r.lines[-1],
            "lease: held by another run%s: exit 6 naming it" % (" (after --lease-wait 1s)" if extra else ""), r)
    r = run(emu, "backups", "list", "--json")
    tap(r.rc == 0 and "/lease" not in r.out, "lease: backups list does not show the lease", r)
    emu.stop()


def pty_run(emu, args, answer=None, timeout=60):
    """Runs the CLI on a pseudo-terminal (stdin, stdout and stderr are the
    tty), answering the confirmation prompt with `answer` when it appears.
    Returns (exit code, everything it wrote, whether it asked)."""
    import pty
    import select
    cmd = [CLI, "--api-key", KEY, "--api-host", emu.base, "--project-id", PROJECT] + list(args)
    env = clean_env()
    env["TERM"] = "xterm"
    pid, fd = pty.fork()
    if pid == 0:  # child: exec the CLI, never return into the test
        try:
            os.execve(CLI, cmd, env)
        finally:
            os._exit(127)
    out, asked, status = b"", False, None
    end = time.monotonic() + max(1, min(timeout, DEADLINE - time.monotonic()))
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            if not chunk:
                break
            out += chunk
            if not asked and b"Proceed? [y/N]" in out:
                asked = True
                os.write(fd, (answer or "") .encode() + b"\n")
        else:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                break
    if status is None:
        done, st = os.waitpid(pid, os.WNOHANG)
        if not done:
            os.kill(pid, signal.SIGKILL)
            done, st = os.waitpid(pid, 0)
        status = st
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace"), asked


def group_tty():
    emu = Emulator("--op-duration-ms", "300")
    r = run(emu, "--yes", "setup")
    tap(r.rc == 0, "setup (with --yes) creates dev", r)
    before = branches(emu)["production"]["id"]

    rc, out, asked = pty_run(emu, ["promote"], answer="n")
    tap(asked, "promote on a terminal shows the plan and asks Proceed? [y/N]", out[-2000:])
    tap("snapshot-candidate" in out and "finalize" in out, "the plan lists the steps before the question",
        out[-2000:])
    tap(rc == 2 and "not confirmed" in out, "answering n: exit 2, not confirmed", "rc=%s\n%s" % (rc, out[-1500:]))
    tap(branches(emu)["production"]["id"] == before and not [s for s in snapshots(emu)
                                                             if "/candidate/" in s.get("name", "")],
        "answering n changed nothing")

    rc, out, asked = pty_run(emu, ["promote"], answer="y")
    tap(asked and rc == 0, "answering y runs the promotion: exit 0", "rc=%s\n%s" % (rc, out[-2000:]))
    tap(branches(emu)["production"]["id"] != before, "production was replaced")
    # (a pty turns every \n into \r\n, so look for the redraw itself: \r + erase-line)
    tap("\r\033[K  ... finalize" in out, "live progress redraws its line on a terminal", repr(out[-600:]))

    rc, out, asked = pty_run(emu, ["--yes", "refresh"])
    tap(not asked and rc == 0, "--yes on a terminal does not ask", "rc=%s\n%s" % (rc, out[-1500:]))
    emu.stop()
