#!/usr/bin/env bash
# Prepare the tools gocrash's differential tests compare against, and print their paths:
#   GO=...       `go` of Debian's golang-1.26 (for `go tool objdump`, `go version -m`)
#   OBJDUMP=...  GNU aarch64-linux-gnu-objdump (binutils-aarch64-linux-gnu, installed with apt)
#   DLV=...      Debian's Delve (`delve`, installed with apt: 1.20.2 in bookworm, which reads cores
#                of Go up to 1.20 and refuses newer ones unless given --check-go-version=false)
#   ORACLE=...   test/binaries/oracle built for this machine (debug/gosym function list)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# Test files run in parallel and may all ask for the tools at once: one fetch at a time.
mkdir -p "$root/.cache"
exec 9>"$root/.cache/tools.lock"
flock 9
go="$("$root/scripts/go-toolchain.sh" 1.26)"
missing=()
command -v aarch64-linux-gnu-objdump >/dev/null || missing+=(binutils-aarch64-linux-gnu)
command -v dlv >/dev/null || missing+=(delve)
if [ "${#missing[@]}" -gt 0 ]; then
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
oracle="$root/.cache/binaries/oracle"
mkdir -p "$(dirname "$oracle")"
(cd "$root/test/binaries/oracle" &&
	GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off GOWORK=off CGO_ENABLED=0 "$go" build -o "$oracle" .)
echo "GO=$go"
echo "OBJDUMP=$(command -v aarch64-linux-gnu-objdump)"
echo "DLV=$(command -v dlv)"
echo "ORACLE=$oracle"
