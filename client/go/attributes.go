package gocrash

import (
	"debug/elf"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// processAttributes is the caller's attributes plus what the process knows of its build: goVersion
// (without "go", as the server infers it from GOROOT paths), goarch, goos, the main module's path
// and version, and the vcs.* settings `go build` stamped. The caller's values win.
func processAttributes(given map[string]string) map[string]string {
	out := map[string]string{
		"goVersion": strings.TrimPrefix(runtime.Version(), "go"),
		"goarch":    runtime.GOARCH,
		"goos":      runtime.GOOS,
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Path != "" {
			out["mainModule"] = info.Main.Path
		}
		if info.Main.Version != "" {
			out["mainVersion"] = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs", "vcs.revision", "vcs.time", "vcs.modified":
				out[s.Key] = s.Value
			}
		}
	}
	if id := goBuildID(); id != "" {
		out["buildID"] = id
	}
	for name, value := range given {
		out[name] = value
	}
	return out
}

// goBuildID reads the Go build ID from the executable's ELF note (the linker writes it as note
// type 4, name "Go", in section .note.go.buildid; cmd/internal/buildid); empty when there is none.
func goBuildID() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := elf.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	sec := f.Section(".note.go.buildid")
	if sec == nil {
		return ""
	}
	data, err := sec.Data()
	// namesz, descsz, type (4 bytes each), "Go\x00\x00", then the ID.
	if err != nil || len(data) < 16 {
		return ""
	}
	order := f.ByteOrder
	namesz, descsz, kind := order.Uint32(data), order.Uint32(data[4:]), order.Uint32(data[8:])
	if namesz != 4 || kind != 4 || string(data[12:16]) != "Go\x00\x00" || uint64(descsz) > uint64(len(data)-16) {
		return ""
	}
	return string(data[16 : 16+descsz])
}
