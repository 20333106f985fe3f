/**
 * What a tenant API key looks like and how it is kept. A key is `bgk_` + 43 base62 characters
 * (256 random bits from crypto.getRandomValues): recognisable in code, logs and secret scanners,
 * and selectable with one double-click (no `-` or `_` inside).
 */
export const API_KEY_PREFIX = "bgk_";
const BODY_LENGTH = 43;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Exactly the shape `generateApiKey` makes: anything else is refused before any database read. */
export const API_KEY_SHAPE = /^bgk_[0-9A-Za-z]{43}$/;

/** True for any bearer value that claims to be an API key (prefix only): those never go to JWT verification. */
export const looksLikeApiKey = (token: string) => token.startsWith(API_KEY_PREFIX);

/** A new key: 43 base62 characters, uniformly drawn (bytes ≥ 248 are dropped so `% 62` has no bias). */
export function generateApiKey(): string {
  let body = "";
  while (body.length < BODY_LENGTH) {
    for (const b of crypto.getRandomValues(new Uint8Array(64))) {
      if (b < 248 && body.length < BODY_LENGTH) body += BASE62[b % 62];
    }
  }
  return API_KEY_PREFIX + body;
}

/**
 * The stored form: lowercase hex SHA-256 of the whole key. A fast, unsalted hash is right here
 * (unlike for passwords): the key carries 256 random bits, so no dictionary or brute force reaches
 * it however fast the hash, and a deterministic hash is what lets a request find its row by a unique
 * index in one read (a per-key salt or a slow KDF would need the row first, or cost milliseconds of
 * CPU on every /v1 call).
 */
export async function hashApiKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** What a list shows: the prefix and the last four characters. */
export const hintOf = (key: string) => `${API_KEY_PREFIX}****${key.slice(-4)}`;
