import { describe, expect, it } from "vitest";
import { auditRows } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

describe("agents: tenant isolation", () => {
  it("one tenant's agents are invisible and untouchable to another, even with the same agent_id", async () => {
    const a = newTenant();
    const b = newTenant();
    await call("POST", "/agents", { as: { tenant: a }, body: { agent_id: "shared-name", name: "A's agent" } });
    expect((await call("GET", "/agents", { as: { tenant: b } })).json.items).toEqual([]);
    expect((await call("GET", "/agents/shared-name", { as: { tenant: b } })).status).toBe(404);
    expect((await call("PATCH", "/agents/shared-name", { as: { tenant: b }, body: { name: "hijacked" } })).status).toBe(
      404,
    );
    expect((await call("DELETE", "/agents/shared-name", { as: { tenant: b } })).status).toBe(404);
    // B may create its own agent with the same id; A's is unchanged.
    expect(
      (await call("POST", "/agents", { as: { tenant: b }, body: { agent_id: "shared-name", name: "B's agent" } }))
        .status,
    ).toBe(201);
    expect((await call("GET", "/agents/shared-name", { as: { tenant: a } })).json.name).toBe("A's agent");
    expect(
      (
        await call("GET", `/agents?tenant_id=${a}`, { as: { tenant: b }, headers: { "x-tenant-id": a } })
      ).json.items.map((x: any) => x.name),
    ).toEqual(["B's agent"]);
  });

  it("a member's write attempts are refused and audited as denied", async () => {
    const tenant = newTenant();
    await call("POST", "/agents", { as: { tenant }, body: { agent_id: "guarded", name: "G" } });
    const member = { tenant, roles: ["member"], user: "member-1" };
    expect((await call("PATCH", "/agents/guarded", { as: member, body: { name: "x" } })).status).toBe(403);
    expect((await call("DELETE", "/agents/guarded", { as: member })).status).toBe(403);
    expect((await call("GET", "/agents/guarded", { as: { tenant } })).json.name).toBe("G");
    const denied = (await auditRows(tenant)).filter((r) => r.outcome === "denied");
    expect(denied.map((r) => [r.action, r.user_id])).toEqual([
      ["agent.update", "member-1"],
      ["agent.delete", "member-1"],
    ]);
  });
});
