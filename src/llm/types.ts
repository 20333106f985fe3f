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
  /** The model the provider says answered (its body's `model`), when it says one. */
  answeredBy?: string;
}

/** What a streamed answer yields: text pieces, then one `end` with usage (and the model that answered, if said). */
export type ChatEvent =
  | { type: "delta"; text: string }
  | { type: "end"; usage: Usage; finishReason: string | null; answeredBy?: string };

/** What a model id looks like; anything else a provider sends as `model` is not recorded. */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

/** A provider body's `model`, when it names one (Azure's first stream chunk carries ""). */
export const answeredModel = (model: unknown): string | undefined =>
  typeof model === "string" && MODEL_ID.test(model) ? model : undefined;

/**
 * What the provider said of a key when asked: it works (`valid`), it refused it (`rejected`: HTTP 401/403),
 * or there was no answer either way (`unknown`: timeout, 5xx, rate limited, or no known check).
 */
export type Verification = "valid" | "rejected" | "unknown";

/** The outcome of one key check. */
export interface KeyCheck {
  verification: Verification;
  /** The provider's HTTP status; null without one (timeout, network, no check). */
  status: number | null;
  /** Why, in words safe for the wire and the audit row: never the provider's body or the key. */
  reason: string;
}

/** A provider's chat API, bound to one tenant's key. */
export interface ChatProvider {
  readonly name: ProviderId;
  /** The deployment every chat goes to, for a provider that serves deployments (Azure OpenAI): its calls are recorded under it. */
  readonly deployment?: string;
  /**
   * Checks the key with the provider: one authenticated call that costs no tokens (e.g. listing
   * models), under the transport's timeout. Never throws for the provider's answer; a client for a
   * provider without such a call returns `unknown`. Most clients call `checkKey` (./http.ts).
   */
  verify(): Promise<KeyCheck>;
  complete(request: ChatRequest): Promise<ChatResult>;
  /**
   * Starts a streamed answer. Resolves once the provider accepted the request
   * (so refusals are still plain errors); the iterator then yields as bytes arrive.
   */
  stream(request: ChatRequest): Promise<AsyncIterable<ChatEvent>>;
}

export const emptyUsage = (): Usage => ({ promptTokens: 0, completionTokens: 0, totalTokens: 0 });
