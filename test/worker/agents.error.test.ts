import { describe, expect, it } from "vitest";
import { auditRows } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const invalid = async (tenant: string, method: string, path: string, body: unknown, path400: string) => {
  const r = await call(method, path, { as: { tenant }, body });
  expect(r.status, JSON.stringify(body)).toBe(400);
  expect(r.json.code).toBe("validation_failed");
  expect(r.json.errors.map((e: any) => e.path)).toContain(path400);
  return r;
};

describe("agents: validation a user would expect", () => {
  it.each([
    [{ agent_id: "Support Bot", name: "x" }, "agent_id"],
    [{ agent_id: "-bot", name: "x" }, "agent_id"],
    [{ agent_id: "a".repeat(65), name: "x" }, "agent_id"],
    [{ agent_id: "bot", name: "  " }, "name"],
    [{ agent_id: "bot", name: "x", temperature: 2.5 }, "temperature"],
    [{ agent_id: "bot", name: "x", temperature: -0.1 }, "temperature"],
    [{ agent_id: "bot", name: "x", temperature: 0.123 }, "temperature"],
    [{ agent_id: "bot", name: "x", max_tokens: 0 }, "max_tokens"],
    [{ agent_id: "bot", name: "x", max_tokens: 1.5 }, "max_tokens"],
    [{ agent_id: "bot", name: "x", max_tokens: 20_000 }, "max_tokens"], // gpt-4o-mini's ceiling is 16384
    [
      { agent_id: "bot", name: "x", llm_provider: "anthropic", llm_model: "claude-3-haiku-20240307", max_tokens: 5000 },
      "max_tokens",
    ],
    [
      { agent_id: "bot", name: "x", llm_provider: "anthropic", llm_model: "claude-sonnet-4-5", temperature: 1.5 },
      "temperature",
    ],
    [{ agent_id: "bot", name: "x", llm_provider: "cohere" }, "llm_provider"],
    [{ agent_id: "bot", name: "x", llm_provider: "anthropic" }, "llm_model"], // default gpt-4o-mini is not a Claude model
    [{ agent_id: "bot", name: "x", llm_model: "" }, "llm_model"],
    [{ agent_id: "bot", name: "x", llm_model: "m".repeat(101) }, "llm_model"],
    [{ agent_id: "bot", name: "x", enabled_tools: ["shell"] }, "enabled_tools.0"],
    [{ agent_id: "bot", name: "x", enabled_tools: ["calculator", "calculator"] }, "enabled_tools"],
    [{ agent_id: "bot", name: "x", system_prompt: "p".repeat(20_001) }, "system_prompt"],
    [{ agent_id: "bot", name: "x", system_prompt: "" }, "system_prompt"],
    [{ agent_id: "bot", name: "x", tenant_id: "00000000-0000-4000-8000-000000000000" }, ""],
    [{ agent_id: "bot", metadata: ["not", "an", "object"] }, "metadata"],
    [{ agent_id: "bot", metadata: { blob: "x".repeat(9000) } }, "metadata"],
    [{ agent_id: "bot", metadata: { nested: { text: "nul\u0000" } } }, "metadata.nested.text"],
  ])("POST /agents refuses %j", async (body, path) => {
    await invalid(newTenant(), "POST", "/agents", body, path);
  });

  it("a duplicate agent_id in the same tenant is a 409 conflict, audited as an error", async () => {
    const tenant = newTenant();
    expect((await call("POST", "/agents", { as: { tenant }, body: { agent_id: "dup", name: "One" } })).status).toBe(
      201,
    );
    const again = await call("POST", "/agents", { as: { tenant }, body: { agent_id: "dup", name: "Two" } });
    expect(again.status).toBe(409);
    expect(again.json.code).toBe("conflict");
    expect((await call("GET", "/agents/dup", { as: { tenant } })).json.name).toBe("One");
    const rows = (await auditRows(tenant)).filter((r) => r.action === "agent.create");
    expect(rows.map((r) => [r.outcome, r.details.error ?? null])).toEqual([
      ["success", null],
      ["error", "conflict"],
    ]);
  });

  it("PATCH is strict, needs a change, and is validated against the whole agent", async () => {
    const tenant = newTenant();
    await call("POST", "/agents", { as: { tenant }, body: { agent_id: "p", name: "P", max_tokens: 10_000 } });
    await invalid(tenant, "PATCH", "/agents/p", { agent_id: "renamed" }, "");
    await invalid(tenant, "PATCH", "/agents/p", {}, "");
    // Switching provider alone leaves gpt-4o-mini behind: refused, nothing changed.
    await invalid(tenant, "PATCH", "/agents/p", { llm_provider: "anthropic" }, "llm_model");
    // claude-3-5-haiku's ceiling is below the agent's max_tokens of 10000.
    await invalid(
      tenant,
      "PATCH",
      "/agents/p",
      { llm_provider: "anthropic", llm_model: "claude-3-5-haiku-latest" },
      "max_tokens",
    );
    expect((await call("GET", "/agents/p", { as: { tenant } })).json).toMatchObject({
      llm_provider: "openai",
      max_tokens: 10_000,
    });
    const ok = await call("PATCH", "/agents/p", {
      as: { tenant },
      body: { description: "now described", is_active: false },
    });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ description: "now described", is_active: false });
  });

  it("unknown agents are 404 for read, update, delete and chat", async () => {
    const as = { tenant: newTenant() };
    for (const [method, path, body] of [
      ["GET", "/agents/ghost", undefined],
      ["PATCH", "/agents/ghost", { name: "x" }],
      ["DELETE", "/agents/ghost", undefined],
      ["POST", "/agents/ghost/chat", { messages: [{ role: "user", content: "hi" }] }],
    ] as const) {
      const r = await call(method, path, { as, body });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.json.code).toBe("not_found");
    }
  });

  it("a malformed JSON body and a wrong content type are refused without side effects", async () => {
    const tenant = newTenant();
    const r = await call("POST", "/agents", {
      as: { tenant },
      rawBody: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(r.status).toBe(400);
    expect(r.res.headers.get("content-type")).toBe("application/problem+json");
    expect((await call("GET", "/agents", { as: { tenant } })).json.items).toEqual([]);
  });
});
