import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readSse } from "../../local-stack/llm-provider/sse-reader";
import { startLlmProvider, type LlmProviderStandIn } from "../../local-stack/llm-provider/server";

const KEY = "sk-test-tenant-a-0123456789abcdef";
let standIn: LlmProviderStandIn;

beforeAll(async () => {
  standIn = await startLlmProvider({ tokenDelayMs: 1 });
});
afterAll(async () => {
  await standIn.close();
});
beforeEach(() => standIn.clearCalls());

function chat(body: unknown, key = KEY): Promise<Response> {
  return fetch(`${standIn.openaiBaseUrl}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

interface Chunk {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: Array<{ index: number; delta: { role?: string; content?: string }; finish_reason: string | null }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

describe("OpenAI chat completions (non-streaming)", () => {
  it("answers in OpenAI's exact shape, echoing the last user message and counting words as tokens", async () => {
    const res = await chat({
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: "first question" },
        { role: "assistant", content: "first answer" },
        { role: "user", content: "What is the capital of France?" },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    const body = (await res.json()) as Record<string, any>;
    expect(body).toMatchObject({
      object: "chat.completion",
      model: "gpt-4o-mini",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Echo: What is the capital of France?", refusal: null },
          logprobs: null,
          finish_reason: "stop",
        },
      ],
    });
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(Number.isInteger(body.created)).toBe(true);
    // prompt: 3 + 2 + 2 + 6 words; completion: "Echo" + 6 words
    expect(body.usage).toMatchObject({ prompt_tokens: 13, completion_tokens: 7, total_tokens: 20 });
  });

  it("names the retrieved sources found in the system prompt", async () => {
    const res = await chat({
      model: "gpt-4o-mini",
      messages: [
        {
          role: "system",
          content:
            "Answer from context.\n[source: handbook.pdf] Vacation is 25 days.\n[source:faq.md] Ask HR.\n[source: handbook.pdf] again",
        },
        { role: "user", content: [{ type: "text", text: "How many vacation days?" }] },
      ],
    });
    const body = (await res.json()) as any;
    expect(body.choices[0].message.content).toBe(
      "Echo: How many vacation days?\nSources consulted: handbook.pdf, faq.md.",
    );
  });

  it("mentions no sources when the system prompt has no [source: line", async () => {
    const res = await chat({
      model: "m",
      messages: [
        { role: "developer", content: "see [source: inline] mid-line" },
        { role: "user", content: "hi" },
      ],
    });
    expect(((await res.json()) as any).choices[0].message.content).toBe("Echo: hi");
  });

  it("stops at max_completion_tokens with finish_reason length", async () => {
    const res = await chat({
      model: "m",
      max_completion_tokens: 3,
      messages: [{ role: "user", content: "one two three four five" }],
    });
    const body = (await res.json()) as any;
    expect(body.choices[0].message.content).toBe("Echo: one two");
    expect(body.choices[0].finish_reason).toBe("length");
    expect(body.usage.completion_tokens).toBe(3);
  });

  it("is deterministic", async () => {
    const request = { model: "m", messages: [{ role: "user", content: "same input" }] };
    const a = (await (await chat(request)).json()) as any;
    const b = (await (await chat(request)).json()) as any;
    expect(a.choices).toEqual(b.choices);
    expect(a.usage).toEqual(b.usage);
  });
});

describe("OpenAI chat completions (streaming)", () => {
  it("streams chat.completion.chunk events, a usage-only chunk, then [DONE]", async () => {
    const res = await chat({
      model: "gpt-4o",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "stream me five words please" }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await readSse(res);
    expect(events.every((e) => e.event === null)).toBe(true);
    expect(events.at(-1)?.data).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as Chunk);

    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.model === "gpt-4o")).toBe(true);
    expect(chunks[0]?.choices[0]?.delta).toMatchObject({ role: "assistant", content: "" });

    const usageChunk = chunks.at(-1)!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual(
      expect.objectContaining({ prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 }),
    );
    const finishChunk = chunks.at(-2)!;
    expect(finishChunk.choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
    // With include_usage, every other chunk carries usage: null.
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);

    const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content);
    expect(contentChunks.length).toBeGreaterThan(3);
    expect(contentChunks.map((c) => c.choices[0]?.delta.content).join("")).toBe("Echo: stream me five words please");
  });

  it("omits usage entirely without stream_options.include_usage", async () => {
    const events = await readSse(
      await chat({ model: "m", stream: true, messages: [{ role: "user", content: "hi there" }] }),
    );
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as Chunk);
    expect(chunks.every((c) => !("usage" in c))).toBe(true);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
  });

  it("delivers chunks over time, so a client sees tokens before the end", async () => {
    const slow = await startLlmProvider({ tokenDelayMs: 25 });
    try {
      const res = await fetch(`${slow.openaiBaseUrl}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "a b c d e f" }] }),
      });
      const events = await readSse(res);
      const firstContent = events.find((e) => e.data.includes('"content":"Echo:"'))!;
      const done = events.at(-1)!;
      // 7 content pieces + finish, each 25 ms apart: the first token must arrive well before [DONE].
      expect(done.receivedAt - firstContent.receivedAt).toBeGreaterThan(100);
    } finally {
      await slow.close();
    }
  });
});

describe("OpenAI streaming when the client goes away", () => {
  it("stops the stream without breaking the server", async () => {
    const slow = await startLlmProvider({ tokenDelayMs: 20 });
    try {
      const controller = new AbortController();
      const res = await fetch(`${slow.openaiBaseUrl}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "m",
          stream: true,
          messages: [{ role: "user", content: "a long answer ".repeat(20) }],
        }),
        signal: controller.signal,
      });
      const reader = res.body!.getReader();
      expect((await reader.read()).done).toBe(false);
      controller.abort();
      await expect(reader.read()).rejects.toThrow();
      const after = await fetch(`${slow.openaiBaseUrl}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "still there?" }] }),
      });
      expect(((await after.json()) as any).choices[0].message.content).toBe("Echo: still there?");
    } finally {
      await slow.close();
    }
  });
});

describe("OpenAI request validation", () => {
  async function expectInvalid(
    res: Response,
    status: number,
    param: string | null,
    code: string | null,
    message?: RegExp,
  ): Promise<void> {
    expect(res.status).toBe(status);
    const body = (await res.json()) as any;
    expect(Object.keys(body)).toEqual(["error"]);
    expect(body.error).toEqual({ message: expect.any(String), type: "invalid_request_error", param, code });
    if (message) expect(body.error.message).toMatch(message);
  }

  it("requires model", async () => {
    await expectInvalid(await chat({ messages: [{ role: "user", content: "x" }] }), 400, null, null, /model parameter/);
  });
  it("requires messages", async () => {
    await expectInvalid(await chat({ model: "m" }), 400, "messages", "missing_required_parameter");
  });
  it("rejects an empty messages array", async () => {
    await expectInvalid(await chat({ model: "m", messages: [] }), 400, "messages", "empty_array");
  });
  it("rejects an unknown role", async () => {
    await expectInvalid(
      await chat({ model: "m", messages: [{ role: "robot", content: "x" }] }),
      400,
      "messages[0].role",
      "invalid_value",
    );
  });
  it("rejects a user message without content", async () => {
    await expectInvalid(
      await chat({ model: "m", messages: [{ role: "user" }] }),
      400,
      "messages[0].content",
      "missing_required_parameter",
    );
  });
  it("rejects stream_options without stream", async () => {
    await expectInvalid(
      await chat({ model: "m", stream_options: { include_usage: true }, messages: [{ role: "user", content: "x" }] }),
      400,
      "stream_options",
      null,
    );
  });
  it("rejects a non-integer max_tokens", async () => {
    await expectInvalid(
      await chat({ model: "m", max_tokens: 0, messages: [{ role: "user", content: "x" }] }),
      400,
      "max_tokens",
      "integer_below_min_value",
    );
  });
  it("rejects a body that is not JSON", async () => {
    const res = await fetch(`${standIn.openaiBaseUrl}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}` },
      body: "{not json",
    });
    await expectInvalid(res, 400, null, null, /could not parse the JSON body/);
  });
  it("answers an unknown path with 404 Invalid URL", async () => {
    const res = await fetch(`${standIn.openaiBaseUrl}/completions/nope`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}` },
      body: "{}",
    });
    await expectInvalid(res, 404, null, null, /^Invalid URL \(POST \/v1\/completions\/nope\)$/);
  });
  it("answers GET on a POST endpoint with 404 Invalid URL", async () => {
    await expectInvalid(await fetch(`${standIn.openaiBaseUrl}/chat/completions`), 404, null, null, /Invalid URL \(GET/);
  });
});

describe("a stream that breaks", () => {
  it("a key containing `dropsmidstream` gets a few pieces, then the connection is cut (no finish, no [DONE])", async () => {
    const res = await chat(
      {
        model: "gpt-4o-mini",
        stream: true,
        messages: [{ role: "user", content: "one two three four five six seven" }],
      },
      "sk-test-dropsmidstream-0123456789",
    );
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          text += decoder.decode(value, { stream: true });
        }
      })(),
    ).rejects.toThrow();
    expect(text).toContain('"content":"Echo:"');
    expect(text).not.toContain("[DONE]");
    expect(text).not.toContain('"finish_reason":"stop"');
  });
});
