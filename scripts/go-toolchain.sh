#!/usr/bin/env bash
# Print the path of the `go` command of Debian's Go toolchain VERSION (1.19, 1.21 ... 1.26),
# fetching golang-VERSION-go and golang-VERSION-src into the project's cache when missing.
# Run the printed command with GOTOOLCHAIN=local.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${1:?usage: $0 VERSION}"
go_dir="$root/.cache/go/$version"
if [ ! -x "$go_dir/usr/lib/go-$version/bin/go" ]; then
	mapfile -t dirs < <("$root/scripts/debian-fetch.sh" "golang-$version-go" "golang-$version-src")
	rm -rf "$go_dir"
	mkdir -p "$go_dir"
	# The two packages' /usr trees link into each other with relative symlinks: merge them.
	for dir in "${dirs[@]}"; do cp -a "$dir/usr" "$go_dir/"; done
fi
echo "$go_dir/usr/lib/go-$version/bin/go"
