#!/usr/bin/env python3
"""Checks of the ctypes binding against the emulator (run by run-example.py).

Each check prints one line; the exit status is the number of failures.
"""
import gc
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import neonflow  # noqa: E402  pylint: disable=wrong-import-position

failures = 0


def check(ok, what):
    global failures  # pylint: disable=global-statement
    failures += 0 if ok else 1
    print("%s: %s" % ("PASS" if ok else "FAIL", what))


def expect_error(fn, code_name):
    try:
        fn()
    except neonflow.NeonflowError as e:
        return e if e.name == code_name else (print("  got %s" % e) or None)
    print("  no error raised")
    return None


project = os.environ["NEON_PROJECT_ID"]

check(neonflow.version().count(".") == 2, "version() is x.y.z")
check(neonflow.error_name(-2) == "NEONFLOW_EINVAL", "error_name(-2)")
check(neonflow.strerror(-2) != "", "strerror(-2)")

e = expect_error(lambda: neonflow.Client(base_url="http://example.com/api/v2"), "NEONFLOW_EINSECURE")
check(e is not None and e.code == -7, "plain http to a non-loopback host is refused")

e = expect_error(lambda: neonflow.Client(use_environment=False), "NEONFLOW_ECONFIG")
check(e is not None and "NEON_API_KEY" in os.environ, "use_environment=False: no key despite NEON_API_KEY")
with neonflow.Client(api_key=os.environ["NEON_API_KEY"], use_environment=False) as c:
    check(c.base_url != os.environ["NEON_API_HOST"], "use_environment=False: NEON_API_HOST not read")

check(neonflow.enum_name("step_status", 1) == "done" and neonflow.enum_name("event_kind", 999) == "unknown",
      "enumeration names come from the library")
check(neonflow.enum_name("operation_status", 2) == "running", "Neon's names too")

with neonflow.Client() as client:
    check(client.base_url == os.environ["NEON_API_HOST"], "base URL from NEON_API_HOST")

    e = expect_error(lambda: client.promote(project, source="no-such-branch"), "NEONFLOW_EBRANCH_MISSING")
    check(e is not None and e.report is not None and e.report.result == e.code,
          "a missing source raises EBRANCH_MISSING with the report attached")

    with client.setup(project) as rep:
        check(rep.workflow == "setup" and rep.run_id, "setup returns a report with a run id")

    events = []
    with client.promote(project, dry_run=True, on_event=events.append) as rep:
        check(rep.dry_run and all(s.status in ("planned", "done", "resumed", "skipped") for s in rep.steps),
              "dry run: a plan, no mutation")
        check(any(ev.kind == "run_started" for ev in events), "events reach the Python hook")

    seen = []
    e = expect_error(lambda: client.promote(project, verify=lambda b: (seen.append(b), False)[1]),
                     "NEONFLOW_ECALLBACK")
    check(e is not None and any(s.status == "vetoed" for s in e.report.steps),
          "verify returning False vetoes (ECALLBACK, vetoed step in the report)")
    check(len(seen) == 1 and seen[0].raw.get("id") == seen[0].id and "created_at" in seen[0].raw,
          "the hook's branch carries Neon's whole object (raw JSON)")
    check(seen[0].hook == "verify" and seen[0].run_id == e.report.run_id and seen[0].target == "production"
          and seen[0].host is None and seen[0].endpoints == [],
          "the verify hook's context: hook, run id, target; the restored preview has no endpoint")

    def broken(_branch):
        raise RuntimeError("smoke test crashed")
    e = expect_error(lambda: client.promote(project, verify=broken), "NEONFLOW_ECALLBACK")
    check(e is not None and isinstance(e.__cause__, RuntimeError), "an exception in a hook vetoes and is the cause")

    token = neonflow.CancelToken()
    token.trigger()
    e = expect_error(lambda: client.promote(project, cancel=token), "NEONFLOW_ECANCELLED")
    check(e is not None and token.triggered, "a triggered cancel token stops the run")
    token.close()

    with client.promote(project, run_id="py-binding-1") as rep:
        check(rep.run_id == "py-binding-1" and rep.lost_writes_end_ms >= rep.lost_writes_start_ms > 0,
              "promote with a given run id reports the lost-write window")
        doc = rep.to_dict()
        check(doc.get("run_id") == "py-binding-1", "to_dict() parses the report's JSON")
        check(doc.get("schema_version") == 1 and "\n" not in rep.to_json(compact=True)
              and rep.to_json().startswith('{\n  "schema_version": 1,'),
              "the JSON carries schema_version; compact is one line")
        kept = rep
    check(repr(kept) == "Report(closed)", "the report is freed when the with block ends")

    uri = client.connection_uri(project)
    check(uri.startswith("postgresql://neondb_owner:") and "/neondb" in uri, "connection_uri() of the default branch")
    check("-pooler" in client.connection_uri(project, pooled=True), "connection_uri(pooled=True)")
    e = expect_error(lambda: client.connection_uri(project, database="nope"), "NEONFLOW_ENOTFOUND")
    check(e is not None and "postgresql://" not in str(e), "connection_uri of a missing database raises ENOTFOUND")
    seen = []
    with client.promote(project, verify_compute=True,
                        verify=lambda b: seen.append((b.host, b.connection_uri())),
                        after_switch=lambda b: seen.append((b.host, b.connection_uri()))) as rep:
        check(len(seen) == 2 and all(h and u and u.startswith("postgresql://") and h in u for h, u in seen),
              "promote(verify_compute=True): the hooks get a host and a connection URI")
    with client.refresh(project, verify=lambda b: seen.append(b)) as rep:
        check(rep.workflow == "refresh" and len(seen) == 3 and seen[2].host is None, "refresh(verify=...)")
    try:
        seen[2].connection_uri()
        check(False, "connection_uri() after the hook raises")
    except RuntimeError:
        check(True, "connection_uri() after the hook raises")

    with client.backups(project) as rep:
        res = [r for s in rep.steps for r in s.resources]
        check(any(r.role == "backup" for r in res), "backups lists the backup branch")
    with client.backups(project, target="production", branches=False) as rep:
        res = [r for s in rep.steps for r in s.resources]
        check(res and all(r.target == "production" and r.kind == "snapshot" for r in res),
              "backups filters: one target's snapshots only")
    with client.prune(project, keep=0, dry_run=True) as rep:
        check(rep.workflow == "prune" and rep.dry_run, "prune dry run")

# Objects left to the garbage collector are freed by __del__ without crashing.
c = neonflow.Client()
r = c.backups(project)
del c, r
gc.collect()
check(True, "__del__ frees clients and reports")
print("%d failure(s)" % failures)
sys.exit(failures)
