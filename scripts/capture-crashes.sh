#!/usr/bin/env bash
# Regenerate test/fixtures/crashes/: real crash output of test/crashgen from every Debian Go
# toolchain, on amd64 (native) and arm64 (under qemu-aarch64).
#
# For each toolchain and architecture it builds crashgen three ways (plain CGO_ENABLED=0, cgo,
# and -race), runs every scenario (`crashgen matrix`) at each of its GOTRACEBACK levels with a
# timeout, and writes go<version>-<arch>/<scenario>[.<level>].txt (stderr and stdout as
# printed, then one line appended by this script: `exit status N`, or `signal: aborted` and the
# like, as `go run` prints it; both streams go through one pipe, as in a log pipeline, so that
# other threads' writes interleave as they would there) and a sibling <name>.meta.json (how it was made, the exit status,
# and the generator's own expectation from CRASHGEN_EXPECT). `crashgen verify` checks each
# capture against its expectation; flaky captures are retried.
#
# Race scenarios on arm64: the script probes once whether a -race binary runs under qemu; on an
# x86-64 host it does not (ThreadSanitizer: unsupported VMA range, qemu gives the guest a 39-bit
# address space and the arm64 race runtime needs 48), so those fixtures are skipped.
#
# Usage: scripts/capture-crashes.sh [VERSION...]     (default: every version below)
#        scripts/capture-crashes.sh --readme          (rewrite the fixtures' README only)
#   CRASHGEN_ARCHES="amd64 arm64"   architectures to capture
#   CRASHGEN_SCENARIOS="a b"        only these scenarios (keeps the other fixtures)
# Needs root for apt-get when qemu-user or the arm64 cross compiler is missing. Takes a while.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
versions=(1.19 1.21 1.22 1.23 1.24 1.25 1.26)
readme_only=
if [ "${1:-}" = --readme ]; then
	readme_only=1
	shift
fi
[ "$#" -gt 0 ] && versions=("$@")
read -r -a arches <<<"${CRASHGEN_ARCHES:-amd64 arm64}"
read -r -a only <<<"${CRASHGEN_SCENARIOS:-}"
fixtures="$root/test/fixtures/crashes"
src=/tmp/crashgen # a fixed path, so file paths in the captured frames do not depend on the clone
work=/tmp/crashgen-work
log="$work/capture.log"
native_timeout=60
qemu_timeout=120
attempts=5

export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off
export GOCACHE="$root/.cache/go-build" GOPATH="$root/.cache/gopath"

say() { echo "capture-crashes: $*" >&2; }
die() {
	say "$*"
	exit 1
}

apt_updated=
need() { # need COMMAND-OR-PATH PACKAGE
	if [ -e "$1" ] || command -v "$1" >/dev/null 2>&1; then return; fi
	if [ -z "$apt_updated" ]; then
		apt-get update -qq >&2 || die "apt-get update failed"
		apt_updated=1
	fi
	say "installing $2"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2 || die "cannot install $2"
}
need gcc gcc
need timeout coreutils
need node nodejs
for arch in "${arches[@]}"; do
	if [ "$arch" = arm64 ]; then
		need qemu-aarch64 qemu-user
		need aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
		need /usr/aarch64-linux-gnu/lib/crt1.o libc6-dev-arm64-cross
	fi
done

rm -rf "$src" "$work"
mkdir -p "$work" "$fixtures"
cp -r "$root/test/crashgen" "$src"
: >"$log"
started=$(date +%s)
missing=()

# go_exit_line STATUS: the line `go run` prints for a child's shell exit status (os/exec
# ExitError: "exit status N", or "signal: <name>" for a child killed by a signal).
go_exit_line() {
	local status=$1
	if [ "$status" -gt 128 ] && [ "$status" -lt 160 ]; then
		case $((status - 128)) in
		3) echo "signal: quit" ;;
		4) echo "signal: illegal instruction" ;;
		5) echo "signal: trace/breakpoint trap" ;;
		6) echo "signal: aborted" ;;
		7) echo "signal: bus error" ;;
		8) echo "signal: floating point exception" ;;
		9) echo "signal: killed" ;;
		11) echo "signal: segmentation fault" ;;
		15) echo "signal: terminated" ;;
		*) echo "signal: $((status - 128))" ;;
		esac
	else
		echo "exit status $status"
	fi
}

# write_meta FILE KEY=VALUE...: the fixture's .meta.json (node formats it; values are strings
# except the keys named in the script, and expect, which is the path of the expectation file).
write_meta() {
	local file=$1
	shift
	node - "$file" "$@" <<'JS'
const fs = require("node:fs");
const [file, ...pairs] = process.argv.slice(2);
const meta = { generator: "test/crashgen" };
for (const pair of pairs) {
	const i = pair.indexOf("=");
	const key = pair.slice(0, i);
	const value = pair.slice(i + 1);
	if (key === "expect") {
		let expect = null;
		try {
			expect = JSON.parse(fs.readFileSync(value, "utf8"));
		} catch {}
		meta.expect = expect;
	} else if (key === "exitSignal") {
		meta[key] = value === "" ? null : value;
	} else if (key === "exitStatus" || key === "shellStatus" || key === "attempts") {
		meta[key] = value === "" ? null : Number(value);
	} else if (key === "problems" || key === "removedLines" || key === "earlierProblems") {
		meta[key] = value === "" ? [] : value.split("\n");
	} else if (key === "verified") {
		meta[key] = value === "true";
	} else {
		meta[key] = value;
	}
}
fs.writeFileSync(file, `${JSON.stringify(meta, null, 2)}\n`);
JS
}

# write_readme: test/fixtures/crashes/README.md, from the scenario matrix and this run.
write_readme() {
	cat <<'README'
# Real Go crash output

Every file here was made by `scripts/capture-crashes.sh`: it builds the crash generator
`test/crashgen` (a Go program that crashes on purpose, in the way its argument names) with each
Debian Go toolchain (`scripts/go-toolchain.sh`), for amd64 (run natively) and arm64 (run under
`qemu-aarch64`), and runs every scenario at the GOTRACEBACK levels listed below. Regenerate with
`scripts/capture-crashes.sh` (as root, with Debian's archive reachable); do not edit the files
by hand.

## Layout

`go<version>-<arch>/<scenario>[.<level>].txt` is the output exactly as the program printed it,
stderr and stdout through one pipe into one file, with one line appended by the script: the exit status as
`go run` prints it (`exit status 2`, or `signal: aborted` for a process killed by a signal).
No level suffix means GOTRACEBACK unset (the default, `single`). Under qemu-user, the
emulator's own `qemu: uncaught target signal ...` line is removed (the meta lists it).

`<name>.meta.json` says how the file was made: `generator`, `scenario`, `goVersion`, `goarch`,
`gotraceback`, `debianPackage` (the toolchain's .deb), `build` (the `go build` command, run in
a copy of test/crashgen at /tmp/crashgen, hence the /tmp/crashgen/*.go paths in frames),
`command` (how the binary was run, with its environment; every run also had `CRASHGEN_EXPECT`
set, ran under `timeout` with `ulimit -c 0`), `exitStatus` (null when a signal ended the
process), `exitSignal`, `shellStatus`, `exitLine`, `removedLines`, `attempts` (with
`earlierProblems`: why earlier attempts were retried), `verified` (with `problems` when
false), and `expect`.

`expect` is what the generator knew when it crashed (written just before the crash): the first
reason line (`message`, compared `exact`ly or as a `prefix`), lines that must start (`lines`)
or occur within (`contains`) some line, the goroutine ids that must appear in a
`goroutine N [...]:` header (`goroutines`: this depends on the level and on the kind of crash,
see `allGoroutines`), `crashingGoroutine` (or `crashingCandidates`), `minGoroutines`, every
goroutine the scenario started (`startedGoroutines`) with its stack shape (`groups`), its
parent (`createdBy`) and its state as runtime.Stack showed it just before the crash
(`states`), the `ancestors` expected with GODEBUG=tracebackancestors, `elided` (`middle` for
`...N frames elided...`, `end` for `...additional frames elided...`), the race report facts
(`races`, `raceMainGoroutine`; race reports number goroutines with the race runtime's own
ids, not goroutine ids), `loggedGoroutines` (stacks
logged by net/http before the crash) and the expected exit. `crashgen verify FILE.txt` checks
a fixture against it; every fixture here passed unless its meta says `"verified": false`.

## Scenarios

`name` — binary (plain: CGO_ENABLED=0; cgo; race: -race) — GOTRACEBACK levels — extras:

README
	"$verifier" matrix | while IFS=$'\t' read -r scenario kind levels extra_env ulimit_v about; do
		extra=
		[ "$extra_env" = - ] || extra=" — $extra_env"
		[ "$ulimit_v" = - ] || extra="$extra — ulimit -v $ulimit_v"
		echo "- \`$scenario\` — $kind — ${levels//,/, }$extra: $about"
	done
	echo
	echo "## Toolchains"
	echo
	local dir pkg
	for dir in "$fixtures"/go*-*/; do
		dir="${dir%/}"
		pkg="$(grep -h -m 1 '"debianPackage"' "$dir"/*.meta.json | head -n 1 | sed 's/.*: "\(.*\)".*/\1/')"
		cross=
		[[ $dir == *-arm64 ]] && cross=", cross-compiling with GOARCH=arm64"
		echo "- \`$(basename "$dir")\`: $(find "$dir" -name '*.txt' | wc -l) fixtures; Debian's $pkg$cross"
	done
	echo
	echo "## Not captured"
	echo
	# From the files on disk, so that a partial run (CRASHGEN_SCENARIOS) keeps this complete.
	local scenario kind levels extra_env ulimit_v about level name arm64_race_missing=
	for dir in "$fixtures"/go*-*/; do
		dir="${dir%/}"
		while IFS=$'\t' read -r scenario kind levels extra_env ulimit_v about; do
			IFS=, read -r -a level_list <<<"$levels"
			for level in "${level_list[@]}"; do
				name="$scenario"
				[ "$level" = single ] || name="$scenario.$level"
				if [ ! -f "$dir/$name.txt" ]; then
					if [ "$kind" = race ] && [[ $dir == *-arm64 ]]; then
						arm64_race_missing=1
					else
						echo "- \`$(basename "$dir")/$name\`: not captured (see the capture log)"
					fi
				elif grep -q '"verified": false' "$dir/$name.meta.json"; then
					echo "- \`$(basename "$dir")/$name\`: captured, but not as the generator expected (its meta lists the problems)"
				fi
			done
		done < <("$verifier" matrix)
	done
	if [ -n "$arm64_race_missing" ]; then
		echo "- Race scenarios on arm64: a -race binary does not start under qemu-aarch64 on an x86-64"
		echo "  host (\`FATAL: ThreadSanitizer: unsupported VMA range\` / \`Found 39 - Supported 48\`:"
		echo "  the emulated address space has 39 bits, the arm64 race runtime needs 48)."
	fi
}

build() { # build GO ARCH KIND OUTPUT: prints the build command, or fails
	local go=$1 arch=$2 kind=$3 bin=$4
	local env=(GOARCH="$arch") flags=()
	case $kind in
	plain) env+=(CGO_ENABLED=0) ;;
	cgo | race)
		env+=(CGO_ENABLED=1)
		[ "$arch" = arm64 ] && env+=(CC=aarch64-linux-gnu-gcc)
		[ "$kind" = race ] && flags+=(-race)
		;;
	esac
	(cd "$src" && env "${env[@]}" "$go" build "${flags[@]}" -o "$bin" .) >>"$log" 2>&1 || return 1
	echo "${env[*]} go build ${flags[*]}${flags[*]:+ }-o $(basename "$bin") ."
}

if [ -n "$readme_only" ]; then
	verifier="$work/verify"
	go="$("$root/scripts/go-toolchain.sh" "${versions[-1]}")" || die "no toolchain"
	(cd "$src" && env -u GOARCH CGO_ENABLED=0 "$go" build -o "$verifier" .) >>"$log" 2>&1 || die "cannot build crashgen"
	write_readme >"$fixtures/README.md"
	exit 0
fi

arm64_race_ok=unknown
for version in "${versions[@]}"; do
	go="$("$root/scripts/go-toolchain.sh" "$version")" || die "no toolchain for $version"
	full="$("$go" env GOVERSION)"
	deb="$(basename "$(ls -t "$root"/.cache/apt/*/cache/archives/golang-"$version"-go_*.deb 2>/dev/null | head -n 1)")"
	for arch in "${arches[@]}"; do
		bindir="$work/$full-$arch"
		mkdir -p "$bindir"
		declare -A built=()
		for kind in plain cgo race; do
			if [ "$kind" = race ] && [ "$arch" = arm64 ] && [ "$arm64_race_ok" = no ]; then continue; fi
			if cmd="$(build "$go" "$arch" "$kind" "$bindir/crashgen-$kind")"; then
				built[$kind]="$cmd"
			else
				say "$full $arch: the $kind build failed (see $log)"
			fi
		done
		runner=()
		[ "$arch" = arm64 ] && runner=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
		if [ "$arch" = arm64 ] && [ -n "${built[race]:-}" ] && [ "$arm64_race_ok" = unknown ]; then
			(cd "$bindir" && timeout -k 5 "$qemu_timeout" "${runner[@]}" ./crashgen-race race-global) >"$work/race-probe.txt" 2>&1
			if [ $? = 66 ] && grep -q '^WARNING: DATA RACE$' "$work/race-probe.txt"; then
				arm64_race_ok=yes
			else
				arm64_race_ok=no
				say "arm64: -race binaries do not run under qemu-aarch64: $(head -n 2 "$work/race-probe.txt" | tr '\n' ' ')"
				unset 'built[race]'
			fi
		fi
		[ -n "${built[plain]:-}" ] || die "$full $arch: cannot build crashgen"
		timeout_s=$native_timeout
		[ "$arch" = arm64 ] && timeout_s=$qemu_timeout
		outdir="$fixtures/$full-$arch"
		if [ "${#only[@]}" -eq 0 ]; then
			# Remove this script's files only: others (e.g. parser goldens) may live beside them.
			for old in "$fixtures"/go"$version".*-"$arch" "$fixtures/go$version-$arch"; do
				[ -d "$old" ] || continue
				rm -f "$old"/*.txt "$old"/*.meta.json
				rmdir "$old" 2>/dev/null || true
			done
		fi
		mkdir -p "$outdir"
		verifier="$work/verify"
		[ -x "$verifier" ] || (cd "$src" && env -u GOARCH CGO_ENABLED=0 "$go" build -o "$verifier" .) >>"$log" 2>&1 ||
			die "cannot build the verifier"
		say "$full $arch: running scenarios"
		while IFS=$'\t' read -r scenario kind levels extra_env ulimit_v about; do
			if [ "${#only[@]}" -gt 0 ] && [[ " ${only[*]} " != *" $scenario "* ]]; then continue; fi
			if [ -z "${built[$kind]:-}" ]; then
				missing+=("$full $arch $scenario: no $kind binary")
				continue
			fi
			IFS=, read -r -a level_list <<<"$levels"
			for level in "${level_list[@]}"; do
				name="$scenario"
				[ "$level" = single ] || name="$scenario.$level"
				out="$outdir/$name.txt"
				expect="$work/expect.json"
				env_list=()
				[ "$level" = single ] || env_list+=("GOTRACEBACK=$level")
				if [ "$extra_env" != - ]; then
					read -r -a more <<<"$extra_env"
					env_list+=("${more[@]}")
				fi
				shown_runner="${runner[*]}"
				command="${env_list[*]}${env_list[*]:+ }${shown_runner}${shown_runner:+ }./crashgen-$kind $scenario"
				[ "$ulimit_v" = - ] || command="ulimit -v $ulimit_v; $command"
				attempt=0
				earlier=
				while :; do
					attempt=$((attempt + 1))
					rm -f "$expect"
					# (The outer braces keep bash's own "Aborted" job notices out of the terminal.)
					{ (
						cd "$bindir" || exit 3
						ulimit -c 0
						[ "$ulimit_v" = - ] || ulimit -v "$ulimit_v"
						exec timeout -k 5 "$timeout_s" env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 \
							"${env_list[@]}" CRASHGEN_EXPECT="$expect" \
							bash -c '"$@" 2>&1 | cat >"$0"; exit "${PIPESTATUS[0]}"' "$out.raw" "${runner[@]}" "./crashgen-$kind" "$scenario"
					) 2>>"$log"; } 2>>"$log"
					status=$?
					# qemu-user reports a guest killed by a signal on stderr; that line is not Go's.
					removed="$(grep -a '^qemu: uncaught target signal' "$out.raw" || true)"
					grep -av '^qemu: uncaught target signal' "$out.raw" >"$out" || true
					rm -f "$out.raw"
					[ -z "$(tail -c 1 "$out")" ] || echo >>"$out"
					exit_line="$(go_exit_line "$status")"
					echo "$exit_line" >>"$out"
					exit_status=$status
					exit_signal=
					if [[ $exit_line == signal:* ]]; then
						exit_status=
						exit_signal="SIG$(kill -l $((status - 128)))"
					fi
					meta=(scenario="$scenario" goVersion="$full" goarch="$arch" gotraceback="$level"
						debianPackage="$deb" build="${built[$kind]}" command="$command"
						exitStatus="$exit_status" exitSignal="$exit_signal" shellStatus="$status"
						exitLine="the last line, '$exit_line', was appended by scripts/capture-crashes.sh as go run prints it"
						removedLines="$removed" attempts="$attempt" earlierProblems="$earlier" expect="$expect")
					write_meta "$outdir/$name.meta.json" "${meta[@]}"
					problems="$("$verifier" verify "$out" | sed "s|^$out: ||")"
					if [ -z "$problems" ]; then
						write_meta "$outdir/$name.meta.json" "${meta[@]}" verified=true
						break
					fi
					earlier="$earlier${earlier:+$'\n'}$(echo "$problems" | sed "s/^/attempt $attempt: /")"
					if [ "$attempt" -ge "$attempts" ]; then
						say "$full $arch $name: not as expected after $attempt attempts:"
						echo "$problems" | sed 's/^/    /' >&2
						write_meta "$outdir/$name.meta.json" "${meta[@]}" verified=false problems="$problems"
						missing+=("$full $arch $name: captured, but not as the generator expected")
						break
					fi
				done
			done
		done < <("$verifier" matrix)
		unset built
	done
done

write_readme >"$fixtures/README.md"
elapsed=$(($(date +%s) - started))
size="$(find "$fixtures" \( -name '*.txt' -o -name '*.meta.json' \) -printf '%s\n' | awk '{s += $1} END {printf "%.1f MB", s / 1e6}')"
say "done in $((elapsed / 60))m$((elapsed % 60))s; fixtures (.txt and .meta.json): $size"
if [ "${#only[@]}" -eq 0 ] && [ "$arm64_race_ok" = no ]; then
	say "skipped: race scenarios on arm64 (-race binaries do not run under qemu-aarch64)"
fi
for m in "${missing[@]}"; do say "missing: $m"; done
