"""Invariant checks of scripts/soak: the project state read from the emulator's
control route, the runs' JSON reports, and the ledger of what the harness did
(data tokens written, targets' branch ids over time). Standard library only.

A name neonflow gives is nf/<target>/<kind>/<YYYYMMDDTHHMMSSZ>/<run-id>; the
lease branch nf/<target>/lease is not a resource of a run and is ignored
except by the final check (no lease may outlive every run).

Violation kinds:
  target-count, target-not-default, endpoint-changed   the targets' structure
  duplicate-name, backup-not-named                      names
  backup-wrong-data          a backup is not the state its run saved as the rollback point
  backup-name-on-wrong-branch, report-backup-mismatch, backup-vanished
                             a backup name and the run's report disagree
  two-runs-one-switch        two runs report the same switch (one switch per lease broken)
  report-false-switch, report-no-switch, new-target-wrong-data
                             a run reports a switch (or a dev) it did not make
  unreported-switch          a backup exists but its run ended without reporting the switch
  refused-run-created        a run refused (lease held, run id mismatch) created something
  run-id-reuse-accepted, run-id-reuse-changed-state      a run id reused by another workflow
  reported-delete-not-done, vanished-unreported           deletions
  lease-left, preview-left, unresolved-run, usage-error   the end state"""
import re

NAME_RE = re.compile(r"^nf/(.+)/([a-z-]+)/(\d{8}T\d{6}Z)/([a-z0-9-]{1,32})$")
SWITCHING = ("promote", "refresh", "rollback")
# kind of the snapshot a workflow takes of the target just before it switches
ROLLBACK_KIND = {"promote": "rollback", "rollback": "pre-rollback"}


def parse_name(name):
    m = NAME_RE.match(name or "")
    return None if not m else {"target": m.group(1), "kind": m.group(2), "stamp": m.group(3), "run": m.group(4)}


def is_backup_kind(kind):
    """0.1.0 named every backup "backup"; later ones say which workflow made them ("promote-backup", ...)."""
    return kind == "backup" or kind.endswith("-backup")


def is_preview_kind(kind):
    return kind == "preview" or kind.endswith("-preview")


def setup_created(rep):
    """Whether a setup report says this run restored dev (rather than found it)."""
    return any(st.get("name") == "restore-dev" and st.get("status") in ("done", "resumed")
               for st in rep.get("steps", []))


def is_lease(name):
    return bool(name) and name.startswith("nf/") and (name.endswith("/lease") or "/lease/" in name)


class State:
    """One project's state from GET /__emulator/state."""

    def __init__(self, dump, project):
        p = next(x for x in dump["projects"] if x["id"] == project)
        self.branches = {b["id"]: b for b in p.get("branches", [])}
        self.snapshots = {s["id"]: s for s in p.get("snapshots", [])}
        self.endpoints = list(p.get("endpoints", []))

    def named(self, name):
        return [b for b in self.branches.values() if b.get("name") == name]

    def rw_endpoints(self, branch_id):
        return [e for e in self.endpoints if e.get("branch_id") == branch_id and e.get("type") == "read_write"]

    def leases(self):
        return [b for b in self.branches.values() if is_lease(b.get("name"))]

    def run_resources(self, run_id):
        """(kind, id) of every branch and snapshot whose neonflow name carries run_id."""
        out = set()
        for kind, coll in (("branch", self.branches), ("snapshot", self.snapshots)):
            for x in coll.values():
                p = parse_name(x.get("name"))
                if p and p["run"] == run_id:
                    out.add((kind, x["id"]))
        return out

    def signature(self):
        """What 'changed nothing' compares (lease branches excluded)."""
        br = sorted((b["id"], b.get("name"), b.get("content"), bool(b.get("default")))
                    for b in self.branches.values() if not is_lease(b.get("name")))
        sn = sorted((s["id"], s.get("name")) for s in self.snapshots.values())
        ep = sorted((e["id"], e.get("branch_id")) for e in self.endpoints)
        return br, sn, ep

    def changes(self, after):
        """What differs in after's signature: '+' for what appeared, '-' for what went, for the report."""
        out = []
        for kind, a, b in zip(("branch", "snapshot", "endpoint"), self.signature(), after.signature()):
            out += ["-%s %s" % (kind, x) for x in sorted(set(a) - set(b))]
            out += ["+%s %s" % (kind, x) for x in sorted(set(b) - set(a))]
        return out


class Ledger:
    """What the harness knows happened, and the invariants checked against it."""

    def __init__(self, targets, fixture_runs=()):
        self.targets = list(targets)
        self.era = {t: set() for t in targets}  # branch ids that have been <target>
        self.writes_to = {}                     # branch id -> tokens the harness wrote to it
        self.snap_by_id = {}                    # snapshot id -> content (snapshots are immutable)
        self.snap_by_name = {}                  # snapshot name -> content
        self.snap_src = {}                      # snapshot id or name -> the branch it was taken of
        self.claims_old, self.claims_new = {}, {}  # switch ends -> run id that reported them
        self.deleted = set()                    # ids some run reported deleting
        self.harness_deleted = set()
        self.fixture_runs = set(fixture_runs)   # run ids of resources the harness made itself
        self.tainted = set()                    # run ids reused by another workflow
        self.violations = []
        self._seen = set()
        self.missing_ok = set()                 # targets allowed to be absent (deleted by the harness)
        self.endpoint0 = None                   # (target, id, host) that must never change
        self.era_checks = []

    def violation(self, kind, detail, key=None):
        k = (kind, key if key is not None else detail)
        if k in self._seen:
            return
        self._seen.add(k)
        self.violations.append((kind, detail))

    def wrote(self, branch_id, token):
        self.writes_to.setdefault(branch_id, set()).add(token)

    def observe(self, st):
        for s in st.snapshots.values():
            self.snap_by_id[s["id"]] = s.get("content")
            self.snap_by_name[s.get("name")] = s.get("content")
            self.snap_src[s["id"]] = self.snap_src[s.get("name")] = s.get("source_branch_id")
        for t in self.targets:
            for b in st.named(t):
                self.era[t].add(b["id"])

    # -- structure ------------------------------------------------------------
    def check_structure(self, st, where):
        for t in self.targets:
            n = len(st.named(t))
            if n > 1 or (n == 0 and t not in self.missing_ok):
                self.violation("target-count", "%s: %d branches named %r" % (where, n, t), (t, where))
        ep_target, ep_id, ep_host = self.endpoint0
        prod = st.named(ep_target)
        if prod:
            b = prod[0]
            if not b.get("default"):
                self.violation("target-not-default", "%s: %r (%s) is not the default branch" % (
                    where, ep_target, b["id"]))
            eps = st.rw_endpoints(b["id"])
            if len(eps) != 1 or eps[0]["id"] != ep_id or eps[0].get("host") != ep_host:
                self.violation("endpoint-changed", "%s: %r has read-write endpoints %s, expected %s (%s)" % (
                    where, ep_target, [(e["id"], e.get("host")) for e in eps], ep_id, ep_host))
        names = {}
        for b in st.branches.values():
            names.setdefault(("branch", b.get("name")), []).append(b["id"])
            if "(old" in (b.get("name") or ""):
                self.violation("backup-not-named", "%s: branch %s is named %r, not nf/<target>/backup/..." % (
                    where, b["id"], b.get("name")), b["id"])
        for s in st.snapshots.values():
            if (s.get("name") or "").startswith("nf/"):
                names.setdefault(("snapshot", s.get("name")), []).append(s["id"])
        for (kind, name), ids in names.items():
            if len(ids) > 1:
                self.violation("duplicate-name", "%s: %d %ss named %r: %s" % (where, len(ids), kind, name, ids),
                               (kind, name))

    # -- one run's outcome ------------------------------------------------------
    def check_created_nothing(self, run_id, before, after, where, why):
        """An attempt refused for `why` (the lease held: exit 6; its run id owned by another workflow:
        NEONFLOW_ERUN_MISMATCH) created nothing."""
        new = after.run_resources(run_id) - before.run_resources(run_id)
        if new:
            named = ["%s %s %r" % (k, i, (after.branches if k == "branch" else after.snapshots)[i].get("name"))
                     for k, i in sorted(new)]
            self.violation("refused-run-created", "%s: run %s was refused (%s) but created %s" % (
                where, run_id, why, ", ".join(named)))

    def _snap(self, run_id, target, kind, report_snap_id):
        """(known, content, source branch) of the run's snapshot of that kind."""
        for name, content in self.snap_by_name.items():
            p = parse_name(name)
            if p and p["run"] == run_id and p["target"] == target and p["kind"] == kind:
                return True, content, self.snap_src.get(name)
        if report_snap_id and report_snap_id in self.snap_by_id:
            return True, self.snap_by_id[report_snap_id], self.snap_src.get(report_snap_id)
        return False, None, None

    def check_backup_data(self, run, st, where):
        """The branch named as the run's backup holds what the target held just before the switch: it is the
        branch the run's rollback point was taken of, with that data (or data the harness wrote to it since)."""
        kind = ROLLBACK_KIND.get(run.workflow)
        if not kind:
            return
        known, want, src = self._snap(run.id, run.target, kind, run.report.get("rollback_snapshot_id"))
        for b in st.branches.values():
            p = parse_name(b.get("name"))
            if not known or not p or p["run"] != run.id or p["target"] != run.target or not is_backup_kind(p["kind"]):
                continue
            got = b.get("content")
            if src and src != b["id"]:
                self.violation("backup-wrong-data", "%s: backup %r of %s %s is %s (holding %r), but the run's "
                               "rollback point was taken of %s (holding %r): the switch replaced another state than "
                               "the one it saved" % (where, b["name"], run.workflow, run.id, b["id"], got, src, want))
            elif got != want and got not in self.writes_to.get(b["id"], ()):
                self.violation("backup-wrong-data", "%s: backup %r (%s) of %s %s holds %r; %r held %r just before "
                               "that switch" % (where, b["name"], b["id"], run.workflow, run.id, got, run.target, want))

    def _gone_ok(self, bid):
        return bid in self.deleted or bid in self.harness_deleted

    def claim_switch(self, run):
        """Record the ends of a switch a run reported; returns False if another run claimed them."""
        rep, rid = run.report, run.id
        ok = True
        if run.workflow == "setup" and not setup_created(rep):
            return ok  # found dev, made nothing
        for ends, key in ((self.claims_old, rep.get("old_target_branch_id")),
                          (self.claims_new, rep.get("target_branch_id"))):
            if not key:
                continue
            other = ends.setdefault(key, rid)
            if other != rid:
                self.violation("two-runs-one-switch", "runs %s and %s both report switching %s %r" % (
                    other, rid, "from" if ends is self.claims_old else "to", key), (key, rid))
                ok = False
        if rep.get("target_branch_id") and run.target in self.era:
            self.era[run.target].add(rep["target_branch_id"])
        return ok

    def record_deletes(self, run, st, where):
        """What a successful run reports deleting is gone (call before check_report)."""
        for step in run.report.get("steps", []):
            for x in step.get("resources", []):
                if x.get("action") == "delete" and x.get("id") and step.get("status") in ("done", "resumed"):
                    self.deleted.add(x["id"])
                    if x["id"] in st.branches or x["id"] in st.snapshots:
                        self.violation("reported-delete-not-done", "%s: run %s reports deleting %s (%s), which "
                                       "exists" % (where, run.id, x["id"], x.get("name")))

    def check_report(self, run, st, where):
        """A run that exited 0: what its report says happened must match the project."""
        rep, rid, t = run.report, run.id, run.target
        if rid in self.tainted:
            return
        if run.workflow == "setup":
            new, cand = rep.get("target_branch_id"), rep.get("candidate_snapshot_id")
            made = st.branches.get(new, {}).get("restored_from") if new else None
            if setup_created(rep) and cand and made not in (cand, None):
                self.violation("report-false-switch", "%s: setup %s reports %s made from snapshot %s, but it was "
                               "restored from %s" % (where, rid, new, cand, made))
            return
        if run.workflow not in SWITCHING:
            return
        old, new = rep.get("old_target_branch_id"), rep.get("target_branch_id")
        bk, bkname, cand = rep.get("backup_branch_id"), rep.get("backup_branch_name"), rep.get("candidate_snapshot_id")
        if not old or not new or old == new:
            self.violation("report-no-switch", "%s: %s %s exited 0 without a switch in its report (%s -> %s)" % (
                where, run.workflow, rid, old, new))
            return
        # checked at the end: the run that made `old` the target may report only later (killed, resumed)
        self.era_checks.append((where, run, old))
        self.check_backup_data(run, st, where)
        bkparts = parse_name(bkname)
        if (bk != old or not bkparts or bkparts["run"] != rid or bkparts["target"] != t
                or not is_backup_kind(bkparts["kind"])):
            self.violation("report-backup-mismatch", "%s: %s %s reports backup %s %r for old target %s" % (
                where, run.workflow, rid, bk, bkname, old))
        if bk in st.branches:
            actual = st.branches[bk].get("name")
            if actual != bkname:
                self.violation("backup-name-on-wrong-branch", "%s: %s %s reports backup %r = %s, but %s is named %r" % (
                    where, run.workflow, rid, bkname, bk, bk, actual))
        elif bk and not self._gone_ok(bk):
            self.violation("backup-vanished", "%s: backup %s (%s) of %s %s is gone and no run reported deleting it" % (
                where, bkname, bk, run.workflow, rid))
        if new in st.branches:
            b = st.branches[new]
            if cand and b.get("restored_from") != cand:
                self.violation("report-false-switch", "%s: %s %s reports switching %r to %s from snapshot %s, but "
                               "%s was restored from %s (another run's switch)" % (
                                   where, run.workflow, rid, t, new, cand, new, b.get("restored_from")))
            elif cand in self.snap_by_id and not self.writes_to.get(new) and b.get("content") != self.snap_by_id[cand]:
                self.violation("new-target-wrong-data", "%s: %s %s: new %r %s holds %r, its snapshot %s held %r" % (
                    where, run.workflow, rid, t, new, b.get("content"), cand, self.snap_by_id[cand]))
            name = b.get("name")
            p = parse_name(name)
            if name != t and not (p and is_backup_kind(p["kind"]) and p["target"] == t):
                self.violation("report-false-switch", "%s: %s %s reports %s as the new %r, but it is named %r" % (
                    where, run.workflow, rid, new, t, name))
        elif not self._gone_ok(new):
            self.violation("report-false-switch", "%s: %s %s reports the new %r %s, which does not exist" % (
                where, run.workflow, rid, t, new))

    # -- backups whose run is known ----------------------------------------------
    def check_backups(self, st, runs, where):
        """Every backup branch belongs to a finished run that reported exactly that switch."""
        for b in st.branches.values():
            p = parse_name(b.get("name"))
            if not p or not is_backup_kind(p["kind"]) or p["run"] in self.fixture_runs or p["run"] in self.tainted:
                continue
            run = runs.get(p["run"])
            if run is None:
                self.violation("backup-of-unknown-run", "%s: backup %r (%s) names no run of this soak" % (
                    where, b["name"], b["id"]))
            elif run.pending:
                continue
            elif run.final_rc != 0 or not run.report:
                last = run.attempts[-1].last_error_line() if run.attempts else ""
                self.violation("unreported-switch", "%s: backup %r (%s) exists but run %s (%s) ended with exit %s "
                               "(attempts: %s): %s" % (where, b["name"], b["id"], run.id, run.workflow,
                                                       run.final_rc, run.history(), last), b["id"])
            elif run.report.get("backup_branch_id") != b["id"]:
                self.violation("backup-name-on-wrong-branch", "%s: backup %r is %s, run %s reported %s" % (
                    where, b["name"], b["id"], run.id, run.report.get("backup_branch_id")), b["id"])

    def check_vanished(self, before, after, where):
        for coll_b, coll_a, kind in ((before.branches, after.branches, "branch"),
                                     (before.snapshots, after.snapshots, "snapshot")):
            for i, x in coll_b.items():
                if i not in coll_a and not self._gone_ok(i) and not is_lease(x.get("name")):
                    self.violation("vanished-unreported", "%s: %s %s (%r) disappeared; no run reported deleting it" % (
                        where, kind, i, x.get("name")), i)

    def check_final(self, st, runs):
        for where, run, old in self.era_checks:
            if old not in self.era.get(run.target, ()):
                self.violation("report-false-switch", "%s: %s %s reports replacing %s, which was never %r" % (
                    where, run.workflow, run.id, old, run.target))
        for b in st.leases():
            self.violation("lease-left", "final: lease %r (%s) remains after every run ended" % (b["name"], b["id"]))
        for b in st.branches.values():
            p = parse_name(b.get("name"))
            run = runs.get(p["run"]) if p else None
            if p and is_preview_kind(p["kind"]) and run and run.final_rc == 0 and run.id not in self.tainted:
                self.violation("preview-left", "final: preview %r (%s) of run %s, which succeeded" % (
                    b["name"], b["id"], run.id))
        for r in runs.values():
            if r.pending:
                self.violation("unresolved-run", "final: run %s (%s) still not finished after %d attempts" % (
                    r.id, r.workflow, len(r.attempts)))
