import { z } from "../../lib/openapi";
import { defineRoute } from "../../lib/route";
import { AgentParam } from "../agents/agents.schemas";
import { ChatBody, ChatResponse } from "./chat.schemas";

export const chat = defineRoute({
  method: "post",
  path: "/agents/{agent_id}/chat",
  role: "member",
  audit: { action: "agent.chat", resourceType: "agent", param: "agent_id" },
  tags: ["Chat"],
  summary: "Chat with an agent",
  description:
    "Retrieves the most relevant knowledge chunks, calls the agent's provider with the tenant's own key and answers as JSON or, with stream: true, as server-sent events (sources, delta…, done).",
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
  },
  errors: [402, 404, 409, 422, 502, 503],
});
