/** A Go release version, e.g. go1.24.6 = {minor: 24, patch: 6}. */
export interface GoRelease {
	readonly minor: number;
	readonly patch: number;
	/** Whether this is a beta or release candidate of `go1.<minor>.0`. */
	readonly prerelease: boolean;
}

/** Parses `go1.24.6`, `go1.20`, `go1.21rc2` (with any ` X:…` suffix); undefined for devel builds. */
export function parseGoVersion(version: string): GoRelease | undefined {
	const m = /^go1\.(\d{1,3})(?:\.(\d{1,3})|(beta|rc)\d{1,3})?(?: |$)/.exec(version);
	if (m === null) return undefined;
	return { minor: Number(m[1]), patch: Number(m[2] ?? 0), prerelease: m[3] !== undefined };
}

/**
 * Whether a toolchain has the non-leaf half of the split-SP fix (go1.23.12, go1.24.6, go1.25.0;
 * golang/go#73259); undefined when the version cannot tell (devel builds).
 */
export function hasNonLeafFix(version: string): boolean | undefined {
	const v = parseGoVersion(version);
	if (v === undefined) return undefined;
	if (v.minor >= 25) return !(v.minor === 25 && v.prerelease) ? true : undefined;
	if (v.minor === 24) return v.patch >= 6;
	if (v.minor === 23) return v.patch >= 12;
	return false;
}

/** Whether the toolchain had asynchronous preemption (Go 1.14+), which exposes split windows. */
export function hasAsyncPreemption(version: string): boolean | undefined {
	const v = parseGoVersion(version);
	return v === undefined ? undefined : v.minor >= 14;
}
