import { useApi } from "./_data.js";
import { FilterBar } from "./_filters.js";
import { formatAgo, formatTime } from "./_format.js";
import { changeQuery, navigate, type Place } from "./_router.js";
import type { CrashList } from "./_types.js";
import { Await, DiagnosisBadge, Empty } from "./_ui.js";
import { readView, withParams } from "./_view.js";

const PAGE = 50;

/** Crashes newest first, by text, host, bucket, kind, window and attributes, a page at a time. */
export function CrashesPage(props: { readonly place: Place }) {
	const { place } = props;
	const view = readView(place.query, place.at, "90d");
	const field = (name: string) => place.query.get(name) ?? "";
	const list = useApi<CrashList>(
		"/crashes",
		withParams(view, {
			q: field("q"),
			host: field("host"),
			bucket: field("bucket"),
			kind: field("kind"),
			cursor: field("cursor"),
			limit: String(PAGE),
		}),
	);
	return (
		<main>
			<h1>Crashes</h1>
			<form
				class="crash-search"
				onSubmit={(e) => {
					e.preventDefault();
					const form = new FormData(e.currentTarget);
					const get = (name: string) => {
						const v = form.get(name);
						return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
					};
					navigate(
						place.path +
							changeQuery(place.query, {
								q: get("q"),
								host: get("host"),
								bucket: get("bucket"),
								kind: get("kind"),
								cursor: undefined,
							}),
					);
				}}
			>
				<label>
					Text <input name="q" type="search" value={field("q")} key={`q${field("q")}`} />
				</label>
				<label>
					Host <input name="host" value={field("host")} key={`h${field("host")}`} />
				</label>
				<label>
					Bucket <input name="bucket" value={field("bucket")} key={`b${field("bucket")}`} />
				</label>
				<label>
					Kind{" "}
					<select name="kind" value={field("kind")} key={`k${field("kind")}`}>
						<option value="">fatal and recovered</option>
						<option value="fatal">fatal</option>
						<option value="recovered">recovered</option>
					</select>
				</label>
				<button type="submit">Search</button>
			</form>
			<FilterBar place={place} view={view} />
			<Await loaded={list} what="crashes">
				{(data) =>
					data.crashes.length === 0 ? (
						<Empty>No crash matches. Try other words, a longer window or fewer filters.</Empty>
					) : (
						<>
							<div class="table-scroll">
								<table class="crashes">
									<thead>
										<tr>
											<th scope="col">When</th>
											<th scope="col">Crash</th>
											<th scope="col">Host</th>
											<th scope="col">Service</th>
										</tr>
									</thead>
									<tbody>
										{data.crashes.map((c) => (
											<tr key={c.id}>
												<td title={formatTime(c.time)}>{formatAgo(c.time)}</td>
												<td>
													<a href={`/crashes/${encodeURIComponent(c.id)}`}>{c.message}</a>
													<div class="tags">
														{c.kind === "recovered" && (
															<span class="badge recovered">recovered</span>
														)}
														<DiagnosisBadge diagnosis={c.diagnosis} />
													</div>
												</td>
												<td>
													<a
														href={
															place.path +
															changeQuery(place.query, { host: c.host, cursor: undefined })
														}
													>
														{c.host}
													</a>
												</td>
												<td>
													{c.service} {c.version}
												</td>
											</tr>
										))}
									</tbody>
								</table>
							</div>
							<nav class="pages" aria-label="Pages">
								{field("cursor") !== "" && (
									<a href={place.path + changeQuery(place.query, { cursor: undefined })}>Newest</a>
								)}
								{data.next !== null && (
									<a href={place.path + changeQuery(place.query, { cursor: data.next })}>
										Older crashes
									</a>
								)}
							</nav>
						</>
					)
				}
			</Await>
		</main>
	);
}
