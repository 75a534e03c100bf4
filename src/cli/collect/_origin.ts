import { arch, release } from "node:os";

/** Attribute pairs as the API takes them. */
export type Attributes = readonly (readonly [string, string])[];

/** What a log file's path says about where its lines came from. */
export interface PathOrigin {
	/** The container's name, taken as the service unless --service says otherwise. */
	readonly service: string | null;
	readonly attributes: Attributes;
}

// Kubernetes' kubelet writes /var/log/pods/NAMESPACE_POD_UID/CONTAINER/RESTARTS.log and links
// /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log to it; Docker's json-file driver writes
// /var/lib/docker/containers/ID/ID-json.log. Names are DNS labels (no `_`), so `_` splits them.
const podsPath =
	/\/pods\/([a-z0-9-]{1,63})_([a-z0-9.-]{1,253})_([0-9a-f-]{1,64})\/([a-z0-9-]{1,63})\/\d{1,9}\.log(?:\.\d{8}-\d{6}(?:\.gz)?)?$/;
const containersPath =
	/\/containers\/([a-z0-9.-]{1,253})_([a-z0-9-]{1,63})_([a-z0-9-]{1,63})-([0-9a-f]{64})\.log$/;
const dockerPath = /\/containers\/([0-9a-f]{64})\/\1-json\.log(?:\.\d{1,4})?$/;

/** Reads the Kubernetes pod, namespace and container, or Docker's container id, from a log path. */
export function pathOrigin(path: string): PathOrigin {
	const pods = podsPath.exec(path);
	if (pods !== null) {
		const [, namespace = "", pod = "", uid = "", container = ""] = pods;
		return {
			service: container,
			attributes: [
				["k8s.namespace.name", namespace],
				["k8s.pod.name", pod],
				["k8s.pod.uid", uid],
				["k8s.container.name", container],
			],
		};
	}
	const containers = containersPath.exec(path);
	if (containers !== null) {
		const [, pod = "", namespace = "", container = "", id = ""] = containers;
		return {
			service: container,
			attributes: [
				["k8s.namespace.name", namespace],
				["k8s.pod.name", pod],
				["k8s.container.name", container],
				["container.id", id],
			],
		};
	}
	const docker = dockerPath.exec(path);
	if (docker !== null) return { service: null, attributes: [["container.id", docker[1] ?? ""]] };
	return { service: null, attributes: [] };
}

// Docker's json-file lines: {"log":"…","stream":"stderr","attrs":{…},"time":"…"}. `attrs` holds
// the labels and environment variables the daemon was told to log (--log-opt labels=…).
const dockerLine = /^\{"log":/;

/**
 * What the first line of a report says: its time (a CRI, Docker JSON or RFC 3339 timestamp)
 * and Docker's `attrs`; the time is null when the line carries none.
 */
export function lineOrigin(line: string): { time: number | null; attributes: Attributes } {
	if (dockerLine.test(line)) {
		try {
			const record = JSON.parse(line) as { time?: unknown; attrs?: unknown };
			const attrs =
				typeof record.attrs === "object" && record.attrs !== null
					? Object.entries(record.attrs).filter(
							(e): e is [string, string] => typeof e[1] === "string",
						)
					: [];
			return { time: readTime(record.time), attributes: attrs };
		} catch {
			return { time: null, attributes: [] };
		}
	}
	const stamp = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) /.exec(line);
	return { time: readTime(stamp?.[1]), attributes: [] };
}

function readTime(value: unknown): number | null {
	if (typeof value !== "string") return null;
	const ms = Date.parse(value);
	return Number.isFinite(ms) ? ms : null;
}

/** Go's name for the machine's architecture (what GOARCH a native build here would be). */
export function machineGoarch(): string {
	const names: Readonly<Record<string, string>> = {
		x64: "amd64",
		ia32: "386",
		arm64: "arm64",
		arm: "arm",
		ppc64: "ppc64le",
		s390x: "s390x",
		riscv64: "riscv64",
		loong64: "loong64",
		mips: "mips",
		mipsel: "mipsle",
	};
	return names[arch()] ?? arch();
}

/** The host's own attributes: its kernel release and the machine's GOARCH. */
export function hostAttributes(): Attributes {
	return [
		["kernel", release()],
		["goarch", machineGoarch()],
	];
}
