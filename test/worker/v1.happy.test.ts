import { describe, expect, it } from "vitest";
import { anthropicKey, openaiKey, storeKey } from "./support/knowledge";
import { auditRows, llmCalls, sha256Hex } from "./support/stack";
import { callStream } from "./support/stream";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

/** The `data:` payloads of an OpenAI-style stream, in order (`[DONE]` kept as the string). */
const dataLines = (text: string) =>
  text
    .split("\n\n")
    .filter((block) => block.startsWith("data: "))
    .map((block) => block.slice(6))
    .map((d) => (d === "[DONE]" ? d : JSON.parse(d)));

const keyUses = async (tenant: string) => (await auditRows(tenant)).filter((r) => r.action === "key.use");

describe("POST /v1/chat/completions with an OpenAI model", () => {
  it("relays OpenAI's completion as sent, with the tenant's key, and writes key.use with usage", async () => {
    const tenant = newTenant();
    const apiKey = openaiKey("vonechat");
    await storeKey(tenant, "openai", apiKey);
    const r = await call("POST", "/v1/chat/completions", {
      as: { tenant, roles: ["member"] },
      body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      object: "chat.completion",
      model: expect.stringContaining("gpt-4o-mini"),
      choices: [{ index: 0, message: { role: "assistant", content: expect.stringContaining("Echo: Hi") } }],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) },
    });
    const fp = await sha256Hex(apiKey);
    expect((await llmCalls()).filter((c) => c.keyFingerprint === fp).map((c) => c.model)).toEqual(["gpt-4o-mini"]);
    const [use] = await keyUses(tenant);
    expect(use).toMatchObject({
      resource_id: "openai",
      outcome: "success",
      details: { api: "v1", purpose: "chat", model: "gpt-4o-mini", usage: { total: r.json.usage.total_tokens } },
    });
    expect(JSON.stringify(await auditRows(tenant))).not.toContain(apiKey);
  });

  it("streams data: chunks then data: [DONE]; with include_usage the last chunk carries usage and no choices", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("vonestrm"));
    const s = await callStream(
      "/v1/chat/completions",
      {
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "Tell me a story" }],
        stream: true,
        stream_options: { include_usage: true },
      },
      { tenant, roles: ["member"] },
    );
    expect(s.status).toBe(200);
    expect(s.res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const lines = dataLines(s.text);
    expect(lines.at(-1)).toBe("[DONE]");
    const chunks = lines.slice(0, -1);
    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    const usageChunk = chunks.at(-1);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage.total_tokens).toBeGreaterThan(0);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    expect(text).toContain("Echo: Tell me a story");
    const [use] = await keyUses(tenant);
    expect(use.details).toMatchObject({ stream: true, usage: { total: usageChunk.usage.total_tokens } });
  });

  it("without include_usage sends no usage at all, yet still audits the usage OpenAI reported", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("vonenous"));
    const s = await callStream(
      "/v1/chat/completions",
      { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi there" }], stream: true },
      { tenant, roles: ["member"] },
    );
    const chunks = dataLines(s.text).slice(0, -1);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.some((c) => "usage" in c)).toBe(false);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    const [use] = await keyUses(tenant);
    expect(use.details.usage.total).toBeGreaterThan(0);
  });
});

describe("POST /v1/chat/completions with an Anthropic model (translated)", () => {
  it("answers in OpenAI's format from the Messages API (system and text parts translated)", async () => {
    const tenant = newTenant();
    const apiKey = anthropicKey("vonecla");
    await storeKey(tenant, "anthropic", apiKey);
    const r = await call("POST", "/v1/chat/completions", {
      as: { tenant, roles: ["member"] },
      body: {
        model: "claude-sonnet-4-5",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: [{ type: "text", text: "Hello" }] },
        ],
        max_tokens: 100,
        temperature: 0.5,
      },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      id: expect.stringMatching(/^chatcmpl-/),
      object: "chat.completion",
      created: expect.any(Number),
      model: "claude-sonnet-4-5",
      choices: [
        { index: 0, message: { role: "assistant", content: expect.stringContaining("Hello") }, finish_reason: "stop" },
      ],
      usage: {
        prompt_tokens: expect.any(Number),
        completion_tokens: expect.any(Number),
        total_tokens: expect.any(Number),
      },
    });
    const fp = await sha256Hex(apiKey);
    expect((await llmCalls()).filter((c) => c.keyFingerprint === fp)).toMatchObject([
      { provider: "anthropic", model: "claude-sonnet-4-5" },
    ]);
    const [use] = await keyUses(tenant);
    expect(use).toMatchObject({ resource_id: "anthropic", details: { api: "v1", model: "claude-sonnet-4-5" } });
  });

  it("streams OpenAI chunks: the role first, content pieces, a finish reason, usage if asked, [DONE]", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "anthropic", anthropicKey("vonecls"));
    const s = await callStream(
      "/v1/chat/completions",
      {
        model: "claude-sonnet-4-5",
        messages: [{ role: "user", content: "Stream this please" }],
        stream: true,
        stream_options: { include_usage: true },
      },
      { tenant, roles: ["member"] },
    );
    expect(s.status).toBe(200);
    const lines = dataLines(s.text);
    expect(lines.at(-1)).toBe("[DONE]");
    const chunks = lines.slice(0, -1);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0].choices[0].delta).toMatchObject({ role: "assistant" });
    const pieces = chunks.slice(1, -2).map((c) => c.choices[0].delta.content);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join("")).toContain("Stream this please");
    expect(chunks.at(-2).choices[0].finish_reason).toBe("stop");
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: expect.any(Number) } });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });
});

describe("POST /v1/embeddings and GET /v1/models", () => {
  it("relays embeddings (float and base64) with the tenant's OpenAI key, audited", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("voneemb"));
    const r = await call("POST", "/v1/embeddings", {
      as: { tenant, roles: ["member"] },
      body: { model: "text-embedding-3-small", input: ["one", "two"] },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      object: "list",
      data: [{ index: 0 }, { index: 1 }],
      usage: { prompt_tokens: expect.any(Number) },
    });
    expect(r.json.data[0].embedding).toHaveLength(1536);
    const b = await call("POST", "/v1/embeddings", {
      as: { tenant, roles: ["member"] },
      body: { model: "text-embedding-3-small", input: "one", encoding_format: "base64", dimensions: 8 },
    });
    expect(b.status).toBe(200);
    expect(typeof b.json.data[0].embedding).toBe("string");
    const uses = await keyUses(tenant);
    expect(uses).toMatchObject([
      { details: { api: "v1", purpose: "embedding", model: "text-embedding-3-small" } },
      { details: { api: "v1", purpose: "embedding" } },
    ]);
  });

  it("lists the models of the providers the tenant holds keys for", async () => {
    const tenant = newTenant();
    const none = await call("GET", "/v1/models", { as: { tenant, roles: ["member"] } });
    expect(none.json).toEqual({ object: "list", data: [] });
    await storeKey(tenant, "anthropic", anthropicKey("vonemod"));
    const r = await call("GET", "/v1/models", { as: { tenant, roles: ["member"] } });
    expect(r.status).toBe(200);
    expect(r.json.object).toBe("list");
    expect(r.json.data.length).toBeGreaterThan(0);
    for (const m of r.json.data) {
      expect(m).toEqual({
        id: expect.stringMatching(/^claude-/),
        object: "model",
        created: expect.any(Number),
        owned_by: "anthropic",
      });
    }
  });
});
