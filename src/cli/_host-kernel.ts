import { isInRange } from "../knowledge/index.js";

/** What the kernel means for the Linux 5.2–5.4.1 AVX signal bug (golang/go#35777). */
export interface KernelAssessment {
	readonly release: string;
	/** The GCC major version that built the kernel, from /proc/version; null when not printed. */
	readonly gccMajor: number | null;
	readonly status: "affected-by-version" | "not-affected" | "not-applicable";
	readonly reasons: readonly string[];
}

const AFFECTED = [
	{ min: "5.2", max: "5.3.14" },
	{ min: "5.4", max: "5.4.1" },
];

/** Reads the GCC major version from a /proc/version line (`gcc version 9.2.1`, `gcc (GCC) 15.3.0`). */
export function gccMajorOf(procVersion: string): number | null {
	const m = /\bgcc(?: version| \([^)]{0,80}\))? (\d{1,2})\.\d/.exec(procVersion);
	return m?.[1] === undefined ? null : Number(m[1]);
}

/** Judges a kernel against the AVX signal-corruption bug from its release, /proc/version and the CPU architecture. */
export function assessKernel(release: string, procVersion: string, arch: string): KernelAssessment {
	const gccMajor = gccMajorOf(procVersion);
	if (arch !== "x64" && arch !== "ia32") {
		return {
			release,
			gccMajor,
			status: "not-applicable",
			reasons: [`the bug corrupts x86 AVX registers; this machine is ${arch}`],
		};
	}
	const inRange = AFFECTED.some((r) => isInRange(release, r) === true);
	if (!inRange) {
		return {
			release,
			gccMajor,
			status: "not-affected",
			reasons: [
				`kernel ${release} is outside the affected ranges 5.2.x, 5.3.0–5.3.14, 5.4.0–5.4.1`,
			],
		};
	}
	const reasons = [
		`kernel ${release} is in the affected range by version (5.2.x, 5.3.0–5.3.14, 5.4.0–5.4.1)`,
	];
	if (gccMajor !== null && gccMajor < 9) {
		return {
			release,
			gccMajor,
			status: "not-affected",
			reasons: [
				...reasons,
				`but it was built with GCC ${gccMajor}; only kernels built with GCC 9 or later show the bug`,
			],
		};
	}
	if (gccMajor !== null) reasons.push(`built with GCC ${gccMajor} (9 or later: the bug can show)`);
	if (/-/.test(release))
		reasons.push(
			"a distribution kernel may carry the backported fix (Ubuntu 5.4.0-8.11 and later do); run the self-test to know",
		);
	return { release, gccMajor, status: "affected-by-version", reasons };
}
