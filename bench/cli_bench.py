#!/usr/bin/env python3
"""Benchmark: one `neonflow snapshots list` against the emulator, side by side
with curl doing the same request and, when node and Neon's CLI are installed
(scripts/install-neon-cli -> build-deps/neon-cli), `neon snapshots list`.

    bench/cli_bench.py [--build DIR] [--runs N] [--snapshots N] [--neon-cli-dir DIR]

Runs each client N times (default 20) in turn, prints the median wall time,
the ratio to curl (target <= 1.5x) and each client's peak resident memory
(/usr/bin/time "%M", target for neonflow <= 15 MiB). Not a test: it always exits 0
unless something could not run. The emulator binds 127.0.0.1 and is killed
on exit. Python standard library only.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KEY = "bench-key-%d" % os.getpid()
PROJECT = "bench-project"


def timed(cmd, env):
    """Runs cmd, returns (seconds, maxrss KiB, exit status)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if p.returncode != 0:
        print("# %s failed (%d): %s" % (os.path.basename(cmd[0]), p.returncode, err.strip()[:300]))
    return dt, ru.ru_maxrss, p.returncode


def peak_rss_kib(cmd, env, work):
    """Peak RSS of cmd in KiB, measured by /usr/bin/time (ru_maxrss of a child
    of python would include python's own size, inherited through fork)."""
    gnu_time = "/usr/bin/time"
    if not os.access(gnu_time, os.X_OK):
        return None
    out = os.path.join(work, "rss.txt")
    best = 0
    for _ in range(3):
        subprocess.run([gnu_time, "-f", "%M", "-o", out] + cmd, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, timeout=120)
        with open(out) as f:
            best = max(best, int(f.read().strip().splitlines()[-1]))
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--snapshots", type=int, default=10)
    ap.add_argument("--neon-cli-dir", default=os.environ.get("NEON_CLI_DIR",
                                                            os.path.join(ROOT, "build-deps", "neon-cli")))
    a = ap.parse_args()
    cli = os.path.join(a.build, "tools", "neonflow", "neonflow")
    emu_exe = os.path.join(a.build, "tools", "emulator", "neonflow-emulator")
    for exe in (cli, emu_exe):
        if not os.access(exe, os.X_OK):
            sys.exit("not built: %s (meson compile -C %s)" % (exe, a.build))
    curl = shutil.which("curl")
    node = shutil.which("node")
    neon_entry = os.path.join(a.neon_cli_dir, "node_modules", "neon", "dist", "cli.js")

    work = tempfile.mkdtemp(prefix="cli-bench.")
    out_path = os.path.join(work, "emu.out")
    with open(out_path, "w") as out, open(os.path.join(work, "emu.err"), "w") as err:
        emu = subprocess.Popen([emu_exe, "--host", "127.0.0.1", "--port", "0", "--api-key", KEY, "--project-id",
                                PROJECT, "--branch", "production", "--no-rate-limit"],
                               stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    try:
        base = None
        for _ in range(100):
            with open(out_path) as f:
                for line in f:
                    if line.startswith("listening on "):
                        base = line.split()[-1]
            if base or emu.poll() is not None:
                break
            time.sleep(0.1)
        if not base:
            sys.exit("emulator did not start")
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEON")}
        env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        for k in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
            env.pop(k, None)
        common = ["--api-key", KEY, "--api-host", base, "--project-id", PROJECT]
        for i in range(a.snapshots):
            subprocess.run([cli] + common + ["snapshots", "create", "--branch", "production", "--name",
                                             "bench-%d" % i], stdout=subprocess.DEVNULL, env=env, check=True,
                           timeout=60)

        clients = [("neonflow", [cli] + common + ["snapshots", "list", "--json"])]
        if curl:
            clients.append(("curl", [curl, "-sS", "--fail", "-H", "Authorization: Bearer " + KEY, "-H",
                                     "Accept: application/json", base + "/projects/" + PROJECT + "/snapshots"]))
        if node and os.path.isfile(neon_entry):
            home = os.path.join(work, "home")
            os.makedirs(home, exist_ok=True)
            env_neon = dict(env, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"), CI="true",
                            NO_UPDATE_NOTIFIER="1", NO_COLOR="1")
            clients.append(("neon (node)", [node, neon_entry, "snapshots", "list", "--api-host", base, "--api-key",
                                            KEY, "--project-id", PROJECT, "--output", "json", "--no-analytics",
                                            "--no-color", "--config-dir", os.path.join(work, "cfg"),
                                            "--context-file", os.path.join(work, "no-such-context")]))
            os.makedirs(os.path.join(work, "cfg"), exist_ok=True)
        else:
            env_neon = env
            print("# Neon CLI not found (node: %s, %s): skipped" % (node or "missing", neon_entry))

        times = {name: [] for name, _ in clients}
        rss = {name: peak_rss_kib(cmd, env_neon if name.startswith("neon ") else env, work) for name, cmd in clients}
        for name, cmd in clients:  # warm-up (page cache, emulator)
            timed(cmd, env_neon if name.startswith("neon ") else env)
        for _ in range(a.runs):
            for name, cmd in clients:
                dt, _, rc = timed(cmd, env_neon if name.startswith("neon ") else env)
                if rc == 0:
                    times[name].append(dt)

        print("snapshots list, %d snapshots, %d runs each (median wall time)" % (a.snapshots, a.runs))
        ref = statistics.median(times["curl"]) if times.get("curl") else None
        results = {}
        for name, _ in clients:
            if not times[name]:
                print("  %-12s failed" % name)
                continue
            med = statistics.median(times[name])
            ratio = med / ref if ref else float("nan")
            results[name] = {"median_ms": round(med * 1000, 2), "ratio_to_curl": round(ratio, 2),
                             "max_rss_kib": rss[name]}
            print("  %-12s %8.2f ms  %5.2fx curl  peak RSS %s" % (
                name, med * 1000, ratio, "%6.1f MiB" % (rss[name] / 1024) if rss[name] else "n/a"))
        nf = results.get("neonflow", {})
        if nf and ref:
            print("neonflow vs curl: %.2fx (target <= 1.5x) %s" % (nf["ratio_to_curl"],
                                                                   "OK" if nf["ratio_to_curl"] <= 1.5 else "MISSED"))
        if nf and nf["max_rss_kib"]:
            mib = nf["max_rss_kib"] / 1024
            print("neonflow peak memory: %.1f MiB (target <= 15 MiB) %s" % (mib, "OK" if mib <= 15 else "MISSED"))
        print("json: " + json.dumps(results))
    finally:
        emu.terminate()
        try:
            emu.wait(5)
        except subprocess.TimeoutExpired:
            emu.kill()
            emu.wait(5)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
