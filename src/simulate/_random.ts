import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";

/** Seeded random draws (xoroshiro128+), so that one seed always makes the same fleet. */
export class Dice {
	readonly #rng;
	constructor(seed: number) {
		this.#rng = xoroshiro128plus(seed | 0);
	}
	/** A float in [0, 1). */
	float(): number {
		return uniformFloat64(this.#rng);
	}
	/** An integer in [0, n). */
	int(n: number): number {
		return Math.floor(this.float() * n);
	}
	/** One element, all equally likely; `xs` must not be empty. */
	pick<T>(xs: readonly T[]): T {
		return xs[this.int(xs.length)] as T;
	}
	/** One element, each as likely as its weight. */
	weighted<T>(xs: readonly T[], weight: (x: T) => number): T {
		let total = 0;
		for (const x of xs) total += weight(x);
		let r = this.float() * total;
		for (const x of xs) {
			r -= weight(x);
			if (r < 0) return x;
		}
		return xs[xs.length - 1] as T;
	}
	/** A Poisson count: Knuth's product of uniforms for small means, a rounded normal above 30. */
	poisson(mean: number): number {
		if (mean <= 0) return 0;
		if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
		const limit = Math.exp(-mean);
		let k = 0;
		for (let p = this.float(); p > limit; p *= this.float()) k++;
		return k;
	}
	/** A standard normal draw (Box-Muller). */
	normal(): number {
		return Math.sqrt(-2 * Math.log(1 - this.float())) * Math.cos(2 * Math.PI * this.float());
	}
	/** A lowercase hex string of `n` digits. */
	hex(n: number): string {
		let s = "";
		for (let i = 0; i < n; i++) s += this.int(16).toString(16);
		return s;
	}
}
