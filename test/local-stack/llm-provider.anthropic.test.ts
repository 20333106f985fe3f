import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSse } from "../../local-stack/llm-provider/sse-reader";
import { startLlmProvider, type LlmProviderStandIn } from "../../local-stack/llm-provider/server";

const KEY = "sk-ant-api03-tenant-b-0123456789abcdef";
let standIn: LlmProviderStandIn;

beforeAll(async () => {
  standIn = await startLlmProvider({ tokenDelayMs: 1 });
});
afterAll(async () => {
  await standIn.close();
});

function messages(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${standIn.anthropicBaseUrl}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": KEY, "anthropic-version": "2023-06-01", "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

describe("Anthropic messages (non-streaming)", () => {
  it("answers in Anthropic's exact shape", async () => {
    const res = await messages({
      model: "claude-sonnet-4-5",
      max_tokens: 256,
      system: "Be brief.",
      messages: [
        { role: "user", content: "hello" },
        { role: "assistant", content: "hi" },
        { role: "user", content: [{ type: "text", text: "Tell me about Paris" }] },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("request-id")).toMatch(/^req_/);
    const body = (await res.json()) as any;
    expect(body).toEqual({
      id: expect.stringMatching(/^msg_/),
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      content: [{ type: "text", text: "Echo: Tell me about Paris" }],
      stop_reason: "end_turn",
      stop_sequence: null,
      // input: 2 (system) + 1 + 1 + 4; output: 5
      usage: { input_tokens: 8, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 5 },
    });
  });

  it("names the sources in a system prompt given as text blocks", async () => {
    const res = await messages({
      model: "claude-haiku-4-5",
      max_tokens: 100,
      system: [
        { type: "text", text: "Context:" },
        { type: "text", text: "[source: kb/returns.md] Returns within 30 days." },
      ],
      messages: [{ role: "user", content: "Can I return it?" }],
    });
    expect(((await res.json()) as any).content[0].text).toBe(
      "Echo: Can I return it?\nSources consulted: kb/returns.md.",
    );
  });

  it("stops at max_tokens with stop_reason max_tokens", async () => {
    const body = (await (
      await messages({ model: "m", max_tokens: 2, messages: [{ role: "user", content: "a b c" }] })
    ).json()) as any;
    expect(body.content[0].text).toBe("Echo: a");
    expect(body.stop_reason).toBe("max_tokens");
    expect(body.usage.output_tokens).toBe(2);
  });
});

describe("Anthropic messages (streaming)", () => {
  it("emits the documented event sequence with names matching data.type", async () => {
    const res = await messages({
      model: "claude-sonnet-4-5",
      max_tokens: 100,
      stream: true,
      system: "[source: a.txt]",
      messages: [{ role: "user", content: "count these words" }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await readSse(res);
    const data = events.map((e) => JSON.parse(e.data) as any);
    expect(events.map((e) => e.event)).toEqual(data.map((d) => d.type));

    const order = data.map((d) => d.type);
    const deltas = order.filter((t) => t === "content_block_delta").length;
    expect(deltas).toBeGreaterThan(3);
    expect(order).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      ...Array<string>(deltas).fill("content_block_delta"),
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);

    expect(data[0].message).toMatchObject({
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      content: [],
      stop_reason: null,
      usage: { input_tokens: 6 },
    });
    expect(data[1]).toEqual({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    const text = data
      .filter((d) => d.type === "content_block_delta")
      .map((d) => {
        expect(d.index).toBe(0);
        expect(d.delta.type).toBe("text_delta");
        return d.delta.text as string;
      })
      .join("");
    expect(text).toBe("Echo: count these words\nSources consulted: a.txt.");
    expect(data.at(-2)).toMatchObject({
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: 8 },
    });
  });

  it("delivers deltas over time", async () => {
    const slow = await startLlmProvider({ tokenDelayMs: 25 });
    try {
      const res = await fetch(`${slow.anthropicBaseUrl}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": KEY, "anthropic-version": "2023-06-01", "content-type": "application/json" },
        body: JSON.stringify({
          model: "m",
          max_tokens: 50,
          stream: true,
          messages: [{ role: "user", content: "a b c d e f" }],
        }),
      });
      const events = await readSse(res);
      const first = events.find((e) => e.event === "content_block_delta")!;
      const stop = events.find((e) => e.event === "message_stop")!;
      expect(stop.receivedAt - first.receivedAt).toBeGreaterThan(100);
    } finally {
      await slow.close();
    }
  });
});

describe("Anthropic request validation", () => {
  async function expectInvalid(res: Response, message: RegExp): Promise<void> {
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body).toEqual({
      type: "error",
      error: { type: "invalid_request_error", message: expect.stringMatching(message) },
      request_id: expect.stringMatching(/^req_/),
    });
  }
  const ok = { model: "m", max_tokens: 10, messages: [{ role: "user", content: "x" }] };

  it("requires the anthropic-version header", async () => {
    const res = await fetch(`${standIn.anthropicBaseUrl}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": KEY, "content-type": "application/json" },
      body: JSON.stringify(ok),
    });
    await expectInvalid(res, /^anthropic-version: header is required$/);
  });
  it("requires max_tokens", async () => {
    await expectInvalid(await messages({ model: "m", messages: ok.messages }), /^max_tokens: Field required$/);
  });
  it("requires model", async () => {
    await expectInvalid(await messages({ max_tokens: 10, messages: ok.messages }), /^model: Field required$/);
  });
  it("requires a non-empty messages list", async () => {
    await expectInvalid(await messages({ model: "m", max_tokens: 10 }), /^messages: Field required$/);
    await expectInvalid(await messages({ ...ok, messages: [] }), /^messages: at least one message/);
  });
  it("rejects a system role inside messages (system is top-level)", async () => {
    await expectInvalid(
      await messages({
        ...ok,
        messages: [
          { role: "system", content: "x" },
          { role: "user", content: "y" },
        ],
      }),
      /top-level `system` parameter/,
    );
  });
  it("answers an unknown path with not_found_error", async () => {
    const res = await fetch(`${standIn.anthropicBaseUrl}/v1/complete`, {
      method: "POST",
      headers: { "x-api-key": KEY, "anthropic-version": "2023-06-01" },
      body: "{}",
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.type).toBe("not_found_error");
  });
});
