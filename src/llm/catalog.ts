/**
 * The LLM providers the gateway calls, as people see them: id, display name and
 * what a key looks like. Plain data without imports, so that browser code (the
 * BYOK page) can import it as well as the Worker. The rest of each provider
 * (client, base URL) is its entry in `PROVIDERS` (./providers.ts), keyed by the
 * same ids: a provider here without an entry there is a type error.
 */

/** What a provider's key looks like, checked before it reaches Vault. */
export interface KeyShape {
  pattern: RegExp;
  /** Shown in the error when a key does not match; never the key itself. */
  example: string;
}

export interface ProviderInfo {
  /** How the page and people name it. */
  displayName: string;
  keyShape: KeyShape;
}

export const PROVIDER_CATALOG = {
  openai: { displayName: "OpenAI", keyShape: { pattern: /^sk-[A-Za-z0-9_-]{20,200}$/, example: "sk-…" } },
  anthropic: { displayName: "Anthropic", keyShape: { pattern: /^sk-ant-[A-Za-z0-9_-]{20,200}$/, example: "sk-ant-…" } },
} satisfies Record<string, ProviderInfo>;

/** A provider the gateway can call: the `llm_provider` of an agent and the service of its key. */
export type ProviderId = keyof typeof PROVIDER_CATALOG;

export const PROVIDER_IDS = Object.keys(PROVIDER_CATALOG) as [ProviderId, ...ProviderId[]];

const namesOf = (catalog: typeof PROVIDER_CATALOG) =>
  Object.fromEntries(Object.entries(catalog).map(([id, p]) => [id, p.displayName])) as { [Id in ProviderId]: string };

/** Display names by provider id, for the BYOK page (pure: the Worker's bundle, which does not use it, leaves it out). */
export const PROVIDER_NAMES = /* @__PURE__ */ namesOf(PROVIDER_CATALOG);
