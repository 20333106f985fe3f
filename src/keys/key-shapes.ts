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

/** Returns why `apiKey` is not a plausible key for `service`, or null when it is. Never echoes the key. */
export function keyShapeProblem(service: string, apiKey: string): string | null {
  if (!GENERIC_KEY.test(apiKey)) return "api_key must be printable ASCII without spaces";
  // Own entries only: "constructor" is a valid service name, not a shape.
  const shape = Object.hasOwn(KEY_SHAPES, service) ? KEY_SHAPES[service] : undefined;
  if (shape && !shape.pattern.test(apiKey))
    return `api_key does not look like a ${service} key (expected ${shape.example})`;
  return null;
}
