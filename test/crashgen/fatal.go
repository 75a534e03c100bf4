package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Scenarios that end in `fatal error: ...`: runtime.fatal (user errors the runtime detects) and
// runtime.throw (the runtime itself cannot go on).

func init() {
	register(
		&scenario{
			name:   "concurrent-map-writes",
			levels: []string{"single", "all"},
			about:  "two goroutines write one map until the runtime notices: fatal error: concurrent map writes",
			run:    concurrentMapWrites,
		},
		&scenario{
			name:  "concurrent-map-read-write",
			about: "one goroutine reads a map while another writes it: concurrent map read and map write",
			run:   concurrentMapReadWrite,
		},
		&scenario{
			name:  "concurrent-map-iteration-write",
			about: "one goroutine ranges over a map while another writes it: concurrent map iteration and map write",
			run:   concurrentMapIterationWrite,
		},
		&scenario{
			name:   "deadlock",
			levels: []string{"single", "system"},
			about:  "main and four goroutines blocked on channels, a mutex and a WaitGroup: all goroutines are asleep - deadlock!",
			run:    deadlock,
		},
		&scenario{
			name:  "main-goexit",
			about: "main calls runtime.Goexit after the other goroutines finish: no goroutines (main called runtime.Goexit) - deadlock!",
			run:   mainGoexit,
		},
		&scenario{
			name:  "stack-overflow",
			about: "unbounded recursion through a method and a closure, max stack 8 MB: fatal error: stack overflow",
			run:   stackOverflow,
		},
		&scenario{name: "sync-unlock-unlocked", about: "sync.Mutex.Unlock of an unlocked mutex: fatal error: sync: unlock of unlocked mutex", run: unlockUnlocked},
		&scenario{
			name:  "fatal-during-panic",
			about: "a deferred Unlock of an unlocked mutex while panicking: the panic is printed before the fatal error on go1.26+",
			run:   fatalDuringPanic,
		},
		&scenario{
			name:    "out-of-memory",
			ulimitV: 4000000,
			about:   "make([]byte, 1 TiB) under `ulimit -v 4000000`: runtime: out of memory: cannot allocate ... / fatal error: out of memory",
			run:     outOfMemory,
		},
		&scenario{
			name:  "bad-pointer-on-stack",
			about: "a pointer value 0x10 live in a frame when the stack is copied: runtime: bad pointer in frame ... / invalid pointer found on stack",
			run:   badPointerOnStack,
		},
		&scenario{
			name:  "fault-address",
			about: "read through unsafe at 0xdeadbeef: unexpected fault address / fatal error: fault / [signal SIGSEGV ...]",
			run:   faultAddress,
		},
	)
}

// mapRace starts two goroutines running a and b in loops until the runtime notices and kills
// the process; it gives up (exit 3) after a minute. When aCrashes, only a can notice.
func mapRace(r *run, groupA, groupB string, aCrashes bool, a, b func()) {
	idsA, idsB := make(chan int64), make(chan int64)
	start := make(chan struct{})
	go func() {
		idsA <- goid()
		<-start
		for {
			a()
		}
	}()
	go func() {
		idsB <- goid()
		<-start
		for {
			b()
		}
	}()
	ida, idb := <-idsA, <-idsB
	r.started(groupA, ida, r.mainID)
	r.started(groupB, idb, r.mainID)
	if aCrashes {
		r.crashingID(ida)
	} else {
		r.exp.CrashingCandidates = []int64{ida, idb}
	}
	r.commit()
	close(start)
	time.Sleep(time.Minute)
	failf("the runtime did not detect the concurrent map access within a minute")
}

// filledMap has 1024 entries, so that its accesses take the general (non-small-map) paths.
func filledMap() map[int]int {
	m := make(map[int]int, 1024)
	for i := 0; i < 1024; i++ {
		m[i] = i
	}
	return m
}

func concurrentMapWrites(r *run) {
	r.message(kindUserFatal, "exact", "fatal error: concurrent map writes")
	m := filledMap()
	i, j := 0, 0
	mapRace(r, "writer", "writer", false,
		func() { i++; m[i%1024] = i },
		func() { j++; m[j%1024] = -j })
}

func concurrentMapReadWrite(r *run) {
	r.message(kindUserFatal, "exact", "fatal error: concurrent map read and map write")
	m := filledMap()
	i, sum := 0, 0
	// Only a reader can see the writer's flag, so the reader is the crashing goroutine.
	mapRace(r, "reader", "writer", true,
		func() { sum += m[sum%1024] },
		func() { i++; m[i%1024] = i })
}

func concurrentMapIterationWrite(r *run) {
	r.message(kindUserFatal, "exact", "fatal error: concurrent map iteration and map write")
	m := filledMap()
	i, sum := 0, 0
	mapRace(r, "iterator", "writer", true,
		func() {
			for k, v := range m {
				sum += k + v
			}
		},
		func() { i++; m[i%1024] = i })
}

func deadlock(r *run) {
	r.message(kindSchedFatal, "exact", "fatal error: all goroutines are asleep - deadlock!")
	ids := make(chan int64)
	requests, replies := make(chan int), make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(1)
	mu.Lock()
	go func() { ids <- goid(); <-requests }()
	go func() { ids <- goid(); replies <- 1 }()
	go func() { ids <- goid(); mu.Lock() }()
	go func() { ids <- goid(); wg.Wait() }()
	var list []int64
	for n := 0; n < 4; n++ {
		id := <-ids
		r.started("blocked", id, r.mainID)
		list = append(list, id)
	}
	r.settle(list...)
	r.exp.States[strconv.FormatInt(r.mainID, 10)] = "chan receive" // where main blocks below
	r.commit()
	<-make(chan struct{})
}

func mainGoexit(r *run) {
	r.message(kindSchedFatal, "exact", "fatal error: no goroutines (main called runtime.Goexit) - deadlock!")
	done := make(chan int64)
	go func() { done <- goid() }()
	r.startedGone(<-done)
	time.Sleep(50 * time.Millisecond) // let it exit
	r.mainAlive = false
	r.commit()
	runtime.Goexit()
}

type walker struct{ visits int }

//go:noinline
func (w *walker) visit(depth int) int {
	var pad [8]int64
	pad[depth%8] = int64(depth)
	w.visits++
	next := func(d int) int { return w.visit(d) }
	return next(depth+1) + int(pad[(depth+3)%8])
}

func stackOverflow(r *run) {
	debug.SetMaxStack(8 << 20)
	r.message(kindThrow, "exact", "fatal error: stack overflow")
	r.line("runtime: goroutine stack exceeds 8388608-byte limit")
	r.crashing()
	if goMinor() >= 21 {
		r.exp.Elided = "middle"
	} else {
		// Cut at 100 frames without `...additional frames elided...`: the inlined closure
		// frames make the printed count differ from 100 (go1.20 runtime/traceback.go).
		r.exp.Elided = "truncated"
	}
	r.commit()
	w := &walker{}
	w.visit(0)
}

func unlockUnlocked(r *run) {
	r.message(kindUserFatal, "exact", "fatal error: sync: unlock of unlocked mutex")
	r.crashing()
	r.commit()
	var mu sync.Mutex
	mu.Unlock()
}

func fatalDuringPanic(r *run) {
	if goMinor() >= 26 {
		r.message(kindUserFatal, "exact", "panic: shutting down")
		r.line("\tfatal error: sync: unlock of unlocked mutex")
	} else {
		r.message(kindUserFatal, "exact", "fatal error: sync: unlock of unlocked mutex")
		r.note("before go1.26 the panic in progress is not printed")
	}
	r.crashing()
	r.commit()
	var mu sync.Mutex
	defer mu.Unlock()
	panic("shutting down")
}

var sink []byte

func outOfMemory(r *run) {
	n := 1 << 40
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &lim); err == nil && lim.Cur < uint64(n) {
		// Under `ulimit -v` reserving the address space fails (runtime/malloc.go sysAlloc).
		r.message(kindThrow, "exact", "fatal error: out of memory")
		r.line(fmt.Sprintf("runtime: out of memory: cannot allocate %d-byte block (", n))
	} else {
		// Without a limit, reserving works and mapping fails (runtime/mem_linux.go sysMapOS:
		// "runtime: out of memory"), or, with overcommit allowed, the allocation succeeds.
		r.message(kindThrow, "prefix", "fatal error: ")
		r.note("no address-space limit was set: the allocation may fail in sysMapOS, or succeed")
	}
	r.crashing()
	r.commit()
	sink = make([]byte, n)
	failf("allocated %d bytes without running out of memory (is the memory limit set?)", len(sink))
}

var pointerSeed = 0x10

//go:noinline
func growStack(n int) int {
	var pad [32]int64
	pad[n%32] = int64(n)
	if n == 0 {
		return int(pad[0])
	}
	return growStack(n-1) + int(pad[(n+1)%32])
}

//go:noinline
func holdBadPointer() int {
	p := (*int)(unsafe.Pointer(uintptr(pointerSeed)))
	n := growStack(2000) // copies the stack while p is live
	runtime.KeepAlive(p)
	return n
}

func badPointerOnStack(r *run) {
	r.message(kindThrow, "exact", "fatal error: invalid pointer found on stack")
	r.line("runtime: bad pointer in frame main.holdBadPointer at 0x")
	r.crashing()
	r.commit()
	holdBadPointer()
	failf("the stack was copied without noticing the bad pointer")
}

var faultSeed uintptr = 0xdeadbeef

func faultAddress(r *run) {
	r.message(kindThrow, "exact", "fatal error: fault")
	r.line("unexpected fault address 0xdeadbeef")
	r.line("[signal SIGSEGV: segmentation violation code=")
	r.crashing()
	r.commit()
	p := (*int)(unsafe.Pointer(faultSeed))
	println(*p)
}
