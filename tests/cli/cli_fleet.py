"""neonflow CLI tests: The fleet group. Run through test_cli.py."""
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
