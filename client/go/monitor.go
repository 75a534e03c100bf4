package gocrash

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// runMonitor reads the program's crash output until the program exits (end of file on in) and
// returns the monitor's exit code: 0 when there was nothing to report or the crash was posted or
// spooled, 1 when it was lost (said on errs).
func runMonitor(s settings, in io.Reader, errs io.Writer) int {
	// A terminal's ^C or ^\ and a supervisor's SIGTERM reach the whole process group; the monitor
	// outlives the program by design, to report how it ended.
	signal.Ignore(os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	crash, err := io.ReadAll(in)
	if len(crash) == 0 {
		return 0
	}
	text := string(crash)
	if exe, err := os.Executable(); err == nil {
		text = restoreThrowLines(text, exe)
	}
	r := report{
		Text:           text,
		Kind:           "fatal",
		Time:           time.Now().UTC().Format(time.RFC3339Nano),
		Host:           s.Host,
		Service:        s.Service,
		Version:        s.Version,
		Attributes:     s.Attributes,
		IdempotencyKey: newKey(),
	}
	if err != nil {
		// What was read is still the crash's beginning: report it.
		fmt.Fprintf(errs, "gocrash monitor: reading the crash output: %v\n", err)
	}
	p := &poster{server: s.Server, token: s.Token, http: &http.Client{Timeout: 10 * time.Second}}
	postErr := p.postRetrying("/api/v1/crashes", r, r.IdempotencyKey, s.RetryFor)
	if postErr == nil {
		return 0
	}
	path, err := spool(s.SpoolDir, r)
	if err != nil {
		fmt.Fprintf(errs, "gocrash monitor: crash lost: %v; and cannot spool it: %v\n", postErr, err)
		return 1
	}
	if errors.Is(postErr, errPermanent) {
		fmt.Fprintf(errs, "gocrash monitor: %v; crash spooled in %s\n", postErr, path)
	}
	return 0
}

// newKey is a random idempotency key, 128 bits in hex.
func newKey() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Sprintf("t%x-%x", time.Now().UnixNano(), os.Getpid())
	}
	return hex.EncodeToString(b[:])
}
