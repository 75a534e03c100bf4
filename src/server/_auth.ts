import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Store, TokenRecord, TokenScope } from "../store/index.js";
import { ApiError } from "./_errors.js";

const PREFIX = "gct_";

/** The stored form of a token's secret: its SHA-256, hex. */
export function hashToken(secret: string): string {
	return createHash("sha256").update(secret).digest("hex");
}

/** Makes a new token: the secret to show once, and the record to store. */
export function newToken(
	scope: TokenScope,
	name: string,
	now: number,
): { secret: string; record: TokenRecord } {
	const secret = `${PREFIX}${scope}_${randomBytes(24).toString("base64url")}`;
	return {
		secret,
		record: {
			id: randomBytes(8).toString("hex"),
			name,
			scope,
			hash: hashToken(secret),
			created: now,
		},
	};
}

/** How long a token found stays known without asking the store again. */
const TOKEN_TTL = 10_000;
/** At most this many tokens are kept known; past it, all are forgotten. */
const MAX_KNOWN = 10_000;

/**
 * Finds tokens by hash, each known for ten seconds after the store gave it: a token never changes
 * once made, so a request with a known token does not wait on the database. A hash the store does
 * not have is asked again every time, so that a token just made works at once.
 */
export class TokenLookup {
	readonly #store: Store;
	readonly #now: () => number;
	readonly #known = new Map<string, { token: TokenRecord; until: number }>();

	constructor(store: Store, now: () => number) {
		this.#store = store;
		this.#now = now;
	}

	async find(hash: string): Promise<TokenRecord | null> {
		const now = this.#now();
		const known = this.#known.get(hash);
		if (known !== undefined && known.until > now) return known.token;
		const token = await this.#store.findToken(hash);
		if (token === null) this.#known.delete(hash);
		else {
			if (this.#known.size >= MAX_KNOWN) this.#known.clear();
			this.#known.set(hash, { token, until: now + TOKEN_TTL });
		}
		return token;
	}
}

/** Checks `Authorization: Bearer …` and that the token has the scope (one of them); returns the token. */
export async function authorize(
	tokens: TokenLookup,
	header: string | undefined,
	scope: TokenScope | readonly TokenScope[],
): Promise<TokenRecord> {
	const match = header === undefined ? null : /^Bearer ([\x21-\x7e]{1,200})$/.exec(header);
	if (match === null)
		throw new ApiError(
			"unauthorized",
			"missing or malformed Authorization header: expected 'Bearer <token>'",
			{
				"www-authenticate": 'Bearer realm="gocrash"',
			},
		);
	const hash = hashToken(match[1] as string);
	const token = await tokens.find(hash);
	// The lookup is by hash; comparing the hashes again in constant time keeps any index timing out of it.
	if (token === null || !timingSafeEqual(Buffer.from(token.hash), Buffer.from(hash)))
		throw new ApiError("unauthorized", "unknown token", {
			"www-authenticate": 'Bearer realm="gocrash"',
		});
	const scopes: readonly TokenScope[] = typeof scope === "string" ? [scope] : scope;
	if (!scopes.includes(token.scope))
		throw new ApiError(
			"forbidden",
			`this is ${article(token.scope)} ${token.scope} token; this request needs ${article(scopes[0] as string)} ${scopes.join(" or ")} token`,
		);
	return token;
}

const article = (word: string): string => (/^[aeiou]/.test(word) ? "an" : "a");
