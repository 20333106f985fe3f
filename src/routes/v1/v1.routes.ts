import { jsonResponse, z } from "../../lib/openapi";
import { defineRoute } from "../../lib/route";
import { ChatCompletionBody, EmbeddingsBody, OpenAiObject } from "./v1.schemas";

const DESCRIPTION_ERRORS = ' Errors here are OpenAI-shaped (OpenAiError): {"error": {message, type, code, param}}.';

export const chatCompletions = defineRoute({
  method: "post",
  path: "/v1/chat/completions",
  role: "member",
  audit: { action: "v1.chat", resourceType: "model" },
  tags: ["OpenAI-compatible"],
  summary: "Chat completion (OpenAI format)",
  description: `OpenAI's Chat Completions, with the tenant's own key for the model's provider (gpt-… → OpenAI as sent, claude-… → Anthropic translated); agent:<agent_id> answers as that agent (its prompt, model, settings and knowledge) and names its sources in a top-level sources field (on the last chunk when streamed); stream: true answers with data: chunks and data: [DONE].${DESCRIPTION_ERRORS}`,
  request: { body: { required: true, content: { "application/json": { schema: ChatCompletionBody } } } },
  responses: {
    200: {
      description: "The completion",
      content: {
        "application/json": { schema: OpenAiObject },
        "text/event-stream": { schema: z.string().openapi({ description: "data: {chunk} … data: [DONE]" }) },
      },
    },
  },
  errors: [402, 404, 409, 422, 502, 503],
});

export const embeddings = defineRoute({
  method: "post",
  path: "/v1/embeddings",
  role: "member",
  audit: { action: "v1.embeddings", resourceType: "model" },
  tags: ["OpenAI-compatible"],
  summary: "Embeddings (OpenAI format)",
  description: `OpenAI's Embeddings with the tenant's own OpenAI key.${DESCRIPTION_ERRORS}`,
  request: { body: { required: true, content: { "application/json": { schema: EmbeddingsBody } } } },
  responses: { 200: jsonResponse(OpenAiObject, "The embeddings") },
  errors: [402, 404, 422, 502, 503],
});

export const models = defineRoute({
  method: "get",
  path: "/v1/models",
  role: "member",
  audit: { action: "v1.models", resourceType: "model" },
  tags: ["OpenAI-compatible"],
  summary: "Models (OpenAI format)",
  description: `The listed models of every provider the tenant stores a key for, and the tenant's active agents as agent:<agent_id>.${DESCRIPTION_ERRORS}`,
  responses: { 200: jsonResponse(OpenAiObject, "The models") },
  errors: [503],
});
