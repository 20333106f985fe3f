import type { Context } from "hono";
import { completeChat, openChatStream, prepareChat, pumpChatStream, usageBody, type ChatDeps } from "../../agents/chat";
import { audited } from "../../audit/audited";
import type { AppEnv } from "../../env";
import { KeyStore } from "../../keys/key-store";
import { createRouter } from "../../lib/openapi";
import { chat } from "./chat.routes";

type Ctx = Context<AppEnv>;

function chatDeps(c: Ctx): ChatDeps {
  const principal = c.get("principal");
  return {
    config: c.get("config"),
    db: c.get("db"),
    keys: new KeyStore(c.get("db"), c.get("vault"), principal.tenantId),
    audit: c.get("audit"),
    principal,
    logger: c.get("logger"),
  };
}

export const chatRouter = createRouter().openapi(chat, async (c) => {
  const { agent_id } = c.req.valid("param");
  const { messages, stream } = c.req.valid("json");
  return await audited(c, async (note) => {
    const deps = chatDeps(c);
    const prepared = await prepareChat(deps, agent_id, messages);
    Object.assign(note.details, {
      provider: prepared.agent.llm_provider,
      model: prepared.request.model,
      stream,
      sources: prepared.sources.length,
    });
    if (!stream) {
      const result = await completeChat(deps, prepared);
      return c.json(
        {
          agent_id,
          provider: prepared.agent.llm_provider,
          model: prepared.request.model,
          message: { role: "assistant" as const, content: result.text },
          sources: prepared.sources,
          usage: usageBody(result.usage),
          finish_reason: result.finishReason,
        },
        200,
      );
    }
    const events = await openChatStream(deps, prepared);
    // Each provider piece is written as it arrives; nothing is collected before sending.
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    c.executionCtx.waitUntil(pumpChatStream(deps, prepared, events, writable));
    return c.body(readable, 200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    });
  });
});
