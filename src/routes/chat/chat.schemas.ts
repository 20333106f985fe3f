import { z } from "../../lib/openapi";
import { storableText } from "../../lib/text";

export const ChatBody = z
  .strictObject({
    messages: z
      .array(
        z.strictObject({
          role: z.enum(["user", "assistant"], "role must be user or assistant"),
          // The last message is also a knowledge search query (SQL).
          content: storableText(z.string())
            .min(1, "content must not be empty")
            .max(32_000, "content is at most 32000 characters"),
        }),
      )
      .min(1, "messages must not be empty")
      .max(100, "at most 100 messages")
      .refine((m) => m.at(-1)?.role === "user", "the last message must be from the user"),
    stream: z
      .boolean()
      .default(false)
      .openapi({ description: "true: text/event-stream with sources, delta, done (or error) events." }),
  })
  .openapi("ChatRequest");

const Source = z
  .object({
    ref: z.string(),
    document_id: z.string(),
    chunk_index: z.number().int(),
    title: z.string().nullable(),
    url: z
      .string()
      .nullable()
      .openapi({ description: "The page a connector synced this passage from; null otherwise." }),
    score: z.number(),
  })
  .openapi("ChatSource");

export const ChatResponse = z
  .object({
    agent_id: z.string(),
    provider: z.string(),
    model: z.string(),
    message: z.object({ role: z.literal("assistant"), content: z.string() }),
    sources: z
      .array(Source)
      .openapi({ description: "The chunks given to the model as context; cited as [source: ref]." }),
    usage: z.object({
      prompt_tokens: z.number().int(),
      completion_tokens: z.number().int(),
      total_tokens: z.number().int(),
    }),
    finish_reason: z.string().nullable(),
  })
  .openapi("ChatResponse");
