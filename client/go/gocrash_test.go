package gocrash

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain doubles as a program that uses the client, so that the monitor is tested as a real
// process: with GOCRASH_TEST_PROGRAM set it starts the client and then crashes or exits.
func TestMain(m *testing.M) {
	if mode := os.Getenv("GOCRASH_TEST_PROGRAM"); mode != "" {
		program(mode)
		return
	}
	os.Exit(m.Run())
}

func program(mode string) {
	_, err := Start(Config{
		Server:            os.Getenv("GOCRASH_TEST_SERVER"),
		Token:             "secret",
		Service:           "unit",
		Version:           "1.0.0",
		Host:              "unit-host",
		Attributes:        map[string]string{"region": "test"},
		SpoolDir:          os.Getenv("GOCRASH_TEST_SPOOL"),
		RetryFor:          time.Second,
		HeartbeatInterval: -1,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	switch mode {
	case "exit":
		fmt.Println("done")
		os.Exit(0)
	case "panic":
		panic("unit test panic\nsecond line")
	}
}

// received is what a test server was sent.
type received struct {
	mu       sync.Mutex
	requests []request
}

type request struct {
	path, auth, key string
	body            map[string]any
}

func (r *received) all() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request{}, r.requests...)
}

// ingestServer answers with the statuses given in turn, then 201.
func ingestServer(t *testing.T, statuses ...int) (*httptest.Server, *received) {
	t.Helper()
	got := &received{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		got.mu.Lock()
		n := len(got.requests)
		got.requests = append(got.requests, request{req.URL.Path, req.Header.Get("Authorization"), req.Header.Get("Idempotency-Key"), body})
		got.mu.Unlock()
		status := http.StatusCreated
		if n < len(statuses) {
			status = statuses[n]
		}
		w.WriteHeader(status)
		fmt.Fprint(w, `{"crashes":[]}`)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// deadURL is the address of a port nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func testSettings(server, spool string) settings {
	return settings{Server: server, Token: "secret", Service: "svc", Version: "2.0", Host: "h1",
		Attributes: map[string]string{"region": "r"}, SpoolDir: spool, RetryFor: 2 * time.Second}
}

func TestMonitorPostsTheCrashWithItsAttributes(t *testing.T) {
	srv, got := ingestServer(t, 503, 503)
	text := "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/x/main.go:3 +0x1\n"
	if code := runMonitor(testSettings(srv.URL, t.TempDir()), strings.NewReader(text), io.Discard); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	reqs := got.all()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (two 503s then 201)", len(reqs))
	}
	key := reqs[0].key
	if len(key) != 32 {
		t.Errorf("idempotency key %q", key)
	}
	for _, r := range reqs {
		if r.key != key || r.auth != "Bearer secret" || r.path != "/api/v1/crashes" {
			t.Errorf("request %+v: want key %s sent again, the token, /api/v1/crashes", r, key)
		}
	}
	b := reqs[2].body
	if b["text"] != text || b["kind"] != "fatal" || b["host"] != "h1" || b["service"] != "svc" || b["version"] != "2.0" {
		t.Errorf("body %v", b)
	}
	if attrs := b["attributes"].(map[string]any); attrs["region"] != "r" {
		t.Errorf("attributes %v", attrs)
	}
	if _, err := time.Parse(time.RFC3339Nano, b["time"].(string)); err != nil {
		t.Error(err)
	}
}

func TestMonitorWithoutCrashOutputPostsNothing(t *testing.T) {
	srv, got := ingestServer(t)
	if code := runMonitor(testSettings(srv.URL, t.TempDir()), strings.NewReader(""), io.Discard); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if n := len(got.all()); n != 0 {
		t.Fatalf("%d requests", n)
	}
}

func TestMonitorSpoolsWhenTheServerIsDown(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	s := testSettings(deadURL(t), dir)
	s.RetryFor = 1500 * time.Millisecond
	began := time.Now()
	var errs strings.Builder
	if code := runMonitor(s, strings.NewReader("fatal error: x\n"), &errs); code != 0 {
		t.Fatalf("exit code %d: %s", code, errs.String())
	}
	took := time.Since(began)
	if took < time.Second || took > 5*time.Second {
		t.Errorf("took %s; retries should last about RetryFor (1.5 s)", took)
	}
	if errs.Len() != 0 {
		t.Errorf("said %q; a spooled crash is not an error", errs.String())
	}
	files, err := os.ReadDir(dir)
	if err != nil || len(files) != 1 {
		t.Fatalf("spool holds %v (%v), want one file", files, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, files[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	var r report
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	if files[0].Name() != r.IdempotencyKey+".json" || r.Text != "fatal error: x\n" || r.Kind != "fatal" || r.Host != "h1" || r.Attributes["region"] != "r" {
		t.Errorf("spooled %s: %+v", files[0].Name(), r)
	}
}

func TestMonitorSpoolsAtOnceWhatTheServerRefuses(t *testing.T) {
	srv, got := ingestServer(t, 401)
	dir := t.TempDir()
	var errs strings.Builder
	if code := runMonitor(testSettings(srv.URL, dir), strings.NewReader("fatal error: x\n"), &errs); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if n := len(got.all()); n != 1 {
		t.Errorf("%d requests; a 401 is not retried", n)
	}
	if !strings.Contains(errs.String(), "401") || !strings.Contains(errs.String(), "spooled in "+dir) {
		t.Errorf("said %q", errs.String())
	}
}

func TestMonitorSaysWhenTheCrashIsLost(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	s := testSettings(deadURL(t), filepath.Join(file, "spool")) // under a file: cannot be made
	s.RetryFor = 100 * time.Millisecond
	var errs strings.Builder
	if code := runMonitor(s, strings.NewReader("fatal error: x\n"), &errs); code != 1 {
		t.Fatalf("exit code %d", code)
	}
	if !strings.Contains(errs.String(), "crash lost") {
		t.Errorf("said %q", errs.String())
	}
}

// runProgram runs this test binary as a program that uses the client.
func runProgram(t *testing.T, mode, server, spool string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "GOCRASH_TEST_PROGRAM="+mode, "GOCRASH_TEST_SERVER="+server, "GOCRASH_TEST_SPOOL="+spool)
	var out, errs strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errs
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return out.String(), errs.String(), cmd.ProcessState.ExitCode()
}

func waitFor(t *testing.T, got *received, n int) []request {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if reqs := got.all(); len(reqs) >= n {
			return reqs
		}
	}
	t.Fatalf("%d requests after 10 s, want %d", len(got.all()), n)
	return nil
}

func TestAProgramThatPanicsIsReportedByItsMonitor(t *testing.T) {
	srv, got := ingestServer(t)
	_, stderr, code := runProgram(t, "panic", srv.URL, t.TempDir())
	if code != 2 || !strings.HasPrefix(stderr, "panic: unit test panic\n\tsecond line\n\ngoroutine 1 [running]:\n") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	reqs := waitFor(t, got, 1)
	b := reqs[0].body
	if b["text"] != stderr {
		t.Errorf("posted text %q\nwant what the program printed %q", b["text"], stderr)
	}
	attrs := b["attributes"].(map[string]any)
	want := map[string]any{"region": "test", "goarch": runtime.GOARCH, "goos": runtime.GOOS,
		"goVersion": strings.TrimPrefix(runtime.Version(), "go")}
	for name, value := range want {
		if attrs[name] != value {
			t.Errorf("attribute %s = %v, want %v", name, attrs[name], value)
		}
	}
	if b["service"] != "unit" || b["version"] != "1.0.0" || b["host"] != "unit-host" {
		t.Errorf("body %v", b)
	}
}

func TestAProgramThatExitsIsNotReported(t *testing.T) {
	srv, got := ingestServer(t)
	stdout, stderr, code := runProgram(t, "exit", srv.URL, t.TempDir())
	if code != 0 || stdout != "done\n" || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// The monitor shares the program's stderr, so Run returned after it exited.
	if n := len(got.all()); n != 0 {
		t.Fatalf("%d requests", n)
	}
}

func TestRecoverReportsTheRecoveredPanic(t *testing.T) {
	srv, got := ingestServer(t)
	s, err := Config{Server: srv.URL, Token: "secret", Service: "svc", HeartbeatInterval: -1}.settings()
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(s)
	func() {
		defer c.Recover()
		explode()
	}()
	reqs := got.all()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	b := reqs[0].body
	text := b["text"].(string)
	if b["kind"] != "recovered" || len(reqs[0].key) != 32 {
		t.Errorf("kind %v, key %q", b["kind"], reqs[0].key)
	}
	lines := strings.Split(text, "\n")
	if len(lines) < 5 || lines[0] != "panic: explode 42 [recovered]" || lines[1] != "" ||
		!strings.HasPrefix(lines[2], "goroutine ") || !strings.HasSuffix(lines[2], " [running]:") ||
		!strings.HasPrefix(lines[3], "github.com/gocrash/gocrash/client/go.explode(") {
		t.Fatalf("text:\n%s", text)
	}
	if strings.Contains(text, "runtime/debug.Stack") || strings.Contains(text, "(*Client).Recover") {
		t.Errorf("the frames above the panic are kept:\n%s", text)
	}
}

//go:noinline
func explode() { panic(fmt.Errorf("explode %d", 42)) }

func TestCutAbovePanicKeepsAStackWithoutPanic(t *testing.T) {
	stack := debug.Stack()
	if got := cutAbovePanic(stack); string(got) != string(stack) {
		t.Errorf("cut\n%s", got)
	}
}

type named string
type number int
type stringer struct{}

func (stringer) String() string { return "from String" }

func TestFormatPanicValueAsTheRuntimePrints(t *testing.T) {
	var p *int
	for _, c := range []struct {
		value any
		want  string
	}{
		{"two\nlines", "two\n\tlines"},
		{errors.New("an error"), "an error"},
		{stringer{}, "from String"},
		{nil, "nil"},
		{true, "true"},
		{-7, "-7"},
		{uint8(200), "200"},
		{1.5, "+1.500000e+000"},
		{float32(-0.25), "-2.500000e-001"},
		{1e100, "+1.000000e+100"},
		{complex(1, 2), "(+1.000000e+000+2.000000e+000i)"},
		{named("x\ny"), `gocrash.named("x` + "\n\t" + `y")`},
		{number(3), "gocrash.number(3)"},
		{p, "(*int) 0x0"},
	} {
		if got := formatPanicValue(c.value); got != c.want {
			t.Errorf("formatPanicValue(%#v) = %q, want %q", c.value, got, c.want)
		}
	}
	// The runtime's type names are qualified by package name, not path, as reflect's.
	if got := formatPanicValue(struct{ A int }{1}); !strings.HasPrefix(got, "(struct { A int }) 0x") {
		t.Errorf("struct: %q", got)
	}
}

func TestHeartbeatsUntilStop(t *testing.T) {
	srv, got := ingestServer(t)
	s := testSettings(srv.URL, t.TempDir())
	c := newClient(s)
	go c.heartbeats(30 * time.Millisecond)
	reqs := waitFor(t, got, 3)
	c.Stop()
	after := len(got.all())
	time.Sleep(100 * time.Millisecond)
	if n := len(got.all()); n != after {
		t.Errorf("%d heartbeats after Stop", n-after)
	}
	b := reqs[0].body
	if reqs[0].path != "/api/v1/heartbeats" || reqs[0].key != "" || b["host"] != "h1" || b["service"] != "svc" || b["version"] != "2.0" {
		t.Errorf("heartbeat %+v", reqs[0])
	}
}

func TestConfigRefusesAServerThatIsNotAURL(t *testing.T) {
	for _, server := range []string{"", "localhost:7480", "ftp://x"} {
		if _, err := (Config{Server: server}).settings(); err == nil {
			t.Errorf("Server %q accepted", server)
		}
	}
}

func TestRestoreThrowLinesFromTheExecutable(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Skipf("not ELF: %v", err)
	}
	defer f.Close()
	// Find where this test binary's rodata holds "concurrent map writes", as the runtime's
	// maps.fatal would print it.
	var addr uint64
	for _, s := range f.Sections {
		if s.Type != elf.SHT_PROGBITS || s.Flags&elf.SHF_ALLOC == 0 {
			continue
		}
		data, err := s.Data()
		if err != nil {
			continue
		}
		if i := bytes.Index(data, []byte("concurrent map writes")); i >= 0 {
			addr = s.Addr + uint64(i)
			break
		}
	}
	if addr == 0 {
		t.Fatal("no concurrent map writes in the test binary")
	}
	tail := fmt.Sprintf("goroutine 7 [running]:\ninternal/runtime/maps.fatal({%#x?, 0x0?})\n\t/go/src/runtime/panic.go:1058 +0x18\n", addr)
	if got, want := restoreThrowLines("\n"+tail, exe), "fatal error: concurrent map writes\n\n"+tail; got != want {
		t.Errorf("restored\n%q\nwant\n%q", got, want)
	}
	// An address elsewhere, or a crash that is not a throw, is left as it is.
	for _, crash := range []string{
		"\n" + strings.Replace(tail, fmt.Sprintf("%#x", addr), fmt.Sprintf("%#x", addr+1), 1),
		"panic: x\n\n" + tail,
		"\n" + strings.Replace(tail, "{", "{0x1?, ", 1),
	} {
		if got := restoreThrowLines(crash, exe); got != crash {
			t.Errorf("changed %q to %q", crash, got)
		}
	}
}
