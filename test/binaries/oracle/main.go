// Command oracle lists the functions of a Go ELF binary with debug/gosym, even when the binary is
// stripped: one "entry end name" line per function, addresses in hex. gocrash's differential
// tests pair it with GNU objdump, because `go tool objdump` refuses binaries without symbols.
//
// debug/gosym takes the text start from its caller, and it must be runtime.text, which is not the
// .text section's address in externally linked binaries (C code comes first). The oracle takes it
// from the symbol table, else from the pclntab header (Go 1.18-1.25), else from moduledata.text.
package main

import (
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"fmt"
	"os"
)

func main() {
	f, err := elf.Open(os.Args[1])
	check(err)
	sec := f.Section(".gopclntab")
	if sec == nil {
		sec = f.Section(".data.rel.ro.gopclntab")
	}
	if sec == nil {
		fail("no pclntab section")
	}
	data, err := sec.Data()
	check(err)
	text := textStart(f, sec.Addr, data)
	table, err := gosym.NewTable(nil, gosym.NewLineTable(data, text))
	check(err)
	w := os.Stdout
	for _, fn := range table.Funcs {
		fmt.Fprintf(w, "%#x %#x %s\n", fn.Entry, fn.End, fn.Name)
	}
}

func textStart(f *elf.File, pclntab uint64, data []byte) uint64 {
	if syms, err := f.Symbols(); err == nil {
		for _, s := range syms {
			if s.Name == "runtime.text" {
				return s.Value
			}
		}
	}
	if v := binary.LittleEndian.Uint64(data[8+2*8:]); v != 0 {
		return v
	}
	// moduledata (in .go.module since Go 1.26, .noptrdata before) starts with a pointer to the
	// pclntab header; text is its 23rd word.
	for _, s := range f.Sections {
		if s.Name != ".go.module" && s.Name != ".noptrdata" && s.Name != ".data" {
			continue
		}
		d, err := s.Data()
		check(err)
		for i := 0; i+24*8 <= len(d); i += 8 {
			if binary.LittleEndian.Uint64(d[i:]) == pclntab {
				return binary.LittleEndian.Uint64(d[i+22*8:])
			}
		}
	}
	fail("text start not found")
	return 0
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "oracle:", msg)
	os.Exit(1)
}
