// Command goclient is a program that uses the Go client and then crashes, recovers or exits as
// its argument says, for test/go-client.test.ts. The client is configured from the environment:
// GOCRASH_E2E_SERVER, GOCRASH_E2E_TOKEN, GOCRASH_E2E_HOST, GOCRASH_E2E_SERVICE, GOCRASH_E2E_SPOOL,
// GOCRASH_E2E_RETRY (a duration) and GOCRASH_E2E_HEARTBEAT (a duration); with GOCRASH_E2E_OFF set
// it does not start the client, to show how the program behaves without it.
package main

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	gocrash "github.com/gocrash/gocrash/client/go"
)

var client *gocrash.Client

func main() {
	if os.Getenv("GOCRASH_E2E_OFF") == "" {
		start()
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: goclient MODE")
		os.Exit(64)
	}
	switch mode := os.Args[1]; mode {
	case "exit":
		fmt.Println("exiting normally")
	case "exit-status":
		fmt.Fprintln(os.Stderr, "failing without a crash")
		os.Exit(7)
	case "nil":
		guarded(false, nilDereference)
	case "map-writes":
		concurrentMapWrites()
	case "fatal":
		unlockUnlocked()
	case "fault":
		faultAddress()
	case "abort":
		abort()
	case "error":
		guarded(false, explode)
	case "recovered":
		guarded(true, explode)
		fmt.Println("recovered")
	case "heartbeat":
		time.Sleep(700 * time.Millisecond)
		client.Stop()
	default:
		fmt.Fprintf(os.Stderr, "goclient: unknown mode %q\n", mode)
		os.Exit(64)
	}
}

func start() {
	duration := func(name string, fallback time.Duration) time.Duration {
		d, err := time.ParseDuration(os.Getenv(name))
		if err != nil {
			return fallback
		}
		return d
	}
	var err error
	client, err = gocrash.Start(gocrash.Config{
		Server:            os.Getenv("GOCRASH_E2E_SERVER"),
		Token:             os.Getenv("GOCRASH_E2E_TOKEN"),
		Service:           os.Getenv("GOCRASH_E2E_SERVICE"),
		Version:           "3.1.4",
		Host:              os.Getenv("GOCRASH_E2E_HOST"),
		Attributes:        map[string]string{"region": "e2e-west"},
		SpoolDir:          os.Getenv("GOCRASH_E2E_SPOOL"),
		RetryFor:          duration("GOCRASH_E2E_RETRY", 0),
		HeartbeatInterval: duration("GOCRASH_E2E_HEARTBEAT", -1),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(70)
	}
}

// guarded runs f, recovering a panic through the client when asked, so that a recovered panic
// and the same panic uncaught have the same frames below it.
//
//go:noinline
func guarded(recover bool, f func()) {
	if recover {
		defer client.Recover()
	}
	f()
}

type config struct{ port int }

//go:noinline
func nilDereference() {
	var c *config
	fmt.Println(c.port)
}

//go:noinline
func explode() {
	panic(fmt.Errorf("shard %d: %w", 12, errors.New("checksum mismatch")))
}

func concurrentMapWrites() {
	m := map[int]int{}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			for i := 0; ; i++ {
				m[i%100] = i
			}
		}()
	}
	wg.Wait()
}

//go:noinline
func unlockUnlocked() {
	var mu sync.Mutex
	mu.Unlock()
}

// faultAddress reads an address that is mapped nowhere: a SIGSEGV the runtime reports as
// "unexpected fault address" and "fatal error: fault".
//
//go:noinline
func faultAddress() {
	p := (*int)(unsafe.Pointer(uintptr(0x7ff_dead_0000)))
	fmt.Println(*p)
}

// abort sends the process SIGABRT, as abort(3) in C code would.
//
//go:noinline
func abort() {
	syscall.Kill(os.Getpid(), syscall.SIGABRT)
	time.Sleep(10 * time.Second)
}
