#!/usr/bin/env bash
# Benchmark `gocrash scan` against the disassembler pipelines that find the same split-SP pairs.
#
# Binaries (arm64):
#   - rclone 1.75.2 and dockerd 20.10.24 from Debian (scripts/fetch-arm64-debs.sh): real, stripped,
#     externally linked, 71 MB and 57 MB;
#   - cmd/compile built for linux/arm64 with Debian's go1.24 (unstripped, 27 MB), the biggest
#     unstripped Go binary built here.
# Peers, measured in the same run:
#   - unstripped: `go tool objdump BINARY`, pairs found in its text;
#   - stripped (go tool objdump refuses): GNU `aarch64-linux-gnu-objdump -d | grep` plus the
#     debug/gosym oracle (test/binaries/oracle) for function names.
# For each binary: best wall and CPU time of 3 runs and peak RSS of gocrash and of the peer, the speed-ups,
# gocrash's memory as a multiple of the file size, and a check that both found the same pairs.
# Usage: bench/scan.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
work="$root/.cache/bench/scan"
mkdir -p "$work"

command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
eval "$(scripts/oracle-tools.sh)"
mapfile -t debs < <(scripts/fetch-arm64-debs.sh)
compile="$work/compile-go1.24-linux-arm64"
if [ ! -s "$compile" ]; then
	go124="$(scripts/go-toolchain.sh 1.24)"
	GOTOOLCHAIN=local GOOS=linux GOARCH=arm64 CGO_ENABLED=0 "$go124" build -o "$compile" cmd/compile
fi
npx tsc -p tsconfig.build.json --outDir "$work/dist" >/dev/null 2>&1
gocrash=(node "$work/dist/cli/bin.js")

# measure NAME CMD...: runs CMD three times; sets best_s (wall), best_cpu (user+sys) and max_kb.
# CPU time is reported too because wall time on a busy 2-core machine swings with other load.
measure() {
	local name="$1"
	shift
	best_s=""
	best_cpu=""
	max_kb=0
	for _ in 1 2 3; do
		/usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >"$work/$name.out"
		read -r s u k kb <"$work/time"
		cpu="$(awk -v u="$u" -v k="$k" 'BEGIN { printf "%.2f", u + k }')"
		if [ -z "$best_s" ] || awk -v a="$s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then best_s="$s"; fi
		if [ -z "$best_cpu" ] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then best_cpu="$cpu"; fi
		if [ "$kb" -gt "$max_kb" ]; then max_kb="$kb"; fi
	done
}

printf '%-28s %6s | %-12s %7s %6s %7s | %-26s %7s %6s %7s | %-12s %8s %s\n' \
	binary MB tool wall cpu "peak MB" peer wall cpu "peak MB" "speedup w/c" "mem/file" findings
status=0
for bin in "${debs[0]}" "${debs[2]}" "$compile"; do
	name="$(basename "$bin")"
	mb="$(awk -v b="$(stat -c %s "$bin")" 'BEGIN { printf "%.1f", b / 1048576 }')"
	measure gocrash "${gocrash[@]}" scan --json "$bin"
	g_s="$best_s" g_cpu="$best_cpu" g_kb="$max_kb"
	node bench/scan-pairs.mjs gocrash "$work/gocrash.out" >"$work/gocrash.pairs"
	if "$GO" tool objdump -s '^$' "$bin" >/dev/null 2>&1; then
		peer="go tool objdump"
		measure peer env GOTOOLCHAIN=local "$GO" tool objdump "$bin"
		node bench/scan-pairs.mjs go-objdump "$work/peer.out" >"$work/peer.pairs"
	else
		peer="GNU objdump + gosym oracle"
		measure peer sh -c '"$1" -d --no-show-raw-insn "$3" | grep -E "sp, sp, #" >"$4/peer.asm"; "$2" "$3"' \
			sh "$OBJDUMP" "$ORACLE" "$bin" "$work"
		node bench/scan-pairs.mjs gnu-objdump "$work/peer.asm" "$work/peer.out" >"$work/peer.pairs"
	fi
	p_s="$best_s" p_cpu="$best_cpu" p_kb="$max_kb"
	pairs="$(wc -l <"$work/gocrash.pairs")"
	if cmp -s "$work/gocrash.pairs" "$work/peer.pairs"; then same="identical ($pairs pairs)"; else same="DIFFERENT"; status=1; fi
	awk -v n="$name" -v mb="$mb" -v gs="$g_s" -v gc="$g_cpu" -v gk="$g_kb" -v peer="$peer" \
		-v ps="$p_s" -v pc="$p_cpu" -v pk="$p_kb" -v same="$same" 'BEGIN {
		printf "%-28s %6s | %-12s %6.2fs %5.2fs %7.0f | %-26s %6.2fs %5.2fs %7.0f | %5.1fx/%4.1fx %7.2fx %s\n",
			n, mb, "gocrash scan", gs, gc, gk / 1024, peer, ps, pc, pk / 1024,
			ps / (gs > 0 ? gs : 0.01), pc / (gc > 0 ? gc : 0.01), (gk / 1024) / mb, same }'
done
exit "$status"
