"""Processes of scripts/soak: the emulator it starts and the neonflow runs it
races, kills and resumes. Standard library only; everything binds 127.0.0.1."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

KEY = "soak-key-%d" % os.getpid()
ATTEMPT_LIMIT_S = 120  # a run still going after this is killed and counted as hung


def clean_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEON")}
    for k in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(k, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


class Emulator:
    def __init__(self, exe, *extra):
        self.dir = tempfile.mkdtemp(prefix="neonflow-soak.")
        out_path = os.path.join(self.dir, "emu.out")
        with open(out_path, "w") as out, open(os.path.join(self.dir, "emu.err"), "w") as err:
            self.proc = subprocess.Popen([exe, "--host", "127.0.0.1", "--port", "0", "--api-key", KEY] + list(extra),
                                         stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        self.base = None
        for _ in range(200):  # <= 10 s
            with open(out_path) as f:
                for line in f:
                    if line.startswith("listening on http://127.0.0.1:"):
                        self.base = line.split()[-1].strip()
            if self.base or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not self.base:
            self.stop()
            raise RuntimeError("the emulator did not start")
        self.root = self.base[: -len("/api/v2")]

    def _call(self, url, method, body):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return json.loads(raw) if raw else {}

    def ctl(self, method, path, body=None):
        """A control route: never faulted, never rate limited."""
        return self._call(self.root + "/__emulator/" + path, method, body)

    def api(self, method, path, body=None, tries=40):
        """A Neon API call made by the harness itself (faults apply): retried until it answers 2xx."""
        last = None
        for _ in range(tries):
            try:
                return self._call(self.base + path, method, body)
            except urllib.error.HTTPError as e:
                last = e
                if e.code not in (423, 429, 500, 502, 503):
                    raise
            except (urllib.error.URLError, ConnectionError, OSError, ValueError) as e:
                last = e
            time.sleep(0.1)
        raise RuntimeError("%s %s kept failing: %s" % (method, path, last))

    def state(self):
        return self.ctl("GET", "state")

    def quiesce(self, limit_s=30):
        """Waits until the emulator has completed every API request it received. A killed neonflow's request
        (one held by a delay fault, say) is applied after its client is gone: read before then, the state
        misses a change that lands in whatever the harness checks next (the next round, a reuse check) and
        is blamed on the runs there. An emulator without the in_flight gauge: waits out the longest delay."""
        deadline = time.monotonic() + limit_s
        while True:
            n = self.ctl("GET", "counters").get("in_flight")
            if n is None:
                time.sleep(0.5)  # > the 250 ms delay faults scripts/soak installs
                return
            if n == 0:
                return
            if time.monotonic() >= deadline:
                raise RuntimeError("the emulator still has %d requests in flight after %d s" % (n, limit_s))
            time.sleep(0.01)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


class Run:
    """One neonflow run (one run id) and every attempt made with it."""

    def __init__(self, run_id, workflow, target, args):
        self.id, self.workflow, self.target, self.args = run_id, workflow, target, list(args)
        self.attempts = []
        self.pending = True
        self.deferred = False   # resumed only by the final resumes
        self.final_rc = None
        self.report = None      # the report of the attempt that exited 0

    def history(self):
        """Each attempt's end, e.g. 'killed, 1 ELEASE_HELD, 0'."""
        return ", ".join("killed" if a.killed else "hung" if a.hung else
                         ("%s %s" % (a.rc, a.result_name.replace("NEONFLOW_", ""))).strip() if a.rc else "0"
                         for a in self.attempts)

    def outcome(self):
        if self.pending:
            return "pending"
        name = self.attempts[-1].result_name if self.attempts and self.final_rc != 0 else ""
        return "exit %s%s" % (self.final_rc, " " + name.replace("NEONFLOW_", "") if name else "")


class Attempt:
    def __init__(self, run, argv, workdir, kill_after):
        self.run = run
        self.kill_after = kill_after
        self.killed = self.hung = self.lease_held = False
        self.rc = None
        self.report = None
        self.err = ""
        self.result_name = ""
        self.out_path = os.path.join(workdir, "%s.%d.out" % (run.id, len(run.attempts)))
        self.err_path = self.out_path[:-4] + ".err"
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=clean_env())
        self.t0 = time.monotonic()

    def finish(self):
        self.rc = self.proc.returncode
        with open(self.out_path, errors="replace") as f:
            out = f.read()
        with open(self.err_path, errors="replace") as f:
            self.err = f.read()
        os.unlink(self.out_path)
        os.unlink(self.err_path)
        try:
            rep = json.loads(out) if out.strip() else None
            self.report = rep if isinstance(rep, dict) else None
        except ValueError:
            self.report = None
        self.result_name = (self.report or {}).get("result_name") or ""
        if not self.result_name:
            m = re.findall(r"NEONFLOW_E[A-Z_]+", self.err)
            self.result_name = m[-1] if m else ""
        # exit 6 is the CLI's code for it; a CLI that has no such code yet exits 1 with the same error
        self.lease_held = self.rc == 6 or "ELEASE_HELD" in self.result_name

    def last_error_line(self):
        lines = [l for l in self.err.splitlines() if l.startswith("neonflow:")]
        return lines[-1] if lines else (self.err.strip().splitlines() or [""])[-1]


def wait_all(attempts, poll_s=0.02):
    """Waits for every attempt, SIGKILLing each at its kill_after instant (if any)."""
    live = list(attempts)
    while live:
        now = time.monotonic()
        for a in list(live):
            if a.proc.poll() is not None:
                live.remove(a)
                a.finish()
                continue
            el = now - a.t0
            if a.kill_after is not None and el >= a.kill_after:
                a.proc.send_signal(signal.SIGKILL)
                a.proc.wait()
                a.killed = True
            elif el >= ATTEMPT_LIMIT_S:
                a.proc.send_signal(signal.SIGKILL)
                a.proc.wait()
                a.hung = True
        if live:
            time.sleep(poll_s)


class Cli:
    def __init__(self, exe, emu, project, lease_ttl):
        self.exe, self.emu, self.project = exe, emu, project
        help_run = subprocess.run([exe, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=clean_env(), timeout=30)
        help_text = help_run.stdout.decode(errors="replace")
        self.has_lease = "--lease-ttl" in help_text
        self.lease_ttl = lease_ttl
        self.workdir = tempfile.mkdtemp(prefix="neonflow-soak-runs.")

    def argv(self, run, project=None):
        a = [self.exe, "--api-key", KEY, "--api-host", self.emu.base, "--project-id", project or self.project,
             "--yes", "--json", "--timeout", "90", "--run-id", run.id]
        if self.has_lease:
            a += ["--lease-wait", "0", "--lease-ttl", self.lease_ttl]
        return a + run.args

    def start(self, run, kill_after=None, project=None):
        a = Attempt(run, self.argv(run, project), self.workdir, kill_after)
        run.attempts.append(a)
        return a

    def cleanup(self):
        shutil.rmtree(self.workdir, ignore_errors=True)


def settle(run, a, max_attempts, defer=False):
    """Decides, as a user would, whether the run is over after attempt a. A resumable run out of attempts is
    over, or with defer left for the final resumes (a user does not give up on a killed run)."""
    resumable = (a.killed or a.hung or a.rc in (4, 5)
                 or (a.rc == 1 and "--run-id" in a.err and "ERUN_MISMATCH" not in a.result_name
                     and not a.lease_held)
                 or (a.lease_held and len(run.attempts) > 1))  # a resumed holder whose lease another run took
    if a.rc == 0 and not a.killed:
        run.report = a.report or {}
    if resumable and len(run.attempts) < max_attempts:
        run.pending = True
    elif resumable and defer:
        run.pending = run.deferred = True
    else:
        run.pending = False
        run.final_rc = "killed" if (a.killed or a.hung) else a.rc
    return run.pending


def quote_path(s):
    return urllib.parse.quote(s, safe="")
