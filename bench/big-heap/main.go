// Command big-heap keeps MIB mebibytes of heap live, a byte written on every 512 so that no page is
// left out of a core, parks a thousand goroutines beside it in a few states, then panics: with
// GOTRACEBACK=crash the runtime aborts and the kernel writes a core larger than that heap.
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
	heap  [][]byte
	block = make(chan struct{})
	sink  = make(chan struct{})
	mu    sync.Mutex
)

func park(i int) {
	switch i % 4 {
	case 0:
		<-block
	case 1:
		sink <- struct{}{}
	case 2:
		mu.Lock()
	default:
		time.Sleep(time.Hour)
	}
}

func main() {
	mib := 1100
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v < 1 || len(os.Args) > 2 {
			fmt.Fprintln(os.Stderr, "usage: big-heap [MIB]")
			os.Exit(2)
		}
		mib = v
	}
	heap = make([][]byte, mib)
	for i := range heap {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 512 {
			b[j] = byte(i+j/512) | 1
		}
		heap[i] = b
	}
	mu.Lock()
	for i := 0; i < 1000; i++ {
		go park(i)
	}
	time.Sleep(100 * time.Millisecond)
	panic(fmt.Sprintf("dumping with %d MiB of live heap", len(heap)))
}
