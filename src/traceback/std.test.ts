import { describe, expect, it } from "vitest";
import { type Frame, isStdFrame } from "./index.js";

const frame = (fn: string, pkg: string, file: string | null): Frame => ({
	function: fn,
	package: pkg,
	receiver: null,
	args: "",
	inlined: false,
	file,
	line: 1,
	offset: null,
	fp: null,
	sp: null,
	pc: null,
});

describe("isStdFrame", () => {
	it.each([
		["runtime.panicmem", "runtime", "/usr/lib/go-1.24/src/runtime/panic.go", true],
		["runtime.panicmem", "runtime", "runtime/panic.go", true], // -trimpath
		["net/http.(*conn).serve", "net/http", "net/http/server.go", true], // -trimpath
		["sync.(*Mutex).Lock", "sync", "$GOROOT/src/sync/mutex.go", true],
		// Go 1.3 and before kept the standard library under src/pkg/ (etcd-io/etcd#270, go1.2).
		["runtime.panic", "runtime", "/usr/local/src/go/src/pkg/runtime/panic.c", true],
		["io.Copy", "io", "/usr/local/src/go/src/pkg/io/io.go", true],
		["main.main", "main", "/src/app/main.go", false],
		["main.main", "main", "example.com/app/main.go", false], // -trimpath
		["example.com/app/db.Open", "example.com/app/db", "example.com/app/db/db.go", false],
		// A module whose path has no dot, built with -trimpath: its files are not GOROOT's.
		["myapp/store.Open", "myapp/store", "myapp/store/store.go", false],
		["myapp/store.Open", "myapp/store", "/home/me/myapp/store/store.go", false],
	])("%s in %s (%s): %s", (fn, pkg, file, std) => {
		expect(isStdFrame(frame(fn, pkg, file))).toBe(std);
	});
});
