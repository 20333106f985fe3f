import { z } from "../../lib/openapi";

/**
 * OpenAI's request bodies, checked only as far as the gateway relies on them: other fields
 * (tools, response_format, …) pass to OpenAI as sent, or are refused by the translation.
 */
const Model = z.string().min(1, "model must not be empty").max(256, "model is at most 256 characters");

export const ChatCompletionBody = z
  .looseObject({
    model: Model,
    messages: z
      .array(z.looseObject({ role: z.string("role must be a string") }), "messages must be an array")
      .min(1, "messages must not be empty")
      .max(2048, "at most 2048 messages"),
    stream: z.boolean().nullish(),
    stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  })
  .openapi("ChatCompletionRequest", { description: "OpenAI's Chat Completions request." });

export const EmbeddingsBody = z
  .looseObject({
    model: Model,
    input: z.union([z.string(), z.array(z.string()), z.array(z.number()), z.array(z.array(z.number()))]),
  })
  .openapi("EmbeddingsRequest", { description: "OpenAI's Embeddings request." });

export const OpenAiObject = z.looseObject({ object: z.string() }).openapi("OpenAiObject", {
  description: "OpenAI's response object (chat.completion, list of embeddings or models).",
});
