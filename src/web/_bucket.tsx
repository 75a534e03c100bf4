import { type ChartSeries, PALETTE, TimeChart } from "./_chart.js";
import { useApi, useApiAll } from "./_data.js";
import { FilterBar } from "./_filters.js";
import { formatAgo, formatCount, formatP, formatPercent, formatTime } from "./_format.js";
import { changeQuery, navigate, type Place } from "./_router.js";
import type { BucketDetail, Correlation, Correlations, Finding, Rates } from "./_types.js";
import { Await, DiagnosisBadge, Empty } from "./_ui.js";
import { readView, type View, viewInterval, withParams } from "./_view.js";

/** One bucket: its rate, what its crashes have in common, its diagnosis, why it was grouped, samples. */
export function BucketPage(props: {
	readonly place: Place;
	readonly id: string;
	readonly theme: string;
}) {
	const { place, id } = props;
	const view = readView(place.query, place.at);
	const bucket = useApi<BucketDetail>(`/buckets/${encodeURIComponent(id)}`);
	return (
		<main>
			<p class="crumbs">
				<a href={`/${changeQuery(place.query, { reference: undefined })}`}>Overview</a> › bucket{" "}
				{id}
			</p>
			<Await loaded={bucket} what={`bucket ${id}`}>
				{(b) => (
					<>
						<h1 class="bucket-title">{b.title}</h1>
						<div class="tags">
							{b.new && <span class="badge new">new</span>}
							{b.regressed && <span class="badge regressed">regressed</span>}
							<DiagnosisBadge diagnosis={b.diagnosis} />
						</div>
						<p class="facts">
							{formatCount(b.count)} crashes on {formatCount(b.hosts)} hosts · first seen{" "}
							<span title={formatTime(b.firstSeen)}>{formatAgo(b.firstSeen)}</span> · last seen{" "}
							<span title={formatTime(b.lastSeen)}>{formatAgo(b.lastSeen)}</span> ·{" "}
							<a href={`/crashes?bucket=${encodeURIComponent(b.id)}`}>all its crashes</a>
						</p>
						<FilterBar place={place} view={view} />
						<section class="card" aria-labelledby="bucket-rate">
							<h2 id="bucket-rate">Crashes per {viewInterval(view)}</h2>
							<BucketRate id={b.id} view={view} theme={props.theme} />
						</section>
						<CorrelationCard id={b.id} view={view} place={place} theme={props.theme} />
						<section class="card" aria-labelledby="diagnosis">
							<h2 id="diagnosis">Diagnosis</h2>
							{b.diagnosis?.finding ? (
								<FindingView finding={b.diagnosis.finding} />
							) : (
								<Empty>No known cause matched these crashes.</Empty>
							)}
						</section>
						<section class="card" aria-labelledby="why">
							<h2 id="why">Why these crashes were grouped</h2>
							<p>
								Signature v{b.signature.version}: <strong>{b.signature.reason}</strong>
								{b.signature.frames.length > 0 && (
									<>
										{" "}
										in <code>{b.signature.frames.join(" → ")}</code>
									</>
								)}
							</p>
							<ul>
								{b.why.map((w) => (
									<li key={w}>{w}</li>
								))}
							</ul>
						</section>
						<section class="card" aria-labelledby="versions">
							<h2 id="versions">Service versions</h2>
							<VersionTable bucket={b} />
						</section>
						<section class="card" aria-labelledby="samples">
							<h2 id="samples">Sample crashes</h2>
							<ul class="samples">
								{b.samples.map((c) => (
									<li key={c.id}>
										<a href={`/crashes/${encodeURIComponent(c.id)}`}>{c.message}</a>{" "}
										<span class="muted">
											{c.host} · {c.service} {c.version} ·{" "}
											<span title={formatTime(c.time)}>{formatAgo(c.time)}</span>
										</span>
									</li>
								))}
							</ul>
						</section>
					</>
				)}
			</Await>
		</main>
	);
}

function BucketRate(props: { readonly id: string; readonly view: View; readonly theme: string }) {
	const { id, view } = props;
	const interval = viewInterval(view);
	const rates = useApiAll<Rates>([
		{ path: "/rates", params: withParams(view, { interval, bucket: id }) },
		{ path: "/rates", params: withParams(view, { interval, kind: "recovered" }) },
	]);
	return (
		<Await loaded={rates} what="the bucket's rate">
			{([mine, recovered]) => {
				if (mine === undefined || recovered === undefined) return null;
				const values = mine.series.map((p) => p.count);
				if (values.every((v) => v === 0))
					return <Empty>No crashes of this bucket in this window. Try a longer window.</Empty>;
				const series: ChartSeries[] = [
					{ label: "this bucket", values, color: PALETTE[0], axis: "left" },
					{
						label: "recovered panics (fleet)",
						values: recovered.series.map((p) => p.count),
						color: "#22c55e",
						axis: "right",
					},
				];
				return (
					<TimeChart
						times={mine.series.map((p) => Date.parse(p.t))}
						series={series}
						leftLabel={`crashes per ${interval}`}
						rightLabel="recovered panics"
						label={`${values.reduce((a, b) => a + b, 0)} crashes of this bucket per ${interval}`}
						theme={props.theme}
					/>
				);
			}}
		</Await>
	);
}

function CorrelationCard(props: {
	readonly id: string;
	readonly view: View;
	readonly place: Place;
	readonly theme: string;
}) {
	const { id, view, place } = props;
	const reference = place.query.get("reference") === "fleet" ? "fleet" : "crashes";
	const correlations = useApi<Correlations>(
		`/buckets/${encodeURIComponent(id)}/correlations`,
		withParams(view, { reference }),
	);
	return (
		<section class="card" aria-labelledby="correlations">
			<div class="card-head">
				<h2 id="correlations">What these crashes have in common</h2>
				<fieldset class="windows">
					<legend class="sr">Compared with</legend>
					{(["crashes", "fleet"] as const).map((r) => (
						<button
							type="button"
							key={r}
							aria-pressed={reference === r}
							onClick={() =>
								navigate(
									place.path +
										changeQuery(place.query, { reference: r === "crashes" ? undefined : r }),
									true,
								)
							}
						>
							{r === "crashes" ? "vs other crashes" : "vs the fleet's host-hours"}
						</button>
					))}
				</fieldset>
			</div>
			<Await loaded={correlations} what="correlations">
				{(c) => (
					<>
						<p class="muted">
							{formatCount(c.bucketTotal)} crashes in the bucket against{" "}
							{formatCount(c.referenceTotal)}{" "}
							{c.reference === "fleet" ? "host-hours of the fleet" : "other crashes"}; values
							over-represented at q ≤ 0.05, strongest first.
						</p>
						{c.correlations.length === 0 ? (
							<Empty>Nothing is over-represented in this bucket in this window.</Empty>
						) : (
							<CorrelationTable rows={c.correlations} reference={c.reference} />
						)}
						<TimeCorrelation c={c} />
					</>
				)}
			</Await>
		</section>
	);
}

/** The correlations as a table, each row with a bar pair: share in the bucket against the reference. */
function CorrelationTable(props: {
	readonly rows: readonly Correlation[];
	readonly reference: string;
}) {
	const against = props.reference === "fleet" ? "fleet" : "other crashes";
	return (
		<div class="table-scroll">
			<table class="correlations">
				<thead>
					<tr>
						<th scope="col">Attribute</th>
						<th scope="col">Value</th>
						<th scope="col">In bucket vs {against}</th>
						<th scope="col" class="num">
							Crashes
						</th>
						<th scope="col" class="num" title="log2 of the odds ratio">
							Effect
						</th>
						<th scope="col" class="num" title="Benjamini-Hochberg adjusted p">
							q
						</th>
					</tr>
				</thead>
				<tbody>
					{props.rows.slice(0, 50).map((r) => (
						<tr key={`${r.attribute}=${r.value}`}>
							<td>{r.attribute}</td>
							<td>
								<code>{r.value}</code>
							</td>
							<td>
								<div
									class="split"
									role="img"
									aria-label={`${formatPercent(r.inBucket)} of the bucket, ${formatPercent(r.inReference)} of the ${against}`}
								>
									<span class="bar mine" style={{ width: `${(r.inBucket * 100).toFixed(1)}%` }} />
									<span
										class="bar theirs"
										style={{ width: `${(r.inReference * 100).toFixed(1)}%` }}
									/>
								</div>
								<span class="muted">
									{formatPercent(r.inBucket)} vs {formatPercent(r.inReference)}
								</span>
							</td>
							<td class="num">{formatCount(r.count)}</td>
							<td class="num">{r.effect.toFixed(2)}</td>
							<td class="num">{formatP(r.q)}</td>
						</tr>
					))}
				</tbody>
			</table>
		</div>
	);
}

function TimeCorrelation(props: { readonly c: Correlations }) {
	if (props.c.time.length === 0) return null;
	return (
		<ul class="muted">
			{props.c.time.map((t) => (
				<li key={t.interval}>
					Per {t.interval}, this bucket's rate against the {t.against} panics: r ={" "}
					{t.r === null ? "–" : t.r.toFixed(2)}
					{t.best !== null && t.best.lag !== 0 && (
						<>
							{" "}
							(best r = {t.best.r.toFixed(2)} at a lag of {t.best.lag} {t.interval}s)
						</>
					)}
				</li>
			))}
		</ul>
	);
}

/** A finding: what it is, the evidence, what to do, which versions fix it. */
export function FindingView(props: { readonly finding: Finding }) {
	const f = props.finding;
	return (
		<div class="finding">
			<h3>
				{f.title} <span class={`badge ${f.confidence}`}>{f.confidence}</span>
			</h3>
			<p>{f.explanation}</p>
			{f.evidence.length > 0 && (
				<>
					<h4>Evidence</h4>
					<ul>
						{f.evidence.map((e) => (
							<li key={e}>{e}</li>
						))}
					</ul>
				</>
			)}
			{f.fixedIn.length > 0 && (
				<p>
					<strong>Fixed in:</strong> {f.fixedIn.join(", ")}
				</p>
			)}
			{f.steps.length + f.workarounds.length > 0 && (
				<>
					<h4>What to do</h4>
					<ol>
						{[...f.steps, ...f.workarounds].map((s) => (
							<li key={s}>{s}</li>
						))}
					</ol>
				</>
			)}
			{f.unknowns.length > 0 && <p class="muted">Would make it surer: {f.unknowns.join("; ")}</p>}
			{f.references.length > 0 && <p class="muted">References: {f.references.join(" · ")}</p>}
		</div>
	);
}

function VersionTable(props: { readonly bucket: BucketDetail }) {
	const b = props.bucket;
	return (
		<>
			{b.regressions.map((r) => (
				<p class="regression" key={`${r.service} ${r.version}`}>
					Regressed in {r.service} {r.version}: absent from {r.absentIn.join(", ")} (where{" "}
					{r.expectedInAbsence.toFixed(1)} were expected) after {r.lastBefore}.
				</p>
			))}
			<div class="table-scroll">
				<table>
					<thead>
						<tr>
							<th scope="col">Service</th>
							<th scope="col">Version</th>
							<th scope="col" class="num">
								Crashes
							</th>
							<th scope="col">First seen</th>
							<th scope="col">Last seen</th>
						</tr>
					</thead>
					<tbody>
						{b.versions.map((v) => (
							<tr key={`${v.service} ${v.version}`}>
								<td>{v.service}</td>
								<td>{v.version}</td>
								<td class="num">{formatCount(v.count)}</td>
								<td title={formatTime(v.firstSeen)}>{formatAgo(v.firstSeen)}</td>
								<td title={formatTime(v.lastSeen)}>{formatAgo(v.lastSeen)}</td>
							</tr>
						))}
					</tbody>
				</table>
			</div>
		</>
	);
}
