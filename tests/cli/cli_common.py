"""Shared helpers of the neonflow CLI tests (test_cli.py): TAP output, the
emulator process, running the CLI, and direct API calls.
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
