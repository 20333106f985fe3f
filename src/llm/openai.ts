import { malformedResponse } from "./errors";
import { postJson, readJson, type ProviderTransport } from "./http";
import { readSse, type SseEvent } from "./sse";
import { emptyUsage, type ChatEvent, type ChatProvider, type ChatRequest, type ChatResult, type Usage } from "./types";

interface OpenAIUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

const usageOf = (u: OpenAIUsage | null | undefined): Usage => ({
  promptTokens: u?.prompt_tokens ?? 0,
  completionTokens: u?.completion_tokens ?? 0,
  totalTokens: u?.total_tokens ?? (u?.prompt_tokens ?? 0) + (u?.completion_tokens ?? 0),
});

const malformed = (what: string) => malformedResponse("openai", what);

/** OpenAI Chat Completions and Embeddings over fetch, with one tenant's key. */
export class OpenAIClient implements ChatProvider {
  readonly name = "openai" as const;
  constructor(
    private readonly transport: ProviderTransport,
    private readonly apiKey: string,
  ) {}

  private post(path: string, body: unknown) {
    return postJson("openai", this.transport, path, { authorization: `Bearer ${this.apiKey}` }, body, this.apiKey);
  }

  private body(request: ChatRequest, stream: boolean) {
    return {
      model: request.model,
      messages: [{ role: "system", content: request.system }, ...request.messages],
      temperature: request.temperature,
      max_completion_tokens: request.maxTokens,
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
  }

  async complete(request: ChatRequest): Promise<ChatResult> {
    const { res, timer } = await this.post("/chat/completions", this.body(request, false));
    const json = await readJson<{
      choices?: Array<{ message?: { content?: string | null }; finish_reason?: string }>;
      usage?: OpenAIUsage;
    }>("openai", res, timer);
    const choice = json.choices?.[0];
    if (!choice) throw malformed("completion");
    return {
      text: choice.message?.content ?? "",
      usage: usageOf(json.usage),
      finishReason: choice.finish_reason ?? null,
    };
  }

  async stream(request: ChatRequest): Promise<AsyncIterable<ChatEvent>> {
    const { res, timer } = await this.post("/chat/completions", this.body(request, true));
    if (!res.body) throw malformed("stream");
    const events = readSse("openai", res.body, timer);
    return (async function* () {
      let usage = emptyUsage();
      let finishReason: string | null = null;
      for await (const e of events) {
        if (e.data === "[DONE]") break;
        let chunk: {
          choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>;
          usage?: OpenAIUsage | null;
        };
        try {
          chunk = JSON.parse(e.data);
        } catch {
          throw malformed("stream chunk");
        }
        const choice = chunk.choices?.[0];
        if (choice?.delta?.content) yield { type: "delta" as const, text: choice.delta.content };
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        if (chunk.usage) usage = usageOf(chunk.usage);
      }
      yield { type: "end" as const, usage, finishReason };
    })();
  }

  /**
   * Relays an OpenAI-format body as is (the `/v1` routes): the parsed JSON answer of
   * `/chat/completions` or `/embeddings`, untouched. Refusals are ProviderErrors as for every call.
   */
  async relay(
    path: "/chat/completions" | "/embeddings",
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const { res, timer } = await this.post(path, body);
    const json = await readJson<unknown>("openai", res, timer);
    if (typeof json !== "object" || json === null || Array.isArray(json)) throw malformed(path.slice(1));
    return json as Record<string, unknown>;
  }

  /** Like `relay` for a streamed `/chat/completions` (`stream: true` in the body): its server-sent events as they arrive. */
  async relayStream(body: Record<string, unknown>): Promise<AsyncIterable<SseEvent>> {
    const { res, timer } = await this.post("/chat/completions", body);
    if (!res.body) throw malformed("stream");
    return readSse("openai", res.body, timer);
  }

  /** Embeds `inputs` (≤ 2048 per call) with `model`; vectors come back in input order. */
  async embed(model: string, inputs: string[]): Promise<{ vectors: number[][]; usage: Usage }> {
    const { res, timer } = await this.post("/embeddings", { model, input: inputs, encoding_format: "float" });
    const json = await readJson<{ data?: Array<{ index: number; embedding: number[] }>; usage?: OpenAIUsage }>(
      "openai",
      res,
      timer,
    );
    const data = json.data;
    if (!Array.isArray(data) || data.length !== inputs.length) throw malformed("embeddings");
    const vectors: number[][] = new Array(inputs.length);
    for (const d of data) {
      if (!Array.isArray(d.embedding) || typeof d.index !== "number" || d.index < 0 || d.index >= inputs.length)
        throw malformed("embeddings");
      vectors[d.index] = d.embedding;
    }
    if (vectors.some((v) => v === undefined)) throw malformed("embeddings");
    return { vectors, usage: usageOf(json.usage) };
  }
}
