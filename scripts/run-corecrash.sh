#!/usr/bin/env bash
# Build test/binaries/corecrash with Debian's Go TOOLCHAIN for linux/GOARCH (amd64, or arm64 run
# under qemu-aarch64) and make core files of it, each with the goroutine dump the runtime printed
# at the same moment. Prints the binary's path; beside it, new on every run:
#   BINARY.crash.txt, BINARY.crash.core   GOTRACEBACK=crash, nil pointer dereference: the runtime
#                                         prints every goroutine, then aborts and the kernel
#                                         writes the core
#   BINARY.gcore.core, BINARY.gcore.txt   the idle program's core written by gdb's gcore while it
#                                         runs, then the dump it prints on SIGQUIT (every goroutine
#                                         is parked, so both describe the same stacks); amd64 only
# Under qemu-aarch64 the core is QEMU's own (qemu_PROG_DATE_PID.core, the emulated process's memory
# and registers; the `core` beside it is the x86-64 one of qemu itself, deleted).
# GOGC=off keeps the garbage collector's workers from running while the dump is printed.
# Usage: scripts/run-corecrash.sh [TOOLCHAIN [GOARCH]]   (default 1.24 amd64)
# CORECRASH_OUT names the directory to work in (default .cache/corecrash), so that test files that
# delete their cores afterwards do not delete each other's.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${1:-1.24}"
arch="${2:-amd64}"
out="${CORECRASH_OUT:-$root/.cache/corecrash}"
mkdir -p "$out"
# Test files run in parallel: one build at a time.
exec 9>"$out/lock"
flock 9
[ "$(uname -m)" = x86_64 ] || { echo "$0: cannot run linux/amd64 here" >&2; exit 1; }
case "$arch" in
amd64) need=gcore package=gdb ;;
arm64) need=qemu-aarch64 package=qemu-user ;;
*) echo "$0: GOARCH must be amd64 or arm64, not '$arch'" >&2; exit 1 ;;
esac
if ! command -v "$need" >/dev/null; then
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >&2
fi
pattern="$(cat /proc/sys/kernel/core_pattern)"
case "$pattern" in
core | core.%p) ;;
*) echo "$0: kernel.core_pattern is '$pattern'; this script needs cores written as 'core' in the working directory" >&2; exit 1 ;;
esac
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off GOWORK=off GOCACHE="$root/.cache/go-build"
go="$("$root/scripts/go-toolchain.sh" "$version")"
bin="$out/corecrash-go$version-linux-$arch"
(cd "$root/test/binaries/corecrash" && GOOS=linux GOARCH="$arch" CGO_ENABLED=0 \
	"$go" build -trimpath -buildvcs=false -o "$bin" .)
run="$out/run-$version-$arch"
rm -rf "$run"
mkdir -p "$run"
ulimit -c unlimited
if [ "$arch" = arm64 ]; then
	(cd "$run" && GOGC=off GOTRACEBACK=crash qemu-aarch64 "$bin" crash >/dev/null 2>"$bin.crash.txt") || true
	mv "$run"/qemu_*.core "$bin.crash.core"
	fallocate --dig-holes "$bin.crash.core"
	rm -rf "$run"
	echo "$bin"
	exit 0
fi
# The kernel's core: crash and abort.
(cd "$run" && GOGC=off GOTRACEBACK=crash "$bin" crash >/dev/null 2>"$bin.crash.txt") || true
mv "$run/core"* "$bin.crash.core"
fallocate --dig-holes "$bin.crash.core"
# gcore of the live program, then its SIGQUIT dump.
rm -f "$bin.gcore.core"
(cd "$run" && GOGC=off GOTRACEBACK=crash exec "$bin" idle >"$run/idle.out" 2>"$bin.gcore.txt") &
pid=$!
for _ in $(seq 100); do grep -q ready "$run/idle.out" 2>/dev/null && break; sleep 0.1; done
gcore -o "$run/gcore" "$pid" >/dev/null 2>&1
mv "$run/gcore.$pid" "$bin.gcore.core"
# gcore writes the Go runtime's reserved, never-touched address space as zeros (1.2 GB of a
# 1.2 GB core); punching holes there keeps .cache at a few MB per core.
fallocate --dig-holes "$bin.gcore.core"
kill -QUIT "$pid"
wait "$pid" || true
rm -rf "$run"
echo "$bin"
