package main

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Scenarios about what the other goroutines look like: many of them, in many wait states, and
// with the stacks of their ancestors.

func init() {
	register(
		&scenario{
			name:   "many-goroutines",
			levels: []string{"single", "all", "system"},
			about:  "200 goroutines in 4 stack shapes started by 5 parent goroutines, then main panics",
			run:    manyGoroutines,
		},
		&scenario{
			name:   "blocked-states",
			levels: []string{"all", "system"},
			about:  "one goroutine per wait state (chan, select, mutexes, WaitGroup, Cond, sleep, IO wait, syscall, locked to thread), then main panics",
			run:    blockedStates,
		},
		&scenario{
			name:   "traceback-ancestors",
			levels: []string{"single", "all"},
			env:    []string{"GODEBUG=tracebackancestors=5"},
			about:  "a goroutine four go statements below main panics; GODEBUG=tracebackancestors=5 prints [originating from goroutine N] blocks",
			run:    tracebackAncestors,
		},
	)
}

// pipeline, consumer and holder give the many-goroutines shapes distinct, varied frame names.
type pipeline[T any] struct{ in chan T }

//go:noinline
func (p *pipeline[T]) drain() T { return <-p.in }

type consumer struct {
	jobs  chan int
	state chan string
}

//go:noinline
func (c consumer) loop() {
	select {
	case <-c.jobs:
	case <-c.state:
	}
}

//go:noinline
func holdLock[K comparable](mu *sync.Mutex, _ K) { mu.Lock() }

//go:noinline
func nap(depth int) {
	if depth == 0 {
		time.Sleep(time.Hour)
		return
	}
	nap(depth - 1)
}

func manyGoroutines(r *run) {
	r.message(kindPanic, "exact", "panic: too many pending jobs: 200")
	const parents, perParent = 5, 40
	type started struct {
		id, parent int64
		group      string
	}
	ids := make(chan started)
	var mu sync.Mutex
	mu.Lock()
	p := &pipeline[string]{in: make(chan string)}
	c := consumer{jobs: make(chan int), state: make(chan string)}
	for i := 0; i < parents; i++ {
		go func() {
			parent := goid()
			ids <- started{parent, r.mainID, "parent"}
			for j := 0; j < perParent; j++ {
				switch j % 4 {
				case 0:
					go func() { ids <- started{goid(), parent, "pipeline-drain"}; p.drain() }()
				case 1:
					go func() { ids <- started{goid(), parent, "consumer-select"}; c.loop() }()
				case 2:
					go func() { ids <- started{goid(), parent, "lock"}; holdLock(&mu, "key") }()
				default:
					go func() { ids <- started{goid(), parent, "nap"}; nap(3) }()
				}
			}
			<-make(chan struct{})
		}()
	}
	var all []int64
	for n := 0; n < parents*(perParent+1); n++ {
		s := <-ids
		r.started(s.group, s.id, s.parent)
		all = append(all, s.id)
	}
	r.settle(all...)
	r.crashing()
	r.commit()
	panic(fmt.Sprintf("too many pending jobs: %d", parents*perParent))
}

// keep holds values that must stay alive (and unclosed) until the crash.
var keep []interface{}

func blockedStates(r *run) {
	r.message(kindPanic, "exact", "panic: giving up on 15 blocked goroutines")
	type started struct {
		id    int64
		group string
	}
	ids := make(chan started)
	var nilChan chan int
	never := func() chan int { return make(chan int) } // a new channel for each goroutine
	var mu sync.Mutex
	mu.Lock()
	var rw sync.RWMutex
	rw.Lock()
	var wg sync.WaitGroup
	wg.Add(1)
	cond := sync.NewCond(&sync.Mutex{})
	pr, pw, err := os.Pipe()
	if err != nil {
		failf("pipe: %v", err)
	}
	// Keep the write end open without a defer: deferred calls run before the dump is printed.
	keep = append(keep, pw)
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		failf("pipe: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		failf("listen: %v", err)
	}
	goIn := func(group string, f func()) {
		go func() { ids <- started{goid(), group}; f() }()
	}
	goIn("chan-receive", func() { <-never() })
	goIn("chan-send", func() { never() <- 1 })
	goIn("chan-receive-nil", func() { <-nilChan })
	goIn("chan-send-nil", func() { nilChan <- 1 })
	goIn("select", func() {
		select {
		case <-never():
		case never() <- 2:
		}
	})
	goIn("select-no-cases", func() { select {} })
	goIn("mutex", func() { mu.Lock() })
	goIn("rwmutex-rlock", func() { rw.RLock() })
	goIn("waitgroup", func() { wg.Wait() })
	goIn("cond", func() { cond.L.Lock(); cond.Wait() })
	goIn("sleep", func() { time.Sleep(time.Hour) })
	goIn("io-wait-pipe", func() {
		var b [1]byte
		_, _ = pr.Read(b[:])
	})
	goIn("io-wait-accept", func() { _, _ = ln.Accept() })
	goIn("syscall", func() {
		var b [1]byte
		_, _ = syscall.Read(fds[0], b[:])
	})
	goIn("locked-to-thread", func() { runtime.LockOSThread(); <-never() })
	const n = 15
	var list []int64
	for i := 0; i < n; i++ {
		s := <-ids
		r.started(s.group, s.id, r.mainID)
		list = append(list, s.id)
	}
	r.settle(list...)
	r.crashing()
	r.commit()
	panic("giving up on " + strconv.Itoa(n) + " blocked goroutines")
}

func tracebackAncestors(r *run) {
	r.message(kindPanic, "exact", "panic: lost track of the request at depth 4")
	r.exp.Ancestors = map[string][]int64{}
	ids := make(chan int64)
	var chain func(depth int, ancestors []int64)
	chain = func(depth int, ancestors []int64) {
		id := goid()
		r.started("chain", id, ancestors[0])
		r.exp.Ancestors[strconv.FormatInt(id, 10)] = ancestors
		if depth == 4 {
			ids <- id
			<-ids
			panic(fmt.Sprintf("lost track of the request at depth %d", depth))
		}
		next := append([]int64{id}, ancestors...)
		go chain(depth+1, next)
		<-make(chan struct{})
	}
	go chain(1, []int64{r.mainID})
	leaf := <-ids
	r.crashingID(leaf)
	r.note("ancestors lists, nearest first, the goroutines whose go statements led to each goroutine; they have not exited")
	r.commit()
	ids <- 0
	select {}
}
