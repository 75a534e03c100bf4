// How numbers, times and diagnoses read on the page.

const UNITS: readonly [number, string][] = [
	[86_400_000, "d"],
	[3_600_000, "h"],
	[60_000, "min"],
	[1000, "s"],
];

/** `3 h ago`, `in 5 min`: how far a time is from now, in its largest whole unit. */
export function formatAgo(iso: string, now = Date.now()): string {
	const ms = now - Date.parse(iso);
	const abs = Math.abs(ms);
	for (const [size, unit] of UNITS)
		if (abs >= size) {
			const n = Math.floor(abs / size);
			return ms >= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
		}
	return "just now";
}

/** A time as the reader's clock shows it, to the minute. */
export function formatTime(iso: string): string {
	return new Date(iso).toLocaleString(undefined, {
		year: "numeric",
		month: "short",
		day: "numeric",
		hour: "2-digit",
		minute: "2-digit",
	});
}

/** A count with the reader's thousands separators. */
export function formatCount(n: number): string {
	return n.toLocaleString();
}

/** A fraction as a percentage with enough digits to tell small ones apart. */
export function formatPercent(f: number): string {
	const p = f * 100;
	return `${p >= 10 || p === 0 ? p.toFixed(0) : p >= 1 ? p.toFixed(1) : p.toPrecision(2)}%`;
}

/** A p- or q-value: `< 1e-300` for what a double cannot hold, else two significant digits. */
export function formatP(p: number): string {
	if (p === 0) return "< 1e-300";
	return p < 0.001 ? p.toExponential(1) : p.toPrecision(2);
}

/** A diagnosis as the API gives it on buckets and crashes. */
export interface DiagnosisSummary {
	readonly id: string;
	readonly confidence: string;
	readonly title: string | null;
	readonly category: string | null;
}

/** `compiler bug`: a rule category in words. */
export function formatCategory(category: string | null): string {
	return category === null ? "diagnosis" : category.replaceAll("-", " ");
}
