import { describe, expect, it } from "vitest";
import { anthropicKey, openaiKey, storeKey } from "./support/knowledge";
import { auditRows, llmCalls, sha256Hex } from "./support/stack";
import { openStream, readThenLeave } from "./support/stream";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const member = (tenant: string) => ({ tenant, roles: ["member"] });

/** OpenAI's error body: exactly error.{message, type, code, param}, as JSON (not problem+json). */
function expectOpenAiError(
  r: { status: number; res: Response; json: any },
  status: number,
  code: string,
  type: string,
) {
  expect(r.status).toBe(status);
  expect(r.res.headers.get("content-type")).toBe("application/json");
  expect(Object.keys(r.json)).toEqual(["error"]);
  expect(Object.keys(r.json.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(r.json.error).toMatchObject({ code, type, message: expect.any(String) });
}

describe("/v1 errors are OpenAI-shaped", () => {
  it("no key stored → 422 provider_key_missing naming the key to add, audited", async () => {
    const tenant = newTenant();
    const r = await call("POST", "/v1/chat/completions", {
      as: member(tenant),
      body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] },
    });
    expectOpenAiError(r, 422, "provider_key_missing", "invalid_request_error");
    expect(r.json.error.message).toContain("POST /vault/keys/openai");
    expect(r.json.error.param).toBeNull();
    expect(await auditRows(tenant)).toMatchObject([
      { action: "v1.chat", outcome: "error", details: { error: "provider_key_missing", model: "gpt-4o-mini" } },
    ]);
  });

  it("invalid input → 400 with param naming the field", async () => {
    const r = await call("POST", "/v1/chat/completions", { as: member(newTenant()), body: { model: "gpt-4o-mini" } });
    expectOpenAiError(r, 400, "validation_failed", "invalid_request_error");
    expect(r.json.error.param).toBe("messages");
  });

  it("what cannot be translated for an Anthropic model → 400 unsupported_parameter, before any provider call", async () => {
    const tenant = newTenant();
    const apiKey = anthropicKey("vonetool");
    await storeKey(tenant, "anthropic", apiKey);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ tools: [{ type: "function", function: { name: "f" } }] }, "tools"],
      [
        { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }] },
        "messages.0.content.0",
      ],
      [{ messages: [{ role: "tool", content: "42", tool_call_id: "c1" }] }, "messages.0.role"],
      [{ temperature: 1.5 }, "temperature"],
      [{ n: 2 }, "n"],
    ];
    for (const [extra, param] of cases) {
      const r = await call("POST", "/v1/chat/completions", {
        as: member(tenant),
        body: { model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hi" }], ...extra },
      });
      expectOpenAiError(r, 400, "unsupported_parameter", "invalid_request_error");
      expect(r.json.error.param).toBe(param);
    }
    const fp = await sha256Hex(apiKey);
    expect((await llmCalls()).filter((c) => c.keyFingerprint === fp)).toEqual([]);
  });

  it("a key the provider rejects → 422 provider_key_rejected; the key is in no body or row", async () => {
    const tenant = newTenant();
    const apiKey = openaiKey("revoked");
    await storeKey(tenant, "openai", apiKey);
    const r = await call("POST", "/v1/chat/completions", {
      as: member(tenant),
      body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }], stream: true },
    });
    expectOpenAiError(r, 422, "provider_key_rejected", "invalid_request_error");
    expect(r.text).not.toContain(apiKey);
    const rows = await auditRows(tenant);
    expect(rows.filter((row) => row.action === "key.use")).toMatchObject([
      { outcome: "error", details: { api: "v1", stream: true, error: "provider_key_rejected" } },
    ]);
    expect(JSON.stringify(rows)).not.toContain(apiKey);
  });

  it("a provider outage → 503 server_error with Retry-After", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("overloaded"));
    const r = await call("POST", "/v1/embeddings", {
      as: member(tenant),
      body: { model: "text-embedding-3-small", input: "x" },
    });
    expectOpenAiError(r, 503, "provider_unavailable", "server_error");
    expect(Number(r.res.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("embeddings with a model that has none → 400 naming model", async () => {
    const r = await call("POST", "/v1/embeddings", {
      as: member(newTenant()),
      body: { model: "claude-sonnet-4-5", input: "x" },
    });
    expectOpenAiError(r, 400, "unsupported_parameter", "invalid_request_error");
    expect(r.json.error.param).toBe("model");
  });

  it("401 and unknown /v1 routes are OpenAI-shaped; the rest of the API keeps problem+json", async () => {
    const noToken = await call("POST", "/v1/chat/completions", { token: null, body: {} });
    expectOpenAiError(noToken, 401, "unauthenticated", "authentication_error");
    const unknown = await call("GET", "/v1/nothing-here", { as: member(newTenant()) });
    expectOpenAiError(unknown, 404, "not_found", "invalid_request_error");
    const elsewhere = await call("GET", "/agents/none-such", { as: member(newTenant()) });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.res.headers.get("content-type")).toBe("application/problem+json");
    expect(elsewhere.json.code).toBe("not_found");
  });

  it("a client that stops reading a stream: key.use is still audited as client_closed, with the chunks sent", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("abandonedV1"));
    const { res, settled } = await openStream(
      "/v1/chat/completions",
      {
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "Tell me a long story about routers" }],
        stream: true,
      },
      member(tenant),
    );
    expect(res.status).toBe(200);
    await readThenLeave(res, /"content":"[^"]/);
    await settled();
    const uses = (await auditRows(tenant)).filter((row) => row.action === "key.use");
    expect(uses).toHaveLength(1);
    expect(uses[0]).toMatchObject({
      outcome: "error",
      details: { purpose: "chat", model: "gpt-4o-mini", stream: true, error: "client_closed" },
    });
    expect(uses[0].details.streamed.chunks).toBeGreaterThanOrEqual(1);
  });
});
