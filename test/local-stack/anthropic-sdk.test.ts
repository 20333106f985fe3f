/**
 * The LLM provider stand-in's Anthropic side driven by the real `@anthropic-ai/sdk`, as the gateway's
 * Anthropic client is checked against it: if the official client accepts the stand-in's answers,
 * streams and errors, the stand-in speaks the Messages API as the real service does.
 */
import Anthropic, { type APIError } from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLlmProvider, type LlmProviderStandIn } from "../../local-stack/llm-provider/server";

let standIn: LlmProviderStandIn;

const client = (apiKey = "sk-ant-api03-sdkcheck-0123456789abcdef") =>
  new Anthropic({ baseURL: standIn.anthropicBaseUrl, apiKey, maxRetries: 0 });

/** The error a call ends with (or null when it succeeded). */
const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e,
  );

beforeAll(async () => {
  standIn = await startLlmProvider({ tokenDelayMs: 1 });
});
afterAll(async () => {
  await standIn.close();
});

describe("@anthropic-ai/sdk against the stand-in", () => {
  it("messages.create: a Message with text content, stop reason and usage; the request id", async () => {
    const { data: message, request_id } = await client()
      .messages.create({
        model: "claude-sonnet-4-6",
        max_tokens: 256,
        system: "Be brief.",
        messages: [
          { role: "user", content: "hello" },
          { role: "assistant", content: "hi" },
          { role: "user", content: [{ type: "text", text: "Tell me about Paris" }] },
        ],
      })
      .withResponse();
    expect(request_id).toMatch(/^req_/);
    expect(message).toMatchObject({
      id: expect.stringMatching(/^msg_/),
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-6",
      stop_reason: "end_turn",
      content: [{ type: "text", text: "Echo: Tell me about Paris" }],
    });
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBe(5);
  });

  it("a max_tokens budget stops the answer with stop_reason max_tokens", async () => {
    const message = await client().messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 2,
      messages: [{ role: "user", content: "one two three four" }],
    });
    expect(message.stop_reason).toBe("max_tokens");
    expect(message.content).toEqual([{ type: "text", text: "Echo: one" }]);
  });

  it("messages.stream: text arrives in pieces and the final message is assembled", async () => {
    const stream = client().messages.stream({
      model: "claude-sonnet-4-6",
      max_tokens: 256,
      messages: [{ role: "user", content: "Stream a few words please" }],
    });
    const pieces: string[] = [];
    stream.on("text", (text) => pieces.push(text));
    const final = await stream.finalMessage();
    expect(pieces.length).toBeGreaterThan(2);
    expect(pieces.join("")).toBe("Echo: Stream a few words please");
    expect(final).toMatchObject({
      stop_reason: "end_turn",
      content: [{ type: "text", text: "Echo: Stream a few words please" }],
    });
    expect(final.usage.output_tokens).toBe(6);
  });

  it("create({stream: true}): the raw events in Anthropic's order", async () => {
    const events = await client().messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 256,
      messages: [{ role: "user", content: "Raw events" }],
      stream: true,
    });
    const types: string[] = [];
    for await (const e of events) types.push(e.type);
    expect(types[0]).toBe("message_start");
    expect(types[1]).toBe("content_block_start");
    expect(types.filter((t) => t === "content_block_delta").length).toBeGreaterThan(1);
    expect(types.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
  });

  it("a revoked key → AuthenticationError (401, authentication_error)", async () => {
    const err = await failure(
      client("sk-ant-api03-revoked-0123456789abcdef").messages.create({
        model: "claude-sonnet-4-6",
        max_tokens: 10,
        messages: [{ role: "user", content: "Hi" }],
      }),
    );
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as APIError).status).toBe(401);
    expect((err as APIError).type).toBe("authentication_error");
  });

  it("rate limited → RateLimitError with retry-after; overloaded → OverloadedError (529)", async () => {
    const ask = (key: string) =>
      failure(
        client(key).messages.create({
          model: "claude-sonnet-4-6",
          max_tokens: 10,
          messages: [{ role: "user", content: "Hi" }],
        }),
      );
    const limited = (await ask("sk-ant-api03-ratelimited-0123456789abcdef")) as APIError;
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect(limited.type).toBe("rate_limit_error");
    expect(limited.headers?.get("retry-after")).toBe("7");
    const overloaded = (await ask("sk-ant-api03-overloaded-0123456789abcdef")) as APIError;
    expect(overloaded).toBeInstanceOf(Anthropic.InternalServerError);
    expect(overloaded.status).toBe(529);
    expect(overloaded.type).toBe("overloaded_error");
  });

  it("a request the API refuses (no max_tokens) → BadRequestError (400, invalid_request_error)", async () => {
    const err = await failure(
      client().messages.create({
        model: "claude-sonnet-4-6",
        messages: [{ role: "user", content: "Hi" }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming),
    );
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as APIError).type).toBe("invalid_request_error");
    expect((err as APIError).apiMessage).toContain("max_tokens");
  });
});
