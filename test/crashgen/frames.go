package main

import (
	"fmt"
	"sort"
)

// frames-variety: a panic deep under frames whose names use every naming form the compiler
// produces: methods on values and pointers, generic functions and methods ([...]), closures
// (.func1), method values (-fm), package-level function literals (glob..func1), deferred calls
// (.deferwrap1, go1.22+) and go statements with arguments (.gowrap1, go1.22+).

type handler struct{ name string }

//go:noinline
func (h handler) Serve(key string) int { return lookupRoute(h.name, key) }

var lookupRoute = func(name, key string) int {
	if key == "poison" {
		panic(fmt.Sprintf("route %s: poisoned key %q", name, key))
	}
	return len(key)
}

type Stack[T any] struct{ items []T }

//go:noinline
func (s Stack[T]) Each(f func(T)) {
	for _, item := range s.items {
		f(item)
	}
}

type Registry struct {
	h       handler
	onStart func() // lets the scenario learn the goroutine id before the crash
}

//go:noinline
func (reg *Registry) Run(batches Stack[[]string], label string) {
	reg.onStart()
	batches.Each(func(keys []string) {
		apply(keys, reg.h.Serve)
	})
	fmt.Println("done", label)
}

//go:noinline
func apply[K comparable, V any](keys []K, f func(K) V) []V {
	out := make([]V, len(keys))
	defer flush(keys, f)
	return out
}

//go:noinline
func flush[K comparable, V any](keys []K, f func(K) V) {
	sort.Slice(keys, func(i, j int) bool {
		f(keys[i])
		return i < j
	})
}

func framesVariety(r *run) {
	r.message(kindPanic, "exact", `panic: route metrics: poisoned key "poison"`)
	ids := make(chan int64)
	reg := &Registry{h: handler{name: "metrics"}, onStart: func() { ids <- goid(); <-ids }}
	batches := Stack[[]string]{items: [][]string{{"a", "bb"}, {"ccc", "poison", "d"}}}
	go func() {
		ids <- goid()
		go reg.Run(batches, "batch")
		<-make(chan struct{})
	}()
	launcher := <-ids
	r.started("launcher", launcher, r.mainID)
	runner := <-ids
	r.started("runner", runner, launcher)
	r.crashingID(runner)
	r.settle(launcher)
	r.commit()
	ids <- 0
	select {}
}
