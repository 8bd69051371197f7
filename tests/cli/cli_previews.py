"""neonflow CLI tests: The previews and connection groups. Run through test_cli.py."""
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
