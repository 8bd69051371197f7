#!/usr/bin/env bash
# Install test: `meson install` into a temporary prefix, then build the
# consumer in examples/ with pkg-config against that prefix and run it.
# Usage: install-test.sh BUILD_DIR SOURCE_DIR   (prints TAP)
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..4"
if meson install -C "$build" --destdir "$tmp" --no-rebuild >"$tmp/install.log" 2>&1; then
  echo "ok 1 - meson install into a temporary destdir"
else
  echo "not ok 1 - meson install"; sed 's/^/# /' "$tmp/install.log"; exit 1
fi
prefix=$(meson introspect "$build" --buildoptions | python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
root="$tmp$prefix"
pcdir=$(dirname "$(find "$root" -name libneonflow.pc | head -n1)")
if [ -f "$pcdir/libneonflow.pc" ] && [ -f "$root/include/neonflow/neonflow.h" ] && [ -f "$root/include/neonflow/version.h" ]; then
  echo "ok 2 - library, headers and libneonflow.pc installed"
else
  echo "not ok 2 - installed files missing"; find "$tmp" | sed 's/^/# /'; exit 1
fi
export PKG_CONFIG_PATH="$pcdir"
flags=$(pkg-config --define-variable=prefix="$root" --cflags --libs libneonflow)
libdir=$(pkg-config --define-variable=prefix="$root" --variable=libdir libneonflow)
if ${CC:-cc} -std=c99 -Wall -Werror -o "$tmp/consumer" "$src/examples/consumer.c" $flags 2>"$tmp/cc.log"; then
  echo "ok 3 - consumer compiles with pkg-config --cflags --libs libneonflow"
else
  echo "not ok 3 - consumer compile"; sed 's/^/# /' "$tmp/cc.log"; exit 1
fi
if out=$(LD_LIBRARY_PATH="$libdir" "$tmp/consumer"); then
  echo "ok 4 - consumer runs: $out"
else
  echo "not ok 4 - consumer run: $out"; exit 1
fi
