// Command splitsp reproduces golang/go#73259 on linux/arm64: a function whose stack frame the
// arm64 assembler pops with two ADD instructions, called in a loop while another goroutine forces
// garbage collections. The GC preempts the callers asynchronously to scan their stacks; when the
// signal lands between the two ADDs, the unwinder reads the frame with the wrong size and crashes.
//
// The function is a leaf (no calls) by default; built with `-tags nonleaf` it calls noinline
// helpers, which the go1.23.12/1.24.6/1.25.0 fix covers. SPLITSP_WORKERS sets how many goroutines
// call it (default 4). With more workers than Ps, some are always parked where the scheduler
// preempted them, and every GC cycle scans (unwinds) each of them: one chance per GC cycle each.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
)

func main() {
	workers := 4
	if s := os.Getenv("SPLITSP_WORKERS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "SPLITSP_WORKERS must be a positive integer")
			os.Exit(3)
		}
		workers = n
	}
	fmt.Fprintf(os.Stderr, "splitsp: %s %s/%s variant=%s workers=%d\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, variant, workers)
	go func() {
		for {
			runtime.GC()
		}
	}()
	for i := 1; i < workers; i++ {
		go work(i)
	}
	work(0)
}

var sink int

func work(seed int) {
	for i := seed; ; i++ {
		sink += big_stack(i)
	}
}
