import type { Config } from "../config";
import { AnthropicClient } from "./anthropic";
import type { FetchFn, ProviderTransport } from "./http";
import type { LlmProviderName } from "./models";
import { OpenAIClient } from "./openai";
import type { ChatProvider } from "./types";

/** The transport for `provider`: base URL and timeout from config only, never from a request. */
export function transportFor(config: Config, provider: LlmProviderName, fetchFn: FetchFn = fetch): ProviderTransport {
  const baseUrl = provider === "openai" ? config.providers.openaiBaseUrl : config.providers.anthropicBaseUrl;
  // Bound so that workerd's fetch keeps its `this`.
  return { fetch: (input, init) => fetchFn(input, init), baseUrl, timeoutMs: config.providers.timeoutMs };
}

/** A chat client for `provider` holding the tenant's key. */
export function chatProvider(
  config: Config,
  provider: LlmProviderName,
  apiKey: string,
  fetchFn?: FetchFn,
): ChatProvider {
  const transport = transportFor(config, provider, fetchFn);
  return provider === "openai" ? new OpenAIClient(transport, apiKey) : new AnthropicClient(transport, apiKey);
}

export { OpenAIClient } from "./openai";
export { ProviderError, reportProviderError, toApiError } from "./errors";
export type { ChatEvent, ChatMessage, ChatProvider, ChatRequest, ChatResult, Usage } from "./types";
