#!/usr/bin/env python3
"""End-to-end tests of the neonflow command-line tool against the emulator.

    test_cli.py GROUP NEONFLOW_EXE EMULATOR_EXE

GROUP is one of: workflow, resources, errors, tty, secrets, fields, previews, connection. Prints TAP. Every command runs
with a time limit, the emulators bind 127.0.0.1 only and are killed on exit.
Python standard library only.
"""
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

GROUP, CLI, EMU = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
KEY = "cli-test-key-%d" % os.getpid()
PROJECT = "proj-cli"
DEADLINE = time.monotonic() + 280  # the meson timeout is 300 s

_emus = []
_count = 0
_failed = 0


def tap(ok, desc, diag=None):
    global _count, _failed
    _count += 1
    if not ok:
        _failed += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", _count, desc))
    if not ok and diag:
        for line in str(diag).splitlines()[:40]:
            print("# " + line)
    sys.stdout.flush()


class Emulator:
    def __init__(self, *extra):
        self.dir = tempfile.mkdtemp(prefix="neonflow-cli-test.")
        self.out = os.path.join(self.dir, "emu.out")
        with open(self.out, "w") as out, open(os.path.join(self.dir, "emu.err"), "w") as err:
            self.proc = subprocess.Popen(
                [EMU, "--host", "127.0.0.1", "--port", "0", "--api-key", KEY, "--project-id", PROJECT,
                 "--branch", "production"] + list(extra),
                stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _emus.append(self)
        self.base = None
        for _ in range(100):  # <= 10 s
            with open(self.out) as f:
                for line in f:
                    if line.startswith("listening on http://127.0.0.1:"):
                        self.base = line.split()[-1].strip()
            if self.base or self.proc.poll() is not None:
                break
            time.sleep(0.1)
        if not self.base:
            print("Bail out! emulator did not start")
            sys.exit(1)
        self.root = self.base[: -len("/api/v2")]

    def ctl(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.root + "/__emulator/" + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + KEY,
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"{}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


def cleanup():
    for e in _emus:
        e.stop()


def clean_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEON")}
    for k in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(k, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


class Result:
    def __init__(self, rc, out, err, secs):
        self.rc, self.out, self.err, self.secs = rc, out, err, secs
        self.lines = [l for l in err.splitlines() if l.strip()]

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError:
            return None

    def error_lines(self):
        return [l for l in self.lines if l.startswith("neonflow:")]

    def one_error_line(self):
        """Exactly one error line, and it is the last thing on stderr."""
        e = self.error_lines()
        return len(e) == 1 and self.lines[-1] == e[0]

    def __str__(self):
        return "rc=%s (%.1fs)\nstdout: %s\nstderr: %s" % (self.rc, self.secs, self.out[:1500], self.err[-2500:])


def run(emu, *args, key=True, project=True, env=None, timeout=120, host=None):
    cmd = [CLI]
    if key:
        cmd += ["--api-key", KEY]
    if emu is not None or host:
        cmd += ["--api-host", host or emu.base]
    if project:
        cmd += ["--project-id", PROJECT]
    cmd += list(args)
    e = clean_env()
    if env:
        e.update(env)
    timeout = max(1, min(timeout, DEADLINE - time.monotonic()))
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=e, timeout=timeout)
        return Result(p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"),
                      time.monotonic() - t0)
    except subprocess.TimeoutExpired as x:
        return Result(-999, (x.stdout or b"").decode(errors="replace"), (x.stderr or b"").decode(errors="replace"),
                      time.monotonic() - t0)


def branches(emu):
    r = run(emu, "branches", "list", "--json")
    return {b["name"]: b for b in (r.json() or [])}


def snapshots(emu):
    return run(emu, "snapshots", "list", "--json").json() or []


# ---------------------------------------------------------------------------
def group_workflow():
    emu = Emulator()
    before = branches(emu)
    prod = before.get("production")
    tap(prod is not None and prod["default"] is True and prod["endpoints"], "branches list --json shows production",
        before)
    ep = prod["endpoints"][0]["id"] if prod and prod["endpoints"] else None

    r = run(emu, "setup", "--json")
    rep = r.json() or {}
    tap(r.rc == 0 and rep.get("workflow") == "setup" and rep.get("result") == 0, "setup --json succeeds", r)
    tap(r.out.startswith('{\n  "schema_version": 1,\n'), "--json leads with schema_version 1, indented", r)
    dev = branches(emu).get("dev")
    tap(dev is not None and dev["parent_id"] is None and dev["endpoints"], "setup made dev a root with an endpoint",
        dev)
    r = run(emu, "setup", "--json")
    tap(r.rc == 0 and dev and branches(emu)["dev"]["id"] == dev["id"], "setup again is idempotent", r)

    # promote needs confirmation: no TTY and no --yes -> refused, nothing changed
    snaps0 = snapshots(emu)
    r = run(emu, "promote")
    tap(r.rc == 2 and len(r.lines) == 1 and "--yes" in r.err, "promote without --yes and no TTY is refused (exit 2)",
        r)
    tap(branches(emu)["production"]["id"] == prod["id"] and len(snapshots(emu)) == len(snaps0),
        "refused promote changed nothing")

    r = run(emu, "promote", "--dry-run", "--json")
    rep = r.json() or {}
    tap(r.rc == 0 and rep.get("dry_run") is True and all(s["status"] in ("planned", "resumed")
                                                         for s in rep.get("steps", [])),
        "promote --dry-run --json shows the plan", r)
    tap(branches(emu)["production"]["id"] == prod["id"] and len(snapshots(emu)) == len(snaps0),
        "dry run changed nothing")

    # a failing verify command vetoes: exit 3, production untouched
    r = run(emu, "promote", "--yes", "--verify-cmd", "exit 7")
    tap(r.rc == 3 and r.one_error_line(), "failing --verify-cmd vetoes (exit 3, one error line)", r)
    tap(branches(emu)["production"]["id"] == prod["id"], "veto left production untouched")

    envfile = os.path.join(emu.dir, "hook.env")
    r = run(emu, "promote", "--yes", "--json",
            "--verify-cmd", 'test -n "$NEONFLOW_BRANCH_ID" && test "$NEONFLOW_PROJECT_ID" = %s' % PROJECT,
            "--after-switch-cmd", 'echo "$NEONFLOW_BRANCH_NAME $NEONFLOW_BRANCH_ID" > %s' % envfile)
    rep = r.json() or {}
    ok = (r.rc == 0 and rep.get("result") == 0 and rep.get("old_target_branch_id") == prod["id"]
          and rep.get("target_branch_id") not in ("", prod["id"]) and rep.get("target_endpoint_id") == ep
          and rep.get("candidate_snapshot_id") and rep.get("rollback_snapshot_id"))
    tap(ok, "promote --yes --json: new target id, same endpoint, candidate and rollback snapshots", r)
    after = branches(emu)
    newprod = after.get("production", {})
    tap(newprod.get("id") == rep.get("target_branch_id") and newprod.get("endpoints")
        and newprod["endpoints"][0]["id"] == ep, "production has the new id and kept its endpoint", after)
    backup = after.get(rep.get("backup_branch_name") or "?")
    tap(backup is not None and backup["id"] == prod["id"], "branches list shows the backup branch", after)
    try:
        hook_out = open(envfile).read().split()
    except OSError:
        hook_out = []
    tap(hook_out == ["production", rep.get("target_branch_id")], "after-switch command saw the new target", hook_out)
    tap(json.loads(r.out) is not None and "neonflow:" not in r.out, "--json prints only JSON on stdout")

    r = run(emu, "refresh", "--yes", "--json")
    rep = r.json() or {}
    tap(r.rc == 0 and rep.get("workflow") == "refresh" and branches(emu)["dev"]["id"] != dev["id"],
        "refresh --yes replaces dev", r)

    r = run(emu, "rollback", "--yes", "--json")
    rep = r.json() or {}
    tap(r.rc == 0 and rep.get("workflow") == "rollback" and branches(emu)["production"]["id"] != newprod.get("id")
        and branches(emu)["production"]["endpoints"][0]["id"] == ep, "rollback --yes restores production", r)

    r = run(emu, "rollback", "--json")
    tap(r.rc == 2 and r.one_error_line(), "rollback without --yes and no TTY is refused", r)

    r = run(emu, "backups", "list", "--json")
    rep = r.json() or {}
    res = [x for s in rep.get("steps", []) for x in s.get("resources", [])]
    tap(r.rc == 0 and any(x["kind"] == "branch" and x["id"] == prod["id"] for x in res)
        and any(x["kind"] == "snapshot" for x in res), "backups list --json lists backup branches and snapshots", r)
    r = run(emu, "backups", "list")
    tap(r.rc == 0 and prod["id"] in r.out, "backups list prints a table", r)

    nb0 = len(branches(emu))
    r = run(emu, "backups", "prune", "--keep", "0", "--dry-run", "--json")
    rep = r.json() or {}
    tap(r.rc == 0 and rep.get("dry_run") is True and len(branches(emu)) == nb0, "backups prune --dry-run", r)
    r = run(emu, "backups", "prune", "--keep", "0")
    tap(r.rc == 2 and len(branches(emu)) == nb0, "backups prune without --yes is refused", r)
    r = run(emu, "backups", "prune", "--keep", "0", "--older-than", "0s", "--branches-only", "--yes", "--json")
    rep = r.json() or {}
    tap(r.rc == 0 and rep.get("workflow") == "prune" and len(branches(emu)) < nb0
        and "production" in branches(emu) and "dev" in branches(emu), "backups prune --yes deletes backup branches", r)

    r = run(emu, "promote", "--yes", "--run-id", "Bad_Id!")
    tap(r.rc == 2 and r.one_error_line(), "invalid --run-id is a usage error", r)
    emu.stop()


def group_resources():
    emu = Emulator()
    r = run(emu, "snapshots", "list", "--json")
    tap(r.rc == 0 and r.json() == [], "snapshots list --json on a new project is []", r)
    r = run(emu, "snapshots", "list")
    tap(r.rc == 0 and "no snapshots" in r.out, "snapshots list text", r)

    r = run(emu, "snapshots", "create", "--branch", "production", "--name", "s1", "--expires-in", "7d", "--json")
    s = r.json() or {}
    tap(r.rc == 0 and s.get("name") == "s1" and s.get("id", "").startswith("snap-") and s.get("expires_at"),
        "snapshots create --json", r)
    sid = s.get("id", "snap-none")
    tap(any(x["id"] == sid for x in snapshots(emu)), "snapshots list shows the new snapshot")
    prod_id = branches(emu)["production"]["id"]
    r = run(emu, "snapshots", "create", "--branch", prod_id, "--json")
    tap(r.rc == 0 and (r.json() or {}).get("source_branch_id") == prod_id, "snapshots create --branch ID", r)

    r = run(emu, "snapshots", "delete", sid)
    tap(r.rc == 2 and len(r.lines) == 1 and any(x["id"] == sid for x in snapshots(emu)),
        "snapshots delete without --yes and no TTY is refused, nothing deleted", r)
    r = run(emu, "snapshots", "delete", sid, "--dry-run", "--json")
    tap(r.rc == 0 and (r.json() or {}).get("dry_run") is True and any(x["id"] == sid for x in snapshots(emu)),
        "snapshots delete --dry-run", r)
    r = run(emu, "--yes", "snapshots", "delete", sid, "--json")
    tap(r.rc == 0 and (r.json() or {}).get("deleted", {}).get("id") == sid
        and not any(x["id"] == sid for x in snapshots(emu)), "snapshots delete --yes (global option first)", r)
    r = run(emu, "snapshots", "delete", "snap-does-not-exist", "--yes")
    tap(r.rc == 1 and len(r.lines) == 1 and "snap-does-not-exist" in r.err, "deleting an unknown snapshot: exit 1", r)

    r = run(emu, "branches", "list")
    tap(r.rc == 0 and "production" in r.out and "NAME" in r.out, "branches list text", r)
    for name in ("feature-a", "feature-b"):
        emu.ctl("POST", "branches", {"project_id": PROJECT, "name": name, "parent_id": prod_id})
    everything = run(emu, "branches", "list", "--json").json() or []
    r = run(emu, "branches", "list", "--limit", "1", "--json")
    page1 = r.json() or []
    nxt = [l[len("next cursor: "):] for l in r.lines if l.startswith("next cursor: ")]
    tap(r.rc == 0 and len(page1) == 1 and len(everything) == 3 and len(nxt) == 1,
        "branches list --limit 1: one page, the next cursor on stderr", r)
    r = run(emu, "branches", "list", "--limit", "100", "--cursor", nxt[0] if nxt else "x", "--json")
    rest = r.json() or []
    tap(r.rc == 0 and [b["id"] for b in page1 + rest] == [b["id"] for b in everything]
        and not any(l.startswith("next cursor") for l in r.lines),
        "branches list --cursor: the rest, no cursor after the last page", r)
    r = run(emu, "branches", "list", "--search", "producti", "--json")
    tap(r.rc == 0 and [b["name"] for b in (r.json() or [])] == ["production"], "branches list --search", r)
    r = run(emu, "branches", "list", "--cursor", "two words")
    tap(r.rc == 2 and r.one_error_line() and "--cursor" in r.err, "branches list: a malformed --cursor: exit 2", r)

    r = run(emu, "operations", "list", "--limit", "2", "--json")
    ops = r.json() or []
    tap(r.rc == 0 and 1 <= len(ops) <= 2 and all("action" in o and "status" in o for o in ops),
        "operations list --limit 2 --json", r)
    r = run(emu, "operations", "wait", *[o["id"] for o in ops], "--json")
    tap(r.rc == 0 and [o["status"] for o in (r.json() or [])] == ["finished"] * len(ops), "operations wait --json", r)
    r = run(emu, "operations", "list")
    tap(r.rc == 0 and "ACTION" in r.out, "operations list text", r)

    # uncertain outcome: the response of the snapshot POST is lost; it was
    # applied once and must not have been replayed (not even by libcurl on a
    # dead reused connection)
    emu.ctl("POST", "faults", {"method": "POST", "path": "/projects/*/branches/*/snapshot", "kind": "drop_after",
                               "count": 1})
    r = run(emu, "snapshots", "create", "--branch", "production", "--name", "lost")
    tap(r.rc == 5 and len(r.lines) == 1, "lost response of snapshots create: exit 5, one line", r)
    lost = [x for x in snapshots(emu) if x["name"] == "lost"]
    tap(len(lost) == 1, "the lost POST was applied exactly once (never replayed)", lost)
    emu.ctl("DELETE", "faults")

    # slow operations: --timeout bounds waits (exit 4)
    emu.ctl("PUT", "op_duration", {"ms": 8000})
    r = run(emu, "snapshots", "create", "--branch", "production", "--timeout", "1", timeout=30)
    tap(r.rc == 4 and r.one_error_line() and r.secs < 8, "snapshots create --timeout 1 with slow operations: exit 4",
        r)
    ops = run(emu, "operations", "list", "--limit", "1", "--json").json() or [{"id": "x"}]
    r = run(emu, "operations", "wait", ops[0]["id"], "--timeout", "1", timeout=30)
    tap(r.rc == 4 and r.one_error_line(), "operations wait --timeout 1: exit 4", r)
    emu.stop()

    slow = Emulator("--op-duration-ms", "6000")
    r = run(slow, "setup", "--timeout", "1", "--json", timeout=60)
    rep = r.json() or {}
    tap(r.rc == 4 and rep.get("result_name") in ("NEONFLOW_ETIMEOUT", "NEONFLOW_EOPTIMEOUT", "NEONFLOW_ECANCELLED")
        and r.one_error_line() and "--run-id" in r.lines[-1], "setup --timeout 1 on a slow emulator: exit 4", r)

    # SIGINT cancels safely: exit 4, the run id to resume is named
    p = subprocess.Popen([CLI, "--api-key", KEY, "--api-host", slow.base, "--project-id", PROJECT,
                          "setup", "--dev-name", "dev2", "--run-id", "sigint-1"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=60)
        res = Result(p.returncode, out.decode(), err.decode(), 0)
    except subprocess.TimeoutExpired:
        p.kill()
        res = Result(-999, "", "", 0)
    tap(res.rc == 4 and res.one_error_line() and "sigint-1" in res.lines[-1], "SIGINT stops the run safely: exit 4",
        res)
    slow.stop()


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


def api(emu, method, path, body=None):
    """One API call; a 423 (an operation still running) is retried for up to 10 s."""
    data = json.dumps(body).encode() if body is not None else None
    for _ in range(100):
        req = urllib.request.Request(emu.base + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            if e.code != 423:
                raise
            time.sleep(0.1)
    raise RuntimeError("still 423 after 10 s")


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


def wait_for(path, secs=30):
    end = time.monotonic() + secs
    while time.monotonic() < end and not os.path.exists(path):
        time.sleep(0.05)
    return os.path.exists(path)


def paused_promote(emu, tag, extra_args, key_args, env=None):
    """Runs promote with a verify command that reports what it was given
    (descriptors, environment) and waits until the test has read the CLI's
    /proc/PID/cmdline; the hook then vetoes. Returns (result, cmdline, fds, env)
    where fds has one "NUMBER TARGET" line per descriptor the hook's program had."""
    d = tempfile.mkdtemp(prefix="neonflow-hook.", dir=emu.dir)
    # the hook's own program lists what it inherited (a shell would show its
    # own saved descriptors)
    with open(os.path.join(d, "fds.py"), "w") as f:
        f.write("import os, sys\nfds = []\nfor n in os.listdir('/proc/self/fd'):\n"
                "    try:\n        fds.append('%s %s' % (n, os.readlink('/proc/self/fd/' + n)))\n"
                "    except OSError:\n        pass\nopen(sys.argv[1], 'w').write('\\n'.join(fds))\n")
    hook = ('{py} {d}/fds.py {d}/fds; env > {d}/env; '
            'echo ready > {d}/ready; i=0; while [ ! -e {d}/go ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; '
            'exit 1').format(d=d, py=sys.executable)
    e = clean_env()
    e.update(env or {})
    cmd = [CLI] + key_args + ["--api-host", emu.base, "--project-id", PROJECT, "promote", "--yes",
                              "--verify-cmd", hook] + extra_args
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
    cmdline = b""
    if wait_for(os.path.join(d, "ready")):
        with open("/proc/%d/cmdline" % p.pid, "rb") as f:
            cmdline = f.read()
    open(os.path.join(d, "go"), "w").close()
    try:
        out, err = p.communicate(timeout=60)
        res = Result(p.returncode, out.decode(errors="replace"), err.decode(errors="replace"), 0)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        res = Result(-999, "", "", 0)

    def read(name):
        try:
            with open(os.path.join(d, name)) as f:
                return f.read()
        except OSError:
            return ""
    return res, cmdline, read("fds"), read("env")


def group_secrets():
    emu = Emulator()
    r = run(emu, "setup", "--json")
    tap(r.rc == 0, "setup", r)

    # --api-key is gone from /proc/PID/cmdline while the command runs, in both spellings
    for key_args, what in (([ "--api-key", KEY], "--api-key KEY"), (["--api-key=" + KEY], "--api-key=KEY")):
        res, cmdline, fds, env = paused_promote(emu, "argv", [], key_args)
        args = cmdline.split(b"\0")
        tap(res.rc == 3 and cmdline and KEY.encode() not in cmdline and b"promote" in args
            and any(a.endswith(b"x" * len(KEY)) for a in args),
            "%s is overwritten in /proc/PID/cmdline" % what, "%r\n%s" % (cmdline, res))
        # the hook inherits no descriptor but 0-2 and no API key
        listed = [l.split(" ", 1) for l in fds.splitlines() if l.strip()]
        extra = [l for l in listed if int(l[0]) > 2 and not l[1].startswith("/proc/")]
        tap(len(listed) >= 3 and not extra and "socket:" not in fds,
            "hook command (%s) inherits no socket or other descriptor" % what, fds)
        tap("NEON_API_KEY=" not in env and KEY not in env and "NEONFLOW_BRANCH_ID=" in env,
            "hook command (%s) does not get the API key" % what, env)
    # the key from the environment is not passed on either, unless asked for
    res, cmdline, fds, env = paused_promote(emu, "env", [], [], env={"NEON_API_KEY": KEY})
    tap(res.rc == 3 and "NEON_API_KEY=" not in env and KEY not in env,
        "NEON_API_KEY from the environment is removed from the hook's", env)
    res, cmdline, fds, env = paused_promote(emu, "hookkey", ["--hook-api-key"], ["--api-key", KEY])
    tap(res.rc == 3 and ("NEON_API_KEY=%s" % KEY) in env.splitlines(), "--hook-api-key passes NEON_API_KEY", env)

    # the key never appears in the CLI's messages
    other = "napi_misspelled_secret_value_0123456789"
    r = run(emu, "--api-kye=" + other, "branches", "list")
    tap(r.rc == 2 and other not in r.err and "--api-kye" in r.err and "misspelled" not in r.err,
        "misspelled --api-kye=VALUE: only the option's name is printed", r)
    r = run(emu, "branches", "list", "--api-key", KEY, "--api-kye", KEY)
    tap(r.rc == 2 and KEY not in r.err and KEY[:12] not in r.err, "misspelled option after the key: no key", r)
    r = run(emu, "branches", "list", "--project-id", KEY)
    tap(r.rc != 0 and KEY not in r.err + r.out, "the key given as the project id is not printed", r)
    r = run(emu, "promote", "--yes", "--project-id", KEY, "--json")
    tap(r.rc != 0 and KEY not in r.err + r.out and KEY[-12:] not in r.err + r.out,
        "promote with the key as project id: not in the report or the error", r)
    r = run(emu, "frobnicate", KEY)
    tap(r.rc == 2 and KEY not in r.err, "the key as a stray word is not echoed", r)
    port = emu.base.split(":")[2].split("/")[0]
    for host, what in (("http://u:%s@127.0.0.1:%s/api/v2" % (KEY, port), "the key"),
                       ("http://u:%s@127.0.0.1:%s/api/v2" % (other, port), "another secret"),
                       ("http://127.0.0.1:%s/api/v2?token=%s" % (port, other), "a query secret")):
        r = run(emu, "branches", "list", host=host)
        tap(r.rc == 2 and KEY not in r.err and other not in r.err and len(r.lines) == 1,
            "credentials in --api-host (%s) are not printed" % what, r)

    # the loopback check takes canonical forms only
    for host in ("4294967423.0.0.1", "2130706433", "0x7f.1", "0177.0.0.1", "127.1"):
        r = run(emu, "branches", "list", host="http://%s:%s/api/v2" % (host, port), timeout=30)
        tap(r.rc == 2 and len(r.lines) == 1, "plain http to %s is not loopback: exit 2" % host, r)

    # names from the API cannot drive the terminal or forge lines
    evil = "evil\x1b[31m\nneonflow: forged line\x07\u009b2J\u202e"
    api(emu, "POST", "/projects/%s/branches" % PROJECT, {"branch": {"name": evil}})
    r = run(emu, "branches", "list")
    tap(r.rc == 0 and "\x1b" not in r.out and "\x07" not in r.out and "\u009b" not in r.out
        and "\u202e" not in r.out and not any(l.startswith("neonflow: forged") for l in r.out.splitlines())
        and "evil\\x1b[31m\\nneonflow: forged line\\x07\\u009b2J\\u202e" in r.out,
        "branches list escapes control characters in names", repr(r.out[-800:]))
    r = run(emu, "branches", "list", "--json")
    names = [b["name"] for b in (r.json() or [])]
    tap(r.rc == 0 and evil in names and "\x1b" not in r.out, "branches list --json: valid JSON, the name intact", r)
    r = run(emu, "snapshots", "create", "--branch", "nope\x1b[2J\nneonflow: forged")
    tap(r.rc == 1 and len(r.lines) == 1 and "\x1b" not in r.err and "nope\\x1b[2J\\nneonflow: forged" in r.err,
        "an echoed name in an error is escaped (one line)", repr(r.err))
    r = run(emu, "promote", "--yes", "--source", "dev\x1b]0;pwned\x07")
    tap(r.rc == 1 and "\x1b" not in r.err + r.out and "\x07" not in r.err + r.out and r.one_error_line(),
        "a workflow error echoing a name is escaped", repr(r.err))
    emu.stop()

    # --timeout: the library's deadline wins, every time (it raced a cancel before)
    slow = Emulator("--op-duration-ms", "6000")
    names = []
    for i in range(10):
        r = run(slow, "setup", "--dev-name", "t%d" % i, "--timeout", "1", "--json", timeout=60)
        names.append(((r.json() or {}).get("result_name"), r.rc))
    tap(all(n == ("NEONFLOW_ETIMEOUT", 4) for n in names), "setup --timeout 1, 10 times: always ETIMEOUT, exit 4",
        names)
    slow.stop()


# ---------------------------------------------------------------------------
def group_fields():
    """Neon drops fields: calls keep working; what is unknown is never pruned."""
    emu = Emulator()
    deprecated = ["pooler_enabled", "pooler_mode", "proxy_host", "cpu_used_sec", "primary"]
    emu.ctl("PUT", "omit_fields", {"project_id": PROJECT, "fields": deprecated})
    prod = branches(emu).get("production")
    tap(prod is not None and prod["endpoints"] and prod["default"] is True,
        "branches list works without Neon's deprecated fields", prod)
    r = run(emu, "setup", "--json")
    tap(r.rc == 0, "setup works without the deprecated fields", r)
    r = run(emu, "promote", "--yes", "--json")
    rep = r.json() or {}
    backup = rep.get("backup_branch_name")
    tap(r.rc == 0 and rep.get("result") == 0 and prod and rep.get("target_branch_id") not in (None, "", prod["id"])
        and backup in branches(emu), "promote works without the deprecated fields", r)

    emu.ctl("PUT", "omit_fields", {"project_id": PROJECT, "fields": deprecated + ["default", "protected"]})
    b = branches(emu)
    tap(b.get("production", {}).get("default", False) is None and b.get("production", {}).get("protected", False)
        is None, "branches list --json: default/protected Neon did not send are null, not false", b)
    prune = ["backups", "prune", "--keep", "0", "--older-than", "0s", "--branches-only", "--yes", "--json"]
    r = run(emu, *prune)
    tap(r.rc == 0 and backup in branches(emu), "prune keeps a backup whose default/protected is unknown", r)
    emu.ctl("PUT", "omit_fields", {"project_id": PROJECT, "fields": deprecated})
    r = run(emu, *prune)
    tap(r.rc == 0 and backup not in branches(emu), "and deletes it once Neon says it is neither", r)
    emu.stop()


# ---------------------------------------------------------------------------
def previews(emu):
    r = run(emu, "preview", "list", "--json")
    return {p["label"]: p for p in (r.json() or [])}


def group_previews():
    emu = Emulator()
    prod_id = branches(emu)["production"]["id"]
    dev_id = emu.ctl("POST", "branches", {"project_id": PROJECT, "name": "dev", "parent_id": prod_id,
                                          "with_rw_endpoint": True})["branch_id"]
    emu.ctl("POST", "branches", {"project_id": PROJECT, "name": "feature-x", "parent_id": prod_id})

    r = run(emu, "preview", "create", "pr-1", "--ttl", "2h")
    out = r.out.strip().splitlines()
    tap(r.rc == 0 and len(out) == 1 and out[0].startswith("postgresql://") and "expires 20" in r.err,
        "preview create: the connection string alone on stdout, the expiry on stderr", r)
    p1 = branches(emu).get("nf/preview/pr-1", {})
    exp1 = previews(emu).get("pr-1", {}).get("expires_at")
    tap(p1.get("parent_id") == dev_id and exp1, "preview create: a child of dev with an expiry", p1)
    n = len(branches(emu))
    r = run(emu, "preview", "create", "pr-1", "--json")
    j = r.json() or {}
    tap(r.rc == 0 and j.get("branch_id") == p1.get("id") and len(branches(emu)) == n
        and j.get("connection_uri", "").startswith("postgresql://") and j.get("expires_at") == exp1,
        "preview create again: the same preview, nothing new", r)
    r = run(emu, "preview", "create", "pr-2", "--parent", "production", "--no-uri", "--json")
    j = r.json() or {}
    tap(r.rc == 0 and j.get("parent_id") == prod_id and j.get("host") and "connection_uri" not in j
        and j.get("expires_at") is None, "preview create --parent --no-uri --json", r)
    r = run(emu, "preview", "create", "pr-2")
    tap(r.rc == 1 and r.one_error_line() and "delete it first" in r.err,
        "preview create with another parent than the existing one: exit 1", r)
    r = run(emu, "preview", "create", "pr-3", "--parent", "no-such-branch")
    tap(r.rc == 1 and r.one_error_line() and "nf/preview/pr-3" not in branches(emu),
        "preview create with an unknown parent: exit 1, nothing made", r)
    for args, what in ((["preview", "create", "Bad/Label"], "an invalid label"),
                       (["preview", "create", "lease"], "the label 'lease'"),
                       (["preview", "create", "pr-4", "--ttl", "2h", "--expires-at", "2030-01-01T00:00:00Z"],
                        "--ttl with --expires-at"),
                       (["preview", "create", "pr-4", "--ttl", "soon"], "a bad --ttl"),
                       (["preview", "create", "pr-4", "--expires-at", "tomorrow"], "a bad --expires-at"),
                       (["preview", "create"], "no label"),
                       (["preview", "list", "--parent", "dev"], "--parent on list"),
                       (["preview", "prune", "--unused", "x"], "a bad --unused")):
        r = run(emu, *args)
        tap(r.rc == 2 and r.one_error_line() and "nf/preview/pr-4" not in branches(emu),
            "preview: %s is a usage error (exit 2)" % what, r)

    r = run(emu, "preview", "list")
    tap(r.rc == 0 and "LABEL" in r.out and "EXPIRES" in r.out and "pr-1" in r.out and "pr-2" in r.out
        and "feature-x" not in r.out, "preview list text", r)
    ps = previews(emu)
    tap(sorted(ps) == ["pr-1", "pr-2"] and ps["pr-1"]["expired"] is False and ps["pr-1"]["expires_at"]
        and ps["pr-1"]["host"], "preview list --json: label, host, expiry, expired", ps)

    r = run(emu, "preview", "delete", "pr-2")
    tap(r.rc == 2 and "pr-2" in previews(emu), "preview delete without --yes and no TTY is refused", r)
    r = run(emu, "preview", "delete", "pr-2", "--dry-run")
    tap(r.rc == 0 and "would delete" in r.out and "pr-2" in previews(emu), "preview delete --dry-run", r)
    r = run(emu, "--yes", "preview", "delete", "pr-2")
    tap(r.rc == 0 and "pr-2" not in previews(emu) and "nf/preview/pr-2" not in branches(emu),
        "preview delete --yes", r)
    r = run(emu, "--yes", "preview", "delete", "nf/preview/pr-2")
    tap(r.rc == 0, "preview delete of a deleted preview (by name) succeeds", r)

    r = run(emu, "preview", "prune", "--dry-run")
    tap(r.rc == 0 and "nothing to prune" in r.out, "preview prune --dry-run: nothing expired", r)
    r = run(emu, "preview", "prune", "--keep", "0", "--dry-run", "--json")
    j = r.json() or []
    tap(r.rc == 0 and [x["label"] for x in j] == ["pr-1"] and j[0].get("reason") == "over-keep"
        and "pr-1" in previews(emu), "preview prune --keep 0 --dry-run --json: the plan, nothing deleted", r)
    r = run(emu, "preview", "prune", "--keep", "0")
    tap(r.rc == 2 and "pr-1" in previews(emu), "preview prune without --yes and no TTY is refused", r)
    before = set(branches(emu))
    r = run(emu, "--yes", "preview", "prune", "--keep", "0")
    after = set(branches(emu))
    tap(r.rc == 0 and "pr-1" in r.out and before - after == {"nf/preview/pr-1"}
        and {"production", "dev", "feature-x"} <= after, "preview prune --keep 0 --yes deletes previews only", r)
def group_connection():
    """Issue 10 §3: connection-string, roles list, databases list; DATABASE_URL for hook commands."""
    emu = Emulator()
    r = run(emu, "connection-string")
    uri = r.out.strip()
    tap(r.rc == 0 and uri.startswith("postgresql://neondb_owner:") and "/neondb" in uri and r.out.endswith("\n"),
        "connection-string: the default branch's URI on stdout", r)
    pw = uri.split("://", 1)[1].split("@", 1)[0].split(":", 1)[-1] if "@" in uri else "?"
    tap(len(pw) >= 8 and pw not in r.err, "the password is not on stderr", r)
    r = run(emu, "connection-string", "production", "--pooled")
    tap(r.rc == 0 and "-pooler" in r.out and r.out.strip() != uri, "connection-string BRANCH --pooled", r)
    prod = branches(emu)["production"]
    r = run(emu, "connection-string", prod["id"], "--database", "neondb", "--role", "neondb_owner", "--json")
    tap(r.rc == 0 and (r.json() or {}).get("uri") == uri, "connection-string ID --database --role --json", r)
    r = run(emu, "connection-string", "--endpoint", prod["endpoints"][0]["id"])
    tap(r.rc == 0 and r.out.strip() == uri, "connection-string --endpoint", r)
    r = run(emu, "connection-string", "no-such-branch")
    tap(r.rc == 1 and r.one_error_line() and r.out == "", "connection-string of a missing branch: one error", r)
    r = run(emu, "connection-string", "--database", "nope", "-v", "-v")
    tap(r.rc != 0 and r.error_lines() and pw not in r.err and r.out == "", "missing database: error, no password", r)
    r = run(emu, "connection-string", "--endpoint", "EP/../x")
    tap(r.rc == 2 and r.one_error_line(), "a malformed --endpoint is a usage error", r)
    r = run(emu, "branches", "list", "--pooled")
    tap(r.rc == 2 and r.one_error_line(), "--pooled does not apply to other commands", r)
    r = run(emu, "connection-string", "a", "b")
    tap(r.rc == 2, "connection-string takes one BRANCH at most", r)
    r = run(emu, "connection-string", "-v", "-v", "-v")
    tap(r.rc == 0 and pw not in r.err, "verbose logs and traces hold no password", r)

    r = run(emu, "roles", "list", "--json")
    roles = r.json() or []
    tap(r.rc == 0 and any(x.get("name") == "neondb_owner" for x in roles)
        and all("password" not in x for x in roles) and pw not in r.out, "roles list --json (no passwords)", r)
    r = run(emu, "roles", "list", "production")
    tap(r.rc == 0 and "neondb_owner" in r.out and "NAME" in r.out, "roles list BRANCH prints a table", r)
    r = run(emu, "databases", "list", "--json")
    dbs = r.json() or []
    tap(r.rc == 0 and [d.get("name") for d in dbs] == ["neondb"] and dbs[0].get("owner_name") == "neondb_owner"
        and dbs[0].get("branch_id") == prod["id"], "databases list --json", r)
    r = run(emu, "databases", "list", prod["id"])
    tap(r.rc == 0 and "neondb" in r.out and "OWNER" in r.out, "databases list BRANCH prints a table", r)
    r = run(emu, "databases", "list", "nope")
    tap(r.rc == 1 and r.one_error_line(), "databases list of a missing branch: one error", r)

    # hook commands get DATABASE_URL and NEONFLOW_CONNECTION_URI
    r = run(emu, "setup", "--yes")
    tap(r.rc == 0, "setup (dev for the promotions)", r)
    r = run(emu, "promote", "--yes", "--verify-compute")
    tap(r.rc == 2 and r.one_error_line(), "--verify-compute needs --verify-cmd", r)
    venv, aenv = os.path.join(emu.dir, "verify.env"), os.path.join(emu.dir, "after.env")
    dump = 'echo "DATABASE_URL=$DATABASE_URL" > %s; echo "NEONFLOW_CONNECTION_URI=$NEONFLOW_CONNECTION_URI" >> %s'

    def env_of(path):
        try:
            return dict(l.rstrip("\n").split("=", 1) for l in open(path) if "=" in l)
        except OSError:
            return {}
    host = prod["endpoints"][0]["host"]
    r = run(emu, "promote", "--yes", "--json", "--verify-compute", "--verify-cmd", dump % (venv, venv),
            "--after-switch-cmd", dump % (aenv, aenv), "-v", "-v", "-v", env={"DATABASE_URL": "postgres://stale"})
    v, a = env_of(venv), env_of(aenv)
    vu, au = v.get("DATABASE_URL", ""), a.get("DATABASE_URL", "")
    tap(r.rc == 0, "promote --verify-compute", r)
    tap(vu.startswith("postgresql://") and vu == v.get("NEONFLOW_CONNECTION_URI") and host not in vu,
        "the verify command got the preview's temporary endpoint URI", v)
    tap(au.startswith("postgresql://") and au == a.get("NEONFLOW_CONNECTION_URI") and host in au,
        "the after-switch command got the target's URI", a)
    apw = au.split("://", 1)[1].split("@", 1)[0].split(":", 1)[-1] if "@" in au else "?"
    tap(len(apw) >= 8 and apw not in r.out and apw not in r.err, "the URI's password is in no output", r)
    rep = r.json() or {}
    steps = {s.get("name"): s.get("status") for s in rep.get("steps", [])}
    tap(steps.get("verify-compute") == "done" and steps.get("verify-compute-delete") == "done",
        "the report shows the temporary endpoint's steps", steps)
    eps = [e for b in branches(emu).values() for e in (b.get("endpoints") or [])]
    tap(len(eps) == 2, "the temporary endpoint is gone (production's and dev's remain)", eps)

    os.unlink(venv)
    r = run(emu, "promote", "--yes", "--verify-cmd", dump % (venv, venv))
    v = env_of(venv)
    tap(r.rc == 0 and v.get("DATABASE_URL") == "", "without --verify-compute the preview has no URI", (r, v))
    r = run(emu, "refresh", "--yes", "--verify-compute", "--verify-cmd", dump % (venv, venv))
    v = env_of(venv)
    tap(r.rc == 0 and v.get("DATABASE_URL", "").startswith("postgresql://"), "refresh --verify-compute", (r, v))
    r = run(emu, "refresh", "--yes", "--verify-cmd", "exit 4")
    tap(r.rc == 3 and r.one_error_line(), "refresh --verify-cmd vetoes (exit 3)", r)
def fleet_project(emu, pid, dev=True):
    """A project with root production (and root dev with its own endpoint); returns production's id."""
    if pid != PROJECT:
        emu.ctl("POST", "projects", {"project_id": pid, "branch_name": "production"})
    if dev:
        emu.ctl("POST", "branches", {"project_id": pid, "name": "dev", "with_rw_endpoint": True})
    return {b["name"]: b["id"] for b in api(emu, "GET", "/projects/%s/branches" % pid)["branches"]}["production"]


def fleet_file(emu, name, text):
    path = os.path.join(emu.dir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def group_fleet():
    """Issue 12 item 2: neonflow fleet promote|refresh|rollback --projects-file FILE."""
    emu = Emulator()
    pids = [PROJECT, "proj-f2", "proj-f3"]
    prod = {p: fleet_project(emu, p) for p in pids}
    lines = fleet_file(emu, "fleet.txt", "# the fleet\n\n%s dev production\n  proj-f2\tdev production  # two\n"
                                          "proj-f3 dev production\n" % PROJECT)

    r = run(emu, "fleet", "promote", "--projects-file", lines, project=False)
    tap(r.rc == 2 and r.one_error_line() and "--yes" in r.err, "fleet promote without --yes and no TTY is refused",
        r)
    r = run(emu, "fleet", "promote", "--projects-file", lines, "--yes", "--json", "--run-id", "fl-1",
            "--concurrency", "2", project=False)
    rep = r.json() or {}
    ents = rep.get("entries", [])
    ok = (r.rc == 0 and rep.get("kind") == "fleet" and rep.get("schema_version") == 1 and rep.get("run_id") == "fl-1"
          and rep.get("counts", {}).get("done") == 3 and [e["project_id"] for e in ents] == pids
          and all(e["run_id"].startswith("fl-1-") and e["report"]["run_id"] == e["run_id"] for e in ents))
    tap(ok, "fleet promote --json: every project done, derived run ids, one report each", r)
    now = {p: {b["name"]: b["id"] for b in api(emu, "GET", "/projects/%s/branches" % p)["branches"]}["production"]
           for p in pids}
    tap(all(now[p] != prod[p] for p in pids), "every project's production was replaced", now)
    tap("fleet run id fl-1" in r.err and r.err.count(": done") == 3, "progress on stderr: one line per project", r)

    r2 = run(emu, "fleet", "promote", "--projects-file", lines, "--yes", "--json", "--run-id", "fl-1",
             project=False)
    rep2 = r2.json() or {}
    tap(r2.rc == 0 and [e["run_id"] for e in rep2.get("entries", [])] == [e["run_id"] for e in ents]
        and all(s["status"] in ("resumed", "skipped") for e in rep2.get("entries", [])
                for s in e["report"]["steps"] if s["name"] == "finalize"),
        "the same --run-id resumes: same entry run ids, finalize resumed", r2)

    # a project without dev fails; the others are done; exit 1; text table
    fleet_project(emu, "proj-f4", dev=False)
    mixed = fleet_file(emu, "mixed.txt", "proj-f4 dev production\n%s production dev\n" % PROJECT)
    r = run(emu, "fleet", "refresh", "--projects-file", mixed, "--yes", "--concurrency", "1", project=False)
    tap(r.rc == 1 and r.error_lines() and r.lines[-1].startswith("neonflow: fleet refresh failed")
        and "--run-id" in r.lines[-1], "a failing project: exit 1, one summary error line naming --run-id", r)
    tap("failed" in r.out and "NEONFLOW_EBRANCH_MISSING" in r.out and "done" in r.out,
        "the text table shows the failed and the done project", r)
    r = run(emu, "fleet", "refresh", "--projects-file", mixed, "--yes", "--stop-on-failure", "--concurrency", "1",
            "--json", project=False)
    rep = r.json() or {}
    tap(r.rc == 1 and [e["status"] for e in rep.get("entries", [])] == ["failed", "not_started"],
        "--stop-on-failure: nothing starts after the failure", r)

    # JSON file; rollback lines `project target` (and 3-field lines: the source is ignored)
    js = fleet_file(emu, "fleet.json", json.dumps([{"project": p, "target": "production"} for p in pids[:2]]))
    r = run(emu, "fleet", "rollback", "--projects-file", js, "--yes", "--json", project=False)
    rep = r.json() or {}
    tap(r.rc == 0 and rep.get("workflow") == "rollback" and rep.get("counts", {}).get("done") == 2,
        "fleet rollback from a JSON file", r)
    rb = fleet_file(emu, "rb.txt", "proj-f3 production\n")
    r = run(emu, "fleet", "rollback", "--projects-file", rb, "--yes", project=False)
    tap(r.rc == 0 and "fleet rollback: ok" in r.out, "fleet rollback from 'project target' lines", r)

    # parse errors name the line (or the JSON entry); nothing runs
    snaps0 = len(snapshots(emu))
    for name, text, want in [
            ("short.txt", "%s dev production\n\n# x\n%s dev\n" % (PROJECT, PROJECT), "line 4"),
            ("long.txt", "%s dev production extra\n" % PROJECT, "line 1"),
            ("bad-id.txt", "%s dev production\nno/such dev production\n" % PROJECT, "line 2"),
            ("dup.txt", "%s dev production\nproj-f2 dev production\n%s x production\n" % (PROJECT, PROJECT),
             "line 3 repeats"),
            ("syntax.json", '[\n  {"project": "a",, }\n]\n', "line 2"),
            ("nosrc.json", '[{"project": "%s", "target": "production"}]' % PROJECT, "entry 1"),
            ("object.json", '{"project": "x"}', "JSON array"),
            ("empty.txt", "# nothing\n\n", "no projects")]:
        path = fleet_file(emu, name, text)
        r = run(emu, "fleet", "promote", "--projects-file", path, "--yes", project=False)
        tap(r.rc == 2 and r.one_error_line() and want in r.err and name in r.err,
            "bad projects file %s: exit 2 naming '%s'" % (name, want), r)
    tap(len(snapshots(emu)) == snaps0, "bad files changed nothing")
    r = run(emu, "fleet", "promote", "--yes", project=False)
    tap(r.rc == 2 and "--projects-file" in r.err, "fleet promote needs --projects-file", r)
    r = run(emu, "fleet", "promote", "--projects-file", lines, "--concurrency", "0", "--yes", project=False)
    tap(r.rc == 2 and r.one_error_line(), "--concurrency 0 is a usage error", r)
    r = run(emu, "fleet", "promote", "--projects-file", os.path.join(emu.dir, "missing"), "--yes", project=False)
    tap(r.rc == 2 and r.one_error_line() and "cannot open" in r.err, "a missing projects file is a usage error", r)
    r = run(emu, "promote", "--stop-on-failure", "--yes")
    tap(r.rc == 2 and "does not apply" in r.err, "--stop-on-failure applies to fleet commands only", r)
    emu.stop()
    fleet_interrupt_cases()


def fleet_interrupt_cases():
    """Ctrl-C mid-fleet stops every project at a safe point (exit 4); the same --run-id finishes them."""
    emu = Emulator("--op-duration-ms", "150")
    pids = [PROJECT, "proj-i2", "proj-i3", "proj-i4"]
    for p in pids:
        fleet_project(emu, p)
    path = fleet_file(emu, "int.txt", "".join("%s dev production\n" % p for p in pids))
    cmd = [CLI, "--api-key", KEY, "--api-host", emu.base, "fleet", "promote", "--projects-file", path, "--yes",
           "--json", "--run-id", "fl-int", "--concurrency", "1"]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=clean_env())
    err_lines = []
    timer = threading.Timer(60, p.kill)  # bounds the test if the CLI never reports
    timer.start()
    for raw in p.stderr:
        err_lines.append(raw.decode(errors="replace"))
        if ": done" in err_lines[-1]:
            p.send_signal(signal.SIGINT)
            break
    out, rest = p.communicate(timeout=60)
    timer.cancel()
    err = "".join(err_lines) + rest.decode(errors="replace")
    try:
        rep = json.loads(out)
    except ValueError:
        rep = {}
    st = [e["status"] for e in rep.get("entries", [])]
    tap(p.returncode == 4 and st and st[0] == "done" and "failed" not in st and "not_started" in st
        and set(st) <= {"done", "cancelled", "not_started"},
        "Ctrl-C mid-fleet: exit 4, entries done, cancelled or not started", "rc=%s %s\n%s" % (p.returncode, st, err))
    r = run(emu, "fleet", "promote", "--projects-file", path, "--yes", "--json", "--run-id", "fl-int",
            project=False)
    rep = r.json() or {}
    tap(r.rc == 0 and rep.get("counts", {}).get("done") == len(pids), "the same --run-id completes the fleet", r)
    emu.stop()


def main():
    try:
        {"workflow": group_workflow, "resources": group_resources, "errors": group_errors,
         "tty": group_tty, "secrets": group_secrets, "fields": group_fields,
         "previews": group_previews, "connection": group_connection, "fleet": group_fleet}[GROUP]()
    except Exception as e:  # report, do not hang
        tap(False, "unexpected exception", repr(e))
    finally:
        cleanup()
    print("1..%d" % _count)
    return 1 if _failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: (cleanup(), sys.exit(1)))
    sys.exit(main())
