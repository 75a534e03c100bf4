package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// crashKind names the runtime path that prints the crash; it decides which goroutines the
// runtime prints (runtime/panic.go dopanic_m, runtime/runtime1.go gotraceback).
type crashKind string

const (
	// kindPanic is an unrecovered panic (runtime.fatalpanic): only the panicking goroutine
	// unless GOTRACEBACK is all or higher.
	kindPanic crashKind = "panic"
	// kindUserFatal is runtime.fatal called on a user goroutine (concurrent map writes, sync
	// misuse): every goroutine up to go1.25; from go1.26 only the current one at single.
	kindUserFatal crashKind = "fatal"
	// kindSchedFatal is runtime.fatal on the system stack (deadlock detection): every goroutine.
	kindSchedFatal crashKind = "fatal-scheduler"
	// kindThrow is runtime.throw, a runtime failure: every goroutine, with runtime frames.
	kindThrow crashKind = "throw"
	// kindSignal is a signal the runtime did not turn into a panic (SIGQUIT, SIGABRT, a fault
	// in C code): every goroutine, runtime frames, then a register dump.
	kindSignal crashKind = "signal"
	// kindRace is data race reports and no crash: no goroutine dump at all.
	kindRace crashKind = "race"
)

// expectation is what the crash output must contain; it is written to $CRASHGEN_EXPECT.
type expectation struct {
	Scenario  string `json:"scenario"`
	GoVersion string `json:"goVersion"`
	Goarch    string `json:"goarch"`
	// Gotraceback is $GOTRACEBACK as the program saw it ("" when unset).
	Gotraceback string `json:"gotraceback"`
	// EffectiveTraceback is the level after any debug.SetTraceback call by the scenario.
	EffectiveTraceback string    `json:"effectiveTraceback"`
	Kind               crashKind `json:"kind"`
	// Message is the first line of the crash reason (`panic: ...`, `fatal error: ...`,
	// `SIGQUIT: quit`, `WARNING: DATA RACE`), or null when it cannot be known.
	Message *string `json:"message"`
	// MessageMatch says how Message compares with that line: "exact" or "prefix".
	MessageMatch string `json:"messageMatch,omitempty"`
	// Lines must each start some line of the output (e.g. the `[signal SIGSEGV: ...` line).
	Lines []string `json:"lines,omitempty"`
	// Contains must each occur within some line of the output.
	Contains []string `json:"contains,omitempty"`
	// InterleavedWith is text another thread writes during the crash: it must occur after the
	// start of the reason line (which it may split).
	InterleavedWith string `json:"interleavedWith,omitempty"`
	// Goroutines are the ids that must appear in a `goroutine N [...]:` header of the dump.
	Goroutines []int64 `json:"goroutines"`
	// CrashingGoroutine is the goroutine that panicked or threw, when it is known.
	CrashingGoroutine *int64 `json:"crashingGoroutine"`
	// CrashingCandidates holds the goroutines one of which crashes, when it is not known which.
	CrashingCandidates []int64 `json:"crashingCandidates,omitempty"`
	// MinGoroutines is a lower bound on the goroutine headers printed at this level.
	MinGoroutines int `json:"minGoroutines"`
	// AllGoroutines says whether the runtime prints every user goroutine at this level.
	AllGoroutines bool `json:"allGoroutines"`
	// RuntimeFrames says whether runtime frames and fp/sp/pc are shown (level system or a throw).
	RuntimeFrames bool `json:"runtimeFrames"`
	// Started lists every goroutine the scenario started, printed or not.
	Started []int64 `json:"startedGoroutines"`
	// States maps a goroutine id to its state as runtime.Stack showed it just before the crash.
	States map[string]string `json:"states,omitempty"`
	// Groups maps a stack shape name to the goroutines started with that shape.
	Groups map[string][]int64 `json:"groups,omitempty"`
	// CreatedBy maps a goroutine id to the id of the goroutine that started it.
	CreatedBy map[string]int64 `json:"createdBy,omitempty"`
	// Ancestors maps a goroutine id to the ids expected in its `[originating from goroutine N]:`
	// blocks (GODEBUG=tracebackancestors), nearest first.
	Ancestors map[string][]int64 `json:"ancestors,omitempty"`
	// Elided is "middle" (`...N frames elided...`, go1.21+), "end" (`...additional frames
	// elided...`) or "truncated" (cut after 100 frames with no marker, before go1.21) when the
	// crashing stack is too deep to print whole.
	Elided string `json:"elided,omitempty"`
	// Races is the number of `WARNING: DATA RACE` reports.
	Races int `json:"races,omitempty"`
	// RaceMainGoroutine says a report names `main goroutine`.
	RaceMainGoroutine bool `json:"raceMainGoroutine,omitempty"`
	// LoggedGoroutines are goroutines whose stack was logged (not crashed), e.g. by net/http.
	LoggedGoroutines []int64 `json:"loggedGoroutines,omitempty"`
	// ExitCode is the process exit code, or null when a signal ends the process.
	ExitCode *int `json:"exitCode"`
	// ExitSignal is the signal that ends the process (GOTRACEBACK=crash aborts).
	ExitSignal string   `json:"exitSignal,omitempty"`
	Notes      []string `json:"notes,omitempty"`
}

// run is one execution of a scenario: it collects what the scenario started and knows.
type run struct {
	exp       expectation
	tb        traceback
	mu        sync.Mutex
	live      map[int64]bool // goroutines still alive at the crash
	mainAlive bool
	mainID    int64
	returns   bool // the scenario returns normally instead of crashing (race reports only)
	// interleaved says another thread writes during the crash: no line can be expected whole.
	interleaved bool
}

func newRun(name string) *run {
	env := os.Getenv("GOTRACEBACK")
	r := &run{
		exp: expectation{
			Scenario:    name,
			GoVersion:   runtime.Version(),
			Goarch:      runtime.GOARCH,
			Gotraceback: env,
			Goroutines:  []int64{},
			Started:     []int64{},
		},
		tb:        parseTraceback(env),
		live:      map[int64]bool{},
		mainAlive: true,
		mainID:    goid(),
	}
	return r
}

// traceback is a decoded GOTRACEBACK setting (runtime/runtime1.go setTraceback).
type traceback struct {
	level int // 0 none, 1 single/all, 2 system/crash
	all   bool
	crash bool
}

func parseTraceback(s string) traceback {
	switch s {
	case "none":
		return traceback{}
	case "single", "":
		return traceback{level: 1}
	case "all":
		return traceback{level: 1, all: true}
	case "system":
		return traceback{level: 2, all: true}
	case "crash":
		return traceback{level: 2, all: true, crash: true}
	}
	if n, err := strconv.Atoi(s); err == nil {
		return traceback{level: n, all: true}
	}
	return traceback{level: 1}
}

func (t traceback) String() string {
	switch {
	case t.crash:
		return "crash"
	case t.level >= 2:
		return "system"
	case t.all:
		return "all"
	case t.level == 1:
		return "single"
	}
	return "none"
}

// raiseTraceback calls debug.SetTraceback, which can only raise the level.
func (r *run) raiseTraceback(level string) {
	debug.SetTraceback(level)
	t := parseTraceback(level)
	if t.level > r.tb.level {
		r.tb.level = t.level
	}
	r.tb.all = r.tb.all || t.all
	r.tb.crash = r.tb.crash || t.crash
}

// goMinor is the minor version of the running toolchain (go1.24.4 → 24).
func goMinor() int {
	v := strings.TrimPrefix(runtime.Version(), "go")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(parts[1])
	return n
}

// goid returns the id of the calling goroutine, from the header runtime.Stack prints.
func goid() int64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	s := strings.TrimPrefix(string(buf[:n]), "goroutine ")
	if i := strings.IndexByte(s, ' '); i > 0 {
		if id, err := strconv.ParseInt(s[:i], 10, 64); err == nil {
			return id
		}
	}
	failf("cannot read goroutine id from %q", buf[:n])
	return 0
}

// started records a goroutine that stays alive until the crash, in a named group.
func (r *run) started(group string, id int64, parent int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exp.Started = append(r.exp.Started, id)
	r.live[id] = true
	if group != "" {
		if r.exp.Groups == nil {
			r.exp.Groups = map[string][]int64{}
		}
		r.exp.Groups[group] = append(r.exp.Groups[group], id)
	}
	if parent != 0 {
		if r.exp.CreatedBy == nil {
			r.exp.CreatedBy = map[string]int64{}
		}
		r.exp.CreatedBy[strconv.FormatInt(id, 10)] = parent
	}
}

// startedGone records a goroutine that has exited (or will have) before the crash.
func (r *run) startedGone(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exp.Started = append(r.exp.Started, id)
	delete(r.live, id)
}

func (r *run) note(format string, args ...interface{}) {
	r.exp.Notes = append(r.exp.Notes, fmt.Sprintf(format, args...))
}

func (r *run) line(prefix string) { r.exp.Lines = append(r.exp.Lines, prefix) }

func (r *run) contains(text string) { r.exp.Contains = append(r.exp.Contains, text) }

func (r *run) message(kind crashKind, match string, msg string) {
	r.exp.Kind = kind
	r.exp.MessageMatch = match
	r.exp.Message = &msg
}

// crashing records the calling goroutine as the one that will crash.
func (r *run) crashing() {
	id := goid()
	r.exp.CrashingGoroutine = &id
}

func (r *run) crashingID(id int64) { r.exp.CrashingGoroutine = &id }

// settle waits until each goroutine in ids is blocked (not running or runnable) and records
// the state runtime.Stack shows for it, so that States tells what the dump will print.
func (r *run) settle(ids ...int64) {
	want := map[int64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	deadline := time.Now().Add(30 * time.Second)
	buf := make([]byte, 4<<20)
	for {
		n := runtime.Stack(buf, true)
		states := map[int64]string{}
		for _, block := range strings.Split(string(buf[:n]), "\n\n") {
			if !strings.HasPrefix(block, "goroutine ") {
				continue
			}
			header := block
			if i := strings.IndexByte(header, '\n'); i >= 0 {
				header = header[:i]
			}
			rest := strings.TrimPrefix(header, "goroutine ")
			sp := strings.IndexByte(rest, ' ')
			open := strings.IndexByte(rest, '[')
			closing := strings.LastIndexByte(rest, ']')
			if sp < 0 || open < 0 || closing < open {
				continue
			}
			id, err := strconv.ParseInt(rest[:sp], 10, 64)
			if err == nil && want[id] {
				states[id] = rest[open+1 : closing]
			}
		}
		ready := len(states) == len(want)
		for _, state := range states {
			if state == "running" || state == "runnable" || strings.HasPrefix(state, "running,") || strings.HasPrefix(state, "runnable,") {
				ready = false
			}
		}
		if ready || time.Now().After(deadline) {
			if !ready {
				r.note("settle: some goroutines were still running after 30s")
			}
			if r.exp.States == nil {
				r.exp.States = map[string]string{}
			}
			for id, state := range states {
				r.exp.States[strconv.FormatInt(id, 10)] = state
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// allGoroutinesPrinted says whether the runtime prints every user goroutine for this crash.
func (r *run) allGoroutinesPrinted() bool {
	if r.tb.level == 0 {
		return false
	}
	switch r.exp.Kind {
	case kindPanic:
		return r.tb.all
	case kindUserFatal:
		// go1.26 runtime1.go: all = gp.m.throwing > throwTypeUser (was >=).
		return r.tb.all || goMinor() < 26
	case kindRace:
		return false
	}
	return true
}

// commit fills in the derived fields and writes the expectation file, synced to disk, so it
// survives the crash that follows.
func (r *run) commit() {
	e := &r.exp
	e.EffectiveTraceback = r.tb.String()
	e.AllGoroutines = r.allGoroutinesPrinted()
	e.RuntimeFrames = r.tb.level >= 2 || e.Kind == kindThrow || e.Kind == kindSignal
	ids := map[int64]bool{}
	if e.Kind != kindRace && r.tb.level > 0 {
		if e.CrashingGoroutine != nil {
			ids[*e.CrashingGoroutine] = true
		}
		if e.AllGoroutines {
			for id := range r.live {
				ids[id] = true
			}
			if r.mainAlive {
				ids[r.mainID] = true
			}
		}
	}
	e.Goroutines = e.Goroutines[:0]
	for id := range ids {
		e.Goroutines = append(e.Goroutines, id)
	}
	sort.Slice(e.Goroutines, func(i, j int) bool { return e.Goroutines[i] < e.Goroutines[j] })
	sort.Slice(e.Started, func(i, j int) bool { return e.Started[i] < e.Started[j] })
	for _, g := range e.Groups {
		sort.Slice(g, func(i, j int) bool { return g[i] < g[j] })
	}
	e.MinGoroutines = len(e.Goroutines)
	if r.interleaved {
		e.Goroutines = []int64{}
		e.MinGoroutines = 0
	}
	if e.CrashingGoroutine == nil && len(e.CrashingCandidates) > 0 && !e.AllGoroutines {
		e.MinGoroutines = 1
	}
	if e.ExitCode == nil && e.ExitSignal == "" {
		code := 2
		if e.Kind == kindRace {
			code = 66
		}
		if r.tb.crash && e.Kind != kindRace {
			e.ExitSignal = "SIGABRT"
		} else {
			e.ExitCode = &code
		}
	}
	path := os.Getenv("CRASHGEN_EXPECT")
	if path == "" {
		return
	}
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		failf("encode expectation: %v", err)
	}
	f, err := os.Create(path)
	if err != nil {
		failf("write expectation: %v", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		failf("write expectation: %v", err)
	}
	if err := f.Sync(); err != nil {
		failf("sync expectation: %v", err)
	}
	if err := f.Close(); err != nil {
		failf("close expectation: %v", err)
	}
}

// panicText is the text the runtime prints for a panic value (runtime/error.go printpanicval
// and preprintpanics): Error() or String() when there is one, otherwise the value itself.
func panicText(v interface{}) string {
	var s string
	switch v := v.(type) {
	case error:
		s = v.Error()
	case fmt.Stringer:
		s = v.String()
	case string:
		s = v
	case nil:
		s = "nil"
	default:
		s = fmt.Sprint(v)
	}
	return indentNewlines(s)
}

// indentNewlines follows go1.23+ printindented: each newline in a panic value gets a TAB after it.
func indentNewlines(s string) string {
	if goMinor() >= 23 {
		return strings.ReplaceAll(s, "\n", "\n\t")
	}
	return s
}

// firstLine is the first line of s.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// probe runs f, which must panic, and returns the value it panicked with.
func probe(f func()) (v interface{}) {
	defer func() { v = recover() }()
	f()
	failf("probe: function did not panic")
	return nil
}
