//go:build nonleaf

package main

const variant = "non-leaf"

// big_stack has a frame above 0x10000 bytes and calls a noinline helper, so before the fix
// (go1.23.12, go1.24.6, go1.25.0) its epilogue pops the frame with two ADDs, and after it with
// `MOVD $frame, R27; ADD R27, RSP, RSP`. As in the leaf variant, the buffer is only on a path
// the loop never takes, so each call is short.
//
//go:noinline
func big_stack(val int) int {
	if val < 0 {
		var buf [1 << 16]byte
		buf[val&0xffff] = byte(val)
		return touch(buf[:], val)
	}
	return val * 3
}

//go:noinline
func touch(b []byte, val int) int {
	return int(b[(val*7)&0xffff])
}
