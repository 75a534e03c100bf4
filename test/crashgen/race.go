package main

import "time"

// Scenarios for the race detector: they need the binary built with -race. Each makes exactly
// one data race between goroutines that share no synchronisation between the two accesses.

func init() {
	register(
		&scenario{name: "race-global", build: "race", about: "two goroutines increment a global variable", run: raceGlobal},
		&scenario{name: "race-heap", build: "race", about: "two goroutines write a captured (heap) variable", run: raceHeap},
		&scenario{name: "race-main-goroutine", build: "race", about: "main writes a field a goroutine reads: by main goroutine", run: raceMain},
		&scenario{name: "race-map", build: "race", about: "two goroutines write one map: race inside runtime map code", run: raceMap},
		&scenario{
			name:   "race-then-panic",
			build:  "race",
			levels: []string{"single", "all"},
			about:  "a race report, then an ordinary panic in the same output",
			run:    raceThenPanic,
		},
	)
}

var requestCount int

func requireRace() {
	if !raceEnabled {
		failf("this scenario needs a binary built with -race")
	}
}

// racePair runs a and b on two new goroutines, released together, and returns their ids.
func racePair(r *run, a, b func()) {
	ids := make(chan int64)
	start := make(chan struct{})
	go func() { ids <- goid(); <-start; a() }()
	go func() { ids <- goid(); <-start; b() }()
	ida, idb := <-ids, <-ids
	r.startedGone(ida)
	r.startedGone(idb)
	r.commit()
	close(start)
	// Sleeping creates no happens-before edge between a and b.
	time.Sleep(300 * time.Millisecond)
}

func expectRace(r *run) {
	requireRace()
	r.message(kindRace, "exact", "WARNING: DATA RACE")
	r.exp.Races = 1
	r.returns = true
	r.line("==================")
	r.line("Found 1 data race(s)")
	r.note("race reports number goroutines with the race runtime's own ids, which are not goroutine ids (startedGoroutines)")
}

func raceGlobal(r *run) {
	expectRace(r)
	r.note("no `Location is global` line: runtime/race.go raceSymbolizeData describes heap objects only")
	racePair(r, func() { requestCount++ }, func() { requestCount++ })
}

func raceHeap(r *run) {
	expectRace(r)
	total := 0 // captured by both closures, so it lives on the heap
	racePair(r, func() { total += 2 }, func() { total += 3 })
}

type settings struct{ timeout time.Duration }

func raceMain(r *run) {
	expectRace(r)
	r.exp.RaceMainGoroutine = true
	r.contains("by main goroutine:")
	cfg := &settings{timeout: time.Second}
	ids := make(chan int64)
	start := make(chan struct{})
	go func() {
		ids <- goid()
		<-start
		if cfg.timeout > time.Minute {
			println("long timeout")
		}
	}()
	id := <-ids
	r.startedGone(id)
	r.commit()
	close(start)
	cfg.timeout = 2 * time.Second
	time.Sleep(300 * time.Millisecond)
}

func raceMap(r *run) {
	expectRace(r)
	m := map[string]int{}
	racePair(r, func() { m["a"] = 1 }, func() { m["b"] = 2 })
}

func raceThenPanic(r *run) {
	requireRace()
	r.message(kindPanic, "exact", "panic: inconsistent request count")
	r.exp.Races = 1
	r.line("WARNING: DATA RACE")
	r.note("message is the first panic line; the race report comes before it")
	r.crashing()
	racePair(r, func() { requestCount++ }, func() { requestCount++ })
	panic("inconsistent request count")
}
