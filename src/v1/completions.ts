import { completeChat, openChatStream, type PreparedChat, recordChat } from "../agents/chat";
import type { Source } from "../agents/prompt";
import type { AuditNote } from "../audit/audited";
import { ApiError } from "../errors/problem";
import type { EmbedDeps } from "../knowledge/embedding";
import type { ProviderId } from "../llm/catalog";
import { ProviderError, providerFailureCode, reportProviderError } from "../llm/errors";
import { recordKeyUse, requireProviderKey, type TenantKey } from "../llm/key-use";
import { deploymentOf, providerOfModel } from "../llm/models";
import type { OpenAIClient } from "../llm/openai";
import { deploymentProblem } from "../llm/azure-openai";
import { chatProvider, providerClient } from "../llm/providers";
import { answeredModel, type ChatEvent, type ChatResult, emptyUsage, type Usage } from "../llm/types";
import { agentIdOf, prepareAgentChat } from "./agents";
import { completionId, finishReasonOf, fromOpenAiChat, usageBody } from "./translate";

/**
 * The OpenAI-compatible API: the model picks the provider, the tenant's own key for it (from Vault)
 * makes the call. OpenAI models get the request as sent; others are translated (./translate.ts).
 * An `agent:<agent_id>` model is the agent's chat (./agents.ts), its answer naming its sources in
 * an extra top-level `sources` field (on the completion; on the last chunk of a stream).
 * Each call writes its `key.use` row, like chat.
 */

type Body = Record<string, unknown> & { model: string };
/** An OpenAI response body (`object`: chat.completion, list, …). */
type OpenAiJson = Record<string, unknown> & { object: string };

/**
 * A /v1 answer: OpenAI's JSON, and, when a provider's answer is relayed, its body as the provider
 * wrote it (`text`), which is what the caller receives: byte for byte, with no second serialization.
 */
export interface V1Answer {
  json: OpenAiJson;
  text?: string;
}

/** A provider failure as the /v1 caller sees it; a refusal the provider explains stays a 4xx. */
function v1ProviderError(err: unknown, deps: EmbedDeps, model: string): unknown {
  if (!(err instanceof ProviderError)) return err;
  const api = reportProviderError(err, deps.logger);
  if (err.failure.kind !== "refused") return api;
  if (err.failure.status === 404)
    return new ApiError("model_not_found", `The model ${model} does not exist or this key cannot use it.`, {
      param: "model",
      cause: err,
    });
  return new ApiError(
    "provider_refused",
    `${err.provider} refused the request (HTTP ${err.failure.status}); check its parameters for ${model}.`,
    { cause: err },
  );
}

/** Writes a call's key.use row once its outcome is known (`answeredBy`: the model the provider's answer named). */
type Recorder = (
  usage: Usage | null,
  outcome: "success" | "error",
  extra: Record<string, unknown>,
  answeredBy?: string,
) => void;

function record(
  deps: EmbedDeps,
  key: TenantKey,
  purpose: "chat" | "embedding",
  model: string,
  usage: Usage | null,
  outcome: "success" | "error",
  extra: Record<string, unknown>,
  answeredBy?: string,
) {
  recordKeyUse(deps.audit, deps.tenant, {
    key,
    purpose,
    model,
    usage,
    answeredBy,
    outcome,
    extra: { api: "v1", ...extra },
  });
}

const usageFrom = (u: unknown): Usage | null => {
  const x = u as { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null | undefined;
  if (!x || typeof x !== "object") return null;
  const prompt = x.prompt_tokens ?? 0;
  const completion = x.completion_tokens ?? 0;
  return { promptTokens: prompt, completionTokens: completion, totalTokens: x.total_tokens ?? prompt + completion };
};

/**
 * The client relaying OpenAI-format bodies for the model's provider, and the body as it takes it:
 * OpenAI's as sent (`sent`: the caller's own bytes, when known); an Azure OpenAI deployment
 * (`azure-openai/<deployment>`) through the tenant's resource, its `model` naming the deployment.
 * Null for a provider that needs translation.
 */
function relayFor(
  deps: EmbedDeps,
  key: TenantKey,
  body: Body,
  sent?: string,
): { client: OpenAIClient; body: Body; sent?: string } | null {
  const addressed = deploymentOf(body.model);
  if (addressed?.provider === "azure-openai")
    return {
      client: providerClient(deps.config, "azure-openai", key, deps.fetch),
      body: { ...body, model: addressed.deployment },
    };
  if (key.provider === "openai") return { client: providerClient(deps.config, "openai", key, deps.fetch), body, sent };
  return null;
}

/** Resolves the model's provider and the tenant's key for it (422 naming the key to add). */
async function keyFor(deps: EmbedDeps, model: string, note: AuditNote): Promise<TenantKey> {
  const addressed = deploymentOf(model);
  const bad = addressed && deploymentProblem(addressed.deployment);
  if (bad) throw new ApiError("validation_failed", `model ${model}: ${bad}.`, { param: "model" });
  const provider: ProviderId = providerOfModel(model);
  Object.assign(note.details, { provider, model });
  return await requireProviderKey(deps, provider);
}

/** A provider's (or an agent's) answer as OpenAI's chat.completion. */
function completionBody(model: string, result: ChatResult, extra: Record<string, unknown> = {}): OpenAiJson {
  return {
    ...completionId(),
    object: "chat.completion",
    model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: result.text, refusal: null },
        logprobs: null,
        finish_reason: finishReasonOf(result.finishReason) ?? "stop",
      },
    ],
    usage: usageBody(result.usage),
    ...extra,
  };
}

/** The agent's sources as they travel on /v1 (the same objects `POST /agents/:id/chat` returns). */
const sourcesOf = (chat: PreparedChat): { sources: Source[] } => ({ sources: chat.sources });

/** A non-streamed chat completion, as OpenAI's JSON (`sent`: the request body as the caller sent it). */
export async function chatCompletion(deps: EmbedDeps, body: Body, note: AuditNote, sent?: string): Promise<V1Answer> {
  const model = body.model;
  const agentId = agentIdOf(model);
  if (agentId !== null) {
    const chat = await prepareAgentChat(deps, agentId, body, note);
    return { json: completionBody(model, await completeChat(deps, chat), sourcesOf(chat)) };
  }
  // Translation problems are the caller's (400) and come before any Vault read.
  const translated = providerOfModel(model) === "anthropic" ? fromOpenAiChat(model, body, "anthropic") : null;
  const key = await keyFor(deps, model, note);
  try {
    const relay = relayFor(deps, key, body, sent);
    if (relay) {
      const { json, text } = await relay.client.relay("/chat/completions", relay.body, relay.sent);
      record(deps, key, "chat", model, usageFrom(json.usage), "success", { stream: false }, answeredModel(json.model));
      return { json: json as OpenAiJson, text };
    }
    if (!translated) throw new Error(`no relay or translation for ${key.provider}`);
    const result = await chatProvider(deps.config, key.provider, key, deps.fetch).complete(translated);
    record(deps, key, "chat", model, result.usage, "success", { stream: false }, result.answeredBy);
    return { json: completionBody(model, result) };
  } catch (err) {
    record(deps, key, "chat", model, null, "error", { stream: false, error: providerFailureCode(err) });
    throw v1ProviderError(err, deps, model);
  }
}

/** What a streamed completion sends: each chunk's JSON (`data:` lines), the usage known when it ends, and how its key.use row is written. */
export interface ChunkSource {
  chunks: AsyncIterable<string>;
  usage(): Usage | null;
  record: Recorder;
}

/**
 * Opens a streamed chat completion. Refusals (no key, bad key, rate limit, untranslatable) surface
 * here, before any byte is sent, as proper errors; the chunks then follow as the provider sends them.
 */
export async function openChatCompletionStream(deps: EmbedDeps, body: Body, note: AuditNote): Promise<ChunkSource> {
  const model = body.model;
  const includeUsage = (body.stream_options as { include_usage?: boolean } | null | undefined)?.include_usage === true;
  const agentId = agentIdOf(model);
  if (agentId !== null) {
    const chat = await prepareAgentChat(deps, agentId, body, note);
    const events = await openChatStream(deps, chat);
    const recorder: Recorder = (usage, outcome, extra, answeredBy) =>
      recordChat(deps, chat, usage, outcome, extra, answeredBy);
    return translatedChunks(model, events, includeUsage, recorder, sourcesOf(chat));
  }
  const translated = providerOfModel(model) === "anthropic" ? fromOpenAiChat(model, body, "anthropic") : null;
  const key = await keyFor(deps, model, note);
  const recorder: Recorder = (usage, outcome, extra, answeredBy) =>
    record(deps, key, "chat", model, usage, outcome, extra, answeredBy);
  try {
    const relay = relayFor(deps, key, body);
    if (relay) {
      // Usage is always asked for (the key.use row needs it) and passed on only if the caller asked.
      const events = await relay.client.relayStream({
        ...relay.body,
        stream: true,
        stream_options: { ...(body.stream_options as object), include_usage: true },
      });
      return relayedChunks(events, includeUsage, recorder);
    }
    if (!translated) throw new Error(`no relay or translation for ${key.provider}`);
    const events = await chatProvider(deps.config, key.provider, key, deps.fetch).stream(translated);
    return translatedChunks(model, events, includeUsage, recorder);
  } catch (err) {
    record(deps, key, "chat", model, null, "error", { stream: true, error: providerFailureCode(err) });
    throw v1ProviderError(err, deps, model);
  }
}

/** OpenAI's own chunks, verbatim when the caller asked for usage; otherwise without the usage OpenAI was asked for. */
function relayedChunks(
  events: AsyncIterable<{ data: string }>,
  includeUsage: boolean,
  recorder: Recorder,
): ChunkSource {
  let usage: Usage | null = null;
  let answeredBy: string | undefined;
  async function* chunks() {
    for await (const e of events) {
      if (e.data === "[DONE]") break;
      let chunk: Record<string, unknown>;
      try {
        chunk = JSON.parse(e.data);
      } catch {
        throw new ProviderError("openai", {
          kind: "unavailable",
          status: 200,
          retryAfterSeconds: null,
          reason: "malformed stream chunk",
        });
      }
      if (chunk.usage) usage = usageFrom(chunk.usage);
      answeredBy = answeredModel(chunk.model) ?? answeredBy;
      if (includeUsage) {
        yield e.data;
      } else if (!(chunk.usage && Array.isArray(chunk.choices) && chunk.choices.length === 0)) {
        delete chunk.usage;
        yield JSON.stringify(chunk);
      }
    }
  }
  return { chunks: chunks(), usage: () => usage, record: (u, o, x) => recorder(u, o, x, answeredBy) };
}

/**
 * A translated provider's (or an agent's) events as OpenAI chunks: role first, then content pieces,
 * the finish reason, usage if asked. `final` (an agent's sources) goes on the last chunk before [DONE].
 */
function translatedChunks(
  model: string,
  events: AsyncIterable<ChatEvent>,
  includeUsage: boolean,
  recorder: Recorder,
  final: Record<string, unknown> = {},
): ChunkSource {
  let usage: Usage | null = null;
  let answeredBy: string | undefined;
  const base = { ...completionId(), object: "chat.completion.chunk", model };
  const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
      ...extra,
    });
  async function* chunks() {
    yield chunk({ role: "assistant", content: "", refusal: null }, null);
    for await (const e of events) {
      if (e.type === "delta") {
        yield chunk({ content: e.text }, null);
      } else {
        usage = e.usage;
        answeredBy = e.answeredBy;
        yield chunk({}, finishReasonOf(e.finishReason) ?? "stop", includeUsage ? {} : final);
        if (includeUsage) yield JSON.stringify({ ...base, choices: [], usage: usageBody(e.usage), ...final });
      }
    }
  }
  return { chunks: chunks(), usage: () => usage, record: (u, o, x) => recorder(u, o, x, answeredBy) };
}

const encoder = new TextEncoder();
const data = (payload: string) => encoder.encode(`data: ${payload}\n\n`);

/**
 * Writes the chunks as server-sent events as they arrive, then `data: [DONE]`. A failure mid-stream
 * (the status line is gone) is sent as OpenAI does, a `data: {"error": …}` event, which the openai
 * SDK raises. Every outcome writes the key.use row, a client that leaves included.
 */
export async function pumpChatCompletion(
  deps: EmbedDeps,
  source: ChunkSource,
  writable: WritableStream<Uint8Array>,
): Promise<void> {
  const writer = writable.getWriter();
  const streamed = { chunks: 0 };
  let clientClosed = false;
  const send = async (bytes: Uint8Array) => {
    try {
      await writer.write(bytes);
    } catch (err) {
      clientClosed = true;
      throw err;
    }
  };
  try {
    for await (const payload of source.chunks) {
      await send(data(payload));
      streamed.chunks++;
    }
    await send(data("[DONE]"));
    source.record(source.usage() ?? emptyUsage(), "success", { stream: true });
    await writer.close().catch(() => {});
  } catch (err) {
    if (clientClosed) {
      source.record(source.usage(), "error", { stream: true, error: "client_closed", streamed });
      return;
    }
    source.record(source.usage(), "error", {
      stream: true,
      error: providerFailureCode(err),
      streamed,
    });
    const api = err instanceof ProviderError ? reportProviderError(err, deps.logger) : null;
    if (!api) deps.logger.error("v1.stream_failed", { reason: providerFailureCode(err) });
    const error = api
      ? { message: api.detail, type: "server_error", code: api.code, param: null }
      : { message: "The answer was interrupted.", type: "server_error", code: "internal_error", param: null };
    await writer
      .write(data(JSON.stringify({ error })))
      .then(() => writer.close())
      .catch(() => writer.abort().catch(() => {}));
  }
}

/** Embeddings: OpenAI models and Azure OpenAI deployments, the request relayed as sent (float or base64, dimensions…). */
export async function embeddings(deps: EmbedDeps, body: Body, note: AuditNote, sent?: string): Promise<V1Answer> {
  const model = body.model;
  const provider = providerOfModel(model);
  if (provider !== "openai" && provider !== "azure-openai")
    throw new ApiError(
      "unsupported_parameter",
      `model: ${model} has no embeddings; use an OpenAI embedding model or an Azure OpenAI deployment (azure-openai/<deployment>).`,
      { param: "model" },
    );
  const key = await keyFor(deps, model, note);
  try {
    const relay = relayFor(deps, key, body, sent);
    if (!relay) throw new Error(`no relay for ${key.provider}`);
    const { json, text } = await relay.client.relay("/embeddings", relay.body, relay.sent);
    record(deps, key, "embedding", model, usageFrom(json.usage), "success", {}, answeredModel(json.model));
    return { json: json as OpenAiJson, text };
  } catch (err) {
    record(deps, key, "embedding", model, null, "error", { error: providerFailureCode(err) });
    throw v1ProviderError(err, deps, model);
  }
}
