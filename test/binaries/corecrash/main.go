// Command corecrash parks goroutines in many states and then either crashes (with
// GOTRACEBACK=crash the runtime prints every goroutine and aborts, so the kernel writes a core
// of the same moment) or, with "idle", prints "ready" and waits for gcore and SIGQUIT.
//
//	corecrash crash   nil pointer dereference in main.deref
//	corecrash panic   panic("corecrash") from main.explode
//	corecrash idle    print "ready" on stdout and block forever
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

type config struct{ port int }

//go:noinline
func deref(c *config) int { return c.port }

//go:noinline
func explode(depth int) {
	if depth == 0 {
		panic("corecrash")
	}
	explode(depth - 1)
}

//go:noinline
func recvForever(ch chan int) { <-ch }

//go:noinline
func sendForever(ch chan int) { ch <- 1 }

//go:noinline
func selectForever(a, b chan int) {
	select {
	case <-a:
	case <-b:
	}
}

//go:noinline
func lockForever(mu *sync.Mutex) { mu.Lock() }

//go:noinline
func waitForever(wg *sync.WaitGroup) { wg.Wait() }

//go:noinline
func condForever(c *sync.Cond) {
	c.L.Lock()
	c.Wait()
}

//go:noinline
func sleepLong() { time.Sleep(time.Hour) }

// readPipe blocks in a raw read(2), so its goroutine stays in the syscall state.
//
//go:noinline
func readPipe(fd int) {
	var b [1]byte
	syscall.Read(fd, b[:])
}

//go:noinline
func lockedRecv(ch chan int) {
	runtime.LockOSThread()
	<-ch
}

//go:noinline
func deep(n int, ch chan int) {
	if n == 0 {
		recvForever(ch)
		return
	}
	deep(n-1, ch)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: corecrash crash|panic|idle")
		os.Exit(2)
	}
	never := make(chan int)
	full := make(chan int) // nobody receives from it
	var mu sync.Mutex
	mu.Lock()
	var wg sync.WaitGroup
	wg.Add(1)
	cond := sync.NewCond(&sync.Mutex{})
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		panic(err)
	}
	started := make(chan struct{}, 16)
	spawn := func(f func()) {
		go func() {
			started <- struct{}{}
			f()
		}()
	}
	spawn(func() { recvForever(never) })
	spawn(func() { sendForever(full) })
	spawn(func() { selectForever(never, never) })
	spawn(func() { lockForever(&mu) })
	spawn(func() { waitForever(&wg) })
	spawn(func() { condForever(cond) })
	spawn(sleepLong)
	spawn(func() { readPipe(fds[0]) })
	spawn(func() { lockedRecv(never) })
	spawn(func() { deep(20, never) })
	for i := 0; i < 10; i++ {
		<-started
	}
	// Let every goroutine reach its blocking call.
	time.Sleep(200 * time.Millisecond)
	switch os.Args[1] {
	case "crash":
		fmt.Println(deref(nil))
	case "panic":
		explode(5)
	case "idle":
		fmt.Println("ready")
		select {}
	}
}
