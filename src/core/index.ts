export type {
	CoreOptions,
	CoreReport,
	CoreScan,
	CoreSignal,
	CoreThreadReport,
} from "./_core.js";
export { readCore, scanCore } from "./_core.js";
export type { CoreArch } from "./_core-file.js";
export { CoreError, type CoreErrorCode } from "./_error.js";
export type { CoreGoroutine, CreatedBy } from "./_goroutines.js";
export {
	dwarfLayout,
	type LayoutSource,
	layoutVersions,
	type RuntimeLayout,
	runtimeLayout,
} from "./_layout.js";
export { type AsyncPreemption, formatPreemption, type SplitSPVictim } from "./_preempted.js";
export type { CoreFrame } from "./_unwind.js";
export {
	formatTarget,
	type RegisterValue,
	type StackWord,
	type StackWords,
	type ValueTarget,
} from "./_values.js";
