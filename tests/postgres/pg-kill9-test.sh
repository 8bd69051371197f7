#!/usr/bin/env bash
# neonflow-emulator --postgres leaves nothing behind (TAP):
#   1. SIGTERM: the servers stop and the temporary data directory goes;
#   2. kill -9: the reaper stops the servers and removes the directory too.
# Usage: pg-kill9-test.sh EMULATOR
set -u
emu=$1
if [ ! -x /usr/lib/postgresql/15/bin/postgres ] && [ -z "${EMU_PG_BINDIR:-}" ]; then
  if [ "${CI:-}" = true ]; then echo "Bail out! PostgreSQL 15 missing under CI=true"; exit 1; fi
  echo "1..0 # SKIP PostgreSQL 15 is not installed (scripts/install-deps)"; exit 0
fi
echo "1..6"
tmp=$(mktemp -d); trap 'kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

# Starts the emulator; sets pid, root (its data directory) and pm (the postmaster's pid).
start() {
  "$emu" --postgres --port 0 --no-rate-limit >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  for _ in $(seq 1 600); do grep -q listening "$tmp/out" 2>/dev/null && break; sleep 0.1; done
  root=$(sed -n 's/.*PostgreSQL data in //p' "$tmp/err")
  pm=$(head -1 "$root"/p/*/b/*/postmaster.pid 2>/dev/null)
}
# 0 when neither the postmaster nor the directory remains within 20 s.
gone() {
  for _ in $(seq 1 200); do
    if ! kill -0 "$pm" 2>/dev/null && [ ! -e "$root" ]; then return 0; fi
    sleep 0.1
  done
  return 1
}

start
[ -n "$pm" ] && kill -0 "$pm" 2>/dev/null; ok $? "a postgres serves the seeded endpoint (pid ${pm:-none})"
kill -TERM "$pid"; wait "$pid" 2>/dev/null
gone; ok $? "SIGTERM: postgres stopped and $root removed"

start
[ -n "$pm" ] && kill -0 "$pm" 2>/dev/null; ok $? "a postgres serves the seeded endpoint again (pid ${pm:-none})"
children=$(pgrep -P "$pm" | tr '\n' ' ')
kill -9 "$pid"; wait "$pid" 2>/dev/null
gone; ok $? "kill -9: postgres stopped and $root removed by the reaper"
left=0; for c in $children; do kill -0 "$c" 2>/dev/null && left=1; done
ok $left "kill -9: none of the server's children ($children) remain"
pgrep -f "postgres -D $root" >/dev/null; [ $? -ne 0 ]; ok $? "no postgres process names $root"
