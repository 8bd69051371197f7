#!/usr/bin/env python3
"""The promotion life cycle from Python, through the ctypes binding.

    NEON_API_KEY=... NEON_PROJECT_ID=... [NEON_API_HOST=...] python3 promote.py

Sets up dev if it is missing, promotes dev onto production (printing each
step as it ends and checking the preview branch in a verify hook), prints what
the promotion lost, then rolls production back to the snapshot taken just
before the switch. Against real Neon this changes production: point it at the
emulator (NEON_API_HOST) or a throw-away project.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import neonflow  # noqa: E402  pylint: disable=wrong-import-position


def on_event(ev):
    """Called on this thread for every event; it cannot stop the run."""
    if ev.kind == "run_started":
        print("  run %s (%s)" % (ev.run_id, ev.workflow))
    elif ev.kind == "step_end":
        print("  %-20s %-8s %5d ms" % (ev.step, ev.step_status, ev.duration_ms))
    elif ev.kind == "warning":
        print("  warning: " + ev.message)


def verify(branch):
    """The restored candidate, before it takes over: True accepts it."""
    print("  verify: candidate restored as %s (%s)" % (branch.name, branch.id))
    return True


def main():
    project = os.environ.get("NEON_PROJECT_ID")
    if not project:
        print("set NEON_PROJECT_ID (and NEON_API_KEY, optionally NEON_API_HOST)", file=sys.stderr)
        return 2
    print("libneonflow %s" % neonflow.version())
    try:
        with neonflow.Client() as client:
            print("setup (a no-op when dev exists):")
            with client.setup(project, on_event=on_event) as rep:
                print("  " + rep.message)

            print("promote dev -> production:")
            with client.promote(project, on_event=on_event, verify=verify) as rep:
                print("production: branch %s, endpoint %s (%s) unchanged"
                      % (rep.target_branch_id, rep.target_endpoint_id, rep.target_endpoint_host))
                print("old production kept as %r" % rep.backup_branch_name)
                print("lost-write window: writes to production from %s to %s are not in it"
                      % (rep.lost_writes_start, rep.lost_writes_end))
                doc = rep.to_dict()
                print("report: %d steps, %d API calls, JSON keys: %s"
                      % (len(rep.steps), rep.api_calls, ", ".join(sorted(doc)[:6])))
                rollback_point = rep.rollback_snapshot_id

            print("rollback production to %s:" % rollback_point)
            with client.rollback(project, snapshot_id=rollback_point, on_event=on_event) as rep:
                print("production is branch %s again" % rep.target_branch_id)
    except neonflow.NeonflowError as e:
        print("failed: %s" % e, file=sys.stderr)
        if e.report is not None:
            print(e.report.message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
