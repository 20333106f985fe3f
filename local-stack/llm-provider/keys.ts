import { createHash } from "node:crypto";

/** Which provider's credential rules apply. */
export type Provider = "openai" | "anthropic" | "azure";

/**
 * What the stand-in makes of a credential. Special words inside an otherwise
 * well-formed key let tests provoke the provider's failure modes on demand
 * (the table in KEY_WORDS; README "Keys").
 */
export type KeyVerdict =
  | "ok"
  | "missing"
  | "malformed"
  | "revoked"
  | "forbidden"
  | "restricted"
  | "ratelimited"
  | "overloaded"
  | "unresponsive";

/**
 * The test-only words, first match wins: a key containing one is answered as the real API answers
 * such a key. `revoked` 401 (a deleted or disabled key), `forbidden` 403 (the key may not use the
 * API: Anthropic's permission_error, OpenAI's unsupported region), `restricted` (OpenAI: a project
 * key without the Models read permission — `GET /models` is 401 "insufficient permissions", chat
 * works), `ratelimited` 429 with retry-after, `overloaded` 503/529, `unresponsive` (the request is
 * accepted and never answered, for client timeouts).
 */
const KEY_WORDS = ["revoked", "forbidden", "restricted", "ratelimited", "overloaded", "unresponsive"] as const;

const MIN_KEY_LENGTH = 20;
// Real keys are URL-safe base64-ish; anything else (spaces, quotes, newlines)
// means the client mangled the header, which the real APIs reject too.
const KEY_CHARSET = /^[A-Za-z0-9_-]+$/;

/** SHA-256 hex of the credential, so tests can tell keys apart without the stand-in exposing them. */
export function fingerprint(credential: string): string {
  return createHash("sha256").update(credential, "utf8").digest("hex");
}

/** The credential the provider reads: OpenAI a Bearer token, Anthropic `x-api-key` (or a Bearer token), Azure `api-key`. */
export function readCredential(
  provider: Provider,
  headers: Record<string, string | string[] | undefined>,
): string | null {
  if (provider === "azure") {
    // Azure OpenAI: the resource key in `api-key`.
    const key = headers["api-key"];
    return typeof key === "string" && key.length > 0 ? key : null;
  }
  if (provider === "anthropic") {
    const key = headers["x-api-key"];
    if (typeof key === "string" && key.length > 0) return key;
    // @anthropic-ai/sdk 1.x sends the API key as `Authorization: Bearer <key>`; the API takes either.
  }
  const auth = headers.authorization;
  if (typeof auth !== "string") return null;
  const match = /^Bearer\s+(\S.*)$/i.exec(auth.trim());
  return match?.[1] ?? null;
}

/** Classify a credential the way this provider would, plus the test-only special words. */
export function classifyKey(provider: Provider, key: string | null): KeyVerdict {
  if (key === null) return "missing";
  if (key.length < MIN_KEY_LENGTH || !KEY_CHARSET.test(key)) return "malformed";
  // Azure resource keys are 32 hex characters or 84 letters and digits: no prefix, no `-` or `_`.
  if (provider === "azure") {
    if (!AZURE_KEY.test(key)) return "malformed";
    return specialWord(key);
  }
  // An Anthropic key sent to OpenAI (or the reverse) is a real integration bug
  // worth catching, so each provider accepts only its own prefix.
  const wellFormed =
    provider === "anthropic" ? key.startsWith("sk-ant-") : key.startsWith("sk-") && !key.startsWith("sk-ant-");
  if (!wellFormed) return "malformed";
  return specialWord(key);
}

const AZURE_KEY = /^[A-Za-z0-9]{32,100}$/;

/** The test-only word a well-formed key carries (KEY_WORDS), or "ok". */
function specialWord(key: string): KeyVerdict {
  return KEY_WORDS.find((word) => key.includes(word)) ?? "ok";
}

/**
 * Mask a key the way OpenAI's 401 message does: prefix and last four characters
 * kept, the middle starred. The message still leaks part of the key, which is
 * exactly why the gateway must never forward it verbatim.
 */
export function maskKey(key: string): string {
  if (key.length <= 10) return "*".repeat(key.length);
  return `${key.slice(0, 6)}${"*".repeat(key.length - 10)}${key.slice(-4)}`;
}
