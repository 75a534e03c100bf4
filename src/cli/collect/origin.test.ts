import { describe, expect, test } from "vitest";
import { lineOrigin, pathOrigin } from "./_origin.js";

const ID = "4f3c2b1a".repeat(8);

describe("pathOrigin", () => {
	test.each([
		[
			"/var/log/pods/shop_cart-7d9f-x2x4q_0b1c2d3e-aaaa-bbbb-cccc-1234567890ab/cart/3.log",
			"cart",
			{
				"k8s.namespace.name": "shop",
				"k8s.pod.name": "cart-7d9f-x2x4q",
				"k8s.pod.uid": "0b1c2d3e-aaaa-bbbb-cccc-1234567890ab",
				"k8s.container.name": "cart",
			},
		],
		[
			`/var/log/containers/cart-7d9f-x2x4q_shop_cart-${ID}.log`,
			"cart",
			{
				"k8s.namespace.name": "shop",
				"k8s.pod.name": "cart-7d9f-x2x4q",
				"k8s.container.name": "cart",
				"container.id": ID,
			},
		],
		[`/var/lib/docker/containers/${ID}/${ID}-json.log`, null, { "container.id": ID }],
		[`/var/lib/docker/containers/${ID}/${ID}-json.log.1`, null, { "container.id": ID }],
		["/var/log/app/server.log", null, {}],
		// Not a kubelet path: a name with `_` where a DNS label cannot have one.
		["/var/log/pods/a_b_c_d/x/0.log", null, {}],
	])("%s", (path, service, attributes) => {
		const found = pathOrigin(path);
		expect(found.service).toBe(service);
		expect(Object.fromEntries(found.attributes)).toEqual(attributes);
	});
});

describe("lineOrigin", () => {
	test("a CRI line's time", () => {
		expect(lineOrigin("2026-12-04T06:10:00.123456789Z stderr F goroutine 1 [running]:")).toEqual({
			time: Date.UTC(2026, 11, 4, 6, 10, 0, 123),
			attributes: [],
		});
	});
	test("a Docker JSON line's time and attrs", () => {
		const line = JSON.stringify({
			log: "panic: boom\n",
			stream: "stderr",
			attrs: { "com.example.team": "payments", n: 3 },
			time: "2026-12-04T06:10:00.5Z",
		});
		expect(lineOrigin(line)).toEqual({
			time: Date.UTC(2026, 11, 4, 6, 10, 0, 500),
			attributes: [["com.example.team", "payments"]],
		});
	});
	test("a line with no time, and a broken Docker line", () => {
		expect(lineOrigin("panic: boom")).toEqual({ time: null, attributes: [] });
		expect(lineOrigin('{"log":"panic: bo')).toEqual({ time: null, attributes: [] });
	});
});
