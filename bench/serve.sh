#!/usr/bin/env bash
# Benchmark the fleet service: `gocrash serve` runs as its own process and autocannon drives its
# ingest API on loopback from this one with real crash texts of 2-30 KB from the fixtures.
# Reports crashes/s with p50/p99 latency for SQLite (one server) and PostgreSQL (one and two
# servers on one database), p50/p99 at 1,000 crashes/s offered (open loop: a request every
# millisecond, sent whether or not the earlier ones were answered, its latency counted from then),
# heartbeats/s one per request and 100 per request, and as the peer the same server answering GET /healthz: the ceiling of one HTTP
# request on this machine. A PostgreSQL server is started for the run (Debian's postgresql,
# initdb into a temporary directory, as the postgres user under root) and removed after.
# Usage: bench/serve.sh   (BENCH_SECONDS=15 per run)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
[ -f dist/cli/bin.js ] || npm run build >/dev/null
bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
pgdir="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
as_pg=()
if [ "$(id -u)" = 0 ]; then chown postgres: "$pgdir"; as_pg=(runuser -u postgres --); fi
user="$("${as_pg[@]}" id -un)"
cleanup() { "${as_pg[@]}" "$bin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$pgdir"; }
trap cleanup EXIT
"${as_pg[@]}" "$bin/initdb" -D "$pgdir/data" -U "$user" -A trust --no-sync -E UTF8 --locale=C >/dev/null
# Durable commits, as a production server would have them.
"${as_pg[@]}" "$bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
	-o "-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
"${as_pg[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$user" gocrash
BENCH_POSTGRES="postgres://$user@127.0.0.1:$port/gocrash" node bench/serve.mjs
