#!/usr/bin/env bash
# Make a core file of the arm64 split-SP crash (golang/go#73259): build scripts/split-sp-reproducer
# (the leaf variant) for linux/arm64 with Debian's Go TOOLCHAIN (default 1.26) and run it under
# qemu-aarch64, one instruction per translation block, with GOTRACEBACK=crash until it crashes
# (at most TRIES runs of SECONDS each). The runtime prints every goroutine and aborts; QEMU writes
# the emulated process's core. Prints the binary's path; beside it:
#   BINARY.crash.txt    what the program printed
#   BINARY.crash.core   QEMU's core of the same moment (zero pages punched out: sparse)
# Usage: scripts/split-sp-core.sh [TOOLCHAIN] [SECONDS] [TRIES]   (default 1.26 60 5)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${1:-1.26}"
limit="${2:-60}"
tries="${3:-5}"
out="$root/.cache/split-sp-core"
mkdir -p "$out"
exec 9>"$out/lock"
flock 9
if ! command -v qemu-aarch64 >/dev/null; then
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user >&2
fi
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off GOWORK=off GOCACHE="$root/.cache/go-build"
go="$("$root/scripts/go-toolchain.sh" "$version")"
bin="$out/splitsp-go$version-linux-arm64-leaf"
(cd "$root/scripts/split-sp-reproducer" && GOOS=linux GOARCH=arm64 CGO_ENABLED=0 \
	"$go" build -trimpath -buildvcs=false -o "$bin" .)
# QEMU 8.1 renamed -singlestep (Debian bookworm ships 7.2) to -one-insn-per-tb.
step=-one-insn-per-tb
qemu-aarch64 -h | grep -q -- -one-insn-per-tb || step=-singlestep
run="$out/run-$version"
ulimit -c unlimited
for _ in $(seq "$tries"); do
	rm -rf "$run" "$bin.crash.core"
	mkdir -p "$run"
	(cd "$run" && GOTRACEBACK=crash SPLITSP_WORKERS=8 exec timeout "$limit" qemu-aarch64 "$step" "$bin" \
		>"$bin.crash.txt" 2>&1) || true
	# The `core` beside QEMU's is qemu's own x86-64 core: only the emulated one is kept.
	if compgen -G "$run/qemu_*.core" >/dev/null; then
		mv "$run"/qemu_*.core "$bin.crash.core"
		fallocate --dig-holes "$bin.crash.core"
		break
	fi
done
rm -rf "$run"
[ -e "$bin.crash.core" ] || { echo "$0: no crash in $tries runs of ${limit}s" >&2; exit 1; }
echo "$bin"
