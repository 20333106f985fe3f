import type { ProviderId } from "./catalog";
import { malformedResponse, ProviderError } from "./errors";
import { checkKey, JsonText, postJson, readJson, readJsonText, type ProviderTransport } from "./http";
import { readSse, type SseEvent } from "./sse";
import {
  answeredModel,
  emptyUsage,
  type ChatEvent,
  type ChatProvider,
  type ChatRequest,
  type ChatResult,
  type KeyCheck,
  type Usage,
} from "./types";

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

/** The operations of the OpenAI wire the gateway calls. */
export type OpenAIOperation = "/chat/completions" | "/embeddings";

/**
 * OpenAI Chat Completions and Embeddings over fetch, with one tenant's key. The wire handling
 * (bodies, streams, usage, errors) serves every API with OpenAI's bodies: a subclass changes only
 * where an operation is sent and how the key travels (Azure OpenAI: ./azure-openai.ts).
 */
export class OpenAIClient implements ChatProvider {
  readonly name: ProviderId = "openai";
  constructor(
    protected readonly transport: ProviderTransport,
    protected readonly apiKey: string,
  ) {}

  /** The path (after the base URL) of `operation` for `target`: OpenAI names the model in the body only. */
  protected path(operation: OpenAIOperation, _target: string): string {
    return operation;
  }

  /** Where the key check lists models: authenticated, free of tokens. */
  protected modelsPath(): string {
    return "/models";
  }

  /** The model list with the tenant's key (see `checkKey`). */
  async verify(): Promise<KeyCheck> {
    return await checkKey(this.name, this.transport, this.modelsPath(), this.authHeaders(), this.apiKey, (err) => {
      const explained = this.explain(err, "");
      return explained instanceof ProviderError ? explained : err;
    });
  }

  /** How the key travels. */
  protected authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.apiKey}` };
  }

  /** What a chat request is sent to: OpenAI's model. */
  protected chatTarget(request: ChatRequest): string {
    return request.model;
  }

  /** A refusal as this provider's client explains it (a subclass may name the setting at fault). */
  protected explain(err: unknown, _target: string): unknown {
    return err;
  }

  private async post(operation: OpenAIOperation, target: string, body: unknown) {
    try {
      return await postJson(
        this.name,
        this.transport,
        this.path(operation, target),
        this.authHeaders(),
        body,
        this.apiKey,
      );
    } catch (err) {
      throw this.explain(err, target);
    }
  }

  private malformed(what: string) {
    return malformedResponse(this.name, what);
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
    const { res, timer } = await this.post("/chat/completions", this.chatTarget(request), this.body(request, false));
    const json = await readJson<{
      model?: unknown;
      choices?: Array<{ message?: { content?: string | null }; finish_reason?: string }>;
      usage?: OpenAIUsage;
    }>(this.name, res, timer);
    const choice = json.choices?.[0];
    if (!choice) throw this.malformed("completion");
    return {
      text: choice.message?.content ?? "",
      usage: usageOf(json.usage),
      finishReason: choice.finish_reason ?? null,
      answeredBy: answeredModel(json.model),
    };
  }

  async stream(request: ChatRequest): Promise<AsyncIterable<ChatEvent>> {
    const { res, timer } = await this.post("/chat/completions", this.chatTarget(request), this.body(request, true));
    if (!res.body) throw this.malformed("stream");
    const events = readSse(this.name, res.body, timer);
    const malformed = (what: string) => this.malformed(what);
    return (async function* () {
      let usage = emptyUsage();
      let finishReason: string | null = null;
      let answeredBy: string | undefined;
      for await (const e of events) {
        if (e.data === "[DONE]") break;
        let chunk: {
          model?: unknown;
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
        answeredBy = answeredModel(chunk.model) ?? answeredBy;
      }
      yield { type: "end" as const, usage, finishReason, answeredBy };
    })();
  }

  /**
   * Relays an OpenAI-format body as is (the `/v1` routes): the answer of `/chat/completions` or
   * `/embeddings`, parsed (for its usage) and as the provider wrote it (`text`, relayed verbatim).
   * Its `model` is what the call is sent to (on Azure, the deployment); `sent` is the caller's own
   * serialization of `body`, sent instead when the body goes unchanged. Refusals are ProviderErrors
   * as for every call.
   */
  async relay(
    path: OpenAIOperation,
    body: Record<string, unknown> & { model: string },
    sent?: string,
  ): Promise<{ json: Record<string, unknown>; text: string }> {
    const { res, timer } = await this.post(path, body.model, sent === undefined ? body : new JsonText(sent));
    const answer = await readJsonText<unknown>(this.name, res, timer);
    const json = answer.json;
    if (typeof json !== "object" || json === null || Array.isArray(json)) throw this.malformed(path.slice(1));
    return { json: json as Record<string, unknown>, text: answer.text };
  }

  /** Like `relay` for a streamed `/chat/completions` (`stream: true` in the body): its server-sent events as they arrive. */
  async relayStream(body: Record<string, unknown> & { model: string }): Promise<AsyncIterable<SseEvent>> {
    const { res, timer } = await this.post("/chat/completions", body.model, body);
    if (!res.body) throw this.malformed("stream");
    return readSse(this.name, res.body, timer);
  }

  /** Embeds `inputs` (≤ 2048 per call) with `model` (on Azure, the deployment); vectors come back in input order. */
  async embed(
    model: string,
    inputs: string[],
  ): Promise<{
    vectors: number[][];
    usage: Usage /** The model the answer names (an Azure deployment's is priced by it). */;
    model?: string;
  }> {
    const { res, timer } = await this.post("/embeddings", model, { model, input: inputs, encoding_format: "float" });
    const json = await readJson<{
      data?: Array<{ index: number; embedding: number[] }>;
      usage?: OpenAIUsage;
      model?: unknown;
    }>(this.name, res, timer);
    const data = json.data;
    if (!Array.isArray(data) || data.length !== inputs.length) throw this.malformed("embeddings");
    const vectors: number[][] = new Array(inputs.length);
    for (const d of data) {
      if (!Array.isArray(d.embedding) || typeof d.index !== "number" || d.index < 0 || d.index >= inputs.length)
        throw this.malformed("embeddings");
      vectors[d.index] = d.embedding;
    }
    if (vectors.some((v) => v === undefined)) throw this.malformed("embeddings");
    const answered = answeredModel(json.model);
    return { vectors, usage: usageOf(json.usage), ...(answered ? { model: answered } : {}) };
  }
}
