#!/usr/bin/env bash
# Benchmark the fleet service's reads on a store of 1,000,000 crashes: the bucket list (7 and 30
# days, with a service and an attribute filter, 90 days with limit 1000), one big bucket,
# correlations against the other crashes and against the fleet for a big and a small bucket,
# rates of a bucket and overall, and a bucket's crash list. `gocrash serve --db` runs as its own
# process and every read is timed over HTTP from this one (median and max of BENCH_RUNS runs,
# default 7); the peer is GET /healthz on the same server, between the reads. Every answer is
# checked against the counts the generator kept.
#
# The fleet: 3,000 hosts (half arm64, six regions, 8 services of 4 releases each rolled out host by
# host), 90 days with a daily load pattern, 2,000 buckets of Zipf-distributed size, made from every
# fixture text of test/fixtures/crashes prepared once by the server's prepareReport and varied per
# copy; every host sends a heartbeat each hour. The store is filled through its own insertCrashes
# and insertHeartbeats and kept in .cache/bench/ keyed by the generator's parameters (SQLite file;
# PostgreSQL data directory), so that reruns skip filling; the fill times are printed either way.
# PostgreSQL is Debian's, started by the script on the cached data directory (as the postgres user
# under root) with durable commits; it is filled with fsync off, then VACUUM ANALYZE as autovacuum
# would.
# Usage: bench/query.sh   (BENCH_BACKENDS=sqlite,postgres  BENCH_RUNS=7  BENCH_CRASHES=1000000
#                          BENCH_HOSTS=3000  BENCH_HEARTBEAT_HOSTS=3000  BENCH_HEARTBEAT_DAYS=30)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
npm run build >/dev/null
node bench/query.mjs
