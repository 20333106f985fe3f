import { describe, expect, it } from "vitest";
import { createApiKey } from "./support/api-keys";
import { openaiKey, storeKey } from "./support/knowledge";
import { auditRows, llmCalls, sha256Hex } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const body = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hello" }] };
const withKey = (key: string) => call("POST", "/v1/chat/completions", { token: key, body });
const providerCalls = async (apiKey: string) => {
  const fp = await sha256Hex(apiKey);
  return (await llmCalls()).filter((c) => c.keyFingerprint === fp).length;
};

describe("usage and budgets per tenant API key", () => {
  it("groups usage by API key and refuses a key whose budget is spent, before the provider; others go on", async () => {
    const tenant = newTenant();
    const openai = openaiKey("perkey");
    await storeKey(tenant, "openai", openai);
    const capped = await createApiKey(tenant, { name: "capped" });
    const free = await createApiKey(tenant, { name: "free" });

    expect((await withKey(free.key)).status).toBe(200);
    expect((await withKey(capped.key)).status).toBe(200);
    expect((await withKey(capped.key)).status).toBe(200);
    expect((await call("POST", "/v1/chat/completions", { as: { tenant }, body })).status).toBe(200);
    const uses = (await auditRows(tenant)).filter((r) => r.action === "key.use");
    expect(uses.map((u) => u.details.api_key_id ?? null).sort()).toEqual([capped.id, capped.id, free.id, null].sort());

    const byKey = await call("GET", "/usage?group_by=api_key", { as: { tenant } });
    const groups = Object.fromEntries(byKey.json.groups.map((g: any) => [String(g.key), g.requests]));
    expect(groups).toEqual({ [capped.id]: 2, [free.id]: 1, null: 1 });

    const set = await call("PUT", `/usage/budgets/api-keys/${capped.id}`, {
      as: { tenant },
      body: { monthly_limit_usd: "0" },
    });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ scope: "api_key", api_key_id: capped.id, exceeded: true });
    expect(Number(set.json.spent_usd)).toBeGreaterThan(0);

    const before = await providerCalls(openai);
    const refused = await withKey(capped.key);
    expect(refused.status).toBe(402);
    expect(refused.json.error).toMatchObject({ type: "insufficient_quota", code: "budget_exceeded" });
    expect(refused.json.error.message).toContain(`The monthly budget of API key ${capped.id} of $0 is spent`);
    expect(await providerCalls(openai)).toBe(before);
    // The other key and JWT callers are not limited by that key's budget.
    expect((await withKey(free.key)).status).toBe(200);
    expect((await call("POST", "/v1/chat/completions", { as: { tenant }, body })).status).toBe(200);

    // The tenant's budget applies to every key's calls too.
    await call("PUT", "/usage/budgets/tenant", { as: { tenant }, body: { monthly_limit_usd: "0" } });
    const tenantRefused = await withKey(free.key);
    expect(tenantRefused.status).toBe(402);
    expect(tenantRefused.json.error.message).toContain("The tenant's monthly budget");

    const list = await call("GET", "/usage/budgets", { as: { tenant } });
    expect(list.json.budgets.map((b: any) => [b.scope, b.api_key_id])).toEqual([
      ["tenant", null],
      ["api_key", capped.id],
    ]);
    expect((await call("DELETE", `/usage/budgets/api-keys/${capped.id}`, { as: { tenant } })).status).toBe(204);
    expect((await call("DELETE", `/usage/budgets/api-keys/${capped.id}`, { as: { tenant } })).status).toBe(404);
  });

  it("a budget only for a key of this tenant: another tenant's key or an unknown id → 404", async () => {
    const mine = newTenant();
    const other = newTenant();
    const theirs = await createApiKey(other, { name: "theirs" });
    for (const id of [theirs.id, crypto.randomUUID()]) {
      const r = await call("PUT", `/usage/budgets/api-keys/${id}`, {
        as: { tenant: mine },
        body: { monthly_limit_usd: 1 },
      });
      expect(r.status).toBe(404);
      expect(r.json.code).toBe("not_found");
    }
    const bad = await call("PUT", "/usage/budgets/api-keys/not-a-uuid", {
      as: { tenant: mine },
      body: { monthly_limit_usd: 1 },
    });
    expect(bad.status).toBe(400);
    expect((await call("GET", "/usage/budgets", { as: { tenant: other } })).json.budgets).toEqual([]);
  });
});
