#!/usr/bin/env bash
# Reproduce golang/go#73259 (arm64 split-SP epilogue) under qemu-aarch64 with one instruction per
# translation block, so that preemption signals can land between any two instructions, and
# measure how often it crashes. The program is scripts/split-sp-reproducer (leaf or non-leaf
# variant; see its doc comment for why it crashes faster than the Cloudflare reproducer).
#
# Usage: scripts/measure-split-sp.sh [--go VERSION|PATH] [--variant leaf|non-leaf]
#          [--duration SECONDS] [--copies N] [--workers N] [--out DIR]
#   --go        Debian toolchain version (1.19 ... 1.26, fetched by scripts/go-toolchain.sh) or the
#               path of a `go` command (default 1.26)
#   --variant   leaf: big_stack calls nothing (split in every release checked);
#               non-leaf: big_stack calls a helper (fixed in go1.23.12, go1.24.6, go1.25.0)
#   --duration  seconds each copy may run before it counts as "no crash" (default 600)
#   --copies    processes run in parallel (default 1)
#   --workers   goroutines calling big_stack in each process (default 8)
#   --out       directory for the binary and the outputs (default .cache/split-sp/<go>-<variant>)
#
# Prints one line per copy: `crash after Ns: <reason>` or `no crash in Ns`, and diagnoses each
# crash with gocrash itself against the binary that crashed. Each copy also leaves
# run-K.txt (the output) and run-K.tsv (version, variant, copy, exit status, seconds, limit).
# Exit status: 0 when any copy crashed, 1 when none did, 2 on usage errors.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
go_arg=1.26 variant=leaf duration=600 copies=1 workers=8 out=""
usage="usage: $0 [--go VERSION|PATH] [--variant leaf|non-leaf] [--duration SECONDS] [--copies N] [--workers N] [--out DIR]"
while [ "$#" -gt 0 ]; do
	case "$1" in
	--go) go_arg="$2"; shift 2 ;;
	--variant) variant="$2"; shift 2 ;;
	--duration) duration="$2"; shift 2 ;;
	--copies) copies="$2"; shift 2 ;;
	--workers) workers="$2"; shift 2 ;;
	--out) out="$2"; shift 2 ;;
	*) echo "$usage" >&2; exit 2 ;;
	esac
done
case "$variant" in
leaf) tags="" ;;
non-leaf) tags="nonleaf" ;;
*) echo "--variant must be leaf or non-leaf" >&2; exit 2 ;;
esac

if [ -x "$go_arg" ]; then go="$go_arg"; else go="$("$root/scripts/go-toolchain.sh" "$go_arg")"; fi
if ! command -v qemu-aarch64 >/dev/null; then
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user >&2
fi
# QEMU 8.1 renamed -singlestep (Debian bookworm ships 7.2) to -one-insn-per-tb.
if qemu-aarch64 -h 2>&1 | grep -q -- -one-insn-per-tb; then step=-one-insn-per-tb; else step=-singlestep; fi

version="$(GOTOOLCHAIN=local "$go" env GOVERSION)"
out="${out:-$root/.cache/split-sp/$version-$variant}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
bin="$out/splitsp-$version-linux-arm64-$variant"
(cd "$root/scripts/split-sp-reproducer" && GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off GOWORK=off \
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 "$go" build -trimpath -buildvcs=false -tags "$tags" -o "$bin" .)
echo "built $bin ($version, $variant); running $copies copies of $workers workers for up to ${duration}s under qemu-aarch64 $step" >&2

run_copy() {
	local k="$1" start end status
	start=$(date +%s)
	set +e
	SPLITSP_WORKERS="$workers" GOTRACEBACK=system timeout "$duration" qemu-aarch64 "$step" "$bin" >"$out/run-$k.txt" 2>&1
	status=$?
	set -e
	end=$(date +%s)
	if [ "$status" -eq 124 ]; then
		echo "copy $k: no crash in $((end - start))s"
	elif ! grep -q -E '^goroutine [0-9]+' "$out/run-$k.txt"; then
		echo "copy $k: failed to run (exit $status): $(head -c 300 "$out/run-$k.txt")" >&2
		status=3
	else
		echo "copy $k: crash after $((end - start))s (exit $status): $(grep -m1 -E '^(fatal error|SIG[A-Z]+:|panic:|unexpected)' "$out/run-$k.txt" || echo '?')"
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$version" "$variant" "$k" "$status" "$((end - start))" "$duration" >"$out/run-$k.tsv"
}

for k in $(seq 1 "$copies"); do run_copy "$k" & done
wait

gocrash=(node "$root/dist/cli/bin.js")
[ -f "$root/dist/cli/bin.js" ] || gocrash=(npx --prefix "$root" tsx "$root/src/cli/bin.ts")
crashed=1
for k in $(seq 1 "$copies"); do
	status="$(cut -f4 "$out/run-$k.tsv")"
	if [ "$status" != 124 ] && [ "$status" != 3 ]; then
		crashed=0
		echo "--- gocrash diagnose $out/run-$k.txt --binary $bin" >&2
		"${gocrash[@]}" diagnose "$out/run-$k.txt" --binary "$bin" || true
	fi
done
exit "$crashed"
