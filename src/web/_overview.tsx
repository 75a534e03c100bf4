import { type ChartSeries, PALETTE, Sparkline, TimeChart } from "./_chart.js";
import { type Loaded, useApi, useApiAll } from "./_data.js";
import { FilterBar } from "./_filters.js";
import { formatAgo, formatCount, formatTime } from "./_format.js";
import { changeQuery, navigate, type Place } from "./_router.js";
import type { BucketList, BucketRates, BucketRow, Rates } from "./_types.js";
import { Await, DiagnosisBadge, Empty } from "./_ui.js";
import { readView, type View, viewInterval, withParams } from "./_view.js";

/** Buckets drawn as their own layer of the chart; the rest are one layer. */
const LAYERS = 5;

/** The overview: crashes per hour (by bucket, with recovered panics), and the top buckets. */
export function Overview(props: { readonly place: Place; readonly theme: string }) {
	const { place } = props;
	const view = readView(place.query, place.at);
	const stacked = place.query.get("stack") !== "none";
	const limit = place.query.get("limit") ?? "20";
	const buckets = useApi<BucketList>("/buckets", withParams(view, { limit }));
	return (
		<main>
			<h1>Fleet crashes</h1>
			<FilterBar place={place} view={view} />
			<section class="card" aria-labelledby="rate-title">
				<div class="card-head">
					<h2 id="rate-title">Fatal crashes per {viewInterval(view)}</h2>
					<label>
						<input
							type="checkbox"
							checked={stacked}
							onChange={(e) =>
								navigate(
									place.path +
										changeQuery(place.query, {
											stack: e.currentTarget.checked ? undefined : "none",
										}),
									true,
								)
							}
						/>{" "}
						by bucket
					</label>
				</div>
				<RateChart
					view={view}
					theme={props.theme}
					buckets={buckets.state === "ok" ? buckets.data.buckets : null}
					stacked={stacked}
				/>
			</section>
			<section class="card" aria-labelledby="buckets-title">
				<h2 id="buckets-title">Top buckets</h2>
				<Await loaded={buckets} what="buckets">
					{(data) =>
						data.buckets.length === 0 ? (
							<Empty>
								No crashes in this window
								{view.attributes.length > 0 || view.service ? " with these filters" : ""}. Try a
								longer window or fewer filters.
							</Empty>
						) : (
							<BucketTable buckets={data.buckets} view={view} place={place} limit={limit} />
						)
					}
				</Await>
			</section>
		</main>
	);
}

function ratesOf(view: View, more: Record<string, string>) {
	return { path: "/rates", params: withParams(view, { interval: viewInterval(view), ...more }) };
}

function RateChart(props: {
	readonly view: View;
	readonly theme: string;
	readonly buckets: readonly BucketRow[] | null;
	readonly stacked: boolean;
}) {
	const { view, buckets, stacked } = props;
	const layers = stacked ? (buckets ?? []).slice(0, LAYERS) : [];
	// The totals do not wait for the bucket list; only the stacked layers need its ids.
	const totals = useApiAll<Rates>([
		ratesOf(view, { kind: "fatal" }),
		ratesOf(view, { kind: "recovered" }),
	]);
	const ids = layers.map((b) => b.id).join(",");
	const layerRates = useApi<BucketRates>(
		ids === "" ? null : "/rates",
		ratesOf(view, { kind: "fatal", buckets: ids }).params,
	);
	const noLayers = !stacked || (buckets !== null && ids === "");
	const loaded: Loaded<[Rates[], BucketRates["buckets"]]> =
		totals.state !== "ok"
			? totals
			: noLayers
				? { state: "ok", data: [totals.data, []] }
				: layerRates.state !== "ok"
					? layerRates
					: { state: "ok", data: [totals.data, layerRates.data.buckets] };
	return (
		<Await loaded={loaded} what="the crash rate">
			{([[fatal, recovered], byBucket]) => {
				if (fatal === undefined || recovered === undefined) return null;
				const times = fatal.series.map((p) => Date.parse(p.t));
				const total = fatal.series.map((p) => p.count);
				const series: ChartSeries[] = [];
				let rest = total;
				byBucket.forEach((r, i) => {
					const values = r.series.map((p) => p.count);
					rest = rest.map((v, j) => v - (values[j] ?? 0));
					series.push({
						label: layers[i]?.title.slice(0, 60) ?? "bucket",
						values,
						color: PALETTE[i % PALETTE.length] as string,
						axis: "left",
					});
				});
				series.push({
					label: byBucket.length > 0 ? "other buckets" : "fatal crashes",
					values: rest,
					color: byBucket.length > 0 ? "#94a3b8" : (PALETTE[0] as string),
					axis: "left",
				});
				series.push({
					label: "recovered panics",
					values: recovered.series.map((p) => p.count),
					color: "#22c55e",
					axis: "right",
				});
				const sum = total.reduce((a, b) => a + b, 0);
				if (sum === 0 && recovered.series.every((p) => p.count === 0))
					return <Empty>No crashes and no recovered panics in this window.</Empty>;
				return (
					<TimeChart
						times={times}
						series={series}
						leftLabel={`crashes per ${fatal.interval}`}
						rightLabel="recovered panics"
						label={`${formatCount(sum)} fatal crashes per ${fatal.interval} over ${times.length} ${fatal.interval}s, stacked by bucket, with recovered panics`}
						theme={props.theme}
					/>
				);
			}}
		</Await>
	);
}

function BucketTable(props: {
	readonly buckets: readonly BucketRow[];
	readonly view: View;
	readonly place: Place;
	readonly limit: string;
}) {
	const { buckets, view, place } = props;
	// A day has too few points by day: a short window's trend is by hour.
	const interval = view.to - view.from <= 2 * 24 * 3_600_000 ? "hour" : "day";
	const trends = useApi<BucketRates>(
		"/rates",
		withParams(view, { interval, buckets: buckets.map((b) => b.id).join(",") }),
	);
	const trend = new Map(
		trends.state === "ok" ? trends.data.buckets.map((b) => [b.bucket, b.series]) : [],
	);
	const keep = new URLSearchParams(place.query);
	keep.delete("stack");
	keep.delete("limit");
	const suffix = keep.toString() === "" ? "" : `?${keep.toString()}`;
	return (
		<>
			<div class="table-scroll">
				<table class="buckets">
					<thead>
						<tr>
							<th scope="col">#</th>
							<th scope="col">Bucket</th>
							<th scope="col" class="num">
								Crashes
							</th>
							<th scope="col" class="num">
								Hosts
							</th>
							<th scope="col">Trend</th>
							<th scope="col">First seen</th>
							<th scope="col">Last seen</th>
						</tr>
					</thead>
					<tbody>
						{buckets.map((b) => (
							<tr key={b.id}>
								<td class="num">
									{b.rank}
									<RankChange bucket={b} />
								</td>
								<td>
									<a class="bucket-link" href={`/buckets/${encodeURIComponent(b.id)}${suffix}`}>
										{b.title}
									</a>
									<div class="tags">
										{b.new && <span class="badge new">new</span>}
										{b.regressed && <span class="badge regressed">regressed</span>}
										<DiagnosisBadge diagnosis={b.diagnosis} />
									</div>
								</td>
								<td class="num">{formatCount(b.count)}</td>
								<td class="num">{formatCount(b.hosts)}</td>
								<td>
									<BucketTrend bucket={b} interval={interval} series={trend.get(b.id)} />
								</td>
								<td title={formatTime(b.firstSeen)}>{formatAgo(b.firstSeen)}</td>
								<td title={formatTime(b.lastSeen)}>{formatAgo(b.lastSeen)}</td>
							</tr>
						))}
					</tbody>
				</table>
			</div>
			{buckets.length >= Number(props.limit) && Number(props.limit) < 1000 && (
				<p>
					<a
						href={
							place.path +
							changeQuery(place.query, { limit: String(Math.min(1000, Number(props.limit) * 5)) })
						}
					>
						Show more buckets
					</a>
				</p>
			)}
		</>
	);
}

function RankChange(props: { readonly bucket: BucketRow }) {
	const { rank, previousRank } = props.bucket;
	if (previousRank === null) return null;
	if (previousRank === rank) return null;
	const up = previousRank > rank;
	return (
		<span class={up ? "up" : "down"} title={`rank ${previousRank} in the window before`}>
			{up ? "▲" : "▼"}
		</span>
	);
}

function BucketTrend(props: {
	readonly bucket: BucketRow;
	readonly interval: string;
	readonly series: readonly { count: number }[] | undefined;
}) {
	const { bucket, series } = props;
	if (series === undefined) return <span class="spark-empty" aria-hidden="true" />;
	return (
		<Sparkline
			values={series.map((p) => p.count)}
			label={`${bucket.title}: crashes per ${props.interval}`}
		/>
	);
}
