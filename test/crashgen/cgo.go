//go:build cgo

package main

/*
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile uintptr_t crashgen_null = 0;

static int crashgen_read_config(void) {
	volatile int *p = (volatile int *)crashgen_null;
	return *p;
}

static void crashgen_abort(void) { abort(); }

static void *crashgen_logger(void *arg) {
	char line[64];
	struct timespec pause = {0, 20000};
	for (int i = 0; i < 100000; i++) {
		int n = snprintf(line, sizeof line, "c-logger: tick %d\n", i);
		if (write(2, line, n) < 0) break;
		nanosleep(&pause, NULL);
	}
	return NULL;
}

static void crashgen_start_logger(void) {
	pthread_t t;
	pthread_create(&t, NULL, crashgen_logger, NULL);
	pthread_detach(t);
}
*/
import "C"

// cFault reads address 0 in C code.
func cFault() int { return int(C.crashgen_read_config()) }

// cAbort calls abort() in C code.
func cAbort() { C.crashgen_abort() }

// cStartLogger starts a C thread that writes a line to stderr every 20µs.
func cStartLogger() { C.crashgen_start_logger() }
