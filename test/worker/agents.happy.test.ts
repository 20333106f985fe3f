import { describe, expect, it } from "vitest";
import { auditRows } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

describe("agents: an admin's flow", () => {
  it("creates with the seed's defaults, reads, lists, updates and deletes; every change audited", async () => {
    const tenant = newTenant();
    const as = { tenant, user: "admin-1" };

    const created = await call("POST", "/agents", { as, body: { agent_id: "support-bot", name: "Support" } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      agent_id: "support-bot",
      name: "Support",
      description: null,
      system_prompt: "You are a helpful assistant.",
      llm_provider: "openai",
      llm_model: "gpt-4o-mini",
      temperature: 0.7,
      max_tokens: 1024,
      enabled_tools: [],
      is_active: true,
      created_by: "admin-1",
    });

    const member = { tenant, roles: ["member"] };
    const read = await call("GET", "/agents/support-bot", { as: member });
    expect(read.status).toBe(200);
    expect(read.json).toEqual(created.json);

    const updated = await call("PATCH", "/agents/support-bot", {
      as,
      body: {
        llm_provider: "anthropic",
        llm_model: "claude-sonnet-4-5",
        temperature: 0.25,
        max_tokens: 8000,
        enabled_tools: ["knowledge_search"],
      },
    });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({
      llm_provider: "anthropic",
      llm_model: "claude-sonnet-4-5",
      temperature: 0.25,
      max_tokens: 8000,
      name: "Support",
    });
    expect(Date.parse(updated.json.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.json.updated_at));

    await call("POST", "/agents", {
      as,
      body: { agent_id: "a-first", name: "A", system_prompt: "Be brief.", temperature: 0 },
    });
    const list = await call("GET", "/agents", { as: member });
    expect(list.status).toBe(200);
    expect(list.json.items.map((a: any) => a.agent_id)).toEqual(["a-first", "support-bot"]);
    expect(list.json.next_cursor).toBeNull();

    const page1 = await call("GET", "/agents?limit=1", { as });
    expect(page1.json.items.map((a: any) => a.agent_id)).toEqual(["a-first"]);
    const page2 = await call("GET", `/agents?limit=1&cursor=${page1.json.next_cursor}`, { as });
    expect(page2.json.items.map((a: any) => a.agent_id)).toEqual(["support-bot"]);

    const deleted = await call("DELETE", "/agents/support-bot", { as });
    expect(deleted.status).toBe(200);
    expect(deleted.json).toEqual({
      status: "success",
      agent_id: "support-bot",
      deleted: true,
      knowledge_chunks_deleted: 0,
    });
    expect((await call("GET", "/agents/support-bot", { as })).status).toBe(404);

    const rows = await auditRows(tenant);
    const changes = rows.filter((r) => ["agent.create", "agent.update", "agent.delete"].includes(r.action));
    expect(changes.map((r) => [r.action, r.resource_id, r.outcome, r.user_id])).toEqual([
      ["agent.create", "support-bot", "success", "admin-1"],
      ["agent.update", "support-bot", "success", "admin-1"],
      ["agent.create", "a-first", "success", "admin-1"],
      ["agent.delete", "support-bot", "success", "admin-1"],
    ]);
    expect(changes[1].details.fields).toEqual([
      "enabled_tools",
      "llm_model",
      "llm_provider",
      "max_tokens",
      "temperature",
    ]);
  });

  it("a deleted agent's own documents go with it, so a new agent with the same id starts empty", async () => {
    const tenant = newTenant();
    const as = { tenant };
    await call("POST", "/agents", { as, body: { agent_id: "helper", name: "H" } });
    await call("POST", "/vault/keys/openai", {
      as,
      body: { service: "openai", api_key: "sk-proj-agentsHappyKey0123456789abcdAGNT" },
    });
    const doc = await call("POST", "/knowledge/documents", {
      as,
      body: { title: "Guide", content: "Reset the router by holding the button.", agent_id: "helper" },
    });
    expect(doc.status).toBe(201);
    const deleted = await call("DELETE", "/agents/helper", { as });
    expect(deleted.json.knowledge_chunks_deleted).toBe(1);
    await call("POST", "/agents", { as, body: { agent_id: "helper", name: "H2" } });
    const docs = await call("GET", "/knowledge/documents?agent_id=helper", { as });
    expect(docs.json.items).toEqual([]);
  });
});
