#!/usr/bin/env python3
"""Runs one example against a private neonflow-emulator and prints TAP.

    run-example.py --emulator PATH [options] -- COMMAND [ARGS...]

Starts the emulator on 127.0.0.1, port 0, parses the URL it prints, prepares
the state through its /__emulator/ control routes, runs COMMAND with
NEON_API_HOST, NEON_API_KEY and NEON_PROJECT_ID set (plus NEONFLOW_EMULATOR,
the server's root URL, for smoke commands), checks the exit code, the output
and the branches' content afterwards, and always stops the emulator.

Options:
  --project ID            the seeded project (default example-project)
  --op-duration-ms N      how long every Neon operation takes (default 20)
  --seed-projects N       create N more projects; their ids are appended to COMMAND
  --write BRANCH=CONTENT  write CONTENT to BRANCH of the project before the run
                          (a missing branch is created as a root branch with an endpoint)
  --expect-exit N         expected exit code (default 0)
  --expect REGEX          a regular expression the output must match (repeatable)
  --expect-content BRANCH=CONTENT   the branch's content after the run (repeatable)
  --check-api-calls       the output's "total API calls: N" must equal the number
                          of API requests the emulator counted
  --timeout SECONDS       bound for the example (default 120)
Standard library only.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

API_KEY = "example-key"


class Emulator:
    """A neonflow-emulator child process on an ephemeral loopback port."""

    def __init__(self, path, project, op_ms):
        self.proc = subprocess.Popen(
            [path, "--host", "127.0.0.1", "--port", "0", "--api-key", API_KEY,
             "--project-id", project, "--branch", "production",
             "--op-duration-ms", str(op_ms)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + 20
        line = ""
        # The emulator prints exactly one line once it is ready.
        while time.monotonic() < deadline and not line:
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                break
        m = re.match(r"listening on (http://127\.0\.0\.1:\d+/api/v2)", line)
        if not m:
            self.stop()
            raise RuntimeError("emulator did not start (got %r)" % line)
        self.api = m.group(1)
        self.root = self.api[: -len("/api/v2")]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.root + path, data=data, method=method, headers={
            "Authorization": "Bearer " + API_KEY, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"{}")

    def branch_ids(self, project):
        """Branch name -> id for one project, from the state dump."""
        for p in self.call("GET", "/__emulator/state")["projects"]:
            if p["id"] == project:
                return {b["name"]: b["id"] for b in p["branches"]}
        return {}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def split_pair(s):
    name, sep, value = s.partition("=")
    if not sep:
        raise SystemExit("expected BRANCH=CONTENT, got %r" % s)
    return name, value


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--project", default="example-project")
    ap.add_argument("--op-duration-ms", type=int, default=20)
    ap.add_argument("--seed-projects", type=int, default=0)
    ap.add_argument("--write", action="append", default=[])
    ap.add_argument("--expect-exit", type=int, default=0)
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--expect-content", action="append", default=[])
    ap.add_argument("--check-api-calls", action="store_true")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        ap.error("no command")

    checks = 2 + len(a.expect) + len(a.expect_content) + (1 if a.check_api_calls else 0)
    print("1..%d" % checks)
    n = 0
    failed = False

    def report(ok, what, detail=""):
        nonlocal n, failed
        n += 1
        failed |= not ok
        print("%s %d - %s" % ("ok" if ok else "not ok", n, what))
        if detail and not ok:
            for line in detail.rstrip().splitlines():
                print("# " + line)

    try:
        emu = Emulator(a.emulator, a.project, a.op_duration_ms)
    except Exception as e:  # pylint: disable=broad-except
        print("Bail out! %s" % e)
        return 1
    try:
        report(True, "emulator listening on " + emu.api)
        for _ in range(a.seed_projects):
            cmd.append(emu.call("POST", "/__emulator/projects", {"branch_name": "production"})["project_id"])
        for w in a.write:
            name, content = split_pair(w)
            bid = emu.branch_ids(a.project).get(name)
            if bid is None:
                bid = emu.call("POST", "/__emulator/branches", {
                    "project_id": a.project, "name": name, "with_rw_endpoint": True})["branch_id"]
            emu.call("POST", "/__emulator/write", {"project_id": a.project, "branch_id": bid, "content": content})

        env = dict(os.environ, NEON_API_HOST=emu.api, NEON_API_KEY=API_KEY,
                   NEON_PROJECT_ID=a.project, NEONFLOW_EMULATOR=emu.root)
        start = time.monotonic()
        try:
            res = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, timeout=a.timeout)
            out, code = res.stdout, res.returncode
        except subprocess.TimeoutExpired as e:
            out = e.stdout or ""
            if isinstance(out, bytes):
                out = out.decode(errors="replace")
            code = "timeout after %gs" % a.timeout
        took = time.monotonic() - start
        for line in out.splitlines():
            print("# | " + line)
        report(code == a.expect_exit, "%s exited %s in %.2fs (expected %d)"
               % (" ".join(os.path.basename(c) for c in cmd[:2]), code, took, a.expect_exit))
        for rx in a.expect:
            report(re.search(rx, out, re.M) is not None, "output matches /%s/" % rx)
        for ec in a.expect_content:
            name, want = split_pair(ec)
            bid = emu.branch_ids(a.project).get(name)
            got = None
            if bid:
                got = emu.call("GET", "/__emulator/read?project_id=%s&branch_id=%s" % (a.project, bid))["content"]
            report(got == want, "branch %s holds %r" % (name, want), "it holds %r" % (got,))
        if a.check_api_calls:
            m = re.search(r"total API calls: (\d+)", out)
            counted = sum(emu.call("GET", "/__emulator/counters")["requests"].values())
            report(m is not None and int(m.group(1)) == counted,
                   "reported API calls equal the %d requests the emulator served" % counted,
                   "the example reported %s" % (m.group(1) if m else "nothing"))
    except Exception as e:  # pylint: disable=broad-except
        print("Bail out! %s" % e)
        failed = True
    finally:
        emu.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
