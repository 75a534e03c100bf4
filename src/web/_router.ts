// Every view is a URL: its path names the page and its query the state, so a link can be shared
// and a reload shows the same view.
import { useEffect, useState } from "preact/hooks";

const NAVIGATE = "gocrash:navigate";

/** The page a URL shows, with its query. */
export interface Place {
	readonly path: string;
	readonly query: URLSearchParams;
	/** When the place was reached: what a window such as "the last 7 days" ends at. */
	readonly at: number;
}

function here(): Place {
	return { path: location.pathname, query: new URLSearchParams(location.search), at: Date.now() };
}

/** Goes to a URL of the dashboard without reloading; `replace` keeps the history entry. */
export function navigate(url: string, replace = false): void {
	if (replace) history.replaceState(null, "", url);
	else history.pushState(null, "", url);
	window.dispatchEvent(new Event(NAVIGATE));
	if (!replace) window.scrollTo(0, 0);
}

/** The current place, re-rendering on every navigation (links, back and forward). */
export function usePlace(): Place {
	const [place, setPlace] = useState(here);
	useEffect(() => {
		const update = () => setPlace(here());
		window.addEventListener("popstate", update);
		window.addEventListener(NAVIGATE, update);
		return () => {
			window.removeEventListener("popstate", update);
			window.removeEventListener(NAVIGATE, update);
		};
	}, []);
	return place;
}

/** Follows a click on a dashboard link without a reload, unless the user asked for a new tab. */
export function followLink(event: MouseEvent): void {
	if (event.defaultPrevented || event.button !== 0) return;
	if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
	const link = (event.target as Element | null)?.closest("a");
	if (link === null || link === undefined || link.target !== "" || link.origin !== location.origin)
		return;
	// A link to a place on this page (`#g31`) is the browser's to follow.
	if (link.hash !== "" && link.pathname === location.pathname && link.search === location.search)
		return;
	event.preventDefault();
	navigate(link.pathname + link.search);
}

/** The query with some parameters set (a value), changed, or removed (undefined). */
export function changeQuery(
	query: URLSearchParams,
	changes: Readonly<Record<string, string | undefined>>,
): string {
	const next = new URLSearchParams(query);
	for (const [name, value] of Object.entries(changes)) {
		if (value === undefined || value === "") next.delete(name);
		else next.set(name, value);
	}
	const s = next.toString();
	return s === "" ? "" : `?${s}`;
}
