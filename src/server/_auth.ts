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

/** Checks `Authorization: Bearer …` and that the token has the scope (one of them); returns the token. */
export async function authorize(
	store: Store,
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
	const token = await store.findToken(hash);
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
