import { describe, expect, it } from "vitest";
import { openaiKey, storeKey } from "./support/knowledge";
import { sql } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const chat = (tenant: string, user = "someone", roles = ["member"]) =>
  call("POST", "/v1/chat/completions", {
    as: { tenant, user, roles },
    body: { model: "gpt-4o-mini", messages: [{ role: "user", content: `Hello from ${user}` }] },
  });

describe("usage and budgets: tenant isolation", () => {
  it("a tenant's usage and spend never reach another tenant's report or budget", async () => {
    const a = newTenant();
    const b = newTenant();
    await storeKey(a, "openai", openaiKey("isoa"));
    await storeKey(b, "openai", openaiKey("isob"));
    expect((await chat(a)).status).toBe(200);
    expect((await chat(a)).status).toBe(200);
    expect((await chat(b)).status).toBe(200);
    // A's large spend this month; both tenants have a $1 budget.
    await sql().query(
      `INSERT INTO usage_daily (tenant_id, day, model, requests, cost_usd) VALUES ($1, $2, 'gpt-4o', 1, 100)`,
      [a, `${new Date().toISOString().slice(0, 8)}01`],
    );
    for (const t of [a, b]) {
      expect(
        (await call("PUT", "/usage/budgets/tenant", { as: { tenant: t }, body: { monthly_limit_usd: "1" } })).status,
      ).toBe(200);
    }
    expect((await chat(a)).status).toBe(402);
    expect((await chat(b)).status).toBe(200);

    const usageB = await call("GET", "/usage?group_by=model", { as: { tenant: b } });
    expect(usageB.json.totals.requests).toBe(2);
    expect(usageB.json.groups.map((g: any) => g.key)).toEqual(["gpt-4o-mini"]);
    const budgetsB = await call("GET", "/usage/budgets", { as: { tenant: b } });
    expect(Number(budgetsB.json.budgets[0].spent_usd)).toBeLessThan(0.001);
    const usageA = await call("GET", "/usage?group_by=model", { as: { tenant: a } });
    expect(usageA.json.totals.requests).toBe(3);
  });

  it("a member sees only their own calls; budgets are admins' only", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("isomember"));
    expect((await chat(tenant, "carol")).status).toBe(200);
    expect((await chat(tenant, "carol")).status).toBe(200);
    expect((await chat(tenant, "dave")).status).toBe(200);

    const carol = await call("GET", "/usage?group_by=user", { as: { tenant, user: "carol", roles: ["member"] } });
    expect(carol.status).toBe(200);
    expect(carol.json.scope).toBe("user");
    expect(carol.json.groups).toEqual([expect.objectContaining({ key: "carol", requests: 2 })]);
    expect(carol.json.totals.requests).toBe(2);

    const admin = await call("GET", "/usage?group_by=user", { as: { tenant, user: "erin" } });
    expect(admin.json.scope).toBe("tenant");
    expect(admin.json.totals.requests).toBe(3);

    const member = { tenant, user: "carol", roles: ["member"] };
    expect((await call("GET", "/usage/budgets", { as: member })).status).toBe(403);
    const put = await call("PUT", "/usage/budgets/tenant", { as: member, body: { monthly_limit_usd: "0" } });
    expect(put.status).toBe(403);
    expect((await chat(tenant, "carol")).status).toBe(200);
  });
});
