import { createHash } from "node:crypto";

/** Which provider's credential rules apply. */
export type Provider = "openai" | "anthropic" | "azure";

/**
 * What the stand-in makes of a credential. Special words inside an otherwise
 * well-formed key let tests provoke the provider's failure modes on demand.
 */
export type KeyVerdict = "ok" | "missing" | "malformed" | "revoked" | "ratelimited" | "overloaded";

const MIN_KEY_LENGTH = 20;
// Real keys are URL-safe base64-ish; anything else (spaces, quotes, newlines)
// means the client mangled the header, which the real APIs reject too.
const KEY_CHARSET = /^[A-Za-z0-9_-]+$/;

/** SHA-256 hex of the credential, so tests can tell keys apart without the stand-in exposing them. */
export function fingerprint(credential: string): string {
  return createHash("sha256").update(credential, "utf8").digest("hex");
}

/** The credential the provider reads: OpenAI a Bearer token, Anthropic the `x-api-key` header. */
export function readCredential(
  provider: Provider,
  headers: Record<string, string | string[] | undefined>,
): string | null {
  if (provider === "anthropic" || provider === "azure") {
    // Azure OpenAI: the resource key in `api-key`.
    const key = headers[provider === "azure" ? "api-key" : "x-api-key"];
    return typeof key === "string" && key.length > 0 ? key : null;
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

/** The test-only words a well-formed key may carry. */
function specialWord(key: string): KeyVerdict {
  if (key.includes("revoked")) return "revoked";
  if (key.includes("ratelimited")) return "ratelimited";
  if (key.includes("overloaded")) return "overloaded";
  return "ok";
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
