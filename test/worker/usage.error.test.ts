import { describe, expect, it, onTestFinished, vi } from "vitest";
import { addDocument, createAgent, openaiKey, storeKey } from "./support/knowledge";
import { auditRows, llmCalls, sha256Hex, sql } from "./support/stack";
import { callStream } from "./support/stream";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const ask = (content: string) => ({ messages: [{ role: "user", content }] });
const monthDay = (d: number) => `${new Date().toISOString().slice(0, 8)}${String(d).padStart(2, "0")}`;

/** Spend of this month recorded as if other calls (other isolates, earlier days) had made it. */
async function spend(tenant: string, usd: string, model = "gpt-4o") {
  await sql().query(
    `INSERT INTO usage_daily (tenant_id, day, model, requests, prompt_tokens, completion_tokens, cost_usd)
     VALUES ($1, $2, $3, 1, 1, 1, $4::numeric)`,
    [tenant, monthDay(1), model, usd],
  );
}

/** Calls the provider stand-in received with this key. */
const callsWith = async (apiKey: string) => {
  const fp = await sha256Hex(apiKey);
  return (await llmCalls()).filter((c) => c.keyFingerprint === fp).length;
};

describe("GET /usage: bad ranges", () => {
  it.each([
    ["from after to", "from=2026-03-02&to=2026-03-01", "to"],
    ["not a date", "from=2026-02-30", "from"],
    ["not ISO", "to=01/03/2026", "to"],
    ["more than 366 days", "from=2024-01-01&to=2025-01-01", "to"],
    ["unknown group_by", "group_by=week", "group_by"],
  ])("%s → 400 validation_failed naming the parameter", async (_what, query, param) => {
    const r = await call("GET", `/usage?${query}`, { as: { tenant: newTenant() } });
    expect(r.status).toBe(400);
    expect(r.res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(r.json.code).toBe("validation_failed");
    expect(r.json.errors.map((e: any) => e.path)).toContain(param);
  });

  it("from after today's default to → 400", async () => {
    const r = await call("GET", "/usage?from=2999-01-01", { as: { tenant: newTenant() } });
    expect(r.status).toBe(400);
    expect(r.json.errors).toEqual([{ path: "to", message: "to must not be before from" }]);
  });
});

describe("budgets: refused before the provider is called", () => {
  it("a spent tenant budget refuses chat with 402 naming the budget; the provider is not called", async () => {
    const tenant = newTenant();
    const apiKey = openaiKey("budgetchat");
    await storeKey(tenant, "openai", apiKey);
    await createAgent(tenant, { agent_id: "thrifty" });
    const set = await call("PUT", "/usage/budgets/tenant", { as: { tenant }, body: { monthly_limit_usd: "2.50" } });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ scope: "tenant", monthly_limit_usd: "2.5", spent_usd: "0", exceeded: false });

    const ok = await call("POST", "/agents/thrifty/chat", { as: { tenant, roles: ["member"] }, body: ask("Hi") });
    expect(ok.status).toBe(200);
    expect(await callsWith(apiKey)).toBe(1);

    await spend(tenant, "2.5");
    const refused = await call("POST", "/agents/thrifty/chat", {
      as: { tenant, roles: ["member"] },
      body: ask("Again"),
      env: { USAGE_BUDGET_CACHE_SECONDS: "0" },
    });
    expect(refused.status).toBe(402);
    expect(refused.res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(refused.json.code).toBe("budget_exceeded");
    expect(refused.json.detail).toContain("The tenant's monthly budget of $2.5 is spent");
    expect(refused.json.detail).toContain("PUT /usage/budgets/tenant");
    expect(await callsWith(apiKey)).toBe(1);

    // Streaming is refused the same way, before the stream opens.
    const s = await callStream("/agents/thrifty/chat", { ...ask("Stream"), stream: true }, { tenant });
    expect(s.status).toBe(402);
    expect(await callsWith(apiKey)).toBe(1);

    // The refusal is audited on the route's row; no key.use row for calls never made.
    const rows = await auditRows(tenant);
    expect(rows.filter((r) => r.action === "key.use")).toHaveLength(1);
    expect(rows.filter((r) => r.details?.error === "budget_exceeded").map((r) => [r.action, r.outcome])).toEqual([
      ["agent.chat", "error"],
      ["agent.chat", "error"],
    ]);

    // The budget list shows the spend; raising the budget lets calls through again.
    const list = await call("GET", "/usage/budgets", { as: { tenant } });
    expect(list.json.budgets).toEqual([
      expect.objectContaining({ scope: "tenant", api_key_id: null, monthly_limit_usd: "2.5", exceeded: true }),
    ]);
    expect(Number(list.json.budgets[0].spent_usd)).toBeGreaterThan(2.5);
    expect(list.json.budgets[0].remaining_usd).toBe("0");
    await call("PUT", "/usage/budgets/tenant", { as: { tenant }, body: { monthly_limit_usd: 10 } });
    expect((await call("POST", "/agents/thrifty/chat", { as: { tenant }, body: ask("Raised") })).status).toBe(200);
    expect(await callsWith(apiKey)).toBe(2);
  });

  it("/v1 answers OpenAI's shape (402 insufficient_quota), for streams too; embeddings and knowledge are refused", async () => {
    const tenant = newTenant();
    const apiKey = openaiKey("budgetvone");
    await storeKey(tenant, "openai", apiKey);
    await call("PUT", "/usage/budgets/tenant", { as: { tenant }, body: { monthly_limit_usd: "0" } });
    const body = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] };
    const r = await call("POST", "/v1/chat/completions", { as: { tenant }, body });
    expect(r.status).toBe(402);
    expect(r.res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(r.json).toEqual({
      error: {
        message: expect.stringContaining("The tenant's monthly budget of $0 is spent"),
        type: "insufficient_quota",
        code: "budget_exceeded",
        param: null,
      },
    });
    const s = await callStream("/v1/chat/completions", { ...body, stream: true }, { tenant });
    expect(s.status).toBe(402);
    expect(JSON.parse(s.text).error.code).toBe("budget_exceeded");
    const e = await call("POST", "/v1/embeddings", {
      as: { tenant },
      body: { model: "text-embedding-3-small", input: "x" },
    });
    expect(e.status).toBe(402);
    const doc = await call("POST", "/knowledge/documents", { as: { tenant }, body: { title: "T", content: "Words." } });
    expect(doc.status).toBe(402);
    expect(doc.json.code).toBe("budget_exceeded");
    expect(await callsWith(apiKey)).toBe(0);
    // Removing the budget lets them through.
    expect((await call("DELETE", "/usage/budgets/tenant", { as: { tenant } })).status).toBe(204);
    expect((await call("POST", "/v1/chat/completions", { as: { tenant }, body })).status).toBe(200);
    await addDocument(tenant, { title: "T", content: "Words." });
    expect(await callsWith(apiKey)).toBe(2);
  });

  it("the isolate's cached spend: stale for other writers within the cache time, but its own calls count at once", async () => {
    const tenant = newTenant();
    const apiKey = openaiKey("budgetcache");
    await storeKey(tenant, "openai", apiKey);
    await spend(tenant, "0.999999");
    await call("PUT", "/usage/budgets/tenant", { as: { tenant }, body: { monthly_limit_usd: "1" } });
    const env = { USAGE_BUDGET_CACHE_SECONDS: "300" };
    const body = { model: "gpt-4o-mini", messages: [{ role: "user", content: "One more call" }] };
    // $0.999999 < $1: allowed; this call costs a few micro-dollars, which this isolate adds to what it knows.
    expect((await call("POST", "/v1/chat/completions", { as: { tenant }, body, env })).status).toBe(200);
    const second = await call("POST", "/v1/chat/completions", { as: { tenant }, body, env });
    expect(second.status).toBe(402);
    expect(await callsWith(apiKey)).toBe(1);

    // Another writer's spend is seen only when the cache refreshes (documented staleness).
    const other = newTenant();
    const otherKey = openaiKey("budgetstale");
    await storeKey(other, "openai", otherKey);
    await call("PUT", "/usage/budgets/tenant", { as: { tenant: other }, body: { monthly_limit_usd: "1" } });
    expect((await call("POST", "/v1/chat/completions", { as: { tenant: other }, body, env })).status).toBe(200);
    await spend(other, "5");
    expect((await call("POST", "/v1/chat/completions", { as: { tenant: other }, body, env })).status).toBe(200);
    const fresh = { USAGE_BUDGET_CACHE_SECONDS: "0" };
    expect((await call("POST", "/v1/chat/completions", { as: { tenant: other }, body, env: fresh })).status).toBe(402);
    expect(await callsWith(otherKey)).toBe(2);
  });
});

describe("budgets: refreshed ahead", () => {
  it("past half the cache time a check answers from the cache and re-reads off the path: the next call sees another writer's spend", async () => {
    const tenant = newTenant();
    const apiKey = openaiKey("budgetahead");
    await storeKey(tenant, "openai", apiKey);
    await call("PUT", "/usage/budgets/tenant", { as: { tenant }, body: { monthly_limit_usd: "1" } });
    const env = { USAGE_BUDGET_CACHE_SECONDS: "10" };
    const body = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Ahead" }] };
    expect((await call("POST", "/v1/chat/completions", { as: { tenant }, body, env })).status).toBe(200);
    await spend(tenant, "5");
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 6_000 });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    // 6 s of 10: the cached "not spent" answers; the read after it sees the $5.
    expect((await call("POST", "/v1/chat/completions", { as: { tenant }, body, env })).status).toBe(200);
    const refused = await call("POST", "/v1/chat/completions", { as: { tenant }, body, env });
    expect(refused.status).toBe(402);
    expect(await callsWith(apiKey)).toBe(2);
  });
});

describe("budgets: bad input", () => {
  it.each([["abc"], ["1.234"], [-1], ["1e3"], [""], ["1000000000"]])("monthly_limit_usd %j → 400", async (limit) => {
    const r = await call("PUT", "/usage/budgets/tenant", {
      as: { tenant: newTenant() },
      body: { monthly_limit_usd: limit },
    });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("validation_failed");
    expect(r.json.errors[0].path).toBe("monthly_limit_usd");
  });

  it("deleting a budget that does not exist → 404", async () => {
    const r = await call("DELETE", "/usage/budgets/tenant", { as: { tenant: newTenant() } });
    expect(r.status).toBe(404);
    expect(r.json.code).toBe("not_found");
  });
});
