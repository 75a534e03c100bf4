/**
 * A simulated fleet for the demo and the tests: hosts, services and releases over weeks, sending
 * real crash texts rewritten per host, with the arm64 split-SP compiler bug hidden among them.
 * @module
 */
export { simulateFleet } from "./_fleet.js";
export type {
	SimulatedCrash,
	SimulatedFleet,
	SimulatedHeartbeat,
	SimulateOptions,
	SourceText,
} from "./_types.js";
