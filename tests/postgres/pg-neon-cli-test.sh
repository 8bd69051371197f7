#!/usr/bin/env bash
# Neon's CLI `connection-string` against neonflow-emulator --postgres: the URI
# it prints (sslmode=require&channel_binding=require, as on Neon) is one psql
# connects to and writes through; --pooled and --ssl omit work too; a restore
# with --finalize keeps the connection string and shows the snapshot's data.
#
#   pg-neon-cli-test.sh EMULATOR_EXE [CLI_DIR]
#
# TAP. Skips without node, psql, the CLI or PostgreSQL (fails under CI=true
# when PostgreSQL or psql are missing). Every wait is bounded.
set -uo pipefail

emu_exe=${1:-}
here=$(cd "$(dirname "$0")" && pwd)
cli_dir=${NEON_CLI_DIR:-${2:-$here/../../build-deps/neon-cli}}
cli_entry="$cli_dir/node_modules/neon/dist/cli.js"

skip() { echo "1..0 # SKIP $*"; exit 0; }
need_pg() {
  if [ "${CI:-}" = true ]; then echo "Bail out! $* (CI=true: scripts/install-deps installs it)"; exit 1; fi
  skip "$*"
}
[ -x "${EMU_PG_BINDIR:-/usr/lib/postgresql/15/bin}/postgres" ] || need_pg "PostgreSQL 15 is not installed"
command -v psql >/dev/null 2>&1 || need_pg "psql is not installed"
command -v node >/dev/null 2>&1 || skip "node not found"
command -v python3 >/dev/null 2>&1 || skip "python3 not found"
[ -f "$cli_entry" ] || skip "Neon CLI not installed at $cli_dir (run scripts/install-neon-cli)"
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || skip "node < 20 (the Neon CLI needs 20.19+)"

work=$(mktemp -d "${TMPDIR:-/tmp}/pg-neon-cli.XXXXXX")
emu_pid=""
cleanup() {
  if [ -n "$emu_pid" ]; then
    kill "$emu_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$emu_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$emu_pid" 2>/dev/null || true
    wait "$emu_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

key="pg-cli-key-$$"
project="proj-pg-cli"
"$emu_exe" --postgres --port 0 --api-key "$key" --project-id "$project" --branch main --no-rate-limit \
  >"$work/emu.out" 2>"$work/emu.err" </dev/null &
emu_pid=$!
base=""
for _ in $(seq 1 600); do  # <= 60 s: initdb runs first
  base=$(sed -n 's#^listening on \(http://127\.0\.0\.1:[0-9]*/api/v2\)\s*$#\1#p' "$work/emu.out" | head -n1)
  [ -n "$base" ] && break
  kill -0 "$emu_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$base" ]; then
  echo "Bail out! emulator --postgres did not start"; sed 's/^/# /' "$work/emu.err"; exit 1
fi

cli() { # NAME ARGS... -> $work/NAME.out
  local name=$1; shift
  env -u NEON_API_KEY -u NEON_PROFILE -u NEON_API_HOST -u HTTP_PROXY -u HTTPS_PROXY -u ALL_PROXY \
    -u http_proxy -u https_proxy -u all_proxy \
    HOME="$work/home" CI=true NO_UPDATE_NOTIFIER=1 NO_PROXY=127.0.0.1 no_proxy=127.0.0.1 NO_COLOR=1 \
    timeout -k 5 90 node "$cli_entry" "$@" --api-host "$base" --api-key "$key" --project-id "$project" \
    --no-analytics --no-color --config-dir "$work/cfg" --context-file "$work/none" \
    >"$work/$name.out" 2>"$work/$name.err" </dev/null
}
q() { PGCONNECT_TIMEOUT=10 timeout 30 psql "$1" -X -q -A -t -v ON_ERROR_STOP=1 -c "$2" 2>"$work/psql.err"; }
mkdir -p "$work/home" "$work/cfg"
echo "1..8"
n=0
ok() { n=$((n+1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; sed 's/^/# /' "$work"/*.err | tail -20; fi; }

rc=0; cli cs connection-string main || rc=$?
uri=$(cat "$work/cs.out")
echo "# connection-string: ${uri//:npg_*@/:***@}"
[ $rc = 0 ] && [[ $uri == postgresql://neondb_owner:*@127.0.0.1:*/neondb\?sslmode=require* ]]; ok $? "connection-string prints a loopback URI with sslmode=require"
rc=0; out=$(q "$uri" "CREATE TABLE customers(id int, name text); INSERT INTO customers VALUES (1, 'ada'); SELECT name FROM customers") || rc=$?
[ $rc = 0 ] && [ "$out" = ada ]; ok $? "psql connects to it and writes (TLS, SCRAM with channel binding)"
rc=0; out=$(q "$uri" "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") || rc=$?
[ "$out" = t ]; ok $? "the session is encrypted"
rc=0; cli pooled connection-string main --pooled || rc=$?
[ $rc = 0 ] && [ "$(q "$(cat "$work/pooled.out")" "SELECT count(*) FROM customers")" = 1 ]; ok $? "--pooled works"
rc=0; cli omit connection-string main --ssl omit || rc=$?
[ $rc = 0 ] && [ "$(q "$(cat "$work/omit.out")" "SELECT count(*) FROM customers")" = 1 ]; ok $? "--ssl omit works"

# snapshot, a change, restore --finalize: same string, the snapshot's data
cli snap snapshots create --name before --output json
q "$uri" "INSERT INTO customers VALUES (2, 'late')" >/dev/null
sid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/snap.out")
rc=0; cli restore snapshots restore "$sid" --target-branch main --finalize --output json || rc=$?
[ $rc = 0 ]; ok $? "snapshots restore --target-branch main --finalize"
rc=0; cli cs2 connection-string main || rc=$?
[ "$(cat "$work/cs2.out")" = "$uri" ]; ok $? "the connection string is unchanged after the finalize"
[ "$(q "$uri" "SELECT string_agg(name, ',' ORDER BY id) FROM customers")" = ada ]; ok $? "it shows the snapshot's data (the late write is on main (old))"
