import { createHash } from "node:crypto";
import type { Attribute, OtlpLogRecord, OtlpResourceLogs } from "./_decode.js";

/**
 * The resource attributes that tell one log source from another (OpenTelemetry's semantic
 * conventions): a stream is the records of one set of their values. Others (region, labels,
 * SDK versions) describe the source but do not tell sources apart, and may change under it.
 */
const STREAM_RESOURCE_ATTRIBUTES = [
	"service.namespace",
	"service.name",
	"service.instance.id",
	"host.name",
	"host.id",
	"k8s.cluster.name",
	"k8s.namespace.name",
	"k8s.pod.name",
	"k8s.pod.uid",
	"k8s.container.name",
	"k8s.container.restart_count",
	"container.id",
	"container.name",
	"process.pid",
] as const;

/**
 * The record attributes that split one resource's records into streams: the file a Collector's
 * filelog receiver read each line from, and stdout or stderr of a container log.
 */
const STREAM_RECORD_ATTRIBUTES = ["log.file.path", "log.file.name", "log.iostream"] as const;

/** Where a stream's crashes come from, as the crashes API takes it. */
export interface StreamOrigin {
	readonly host: string;
	readonly service: string;
	readonly version: string;
	readonly attributes: readonly Attribute[];
}

/** One line-carrying record of a stream. */
export interface StreamRecord {
	readonly time: number;
	readonly text: string;
}

/** The records of one log source in one request, in time order. */
export interface LogStream {
	/**
	 * The identifying attributes as JSON, `[["host.name","web-1"],["service.name","api"]]`, or
	 * `sha256:` and the digest of that when it is longer than 512 characters.
	 */
	readonly key: string;
	readonly origin: StreamOrigin;
	readonly records: readonly StreamRecord[];
}

/** Records whose body holds no text: counted, and the first named. */
export interface Untextual {
	readonly count: number;
	readonly first: string | null;
}

// OpenTelemetry's host.arch and os.type values that name a Go GOARCH or GOOS.
const GOARCH: Readonly<Record<string, string>> = {
	amd64: "amd64",
	arm64: "arm64",
	x86: "386",
	arm32: "arm",
	s390x: "s390x",
};
const GOOS = new Set([
	"linux",
	"windows",
	"darwin",
	"freebsd",
	"netbsd",
	"openbsd",
	"solaris",
	"aix",
]);
const COLUMNS = new Set(["host.name", "service.name", "service.version"]);

/**
 * Splits a request's records into streams (by STREAM_RESOURCE_ATTRIBUTES and
 * STREAM_RECORD_ATTRIBUTES), each in time order (a stable sort: records of equal time keep the
 * order they were sent in).
 */
export function logStreams(resources: readonly OtlpResourceLogs[]): {
	streams: LogStream[];
	untextual: Untextual;
} {
	const streams = new Map<
		string,
		{ key: string; origin: StreamOrigin; records: OtlpLogRecord[] }
	>();
	let count = 0;
	let first: string | null = null;
	for (const resource of resources) {
		const own = new Map<string, string>();
		for (const [name, value] of resource.attributes) if (!own.has(name)) own.set(name, value);
		const identity = STREAM_RESOURCE_ATTRIBUTES.flatMap((name): Attribute[] => {
			const value = own.get(name);
			return value === undefined ? [] : [[name, value]];
		});
		for (const record of resource.records) {
			if (record.text === null) {
				count++;
				first ??= record.where;
				continue;
			}
			const split = STREAM_RECORD_ATTRIBUTES.flatMap((name): Attribute[] => {
				const found = record.attributes.find(([n]) => n === name);
				return found === undefined ? [] : [found];
			});
			const key = streamKey([...identity, ...split]);
			let stream = streams.get(key);
			if (stream === undefined) {
				stream = { key, origin: origin(own, resource.attributes, split), records: [] };
				streams.set(key, stream);
			}
			stream.records.push(record);
		}
	}
	return {
		streams: [...streams.values()].map((s) => ({
			key: s.key,
			origin: s.origin,
			records: s.records
				.map((r) => ({ time: r.time, text: r.text as string }))
				.sort((a, b) => a.time - b.time),
		})),
		untextual: { count, first },
	};
}

/** Longest key kept as written; a longer one is its digest (it is a primary key in the store). */
const MAX_KEY = 512;

function streamKey(attributes: readonly Attribute[]): string {
	const key = JSON.stringify(attributes);
	return key.length <= MAX_KEY ? key : `sha256:${createHash("sha256").update(key).digest("hex")}`;
}

function origin(
	own: ReadonlyMap<string, string>,
	resource: readonly Attribute[],
	split: readonly Attribute[],
): StreamOrigin {
	const attributes: Attribute[] = [...resource.filter(([name]) => !COLUMNS.has(name)), ...split];
	const arch = GOARCH[own.get("host.arch") ?? ""];
	if (arch !== undefined) attributes.push(["goarch", arch]);
	const os = own.get("os.type") ?? "";
	if (GOOS.has(os)) attributes.push(["goos", os]);
	return {
		host: own.get("host.name") ?? own.get("k8s.node.name") ?? "",
		service: own.get("service.name") ?? "",
		version: own.get("service.version") ?? "",
		attributes,
	};
}
