/**
 * A simulated fleet for the demo and the tests: hosts, services and versions over weeks, sending
 * real crash texts rewritten per host, with the arm64 split-SP bug hidden among them.
 * @module
 */
export {
	type SimulatedCrash,
	type SimulatedFleet,
	type SimulatedHeartbeat,
	type SimulateOptions,
	type SourceText,
	simulateFleet,
} from "./_fleet.js";
export { recoveredText, rewriteText } from "./_rewrite.js";
