import { ApiError } from "../errors/problem";
import { maxOutputTokens, maxTemperature } from "../llm/models";
import type { ChatMessage, ChatRequest, Usage } from "../llm/types";

/**
 * OpenAI Chat Completions ⇄ the gateway's provider-neutral chat (what the Anthropic client speaks).
 * Only what means the same on both sides is translated; anything else is a 400 naming the field,
 * never silently dropped.
 */

/** Fields of an OpenAI chat request that have a meaning for a translated provider. */
const TRANSLATABLE = new Set([
  "model",
  "messages",
  "stream",
  "stream_options",
  "temperature",
  "max_tokens",
  "max_completion_tokens",
  "n",
  // An end-user id for the provider's abuse tracking: nothing to translate, nothing lost.
  "user",
]);

/** Output tokens asked for when the request names none (the Messages API requires a number). */
const DEFAULT_MAX_TOKENS = 4096;

/** A 400 naming the field a model cannot take. */
export const unsupported = (model: string, param: string, what: string) =>
  new ApiError("unsupported_parameter", `${param}: ${what} is not supported with ${model}.`, { param });

/** The text of an OpenAI message content: a string, or text parts only. */
export function textOf(model: string, content: unknown, param: string): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part, i) => {
        const p = part as { type?: unknown; text?: unknown } | null;
        if (p?.type !== "text" || typeof p.text !== "string")
          throw unsupported(model, `${param}.${i}`, "a content part other than text");
        return p.text;
      })
      .join("");
  }
  throw unsupported(model, param, "this content");
}

/** An OpenAI chat request as a `ChatRequest` for a translated provider, or a 400 naming what cannot be. */
export function fromOpenAiChat(model: string, body: Record<string, unknown>, provider: "anthropic"): ChatRequest {
  for (const [field, value] of Object.entries(body)) {
    if (value !== null && value !== undefined && !TRANSLATABLE.has(field)) throw unsupported(model, field, field);
  }
  if (body.n != null && body.n !== 1) throw unsupported(model, "n", "more than one choice");
  const system: string[] = [];
  const messages: ChatMessage[] = [];
  (body.messages as Array<Record<string, unknown>>).forEach((m, i) => {
    const param = `messages.${i}`;
    if (m.tool_calls != null || m.function_call != null) throw unsupported(model, `${param}.tool_calls`, "tool calls");
    if (m.role === "system" || m.role === "developer") system.push(textOf(model, m.content, `${param}.content`));
    else if (m.role === "user" || m.role === "assistant")
      messages.push({ role: m.role, content: textOf(model, m.content, `${param}.content`) });
    else throw unsupported(model, `${param}.role`, `role ${String(m.role).slice(0, 20)}`);
  });
  const temperature = body.temperature ?? undefined;
  if (
    temperature !== undefined &&
    (typeof temperature !== "number" || temperature < 0 || temperature > maxTemperature(provider))
  )
    throw unsupported(model, "temperature", `a temperature outside 0–${maxTemperature(provider)}`);
  const ceiling = maxOutputTokens(provider, model);
  const asked = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  if (asked !== undefined && (!Number.isInteger(asked) || (asked as number) < 1 || (asked as number) > ceiling))
    throw unsupported(
      model,
      body.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens",
      `a limit outside 1–${ceiling}`,
    );
  return {
    model,
    system: system.join("\n\n"),
    messages,
    ...(temperature !== undefined ? { temperature: temperature as number } : {}),
    maxTokens: (asked as number | undefined) ?? Math.min(DEFAULT_MAX_TOKENS, ceiling),
  };
}

/** OpenAI's own finish reasons (an agent on an OpenAI model answers with these). */
const OPENAI_FINISH_REASONS = new Set(["stop", "length", "tool_calls", "content_filter", "function_call"]);

/** A provider's stop reason as OpenAI's finish reason: OpenAI's pass as they are, Anthropic's are translated. */
export function finishReasonOf(reason: string | null): string | null {
  if (reason === null || OPENAI_FINISH_REASONS.has(reason)) return reason;
  switch (reason) {
    case "max_tokens":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return "stop";
  }
}

export const usageBody = (u: Usage) => ({
  prompt_tokens: u.promptTokens,
  completion_tokens: u.completionTokens,
  total_tokens: u.totalTokens,
});

/** One completion's identity: the same id and `created` on every chunk of a stream, as OpenAI does. */
export function completionId() {
  return { id: `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`, created: Math.floor(Date.now() / 1000) };
}
