/** How sure a finding is: the evidence proves it, points to it, or allows it. */
export const CONFIDENCES = ["confirmed", "likely", "possible"] as const;

/** How sure a finding is. */
export type Confidence = (typeof CONFIDENCES)[number];

/** What kind of cause a rule describes. */
export const CATEGORIES = [
	"compiler-bug",
	"runtime-bug",
	"kernel-bug",
	"data-race",
	"memory-corruption",
	"resource-limit",
	"environment",
	"program-bug",
] as const;

/** What kind of cause a rule describes. */
export type Category = (typeof CATEGORIES)[number];

/** A version interval: `min` inclusive, `max` inclusive, `before` exclusive; any may be absent. */
export interface VersionRange {
	readonly min?: string;
	readonly max?: string;
	readonly before?: string;
}

/** Which frames a `frame` condition looks at. */
export const FRAME_SCOPES = ["crashing", "top", "any", "runtime-stack"] as const;

/** Which frames a `frame` condition looks at: the crashing goroutine, its top frame, every goroutine, or `runtime stack:`. */
export type FrameScope = (typeof FRAME_SCOPES)[number];

/**
 * One test a rule applies to a crash. Patterns are JavaScript regular expressions checked to run
 * in linear time (no quantified group that itself contains a quantifier, no back-references).
 */
export type Condition =
	| { readonly all: readonly Condition[] }
	| { readonly any: readonly Condition[] }
	| { readonly not: Condition }
	/** A line stating the reason: `panic: …`, `fatal error: …`, a signal header, `runtime: …` lines. */
	| { readonly line: string }
	/** Any line of the input outside the goroutine stacks, e.g. a message printed before the crash. */
	| { readonly text: string }
	| { readonly signal: readonly string[] }
	| { readonly signalCode: readonly string[] }
	/** The fault address (`addr=`), as hex bounds, inclusive. */
	| { readonly faultAddr: { readonly min?: string; readonly max?: string } }
	| { readonly frame: string; readonly in?: FrameScope }
	/** Some goroutine whose state text matches `state` (and, when given, has a frame matching `frame`). */
	| { readonly goroutine: { readonly state?: string; readonly frame?: string } }
	/** Whether the input holds race-detector reports. */
	| { readonly race: boolean }
	/** Whether the crash happened in or through C code (cgo). */
	| { readonly cgo: boolean }
	| { readonly goarch: readonly string[] }
	| { readonly goos: readonly string[] }
	| { readonly goVersion: readonly VersionRange[] }
	| { readonly kernel: readonly VersionRange[] }
	/** A fact established by an analysis outside the text, e.g. from the binary. */
	| { readonly fact: string }
	| { readonly exitStatus: readonly number[] };

/** A change of confidence when a further condition holds. */
export interface Adjustment {
	readonly when: Condition;
	readonly to: Confidence;
}

/** The environment an example is evaluated in, as a user would pass it on the command line. */
export interface ExampleEnvironment {
	readonly goVersion?: string;
	readonly goarch?: string;
	readonly goos?: string;
	readonly kernel?: string;
}

/** A crash text a rule must (or must not) match, with the confidence expected. */
export interface Example {
	readonly text: string;
	readonly env?: ExampleEnvironment;
	readonly facts?: readonly string[];
	readonly confidence?: Confidence;
	/** Where the text comes from: a Go issue, a generator, a reproducer run. */
	readonly source?: string;
}

/** A known crash cause: how to recognise it, what it means, and what to do. */
export interface Rule {
	readonly id: string;
	readonly title: string;
	readonly category: Category;
	/** The signature: must hold for the rule to apply. */
	readonly match: Condition;
	/** Environment conditions: a rule is dropped when one is false; unknown lowers confidence one step. */
	readonly requires: readonly Condition[];
	readonly confidence: Confidence;
	readonly raise: readonly Adjustment[];
	readonly lower: readonly Adjustment[];
	/** Ids of more generic rules this one explains better; those are dropped when this one applies. */
	readonly supersedes: readonly string[];
	/** Names of analyses the diagnosis runs for this rule (e.g. `map-access-sites`). */
	readonly analyses: readonly string[];
	readonly explanation: string;
	readonly affected: string | null;
	readonly fixedIn: readonly string[];
	readonly workarounds: readonly string[];
	readonly references: readonly string[];
	readonly examples: { readonly match: readonly Example[]; readonly noMatch: readonly Example[] };
	/** The file the rule was read from. */
	readonly source: string;
}
