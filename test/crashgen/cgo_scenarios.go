package main

import "time"

// Scenarios that need cgo: crashes inside C code, and a C thread writing during a crash.

func init() {
	register(
		&scenario{
			name:  "cgo-sigsegv",
			build: "cgo",
			about: "a C function called through cgo reads address 0: signal arrived during cgo execution (go1.21+)",
			run:   cgoSigsegv,
		},
		&scenario{
			name:  "cgo-abort",
			build: "cgo",
			about: "a C function called through cgo calls abort(): SIGABRT: abort / signal arrived during cgo execution",
			run:   cgoAbort,
		},
		&scenario{
			name:   "log-interleaved",
			build:  "cgo",
			levels: []string{"all"},
			about:  "a C thread keeps writing log lines to stderr while the runtime prints a panic: lines land inside the dump",
			run:    logInterleaved,
		},
	)
}

func cgoSigsegv(r *run) {
	idle(r)
	if goMinor() >= 21 {
		// go1.21 runtime/signal_unix.go sighandler: a fault on g0 (C code) throws in the handler.
		r.message(kindSignal, "exact", "SIGSEGV: segmentation violation")
		r.line("signal arrived during cgo execution")
	} else {
		r.message(kindThrow, "exact", "fatal error: unexpected signal during runtime execution")
		r.line("[signal SIGSEGV: segmentation violation code=")
	}
	r.crashing()
	r.commit()
	println(cFault())
}

func cgoAbort(r *run) {
	idle(r)
	r.message(kindSignal, "exact", "SIGABRT: abort")
	r.line("signal arrived during cgo execution")
	r.crashing()
	r.commit()
	cAbort()
}

func logInterleaved(r *run) {
	idle(r)
	r.message(kindPanic, "exact", "panic: lost the connection pool")
	r.contains("c-logger: tick ")
	r.note("the C thread's lines may split runtime lines anywhere")
	r.crashing()
	r.commit()
	cStartLogger()
	time.Sleep(5 * time.Millisecond)
	panic("lost the connection pool")
}
