/**
 * What a provider's key looks like. A wrong shape is caught before it reaches
 * Vault (a pasted org id or a truncated key is the common mistake).
 * Unknown services only get the generic check.
 */
const KEY_SHAPES: Record<string, { pattern: RegExp; example: string }> = {
  openai: { pattern: /^sk-[A-Za-z0-9_-]{20,200}$/, example: "sk-…" },
  anthropic: { pattern: /^sk-ant-[A-Za-z0-9_-]{20,200}$/, example: "sk-ant-…" },
  google: { pattern: /^AIza[0-9A-Za-z_-]{35}$/, example: "AIza…" },
  gemini: { pattern: /^AIza[0-9A-Za-z_-]{35}$/, example: "AIza…" },
  groq: { pattern: /^gsk_[A-Za-z0-9]{20,200}$/, example: "gsk_…" },
  mistral: { pattern: /^[A-Za-z0-9]{20,128}$/, example: "32 letters and digits" },
  cohere: { pattern: /^[A-Za-z0-9]{20,128}$/, example: "40 letters and digits" },
};

/** Any key: printable ASCII without spaces. */
const GENERIC_KEY = /^[\x21-\x7e]+$/;

/** Returns why `apiKey` is not a plausible key for `service`, or null when it is. Never echoes the key. */
export function keyShapeProblem(service: string, apiKey: string): string | null {
  if (!GENERIC_KEY.test(apiKey)) return "api_key must be printable ASCII without spaces";
  const shape = KEY_SHAPES[service];
  if (shape && !shape.pattern.test(apiKey))
    return `api_key does not look like a ${service} key (expected ${shape.example})`;
  return null;
}

/** The masked form shown to people: the last four characters. */
export function keyHint(apiKey: string): string {
  return `****${apiKey.slice(-4)}`;
}

export const KNOWN_KEY_SERVICES = Object.keys(KEY_SHAPES);
