/** Token buckets per key: `rate` requests a second, with a burst of as many. */
export class RateLimiter {
	readonly #rate: number;
	readonly #now: () => number;
	readonly #buckets = new Map<string, { tokens: number; at: number }>();

	/** A rate of 0 lets everything through. */
	constructor(rate: number, now: () => number) {
		this.#rate = rate;
		this.#now = now;
	}

	/** Takes one request for `key`: 0 when it may go now, else the ms until it may. */
	take(key: string): number {
		if (this.#rate <= 0) return 0;
		const now = this.#now();
		const b = this.#buckets.get(key) ?? { tokens: this.#rate, at: now };
		b.tokens = Math.min(this.#rate, b.tokens + ((now - b.at) / 1000) * this.#rate);
		b.at = now;
		this.#buckets.set(key, b);
		if (b.tokens >= 1) {
			b.tokens -= 1;
			return 0;
		}
		return Math.ceil(((1 - b.tokens) / this.#rate) * 1000);
	}
}
