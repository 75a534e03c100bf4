// Package gocrash reports a Go program's crashes, recovered panics and heartbeats to a
// `gocrash serve` fleet service.
//
// Call Start first thing in main. It re-executes the program as a monitor process that the
// runtime writes its crash output to (runtime/debug.SetCrashOutput, Go 1.23+); when the program
// dies of a crash the monitor posts the text to the server, or writes it to a spool directory
// when the server cannot be reached, then exits. The program's own exit status and standard
// error are as without the client.
package gocrash

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"
)

// MonitorEnv is the environment variable that puts a re-executed program in monitor mode; it
// holds the monitor's settings as JSON.
const MonitorEnv = "GOCRASH_MONITOR"

// Config says where reports go and what they say about the process.
type Config struct {
	// Server is the base URL of `gocrash serve`, such as http://gocrash.internal:7480.
	Server string
	// Token is an ingest token (`gocrash token create --scope ingest`).
	Token string
	// Service and Version name the program and its release.
	Service string
	Version string
	// Host defaults to os.Hostname().
	Host string
	// Attributes are sent with every report and heartbeat, besides those the client adds.
	Attributes map[string]string
	// SpoolDir is where the monitor writes crashes it could not post; empty: DefaultSpoolDir().
	SpoolDir string
	// RetryFor bounds how long the monitor tries to post a crash before spooling it; zero: 30 s.
	RetryFor time.Duration
	// HeartbeatInterval is how often a goroutine posts a heartbeat; zero: one minute; negative: never.
	HeartbeatInterval time.Duration
}

// Client reports recovered panics and sends heartbeats for the running program.
type Client struct {
	settings settings
	poster   *poster
	stop     chan struct{}
	done     chan struct{}
}

// settings is what the monitor needs, passed to it as JSON in MonitorEnv.
type settings struct {
	Server     string            `json:"server"`
	Token      string            `json:"token"`
	Service    string            `json:"service"`
	Version    string            `json:"version"`
	Host       string            `json:"host"`
	Attributes map[string]string `json:"attributes"`
	SpoolDir   string            `json:"spoolDir"`
	RetryFor   time.Duration     `json:"retryFor"`
}

// DefaultSpoolDir is the spool directory when Config.SpoolDir is empty: gocrash/spool under
// os.UserCacheDir(), or under os.TempDir() when there is no user cache directory.
func DefaultSpoolDir() string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "gocrash", "spool")
}

func (c Config) settings() (settings, error) {
	u, err := url.Parse(c.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return settings{}, fmt.Errorf("gocrash: Server %q is not an http or https URL", c.Server)
	}
	s := settings{
		Server:     strings.TrimRight(c.Server, "/"),
		Token:      c.Token,
		Service:    c.Service,
		Version:    c.Version,
		Host:       c.Host,
		Attributes: processAttributes(c.Attributes),
		SpoolDir:   c.SpoolDir,
		RetryFor:   c.RetryFor,
	}
	if s.Host == "" {
		s.Host, _ = os.Hostname()
	}
	if s.SpoolDir == "" {
		s.SpoolDir = DefaultSpoolDir()
	}
	if s.RetryFor <= 0 {
		s.RetryFor = 30 * time.Second
	}
	return s, nil
}

// Start starts crash reporting and heartbeats; call it first thing in main, with the same Config
// on every run.
//
// In the monitor process (the program re-executed with MonitorEnv set) Start never returns: it
// waits for the program to exit, reports its crash if it crashed, and exits. In the program it
// starts that monitor, directs the runtime's crash output to it and returns a Client. If the
// monitor cannot be started the error says why and the Client still reports recovered panics
// and heartbeats.
func Start(cfg Config) (*Client, error) {
	if raw, ok := os.LookupEnv(MonitorEnv); ok {
		var s settings
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			fmt.Fprintf(os.Stderr, "gocrash monitor: %s is not valid: %v\n", MonitorEnv, err)
			os.Exit(2)
		}
		os.Exit(runMonitor(s, os.Stdin, os.Stderr))
	}
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	c := newClient(s)
	if cfg.HeartbeatInterval >= 0 {
		interval := cfg.HeartbeatInterval
		if interval == 0 {
			interval = time.Minute
		}
		go c.heartbeats(interval)
	} else {
		close(c.done)
	}
	return c, startMonitor(s)
}

func newClient(s settings) *Client {
	return &Client{
		settings: s,
		poster:   &poster{server: s.Server, token: s.Token, http: &http.Client{Timeout: 10 * time.Second}},
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// startMonitor re-executes the program in monitor mode with the read end of a pipe as its
// standard input, and makes the write end the runtime's crash output. The runtime duplicates
// the write end close-on-exec, so the monitor sees end of file exactly when the program exits.
func startMonitor(s settings) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("gocrash: cannot find the program's executable: %w", err)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("gocrash: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("gocrash: %w", err)
	}
	defer w.Close()
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), MonitorEnv+"="+string(raw))
	cmd.Stdin = r
	// The monitor says something only when a crash is lost; stdout stays the program's own.
	cmd.Stderr = os.Stderr
	err = cmd.Start()
	r.Close()
	if err != nil {
		return fmt.Errorf("gocrash: cannot start the monitor: %w", err)
	}
	go cmd.Wait() //nolint:errcheck // reaps a monitor that ends before the program does
	if err := debug.SetCrashOutput(w, debug.CrashOptions{}); err != nil {
		return fmt.Errorf("gocrash: cannot set the crash output: %w", err)
	}
	return nil
}

// Stop ends the heartbeats. Crash reporting lasts as long as the program.
func (c *Client) Stop() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	<-c.done
}

var errPermanent = errors.New("the server refused the report")
