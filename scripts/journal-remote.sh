#!/usr/bin/env bash
# Runs Debian bookworm's systemd-journal-remote (fetched with debian-fetch.sh, not installed:
# installing it would upgrade the system's systemd), which writes journal files from journal
# export format; the tests of `gocrash collect --journal` make their journals with it.
# Usage: scripts/journal-remote.sh --output=FILE.journal EXPORT-FILE...
set -euo pipefail
here="$(dirname "$0")"
{ read -r remote; read -r microhttpd; } < <("$here/debian-fetch.sh" systemd-journal-remote/bookworm libmicrohttpd12/bookworm)
LD_LIBRARY_PATH="$microhttpd/usr/lib/x86_64-linux-gnu" exec "$remote/lib/systemd/systemd-journal-remote" "$@"
