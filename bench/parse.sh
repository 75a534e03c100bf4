#!/usr/bin/env bash
# Benchmark `gocrash parse` against panicparse 2.5.0 (Debian's `panicparse` package) in one run.
#
# Builds five inputs under .cache/bench/: a corpus of at least 200 MB made of the real crash
# fixtures in test/fixtures/crashes (without race reports, which stop panicparse); a log archive
# of the same size made of the small ones (1-30 KB: panics, fatal errors, signal crashes with
# register dumps, from many programs); two real 100k-goroutine GOTRACEBACK=all dumps from
# bench/many-goroutines, one where goroutines of a stack print the same arguments and one where
# each prints its own (100k buckets); and that last dump after 1.5 times its size of fixtures,
# where two processes split the file before the dump, so the second one reads it. Reports
# throughput (MB/s) and peak RSS of both tools on each, the RSS against the input's size (with a
# warning over 5x on the 100k-bucket inputs), checks that both really read every goroutine, then
# streams 1 GB through gocrash to show that its memory stays flat.
# Usage: bench/parse.sh [CORPUS_MB]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
corpus_mb="${1:-200}"
work="$root/.cache/bench"
mkdir -p "$work"

command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
pp="$(scripts/debian-fetch.sh panicparse)/usr/bin/panicparse"
[ -f dist/cli/bin.js ] || npm run build >/dev/null
gocrash=(node "$root/dist/cli/bin.js")
# Seconds after which a run is stopped (panicparse does not finish some inputs).
limit=120

# The corpus: every fixture that panicparse reads to the end (it gives up on race reports and on
# lines spliced by other threads), repeated until it reaches the size.
corpus="$work/corpus-${corpus_mb}mb.txt"
mapfile -t all < <(find test/fixtures/crashes -name '*.txt' | sort)
files=()
rejected=()
for f in "${all[@]}"; do
	if "$pp" -no-color -rebase=false "$f" > /dev/null 2>&1; then files+=("$f"); else rejected+=("$f"); fi
done
[ "${#files[@]}" -gt 0 ] || { echo "no fixtures in test/fixtures/crashes" >&2; exit 1; }
# Writes FILE... to OUT again and again until it holds at least BYTES.
fill() {
	local out="$1" bytes="$2"
	shift 2
	: > "$out.tmp"
	while [ "$(stat -c %s "$out.tmp")" -lt "$bytes" ]; do cat "$@" >> "$out.tmp"; done
	mv "$out.tmp" "$out"
}
[ -s "$corpus" ] || fill "$corpus" $((corpus_mb * 1024 * 1024)) "${files[@]}"

# The log archive: the small crashes among those files, repeated until it reaches the size.
archive="$work/archive-${corpus_mb}mb.txt"
if [ ! -s "$archive" ]; then
	mapfile -t small < <(for f in "${files[@]}"; do s="$(stat -c %s "$f")"; [ "$s" -ge 1024 ] && [ "$s" -le 30720 ] && echo "$f"; done)
	fill "$archive" $((corpus_mb * 1024 * 1024)) "${small[@]}"
fi

# The 100k-goroutine dumps, from a real Go program.
many="$work/many-100k.txt"
distinct="$work/many-100k-distinct.txt"
if [ ! -s "$many" ] || [ ! -s "$distinct" ]; then
	go="$(scripts/go-toolchain.sh 1.24)"
	(cd bench/many-goroutines && GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off "$go" build -o "$work/many-goroutines" .)
	GOTRACEBACK=all "$work/many-goroutines" 100000 > "$many" 2>&1 || true
	GOTRACEBACK=all "$work/many-goroutines" 100000 distinct > "$distinct" 2>&1 || true
fi
# The 100k-bucket dump where two processes read it: the second starts at a crash a little past
# the middle (src/cli/_parse-parallel.ts), here among the fixtures before the dump.
joined="$work/fixtures-then-many-100k-distinct.txt"
if [ ! -s "$joined" ] || [ "$joined" -ot "$distinct" ]; then
	fill "$joined.fixtures" $(($(stat -c %s "$distinct") * 3 / 2)) "${files[@]}"
	cat "$joined.fixtures" "$distinct" > "$joined"
	rm "$joined.fixtures"
fi

# Runs a command three times on a file, each stopped after $limit seconds; prints the best wall
# time (s) and the largest RSS (KiB), and "stopped" when a run was stopped (then once only).
measure() {
	local input="$1" best="" rss=0 t m
	shift
	for _ in 1 2 3; do
		if ! /usr/bin/time -f "%e %M" -o "$work/time.txt" timeout "$limit" "$@" < "$input" > /dev/null 2>&1 &&
			[ "$(tail -n 1 "$work/time.txt" | cut -d' ' -f1 | cut -d. -f1)" -ge "$limit" ]; then
			read -r t m < <(tail -n 1 "$work/time.txt")
			echo "$t $m stopped"
			return
		fi
		read -r t m < <(tail -n 1 "$work/time.txt")
		if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best="$t"; fi
		[ "$m" -gt "$rss" ] && rss="$m"
	done
	echo "$best $rss"
}

# Goroutines each tool reports: gocrash from its JSON, panicparse from its bucket counts.
gocrash_goroutines() {
	"${gocrash[@]}" parse --json < "$1" | node -e '
		let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () =>
			console.log(JSON.parse(s).crashes.reduce((n, c) => n + c.goroutineCount, 0)));'
}
panicparse_goroutines() {
	local status=0
	timeout "$limit" "$pp" -no-color -rebase=false < "$1" > "$work/panicparse.txt" 2>/dev/null || status=$?
	if [ "$status" -eq 124 ]; then echo "none (stopped after $limit s)"; return; fi
	awk -F: '/^[0-9]+: /{n+=$1} END{print n+0}' "$work/panicparse.txt"
}

# One row of the table: tool, best seconds, peak RSS in KiB, a note; $mb is the input's MiB.
row() {
	printf '%-34s %9s %10.1f %12.1f %11.1fx%s\n' "$1" "$2" "$(awk "BEGIN{print $mb/$2}")" \
		"$(awk "BEGIN{print $3/1024}")" "$(awk "BEGIN{print $3/1024/$mb}")" "${4:-}"
}

# Reports on one input; a third argument is the most peak RSS gocrash may take, as a multiple of
# the input's size, warned about when exceeded.
report() {
	local name="$1" input="$2" max_ratio="${3:-}" mb expected g p gt gm st sm pt pm ps jt jm kt km
	mb="$(awk "BEGIN{printf \"%.1f\", $(stat -c %s "$input") / 1048576}")"
	expected="$(grep -c -E '^goroutine [0-9]+ .*\]:$' "$input" || true)"
	g="$(gocrash_goroutines "$input")"
	p="$(panicparse_goroutines "$input")"
	read -r gt gm <<< "$(NO_COLOR=1 measure "$input" "${gocrash[@]}" parse)"
	read -r st sm <<< "$(NO_COLOR=1 GOCRASH_PARALLEL=0 measure "$input" "${gocrash[@]}" parse)"
	read -r jt jm <<< "$(measure "$input" "${gocrash[@]}" parse --json)"
	read -r kt km <<< "$(GOCRASH_PARALLEL=0 measure "$input" "${gocrash[@]}" parse --json)"
	read -r pt pm ps <<< "$(measure "$input" "$pp" -no-color -rebase=false)"
	echo "## $name: $mb MB, $expected goroutine headers"
	echo "goroutines read: gocrash $g, panicparse $p"
	printf '%-34s %9s %10s %12s %12s\n' tool seconds "MB/s" "peak RSS MiB" "RSS / input"
	row "gocrash parse" "$gt" "$gm"
	row "gocrash parse, one process" "$st" "$sm"
	row "gocrash parse --json" "$jt" "$jm"
	row "gocrash parse --json, one process" "$kt" "$km"
	row "panicparse -no-color -rebase=false" "$pt" "$pm" "${ps:+  stopped after $limit s, not done}"
	awk "BEGIN{printf \"speed: gocrash parse is %s%.2fx panicparse (one process: %.2fx; --json: %.2fx, one process: %.2fx)\n\", \"${ps:+over }\", $pt/$gt, $pt/$st, $pt/$jt, $pt/$kt}"
	awk "BEGIN{printf \"peak memory: gocrash parse %.2fx panicparse's; against the input %.1fx (one process: %.1fx; --json: %.1fx, one process: %.1fx)\n\", $gm/$pm, $gm/1024/$mb, $sm/1024/$mb, $jm/1024/$mb, $km/1024/$mb}"
	[ "$g" = "$expected" ] || echo "WARNING: gocrash read $g goroutines, expected $expected"
	for m in "$gm" "$sm" "$jm" "$km"; do
		if [ -n "$max_ratio" ] && awk "BEGIN{exit !($m / 1024 > $max_ratio * $mb)}"; then
			echo "WARNING: gocrash's peak RSS is over ${max_ratio}x the input"
			break
		fi
	done
	echo
}

echo "# gocrash parse vs panicparse 2.5.0 ($(nproc) cores, $(node --version))"
echo "(gocrash parse, with or without --json, reads a file of 96 MiB or more with two processes when"
echo "it has two cores; its peak RSS is then the larger process's. The one-process rows have"
echo "GOCRASH_PARALLEL=0.)"
echo
echo "panicparse fails on ${#rejected[@]} of ${#all[@]} real crash fixtures (gocrash reads all of them):"
for f in "${rejected[@]}"; do { "$pp" -no-color -rebase=false "$f" 2>&1 || true; } | grep -o 'Failed: .*' | cut -c1-60; done | sort | uniq -c | sort -rn
echo
report "mixed real crashes" "$corpus"
report "log archive: small crashes" "$archive"
report "one 100k-goroutine dump" "$many"
report "100k-goroutine dump, every goroutine's arguments its own" "$distinct" 5
report "fixtures, then that 100k-bucket dump (two processes: the second reads the dump)" "$joined" 5

echo "## 1 GB streamed through gocrash parse --json (5 x the corpus on stdin)"
for _ in 1 2 3 4 5; do cat "$corpus"; done | /usr/bin/time -f "%e %M" -o "$work/time.txt" "${gocrash[@]}" parse --json > /dev/null
read -r bt bm < "$work/time.txt"
read -r _ sm <<< "$(measure "$corpus" "${gocrash[@]}" parse --json)"
awk "BEGIN{printf \"%.0f MB in %ss; peak RSS %.1f MiB (%.1f MiB on the %s MB corpus)\n\", 5*$(stat -c %s "$corpus")/1048576, \"$bt\", $bm/1024, $sm/1024, $corpus_mb}"
