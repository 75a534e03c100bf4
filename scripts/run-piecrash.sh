#!/usr/bin/env bash
# Build test/binaries/piecrash with Debian's Go TOOLCHAIN for linux/GOARCH and run it with
# GOTRACEBACK=system, so that it crashes printing every frame's pc=. Prints the binary's path; the
# crash output is beside it in BINARY.crash.txt, new on every run.
#   amd64  -buildmode=pie, run natively: the kernel loads it at a random base
#   arm64  -buildmode=pie, run under qemu-aarch64
#   arm    linked externally (clang and lld, Debian's armhf libc fetched into .cache) with
#          -debugtextsize, so that Go's linker splits the text into sections (runtime.text.1, …:
#          cmd/link data.go splitTextSections), and lld told to shuffle the .text input sections,
#          so that the sections do not stay where Go's linker placed them; run under qemu-arm
# Usage: scripts/run-piecrash.sh GOARCH [TOOLCHAIN]   (default toolchain 1.24)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
arch="${1:?usage: $0 GOARCH [TOOLCHAIN]}"
version="${2:-1.24}"
out="$root/.cache/piecrash"
mkdir -p "$out"
# Test files run in parallel: one build at a time.
exec 9>"$out/lock"
flock 9
apt_install() { # COMMAND-OR-PATH PACKAGE...
	if [ -e "$1" ] || command -v "$1" >/dev/null; then return; fi
	shift
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off GOWORK=off GOCACHE="$root/.cache/go-build"
go="$("$root/scripts/go-toolchain.sh" "$version")"
src="$root/test/binaries/piecrash"
case "$arch" in
amd64)
	[ "$(uname -m)" = x86_64 ] || { echo "$0: cannot run linux/amd64 here" >&2; exit 1; }
	bin="$out/piecrash-go$version-linux-amd64-pie"
	run=()
	(cd "$src" && GOOS=linux GOARCH=amd64 CGO_ENABLED=0 \
		"$go" build -trimpath -buildvcs=false -buildmode=pie -o "$bin" .)
	;;
arm64)
	# A Go PIE is dynamically linked: its loader comes from Debian's arm64 cross libc.
	sysroot=/usr/aarch64-linux-gnu
	apt_install qemu-aarch64 qemu-user
	apt_install "$sysroot/lib/ld-linux-aarch64.so.1" libc6-arm64-cross
	bin="$out/piecrash-go$version-linux-arm64-pie"
	run=(qemu-aarch64 -L "$sysroot")
	(cd "$src" && GOOS=linux GOARCH=arm64 CGO_ENABLED=0 \
		"$go" build -trimpath -buildvcs=false -buildmode=pie -o "$bin" .)
	;;
arm)
	apt_install qemu-arm qemu-user
	apt_install clang-14 clang-14
	apt_install ld.lld-14 lld-14
	# Bookworm's armhf cross libc (newer linux-libc-dev-armhf-cross links its headers to the
	# host's /usr/include) and libgcc, merged into one sysroot.
	sysroot="$out/armhf-sysroot"
	if [ ! -e "$sysroot/usr/arm-linux-gnueabihf/lib/libc.so.6" ]; then
		mapfile -t dirs < <("$root/scripts/debian-fetch.sh" \
			libc6-dev-armhf-cross=2.36-8cross1 libc6-armhf-cross=2.36-8cross1 \
			linux-libc-dev-armhf-cross=6.1.4-1cross1 libgcc-12-dev-armhf-cross libgcc-s1-armhf-cross)
		rm -rf "$sysroot"
		mkdir -p "$sysroot"
		for dir in "${dirs[@]}"; do cp -a "$dir/usr" "$sysroot/"; done
	fi
	bin="$out/piecrash-go$version-linux-arm-splittext"
	run=(qemu-arm -L "$sysroot/usr/arm-linux-gnueabihf")
	# A 256 KiB section limit splits this small program's text in two; shuffle seed 1 makes lld
	# put other code between the two sections.
	(cd "$src" && GOOS=linux GOARCH=arm GOARM=7 CGO_ENABLED=1 \
		CC="clang-14 --target=arm-linux-gnueabihf --sysroot=$sysroot" \
		"$go" build -trimpath -buildvcs=false -o "$bin" \
		-ldflags="-linkmode=external -debugtextsize=262144 '-extldflags=-fuse-ld=lld-14 -Wl,--shuffle-sections=.text=1'" .)
	;;
*)
	echo "$0: GOARCH must be amd64, arm64 or arm" >&2
	exit 2
	;;
esac
# The program panics (exit status 2): its output is what we want.
GOTRACEBACK=system "${run[@]}" "$bin" >"$bin.crash.txt" 2>&1 || true
echo "$bin"
