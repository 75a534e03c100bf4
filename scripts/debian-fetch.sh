#!/usr/bin/env bash
# Fetch Debian packages into the project's cache without touching the system's apt sources.
# Usage: scripts/debian-fetch.sh [--arch ARCH] PACKAGE[=VERSION|/SUITE]...
# Each package is downloaded with a private apt state (suites bookworm, bookworm-backports,
# trixie, trixie-backports, sid) and extracted with `dpkg -x` into .cache/debian/<arch>/<package>.
# Prints the extraction directory of each package, one per line.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
arch="$(dpkg --print-architecture)"
if [ "${1:-}" = "--arch" ]; then arch="$2"; shift 2; fi
[ "$#" -gt 0 ] || { echo "usage: $0 [--arch ARCH] PACKAGE..." >&2; exit 2; }

apt_dir="$root/.cache/apt/$arch"
out_dir="$root/.cache/debian/$arch"
mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$out_dir"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$apt_dir/sources.list" <<LIST
deb [signed-by=$keyring] http://deb.debian.org/debian bookworm main
deb [signed-by=$keyring] http://deb.debian.org/debian bookworm-backports main
deb [signed-by=$keyring] http://deb.debian.org/debian trixie main
deb [signed-by=$keyring] http://deb.debian.org/debian trixie-backports main
deb [signed-by=$keyring] http://deb.debian.org/debian sid main
LIST
apt_opts=(
	-o "Dir::Etc::SourceList=$apt_dir/sources.list"
	-o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State=$apt_dir/state"
	-o "Dir::Cache=$apt_dir/cache"
	-o "APT::Architecture=$arch"
	-o "APT::Architectures=$arch"
	-o Debug::NoLocking=1
	-o APT::Sandbox::User=root
)

# Refresh the private package lists at most once a day.
stamp="$apt_dir/state/updated"
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mtime +0)" ]; then
	apt-get "${apt_opts[@]}" -qq update >&2
	touch "$stamp"
fi

for pkg in "$@"; do
	dest="$out_dir/$pkg"
	if [ ! -f "$dest/.done" ]; then
		rm -rf "$dest"
		mkdir -p "$dest"
		(cd "$apt_dir/cache/archives" && apt-get "${apt_opts[@]}" -qq download "$pkg" >&2)
		deb="$(ls -t "$apt_dir/cache/archives/${pkg%%[=/]*}"_*.deb | head -n 1)"
		dpkg -x "$deb" "$dest"
		touch "$dest/.done"
	fi
	echo "$dest"
done
