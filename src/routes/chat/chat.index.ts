import { completeChat, openChatStream, prepareChat, pumpChatStream, chatUsageBody } from "../../agents/chat";
import { audited } from "../../audit/audited";
import { embedDepsOf } from "../../knowledge/embedding";
import { eventStream } from "../../lib/event-stream";
import { createRouter } from "../../lib/openapi";
import { chat } from "./chat.routes";

export const chatRouter = createRouter().openapi(chat, async (c) => {
  const { agent_id } = c.req.valid("param");
  const { messages, stream } = c.req.valid("json");
  return await audited(c, async (note) => {
    const deps = embedDepsOf(c);
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
          usage: chatUsageBody(result.usage),
          finish_reason: result.finishReason,
        },
        200,
      );
    }
    const events = await openChatStream(deps, prepared);
    return eventStream(c, (writable) => pumpChatStream(deps, prepared, events, writable));
  });
});
