import type { Config } from "../config";
import { AnthropicClient } from "./anthropic";
import { PROVIDER_CATALOG, type ProviderId, type ProviderInfo } from "./catalog";
import type { FetchFn, ProviderTransport } from "./http";
import { OpenAIClient } from "./openai";
import type { ChatProvider } from "./types";

/**
 * What a tenant stores for a provider, as the client receives it: the key, and
 * for a provider that needs more (an endpoint, a deployment) those fields too.
 */
export interface Credential {
  apiKey: string;
}

/** Everything the gateway needs to call one provider. */
export interface LlmProvider<C extends Credential = Credential> extends ProviderInfo {
  /** The API base, from config only, never from a request. */
  baseUrl(config: Config): string;
  /** A client bound to one tenant's credential. */
  client(transport: ProviderTransport, credential: C): ChatProvider;
}

/**
 * The provider registry: one entry per provider, its client in a file of its
 * own. Typed by `ProviderId`, so a provider added to the catalog without an
 * entry here (or an entry without a catalog row) does not compile.
 */
export const PROVIDERS = {
  openai: {
    ...PROVIDER_CATALOG.openai,
    baseUrl: (config) => config.providers.openaiBaseUrl,
    client: (transport, credential) => new OpenAIClient(transport, credential.apiKey),
  },
  anthropic: {
    ...PROVIDER_CATALOG.anthropic,
    baseUrl: (config) => config.providers.anthropicBaseUrl,
    client: (transport, credential) => new AnthropicClient(transport, credential.apiKey),
  },
} satisfies { [Id in ProviderId]: LlmProvider };

/** The transport for `provider`: base URL and timeout from config only, never from a request. */
export function transportFor(config: Config, provider: ProviderId, fetchFn: FetchFn = fetch): ProviderTransport {
  // Bound so that workerd's fetch keeps its `this`.
  return {
    fetch: (input, init) => fetchFn(input, init),
    baseUrl: PROVIDERS[provider].baseUrl(config),
    timeoutMs: config.providers.timeoutMs,
  };
}

/** A chat client for `provider` holding the tenant's credential. */
export function chatProvider(
  config: Config,
  provider: ProviderId,
  credential: Credential,
  fetchFn?: FetchFn,
): ChatProvider {
  return PROVIDERS[provider].client(transportFor(config, provider, fetchFn), credential);
}
