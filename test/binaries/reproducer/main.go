// Command reproducer is the shape of the minimal reproducer of golang/go#73259 from the Cloudflare
// write-up: a leaf function with a 64 KiB stack buffer, called in a loop while another goroutine
// forces garbage collections, so that a goroutine asynchronously preempted between the two
// halves of its split epilogue is eventually unwound by the GC and the unwinder crashes.
// scripts/reproduce-split-sp.sh runs it under qemu-user and keeps the crash text.
package main

import (
	"runtime"
	"time"
)

//go:noinline
func bigStack(val int) int {
	b := make([]byte, 1<<16)
	sum := 0
	for i := range b {
		b[i] = byte(val)
	}
	for i := range b {
		sum ^= int(b[i])
	}
	return sum
}

func main() {
	go func() {
		for {
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
	}()
	for i := 0; ; i++ {
		bigStack(i)
	}
}
