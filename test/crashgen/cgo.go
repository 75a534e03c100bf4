//go:build cgo

package main

/*
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile uintptr_t crashgen_null = 0;

static int crashgen_read_config(void) {
	volatile int *p = (volatile int *)crashgen_null;
	return *p;
}

static void crashgen_abort(void) { abort(); }

static volatile int crashgen_logger_lines = 0;

// crashgen_logger writes a short line to stderr every few microseconds (one write(2) each, a
// busy wait in between), at most 20000: the crashing process exits long before that.
static void *crashgen_logger(void *arg) {
	char line[64];
	for (int i = 0; i < 20000; i++) {
		int n = snprintf(line, sizeof line, "c-logger: tick %d\n", i);
		if (write(2, line, n) < 0) break;
		crashgen_logger_lines = i + 1;
		for (volatile int spin = 0; spin < 5000; spin++) {
		}
	}
	return NULL;
}

static void crashgen_start_logger(void) {
	pthread_t t;
	pthread_create(&t, NULL, crashgen_logger, NULL);
	pthread_detach(t);
}

static int crashgen_logged(void) { return crashgen_logger_lines; }
*/
import "C"

// cFault reads address 0 in C code.
func cFault() int { return int(C.crashgen_read_config()) }

// cAbort calls abort() in C code.
func cAbort() { C.crashgen_abort() }

// cStartLogger starts a C thread that writes lines to stderr every few microseconds, and
// returns once it has written the first ones.
func cStartLogger() {
	C.crashgen_start_logger()
	for C.crashgen_logged() < 10 {
	}
}
