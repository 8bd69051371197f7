#!/usr/bin/env python3
"""One Neon budget and one promotion lock for a fleet, through Redis. Prints TAP.

    test_redis.py --fleet FLEET_REDIS --emulator NEONFLOW_EMULATOR [options]

Starts its own redis-server (127.0.0.1, an ephemeral port, no persistence, a
temporary directory) and one neonflow-emulator with Neon's rate limits on
(or those of --rate), seeds PROCESSES x PROJECTS projects, then runs PROCESSES
fleet_redis processes at once, all with the same API key (one account) and
their own projects, and checks:
  1. every promotion succeeded;
  2. the emulator answered no 429 at all (its response counters);
  3. the Redis lock is exclusive (fleet_redis --lock-check: a second run is
     refused while the first holds it, also through a real promotion; a
     release or renew by a non-holder does nothing; re-entry by the holder);
  4. a failing Redis (one that answers every command with an error) fails
     the run closed after the grace period, without sending a request;
  5. ... and with --fail-open the promotion goes ahead unpaced.
It prints the wall time and its ratio to what the rate limit allows (the
emulator's request count / per-minute limit); no timed assertion.
Every process it started is stopped, also on failure; the whole run is
bounded by --timeout.

Without redis-server (or with --missing WHAT, when the build found no
hiredis): a failure when CI=true, otherwise a TAP skip saying what to install.
Standard library only.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

API_KEY = "fleet-key"
HOOK_FAILED = "NEONFLOW_EHOOK_FAILED"  # what a request refused by its rate-limit hook fails with


def missing(what):
    msg = "%s missing: install redis-server and libhiredis-dev (scripts/install-deps with NEONFLOW_WITH_TEST_TOOLS=1)" % what
    if os.environ.get("CI") == "true":
        print("1..1\nnot ok 1 - %s" % msg)
        sys.exit(1)
    print("1..0 # SKIP %s" % msg)
    sys.exit(0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_ping(port, any_answer=False):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            got = s.recv(64)
            return got.startswith(b"+PONG") or (any_answer and got.startswith(b"-"))
    except OSError:
        return False


class Procs:
    """Every child this test starts, so that one place stops them all."""

    def __init__(self):
        self.all = []

    def start(self, args, **kw):
        p = subprocess.Popen(args, **kw)
        self.all.append(p)
        return p

    def stop_all(self):
        for p in self.all:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.all:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def start_redis(procs, server, tmp, extra=()):
    # A port picked by binding 0 may be taken before redis binds it: retry.
    for _ in range(5):
        port = free_port()
        p = procs.start([server, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                         "--appendonly", "no", "--dir", tmp, "--logfile", os.path.join(tmp, "redis-%d.log" % port),
                         "--daemonize", "no", "--protected-mode", "yes"] + list(extra),
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and p.poll() is None:
            if redis_ping(port, bool(extra)):
                return port
            time.sleep(0.05)
        if p.poll() is None:
            p.kill()
            p.wait()
    raise RuntimeError("redis-server did not start (see %s/redis.log)" % tmp)


class Emulator:
    def __init__(self, procs, path, rate):
        self.proc = procs.start([path, "--host", "127.0.0.1", "--port", "0", "--api-key", API_KEY,
                                 "--project-id", "fleet-probe", "--op-duration-ms", "0", "--rate-limit", rate],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on (http://127\.0\.0\.1:\d+/api/v2)", line)
        if not m:
            raise RuntimeError("emulator did not start (got %r)" % line)
        self.api = m.group(1)
        self.root = self.api[: -len("/api/v2")]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.root + path, data=data, method=method, headers={
            "Authorization": "Bearer " + API_KEY, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"{}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fleet")
    ap.add_argument("--emulator")
    ap.add_argument("--redis-server", default="redis-server")
    ap.add_argument("--missing", help="the build found no WHAT (hiredis): fail in CI, skip elsewhere")
    ap.add_argument("--processes", type=int, default=3)
    ap.add_argument("--promotions", type=int, default=100, help="per process")
    ap.add_argument("--projects", type=int, default=4, help="per process")
    ap.add_argument("--threads", type=int, default=4, help="per process")
    ap.add_argument("--rate", default="700:40", help="the emulator's PER_MIN:PER_SEC (Neon's: 700:40)")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--fleet-arg", action="append", default=[],
                    help="extra fleet_redis option (e.g. --local-budget, to see the test fail without sharing)")
    a = ap.parse_args()
    if a.missing:
        missing(a.missing)
    server = shutil.which(a.redis_server)
    if not server:
        missing("redis-server")
    per_min, per_sec = (int(x) for x in a.rate.split(":"))
    deadline = time.monotonic() + a.timeout

    print("1..5")
    # Killed from outside (meson's timeout, ^C): the finally below still stops every child.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    procs = Procs()
    tmp = tempfile.mkdtemp(prefix="nf-redis-")
    failures = 0
    try:
        port = start_redis(procs, server, tmp)
        emu = Emulator(procs, a.emulator, "%d:%d" % (per_min, per_sec))
        groups = []
        for i in range(a.processes):
            ids = ["fleet-%d-%d" % (i, k) for k in range(a.projects)]
            for pid in ids:
                emu.call("POST", "/__emulator/projects", {"project_id": pid, "branch_name": "production"})
                # Each promotion leaves an (old) root and two snapshots.
                emu.call("PUT", "/__emulator/limits", {"project_id": pid, "max_root_branches": 100000,
                                                      "max_snapshots": 100000})
            groups.append(ids)
        env = dict(os.environ, NEON_API_HOST=emu.api, NEON_API_KEY=API_KEY)
        common = [a.fleet, "--redis", "127.0.0.1:%d" % port, "--account", "fleet-account",
                  "--rate", "%d:%d" % (per_min, per_sec), "--threads", str(a.threads)] + a.fleet_arg

        emu.call("DELETE", "/__emulator/counters")
        t0 = time.monotonic()
        fleet = [procs.start(common + ["--promotions", str(a.promotions)] + ids, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for ids in groups]
        outs = []
        for p in fleet:
            try:
                out, _ = p.communicate(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
                out += "\n(killed at the test's timeout)"
            outs.append((p.returncode, out))
        wall = time.monotonic() - t0
        counters = emu.call("GET", "/__emulator/counters")

        for rc, out in outs:
            for line in out.strip().splitlines():
                print("# " + line)
        ok = all(rc == 0 for rc, _ in outs)
        failures += not ok
        print("%s 1 - %d processes x %d promotions succeeded" % ("ok" if ok else "not ok", a.processes, a.promotions))

        requests = sum(counters["requests"].values())
        throttled = counters["responses"].get("429", 0)
        failures += throttled != 0
        print("%s 2 - zero 429s (emulator: %d requests, %d answered 429)" %
              ("ok" if throttled == 0 else "not ok", requests, throttled))
        bound = requests / per_min * 60.0
        print("# wall %.1f s for %d requests; %d/min allows them in %.1f s: ratio %.3f" %
              (wall, requests, per_min, bound, wall / bound if bound else 0))
        print("# responses by status: %s" % json.dumps(counters["responses"], sort_keys=True))

        lk = subprocess.run(common + ["--lock-check", "fleet-probe"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=max(1, deadline - time.monotonic()))
        for line in lk.stdout.strip().splitlines():
            print("# " + line)
        failures += lk.returncode != 0
        print("%s 3 - the Redis lock is exclusive" % ("ok" if lk.returncode == 0 else "not ok"))

        # A Redis that refuses every command (no password given: NOAUTH).
        bad = start_redis(procs, server, tmp, ["--requirepass", "nf-test-secret"])
        emu.call("POST", "/__emulator/projects", {"project_id": "fleet-failmode", "branch_name": "production"})
        # The lease stays in Neon here: a lock can only fail closed.
        failing = [a.fleet, "--redis", "127.0.0.1:%d" % bad, "--account", "fleet-account", "--grace-ms", "300",
                   "--neon-lease"]
        emu.call("DELETE", "/__emulator/counters")
        closed = subprocess.run(failing + ["fleet-failmode"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, timeout=max(1, deadline - time.monotonic()))
        sent = sum(emu.call("GET", "/__emulator/counters")["requests"].values())
        for line in closed.stdout.strip().splitlines():
            print("# " + line)
        ok = closed.returncode == 1 and sent == 0 and HOOK_FAILED in closed.stdout
        failures += not ok
        print("%s 4 - failing Redis, fail closed: the run fails with %s, %d requests sent" %
              ("ok" if ok else "not ok", HOOK_FAILED, sent))
        opened = subprocess.run(failing + ["--fail-open", "fleet-failmode"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, timeout=max(1, deadline - time.monotonic()))
        for line in opened.stdout.strip().splitlines():
            print("# " + line)
        failures += opened.returncode != 0
        print("%s 5 - failing Redis, --fail-open: the promotion goes ahead" %
              ("ok" if opened.returncode == 0 else "not ok"))
    except Exception as e:  # report, then stop everything below
        print("not ok - %s" % e)
        failures += 1
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
