package main

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
			about:  "a C thread writes log lines every few µs while the runtime prints a panic and 103 goroutines: lines land inside the dump",
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
	// 100 more goroutines make the dump long enough (thousands of writes) to be interleaved.
	ids := make(chan int64)
	for i := 0; i < 100; i++ {
		go func() { ids <- goid(); <-make(chan struct{}) }()
	}
	for i := 0; i < 100; i++ {
		r.started("blocked", <-ids, r.mainID)
	}
	r.message(kindPanic, "exact", "panic: lost the connection pool")
	r.exp.Message = nil
	r.interleaved = true
	r.contains("lost the connection pool")
	r.exp.InterleavedWith = "c-logger: tick "
	r.note("a C thread writes while the runtime prints: its lines land between the runtime's writes, inside lines; so neither the reason line nor the goroutine headers can be expected whole")
	r.crashing()
	r.commit()
	cStartLogger()
	panic("lost the connection pool")
}
