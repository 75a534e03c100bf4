import type { VersionRange } from "./_rule.js";

/**
 * Splits a Go (`go1.23.4`, `1.21rc2`, `devel go1.22-abc`) or kernel (`5.4.0-42-generic`) version
 * into its leading numbers; undefined when it has none.
 */
export function decodeVersion(version: string): number[] | undefined {
	const m = /(\d{1,6})(?:\.(\d{1,6}))?(?:\.(\d{1,6}))?/.exec(version.replace(/^(?:devel )?go/, ""));
	if (m === null) return undefined;
	return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

/** Compares two decoded versions. */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
	for (let i = 0; i < Math.max(a.length, b.length); i++) {
		const d = (a[i] ?? 0) - (b[i] ?? 0);
		if (d !== 0) return d;
	}
	return 0;
}

/** How many numbers a version string gives (`1.19` → 2, `1.19.8` → 3). */
export function versionPrecision(version: string): number {
	const m = /^(?:devel )?(?:go)?(\d+(?:\.\d+){0,2})/.exec(version);
	return m?.[1]?.split(".").length ?? 0;
}

/**
 * Whether `version` lies in `range`: true, false, or undefined when the version is too coarse to
 * tell (`1.23` against a range ending at 1.23.11).
 */
export function isInRange(version: string, range: VersionRange): boolean | undefined {
	const v = decodeVersion(version);
	if (v === undefined) return undefined;
	const precision = versionPrecision(version);
	// A version like `1.23` stands for every 1.23.x: compare its lowest and highest patch.
	const lo = precision >= 3 ? v : [v[0] ?? 0, v[1] ?? 0, 0];
	const hi = precision >= 3 ? v : [v[0] ?? 0, v[1] ?? 0, Number.MAX_SAFE_INTEGER];
	const test = (x: readonly number[]): boolean => {
		if (range.min !== undefined && compareVersions(x, bound(range.min)) < 0) return false;
		if (range.max !== undefined && compareVersions(x, bound(range.max)) > 0) return false;
		if (range.before !== undefined && compareVersions(x, bound(range.before)) >= 0) return false;
		return true;
	};
	const a = test(lo);
	const b = test(hi);
	return a === b ? a : undefined;
}

function bound(version: string): number[] {
	return decodeVersion(version) ?? [0];
}

/** Formats a range for people: `1.14 – 1.23.11`, `≥ 1.25`, `< 5.3.15`. */
export function formatRange(range: VersionRange): string {
	if (range.min !== undefined && range.max !== undefined) return `${range.min} – ${range.max}`;
	if (range.min !== undefined && range.before !== undefined)
		return `${range.min} – before ${range.before}`;
	if (range.min !== undefined) return `≥ ${range.min}`;
	if (range.max !== undefined) return `≤ ${range.max}`;
	if (range.before !== undefined) return `< ${range.before}`;
	return "any";
}
