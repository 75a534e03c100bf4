#!/usr/bin/env bash
# Reproduce the arm64 split-SP crash (golang/go#73259) under qemu-user: build
# test/binaries/reproducer for linux/arm64 with Debian's Go TOOLCHAIN (default 1.26, whose leaf
# epilogues are still split), run it single-stepped until it crashes or SECONDS pass, and write
# the binary and its crash output to OUT_DIR (default .cache/reproducer). With BUILDMODE=pie in the
# environment the binary is position-independent (names get a -pie suffix).
# Usage: scripts/reproduce-split-sp.sh [TOOLCHAIN] [SECONDS] [OUT_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${1:-1.26}"
limit="${2:-900}"
out="${3:-$root/.cache/reproducer}"
mkdir -p "$out"
# A PIE binary is dynamically linked: its loader comes from Debian's arm64 cross libc.
sysroot=/usr/aarch64-linux-gnu
if ! command -v qemu-aarch64 >/dev/null || [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ]; then
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user libc6-arm64-cross >&2
fi
go="$("$root/scripts/go-toolchain.sh" "$version")"
mode="${BUILDMODE:-exe}"
suffix=""
[ "$mode" = exe ] || suffix="-$mode"
bin="$out/reproducer-go$version-linux-arm64$suffix"
(cd "$root/test/binaries/reproducer" && GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off GOWORK=off \
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 "$go" build -trimpath -buildvcs=false -buildmode="$mode" -o "$bin" .)
# One guest instruction per translation block, so that signals can land between any two
# instructions (QEMU 8.1 renamed -singlestep to -one-insn-per-tb).
step=-one-insn-per-tb
qemu-aarch64 -h | grep -q -- -one-insn-per-tb || step=-singlestep
status=0
timeout "$limit" qemu-aarch64 -L "$sysroot" "$step" "$bin" >"$bin.crash.txt" 2>&1 || status=$?
echo "exit status $status; output in $bin.crash.txt" >&2
