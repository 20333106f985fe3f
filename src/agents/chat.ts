import { ApiError } from "../errors/problem";
import { embedTexts, type EmbedDeps } from "../knowledge/embedding";
import type { SearchScope } from "../knowledge/knowledge-store";
import { ProviderError, providerFailureCode, reportProviderError } from "../llm/errors";
import { chatProvider } from "../llm/providers";
import { recordKeyUse, requireProviderKey, type TenantKey } from "../llm/key-use";
import type { ChatEvent, ChatMessage, ChatProvider, ChatRequest, ChatResult, Usage } from "../llm/types";
import type { Agent } from "./agent-store";
import { buildSystemPrompt, CHAT_CONTEXT_CHUNKS, isContext, retrievalQuery, toSource, type Source } from "./prompt";

/** A chat turn needs what embedding its retrieval query needs: config, the tenant's stores, audit, logger. */
export type ChatDeps = EmbedDeps;

/** Everything a chat turn needs once the agent, key and context are settled. */
export interface PreparedChat {
  agent: Agent;
  key: TenantKey;
  provider: ChatProvider;
  request: ChatRequest;
  sources: Source[];
  /** Added to the turn's key.use rows, retrieval included (e.g. `api: "v1"` when the OpenAI-compatible API asked). */
  auditDetails: Record<string, unknown>;
}

/**
 * Loads the agent, reads the tenant's key for its provider (422 when absent),
 * retrieves the most relevant chunks in the agent's scope and builds the prompt.
 * Retrieval is skipped (and needs no embedding key nor the knowledge settings) when the scope holds
 * no documents. On a hot isolate the agent, the key, the budgets, the scope's size and the knowledge
 * settings come from its caches, so a turn without documents reads nothing before the provider call.
 * `auditDetails` go on every key.use row of the turn; the retrieval embedding's names the agent as chat's does.
 */
export async function prepareChat(
  deps: ChatDeps,
  agentId: string,
  messages: ChatMessage[],
  auditDetails: Record<string, unknown> = {},
): Promise<PreparedChat> {
  const { agents, knowledge, knowledgeSettings } = deps.tenant;
  const scope: SearchScope = { kind: "agent", agentId };
  // Round trips that do not depend on each other run side by side: they are most of the time to first token.
  const [agent, scopeSize] = await Promise.all([agents.useAgent(agentId), knowledge.useScopeSize(scope)]);
  if (!agent) throw new ApiError("not_found", `No agent ${agentId} in this tenant.`);
  if (!agent.is_active)
    throw new ApiError("conflict", `Agent ${agentId} is disabled; set is_active to true to chat with it.`);
  const retrieve = async () => {
    if (scopeSize === 0) return [];
    const query = retrievalQuery(messages);
    const embedding = await knowledgeSettings.useEmbedding();
    const { vectors } = await embedTexts(deps, [query], "retrieval", { ...auditDetails, agent_id: agentId }, embedding);
    return (await knowledge.search(vectors[0]!, query, scope, CHAT_CONTEXT_CHUNKS, scopeSize)).filter(isContext);
  };
  // The chat key (by the agent's provider) beside the retrieval, whose settings read and embedding need no chat key.
  const [key, hits] = await Promise.all([requireProviderKey(deps, agent.llm_provider), retrieve()]);
  return {
    agent,
    key,
    provider: chatProvider(deps.config, agent.llm_provider, key, deps.fetch),
    request: {
      model: agent.llm_model,
      system: buildSystemPrompt(agent.system_prompt, hits),
      messages,
      temperature: agent.temperature,
      maxTokens: agent.max_tokens,
    },
    sources: hits.map(toSource),
    auditDetails,
  };
}

/** Records the chat's key.use row; `answeredBy`: the model the provider's answer named (it prices an Azure deployment's). */
export function recordChat(
  deps: ChatDeps,
  chat: PreparedChat,
  usage: Usage | null,
  outcome: "success" | "error",
  extra: Record<string, unknown>,
  answeredBy?: string,
) {
  // A deployment's call is recorded under the deployment it went to; the agent's llm_model beside it.
  const { deployment } = chat.provider;
  recordKeyUse(deps.audit, deps.tenant, {
    key: chat.key,
    purpose: "chat",
    model: deployment ?? chat.request.model,
    usage,
    answeredBy,
    outcome,
    extra: {
      ...chat.auditDetails,
      agent_id: chat.agent.agent_id,
      ...(deployment === undefined ? {} : { llm_model: chat.request.model }),
      sources: chat.sources.map((s) => s.ref),
      ...extra,
    },
  });
}

/** One non-streamed answer; provider failures are translated and audited. */
export async function completeChat(deps: ChatDeps, chat: PreparedChat): Promise<ChatResult> {
  try {
    const result = await chat.provider.complete(chat.request);
    recordChat(deps, chat, result.usage, "success", { stream: false }, result.answeredBy);
    return result;
  } catch (err) {
    recordChat(deps, chat, null, "error", { stream: false, error: providerFailureCode(err) });
    if (err instanceof ProviderError) throw reportProviderError(err, deps.logger);
    throw err;
  }
}

/**
 * Opens the provider's stream. A refusal (bad key, rate limit) surfaces here,
 * before any byte is sent, so the caller still gets a proper problem response.
 */
export async function openChatStream(deps: ChatDeps, chat: PreparedChat): Promise<AsyncIterable<ChatEvent>> {
  try {
    return await chat.provider.stream(chat.request);
  } catch (err) {
    recordChat(deps, chat, null, "error", { stream: true, error: providerFailureCode(err) });
    if (err instanceof ProviderError) throw reportProviderError(err, deps.logger);
    throw err;
  }
}

const encoder = new TextEncoder();
const sse = (event: string, data: unknown) => encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

/** A chat answer's usage as the API reports it (prompt, completion, total tokens). */
export const chatUsageBody = (u: Usage) => ({
  prompt_tokens: u.promptTokens,
  completion_tokens: u.completionTokens,
  total_tokens: u.totalTokens,
});

/** The client stopped reading (closed the connection): a write to its stream failed. */
class ClientClosed extends Error {
  override readonly name = "ClientClosed";
}

/**
 * Pipes provider events to the client as server-sent events — `sources`, then
 * `delta` per piece, then `done` with usage (or `error`) — writing each piece as
 * it arrives (no buffering). Resolves when the stream is over; the caller
 * hands the promise to waitUntil. Every outcome writes the key.use row: a client
 * that goes away mid-answer still consumed the tenant's key.
 */
export async function pumpChatStream(
  deps: ChatDeps,
  chat: PreparedChat,
  events: AsyncIterable<ChatEvent>,
  writable: WritableStream<Uint8Array>,
): Promise<void> {
  const writer = writable.getWriter();
  let usage: Usage | null = null;
  let answeredBy: string | undefined;
  const streamed = { deltas: 0, characters: 0 };
  const send = async (bytes: Uint8Array) => {
    try {
      await writer.write(bytes);
    } catch {
      throw new ClientClosed();
    }
  };
  try {
    await send(sse("sources", { agent_id: chat.agent.agent_id, model: chat.request.model, sources: chat.sources }));
    for await (const e of events) {
      if (e.type === "delta") {
        await send(sse("delta", { text: e.text }));
        streamed.deltas++;
        streamed.characters += e.text.length;
      } else {
        usage = e.usage;
        answeredBy = e.answeredBy;
        await send(
          sse("done", {
            usage: chatUsageBody(e.usage),
            finish_reason: e.finishReason,
            sources: chat.sources.map((s) => s.ref),
          }),
        );
      }
    }
    recordChat(deps, chat, usage, "success", { stream: true }, answeredBy);
    await writer.close().catch(() => {});
  } catch (err) {
    if (err instanceof ClientClosed) {
      // Leaving the for-await cancelled the provider's stream (no more tokens billed). The provider reports
      // usage only at the end, so what is known is what was relayed: pieces and characters.
      recordChat(deps, chat, usage, "error", { stream: true, error: "client_closed", streamed }, answeredBy);
      deps.logger.info("chat.client_closed", { agent_id: chat.agent.agent_id, ...streamed });
      return;
    }
    // Mid-stream failure: the status line is gone, so the error travels as an event (code and safe detail only).
    recordChat(deps, chat, usage, "error", { stream: true, error: providerFailureCode(err), streamed }, answeredBy);
    const api = err instanceof ProviderError ? reportProviderError(err, deps.logger) : null;
    if (!api) deps.logger.error("chat.stream_failed", { reason: providerFailureCode(err) });
    await writer
      .write(
        sse(
          "error",
          api
            ? { code: api.code, detail: api.detail }
            : { code: "internal_error", detail: "The answer was interrupted." },
        ),
      )
      .then(() => writer.close())
      .catch(() => writer.abort().catch(() => {}));
  }
}
