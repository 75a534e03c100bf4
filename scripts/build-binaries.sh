#!/usr/bin/env bash
# Build the Go fixture binaries that gocrash's binary tests read, with Debian's Go toolchains.
# Usage: scripts/build-binaries.sh [OUT_DIR]   (default: test/binaries/fixtures)
#
# Writes OUT_DIR/<name>.gz (gzip -9 -n, so rebuilding with the same toolchains gives the same
# bytes) for every name in the matrix below:
#   frames-go1.XX-linux-arm64          test/binaries/frames, with every toolchain, and also:
#   frames-go1.XX-linux-arm64-pie      -buildmode=pie
#   frames-go1.XX-linux-arm64-stripped -ldflags='-s -w'
#   frames-go1.XX-linux-arm64-cgo      CGO_ENABLED=1, -linkmode=external, Debian's aarch64 gcc
#   frames-go1.XX-darwin-arm64         Mach-O
#   frames-go1.26-linux-amd64, frames-go1.26-darwin-amd64, frames-go1.26-windows-{amd64,arm64}
#   frames-go1.26-linux-{386,arm,s390x,ppc64}  32-bit and big-endian ELF
#   netlink-go1.XX-linux-arm64         test/binaries/netlink against Debian's netlink 1.1.0
#                                      (1.24: affected; 1.26: non-leaf fix)
# Toolchains come from scripts/go-toolchain.sh; the cross C compiler from apt.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/test/binaries/fixtures}"
work="$root/.cache/binaries"
mkdir -p "$out" "$work"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off GOWORK=off
# Paths inside the binaries must not depend on where the repository is checked out.
trimpath=-trimpath

if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-aarch64-linux-gnu >&2
fi

# build NAME TOOLCHAIN SRC_DIR GOOS GOARCH CGO [go build flags...]
build() {
	local name="$1" version="$2" src="$3" goos="$4" goarch="$5" cgo="$6"
	shift 6
	local go
	go="$("$root/scripts/go-toolchain.sh" "$version")"
	echo "building $name" >&2
	(cd "$src" && GOOS="$goos" GOARCH="$goarch" CGO_ENABLED="$cgo" CC=aarch64-linux-gnu-gcc \
		"$go" build "$trimpath" -buildvcs=false "$@" -o "$work/$name" .)
	gzip -9 -n -c "$work/$name" >"$out/$name.gz"
}

frames="$root/test/binaries/frames"
for v in 1.19 1.21 1.22 1.23 1.24 1.25 1.26; do
	build "frames-go$v-linux-arm64" "$v" "$frames" linux arm64 0
done
for v in 1.19 1.21 1.22 1.23 1.24 1.25 1.26; do
	build "frames-go$v-linux-arm64-pie" "$v" "$frames" linux arm64 0 -buildmode=pie
	build "frames-go$v-linux-arm64-stripped" "$v" "$frames" linux arm64 0 -ldflags=-s\ -w
	build "frames-go$v-linux-arm64-cgo" "$v" "$frames" linux arm64 1 -ldflags=-linkmode=external
	build "frames-go$v-darwin-arm64" "$v" "$frames" darwin arm64 0
done
build frames-go1.26-linux-amd64 1.26 "$frames" linux amd64 0
build frames-go1.26-darwin-amd64 1.26 "$frames" darwin amd64 0
build frames-go1.26-windows-amd64 1.26 "$frames" windows amd64 0
build frames-go1.26-windows-arm64 1.26 "$frames" windows arm64 0
# Other word sizes and byte orders: 32-bit little-endian (386, arm), 64-bit big-endian (s390x, ppc64).
for arch in 386 arm s390x ppc64; do
	build "frames-go1.26-linux-$arch" 1.26 "$frames" linux "$arch" 0
done

# The netlink program builds against Debian's source packages through `replace` directives.
mapfile -t deps < <("$root/scripts/debian-fetch.sh" \
	golang-github-vishvananda-netlink-dev=1.1.0.125.gf243826-4 \
	golang-github-vishvananda-netns-dev=0.0~git20211101.5004558-1 \
	golang-golang-x-sys-dev=0.3.0-1)
netlink="$work/netlink-src"
rm -rf "$netlink"
cp -r "$root/test/binaries/netlink" "$netlink"
# Relative replacement paths keep the checkout's location out of the binaries' buildinfo.
mkdir -p "$netlink/deps"
cp -r "${deps[0]}/usr/share/gocode/src/github.com/vishvananda/netlink" "$netlink/deps/netlink"
cp -r "${deps[1]}/usr/share/gocode/src/github.com/vishvananda/netns" "$netlink/deps/netns"
cp -r "${deps[2]}/usr/share/gocode/src/golang.org/x/sys" "$netlink/deps/sys"
sed -e "s|@NETLINK@|./deps/netlink|" -e "s|@NETNS@|./deps/netns|" -e "s|@XSYS@|./deps/sys|" \
	"$netlink/go.mod.in" >"$netlink/go.mod"
for v in 1.24 1.26; do
	build "netlink-go$v-linux-arm64" "$v" "$netlink" linux arm64 0
done
