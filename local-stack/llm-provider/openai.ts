import type { IncomingMessage, ServerResponse } from "node:http";
import type { HandlerContext } from "./calls";
import { embeddingsResponse, parseEmbeddingsRequest } from "./embeddings";
import { isRecord, randomId, readJsonBody, sendJson, sleep, SseWriter } from "./http";
import { classifyKey, maskKey, readCredential } from "./keys";
import { answerFor, countTokens, limitTokens, streamPieces } from "./text";

const ROLES = ["system", "assistant", "user", "function", "tool", "developer"] as const;
const SYSTEM_FINGERPRINT = "fp_standin";

export interface OpenAIError {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** Send an error in OpenAI's envelope `{"error":{message,type,param,code}}`. */
function sendError(
  res: ServerResponse,
  status: number,
  error: OpenAIError,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error }, { "x-request-id": randomId("req_", 16), ...headers });
}

function invalidRequest(message: string, param: string | null = null, code: string | null = null): OpenAIError {
  return { message, type: "invalid_request_error", param, code };
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** Text of a message's `content`: a string, or the `text` parts of a content array. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter(
      (part): part is { type: "text"; text: string } =>
        isRecord(part) && part.type === "text" && typeof part.text === "string",
    )
    .map((part) => part.text)
    .join("\n");
}

export interface ChatRequest {
  model: string;
  messages: Array<{ role: string; content: unknown }>;
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | undefined;
}

/** Validate a Chat Completions body the way OpenAI does; returns the request or the 400 error. */
export function parseChatRequest(body: unknown): ChatRequest | OpenAIError {
  if (!isRecord(body))
    return invalidRequest(
      `Invalid type for body: expected an object, but got ${jsonType(body)} instead.`,
      null,
      "invalid_type",
    );
  const { model, messages, stream, stream_options: streamOptions } = body;
  if (typeof model !== "string" || model.length === 0) return invalidRequest("you must provide a model parameter");
  if (messages === undefined)
    return invalidRequest("Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
  if (!Array.isArray(messages))
    return invalidRequest(
      `Invalid type for 'messages': expected an array of objects, but got ${jsonType(messages)} instead.`,
      "messages",
      "invalid_type",
    );
  if (messages.length === 0)
    return invalidRequest(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      "messages",
      "empty_array",
    );
  for (const [i, message] of messages.entries()) {
    const param = `messages[${i}]`;
    if (!isRecord(message))
      return invalidRequest(
        `Invalid type for '${param}': expected an object, but got ${jsonType(message)} instead.`,
        param,
        "invalid_type",
      );
    if (message.role === undefined)
      return invalidRequest(
        `Missing required parameter: '${param}.role'.`,
        `${param}.role`,
        "missing_required_parameter",
      );
    if (typeof message.role !== "string" || !(ROLES as readonly string[]).includes(message.role)) {
      return invalidRequest(
        `Invalid value: ${JSON.stringify(message.role)}. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
        `${param}.role`,
        "invalid_value",
      );
    }
    // Only an assistant turn (e.g. one carrying tool_calls) may omit content.
    if (message.content === undefined && message.role !== "assistant") {
      return invalidRequest(
        `Missing required parameter: '${param}.content'.`,
        `${param}.content`,
        "missing_required_parameter",
      );
    }
    if (
      message.content !== undefined &&
      message.content !== null &&
      typeof message.content !== "string" &&
      !Array.isArray(message.content)
    ) {
      return invalidRequest(
        `Invalid type for '${param}.content': expected one of a string or array of objects, but got ${jsonType(message.content)} instead.`,
        `${param}.content`,
        "invalid_type",
      );
    }
  }
  if (stream !== undefined && stream !== null && typeof stream !== "boolean") {
    return invalidRequest(
      `Invalid type for 'stream': expected a boolean, but got ${jsonType(stream)} instead.`,
      "stream",
      "invalid_type",
    );
  }
  if (streamOptions !== undefined && streamOptions !== null && stream !== true) {
    return invalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options");
  }
  // max_tokens is deprecated in favour of max_completion_tokens; both are honoured.
  let maxTokens: number | undefined;
  for (const name of ["max_completion_tokens", "max_tokens"] as const) {
    const value = body[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      return invalidRequest(
        `Invalid '${name}': integer below minimum value. Expected a value >= 1, but got ${JSON.stringify(value)} instead.`,
        name,
        "integer_below_min_value",
      );
    }
    maxTokens ??= value;
  }
  return {
    model,
    messages: messages as ChatRequest["messages"],
    stream: stream === true,
    includeUsage: isRecord(streamOptions) && streamOptions.include_usage === true,
    maxTokens,
  };
}

function usageFor(promptTokens: number, completionTokens: number): Record<string, unknown> {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** How Azure OpenAI's answers differ: content filter results beside the choices (and a first stream chunk of them). */
export interface AzureFlavour {
  azure: true;
}

const FILTERED_NOTHING = {
  hate: { filtered: false, severity: "safe" },
  self_harm: { filtered: false, severity: "safe" },
  sexual: { filtered: false, severity: "safe" },
  violence: { filtered: false, severity: "safe" },
};

/** Answers a parsed chat request (OpenAI's shape; Azure's with `flavour`), streamed or not. */
export async function chatCompletions(
  res: ServerResponse,
  request: ChatRequest,
  ctx: HandlerContext,
  dropAfter?: number,
  flavour?: AzureFlavour,
): Promise<void> {
  const system = request.messages
    .filter((m) => m.role === "system" || m.role === "developer")
    .map((m) => contentText(m.content))
    .join("\n");
  const lastUser = request.messages.filter((m) => m.role === "user").at(-1);
  const completion = limitTokens(
    answerFor({ system, lastUserMessage: lastUser ? contentText(lastUser.content) : "" }),
    request.maxTokens,
  );
  const promptTokens = request.messages.reduce((sum, m) => sum + countTokens(contentText(m.content)), 0);
  const finishReason = completion.truncated ? "length" : "stop";
  const id = randomId("chatcmpl-");
  const created = Math.floor(Date.now() / 1000);
  const headers = { "x-request-id": randomId("req_", 16), "openai-processing-ms": "1" };
  // The model's time to first token: nothing (not even the status line) comes before it.
  await sleep(ctx.firstTokenMs);

  if (!request.stream) {
    sendJson(
      res,
      200,
      {
        id,
        object: "chat.completion",
        created,
        model: request.model,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: completion.text, refusal: null, annotations: [] },
            logprobs: null,
            finish_reason: finishReason,
            ...(flavour ? { content_filter_results: FILTERED_NOTHING } : {}),
          },
        ],
        ...(flavour ? { prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTERED_NOTHING }] } : {}),
        usage: usageFor(promptTokens, completion.tokens),
        service_tier: "default",
        system_fingerprint: SYSTEM_FINGERPRINT,
      },
      headers,
    );
    return;
  }

  const sse = new SseWriter(res, headers);
  // With include_usage every chunk carries `usage: null` until the final usage-only chunk.
  const chunk = (choices: unknown[], usage?: unknown): string =>
    JSON.stringify({
      id,
      object: "chat.completion.chunk",
      created,
      model: request.model,
      service_tier: "default",
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices,
      ...(request.includeUsage ? { usage: usage ?? null } : {}),
    });
  const choice = (delta: Record<string, unknown>, finish: string | null = null): unknown => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finish,
  });

  // Azure's stream opens with the prompt's filter results: no choices, empty id and model.
  if (flavour)
    sse.send(
      JSON.stringify({
        choices: [],
        created: 0,
        id: "",
        model: "",
        object: "",
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTERED_NOTHING }],
      }),
    );
  sse.send(chunk([choice({ role: "assistant", content: "", refusal: null })]));
  let sent = 0;
  for (const piece of streamPieces(completion.text)) {
    await sleep(sent === 0 && ctx.firstTokenMs > 0 ? 0 : ctx.tokenDelayMs);
    if (sse.isClosed) return;
    if (dropAfter !== undefined && sent++ >= dropAfter) {
      res.destroy();
      return;
    }
    sse.send(chunk([choice({ content: piece })]));
  }
  await sleep(ctx.tokenDelayMs);
  sse.send(chunk([choice({}, finishReason)]));
  if (request.includeUsage) sse.send(chunk([], usageFor(promptTokens, completion.tokens)));
  sse.send("[DONE]");
  sse.end();
}

/** Handle a request under `/openai/v1`; `subpath` is what follows it (e.g. `/chat/completions`). */
export async function handleOpenAI(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  subpath: string,
  ctx: HandlerContext,
): Promise<void> {
  const route =
    req.method === "POST" && (subpath === "/chat/completions" || subpath === "/embeddings")
      ? subpath
      : req.method === "GET" && subpath === "/models"
        ? subpath
        : null;
  if (route === null) {
    sendError(res, 404, invalidRequest(`Invalid URL (${req.method ?? "GET"} /v1${subpath})`));
    return;
  }
  // A GET has no body to parse (an empty one is not invalid JSON).
  const body = route === "/models" ? ({ kind: "json", value: undefined } as const) : await readJsonBody(req);
  const key = readCredential("openai", req.headers);
  const verdict = classifyKey("openai", key);
  if (key === null || verdict === "missing") {
    sendError(
      res,
      401,
      invalidRequest(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
      ),
    );
    return;
  }
  if (verdict === "malformed" || verdict === "revoked") {
    // Like the real API, the message echoes a masked form of the key.
    sendError(
      res,
      401,
      invalidRequest(
        `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        null,
        "invalid_api_key",
      ),
    );
    return;
  }
  const parsed = body.kind === "json" ? body.value : undefined;
  if (verdict === "unresponsive") return; // never answered: the client's timeout ends it
  if (verdict === "forbidden") {
    sendError(res, 403, {
      message: "Country, region, or territory not supported",
      type: "request_forbidden",
      param: null,
      code: "unsupported_country_region_territory",
    });
    return;
  }
  if (verdict === "restricted" && route === "/models") {
    // A restricted project key without the Models permission: authenticated, yet refused this one endpoint.
    sendError(
      res,
      401,
      invalidRequest(
        "You have insufficient permissions for this operation. Missing scopes: api.model.read. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.",
      ),
    );
    return;
  }
  if (verdict === "ratelimited") {
    ctx.calls.record("openai", path, key, parsed, 429);
    sendError(
      res,
      429,
      {
        message: "Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 7s.",
        type: "requests",
        param: null,
        code: "rate_limit_exceeded",
      },
      {
        "retry-after": "7",
        "x-ratelimit-limit-requests": "3",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "7s",
      },
    );
    return;
  }
  if (verdict === "overloaded") {
    ctx.calls.record("openai", path, key, parsed, 503);
    sendError(res, 503, {
      message: "The server is overloaded or not ready yet.",
      type: "server_error",
      param: null,
      code: null,
    });
    return;
  }
  if (body.kind === "too_large") {
    ctx.calls.record("openai", path, key, parsed, 413);
    sendError(res, 413, invalidRequest("Request body too large.", null, "request_too_large"));
    return;
  }
  if (body.kind === "invalid") {
    ctx.calls.record("openai", path, key, parsed, 400);
    sendError(
      res,
      400,
      invalidRequest(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
      ),
    );
    return;
  }

  if (route === "/models") {
    // What a key check calls: authenticated, free, no tokens.
    ctx.calls.record("openai", path, key, undefined, 200);
    sendJson(res, 200, {
      object: "list",
      data: ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small"].map((id) => ({
        id,
        object: "model",
        created: 1_715_367_049,
        owned_by: "system",
      })),
    });
    return;
  }

  if (route === "/embeddings") {
    const request = parseEmbeddingsRequest(parsed);
    if ("message" in request) {
      ctx.calls.record("openai", path, key, parsed, 400);
      sendError(res, 400, invalidRequest(request.message, request.param, request.code));
      return;
    }
    ctx.calls.record("openai", path, key, parsed, 200);
    sendJson(res, 200, embeddingsResponse(request), {
      "x-request-id": randomId("req_", 16),
      "openai-processing-ms": "1",
    });
    return;
  }

  const request = parseChatRequest(parsed);
  if ("message" in request) {
    ctx.calls.record("openai", path, key, parsed, 400);
    sendError(res, 400, request);
    return;
  }
  ctx.calls.record("openai", path, key, parsed, 200);
  // Test-only word: the stream breaks after a few pieces, as a provider connection can.
  await chatCompletions(res, request, ctx, key.includes("dropsmidstream") ? 3 : undefined);
}
