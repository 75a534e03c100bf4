import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { forgetToken, withQuery } from "./_api.js";
import type { Loaded } from "./_data.js";
import { type DiagnosisSummary, formatCategory } from "./_format.js";
import { navigate } from "./_router.js";

const THEME_KEY = "gocrash.theme";
const THEMES = ["auto", "light", "dark"] as const;
type Theme = (typeof THEMES)[number];

function effectiveTheme(theme: Theme): "light" | "dark" {
	if (theme !== "auto") return theme;
	return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

/** The theme chosen (kept for later visits) and the one in effect, with a way to change it. */
export function useTheme(): [Theme, "light" | "dark", (t: Theme) => void] {
	const [theme, setTheme] = useState<Theme>(() => {
		const kept = localStorage.getItem(THEME_KEY);
		return (THEMES as readonly string[]).includes(kept ?? "") ? (kept as Theme) : "auto";
	});
	const [effective, setEffective] = useState(() => effectiveTheme(theme));
	useEffect(() => {
		localStorage.setItem(THEME_KEY, theme);
		const apply = () => {
			const e = effectiveTheme(theme);
			document.documentElement.dataset.theme = e;
			setEffective(e);
		};
		apply();
		const media = matchMedia("(prefers-color-scheme: dark)");
		media.addEventListener("change", apply);
		return () => media.removeEventListener("change", apply);
	}, [theme]);
	return [theme, effective, setTheme];
}

/** The bar at the top: where one is, the search box, the theme, logging out. */
export function Header(props: {
	readonly path: string;
	readonly theme: Theme;
	readonly setTheme: (t: Theme) => void;
	readonly q?: string;
}) {
	const here = (prefix: string) =>
		(
			prefix === "/"
				? props.path === "/" || props.path.startsWith("/buckets")
				: props.path.startsWith(prefix)
		)
			? "page"
			: undefined;
	return (
		<header class="top">
			<a class="brand" href="/">
				gocrash
			</a>
			<nav aria-label="Pages">
				<a href="/" aria-current={here("/")}>
					Overview
				</a>
				<a href="/crashes" aria-current={here("/crashes")}>
					Crashes
				</a>
			</nav>
			<form
				class="search"
				onSubmit={(e) => {
					e.preventDefault();
					const q = new FormData(e.currentTarget).get("q");
					navigate(withQuery("/crashes", { q: typeof q === "string" ? q.trim() : "" }));
				}}
			>
				<input
					name="q"
					type="search"
					placeholder="Search crashes: message, function…"
					aria-label="Search crashes"
					value={props.q ?? ""}
					key={props.q ?? ""}
				/>
			</form>
			<label class="theme">
				<span class="sr">Theme</span>
				<select
					value={props.theme}
					onChange={(e) => props.setTheme(e.currentTarget.value as Theme)}
					aria-label="Theme"
				>
					{THEMES.map((t) => (
						<option value={t} key={t}>
							{t === "auto" ? "Auto theme" : t === "light" ? "Light" : "Dark"}
						</option>
					))}
				</select>
			</label>
			<button
				type="button"
				class="quiet"
				onClick={() => {
					forgetToken();
					navigate("/login");
				}}
			>
				Log out
			</button>
		</header>
	);
}

/** What a loading view shows: a placeholder while it loads, the error if it failed. */
export function Await<T>(props: {
	readonly loaded: Loaded<T>;
	readonly what: string;
	readonly children: (data: T) => ComponentChildren;
}) {
	const { loaded } = props;
	if (loaded.state === "loading")
		return (
			<p class="loading" aria-live="polite">
				Loading {props.what}…
			</p>
		);
	if (loaded.state === "error")
		return (
			<p class="error" role="alert">
				Could not load {props.what}: {loaded.error.message}
			</p>
		);
	return <>{props.children(loaded.data)}</>;
}

/** An empty state: what is not there, and what to try. */
export function Empty(props: { readonly children: ComponentChildren }) {
	return <p class="empty">{props.children}</p>;
}

/** A diagnosis as a badge: `compiler bug · likely`, its rule's title on hover. */
export function DiagnosisBadge(props: { readonly diagnosis: DiagnosisSummary | null }) {
	const d = props.diagnosis;
	if (d === null) return <span class="badge none">no diagnosis</span>;
	return (
		<span class={`badge ${d.confidence}`} title={d.title ?? d.id}>
			{formatCategory(d.category)}: {d.title ?? d.id} — {d.confidence}
		</span>
	);
}
