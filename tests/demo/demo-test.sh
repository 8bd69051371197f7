#!/usr/bin/env bash
# scripts/demo as a test: the whole demo (real PostgreSQL, real psql) with the
# binaries of this build. The demo checks every step it narrates and exits
# non-zero when one is not as described; this also requires that all of its
# checks ran and that none of its PostgreSQL servers outlive it.
#
#   demo-test.sh DEMO CLI EMULATOR
#
# TAP. Skips without PostgreSQL 15 or psql, and fails instead under CI=true
# (scripts/install-deps installs them).
set -uo pipefail
demo=$1 cli=$2 emu=$3

skip() { echo "1..0 # SKIP $*"; exit 0; }
need() {
  if [ "${CI:-}" = true ]; then echo "Bail out! $* (CI=true: scripts/install-deps installs it)"; exit 1; fi
  skip "$*"
}
[ -x "${EMU_PG_BINDIR:-/usr/lib/postgresql/15/bin}/postgres" ] || need "PostgreSQL 15 is not installed"
command -v psql >/dev/null 2>&1 || need "psql is not installed"
for tool in python3 pgrep pkill setsid timeout; do
  command -v "$tool" >/dev/null 2>&1 || need "$tool is not installed"
done

echo "1..1"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
# Never the live mode: NEON_API_KEY/NEON_PROJECT_ID of the caller are dropped.
env -u NEON_API_KEY -u NEON_PROJECT_ID -u NEON_API_HOST CI=true \
  NEONFLOW_DEMO_CLI="$cli" NEONFLOW_DEMO_EMULATOR="$emu" \
  timeout 240 "$demo" </dev/null >"$out" 2>&1 || rc=$?
checks=$(grep -c '^ *checked: ' "$out")
why=
[ "$rc" -eq 0 ] || why="scripts/demo exited $rc"
[ -n "$why" ] || [ "$checks" -ge 14 ] || why="only $checks of the demo's 14 checks ran"
[ -n "$why" ] || grep -q 'no postgres of the demo remains' "$out" || why="the demo did not check its servers were gone"
if [ -z "$why" ]; then
  echo "ok 1 - scripts/demo: $checks checks passed, no server left ($(grep -o 'Done in [0-9]* s' "$out"))"
else
  echo "not ok 1 - $why"
  sed 's/^/# /' "$out"
fi
