import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { anthropicKey, createAgent, openaiKey, storeKey } from "./support/knowledge";
import { auditRows, sql } from "./support/stack";
import { callStream } from "./support/stream";
import { mintToken, newTenant } from "./support/tokens";
import { expectPriced, keyUses, nanos } from "./support/usage";
import { call, deliverAudit, withAuditQueue } from "./support/worker";

const ask = (content: string) => ({ messages: [{ role: "user", content }] });
const today = () => new Date().toISOString().slice(0, 10);

describe("key.use rows carry tokens and cost", () => {
  it("agent chat, JSON and streamed", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("usechat"));
    await createAgent(tenant, { agent_id: "pricy" });
    const r = await call("POST", "/agents/pricy/chat", { as: { tenant, roles: ["member"] }, body: ask("Hello there") });
    expect(r.status).toBe(200);
    const s = await callStream(
      "/agents/pricy/chat",
      { ...ask("Stream it"), stream: true },
      { tenant, roles: ["member"] },
    );
    expect(s.status).toBe(200);
    const uses = await keyUses(tenant);
    expect(uses.map((u) => u.details.stream)).toEqual([false, true]);
    for (const use of uses) expectPriced(use, "gpt-4o-mini");
    expect(uses[0].details.usage).toMatchObject({
      prompt: r.json.usage.prompt_tokens,
      completion: r.json.usage.completion_tokens,
    });
  });

  it("/v1 chat completions (OpenAI relayed, streamed without include_usage, Anthropic translated) and embeddings", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("usevone"));
    await storeKey(tenant, "anthropic", anthropicKey("usevone"));
    const as = { tenant, roles: ["member"] };
    const chat = await call("POST", "/v1/chat/completions", {
      as,
      body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "One two three" }] },
    });
    expect(chat.status).toBe(200);
    const stream = await callStream(
      "/v1/chat/completions",
      { model: "gpt-4o-mini", messages: [{ role: "user", content: "Four five" }], stream: true },
      as,
    );
    expect(stream.status).toBe(200);
    const claude = await call("POST", "/v1/chat/completions", {
      as,
      body: { model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Six" }], max_tokens: 50 },
    });
    expect(claude.status).toBe(200);
    const emb = await call("POST", "/v1/embeddings", {
      as,
      body: { model: "text-embedding-3-small", input: ["seven eight", "nine"] },
    });
    expect(emb.status).toBe(200);
    const uses = await keyUses(tenant);
    expect(uses.map((u) => [u.details.model, u.details.stream ?? null])).toEqual([
      ["gpt-4o-mini", false],
      ["gpt-4o-mini", true],
      ["claude-sonnet-4-5", false],
      ["text-embedding-3-small", null],
    ]);
    for (const use of uses) expectPriced(use, use.details.model);
    expect(uses[0].details.usage.prompt).toBe(chat.json.usage.prompt_tokens);
    expect(uses[3].details.usage.prompt).toBe(emb.json.usage.prompt_tokens);
  });

  it("knowledge embedding (documents), and a model without a price keeps its tokens with cost_usd null", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("useknow"));
    const doc = await call("POST", "/knowledge/documents", {
      as: { tenant },
      body: { title: "Prices", content: "A page about what things cost in the shop." },
    });
    expect(doc.status).toBe(201);
    const old = await call("POST", "/v1/chat/completions", {
      as: { tenant },
      body: { model: "gpt-3.5-turbo", messages: [{ role: "user", content: "Unpriced" }] },
    });
    expect(old.status).toBe(200);
    const [embedding, unpriced] = await keyUses(tenant);
    expect(embedding.details).toMatchObject({ purpose: "embedding", model: "text-embedding-3-small" });
    expectPriced(embedding, "text-embedding-3-small");
    expect(embedding.details.usage.prompt).toBe(doc.json.usage.prompt_tokens);
    expect(unpriced.details.usage).toEqual({
      prompt: old.json.usage.prompt_tokens,
      completion: old.json.usage.completion_tokens,
      total: old.json.usage.total_tokens,
      cost_usd: null,
    });
  });

  it("the audit chain still verifies with the usage fields in the rows", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("usechain"));
    await call("POST", "/v1/chat/completions", {
      as: { tenant },
      body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "Chain me" }] },
    });
    const v = await call("GET", "/audit-logs/verify", { as: { tenant } });
    expect(v.json).toMatchObject({ verified: true, first_break: null });
    expect(v.json.checked).toBeGreaterThanOrEqual(3);
  });
});

describe("GET /usage", () => {
  it("groups requests, tokens and exact cost by model, day, agent and user; totals add up", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("usegroup"));
    await storeKey(tenant, "anthropic", anthropicKey("usegroup"));
    await createAgent(tenant, { agent_id: "alpha" });
    await createAgent(tenant, { agent_id: "beta", llm_provider: "anthropic", llm_model: "claude-sonnet-4-5" });
    const alice = { tenant, user: "alice", roles: ["member"] };
    const bob = { tenant, user: "bob", roles: ["member"] };
    for (const as of [alice, alice, bob]) {
      expect((await call("POST", "/agents/alpha/chat", { as, body: ask("Hi alpha") })).status).toBe(200);
    }
    expect((await call("POST", "/agents/beta/chat", { as: bob, body: ask("Hi beta") })).status).toBe(200);
    expect(
      (
        await call("POST", "/v1/embeddings", {
          as: alice,
          body: { model: "text-embedding-3-small", input: "embed me" },
        })
      ).status,
    ).toBe(200);

    const uses = await keyUses(tenant);
    expect(uses).toHaveLength(5);
    const sumOf = (rows: any[]) => ({
      requests: rows.length,
      prompt_tokens: rows.reduce((s, r) => s + r.details.usage.prompt, 0),
      completion_tokens: rows.reduce((s, r) => s + (r.details.usage.completion ?? 0), 0),
      cost: rows.reduce((s, r) => s + nanos(r.details.usage.cost_usd), 0),
    });
    const asGroup = (g: any) => ({
      requests: g.requests,
      prompt_tokens: g.prompt_tokens,
      completion_tokens: g.completion_tokens,
      cost: nanos(g.cost_usd),
    });

    const byModel = await call("GET", "/usage?group_by=model", { as: { tenant } });
    expect(byModel.status).toBe(200);
    expect(byModel.json).toMatchObject({ group_by: "model", scope: "tenant", currency: "USD", truncated: false });
    expect(byModel.json.to).toBe(today());
    expect(byModel.json.from).toBe(`${today().slice(0, 8)}01`);
    const models = Object.fromEntries(byModel.json.groups.map((g: any) => [g.key, asGroup(g)]));
    for (const model of ["gpt-4o-mini", "claude-sonnet-4-5", "text-embedding-3-small"]) {
      expect(models[model]).toEqual(sumOf(uses.filter((u) => u.details.model === model)));
    }
    expect(asGroup(byModel.json.totals)).toEqual(sumOf(uses));
    expect(byModel.json.totals.total_tokens).toBe(
      byModel.json.totals.prompt_tokens + byModel.json.totals.completion_tokens,
    );
    // The most expensive group first: Claude's output costs 25× gpt-4o-mini's.
    expect(byModel.json.groups[0].key).toBe("claude-sonnet-4-5");

    const byAgent = await call("GET", "/usage?group_by=agent", { as: { tenant } });
    const agents = Object.fromEntries(byAgent.json.groups.map((g: any) => [String(g.key), g.requests]));
    expect(agents).toEqual({ alpha: 3, beta: 1, null: 1 });

    const byUser = await call("GET", "/usage?group_by=user", { as: { tenant } });
    const users = Object.fromEntries(byUser.json.groups.map((g: any) => [g.key, asGroup(g)]));
    expect(users.alice).toEqual(sumOf(uses.filter((u) => u.user_id === "alice")));
    expect(users.bob).toEqual(sumOf(uses.filter((u) => u.user_id === "bob")));

    const byDay = await call("GET", `/usage?group_by=day&from=${today()}&to=${today()}`, { as: { tenant } });
    expect(byDay.json.groups).toEqual([expect.objectContaining({ key: today(), requests: 5 })]);

    // A range without calls: empty groups, zero totals.
    const before = await call("GET", "/usage?from=2025-01-01&to=2025-01-31", { as: { tenant } });
    expect(before.status).toBe(200);
    expect(before.json.groups).toEqual([]);
    expect(before.json.totals).toMatchObject({ requests: 0, cost_usd: "0", prompt_tokens: 0 });
  });

  it("counts unpriced calls apart and a redelivered audit batch only once", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("useredeliver"));
    const audit = withAuditQueue();
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request("https://gateway.test/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${await mintToken({ tenant })}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-3.5-turbo", messages: [{ role: "user", content: "Twice" }] }),
      }),
      audit.env,
      ctx,
    );
    expect(res.status).toBe(200);
    await res.text();
    await waitOnExecutionContext(ctx);
    await audit.deliver();
    await deliverAudit(audit.sent); // the queue delivers the same batch again (at-least-once)
    const r = await call("GET", "/usage?group_by=model", { as: { tenant } });
    expect(r.json.groups).toEqual([
      expect.objectContaining({ key: "gpt-3.5-turbo", requests: 1, unpriced_requests: 1, cost_usd: "0" }),
    ]);
    const [rollup] = await sql().query("SELECT count(*)::int AS n FROM usage_daily WHERE tenant_id = $1", [tenant]);
    expect(rollup?.n).toBe(1);
  });

  it("a key.use row with usage of an unexpected shape is stored and chained; the rollup counts what it can", async () => {
    const tenant = newTenant();
    const record = (details: Record<string, unknown>) => ({
      kind: "audit" as const,
      record: {
        id: crypto.randomUUID(),
        tenant_id: tenant,
        user_id: "odd",
        action: "key.use",
        resource_type: "api_key",
        resource_id: "openai",
        outcome: "success",
        request_id: null,
        ip_address: null,
        user_agent: null,
        details,
        created_at: new Date().toISOString(),
      },
    });
    const result = await deliverAudit([
      record({ model: "m", usage: { prompt: "many", completion: 2, cost_usd: 1.5 } }),
      record({ model: "m", usage: { prompt: 1e30, completion: 1 } }),
      record({ usage: "none" }),
    ]);
    expect(result?.retryBatch.retry).toBe(false);
    expect(await auditRows(tenant)).toHaveLength(3);
    expect((await call("GET", "/audit-logs/verify", { as: { tenant } })).json.verified).toBe(true);
    const r = await call("GET", "/usage?group_by=model", { as: { tenant } });
    expect(r.json.groups).toEqual([
      expect.objectContaining({ key: "m", requests: 1, prompt_tokens: 0, completion_tokens: 2, unpriced_requests: 1 }),
      expect.objectContaining({ key: "unknown", requests: 1, prompt_tokens: 0 }),
    ]);
  });
});
