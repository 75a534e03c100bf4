/**
 * The fleet's arithmetic over plain data: bucket signatures, the attributes a crash text reveals,
 * over-representation statistics, correlation in time, regressions, and when to alert.
 * @module
 */
export {
	type AlertCondition,
	type AlertTrigger,
	newBucketTriggers,
	rateTriggers,
	regressionTriggers,
} from "./_alerts.js";
export { crashAttributes, environmentAttributes } from "./_attributes.js";
export { normalizeReason } from "./_reason.js";
export { findRegressions, type Regression, type ReleasedVersion } from "./_regression.js";
export { SIGNATURE_VERSION, type Signature, signCrash, signRace } from "./_signature.js";
export {
	type AttributeCount,
	type CorrelateOptions,
	type Correlation,
	type CountTable,
	correlate,
	crossCorrelate,
	type LagCorrelation,
	upperTail,
} from "./_statistics.js";
