import { FindingView } from "./_bucket.js";
import { useApi } from "./_data.js";
import { formatTime } from "./_format.js";
import type { CrashDetail, Frame, Goroutine } from "./_types.js";
import { Await, DiagnosisBadge, Empty } from "./_ui.js";

/** One crash: its diagnosis, goroutines grouped as `gocrash parse` groups them, attributes, raw text. */
export function CrashPage(props: { readonly id: string }) {
	const crash = useApi<CrashDetail>(`/crashes/${encodeURIComponent(props.id)}`);
	return (
		<main>
			<Await loaded={crash} what={`crash ${props.id}`}>
				{(c) => (
					<>
						<p class="crumbs">
							<a href="/">Overview</a> ›{" "}
							<a href={`/buckets/${encodeURIComponent(c.bucket)}`}>bucket {c.bucket}</a> › crash
						</p>
						<h1 class="crash-title">{c.message}</h1>
						<div class="tags">
							<span class={`badge ${c.kind}`}>{c.kind}</span>
							<DiagnosisBadge diagnosis={c.diagnosis} />
						</div>
						<p class="facts">
							{formatTime(c.time)} · host{" "}
							<a href={`/crashes?host=${encodeURIComponent(c.host)}`}>{c.host}</a> (its other
							crashes) · {c.service} {c.version} ·{" "}
							<a href={`/crashes?bucket=${encodeURIComponent(c.bucket)}`}>
								the bucket's other crashes
							</a>
						</p>
						{c.victims.length > 0 && (
							<p class="victim-note" role="note">
								The unwinder failed on a preempted goroutine:{" "}
								{c.victims.map((v, i) => (
									<span key={v.goroutine}>
										{i > 0 && ", "}
										<a href={`#g${v.goroutine}`}>goroutine {v.goroutine}</a> stopped in
										runtime.asyncPreempt in <code>{v.function}</code>
									</span>
								))}
								.
							</p>
						)}
						{c.findings.length > 0 && (
							<section class="card" aria-labelledby="findings">
								<h2 id="findings">Diagnosis</h2>
								{c.findings.map((f) => (
									<FindingView finding={f} key={f.id} />
								))}
							</section>
						)}
						<section class="card" aria-labelledby="goroutines">
							<h2 id="goroutines">Goroutines</h2>
							<Goroutines crash={c} />
						</section>
						<section class="card" aria-labelledby="attributes">
							<h2 id="attributes">Attributes</h2>
							<table class="attributes">
								<tbody>
									{Object.entries(c.attributes).map(([name, value]) => (
										<tr key={name}>
											<th scope="row">{name}</th>
											<td>{typeof value === "string" ? value : value.join(", ")}</td>
										</tr>
									))}
								</tbody>
							</table>
						</section>
						<section class="card" aria-labelledby="raw">
							<h2 id="raw">Crash text</h2>
							{c.text === null ? (
								<Empty>The text of this crash is no longer stored (retention).</Empty>
							) : (
								<details>
									<summary>
										Show the text as the process wrote it ({c.textSize.toLocaleString()} bytes)
									</summary>
									<pre class="raw">{c.text}</pre>
								</details>
							)}
						</section>
					</>
				)}
			</Await>
		</main>
	);
}

function Goroutines(props: { readonly crash: CrashDetail }) {
	const c = props.crash;
	if (c.crash === null)
		return (
			<Empty>
				{c.race === null
					? "The text could not be read again."
					: "A race report has no goroutine dump."}
			</Empty>
		);
	const byId = new Map(c.crash.goroutines.map((g) => [g.id, g]));
	const victims = new Map(c.victims.map((v) => [v.goroutine, v.function]));
	return (
		<div class="groups">
			{c.groups.map((group) => {
				const first = group.ids[0];
				const g = first === undefined ? undefined : byId.get(first);
				if (g === undefined) return null;
				const victim = group.ids.find((id) => victims.has(id));
				const classes = [
					"group",
					group.crashed ? "crashed" : "",
					victim !== undefined ? "victim" : "",
				].join(" ");
				const minutes =
					group.waitMinutes === null
						? ""
						: group.waitMinutes.min === group.waitMinutes.max
							? `, ${group.waitMinutes.min} min`
							: `, ${group.waitMinutes.min}–${group.waitMinutes.max} min`;
				return (
					<details
						class={classes}
						key={first}
						id={victim !== undefined ? `g${victim}` : `g${first}`}
						open={group.crashed || victim !== undefined || c.groups.length <= 3}
					>
						<summary>
							<strong>
								{group.count} × [{group.state}
								{minutes}]
							</strong>{" "}
							{group.crashed && <span class="badge crashed">crashed</span>}
							{victim !== undefined && (
								<span class="badge victim">preempted victim in {victims.get(victim)}</span>
							)}{" "}
							<span class="muted">
								goroutine{group.count > 1 ? "s" : ""}{" "}
								{group.ids
									.slice(0, 8)
									.map((id) => id ?? "?")
									.join(", ")}
								{group.count > 8 ? ", …" : ""}
							</span>
							<span class="top-frame"> {topFunction(g)}</span>
						</summary>
						<Frames goroutine={g} />
					</details>
				);
			})}
		</div>
	);
}

function topFunction(g: Goroutine): string {
	return (
		g.frames.find((f) => !f.function.startsWith("runtime."))?.function ??
		g.frames[0]?.function ??
		""
	);
}

function Frames(props: { readonly goroutine: Goroutine }) {
	const g = props.goroutine;
	return (
		<ol class="frames">
			{g.frames.map((f, i) => (
				<FrameLine frame={f} key={`${i}:${f.function}`} />
			))}
			{g.createdBy !== null && (
				<li class="created-by">
					created by <code>{g.createdBy.frame.function}</code>
					{g.createdBy.goroutine !== null && ` in goroutine ${g.createdBy.goroutine}`}{" "}
					<span class="muted">{where(g.createdBy.frame)}</span>
				</li>
			)}
		</ol>
	);
}

function where(f: Frame): string {
	if (f.file === null) return "";
	return `${f.file}${f.line === null ? "" : `:${f.line}`}${f.offset === null ? "" : ` +0x${f.offset.toString(16)}`}`;
}

function FrameLine(props: { readonly frame: Frame }) {
	const f = props.frame;
	return (
		<li>
			<code>
				{f.function}({f.inlined ? "..." : (f.args ?? "")})
			</code>
			<div class="muted">{where(f)}</div>
		</li>
	);
}
