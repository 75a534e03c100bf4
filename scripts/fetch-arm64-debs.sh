#!/usr/bin/env bash
# Fetch real arm64 Go programs that nobody here built, from Debian's archive (with a private apt
# state, APT::Architecture=arm64, extracted with dpkg -x by scripts/debian-fetch.sh), and print
# the path of each program, one per line:
#   dockerd     docker.io 20.10.24 (bookworm): go1.19.8, PIE, externally linked, stripped, 57 MB
#   containerd  containerd 1.7.24 (trixie):    go1.24.4, externally linked, stripped, 38 MB
#   rclone      rclone 1.75.2 (sid):           go1.27.x, externally linked, stripped, 71 MB
# Versions are pinned so that the findings stay comparable; update them when the archive drops one.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# Test files run in parallel and may all ask for the tools at once: one fetch at a time.
mkdir -p "$root/.cache"
exec 9>"$root/.cache/tools.lock"
flock 9
mapfile -t dirs < <("$root/scripts/debian-fetch.sh" --arch arm64 \
	docker.io=20.10.24+dfsg1-1+deb12u1+b6 \
	containerd=1.7.24~ds1-6+deb13u1 \
	rclone=1.75.2-2)
echo "${dirs[0]}/usr/sbin/dockerd"
echo "${dirs[1]}/usr/bin/containerd"
echo "${dirs[2]}/usr/bin/rclone"
