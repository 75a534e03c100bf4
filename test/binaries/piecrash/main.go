// Command piecrash dereferences a nil pointer a few calls deep, with an inlined call and calls
// whose return address is on the next source line, while another goroutine is blocked: run
// with GOTRACEBACK=system, its crash output gives every frame's pc= for symbolize tests.
package main

type node struct {
	next *node
	val  int
}

//go:noinline
func deref(n *node) int {
	return n.next.val
}

// viaInline is small enough to be inlined into walk.
func viaInline(n *node) int {
	return deref(n) + 1
}

//go:noinline
func walk(n *node, depth int) int {
	if depth == 0 {
		return viaInline(n)
	}
	walk(n, depth-1)
	depth++
	return depth
}

func main() {
	block := make(chan int)
	go func() { <-block }()
	walk(&node{}, 2)
	close(block)
}
