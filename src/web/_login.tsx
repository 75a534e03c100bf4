import { useState } from "preact/hooks";
import { ApiError, getJson, saveToken } from "./_api.js";
import { navigate, type Place } from "./_router.js";

/** Where to go after logging in: a dashboard path, never another site. */
function safeNext(next: string | null): string {
	return next !== null && /^\/(?!\/)/.test(next) && !next.startsWith("/login") ? next : "/";
}

/** Login with a read token: checked against the API before it is kept. */
export function LoginPage(props: { readonly place: Place }) {
	const [problem, setProblem] = useState<string | null>(props.place.query.get("reason"));
	const [busy, setBusy] = useState(false);
	return (
		<main class="login">
			<h1>gocrash</h1>
			<p>
				Log in with a read token (<code>gocrash token create --scope read</code>).
			</p>
			<form
				onSubmit={async (e) => {
					e.preventDefault();
					const token = new FormData(e.currentTarget).get("token");
					if (typeof token !== "string" || token.trim() === "") {
						setProblem("Enter a token.");
						return;
					}
					setBusy(true);
					try {
						await getJson("/buckets", { limit: "1" }, token.trim());
						saveToken(token.trim());
						navigate(safeNext(props.place.query.get("next")), true);
					} catch (error) {
						setProblem(
							error instanceof ApiError
								? error.status === 403
									? "This token cannot read: it is an ingest or admin token. Use a read token."
									: error.message
								: String(error),
						);
					} finally {
						setBusy(false);
					}
				}}
			>
				<label>
					Read token{" "}
					<input
						name="token"
						type="password"
						autocomplete="current-password"
						required
						aria-describedby="login-problem"
					/>
				</label>
				<button type="submit" disabled={busy}>
					{busy ? "Checking…" : "Log in"}
				</button>
				<p id="login-problem" class="error" role="alert">
					{problem ?? ""}
				</p>
			</form>
		</main>
	);
}
