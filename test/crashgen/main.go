// Command crashgen crashes on purpose, in the way named by its argument, so that gocrash can be
// tested on real Go crash output. `crashgen list` prints the scenario names; `crashgen matrix`
// prints, tab-separated, how scripts/capture-crashes.sh runs each one (binary, GOTRACEBACK
// levels, extra environment, `ulimit -v` in KiB, description); `crashgen verify` checks
// captured fixtures against their expectations (verify.go).
//
// When CRASHGEN_EXPECT names a file, each scenario writes there, just before it crashes, a JSON
// description of what the crash output must contain (see expect.go). Exit status 3 means the
// generator itself failed (bad usage, or a scenario could not set itself up).
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// scenario is one named way to crash.
type scenario struct {
	name string
	// build names the binary that runs the scenario: "plain" (CGO_ENABLED=0), "cgo" or "race".
	build string
	// levels are the GOTRACEBACK values the capture script runs the scenario with.
	levels []string
	// env is extra environment for the run, e.g. GODEBUG=tracebackancestors=5.
	env []string
	// ulimitV, when set, is the address-space limit in KiB (`ulimit -v`) for the run.
	ulimitV int
	about   string
	run     func(r *run)
}

var scenarios = map[string]*scenario{}

func register(list ...*scenario) {
	for _, s := range list {
		if _, dup := scenarios[s.name]; dup {
			panic("crashgen: duplicate scenario " + s.name)
		}
		if s.build == "" {
			s.build = "plain"
		}
		if len(s.levels) == 0 {
			s.levels = []string{"single"}
		}
		scenarios[s.name] = s
	}
}

func sortedNames() []string {
	names := make([]string, 0, len(scenarios))
	for name := range scenarios {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: crashgen list | matrix | verify FIXTURE.txt... | SCENARIO")
	os.Exit(3)
}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "verify" {
		os.Exit(verify(os.Args[2:]))
	}
	if len(os.Args) != 2 {
		usage()
	}
	switch arg := os.Args[1]; arg {
	case "list":
		for _, name := range sortedNames() {
			fmt.Println(name)
		}
	case "matrix":
		for _, name := range sortedNames() {
			s := scenarios[name]
			env := strings.Join(s.env, " ")
			if env == "" {
				env = "-"
			}
			limit := "-"
			if s.ulimitV > 0 {
				limit = strconv.Itoa(s.ulimitV)
			}
			fmt.Printf("%s\t%s\t%s\t%s\t%s\t%s\n", s.name, s.build, strings.Join(s.levels, ","), env, limit, s.about)
		}
	default:
		s, ok := scenarios[arg]
		if !ok {
			fmt.Fprintf(os.Stderr, "crashgen: unknown scenario %q (try `crashgen list`)\n", arg)
			os.Exit(3)
		}
		if s.name == initPanicName {
			// It crashed already, in init (see init-panic in panics.go).
			failf("init-panic did not panic in init")
		}
		r := newRun(s.name)
		s.run(r)
		if !r.returns {
			failf("scenario %s returned without crashing", s.name)
		}
	}
}

// failf reports that the generator itself failed, which the capture script treats as an error.
func failf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "crashgen: "+format+"\n", args...)
	os.Exit(3)
}
