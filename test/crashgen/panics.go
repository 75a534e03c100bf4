package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Scenarios that end in an unrecovered panic of the main goroutine or of one goroutine.

func init() {
	register(
		&scenario{name: "nil-map-write", about: "assignment to entry in nil map", run: nilMapWrite},
		&scenario{
			name:   "nil-pointer",
			levels: []string{"single", "all", "system", "crash"},
			about:  "nil pointer dereference in a method: runtime error plus the [signal SIGSEGV ...] line; three idle goroutines",
			run:    nilPointer,
		},
		&scenario{name: "nil-func-call", about: "call of a nil func value: SIGSEGV with pc=0x0", run: nilFuncCall},
		&scenario{name: "index-out-of-range", about: "index out of range [5] with length 3", run: indexOutOfRange},
		&scenario{name: "slice-bounds", about: "slice bounds out of range [:7] with capacity 4", run: sliceBounds},
		&scenario{name: "divide-by-zero", about: "integer divide by zero (an explicit check: no [signal SIGFPE] line on amd64 or arm64)", run: divideByZero},
		&scenario{name: "type-assertion", about: "interface conversion: failed type assertion", run: typeAssertion},
		&scenario{name: "close-closed-channel", about: "close of closed channel", run: closeClosedChannel},
		&scenario{name: "makeslice-len", about: "makeslice: len out of range", run: makesliceLen},
		&scenario{name: "custom-error", about: "panic with a custom error type (prints its Error text)", run: customError},
		&scenario{name: "panic-errorf", about: "panic(fmt.Errorf(... %w ...)) wrapping an *fs.PathError", run: panicErrorf},
		&scenario{
			name:  "panic-multiline",
			about: "panic with a multi-line string that contains a fake goroutine header (TAB-indented on go1.23+)",
			run:   panicMultiline,
		},
		&scenario{name: "panic-struct-value", about: "panic with a struct value: (main.request) 0xc...", run: panicStructValue},
		&scenario{name: "panic-pointer-value", about: "panic with a pointer to a struct: (*main.request) 0xc...", run: panicPointerValue},
		&scenario{name: "panic-custom-int", about: "panic with a named integer type: main.statusCode(503)", run: panicCustomInt},
		&scenario{name: "panic-custom-string", about: `panic with a named string type: main.reason("...")`, run: panicCustomString},
		&scenario{name: "panic-recovered-repanic", about: "recover, then panic with a new value: [recovered] chain", run: recoveredRepanic},
		&scenario{
			name:  "panic-repanic-same",
			about: "recover, then panic with the same value: [recovered, repanicked] on go1.25+",
			run:   repanicSame,
		},
		&scenario{name: "panic-nested", about: "panics inside deferred calls while panicking: a chain of three", run: panicNested},
		&scenario{name: "panic-nil", about: "panic(nil) with the go.mod default (panicnil=1 for go 1.19 modules)", run: panicNil},
		&scenario{
			name:  "panic-nil-error",
			env:   []string{"GODEBUG=panicnil=0"},
			about: "panic(nil) with GODEBUG=panicnil=0: *runtime.PanicNilError on go1.21+",
			run:   panicNil,
		},
		&scenario{name: "goexit-deferred-panic", about: "a deferred call panics while runtime.Goexit unwinds a goroutine", run: goexitDeferredPanic},
		&scenario{
			name:   "goroutine-panic",
			levels: []string{"single", "all"},
			about:  "unrecovered panic in a goroutine started by a goroutine started by main",
			run:    goroutinePanic,
		},
		&scenario{name: "locked-thread-panic", about: "panic in a goroutine locked to its OS thread", run: lockedThreadPanic},
		&scenario{name: "error-method-panics", about: "the panic value's Error method panics: panic while printing panic value", run: errorMethodPanics},
		&scenario{name: initPanicName, about: "panic in a package init function", run: func(*run) {}},
		&scenario{
			name:   "deep-recursion-panic",
			levels: []string{"single", "system"},
			about:  "panic at recursion depth 300: elided frames (middle on go1.21+; before, cut at 100 frames, with a marker only at system)",
			run:    deepRecursionPanic,
		},
		&scenario{
			name:   "frames-variety",
			levels: []string{"single", "all"},
			about:  "panic under generics, closures, method values, sort.Slice and a deferred call in a go-statement goroutine",
			run:    framesVariety,
		},
		&scenario{
			name:   "settraceback-all",
			about:  "debug.SetTraceback(\"all\") at run time raises the default level: all goroutines printed",
			run:    setTracebackAll,
			levels: []string{"single"},
		},
	)
}

// idle starts n goroutines blocked in different ways, so that GOTRACEBACK=all has more to print.
func idle(r *run) {
	ids := make(chan int64)
	go func() { ids <- goid(); select {} }()
	go func() { ids <- goid(); time.Sleep(time.Hour) }()
	block := make(chan struct{})
	go func() { ids <- goid(); <-block }()
	var list []int64
	for i := 0; i < 3; i++ {
		id := <-ids
		r.started("idle", id, r.mainID)
		list = append(list, id)
	}
	r.settle(list...)
}

// expectPanic probes f (run under recover) for the value it panics with, then records the
// `panic:` line the runtime will print for it on the calling goroutine.
func expectPanic(r *run, f func()) {
	v := probe(f)
	r.message(kindPanic, "exact", "panic: "+firstLine(panicText(v)))
	if _, ok := v.(runtime.Error); ok && strings.Contains(panicText(v), "nil pointer dereference") {
		r.line("[signal SIGSEGV: segmentation violation code=")
	}
	r.crashing()
}

func nilMapWrite(r *run) {
	var m map[string]int
	f := func() { m["answer"] = 42 }
	expectPanic(r, f)
	r.commit()
	f()
}

type config struct {
	name string
	port int
}

//go:noinline
func (c *config) listenPort() int { return c.port }

func nilPointer(r *run) {
	idle(r)
	var c *config
	expectPanic(r, func() { c.listenPort() })
	r.commit()
	fmt.Println("listening on", c.listenPort())
}

func nilFuncCall(r *run) {
	var hook func(string) string
	expectPanic(r, func() { hook("x") })
	r.line("[signal SIGSEGV: segmentation violation code=")
	r.commit()
	fmt.Println(hook("startup"))
}

//go:noinline
func lookup(list []string, i int) string { return list[i] }

func indexOutOfRange(r *run) {
	list := []string{"a", "b", "c"}
	i := len(os.Args) + 3 // 5, not a constant the compiler could check
	expectPanic(r, func() { lookup(list, i) })
	r.commit()
	fmt.Println(lookup(list, i))
}

//go:noinline
func head(b []byte, n int) []byte { return b[:n] }

func sliceBounds(r *run) {
	b := make([]byte, 2, 4)
	n := len(os.Args) + 5 // 7
	expectPanic(r, func() { head(b, n) })
	r.commit()
	fmt.Println(head(b, n))
}

//go:noinline
func ratio(a, b int) int { return a / b }

func divideByZero(r *run) {
	zero := len(os.Args) - 2
	expectPanic(r, func() { ratio(10, zero) })
	r.commit()
	fmt.Println(ratio(10, zero))
}

type server struct{ addr string }

func typeAssertion(r *run) {
	var v interface{} = handler{name: "metrics"}
	f := func() { fmt.Println(v.(*server).addr) }
	expectPanic(r, f)
	r.commit()
	f()
}

func closeClosedChannel(r *run) {
	done := make(chan struct{})
	close(done)
	f := func() { close(done) }
	expectPanic(r, f)
	r.commit()
	f()
}

var (
	sinkInts    []int
	negativeLen = "-2"
)

func makesliceLen(r *run) {
	// Not -len(os.Args): go1.24 and go1.25 compile make([]int, -len(x)) without the length
	// check (the prove pass; fixed in go1.26), and the make silently succeeds.
	n, _ := strconv.Atoi(negativeLen)
	f := func() { sinkInts = make([]int, n) }
	expectPanic(r, f)
	r.commit()
	f()
}

type validationError struct {
	field string
	code  int
}

func (e *validationError) Error() string {
	return fmt.Sprintf("validation failed: field %q (code %d)", e.field, e.code)
}

func customError(r *run) {
	err := error(&validationError{field: "email", code: 42})
	expectPanic(r, func() { panic(err) })
	r.commit()
	panic(err)
}

func panicErrorf(r *run) {
	_, open := os.Open("/nonexistent/crashgen.conf")
	err := fmt.Errorf("loading config: %w", open)
	expectPanic(r, func() { panic(err) })
	r.commit()
	panic(err)
}

func panicMultiline(r *run) {
	msg := "request failed\nstatus: 503 Service Unavailable\n\tretry-after: 30\ngoroutine 99 [fake]:\nmain.fake()"
	expectPanic(r, func() { panic(msg) })
	for _, l := range strings.Split(indentNewlines(msg), "\n")[1:] {
		r.line(l)
	}
	r.commit()
	panic(msg)
}

type request struct {
	id   int
	path string
}

func panicStructValue(r *run) {
	req := request{id: 7, path: "/orders"}
	r.message(kindPanic, "prefix", "panic: (main.request) 0x")
	r.crashing()
	r.commit()
	panic(req)
}

func panicPointerValue(r *run) {
	req := &request{id: 7, path: "/orders"}
	r.message(kindPanic, "prefix", "panic: (*main.request) 0x")
	r.crashing()
	r.commit()
	panic(req)
}

type statusCode int

type reason string

func panicCustomInt(r *run) {
	r.message(kindPanic, "exact", "panic: main.statusCode(503)")
	r.crashing()
	r.commit()
	panic(statusCode(503))
}

func panicCustomString(r *run) {
	r.message(kindPanic, "exact", `panic: main.reason("disk full")`)
	r.crashing()
	r.commit()
	panic(reason("disk full"))
}

func recoveredRepanic(r *run) {
	r.message(kindPanic, "exact", "panic: connection reset by peer [recovered]")
	r.line("\tpanic: retry failed: connection reset by peer")
	r.crashing()
	r.commit()
	defer func() {
		if v := recover(); v != nil {
			panic(fmt.Sprintf("retry failed: %v", v))
		}
	}()
	panic(errors.New("connection reset by peer"))
}

func repanicSame(r *run) {
	if goMinor() >= 25 {
		r.message(kindPanic, "exact", "panic: token expired [recovered, repanicked]")
	} else {
		r.message(kindPanic, "exact", "panic: token expired [recovered]")
		r.line("\tpanic: token expired")
	}
	r.crashing()
	r.commit()
	defer func() {
		if v := recover(); v != nil {
			panic(v)
		}
	}()
	panic(errors.New("token expired"))
}

func panicNested(r *run) {
	r.message(kindPanic, "exact", "panic: first failure")
	r.line("\tpanic: cleanup failed")
	r.line("\tpanic: close failed")
	r.crashing()
	r.commit()
	defer func() { panic("close failed") }()
	defer func() { panic("cleanup failed") }()
	panic("first failure")
}

func panicNil(r *run) {
	v := probe(func() { panic(nil) })
	r.message(kindPanic, "exact", "panic: "+panicText(v))
	if v != nil {
		r.note("panic value type %T", v)
	}
	r.crashing()
	r.commit()
	panic(nil)
}

func goexitDeferredPanic(r *run) {
	r.message(kindPanic, "exact", "panic: cleanup after Goexit failed")
	ids := make(chan int64)
	go func() {
		id := goid()
		r.crashingID(id)
		ids <- id
		<-ids
		defer func() { panic("cleanup after Goexit failed") }()
		runtime.Goexit()
	}()
	id := <-ids
	r.started("", id, r.mainID)
	r.note("the goexit entry of the panic chain is not printed (runtime/panic.go printpanics)")
	r.commit()
	ids <- 0
	select {}
}

func goroutinePanic(r *run) {
	r.message(kindPanic, "exact", "panic: worker 3: queue closed")
	ids := make(chan int64)
	go func() {
		parent := goid()
		ids <- parent
		go func() {
			ids <- goid()
			<-ids
			worker(3)
		}()
		select {}
	}()
	parent := <-ids
	r.started("parent", parent, r.mainID)
	child := <-ids
	r.started("worker", child, parent)
	r.crashingID(child)
	r.settle(parent)
	r.commit()
	ids <- 0
	time.Sleep(time.Hour)
}

//go:noinline
func worker(n int) {
	panic(fmt.Sprintf("worker %d: queue closed", n))
}

func lockedThreadPanic(r *run) {
	r.message(kindPanic, "exact", "panic: render thread lost its context")
	ids := make(chan int64)
	go func() {
		runtime.LockOSThread()
		ids <- goid()
		<-ids
		panic("render thread lost its context")
	}()
	id := <-ids
	r.started("locked", id, r.mainID)
	r.crashingID(id)
	if r.tb.level < 2 {
		r.line(fmt.Sprintf("goroutine %d [running, locked to thread]:", id))
	}
	r.commit()
	ids <- 0
	select {}
}

type badError struct{}

func (badError) Error() string { panic("Error method exploded") }

func errorMethodPanics(r *run) {
	r.message(kindThrow, "exact", "fatal error: panic while printing panic value: Error method exploded")
	r.crashing()
	r.commit()
	panic(badError{})
}

const initPanicName = "init-panic"

func init() {
	if len(os.Args) == 2 && os.Args[1] == initPanicName {
		r := newRun(initPanicName)
		r.message(kindPanic, "exact", "panic: init: missing required setting DATABASE_URL")
		r.crashing()
		r.commit()
		panic("init: missing required setting DATABASE_URL")
	}
}

//go:noinline
func descend(depth int) int {
	if depth == 0 {
		panic("reached the bottom")
	}
	return descend(depth-1) + 1
}

func deepRecursionPanic(r *run) {
	r.message(kindPanic, "exact", "panic: reached the bottom")
	r.crashing()
	switch {
	case goMinor() >= 21:
		r.exp.Elided = "middle"
	case r.tb.level >= 2:
		r.exp.Elided = "end"
	default:
		// go1.20 runtime/traceback.go prints the marker only when the printed frames number
		// exactly 100; the hidden runtime.gopanic frame makes them 99.
		r.exp.Elided = "truncated"
	}
	r.commit()
	descend(300)
}

func setTracebackAll(r *run) {
	idle(r)
	r.raiseTraceback("all")
	r.message(kindPanic, "exact", "panic: shutting down: 3 workers still busy")
	r.crashing()
	r.commit()
	panic("shutting down: 3 workers still busy")
}
