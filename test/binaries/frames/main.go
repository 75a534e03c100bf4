// Command frames has functions with chosen stack frame sizes, leaf and non-leaf, so that the
// arm64 split stack-pointer epilogue (golang/go#73259) appears at known places. gocrash's binary
// tests build it with every Debian Go toolchain (scripts/build-binaries.sh).
package main

//go:noinline
func sink(b []byte) int { return len(b) }

// fill writes and folds a buffer without calls and without bounds checks, so a function that
// only calls fill (inlined) stays a leaf.
func fill(b []byte, v int) int {
	for i := range b {
		b[i] = byte(v + i)
	}
	s := 0
	for i := range b {
		s ^= int(b[i])
	}
	return s
}

//go:noinline
func leaf0x200(v int) int { var b [0x200]byte; return fill(b[:], v) }

//go:noinline
func nonLeaf0x200(v int) int { var b [0x200]byte; return fill(b[:], v) + sink(b[:v&1]) }

//go:noinline
func leaf0x8000(v int) int { var b [0x8000]byte; return fill(b[:], v) }

//go:noinline
func nonLeaf0x8000(v int) int { var b [0x8000]byte; return fill(b[:], v) + sink(b[:v&1]) }

//go:noinline
func leaf0x10000(v int) int { var b [0x10000 - 0x10]byte; return fill(b[:], v) }

//go:noinline
func nonLeaf0x10000(v int) int { var b [0x10000 - 0x30]byte; return fill(b[:], v) + sink(b[:v&1]) }

//go:noinline
func leaf0x10010(v int) int { var b [0x10000]byte; return fill(b[:], v) }

//go:noinline
func nonLeaf0x10010(v int) int { var b [0x10000 - 0x20]byte; return fill(b[:], v) + sink(b[:v&1]) }

//go:noinline
func leaf0x12345(v int) int { var b [0x12345]byte; return fill(b[:], v) }

//go:noinline
func nonLeaf0x12345(v int) int { var b [0x12345]byte; return fill(b[:], v) + sink(b[:v&1]) }

//go:noinline
func leaf0x20000(v int) int { var b [0x20000 - 0x10]byte; return fill(b[:], v) }

//go:noinline
func nonLeaf0x20000(v int) int { var b [0x20000 - 0x30]byte; return fill(b[:], v) + sink(b[:v&1]) }

//go:noinline
func leaf0x1fff0(v int) int { var b [0x1fff0 - 0x10]byte; return fill(b[:], v) }

// bigStack is the shape of the reproducer from the Cloudflare write-up: a 64 KiB buffer made
// with make, which the compiler keeps on the stack.
//
//go:noinline
func bigStack(v int) int {
	b := make([]byte, 1<<16)
	return fill(b, v)
}

//go:noinline
func bigStackNonLeaf(v int) int {
	b := make([]byte, 1<<16)
	return fill(b, v) + sink(b[:v&1])
}

func main() {
	s := leaf0x200(1) + nonLeaf0x200(1) + leaf0x8000(1) + nonLeaf0x8000(1)
	s += leaf0x10000(1) + nonLeaf0x10000(1) + leaf0x10010(1) + nonLeaf0x10010(1)
	s += leaf0x12345(1) + nonLeaf0x12345(1) + leaf0x20000(1) + nonLeaf0x20000(1) + leaf0x1fff0(1)
	s += leafNear16M(1) + nonLeafNear16M(1) + leafOver16M(1) + nonLeafOver16M(1)
	s += bigStack(1) + bigStackNonLeaf(1)
	println(s)
}
