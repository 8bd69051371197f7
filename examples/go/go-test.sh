#!/usr/bin/env bash
# The meson test examples/go-binding: `go test` of the cgo binding against the
# library of this build and a private neonflow-emulator the test starts.
#   go-test.sh SOURCE_ROOT BUILD_ROOT EMULATOR
# No network and no third-party modules; GOPATH and GOCACHE live in the build
# directory. A missing go fails the test (scripts/install-deps installs golang-go).
set -euo pipefail
src=$1 build=$2 emulator=$3
if ! command -v go >/dev/null 2>&1; then
  echo "go is missing: run scripts/install-deps (golang-go)" >&2
  exit 1
fi
export CGO_ENABLED=1 GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GO111MODULE=on
export GOPATH=$build/go GOCACHE=$build/go/cache GOTMPDIR=""
export CGO_CFLAGS="-I$src/include/neonflow -I$build/include/neonflow"
export CGO_LDFLAGS="-L$build/lib -Wl,-rpath,$build/lib"
export NEONFLOW_EMULATOR_BIN=$emulator
unset NEON_API_KEY NEON_API_HOST
cd "$src/examples/go"
go vet ./...
exec go test -count=1 -timeout 100s -v ./...
