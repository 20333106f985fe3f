import { describe, expect, it } from "vitest";
import { createAgent, openaiKey, storeKey } from "./support/knowledge";
import { auditRows, llmCalls, sha256Hex, sql, vaultControl, vaultRaw } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

/** Text Postgres cannot store: U+0000, and UTF-16 surrogates without their pair (JSON carries them as \u escapes). */
const BAD = { nul: "a\u0000b", high: "a\ud800b", low: "a\udc00b", "trailing high": "label\ud83d" };
const badCases = Object.entries(BAD);

/** The 400 names the field, never the value. */
function expectRefused(r: { status: number; json: any }, path: string) {
  expect(r.status, JSON.stringify(r.json)).toBe(400);
  expect(r.json.code).toBe("validation_failed");
  expect(r.json.errors).toContainEqual({ path, message: "must not contain U+0000 or an unpaired surrogate" });
  expect(r.json.detail).toContain(path);
}

/** The tenant's own key, so the provider stand-in's call log can be filtered to this test. */
async function tenantWithKey() {
  const tenant = newTenant();
  const key = openaiKey(`t${tenant.slice(0, 8)}`);
  await storeKey(tenant, "openai", key);
  return { tenant, fingerprint: await sha256Hex(key) };
}

async function providerCalls(fingerprint: string) {
  return (await llmCalls()).filter((c) => c.keyFingerprint === fingerprint);
}

describe("text Postgres cannot store is refused before any side effect", () => {
  it.each(badCases)("keys: metadata with %s → 400 naming metadata.label; nothing written to Vault", async (_, bad) => {
    const tenant = newTenant();
    const r = await call("POST", "/vault/keys/openai", {
      as: { tenant },
      body: { service: "openai", api_key: "sk-proj-textcheck0123456789abcdTXT1", metadata: { label: bad } },
    });
    expectRefused(r, "metadata.label");
    const touched = (await vaultControl.requests()).filter((q) => q.path.includes(tenant));
    expect(touched).toEqual([]);
    expect((await vaultRaw("GET", `secret/data/tenants/${tenant}/api_keys/openai`)).status).toBe(404);
    const list = await call("GET", "/vault/keys", { as: { tenant } });
    expect(list.status).toBe(200);
    expect(list.json.keys).toEqual([]);
    // The refusal is audited like any invalid input.
    expect((await auditRows(tenant)).find((row) => row.action === "key.store")).toMatchObject({ outcome: "error" });
  });

  it("keys: an api_key ending in U+0000 (its hint is a column) → 400 naming api_key", async () => {
    const tenant = newTenant();
    const r = await call("POST", "/vault/keys/openai", {
      as: { tenant },
      body: { service: "openai", api_key: "sk-proj-textcheck0123456789abcd\u0000" },
    });
    expectRefused(r, "api_key");
    expect((await vaultRaw("GET", `secret/data/tenants/${tenant}/api_keys/openai`)).status).toBe(404);
  });

  it.each(badCases)(
    "agents: %s in name, description or system_prompt → 400 naming it; nothing stored",
    async (_, bad) => {
      const tenant = newTenant();
      for (const field of ["name", "description", "system_prompt"]) {
        const r = await call("POST", "/agents", {
          as: { tenant },
          body: { agent_id: "bot", name: "Bot", [field]: bad },
        });
        expectRefused(r, field);
      }
      expect(await sql().query("SELECT 1 FROM agent_configs WHERE tenant_id = $1", [tenant])).toEqual([]);

      await createAgent(tenant, { agent_id: "bot", name: "Bot" });
      for (const field of ["name", "description", "system_prompt"]) {
        expectRefused(await call("PATCH", "/agents/bot", { as: { tenant }, body: { [field]: bad } }), field);
      }
      const agent = await call("GET", "/agents/bot", { as: { tenant } });
      expect(agent.json).toMatchObject({
        name: "Bot",
        description: null,
        system_prompt: "You are a helpful assistant.",
      });
    },
  );

  it.each(badCases)(
    "documents: %s in content, title or metadata → 400 naming it; no embedding call",
    async (_, bad) => {
      const { tenant, fingerprint } = await tenantWithKey();
      const ok = { title: "Doc", content: "Routers reset with a button." };
      const cases: Array<[string, string, unknown]> = [
        ["/knowledge/documents", "content", { ...ok, content: `Routers ${bad}` }],
        ["/knowledge/documents", "title", { ...ok, title: bad }],
        ["/knowledge/documents", "metadata.source", { ...ok, metadata: { source: bad } }],
        ["/knowledge/documents/batch", "documents.1.content", { documents: [ok, { ...ok, content: bad }] }],
        [
          "/knowledge/documents/batch",
          "documents.0.metadata.page",
          { documents: [{ ...ok, metadata: { page: bad } }] },
        ],
      ];
      for (const [path, field, body] of cases) expectRefused(await call("POST", path, { as: { tenant }, body }), field);
      expect(await providerCalls(fingerprint)).toEqual([]);
      expect(await sql().query("SELECT 1 FROM knowledge_base WHERE tenant_id = $1", [tenant])).toEqual([]);
    },
  );

  it.each(badCases)("search: %s in the query → 400 naming query; no embedding call", async (_, bad) => {
    const { tenant, fingerprint } = await tenantWithKey();
    expectRefused(await call("POST", "/knowledge/search", { as: { tenant }, body: { query: bad } }), "query");
    expect(await providerCalls(fingerprint)).toEqual([]);
  });

  it.each(badCases)("chat: %s in a message → 400 naming it; no provider call", async (_, bad) => {
    const { tenant, fingerprint } = await tenantWithKey();
    await createAgent(tenant, { agent_id: "bot" });
    const messages = [
      { role: "user", content: bad },
      { role: "assistant", content: "Hello." },
      { role: "user", content: "And?" },
    ];
    for (const stream of [false, true]) {
      const r = await call("POST", "/agents/bot/chat", { as: { tenant }, body: { messages, stream } });
      expectRefused(r, "messages.0.content");
    }
    expect(await providerCalls(fingerprint)).toEqual([]);
  });

  it("audit-logs: a NUL in resource_id → 400 naming it", async () => {
    const r = await call("GET", "/audit-logs?resource_id=a%00b", { as: { tenant: newTenant() } });
    expectRefused(r, "resource_id");
  });

  it("well-formed text beyond the BMP (surrogate pairs) is stored as given", async () => {
    const tenant = newTenant();
    const label = "prod 🔑 ключ";
    const r = await call("POST", "/vault/keys/openai", {
      as: { tenant },
      body: { service: "openai", api_key: "sk-proj-textcheck0123456789abcdTXT2", metadata: { label } },
    });
    expect(r.status).toBe(201);
    const list = await call("GET", "/vault/keys", { as: { tenant } });
    expect(list.json.items[0].metadata).toEqual({ label });
  });
});

describe("a Vault-held key whose fields Postgres cannot store", () => {
  it("does not break the tenant's key list: the record leaves those fields out", async () => {
    const tenant = newTenant();
    // Written straight to Vault, as the API did before it refused such text (or as another Vault client might).
    const written = await vaultRaw("POST", `secret/data/tenants/${tenant}/api_keys/openai`, {
      data: {
        api_key: "sk-proj-vaultonly0123456789abcdVLT1",
        created_at: new Date().toISOString(),
        created_by: "user\u0000x",
        key_hint: "****VLT1",
        metadata: { label: "a\u0000b", team: "ml", note: "x\ud800" },
      },
    });
    expect(written.status).toBe(200);
    for (const path of ["/vault/keys", "/vault/keys/openai", "/vault/keys"]) {
      const r = await call("GET", path, { as: { tenant, roles: ["member"] } });
      expect(r.status, path).toBe(200);
      const info = path === "/vault/keys" ? r.json.items[0] : r.json;
      expect(info).toMatchObject({
        service: "openai",
        key_hint: "****VLT1",
        created_by: null,
        metadata: { team: "ml" },
      });
    }
    const [row] = await sql().query("SELECT sync_status, metadata FROM connector_configs WHERE tenant_id = $1", [
      tenant,
    ]);
    expect(row).toEqual({ sync_status: "synced", metadata: { team: "ml" } });
  });
});
