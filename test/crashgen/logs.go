package main

import (
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"
)

// Scenarios where the crash comes after ordinary program output.

func init() {
	register(
		&scenario{
			name:   "http-panic",
			levels: []string{"single", "all"},
			about:  "a net/http handler panics (logged `http: panic serving ...` with its stack), then main panics",
			run:    httpPanic,
		},
		&scenario{
			name:  "log-before-panic",
			about: "log package lines (timestamps, file:line) and stdout lines, then a panic",
			run:   logBeforePanic,
		},
	)
}

type order struct{ items []int }

//go:noinline
func (o *order) total() int { return len(o.items) }

func httpPanic(r *run) {
	r.message(kindPanic, "exact", "panic: giving up: the order service is broken")
	handlerIDs := make(chan int64, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/orders/", func(w http.ResponseWriter, req *http.Request) {
		handlerIDs <- goid()
		var o *order // not found, and not checked
		fmt.Fprintln(w, o.total())
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		failf("listen: %v", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 30 * time.Second}
	resp, err := client.Get("http://" + ln.Addr().String() + "/orders/17")
	if err == nil {
		resp.Body.Close()
		failf("the request succeeded: %s", resp.Status)
	}
	log.Printf("GET /orders/17 failed: %v", err)
	r.exp.LoggedGoroutines = []int64{<-handlerIDs}
	r.contains("http: panic serving 127.0.0.1:")
	r.contains("GET /orders/17 failed: ")
	r.crashing()
	r.commit()
	panic("giving up: the order service is broken")
}

func logBeforePanic(r *run) {
	r.message(kindPanic, "exact", "panic: batch 3: checksum mismatch")
	log.SetFlags(log.LstdFlags | log.Lmicroseconds | log.Lshortfile)
	log.Printf("starting: %d workers", 4)
	fmt.Println("processing batch 1 (stdout)")
	log.Printf("batch 1 done in %v", 12*time.Millisecond)
	fmt.Fprintln(os.Stderr, "WARN batch 2 slow (plain stderr line)")
	log.Printf("batch 3: verifying")
	r.contains("processing batch 1 (stdout)")
	r.contains("WARN batch 2 slow (plain stderr line)")
	r.crashing()
	r.commit()
	panic("batch 3: checksum mismatch")
}
