// Command many-goroutines starts N goroutines blocked in 50 different stacks, started from 10
// different parent goroutines, then panics: with GOTRACEBACK=all it prints a dump of all of them.
// With "distinct" after N, each goroutine is also passed its own number, so that no two print
// the same arguments.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// Nothing is ever sent on block or received from sink: goroutines wait on them for good.
var (
	block = make(chan struct{})
	sink  = make(chan struct{})
	last  int
)

//go:noinline
func wait(depth, shape int, wg *sync.WaitGroup) {
	if depth > 0 {
		wait(depth-1, shape, wg)
		return
	}
	wg.Done()
	switch shape % 5 {
	case 0:
		<-block
	case 1:
		select {
		case <-block:
		case <-time.After(time.Hour):
		}
	case 2:
		var mu sync.Mutex
		mu.Lock()
		defer mu.Unlock()
		<-block
	case 3:
		time.Sleep(time.Hour)
	default:
		sink <- struct{}{}
	}
	// shape is used after the wait, so it stays in its stack slot and the traceback prints it
	// exactly (an argument that is dead there is printed from a register spill, marked "?").
	last = shape
}

func main() {
	n := 100000
	distinct := len(os.Args) > 2 && os.Args[2] == "distinct"
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || len(os.Args) > 3 || (len(os.Args) == 3 && !distinct) {
			fmt.Fprintln(os.Stderr, "usage: many-goroutines [COUNT [distinct]]")
			os.Exit(2)
		}
		n = v
	}
	var wg sync.WaitGroup
	wg.Add(n)
	var parents sync.WaitGroup
	for p := 0; p < 10; p++ {
		parents.Add(1)
		go func(p int) {
			defer parents.Done()
			for i := p; i < n; i += 10 {
				shape := i % 50
				if distinct {
					// i%50 == shape, so the stack is the same; the printed argument is i.
					go wait(shape/5, i, &wg)
				} else {
					go wait(shape/5, shape, &wg)
				}
			}
		}(p)
	}
	parents.Wait()
	wg.Wait()
	time.Sleep(100 * time.Millisecond)
	panic(fmt.Sprintf("dumping %d goroutines", n))
}
