#!/usr/bin/env bash
# Benchmark `gocrash core` against Debian's Delve 1.20.2 (`dlv core BINARY CORE` running
# `goroutines`, then `exit`) in one run, on two kernel cores (GOTRACEBACK=crash) of programs built
# with Go 1.19, the newest Debian toolchain that Delve 1.20 supports:
#   - bench/many-goroutines with 100k goroutines parked in 50 stacks and 5 states (chan receive,
#     chan send, select, sleep, and a receive under a held mutex);
#   - bench/big-heap, 1.1 GiB of live heap, every page written, beside 1000 parked goroutines: a
#     core of more than 1 GB.
# For each core: wall time (best of three), CPU time and peak RSS of `gocrash core --json` (to
# /dev/null), of its human view and of Delve, the goroutines each read (they must agree), and the ratios Delve time / gocrash
# time and gocrash peak RSS / core size. The cores are made anew under .cache/bench/core on every
# run and deleted at its end (the large one is 1.2 GB).
# BENCH_KEEP_CORES=1 keeps them (to profile gocrash core on them, say).
# Usage: bench/core.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
work="$root/.cache/bench/core"
mkdir -p "$work/run"
trap 'rm -rf "$work/run"; [ -n "${BENCH_KEEP_CORES:-}" ] || rm -f "$work"/*.core' EXIT

command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
dlv="$(scripts/oracle-tools.sh | sed -n 's/^DLV=//p')"
[ -f dist/cli/bin.js ] || npm run build >/dev/null
gocrash=(node "$root/dist/cli/bin.js")
pattern="$(cat /proc/sys/kernel/core_pattern)"
case "$pattern" in
core | core.%p) ;;
*) echo "$0: kernel.core_pattern is '$pattern'; this script needs cores written as 'core' in the working directory" >&2; exit 1 ;;
esac

export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off GOWORK=off GOCACHE="$root/.cache/go-build"
go="$(scripts/go-toolchain.sh 1.19)"
for p in many-goroutines big-heap; do
	(cd "bench/$p" && CGO_ENABLED=0 "$go" build -o "$work/$p" .)
done

# Runs PROGRAM ARGS... with GOTRACEBACK=crash until it aborts; the kernel's core becomes
# $work/PROGRAM.core.
make_core() {
	local program="$1"
	shift
	ulimit -c unlimited
	rm -f "$work/run"/core*
	(cd "$work/run" && GOTRACEBACK=crash exec "$work/$program" "$@" >/dev/null 2>&1) || true
	mv "$work/run"/core* "$work/$program.core"
}

# Runs a command three times with its standard output to FILE; prints the best wall time (s), the
# CPU time (user + system, s) of that run, and the largest peak RSS (KiB). The best of three, as
# this machine may be shared.
measure() {
	local out="$1" best="" cpu="" rss=0 t u s m
	shift
	for _ in 1 2 3; do
		/usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$@" > "$out" 2>/dev/null
		read -r t u s m < <(tail -n 1 "$work/time.txt")
		if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then
			best="$t"
			cpu="$(awk "BEGIN{print $u + $s}")"
		fi
		[ "$m" -gt "$rss" ] && rss="$m"
	done
	echo "$best $cpu $rss"
}

printf 'goroutines\nexit\n' > "$work/dlv-init.txt"

report() {
	local name="$1" program="$2" core="$work/$2.core" bytes mb disk jt jc jm ht hc hm dt dc dm g h d
	bytes="$(stat -c %s "$core")"
	mb="$(awk "BEGIN{printf \"%.0f\", $bytes / 1048576}")"
	disk="$(du -m "$core" | cut -f1)"
	# Every tool reads the core from the page cache.
	cat "$core" > /dev/null
	read -r jt jc jm <<< "$(measure /dev/null "${gocrash[@]}" core --json "$work/$program" "$core")"
	read -r ht hc hm <<< "$(NO_COLOR=1 measure /dev/null "${gocrash[@]}" core "$work/$program" "$core")"
	read -r dt dc dm <<< "$(measure "$work/dlv.txt" "$dlv" core "$work/$program" "$core" \
		--init "$work/dlv-init.txt" --allow-non-terminal-interactive=true < /dev/null)"
	# The goroutines each read, outside the timed runs: every one of them, the same count.
	g="$("${gocrash[@]}" core --json "$work/$program" "$core" | grep -o '{"id":' | wc -l)"
	h="$(NO_COLOR=1 "${gocrash[@]}" core "$work/$program" "$core" | sed -n 's/^\([0-9]*\) goroutines in .*/\1/p')"
	d="$(sed -n 's/^\[\([0-9]*\) goroutines\]$/\1/p' "$work/dlv.txt")"
	echo "## $name: core of $mb MiB ($disk MiB on disk)"
	echo "goroutines read: gocrash --json $g, gocrash $h, Delve $d"
	printf '%-34s %9s %9s %14s\n' tool seconds "CPU s" "peak RSS MiB"
	printf '%-34s %9s %9s %14.1f\n' "gocrash core --json > /dev/null" "$jt" "$jc" "$(awk "BEGIN{print $jm/1024}")"
	printf '%-34s %9s %9s %14.1f\n' "gocrash core (human view)" "$ht" "$hc" "$(awk "BEGIN{print $hm/1024}")"
	printf '%-34s %9s %9s %14.1f\n' "dlv core … goroutines" "$dt" "$dc" "$(awk "BEGIN{print $dm/1024}")"
	awk "BEGIN{printf \"speed: Delve takes %.1fx the time of gocrash core --json (%.1fx its CPU time), %.1fx that of the human view\n\", $dt/$jt, $dc/$jc, $dt/$ht}"
	awk "BEGIN{printf \"peak memory / core size: gocrash --json %.3f, human view %.3f, Delve %.3f\n\", $jm*1024/$bytes, $hm*1024/$bytes, $dm*1024/$bytes}"
	[ "$g" = "$d" ] && [ "$h" = "$d" ] || echo "WARNING: the goroutine counts differ"
	echo
}

echo "# gocrash core vs dlv core (Delve $("$dlv" version | sed -n 's/^Version: //p')), $(nproc) cores, $(node --version), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
make_core many-goroutines 100000
report "100k goroutines (bench/many-goroutines 100000)" many-goroutines
[ -n "${BENCH_KEEP_CORES:-}" ] || rm -f "$work/many-goroutines.core"
make_core big-heap 1100
report "1.1 GiB of live heap, 1000 goroutines (bench/big-heap 1100)" big-heap
