#!/usr/bin/env bash
# Benchmark the dashboard's overview on a store of 1,000,000 crashes (bench/query.sh's, filled
# first when missing): time until chart, top buckets and sparklines are shown in Debian's Chromium,
# next to the bucket-list API read for the same window. Usage: bench/dashboard.sh (BENCH_RUNS=7)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
npm run build >/dev/null
node bench/dashboard.mjs
