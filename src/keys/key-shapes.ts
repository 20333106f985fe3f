import { PROVIDER_CATALOG, type KeyShape } from "../llm/catalog";

/**
 * What a key looks like, per service. A wrong shape is caught before it reaches
 * Vault (a pasted org id or a truncated key is the common mistake). The
 * providers the gateway calls bring their own shapes (llm/catalog.ts); other
 * services tenants commonly store are listed here; unknown services only get
 * the generic check.
 */
const GOOGLE: KeyShape = { pattern: /^AIza[0-9A-Za-z_-]{35}$/, example: "AIza…" };
const KEY_SHAPES: Record<string, KeyShape> = {
  google: GOOGLE,
  gemini: GOOGLE,
  groq: { pattern: /^gsk_[A-Za-z0-9]{20,200}$/, example: "gsk_…" },
  mistral: { pattern: /^[A-Za-z0-9]{20,128}$/, example: "32 letters and digits" },
  cohere: { pattern: /^[A-Za-z0-9]{20,128}$/, example: "40 letters and digits" },
  ...Object.fromEntries(Object.entries(PROVIDER_CATALOG).map(([id, p]) => [id, p.keyShape])),
};

/** Any key: printable ASCII without spaces. */
const GENERIC_KEY = /^[\x21-\x7e]+$/;

/**
 * Prefixes that name their provider for certain: a key starting with one of
 * these belongs there and nowhere else (most specific first: `sk-ant-` before `sk-`).
 */
const OWNER_PREFIXES: { prefix: string; owner: string; example: string }[] = [
  { prefix: "sk-ant-", owner: "anthropic", example: "sk-ant-…" },
  { prefix: "gsk_", owner: "groq", example: "gsk_…" },
  { prefix: "AIza", owner: "google", example: "AIza…" },
  { prefix: "sk-", owner: "openai", example: "sk-…" },
];
/** Services that take the same keys. */
const SAME_KEYS: Record<string, string> = { gemini: "google" };

/** "an openai key", "a groq key". */
export function aKey(service: string): string {
  return `${/^[aeiou]/i.test(service) ? "an" : "a"} ${service} key`;
}

/**
 * What the gateway thinks of `apiKey` as a key for `service`, without asking the provider:
 * `refusal` for what is certainly a mistake (whitespace or non-printable characters, another
 * provider's key in this slot), `warning` for a shape the provider usually does not issue —
 * the provider decides (verify), not the pattern. Never echoes the key.
 */
export function checkKeyShape(service: string, apiKey: string): { refusal?: string; warning?: string } {
  if (!GENERIC_KEY.test(apiKey))
    return { refusal: "api_key must be printable ASCII without spaces (check for a pasted newline or space)" };
  // Own entries only: "constructor" is a valid service name, not a shape.
  const shape = Object.hasOwn(KEY_SHAPES, service) ? KEY_SHAPES[service] : undefined;
  if (!shape) return {};
  const slot = SAME_KEYS[service] ?? service;
  const owner = OWNER_PREFIXES.find((o) => apiKey.startsWith(o.prefix));
  if (owner && owner.owner !== slot)
    return { refusal: `api_key is ${aKey(owner.owner)} (${owner.example}), not ${aKey(service)}` };
  if (!shape.pattern.test(apiKey))
    return {
      warning: `api_key does not look like ${aKey(service)} (expected ${shape.example}); stored anyway: verify it with the provider`,
    };
  return {};
}
