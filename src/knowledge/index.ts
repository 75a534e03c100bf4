/**
 * Known Go crash causes as data, and the matcher that applies them to a parsed crash.
 * @module
 */
export {
	evaluate,
	matchRule,
	matchRules,
	type Outcome,
	type RuleMatch,
	type Truth,
} from "./_match.js";
export {
	checkPattern,
	mergeRules,
	parseCondition,
	parseRuleFile,
	type RuleFile,
	type RuleProblem,
} from "./_parse.js";
export {
	type Adjustment,
	CATEGORIES,
	type Category,
	CONFIDENCES,
	type Condition,
	type Confidence,
	type Example,
	type ExampleEnvironment,
	FRAME_SCOPES,
	type FrameScope,
	type Rule,
	type VersionRange,
} from "./_rule.js";
export {
	crashingGoroutine,
	type Environment,
	type Fact,
	framesIn,
	isCgo,
	reasonLines,
	type Subject,
} from "./_subject.js";
export { compareVersions, decodeVersion, formatRange, isInRange } from "./_version.js";
