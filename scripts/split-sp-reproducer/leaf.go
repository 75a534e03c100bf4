//go:build !nonleaf

package main

const variant = "leaf"

// big_stack has a frame of 0x10010 bytes and calls nothing, so its epilogue is
// `ADD $0x10, RSP, RSP; ADD $(0x10<<12), RSP, RSP` in every Go release checked.
// The buffer is used only on a path the loop never takes: the frame keeps its size, but a call
// runs about twenty instructions, so a preemption lands on the second ADD about once in twenty.
//
//go:noinline
func big_stack(val int) int {
	if val < 0 {
		var buf [1 << 16]byte
		buf[val&0xffff] = byte(val)
		return int(buf[(val*7)&0xffff])
	}
	return val * 3
}
