import { createRoute } from "@hono/zod-openapi";
import { bearerSecurity, problemResponses, z } from "../../lib/openapi";
import { AgentParam } from "../agents/agents.schemas";
import { ChatBody, ChatResponse } from "./chat.schemas";
import { auditTarget } from "../../audit/audited";

export const chat = createRoute({
  method: "post",
  path: "/agents/{agent_id}/chat",
  middleware: [auditTarget("agent.chat", "agent", "agent_id")] as const,
  tags: ["Chat"],
  summary: "Chat with an agent",
  description:
    "Retrieves the most relevant knowledge chunks, calls the agent's provider with the tenant's own key and answers as JSON or, with stream: true, as server-sent events (sources, delta…, done).",
  security: bearerSecurity,
  request: { params: AgentParam, body: { required: true, content: { "application/json": { schema: ChatBody } } } },
  responses: {
    200: {
      description: "The answer",
      content: {
        "application/json": { schema: ChatResponse },
        "text/event-stream": {
          schema: z.string().openapi({ description: "event: sources | delta | done | error; data: JSON" }),
        },
      },
    },
    ...problemResponses(400, 401, 404, 409, 413, 422, 429, 502, 503),
  },
});
