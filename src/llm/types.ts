import type { ProviderId } from "./catalog";

/** One conversation turn as the gateway hands it to a provider. */
export interface ChatMessage {
  role: "user" | "assistant";
  content: string;
}

export interface ChatRequest {
  model: string;
  /** Empty: no system prompt. */
  system: string;
  messages: ChatMessage[];
  /** Absent: the provider's default. */
  temperature?: number;
  maxTokens: number;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface ChatResult {
  text: string;
  usage: Usage;
  finishReason: string | null;
}

/** What a streamed answer yields: text pieces, then one `end` with usage. */
export type ChatEvent = { type: "delta"; text: string } | { type: "end"; usage: Usage; finishReason: string | null };

/** A provider's chat API, bound to one tenant's key. */
export interface ChatProvider {
  readonly name: ProviderId;
  complete(request: ChatRequest): Promise<ChatResult>;
  /**
   * Starts a streamed answer. Resolves once the provider accepted the request
   * (so refusals are still plain errors); the iterator then yields as bytes arrive.
   */
  stream(request: ChatRequest): Promise<AsyncIterable<ChatEvent>>;
}

export const emptyUsage = (): Usage => ({ promptTokens: 0, completionTokens: 0, totalTokens: 0 });
