// Builds the dashboard (src/web/) into dist/web/: index.html, and under assets/ one script bundle
// (Preact and uPlot inside), one style sheet and the icon. Nothing is loaded from another host. Run by
// `npm run build` after tsc; `gocrash serve` serves dist/web/ at `/`.
import { copyFileSync, mkdirSync } from "node:fs";
import { build } from "esbuild";

const src = new URL("../src/web/", import.meta.url);
const out = new URL("../dist/web/", import.meta.url);
mkdirSync(new URL("assets/", out), { recursive: true });
await build({
	entryPoints: {
		app: new URL("main.tsx", src).pathname,
		style: new URL("style.css", src).pathname,
	},
	outdir: new URL("assets/", out).pathname,
	bundle: true,
	minify: true,
	format: "esm",
	target: "es2022",
	jsx: "automatic",
	jsxImportSource: "preact",
	legalComments: "linked",
	logLevel: "warning",
});
copyFileSync(new URL("index.html", src), new URL("index.html", out));
copyFileSync(new URL("favicon.svg", src), new URL("assets/favicon.svg", out));
