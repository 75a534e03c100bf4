#!/usr/bin/env bash
# Build test/binaries/piecrash as a PIE with Debian's Go TOOLCHAIN for linux/GOARCH (amd64 runs
# natively, arm64 under qemu-aarch64; both load a PIE at a random base) and run it with
# GOTRACEBACK=system, so that it crashes printing every frame's pc=. Prints the binary's path;
# the crash output is beside it in BINARY.crash.txt, new on every run.
# Usage: scripts/pie-crash.sh GOARCH [TOOLCHAIN]   (default toolchain 1.24)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
arch="${1:?usage: $0 GOARCH [TOOLCHAIN]}"
version="${2:-1.24}"
out="$root/.cache/pie-crash"
mkdir -p "$out"
# Test files run in parallel: one build at a time.
exec 9>"$out/lock"
flock 9
run=()
if [ "$arch" = arm64 ]; then
	# A Go PIE is dynamically linked: its loader comes from Debian's arm64 cross libc.
	sysroot=/usr/aarch64-linux-gnu
	if ! command -v qemu-aarch64 >/dev/null || [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ]; then
		apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user libc6-arm64-cross >&2
	fi
	run=(qemu-aarch64 -L "$sysroot")
elif [ "$arch" != amd64 ] || [ "$(uname -m)" != x86_64 ]; then
	echo "$0: cannot run linux/$arch here" >&2
	exit 1
fi
go="$("$root/scripts/go-toolchain.sh" "$version")"
bin="$out/piecrash-go$version-linux-$arch-pie"
(cd "$root/test/binaries/piecrash" && GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off GOWORK=off \
	GOCACHE="$root/.cache/go-build" GOOS=linux GOARCH="$arch" CGO_ENABLED=0 \
	"$go" build -trimpath -buildvcs=false -buildmode=pie -o "$bin" .)
# The program panics (exit status 2): its output is what we want.
GOTRACEBACK=system "${run[@]}" "$bin" >"$bin.crash.txt" 2>&1 || true
echo "$bin"
