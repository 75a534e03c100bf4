package gocrash

import (
	"debug/elf"
	"regexp"
	"strconv"
	"strings"
)

// The runtime writes to the crash output only once the crashing thread is marked dying
// (runtime/runtime.go writeErrData), which a throw does after printing `fatal error: MESSAGE`
// (runtime/panic.go throw and fatal), and sigpanic prints `unexpected fault address ADDR` before
// that: Go 1.23 to 1.26 leave both lines out of the crash output (golang/go#76859), and without
// them the server cannot tell why the program died. The message is a constant string whose
// address the top frame prints as its first argument; the monitor is the same executable, so it
// reads the bytes there from its own file and takes the longest known message they begin with.

// thrown matches the beginning of a throw's crash output: optionally the signal line, then the
// crashing goroutine with the throwing function on top and its string argument's address.
var thrown = regexp.MustCompile(`\A\n?(\[signal [^\n]* addr=(0x[0-9a-f]+) [^\n]*\]\n\n)?goroutine \d+ [^\n]*\[running\]:\n(?:runtime\.throw|runtime\.fatal|internal/runtime/maps\.fatal|(?:internal/)?sync\.(?:fatal|throw))\(\{(0x[0-9a-f]+)\??, `)

// fatalMessages are the messages of runtime.fatal (the fatal errors a program's own bugs cause)
// and the commonest throws, from Go 1.26's runtime, internal/runtime/maps and internal/sync.
var fatalMessages = []string{
	"all goroutines are asleep - deadlock!",
	"no goroutines (main called runtime.Goexit) - deadlock!",
	"concurrent map writes",
	"concurrent map read and map write",
	"concurrent map iteration and map write",
	"concurrent map clone and map write",
	"small map with no empty slot (concurrent map writes?)",
	"sync: unlock of unlocked mutex",
	"sync: RUnlock of unlocked RWMutex",
	"sync: Unlock of unlocked RWMutex",
	"go of nil func value",
	"fault",
	"out of memory",
	"stack overflow",
	"traceback did not unwind completely",
	"unexpected signal during runtime execution",
	"unknown pc",
	"unknown caller pc",
	"invalid memory address or nil pointer dereference",
	"split stack overflow",
}

// restoreThrowLines puts back the lines a throw printed before its crash output began, when
// exe holds a known message at the address the crash output names; otherwise crash is unchanged.
func restoreThrowLines(crash, exe string) string {
	m := thrown.FindStringSubmatch(crash)
	if m == nil {
		return crash
	}
	addr, err := strconv.ParseUint(m[3], 0, 64)
	if err != nil {
		return crash
	}
	message := messageAt(exe, addr)
	if message == "" {
		return crash
	}
	head := "fatal error: " + message + "\n"
	if message == "fault" && m[2] != "" {
		head = "unexpected fault address " + m[2] + "\n" + head
	}
	return head + crash
}

// messageAt is the longest of fatalMessages that the bytes at virtual address addr of the ELF
// file exe begin with; empty when there is none or exe cannot be read.
func messageAt(exe string, addr uint64) string {
	f, err := elf.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	for _, s := range f.Sections {
		if s.Type != elf.SHT_PROGBITS || addr < s.Addr || addr >= s.Addr+s.Size {
			continue
		}
		buf := make([]byte, min(128, s.Addr+s.Size-addr))
		n, _ := s.ReadAt(buf, int64(addr-s.Addr))
		best := ""
		for _, msg := range fatalMessages {
			if len(msg) > len(best) && strings.HasPrefix(string(buf[:n]), msg) {
				best = msg
			}
		}
		return best
	}
	return ""
}
