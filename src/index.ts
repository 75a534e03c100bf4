/**
 * gocrash as a library: read Go crash text into typed data and group goroutines.
 * @module
 */
export {
	type Ancestor,
	type Crash,
	type CrashKind,
	CrashScanner,
	type CreatedBy,
	type Elision,
	type Frame,
	type Goroutine,
	MAX_LINE_LENGTH,
	type PanicValue,
	type ParseIssue,
	type ParseResult,
	parseCrashes,
	type RaceAccess,
	type RaceGoroutine,
	type RaceReport,
	type ScanHandlers,
	type ScanOptions,
	type Signal,
	type StackDump,
	type StackWord,
	scanCrashes,
	stripLogPrefix,
	type ThreadDump,
} from "./traceback/index.js";
export {
	type Bucket,
	type BucketFrame,
	type BucketGoroutine,
	bucketGoroutines,
	GoroutineBuckets,
	SIMILARITIES,
	type Similarity,
} from "./triage/index.js";
