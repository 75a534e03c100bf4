// Command oracle lists the functions of a Go ELF binary with debug/gosym, even when the binary is
// stripped: one "entry end file:line name" line per function (addresses in hex, file:line of the
// entry). gocrash's differential
// tests pair it with GNU objdump, because `go tool objdump` refuses binaries without symbols.
//
// debug/gosym takes the text start from its caller, and it must be runtime.text, which is not the
// .text section's address in externally linked binaries (C code comes first). The oracle takes it
// from the symbol table, else from the pclntab header (Go 1.18-1.25), else from moduledata.text,
// applying R_AARCH64_RELATIVE relocations in PIE binaries.
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
	addr, data := findPclntab(f)
	text := textStart(f, addr, data)
	table, err := gosym.NewTable(nil, gosym.NewLineTable(data, text))
	check(err)
	w := os.Stdout
	for _, fn := range table.Funcs {
		file, line, _ := table.PCToLine(fn.Entry)
		fmt.Fprintf(w, "%#x %#x %s:%d %s\n", fn.Entry, fn.End, file, line, fn.Name)
	}
}

// findPclntab returns the pclntab by section name or, in externally linked PIE binaries where
// it has none, by its Go 1.18+ magic inside .data.rel.ro (as golang.org/x/vuln does).
func findPclntab(f *elf.File) (uint64, []byte) {
	for _, name := range []string{".gopclntab", ".data.rel.ro.gopclntab"} {
		if s := f.Section(name); s != nil {
			d, err := s.Data()
			check(err)
			return s.Addr, d
		}
	}
	if s := f.Section(".data.rel.ro"); s != nil {
		d, err := s.Data()
		check(err)
		for i := 0; i+16 <= len(d); i += 4 {
			m := binary.LittleEndian.Uint32(d[i:])
			if (m == 0xfffffff0 || m == 0xfffffff1) && d[i+4] == 0 && d[i+5] == 0 && d[i+6] == 4 && d[i+7] == 8 {
				return s.Addr + uint64(i), d[i:]
			}
		}
	}
	fail("no pclntab")
	return 0, nil
}

// relocated returns the load-time value of the pointer at addr: the addend of its
// R_AARCH64_RELATIVE relocation in a PIE binary, else what the file holds.
func relocated(f *elf.File, addr uint64, fileValue uint64) uint64 {
	if s := f.Section(".rela.dyn"); s != nil {
		d, err := s.Data()
		check(err)
		for i := 0; i+24 <= len(d); i += 24 {
			if binary.LittleEndian.Uint64(d[i:]) == addr && uint32(binary.LittleEndian.Uint64(d[i+8:])) == uint32(elf.R_AARCH64_RELATIVE) {
				return binary.LittleEndian.Uint64(d[i+16:])
			}
		}
	}
	return fileValue
}

func textStart(f *elf.File, pclntab uint64, data []byte) uint64 {
	if syms, err := f.Symbols(); err == nil {
		for _, s := range syms {
			if s.Name == "runtime.text" {
				return s.Value
			}
		}
	}
	if binary.LittleEndian.Uint32(data) < 0xfffffff0 {
		return 0 // Go 1.2-1.17 tables hold absolute entry addresses.
	}
	if v := relocated(f, pclntab+8+2*8, binary.LittleEndian.Uint64(data[8+2*8:])); v != 0 {
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
				return relocated(f, s.Addr+uint64(i+22*8), binary.LittleEndian.Uint64(d[i+22*8:]))
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
