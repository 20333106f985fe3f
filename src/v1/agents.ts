import type { AuditNote } from "../audit/audited";
import { type PreparedChat, prepareChat } from "../agents/chat";
import { ApiError } from "../errors/problem";
import type { EmbedDeps } from "../knowledge/embedding";
import type { ChatMessage } from "../llm/types";
import { AGENT_SLUG } from "../routes/agents/agents.schemas";
import { ChatBody } from "../routes/chat/chat.schemas";
import { textOf, unsupported } from "./translate";

/**
 * Agents as models: `model: "agent:<agent_id>"` answers with the agent's system prompt, provider,
 * model, temperature, max_tokens and knowledge, through the same path as `POST /agents/:id/chat`
 * (src/agents/chat.ts: prepareChat, completeChat, openChatStream). The caller sends the
 * conversation; what the agent decides is the agent's, so a field that would override it is a 400.
 */

export const AGENT_MODEL_PREFIX = "agent:";

/** The agent id a model names (`agent:<id>`), or null for a provider model. */
export const agentIdOf = (model: string): string | null =>
  model.startsWith(AGENT_MODEL_PREFIX) ? model.slice(AGENT_MODEL_PREFIX.length) : null;

/** The model id an agent is listed and called as. */
export const agentModelId = (agentId: string) => `${AGENT_MODEL_PREFIX}${agentId}`;

/** Request fields an agent call accepts; the rest (temperature, max_tokens, tools, …) are the agent's to decide. */
const AGENT_FIELDS = new Set(["model", "messages", "stream", "stream_options", "n", "user"]);

/** The caller's conversation as the agent chat takes it: user and assistant turns, text only, the last from the user. */
function agentMessages(model: string, body: Record<string, unknown>): ChatMessage[] {
  for (const [field, value] of Object.entries(body)) {
    if (value !== null && value !== undefined && !AGENT_FIELDS.has(field))
      throw unsupported(
        model,
        field,
        `${field} (the agent's settings apply; an admin changes them with PATCH /agents/{agent_id})`,
      );
  }
  if (body.n != null && body.n !== 1) throw unsupported(model, "n", "more than one choice");
  const messages = (body.messages as Array<Record<string, unknown>>).map((m, i) => {
    const param = `messages.${i}`;
    if (m.role === "system" || m.role === "developer")
      throw unsupported(model, `${param}.role`, `a ${m.role} message (the agent's system prompt applies)`);
    if (m.role !== "user" && m.role !== "assistant")
      throw unsupported(model, `${param}.role`, `role ${String(m.role).slice(0, 20)}`);
    if (m.tool_calls != null || m.function_call != null) throw unsupported(model, `${param}.tool_calls`, "tool calls");
    return { role: m.role, content: textOf(model, m.content, `${param}.content`) };
  });
  // The agent chat's own limits (content length, turns, last turn from the user): one rule for both routes.
  const checked = ChatBody.shape.messages.safeParse(messages);
  if (!checked.success) {
    const errors = checked.error.issues
      .slice(0, 20)
      .map((i) => ({ path: ["messages", ...i.path].join("."), message: i.message }));
    throw new ApiError("validation_failed", errors.map((e) => `${e.path}: ${e.message}`).join("; "), { errors });
  }
  return checked.data;
}

/**
 * Loads the agent named by `model`, its key and its knowledge (prepareChat). An agent the tenant
 * does not have is OpenAI's 404 `model_not_found`; its key.use rows say `api: "v1"`.
 */
export async function prepareAgentChat(
  deps: EmbedDeps,
  agentId: string,
  body: Record<string, unknown> & { model: string },
  note: AuditNote,
): Promise<PreparedChat> {
  const notFound = (cause?: unknown) =>
    new ApiError("model_not_found", `The model ${body.model} does not exist: this tenant has no agent ${agentId}.`, {
      param: "model",
      cause,
    });
  if (!AGENT_SLUG.test(agentId)) throw notFound();
  const messages = agentMessages(body.model, body);
  let chat: PreparedChat;
  try {
    chat = await prepareChat(deps, agentId, messages, { api: "v1" });
  } catch (err) {
    if (err instanceof ApiError && err.code === "not_found") throw notFound(err);
    throw err;
  }
  Object.assign(note.details, {
    agent_id: agentId,
    provider: chat.agent.llm_provider,
    model: chat.request.model,
    sources: chat.sources.length,
  });
  return chat;
}
