import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getConfig } from "../../src/config";
import { PROVIDER_CATALOG, PROVIDER_IDS, PROVIDER_NAMES } from "../../src/llm/catalog";
import { type LlmProvider, PROVIDERS, providerClient } from "../../src/llm/providers";
import { createAgent, storeKey, TEST_PROVIDERS } from "./support/knowledge";
import { auditRows, llmCalls, sha256Hex } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

// Every registered provider, end to end: a provider added to the registry is
// exercised here without a new test (its stand-in must speak its API).
describe.each(PROVIDER_IDS)("provider %s, from the registry", (id) => {
  it("answers a chat through its own client and base URL, with the tenant's key, audited", async () => {
    const tenant = newTenant();
    const { key, model, recorded = model } = TEST_PROVIDERS[id];
    const apiKey = key("registry");
    await storeKey(tenant, id, apiKey);
    await createAgent(tenant, { agent_id: "bot", llm_provider: id, llm_model: model });

    const r = await call("POST", "/agents/bot/chat", {
      as: { tenant },
      body: { messages: [{ role: "user", content: "Hi" }] },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ provider: id, model, message: { content: expect.stringContaining("Echo: Hi") } });
    const fp = await sha256Hex(apiKey);
    expect((await llmCalls()).filter((c) => c.keyFingerprint === fp).map((c) => c.model)).toEqual([model]);
    const uses = (await auditRows(tenant)).filter((row) => row.action === "key.use");
    expect(uses).toMatchObject([{ resource_id: id, outcome: "success", details: { model: recorded } }]);
  });

  it("stores a key of an unusual shape with a warning naming the expected shape (the provider decides)", async () => {
    const r = await call("POST", `/vault/keys/${id}`, {
      as: { tenant: newTenant() },
      body: { service: id, api_key: "not-a-provider-key-0123456789", ...TEST_PROVIDERS[id].fields?.() },
    });
    expect(r.status).toBe(201);
    expect(r.json.warnings).toEqual([
      `api_key does not look like ${/^[aeiou]/.test(id) ? "an" : "a"} ${id} key (expected ${PROVIDER_CATALOG[id].keyShape.example}); stored anyway: verify it with the provider`,
    ]);
  });

  it("has a client that names itself, a display name, and a base URL from config or the checked credential", () => {
    const config = getConfig(env);
    const stored = { apiKey: "unused", settings: TEST_PROVIDERS[id].fields?.() ?? {} };
    expect(providerClient(config, id, stored).name).toBe(id);
    expect(PROVIDER_NAMES[id]).toBe(PROVIDER_CATALOG[id].displayName);
    // The test stack points every provider at the local stand-in, never at the real API.
    const entry: LlmProvider = PROVIDERS[id];
    expect(new URL(entry.baseUrl(config, entry.credential(stored, config))).hostname).toBe("127.0.0.1");
  });
});

describe("key shapes", () => {
  it("an unknown service gets the generic check only, whatever its name (constructor is not a shape)", async () => {
    const r = await call("POST", "/vault/keys/constructor", {
      as: { tenant: newTenant() },
      body: { service: "constructor", api_key: "any-printable-key-1234" },
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ service: "constructor", key_hint: "****1234" });
  });
});

describe("the /v1 relay (OpenAIClient.relay)", () => {
  it("sends the caller's bytes as they came and hands back the provider's answer byte for byte", async () => {
    const sent =
      '{ "model": "gpt-4o-mini",\n  "messages": [{"role": "user", "content": "Hi"}], "logit_bias": {"50256": -100} }';
    const answered =
      '{"id":"chatcmpl-1", "object":"chat.completion","model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1.0e0,"total_tokens":4}}';
    const bodies: string[] = [];
    const fetchFn = (async (_input: RequestInfo | URL, init?: RequestInit) => {
      bodies.push(String(init?.body));
      return new Response(answered, { headers: { "content-type": "application/json" } });
    }) as typeof fetch;
    const client = providerClient(
      getConfig(env),
      "openai",
      { apiKey: "sk-relay-test-0123456789", settings: {} },
      fetchFn,
    );
    const body = JSON.parse(sent) as Record<string, unknown> & { model: string };
    const verbatim = await client.relay("/chat/completions", body, sent);
    expect(bodies).toEqual([sent]);
    expect(verbatim.text).toBe(answered);
    expect(verbatim.json.usage).toEqual({ prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 });
    // Without the caller's bytes (a body the gateway changed), the body is serialized.
    await client.relay("/chat/completions", { ...body, model: "gpt-4o" });
    expect(JSON.parse(bodies[1]!)).toEqual({ ...body, model: "gpt-4o" });
  });
});
