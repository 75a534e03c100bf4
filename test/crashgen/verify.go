package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// `crashgen verify FIXTURE.txt...` checks captured crash text against the expectation stored
// in its sibling FIXTURE.meta.json, printing one line per problem; it exits 1 when any fixture
// has a problem. The capture script uses it to retry and to report.

var (
	headerRE    = regexp.MustCompile(`^goroutine (\d+)(?: gp=\S+ m=\S+(?: mp=\S+)?)? \[([^\]]*)\]:$`)
	reasonRE    = regexp.MustCompile(`^(?:panic: |fatal error: )`)
	signalRE    = regexp.MustCompile(`^SIG[A-Z0-9]+: `)
	elidedRE    = regexp.MustCompile(`^\.\.\.\d+ frames elided\.\.\.$`)
	exitLineRE  = regexp.MustCompile(`^(?:exit status \d+|signal: .+)$`)
	ancestorsRE = regexp.MustCompile(`^\[originating from goroutine (\d+)\]:$`)
)

type fixtureMeta struct {
	ExitStatus *int         `json:"exitStatus"`
	ExitSignal string       `json:"exitSignal"`
	Expect     *expectation `json:"expect"`
}

func verify(paths []string) int {
	bad := 0
	for _, path := range paths {
		problems := verifyFixture(path)
		for _, p := range problems {
			fmt.Printf("%s: %s\n", path, p)
		}
		if len(problems) > 0 {
			bad++
		}
	}
	if bad > 0 {
		return 1
	}
	return 0
}

func verifyFixture(path string) []string {
	text, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	metaPath := strings.TrimSuffix(path, ".txt") + ".meta.json"
	raw, err := os.ReadFile(metaPath)
	if err != nil {
		return []string{err.Error()}
	}
	var meta fixtureMeta
	if err := json.Unmarshal(raw, &meta); err != nil {
		return []string{metaPath + ": " + err.Error()}
	}
	e := meta.Expect
	if e == nil {
		return []string{"no expectation: the generator did not get as far as writing it"}
	}
	var problems []string
	fail := func(format string, args ...interface{}) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	if len(lines) == 0 || !exitLineRE.MatchString(lines[len(lines)-1]) {
		fail("the last line is not an appended exit status")
	} else {
		lines = lines[:len(lines)-1]
	}

	// The reason line.
	reasonAt := -1
	for i, l := range lines {
		var ok bool
		switch e.Kind {
		case kindRace:
			ok = l == "WARNING: DATA RACE"
		case kindSignal:
			ok = signalRE.MatchString(l)
		default:
			ok = reasonRE.MatchString(l)
		}
		if ok {
			reasonAt = i
			break
		}
	}
	if e.Message != nil {
		switch {
		case reasonAt < 0:
			fail("no reason line (expected %q)", *e.Message)
		case e.MessageMatch == "prefix" && !strings.HasPrefix(lines[reasonAt], *e.Message):
			fail("reason line %q does not start with %q", lines[reasonAt], *e.Message)
		case e.MessageMatch != "prefix" && lines[reasonAt] != *e.Message:
			fail("reason line %q is not %q", lines[reasonAt], *e.Message)
		}
	}
	for _, want := range e.Lines {
		if !anyLine(lines, func(l string) bool { return strings.HasPrefix(l, want) }) {
			fail("no line starts with %q", want)
		}
	}
	for _, want := range e.Contains {
		if !anyLine(lines, func(l string) bool { return strings.Contains(l, want) }) {
			fail("no line contains %q", want)
		}
	}

	if e.InterleavedWith != "" {
		start := strings.Index(string(text), "panic: ")
		if start < 0 || !strings.Contains(string(text[start:]), e.InterleavedWith) {
			fail("no %q after the start of the panic", e.InterleavedWith)
		}
	}

	// Goroutine headers after the reason line, and before it (logged stacks).
	after := map[int64]string{}
	before := map[int64]bool{}
	var first int64 = -1
	count := 0
	// The reason block (the value's continuation lines, `[signal ...`, a panic chain) ends at
	// the first blank line; a multi-line panic value may contain header-like lines.
	blockEnd := reasonAt
	for blockEnd >= 0 && blockEnd < len(lines) && lines[blockEnd] != "" {
		blockEnd++
	}
	for i, l := range lines {
		m := headerRE.FindStringSubmatch(l)
		if m == nil || (i >= reasonAt && i < blockEnd) {
			continue
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		if i < reasonAt {
			before[id] = true
			continue
		}
		if first < 0 {
			first = id
		}
		count++
		if _, seen := after[id]; !seen {
			after[id] = m[2]
		}
	}
	for _, id := range e.Goroutines {
		if _, ok := after[id]; !ok {
			fail("goroutine %d is not in the dump", id)
		}
	}
	if count < e.MinGoroutines {
		fail("%d goroutine headers, expected at least %d", count, e.MinGoroutines)
	}
	if e.CrashingGoroutine != nil && len(e.Goroutines) > 0 && e.Kind != kindSignal && e.Kind != kindSchedFatal && e.Kind != kindRace {
		if first != *e.CrashingGoroutine {
			fail("the first goroutine printed is %d, expected the crashing goroutine %d", first, *e.CrashingGoroutine)
		}
	}
	if len(e.CrashingCandidates) > 0 && first >= 0 && !contains(e.CrashingCandidates, first) {
		fail("the first goroutine printed is %d, expected one of %v", first, e.CrashingCandidates)
	}
	if e.AllGoroutines {
		for key, state := range e.States {
			id, _ := strconv.ParseInt(key, 10, 64)
			if got, ok := after[id]; ok && got != state && !strings.HasPrefix(got, state+",") {
				fail("goroutine %d is [%s], expected [%s]", id, got, state)
			}
		}
	}
	for _, id := range e.LoggedGoroutines {
		if !before[id] {
			fail("logged goroutine %d is not before the reason line", id)
		}
	}
	for _, list := range e.Ancestors {
		for _, id := range list {
			want := fmt.Sprintf("[originating from goroutine %d]:", id)
			if !anyLine(lines, func(l string) bool { return l == want }) {
				fail("no ancestor block %q", want)
			}
		}
	}
	if len(e.Ancestors) == 0 && anyLine(lines, ancestorsRE.MatchString) {
		fail("unexpected ancestor block")
	}
	switch e.Elided {
	case "middle":
		if !anyLine(lines, elidedRE.MatchString) {
			fail("no `...N frames elided...` line")
		}
	case "end":
		if !anyLine(lines, func(l string) bool { return l == "...additional frames elided..." }) {
			fail("no `...additional frames elided...` line")
		}
	case "truncated":
		if anyLine(lines, elidedRE.MatchString) {
			fail("a `...N frames elided...` line before go1.21")
		}
	}

	// Race reports.
	races := 0
	for _, l := range lines {
		if l == "WARNING: DATA RACE" {
			races++
		}
	}
	if races != e.Races {
		fail("%d race reports, expected %d", races, e.Races)
	}
	if e.RaceMainGoroutine && !anyLine(lines, func(l string) bool { return strings.Contains(l, "by main goroutine") }) {
		fail("no `by main goroutine` in the race report")
	}

	// Exit.
	switch {
	case e.ExitCode != nil && (meta.ExitStatus == nil || *meta.ExitStatus != *e.ExitCode):
		fail("exit status %v, expected %d", fmtIntPtr(meta.ExitStatus), *e.ExitCode)
	case e.ExitSignal != "" && meta.ExitSignal != e.ExitSignal:
		fail("exit signal %q, expected %q", meta.ExitSignal, e.ExitSignal)
	}
	return problems
}

func anyLine(lines []string, f func(string) bool) bool {
	for _, l := range lines {
		if f(l) {
			return true
		}
	}
	return false
}

func contains(list []int64, id int64) bool {
	for _, x := range list {
		if x == id {
			return true
		}
	}
	return false
}

func fmtIntPtr(p *int) string {
	if p == nil {
		return "none"
	}
	return strconv.Itoa(*p)
}
