import { malformedResponse, ProviderError } from "./errors";
import { checkKey, postJson, readJson, type ProviderTransport } from "./http";
import { readSse } from "./sse";
import type { ChatEvent, ChatProvider, ChatRequest, ChatResult, KeyCheck, Usage } from "./types";

/** The Messages API version this client speaks. */
const ANTHROPIC_VERSION = "2023-06-01";

interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
}

const malformed = (what: string) => malformedResponse("anthropic", what);

const usageOf = (input: number, output: number): Usage => ({
  promptTokens: input,
  completionTokens: output,
  totalTokens: input + output,
});

/** Anthropic Messages over fetch, with one tenant's key. */
export class AnthropicClient implements ChatProvider {
  readonly name = "anthropic" as const;
  constructor(
    private readonly transport: ProviderTransport,
    private readonly apiKey: string,
  ) {}

  /** `GET /v1/models`: authenticated, free of tokens. */
  async verify(): Promise<KeyCheck> {
    return await checkKey("anthropic", this.transport, "/v1/models", this.headers(), this.apiKey);
  }

  private headers() {
    return { "x-api-key": this.apiKey, "anthropic-version": ANTHROPIC_VERSION };
  }

  private post(body: unknown) {
    return postJson("anthropic", this.transport, "/v1/messages", this.headers(), body, this.apiKey);
  }

  private body(request: ChatRequest, stream: boolean) {
    return {
      model: request.model,
      // The Messages API takes no empty system prompt; none is no field.
      ...(request.system ? { system: request.system } : {}),
      messages: request.messages,
      temperature: request.temperature,
      max_tokens: request.maxTokens,
      ...(stream ? { stream: true } : {}),
    };
  }

  async complete(request: ChatRequest): Promise<ChatResult> {
    const { res, timer } = await this.post(this.body(request, false));
    const json = await readJson<{
      content?: Array<{ type: string; text?: string }>;
      usage?: AnthropicUsage;
      stop_reason?: string;
    }>("anthropic", res, timer);
    if (!Array.isArray(json.content)) throw malformed("message");
    const text = json.content
      .filter((b) => b.type === "text")
      .map((b) => b.text ?? "")
      .join("");
    return {
      text,
      usage: usageOf(json.usage?.input_tokens ?? 0, json.usage?.output_tokens ?? 0),
      finishReason: json.stop_reason ?? null,
    };
  }

  async stream(request: ChatRequest): Promise<AsyncIterable<ChatEvent>> {
    const { res, timer } = await this.post(this.body(request, true));
    if (!res.body) throw malformed("stream");
    const events = readSse("anthropic", res.body, timer);
    return (async function* () {
      let input = 0;
      let output = 0;
      let finishReason: string | null = null;
      for await (const e of events) {
        // biome-ignore lint/suspicious/noExplicitAny: provider events are read field by field with fallbacks
        let data: any;
        try {
          data = JSON.parse(e.data);
        } catch {
          throw malformed("stream event");
        }
        switch (data.type) {
          case "message_start":
            input = data.message?.usage?.input_tokens ?? 0;
            output = data.message?.usage?.output_tokens ?? 0;
            break;
          case "content_block_delta":
            if (data.delta?.type === "text_delta" && data.delta.text)
              yield { type: "delta" as const, text: String(data.delta.text) };
            break;
          case "message_delta":
            // Usage in message_delta is cumulative for the message.
            output = data.usage?.output_tokens ?? output;
            finishReason = data.delta?.stop_reason ?? finishReason;
            break;
          case "error":
            // Mid-stream overload: the stream ends in an error event instead of an HTTP status.
            throw new ProviderError("anthropic", {
              kind: "unavailable",
              status: null,
              retryAfterSeconds: null,
              reason: `stream error: ${String(data.error?.type ?? "unknown").slice(0, 40)}`,
            });
        }
        if (data.type === "message_stop") break;
      }
      yield { type: "end" as const, usage: usageOf(input, output), finishReason };
    })();
  }
}
