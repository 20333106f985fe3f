import type { Config } from "../config";
import { AnthropicClient } from "./anthropic";
import { AzureOpenAIClient, azureCredential, azureSettings, type AzureCredential } from "./azure-openai";
import { PROVIDER_CATALOG, type ProviderId, type ProviderInfo } from "./catalog";
import type { FetchFn, ProviderTransport } from "./http";
import { OpenAIClient } from "./openai";
import type { ChatProvider } from "./types";

/** The credential a client receives: the key, and for a provider that needs more, those fields too (typed per provider). */
export interface Credential {
  apiKey: string;
}

/** What Vault holds for a provider: the key and its readable settings (none for a provider whose key is all it needs). */
export interface StoredCredential extends Credential {
  settings: Readonly<Record<string, string>>;
}

/** Everything the gateway needs to call one provider. */
export interface LlmProvider<C extends Credential = Credential, P extends ChatProvider = ChatProvider>
  extends ProviderInfo {
  /**
   * The client's credential from what Vault holds. A provider with fields besides the key checks
   * them here, on every use (an ApiError when they cannot be used).
   */
  credential(stored: StoredCredential, config: Config): C;
  /** The API base: from config, or for a tenant's own resource from its checked credential; never from a request. */
  baseUrl(config: Config, credential: C): string;
  /** A client bound to one tenant's credential. */
  client(transport: ProviderTransport, credential: C): P;
  /**
   * For a provider with fields besides the key (the catalog's `fields`): checks what a tenant gives
   * on store and returns it normalised, or throws a 400 naming the field.
   */
  settings?(fields: Record<string, unknown>, config: Config): Record<string, string>;
}

const keyOnly = (stored: StoredCredential): Credential => ({ apiKey: stored.apiKey });

/**
 * The provider registry: one entry per provider, its client in a file of its
 * own. Typed by `ProviderId`, so a provider added to the catalog without an
 * entry here (or an entry without a catalog row) does not compile.
 */
export const PROVIDERS = {
  openai: {
    ...PROVIDER_CATALOG.openai,
    credential: keyOnly,
    baseUrl: (config) => config.providers.openaiBaseUrl,
    client: (transport, credential) => new OpenAIClient(transport, credential.apiKey),
  } satisfies LlmProvider<Credential, OpenAIClient>,
  anthropic: {
    ...PROVIDER_CATALOG.anthropic,
    credential: keyOnly,
    baseUrl: (config) => config.providers.anthropicBaseUrl,
    client: (transport, credential) => new AnthropicClient(transport, credential.apiKey),
  } satisfies LlmProvider<Credential, AnthropicClient>,
  "azure-openai": {
    ...PROVIDER_CATALOG["azure-openai"],
    credential: (stored, config) => azureCredential(stored, config.providers.endpoints),
    baseUrl: (_config, credential) => credential.endpoint,
    client: (transport, credential) => new AzureOpenAIClient(transport, credential),
    settings: (fields, config) => azureSettings(fields, config.providers.endpoints),
  } satisfies LlmProvider<AzureCredential, AzureOpenAIClient>,
} satisfies { [Id in ProviderId]: LlmProvider };

/** The client type of `Id`'s entry (OpenAIClient for openai, …). */
export type ClientOf<Id extends ProviderId> = ReturnType<(typeof PROVIDERS)[Id]["client"]>;

/**
 * A client for `provider` bound to the tenant's stored credential: the credential checked, the
 * transport's base URL and timeout from config (or the checked credential), never from a request.
 */
export function providerClient<Id extends ProviderId>(
  config: Config,
  provider: Id,
  stored: StoredCredential,
  fetchFn: FetchFn = fetch,
): ClientOf<Id> {
  // Every entry satisfies LlmProvider for its own credential; seen through one id, the pieces fit together.
  const entry = PROVIDERS[provider] as unknown as LlmProvider<Credential, ClientOf<Id>>;
  const credential = entry.credential(stored, config);
  const transport: ProviderTransport = {
    // Bound so that workerd's fetch keeps its `this`.
    fetch: (input, init) => fetchFn(input, init),
    baseUrl: entry.baseUrl(config, credential),
    timeoutMs: config.providers.timeoutMs,
  };
  return entry.client(transport, credential);
}

/** A chat client for `provider` holding the tenant's credential. */
export function chatProvider(
  config: Config,
  provider: ProviderId,
  stored: StoredCredential,
  fetchFn?: FetchFn,
): ChatProvider {
  return providerClient(config, provider, stored, fetchFn);
}
