import { useState } from "preact/hooks";
import { useApi } from "./_data.js";
import { changeQuery, navigate, type Place } from "./_router.js";
import type { AttributeList } from "./_types.js";
import { type View, WINDOWS } from "./_view.js";

function toInput(ms: number): string {
	// datetime-local wants the reader's local time without a zone.
	const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
	return d.toISOString().slice(0, 16);
}

/** The time window, service and attribute filters of a view, each change a new URL. */
export function FilterBar(props: { readonly place: Place; readonly view: View }) {
	const { place, view } = props;
	const go = (changes: Record<string, string | undefined>) =>
		navigate(place.path + changeQuery(place.query, { cursor: undefined, ...changes }));
	// The values of the whole window, not only of the crashes the filters leave: the names to
	// filter by, and far cheaper to count on a large store.
	const attributes = useApi<AttributeList>("/attributes", {
		from: new Date(view.from).toISOString(),
		to: new Date(view.to).toISOString(),
		service: view.service,
		limit: "50",
	});
	const [name, setName] = useState("");
	const names = attributes.state === "ok" ? attributes.data.attributes : [];
	const picked = names.find((a) => a.name === name);
	const remove = (n: string, v: string) => {
		const next = new URLSearchParams(place.query);
		const kept = next.getAll(n).filter((x) => x !== v);
		next.delete(n);
		for (const k of kept) next.append(n, k);
		next.delete("cursor");
		const s = next.toString();
		navigate(place.path + (s === "" ? "" : `?${s}`));
	};
	return (
		<section class="filters" aria-label="Filters">
			<fieldset class="windows">
				<legend class="sr">Time window</legend>
				{WINDOWS.map(([w]) => (
					<button
						type="button"
						key={w}
						aria-pressed={view.window === w}
						onClick={() => go({ window: w, from: undefined, to: undefined })}
					>
						{w}
					</button>
				))}
			</fieldset>
			{(["from", "to"] as const).map((edge) => (
				<label key={edge}>
					{edge === "from" ? "From" : "To"}{" "}
					<input
						type="datetime-local"
						value={toInput(view[edge])}
						onChange={(e) => {
							const t = Date.parse(e.currentTarget.value);
							if (!Number.isFinite(t)) return;
							const window = { from: view.from, to: view.to, [edge]: t };
							go({
								from: new Date(window.from).toISOString(),
								to: new Date(window.to).toISOString(),
								window: undefined,
							});
						}}
					/>
				</label>
			))}
			<form
				class="add-filter"
				onSubmit={(e) => {
					e.preventDefault();
					const value = new FormData(e.currentTarget).get("value");
					if (name === "" || typeof value !== "string" || value === "") return;
					const next = new URLSearchParams(place.query);
					if (name === "service") next.set("service", value);
					else if (!next.getAll(name).includes(value)) next.append(name, value);
					next.delete("cursor");
					setName("");
					navigate(`${place.path}?${next.toString()}`);
				}}
			>
				<select
					aria-label="Filter by attribute"
					value={name}
					onChange={(e) => setName(e.currentTarget.value)}
				>
					<option value="">Filter by…</option>
					{names.map((a) => (
						<option value={a.name} key={a.name}>
							{a.name} ({a.distinct})
						</option>
					))}
				</select>
				{picked !== undefined && (
					<>
						<select name="value" aria-label={`Value of ${picked.name}`}>
							{picked.values.map((v) => (
								<option value={v.value} key={v.value}>
									{v.value} ({v.count})
								</option>
							))}
						</select>
						<button type="submit">Add</button>
					</>
				)}
			</form>
			<ul class="chips" aria-label="Active filters">
				{view.service !== undefined && (
					<li>
						service = {view.service}
						<button
							type="button"
							aria-label={`Remove filter service = ${view.service}`}
							onClick={() => go({ service: undefined })}
						>
							×
						</button>
					</li>
				)}
				{view.attributes.map(([n, v]) => (
					<li key={`${n}=${v}`}>
						{n} = {v}
						<button
							type="button"
							aria-label={`Remove filter ${n} = ${v}`}
							onClick={() => remove(n, v)}
						>
							×
						</button>
					</li>
				))}
			</ul>
			{view.problems.map((p) => (
				<p class="error" role="alert" key={p}>
					{p}
				</p>
			))}
		</section>
	);
}
