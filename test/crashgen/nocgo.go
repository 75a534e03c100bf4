//go:build !cgo

package main

// Without cgo the cgo scenarios (cgo_scenarios.go) refuse to run.

func cFault() int {
	failf("this scenario needs a binary built with CGO_ENABLED=1")
	return 0
}

func cAbort() { failf("this scenario needs a binary built with CGO_ENABLED=1") }

func cStartLogger() { failf("this scenario needs a binary built with CGO_ENABLED=1") }
