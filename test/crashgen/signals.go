package main

import (
	"syscall"
	"time"
)

// Scenarios where the program sends itself a signal that the runtime answers with a goroutine
// dump: `SIGQUIT: quit` / `PC=... m=N sigcode=0`, every goroutine, then a register dump.

func init() {
	register(
		&scenario{
			name:   "sigquit",
			levels: []string{"single", "system"},
			about:  "the program sends itself SIGQUIT with three goroutines idle: the classic goroutine dump",
			run:    func(r *run) { selfSignal(r, syscall.SIGQUIT, "SIGQUIT: quit") },
		},
		&scenario{
			name:   "sigabrt",
			levels: []string{"single", "crash"},
			about:  "the program sends itself SIGABRT; with GOTRACEBACK=crash every thread is dumped and the process aborts",
			run:    func(r *run) { selfSignal(r, syscall.SIGABRT, "SIGABRT: abort") },
		},
		&scenario{
			name:  "sigsegv-from-kill",
			about: "the program sends itself SIGSEGV with kill: reported as a signal, not a nil dereference",
			run:   func(r *run) { selfSignal(r, syscall.SIGSEGV, "SIGSEGV: segmentation violation") },
		},
	)
}

func selfSignal(r *run, sig syscall.Signal, header string) {
	idle(r)
	r.message(kindSignal, "exact", header)
	r.line("PC=0x")
	r.note("the signal is delivered to any thread: the first goroutine printed is whatever that thread ran (often goroutine 0 [idle])")
	r.commit()
	if err := syscall.Kill(syscall.Getpid(), sig); err != nil {
		failf("kill: %v", err)
	}
	// Sleep rather than block, so that the deadlock detector stays out of the way.
	time.Sleep(time.Minute)
	failf("still alive a minute after %v", sig)
}
