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

/**
 * A credential field besides `api_key`, for a provider whose credential is not one string. Stored
 * with the key in Vault; unlike the key it is not secret, so reads and lists return it.
 */
export interface CredentialField {
  /** Its name in the request and response bodies. */
  name: string;
  label: string;
  /** A value of the right form, for placeholders and messages. */
  example: string;
}

export interface ProviderInfo {
  /** How the page and people name it. */
  displayName: string;
  keyShape: KeyShape;
  /** Required fields besides the key (absent: the key is the whole credential). */
  fields?: readonly CredentialField[];
}

export const PROVIDER_CATALOG = {
  openai: { displayName: "OpenAI", keyShape: { pattern: /^sk-[A-Za-z0-9_-]{20,200}$/, example: "sk-…" } },
  anthropic: { displayName: "Anthropic", keyShape: { pattern: /^sk-ant-[A-Za-z0-9_-]{20,200}$/, example: "sk-ant-…" } },
  "azure-openai": {
    displayName: "Azure OpenAI",
    // Azure issues 32 hex characters (older resources) or 84 letters and digits.
    keyShape: {
      pattern: /^(?:[0-9a-fA-F]{32}|[A-Za-z0-9]{84})$/,
      example: "32 hex characters or 84 letters and digits",
    },
    fields: [
      { name: "endpoint", label: "Endpoint", example: "https://my-resource.openai.azure.com" },
      { name: "deployment", label: "Deployment", example: "gpt-4o-mini" },
      { name: "api_version", label: "API version", example: "2024-10-21" },
    ],
  },
} satisfies Record<string, ProviderInfo>;

/** A provider the gateway can call: the `llm_provider` of an agent and the service of its key. */
export type ProviderId = keyof typeof PROVIDER_CATALOG;

export const PROVIDER_IDS = Object.keys(PROVIDER_CATALOG) as [ProviderId, ...ProviderId[]];

/** Whether a service name (a key's slot) is a provider the gateway calls. */
export const isProviderId = (service: string): service is ProviderId => Object.hasOwn(PROVIDER_CATALOG, service);

const namesOf = (catalog: typeof PROVIDER_CATALOG) =>
  Object.fromEntries(Object.entries(catalog).map(([id, p]) => [id, p.displayName])) as { [Id in ProviderId]: string };

/** Display names by provider id, for the BYOK page (pure: the Worker's bundle, which does not use it, leaves it out). */
export const PROVIDER_NAMES = /* @__PURE__ */ namesOf(PROVIDER_CATALOG);
