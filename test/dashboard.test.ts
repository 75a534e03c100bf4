// The dashboard in a real browser: Debian's Chromium driven by Playwright, against a real
// `gocrash serve --demo`. Every page is saved as a screenshot under test-output/dashboard/.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Server, serve } from "./_serve.js";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = join(import.meta.dirname, "../test-output/dashboard");
const HOSTILE_TEXT = readFileSync(
	join(import.meta.dirname, "fixtures/crashes/go1.26.10-amd64/custom-error.txt"),
	"utf8",
).replace(
	/^panic: .*$/m,
	`panic: <script>alert("message")</script><img src=x onerror=alert("img")> <a href="javascript:alert('link')">x</a>`,
);

const dir = mkdtempSync(join(tmpdir(), "gocrash-dashboard-"));
let server: Server;
let browser: Browser;
let read = "";
let ingest = "";
/** What a page did that it must not: dialogs opened, script errors, console errors (CSP refusals). */
const trouble: string[] = [];

beforeAll(async () => {
	if (!existsSync(CHROMIUM))
		throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`);
	mkdirSync(SHOTS, { recursive: true });
	server = await serve(join(dir, "demo.db"), "--demo");
	read = /read token: +(\S+)/.exec(server.banner)?.[1] ?? "";
	ingest = /ingest token: +(\S+)/.exec(server.banner)?.[1] ?? "";
	browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: [
			"--no-sandbox",
			"--disable-gpu",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
			"--no-first-run",
		],
	});
}, 300_000);
afterAll(async () => {
	await browser?.close();
	server?.process.kill("SIGTERM");
	await server?.exited;
	rmSync(dir, { recursive: true, force: true });
});

/** A new page; `refusals`: the API's 401 and 403 answers are expected (the login test's wrong tokens). */
async function newPage(width = 1280, height = 900, refusals = false): Promise<Page> {
	const page = await browser.newPage({ viewport: { width, height } });
	page.on("dialog", (d) => {
		trouble.push(`dialog: ${d.message()}`);
		void d.dismiss();
	});
	page.on("pageerror", (e) => trouble.push(`page error: ${e.message}`));
	page.on("console", (m) => {
		if (m.type() !== "error") return;
		if (refusals && /status of 40[13] /.test(m.text())) return;
		trouble.push(`console: ${m.text()}`);
	});
	return page;
}

async function logIn(page: Page, token = read): Promise<void> {
	await page.goto(`${server.url}/login`);
	await page.fill("input[name=token]", token);
	await page.click("button[type=submit]");
	await page.waitForURL((u) => u.pathname !== "/login");
}

const shot = (page: Page, name: string) =>
	page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe("the dashboard", () => {
	it("shows nothing without a read token", async () => {
		const page = await newPage(1280, 900, true);
		await page.goto(`${server.url}/buckets/f2ac96af0cee28f7`);
		await page.waitForURL(/\/login\?next=%2Fbuckets%2Ff2ac96af0cee28f7/);
		expect(await page.locator("table").count()).toBe(0);
		await shot(page, "login");
		await page.fill("input[name=token]", "gct_read_not-a-token");
		await page.click("button[type=submit]");
		await expect.poll(() => page.textContent("#login-problem")).toMatch(/token/);
		await page.fill("input[name=token]", ingest);
		await page.click("button[type=submit]");
		await expect.poll(() => page.textContent("#login-problem")).toMatch(/cannot read/);
		expect(page.url()).toMatch(/\/login/);
		// The right token goes back where the user wanted to be.
		await page.fill("input[name=token]", read);
		await page.click("button[type=submit]");
		await page.waitForURL(/\/buckets\/f2ac96af0cee28f7$/);
		await page.locator("h1.bucket-title").waitFor();
		await page.close();
	});

	it("draws the overview chart with data points and the top buckets", async () => {
		const page = await newPage();
		await logIn(page);
		await page.locator(".chart canvas").first().waitFor();
		await page.locator("table.buckets tbody tr").first().waitFor();
		expect(Number(await page.getAttribute(".chart", "data-points"))).toBeGreaterThan(100);
		expect(await page.locator("table.buckets tbody tr").count()).toBe(20);
		expect(await page.locator("svg.spark").count()).toBeGreaterThan(10);
		const legend = await page.locator(".u-legend").textContent();
		expect(legend).toMatch(/recovered panics/);
		expect(legend).toMatch(/other buckets/);
		await page.waitForTimeout(300);
		await shot(page, "overview");
		await page.close();
	});

	it("opens the top split-SP bucket and shows the correlation that names the victim function", async () => {
		const page = await newPage();
		await logIn(page);
		const row = page
			.locator("table.buckets tbody tr")
			.filter({ hasText: "compiler bug: arm64 compiler split a stack-frame pop" })
			.first();
		await row.locator("a.bucket-link").click();
		await page.waitForURL(/\/buckets\/[0-9a-f]{16}/);
		const top = page.locator("table.correlations tbody tr").first();
		await top.waitFor();
		expect(await top.locator("td").nth(0).textContent()).toBe("preempted");
		expect(await top.locator("td").nth(1).textContent()).toBe("main.big_stack");
		expect(await page.locator(".finding h3").first().textContent()).toMatch(/golang\/go#73259/);
		await page.locator(".chart canvas").first().waitFor();
		await shot(page, "bucket");
		// Against the fleet's host-hours: the architecture stands out.
		await page.click("text=vs the fleet's host-hours");
		await page.waitForURL(/reference=fleet/);
		await expect
			.poll(() => page.locator("table.correlations").textContent())
			.toMatch(/goarch\s*arm64/);
		await page.click(".samples a");
		await page.waitForURL(/\/crashes\/[0-9a-f]{32}$/);
		const victim = page.locator(".groups details.victim");
		await victim.waitFor();
		expect(await victim.getAttribute("open")).not.toBeNull();
		expect(await victim.locator("summary").textContent()).toMatch(
			/preempted victim in main\.big_stack/,
		);
		expect(await victim.locator(".frames").textContent()).toMatch(/runtime\.asyncPreempt/);
		expect(await page.locator(".groups details.crashed").count()).toBe(1);
		await shot(page, "crash");
		await page.close();
	});

	it("keeps every view in its URL: a reload shows the same window and filters", async () => {
		const page = await newPage();
		await logIn(page);
		await page.locator("table.buckets tbody tr").first().waitFor();
		await page.click("button:text-is('30d')");
		await page.selectOption("select[aria-label='Filter by attribute']", "goarch");
		await page.selectOption("select[aria-label='Value of goarch']", "arm64");
		await page.click("form.add-filter button[type=submit]");
		await page.waitForURL(/window=30d.*goarch=arm64/);
		await page.reload();
		await page.locator("table.buckets tbody tr").first().waitFor();
		expect(await page.getAttribute("button:text-is('30d')", "aria-pressed")).toBe("true");
		expect(await page.locator(".chips").textContent()).toMatch(/goarch = arm64/);
		await page.close();
	});

	it("can be used with the keyboard alone", async () => {
		const page = await newPage();
		await logIn(page);
		await page.locator("table.buckets tbody tr").first().waitFor();
		let onLink = false;
		for (let i = 0; i < 40 && !onLink; i++) {
			await page.keyboard.press("Tab");
			onLink = await page.evaluate<boolean>(
				"document.activeElement?.classList.contains('bucket-link') ?? false",
			);
		}
		expect(onLink).toBe(true);
		await page.keyboard.press("Enter");
		await page.waitForURL(/\/buckets\//);
		await page.locator("h1.bucket-title").waitFor();
		await page.close();
	});

	it("fits a phone's width, and has a dark theme", async () => {
		const page = await newPage(390, 844);
		await logIn(page);
		await page.locator(".chart canvas").first().waitFor();
		await page.locator("table.buckets tbody tr").first().waitFor();
		const overflow = await page.evaluate<number>(
			"document.documentElement.scrollWidth - document.documentElement.clientWidth",
		);
		expect(overflow).toBeLessThanOrEqual(0);
		await shot(page, "overview-phone");
		await page.selectOption("select[aria-label=Theme]", "dark");
		await expect.poll(() => page.getAttribute("html", "data-theme")).toBe("dark");
		await page.setViewportSize({ width: 1280, height: 900 });
		await page.waitForTimeout(300);
		await shot(page, "overview-dark");
		await page.close();
	});

	it("runs nothing from a crash, an attribute or a host name full of markup and script URLs", async () => {
		const res = await fetch(`${server.url}/api/v1/crashes`, {
			method: "POST",
			headers: { authorization: `Bearer ${ingest}`, "content-type": "application/json" },
			body: JSON.stringify({
				text: HOSTILE_TEXT,
				host: "javascript:alert('host')",
				service: "<img src=x onerror=alert('service')>",
				version: `"><script>alert('version')</script>`,
				attributes: {
					region: "<script>alert('region')</script>",
					"<b onmouseover=alert('name')>": "javascript:alert('value')",
				},
			}),
		});
		expect(res.status).toBe(201);
		const [{ id, bucket }] = ((await res.json()) as { crashes: { id: string; bucket: string }[] })
			.crashes as [{ id: string; bucket: string }];
		const page = await newPage();
		await logIn(page);
		for (const path of [
			`/crashes/${id}`,
			`/buckets/${bucket}?window=24h`,
			"/crashes?q=script",
			`/?window=24h&region=${encodeURIComponent("<script>alert('region')</script>")}`,
		]) {
			await page.goto(`${server.url}${path}`);
			await page.locator("main h1").first().waitFor();
			await page.waitForLoadState("networkidle");
			// The markup shows as text, and none of it became an element or a link.
			await page.locator("main a[href^='/buckets/'], main a[href^='/crashes/']").first().waitFor();
			expect(await page.locator("main").textContent()).toContain("<script>alert(");
			expect(await page.locator("img").count()).toBe(0);
			expect(await page.locator("script").count()).toBe(1);
			expect(await page.locator("[onerror], [onmouseover]").count()).toBe(0);
			const hrefs = await page.$$eval("a", (links) => links.map((a) => a.getAttribute("href")));
			expect(hrefs.filter((h) => h === null || /^\s*javascript:/i.test(h))).toEqual([]);
		}
		await page.goto(`${server.url}/crashes/${id}`);
		await page.locator("table.attributes").waitFor();
		expect(await page.locator("table.attributes").textContent()).toContain(
			"<script>alert('region')</script>",
		);
		await page.click("details summary:has-text('Show the text')");
		expect(await page.locator("pre.raw").textContent()).toContain('onerror=alert("img")');
		await shot(page, "hostile-crash");
		await page.close();
	});

	it("answered every page with nothing a browser refused or ran", () => {
		expect(trouble).toEqual([]);
	});
});
