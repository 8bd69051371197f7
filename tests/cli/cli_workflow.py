"""neonflow CLI tests: The workflow and resources groups. Run through test_cli.py."""
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
