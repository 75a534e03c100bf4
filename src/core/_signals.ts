// Linux signal numbers, the same on amd64 and arm64 (asm-generic/signal.h, x86 signal.h).
const names: readonly string[] = [
	"",
	"SIGHUP",
	"SIGINT",
	"SIGQUIT",
	"SIGILL",
	"SIGTRAP",
	"SIGABRT",
	"SIGBUS",
	"SIGFPE",
	"SIGKILL",
	"SIGUSR1",
	"SIGSEGV",
	"SIGUSR2",
	"SIGPIPE",
	"SIGALRM",
	"SIGTERM",
	"SIGSTKFLT",
	"SIGCHLD",
	"SIGCONT",
	"SIGSTOP",
	"SIGTSTP",
	"SIGTTIN",
	"SIGTTOU",
	"SIGURG",
	"SIGXCPU",
	"SIGXFSZ",
	"SIGVTALRM",
	"SIGPROF",
	"SIGWINCH",
	"SIGIO",
	"SIGPWR",
	"SIGSYS",
];

/** Names a Linux signal number (`SIGSEGV`), or `signal N` for real-time and unknown ones. */
export function signalName(signo: number): string {
	return names[signo] || `signal ${signo}`;
}

/** Whether `si_addr` of this signal is a fault address (SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV). */
export function hasFaultAddr(signo: number): boolean {
	return signo === 4 || signo === 5 || signo === 7 || signo === 8 || signo === 11;
}
