import { describe, expect, it, onTestFinished, vi } from "vitest";
import { createApiKey } from "./support/api-keys";
import { createAgent, openaiKey, storeKey } from "./support/knowledge";
import { auditRows, sha256Hex, sql } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const KEY_SHAPE = /^bgk_[0-9A-Za-z]{43}$/;
const chat = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] };

describe("POST /api-keys", () => {
  it("returns the key once (bgk_ + 43 base62), stores only its SHA-256 and a hint, audits the grant without the key", async () => {
    const tenant = newTenant();
    const r = await call("POST", "/api-keys", {
      as: { tenant },
      body: {
        name: "CI pipeline",
        expires_at: "2099-01-01T00:00:00Z",
        allowed_models: ["gpt-4o-mini"],
        rate_limit_per_minute: 60,
      },
    });
    expect(r.status).toBe(201);
    expect(r.res.headers.get("cache-control")).toBe("no-store");
    const key: string = r.json.key;
    expect(key).toMatch(KEY_SHAPE);
    expect(r.json).toMatchObject({
      name: "CI pipeline",
      key_hint: `bgk_****${key.slice(-4)}`,
      status: "active",
      allowed_models: ["gpt-4o-mini"],
      allowed_agents: null,
      rate_limit_per_minute: 60,
      expires_at: "2099-01-01T00:00:00.000Z",
      last_used_at: null,
      revoked_at: null,
      created_by: expect.any(String),
    });
    // Stored: the hash, never the key.
    const [row] = (await sql().query("SELECT * FROM api_keys WHERE id = $1", [r.json.id])) as any[];
    expect(row.tenant_id).toBe(tenant);
    expect(row.key_hash).toBe(await sha256Hex(key));
    expect(JSON.stringify(row)).not.toContain(key.slice(4));
    // Never shown again: not by the list, not by the record.
    const list = await call("GET", "/api-keys", { as: { tenant, roles: ["member"] } });
    expect(list.status).toBe(200);
    expect(list.json.items).toHaveLength(1);
    expect(list.json.items[0]).toMatchObject({ id: r.json.id, key_hint: r.json.key_hint, status: "active" });
    expect(list.json.items[0]).not.toHaveProperty("key");
    const one = await call("GET", `/api-keys/${r.json.id}`, { as: { tenant, roles: ["member"] } });
    expect(one.json).toEqual(list.json.items[0]);
    for (const text of [list.text, one.text]) expect(text).not.toContain(key.slice(4));
    // Audited with the hint and what was granted.
    const rows = await auditRows(tenant);
    expect(rows.find((x) => x.action === "api_key.create")).toMatchObject({
      resource_type: "tenant_api_key",
      resource_id: r.json.id,
      outcome: "success",
      details: { key_hint: r.json.key_hint, allowed_models: ["gpt-4o-mini"], rate_limit_per_minute: 60 },
    });
    expect(JSON.stringify(rows)).not.toContain(key.slice(4));
  });

  it("keys are unique and the list pages newest first", async () => {
    const tenant = newTenant();
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await createApiKey(tenant, { name: `k${i}` }));
    expect(new Set(made.map((k) => k.key)).size).toBe(3);
    const first = await call("GET", "/api-keys?limit=2", { as: { tenant } });
    expect(first.json.items.map((k: any) => k.name)).toEqual(["k2", "k1"]);
    const rest = await call("GET", `/api-keys?limit=2&cursor=${first.json.next_cursor}`, { as: { tenant } });
    expect(rest.json.items.map((k: any) => k.name)).toEqual(["k0"]);
    expect(rest.json.next_cursor).toBeNull();
  });
});

describe("an API key on /v1", () => {
  it("calls /v1 for its tenant; key.use and the route's row carry its id (never the key); last_used_at is set", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("apikeyuse"));
    const created = await createApiKey(tenant);
    const r = await call("POST", "/v1/chat/completions", { token: created.key, body: chat });
    expect(r.status).toBe(200);
    expect(r.json.choices[0].message.content).toContain("Echo: Hi");
    const rows = await auditRows(tenant);
    const use = rows.find((x) => x.action === "key.use");
    expect(use).toMatchObject({
      user_id: `api_key:${created.id}`,
      outcome: "success",
      details: { api: "v1", model: "gpt-4o-mini", api_key_id: created.id },
    });
    expect(rows.find((x) => x.action === "v1.chat")).toMatchObject({
      outcome: "success",
      details: { api_key_id: created.id },
    });
    expect(JSON.stringify(rows)).not.toContain(created.key.slice(4));
    const listed = (await call("GET", `/api-keys/${created.id}`, { as: { tenant } })).json;
    expect(Date.parse(listed.last_used_at)).toBeGreaterThan(Date.parse(created.created_at) - 1000);
  });

  it("JWTs keep working on /v1 beside keys", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("apikeyjwt"));
    await createApiKey(tenant);
    const r = await call("POST", "/v1/chat/completions", { as: { tenant, roles: ["member"] }, body: chat });
    expect(r.status).toBe(200);
  });

  it("revoking takes effect on the next request (401 invalid_api_key, OpenAI-shaped), and is audited", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("apikeyrev"));
    const created = await createApiKey(tenant);
    expect((await call("GET", "/v1/models", { token: created.key })).status).toBe(200);
    const revoked = await call("DELETE", `/api-keys/${created.id}`, { as: { tenant } });
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ id: created.id, status: "revoked", revoked_at: expect.any(String) });
    const r = await call("POST", "/v1/chat/completions", { token: created.key, body: chat });
    expect(r.status).toBe(401);
    expect(r.res.headers.get("content-type")).toBe("application/json");
    expect(r.json.error).toMatchObject({ code: "invalid_api_key", type: "authentication_error" });
    // Revoking again changes nothing.
    const again = await call("DELETE", `/api-keys/${created.id}`, { as: { tenant } });
    expect(again.json.revoked_at).toBe(revoked.json.revoked_at);
    const rows = await auditRows(tenant);
    expect(rows.filter((x) => x.action === "api_key.revoke").map((x) => x.details.already_revoked)).toEqual([
      false,
      true,
    ]);
    expect(rows.find((x) => x.action === "api_key.use")).toMatchObject({
      resource_id: created.id,
      outcome: "denied",
      details: { reason: "revoked", error: "invalid_api_key", api_key_id: created.id },
    });
  });

  it("an expired key is refused and listed as expired", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("apikeyexp"));
    const created = await createApiKey(tenant, { expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await call("GET", "/v1/models", { token: created.key })).status).toBe(200);
    // The hour passes: for the row (what lists read) and for this isolate's clock (its cached record, CACHE_TTL_MS).
    await sql().query("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [created.id]);
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 3_600_001 });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const r = await call("GET", "/v1/models", { token: created.key });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe("invalid_api_key");
    expect((await call("GET", `/api-keys/${created.id}`, { as: { tenant } })).json.status).toBe("expired");
    const denied = (await auditRows(tenant)).find((x) => x.action === "api_key.use");
    expect(denied.details).toMatchObject({ reason: "expired" });
  });
});

describe("allowed models and agents", () => {
  it("allowed_models: other models and every agent are 403 model_not_allowed (audited), /v1/models lists only what is allowed", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("apikeyallow"));
    const { key, id } = await createApiKey(tenant, { allowed_models: ["gpt-4o-mini"] });
    expect((await call("POST", "/v1/chat/completions", { token: key, body: chat })).status).toBe(200);
    for (const model of ["gpt-4o", "agent:support-bot"]) {
      const r = await call("POST", "/v1/chat/completions", { token: key, body: { ...chat, model } });
      expect(r.status, model).toBe(403);
      expect(r.json.error).toMatchObject({ code: "model_not_allowed", type: "permission_error", param: "model" });
    }
    const emb = await call("POST", "/v1/embeddings", {
      token: key,
      body: { model: "text-embedding-3-small", input: "x" },
    });
    expect(emb.status).toBe(403);
    const models = await call("GET", "/v1/models", { token: key });
    expect(models.json.data.map((m: any) => m.id)).toEqual(["gpt-4o-mini"]);
    const denied = (await auditRows(tenant)).filter((x) => x.outcome === "denied");
    expect(denied.map((x) => [x.action, x.details.error, x.details.api_key_id])).toEqual([
      ["v1.chat", "model_not_allowed", id],
      ["v1.chat", "model_not_allowed", id],
      ["v1.embeddings", "model_not_allowed", id],
    ]);
  });

  it("allowed_agents only: no bare model, no other agent; the listed agent answers and is all /v1/models shows", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("apikeyagent"));
    await createAgent(tenant, { agent_id: "support-bot" });
    await createAgent(tenant, { agent_id: "sales-bot" });
    const { key } = await createApiKey(tenant, { allowed_agents: ["support-bot"] });
    for (const model of ["gpt-4o-mini", "agent:sales-bot"]) {
      const r = await call("POST", "/v1/chat/completions", { token: key, body: { ...chat, model } });
      expect(r.status, model).toBe(403);
      expect(r.json.error.code).toBe("model_not_allowed");
    }
    const agent = await call("POST", "/v1/chat/completions", {
      token: key,
      body: { ...chat, model: "agent:support-bot" },
    });
    expect(agent.status).toBe(200);
    const models = await call("GET", "/v1/models", { token: key });
    expect(models.json.data.map((m: any) => m.id)).toEqual(["agent:support-bot"]);
  });
});

describe("per-key rate limit", () => {
  it("429 with Retry-After once the key is over its limit; another key and JWTs of the tenant go on", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("apikeyrate"));
    const limitedKey = await createApiKey(tenant, { rate_limit_per_minute: 10 });
    const other = await createApiKey(tenant, { rate_limit_per_minute: 10 });
    let limited: Awaited<ReturnType<typeof call>> | undefined;
    // 10 per 60 s: a window rolling over mid-loop resets the count once at most.
    for (let i = 0; i < 25 && !limited; i++) {
      const r = await call("GET", "/v1/models", { token: limitedKey.key });
      if (r.status === 429) limited = r;
      else expect(r.status).toBe(200);
    }
    expect(limited).toBeDefined();
    expect(limited!.res.headers.get("retry-after")).toBe("60");
    expect(limited!.json.error).toMatchObject({ code: "rate_limited", type: "rate_limit_error" });
    expect(limited!.json.error.message).toContain("API key");
    expect((await call("GET", "/v1/models", { token: other.key })).status).toBe(200);
    expect((await call("GET", "/v1/models", { as: { tenant, roles: ["member"] } })).status).toBe(200);
    const refused = (await auditRows(tenant)).filter((x) => x.details.error === "rate_limited");
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ outcome: "denied", details: { api_key_id: limitedKey.id } });
  });
});
