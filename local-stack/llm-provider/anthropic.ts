import type { IncomingMessage, ServerResponse } from "node:http";
import type { HandlerContext } from "./calls";
import { isRecord, randomId, readJsonBody, sendJson, sleep, SseWriter } from "./http";
import { classifyKey, readCredential } from "./keys";
import { answerFor, countTokens, limitTokens, streamPieces } from "./text";

type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "overloaded_error";

/** Send an error in Anthropic's envelope `{"type":"error","error":{type,message},"request_id"}`. */
function sendError(
  res: ServerResponse,
  status: number,
  type: AnthropicErrorType,
  message: string,
  headers: Record<string, string> = {},
): void {
  const requestId = randomId("req_", 12);
  sendJson(
    res,
    status,
    { type: "error", error: { type, message }, request_id: requestId },
    { "request-id": requestId, ...headers },
  );
}

/** Text of a `content` or `system` value: a string, or the `text` blocks of a block array. */
function blockText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter(
      (block): block is { type: "text"; text: string } =>
        isRecord(block) && block.type === "text" && typeof block.text === "string",
    )
    .map((block) => block.text)
    .join("\n");
}

interface MessagesRequest {
  model: string;
  maxTokens: number;
  system: string;
  messages: Array<{ role: "user" | "assistant"; content: unknown }>;
  stream: boolean;
}

/** Validate a Messages body the way Anthropic does; returns the request or the 400 message. */
function parseMessagesRequest(body: unknown): MessagesRequest | { error: string } {
  if (!isRecord(body)) return { error: "Input should be a valid dictionary" };
  const { model, max_tokens: maxTokens, messages, system, stream } = body;
  if (model === undefined) return { error: "model: Field required" };
  if (typeof model !== "string" || model.length === 0) return { error: "model: Input should be a valid string" };
  if (maxTokens === undefined) return { error: "max_tokens: Field required" };
  if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens))
    return { error: "max_tokens: Input should be a valid integer" };
  if (maxTokens < 1) return { error: "max_tokens: Input should be greater than or equal to 1" };
  if (messages === undefined) return { error: "messages: Field required" };
  if (!Array.isArray(messages)) return { error: "messages: Input should be a valid list" };
  if (messages.length === 0) return { error: "messages: at least one message is required" };
  for (const [i, message] of messages.entries()) {
    if (!isRecord(message)) return { error: `messages.${i}: Input should be a valid dictionary` };
    if (message.role === "system") {
      return {
        error: `messages.${i}.role: Unexpected role "system". The Messages API accepts a top-level \`system\` parameter, not "system" as an input message role.`,
      };
    }
    if (message.role !== "user" && message.role !== "assistant")
      return { error: `messages.${i}.role: Input should be 'user' or 'assistant'` };
    if (message.content === undefined) return { error: `messages.${i}.content: Field required` };
    if (typeof message.content !== "string" && !Array.isArray(message.content))
      return { error: `messages.${i}.content: Input should be a valid list` };
  }
  if (system !== undefined && typeof system !== "string" && !Array.isArray(system))
    return { error: "system: Input should be a valid list" };
  if (stream !== undefined && typeof stream !== "boolean") return { error: "stream: Input should be a valid boolean" };
  return {
    model,
    maxTokens,
    system: blockText(system),
    messages: messages as MessagesRequest["messages"],
    stream: stream === true,
  };
}

async function createMessage(res: ServerResponse, request: MessagesRequest, ctx: HandlerContext): Promise<void> {
  const lastUser = request.messages.filter((m) => m.role === "user").at(-1);
  const completion = limitTokens(
    answerFor({ system: request.system, lastUserMessage: lastUser ? blockText(lastUser.content) : "" }),
    request.maxTokens,
  );
  const inputTokens =
    countTokens(request.system) + request.messages.reduce((sum, m) => sum + countTokens(blockText(m.content)), 0);
  const stopReason = completion.truncated ? "max_tokens" : "end_turn";
  const id = randomId("msg_");
  const headers = { "request-id": randomId("req_", 12) };
  const cacheUsage = { cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  // The model's time to first token: nothing (not even the status line) comes before it.
  await sleep(ctx.firstTokenMs);

  if (!request.stream) {
    sendJson(
      res,
      200,
      {
        id,
        type: "message",
        role: "assistant",
        model: request.model,
        content: [{ type: "text", text: completion.text }],
        stop_reason: stopReason,
        stop_sequence: null,
        usage: { input_tokens: inputTokens, ...cacheUsage, output_tokens: completion.tokens },
      },
      headers,
    );
    return;
  }

  const sse = new SseWriter(res, headers);
  // Anthropic names every event and repeats the name as `type` in the data.
  const emit = (event: Record<string, unknown> & { type: string }): void => sse.send(JSON.stringify(event), event.type);

  emit({
    type: "message_start",
    message: {
      id,
      type: "message",
      role: "assistant",
      model: request.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, ...cacheUsage, output_tokens: 1 },
    },
  });
  emit({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
  emit({ type: "ping" });
  let first = true;
  for (const piece of streamPieces(completion.text)) {
    await sleep(first && ctx.firstTokenMs > 0 ? 0 : ctx.tokenDelayMs);
    first = false;
    if (sse.isClosed) return;
    emit({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: piece } });
  }
  await sleep(ctx.tokenDelayMs);
  emit({ type: "content_block_stop", index: 0 });
  // Usage in message_delta is cumulative for the whole message.
  emit({
    type: "message_delta",
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { input_tokens: inputTokens, ...cacheUsage, output_tokens: completion.tokens },
  });
  emit({ type: "message_stop" });
  sse.end();
}

/** Handle a request under `/anthropic`; `subpath` is what follows it (e.g. `/v1/messages`). */
export async function handleAnthropic(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  subpath: string,
  ctx: HandlerContext,
): Promise<void> {
  const models = req.method === "GET" && subpath === "/v1/models";
  if (!models && (req.method !== "POST" || subpath !== "/v1/messages")) {
    sendError(res, 404, "not_found_error", "Not Found");
    return;
  }
  const body = models ? ({ kind: "json", value: undefined } as const) : await readJsonBody(req);
  const key = readCredential("anthropic", req.headers);
  const verdict = classifyKey("anthropic", key);
  if (key === null || verdict === "missing") {
    sendError(res, 401, "authentication_error", "x-api-key header is required");
    return;
  }
  if (verdict === "malformed" || verdict === "revoked") {
    sendError(res, 401, "authentication_error", "invalid x-api-key");
    return;
  }
  if (verdict === "unresponsive") return; // never answered: the client's timeout ends it
  if (verdict === "forbidden") {
    sendError(res, 403, "permission_error", "Your API key does not have permission to use the specified resource.");
    return;
  }
  const parsed = body.kind === "json" ? body.value : undefined;
  const refuse = (
    status: number,
    type: AnthropicErrorType,
    message: string,
    headers: Record<string, string> = {},
  ): void => {
    ctx.calls.record("anthropic", path, key, parsed, status);
    sendError(res, status, type, message, headers);
  };
  if (verdict === "ratelimited") {
    refuse(
      429,
      "rate_limit_error",
      "This request would exceed the rate limit for your organization of 50 requests per minute. Please try again in 7 seconds.",
      {
        "retry-after": "7",
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "0",
      },
    );
    return;
  }
  if (verdict === "overloaded") {
    refuse(529, "overloaded_error", "Overloaded");
    return;
  }
  const version = req.headers["anthropic-version"];
  if (typeof version !== "string" || version.length === 0) {
    refuse(400, "invalid_request_error", "anthropic-version: header is required");
    return;
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(version)) {
    refuse(400, "invalid_request_error", `anthropic-version: invalid version "${version}"`);
    return;
  }
  if (models) {
    // What a key check calls: authenticated, free, no tokens.
    ctx.calls.record("anthropic", path, key, undefined, 200);
    sendJson(res, 200, {
      data: ["claude-sonnet-4-5", "claude-3-haiku-20240307"].map((id) => ({
        type: "model",
        id,
        display_name: id,
        created_at: "2025-09-29T00:00:00Z",
      })),
      has_more: false,
      first_id: "claude-sonnet-4-5",
      last_id: "claude-3-haiku-20240307",
    });
    return;
  }
  if (body.kind === "too_large") {
    refuse(413, "request_too_large", "Request exceeds the maximum allowed number of bytes.");
    return;
  }
  if (body.kind === "invalid") {
    refuse(
      400,
      "invalid_request_error",
      "There was an issue with the format of your request: the body is not valid JSON.",
    );
    return;
  }
  const request = parseMessagesRequest(parsed);
  if ("error" in request) {
    refuse(400, "invalid_request_error", request.error);
    return;
  }
  ctx.calls.record("anthropic", path, key, parsed, 200);
  await createMessage(res, request, ctx);
}
