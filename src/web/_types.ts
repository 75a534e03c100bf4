// The API's answers as the dashboard reads them (see docs/serve.md); fields it does not use are left out.
import type { DiagnosisSummary } from "./_format.js";

export interface BucketRow {
	readonly id: string;
	readonly title: string;
	readonly count: number;
	readonly hosts: number;
	readonly firstSeen: string;
	readonly lastSeen: string;
	readonly diagnosis: DiagnosisSummary | null;
	readonly new: boolean;
	readonly regressed: boolean;
	readonly rank: number;
	readonly previousRank: number | null;
}

export interface BucketList {
	readonly from: string;
	readonly to: string;
	readonly buckets: readonly BucketRow[];
}

export interface RatePoint {
	readonly t: string;
	readonly count: number;
	readonly hostHours: number;
	readonly perHostHour: number | null;
}

export interface Rates {
	readonly kind: string;
	readonly interval: string;
	readonly series: readonly RatePoint[];
}

export interface BucketRates {
	readonly interval: string;
	readonly buckets: readonly {
		readonly bucket: string;
		readonly series: readonly { readonly t: string; readonly count: number }[];
	}[];
}

export interface Finding {
	readonly id: string;
	readonly title: string;
	readonly category: string;
	readonly confidence: string;
	readonly evidence: readonly string[];
	readonly steps: readonly string[];
	readonly explanation: string;
	readonly affected: string | null;
	readonly fixedIn: readonly string[];
	readonly workarounds: readonly string[];
	readonly references: readonly string[];
	readonly unknowns: readonly string[];
}

export interface CrashRow {
	readonly id: string;
	readonly kind: string;
	readonly time: string;
	readonly host: string;
	readonly service: string;
	readonly version: string;
	readonly bucket: string;
	readonly message: string;
	readonly diagnosis: DiagnosisSummary | null;
}

export interface Regression {
	readonly service: string;
	readonly lastBefore: string;
	readonly absentIn: readonly string[];
	readonly version: string;
	readonly expectedInAbsence: number;
}

export interface BucketDetail extends BucketRow {
	readonly signature: {
		readonly version: number;
		readonly reason: string;
		readonly frames: readonly string[];
	};
	readonly why: readonly string[];
	readonly diagnosis: (DiagnosisSummary & { readonly finding: Finding | null }) | null;
	readonly versions: readonly {
		readonly service: string;
		readonly version: string;
		readonly firstSeen: string;
		readonly lastSeen: string;
		readonly count: number;
	}[];
	readonly regressions: readonly Regression[];
	readonly samples: readonly CrashRow[];
}

export interface Correlation {
	readonly attribute: string;
	readonly value: string;
	readonly inBucket: number;
	readonly inReference: number;
	readonly count: number;
	readonly referenceCount: number;
	readonly p: number;
	readonly q: number;
	readonly effect: number;
}

export interface Correlations {
	readonly bucket: string;
	readonly reference: string;
	readonly bucketTotal: number;
	readonly referenceTotal: number;
	readonly correlations: readonly Correlation[];
	readonly time: readonly {
		readonly against: string;
		readonly interval: string;
		readonly r: number | null;
		readonly best: { readonly lag: number; readonly r: number; readonly n: number } | null;
	}[];
}

export interface Frame {
	readonly function: string;
	readonly args: string | null;
	readonly inlined: boolean;
	readonly file: string | null;
	readonly line: number | null;
	readonly offset: number | null;
}

export interface Goroutine {
	/** Null where Go printed none (a Windows exception's crashing goroutine). */
	readonly id: number | null;
	readonly stateText: string;
	readonly waitMinutes: number | null;
	readonly frames: readonly Frame[];
	readonly createdBy: { readonly frame: Frame; readonly goroutine: number | null } | null;
}

export interface CrashDetail extends CrashRow {
	readonly received: string;
	readonly attributes: Readonly<Record<string, string | readonly string[]>>;
	readonly crash: {
		readonly message: string | null;
		readonly goroutines: readonly Goroutine[];
		readonly runtimeLines: readonly string[];
	} | null;
	readonly race: unknown;
	readonly groups: readonly {
		/** Null for a goroutine Go printed no id for. */
		readonly ids: readonly (number | null)[];
		readonly count: number;
		readonly state: string;
		readonly waitMinutes: { readonly min: number; readonly max: number } | null;
		readonly crashed: boolean;
	}[];
	readonly victims: readonly { readonly goroutine: number | null; readonly function: string }[];
	readonly findings: readonly Finding[];
	readonly text: string | null;
	readonly textSize: number;
}

export interface CrashList {
	readonly crashes: readonly CrashRow[];
	readonly next: string | null;
}

export interface AttributeList {
	readonly total: number;
	readonly attributes: readonly {
		readonly name: string;
		readonly distinct: number;
		readonly values: readonly { readonly value: string; readonly count: number }[];
	}[];
}
