import { readFileSync } from "node:fs";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

/**
 * What every answer carries: a Content-Security-Policy that runs only the dashboard's own script
 * and style files (no inline script or style, nothing from another host), and no framing, sniffing
 * or referrers. Crash text is hostile; if anything of it ever reached the page as markup, the
 * browser would still run nothing.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
	"content-security-policy":
		"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	"x-content-type-options": "nosniff",
	"referrer-policy": "no-referrer",
	"x-frame-options": "DENY",
	"cross-origin-opener-policy": "same-origin",
};

/** The dashboard's pages: each is the same document, which draws the page its URL names. */
const PAGES = ["/", "/login", "/crashes", "/crashes/:id", "/buckets/:id"] as const;

/** Serves the built dashboard (`dist/web`: index.html and assets/) at `/`, with the security headers. */
export function webRoutes(app: FastifyInstance, root: string): void {
	const index = readFileSync(join(root, "index.html"));
	app.addHook("onSend", async (_request, reply) => {
		void reply.headers(SECURITY_HEADERS);
	});
	void app.register(fastifyStatic, {
		root: join(root, "assets"),
		prefix: "/assets/",
		// The file names do not change with their content: browsers revalidate them.
		cacheControl: true,
		maxAge: 0,
		index: false,
		wildcard: false,
	});
	for (const page of PAGES)
		app.get(page, async (_request, reply) =>
			reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").send(index),
		);
}
