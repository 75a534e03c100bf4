/**
 * Diagnosis: explains a parsed crash with the knowledge base, the environment inferred from the
 * text (or given), and facts read from the binary that crashed.
 * @module
 */
export { ANALYSIS_NAMES, preemptedVictims } from "./_analyses.js";
export {
	type BinaryMatch,
	type ComparedFact,
	formatBinaryMismatch,
	hexValue,
	matchBinary,
} from "./_binary-match.js";
export { type DiagnoseOptions, type Diagnosis, diagnose, type Finding } from "./_diagnose.js";
export {
	type BinaryEnvironment,
	decodeModulePath,
	type EnvironmentOverrides,
	type InferredEnvironment,
	inferEnvironment,
	type SeenModule,
} from "./_environment.js";
export { formatFrame, programFrame } from "./_frames.js";
export { collectNotes, NoteCollector } from "./_notes.js";
export {
	type BinaryInput,
	type CoreInput,
	frameSize,
	hasSplitSPSignature,
	isSplitFrameSize,
	splitSPVictims,
	victimFacts,
} from "./_split-sp.js";
