// The dashboard: pages by URL, each drawn from the fleet service's API with the read token.
import { render } from "preact";
import { useEffect } from "preact/hooks";
import { readToken } from "./_api.js";
import { BucketPage } from "./_bucket.js";
import { CrashPage } from "./_crash.js";
import { CrashesPage } from "./_crashes.js";
import { toLogin } from "./_data.js";
import { LoginPage } from "./_login.js";
import { Overview } from "./_overview.js";
import { followLink, type Place, usePlace } from "./_router.js";
import { Empty, Header, useTheme } from "./_ui.js";

function Page(props: { readonly place: Place; readonly theme: string }) {
	const { place } = props;
	const path = place.path;
	if (path === "/") return <Overview place={place} theme={props.theme} />;
	if (path === "/crashes") return <CrashesPage place={place} />;
	const bucket = /^\/buckets\/([^/]+)$/.exec(path);
	if (bucket?.[1] !== undefined)
		return <BucketPage place={place} id={decodeURIComponent(bucket[1])} theme={props.theme} />;
	const crash = /^\/crashes\/([^/]+)$/.exec(path);
	if (crash?.[1] !== undefined) return <CrashPage id={decodeURIComponent(crash[1])} />;
	return (
		<main>
			<h1>Not found</h1>
			<Empty>
				The dashboard has no page {path}. <a href="/">Go to the overview.</a>
			</Empty>
		</main>
	);
}

function App() {
	const place = usePlace();
	const [theme, effective, setTheme] = useTheme();
	const loggedIn = readToken() !== null;
	useEffect(() => {
		if (!loggedIn && place.path !== "/login") toLogin();
	}, [loggedIn, place.path]);
	useEffect(() => {
		document.addEventListener("click", followLink);
		return () => document.removeEventListener("click", followLink);
	}, []);
	if (place.path === "/login") return <LoginPage place={place} />;
	if (!loggedIn) return null;
	return (
		<>
			<a class="skip" href="#content">
				Skip to content
			</a>
			<Header path={place.path} theme={theme} setTheme={setTheme} q={place.query.get("q") ?? ""} />
			<div id="content">
				<Page place={place} theme={effective} />
			</div>
		</>
	);
}

const root = document.getElementById("app");
if (root !== null) {
	root.textContent = "";
	render(<App />, root);
}
