import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

// The kernel bug (bugzilla 205663): when delivering a signal has to fault in a page of the
// thread's signal stack, the AVX (YMM) registers of the interrupted code may come back changed.
// The victim thread loads a pattern into ymm0–ymm15, spins, and stores them back; another thread
// signals it meanwhile. Before each round the victim maps a fresh, never-touched alternate signal
// stack, so every delivery faults the stack in, which is the path the bug needs.
const SOURCE = String.raw`
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define STACK (64 * 1024)
static volatile int stop;
static volatile long delivered;
static long rounds, corrupted;
static unsigned char pattern[16 * 32] __attribute__((aligned(32)));
static unsigned char out[16 * 32] __attribute__((aligned(32)));

static void handler(int sig) { (void)sig; delivered++; }

#define LOAD(n) "vmovdqu " #n "*32(%[p]), %%ymm" #n "\n"
#define STORE(n) "vmovdqu %%ymm" #n ", " #n "*32(%[o])\n"

static void *victim(void *arg) {
	(void)arg;
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	void *stack = NULL;
	while (!stop) {
		pthread_sigmask(SIG_BLOCK, &usr1, NULL);
		if (stack != NULL) munmap(stack, STACK);
		stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (stack == MAP_FAILED) { perror("mmap"); exit(3); }
		stack_t ss = { .ss_sp = stack, .ss_size = STACK, .ss_flags = 0 };
		if (sigaltstack(&ss, NULL) != 0) { perror("sigaltstack"); exit(3); }
		pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
		__asm__ volatile(
			LOAD(0) LOAD(1) LOAD(2) LOAD(3) LOAD(4) LOAD(5) LOAD(6) LOAD(7)
			LOAD(8) LOAD(9) LOAD(10) LOAD(11) LOAD(12) LOAD(13) LOAD(14) LOAD(15)
			"mov $200000, %%ecx\n"
			"1: dec %%ecx\n"
			"jnz 1b\n"
			STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5) STORE(6) STORE(7)
			STORE(8) STORE(9) STORE(10) STORE(11) STORE(12) STORE(13) STORE(14) STORE(15)
			"vzeroupper\n"
			:
			: [p] "r"(pattern), [o] "r"(out)
			: "ecx", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
			  "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
		rounds++;
		if (memcmp(pattern, out, sizeof out) != 0) corrupted++;
	}
	return NULL;
}

int main(int argc, char **argv) {
	double seconds = argc > 1 ? atof(argv[1]) : 5;
	if (!__builtin_cpu_supports("avx")) { printf("no-avx\n"); return 4; }
	for (size_t i = 0; i < sizeof pattern; i++) pattern[i] = (unsigned char)(i * 37 + 11);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	pthread_t t;
	if (pthread_create(&t, NULL, victim, NULL) != 0) { perror("pthread_create"); return 3; }
	struct timespec start, now, pause = { 0, 20000 };
	clock_gettime(CLOCK_MONOTONIC, &start);
	long sent = 0;
	do {
		pthread_kill(t, SIGUSR1);
		sent++;
		nanosleep(&pause, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 < seconds);
	stop = 1;
	pthread_join(t, NULL);
	printf("sent=%ld delivered=%ld rounds=%ld corrupted=%ld\n", sent, delivered, rounds, corrupted);
	return corrupted > 0 ? 1 : 0;
}
`;

/** The outcome of the signal/AVX self-test. */
export type SelfTestResult =
	| {
			readonly ran: true;
			readonly corrupted: number;
			readonly rounds: number;
			readonly delivered: number;
			readonly compiler: string;
	  }
	| { readonly ran: false; readonly reason: string };

/** Compiles the C self-test with the local C compiler and runs it for `seconds`; says why when it cannot. */
export async function runSelfTest(
	arch: string,
	env: Readonly<Record<string, string | undefined>>,
	seconds: number,
): Promise<SelfTestResult> {
	if (arch !== "x64")
		return { ran: false, reason: `the test uses x86-64 AVX registers; this machine is ${arch}` };
	const cc = env.CC ?? "cc";
	const dir = await mkdtemp(join(tmpdir(), "gocrash-selftest-"));
	try {
		const src = join(dir, "avx-signal.c");
		const bin = join(dir, "avx-signal");
		await writeFile(src, SOURCE);
		try {
			await run(cc, ["-O2", "-mavx", "-pthread", "-o", bin, src], { timeout: 60_000 });
		} catch (error) {
			const e = error as NodeJS.ErrnoException & { stderr?: string };
			const why =
				e.code === "ENOENT"
					? `no C compiler ('${cc}' not found; set CC or install gcc)`
					: `'${cc}' failed: ${(e.stderr ?? e.message).trim().split("\n")[0]}`;
			return { ran: false, reason: why };
		}
		let stdout: string;
		try {
			({ stdout } = await run(bin, [String(seconds)], { timeout: (seconds + 30) * 1000 }));
		} catch (error) {
			const e = error as { code?: number | string; stdout?: string };
			if (e.code === 1 && typeof e.stdout === "string") stdout = e.stdout;
			else if (e.code === 4) return { ran: false, reason: "the CPU has no AVX" };
			else return { ran: false, reason: `the test program failed (${String(e.code)})` };
		}
		const m = /sent=(\d+) delivered=(\d+) rounds=(\d+) corrupted=(\d+)/.exec(stdout);
		if (m === null) return { ran: false, reason: `unexpected output: ${stdout.trim()}` };
		return {
			ran: true,
			delivered: Number(m[2]),
			rounds: Number(m[3]),
			corrupted: Number(m[4]),
			compiler: cc,
		};
	} finally {
		await rm(dir, { recursive: true, force: true });
	}
}
