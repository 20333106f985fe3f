import { describe, expect, it } from "vitest";
import { auditRows, sql, vaultRaw } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const OPENAI_KEY = "sk-proj-happyPathKey0123456789abcdefWXYZ";
const ANTHROPIC_KEY = "sk-ant-api03-happyPathKey0123456789abcdABCD";

describe("BYOK keys: the portal's flow", () => {
  it("stores, reads, lists, rotates and deletes a key, never returning it", async () => {
    const tenant = newTenant();
    const as = { tenant, user: "user-1", roles: ["admin"] };

    const stored = await call("POST", "/vault/keys/openai", {
      as,
      body: { service: "openai", api_key: OPENAI_KEY, metadata: { label: "prod" } },
    });
    expect(stored.status).toBe(201);
    expect(stored.json).toEqual({
      status: "success",
      action: "created",
      service: "openai",
      vault_path: `tenants/${tenant}/api_keys/openai`,
      version: 1,
      key_hint: "****WXYZ",
    });

    // Vault holds the key at the tenant's path, with who and when.
    const inVault = await vaultRaw("GET", `secret/data/tenants/${tenant}/api_keys/openai`);
    expect(inVault.status).toBe(200);
    expect(inVault.json.data.data).toMatchObject({
      api_key: OPENAI_KEY,
      created_by: "user-1",
      metadata: { label: "prod" },
    });

    const read = await call("GET", "/vault/keys/openai", { as });
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({
      service: "openai",
      has_key: true,
      created_by: "user-1",
      version: 1,
      key_hint: "****WXYZ",
      metadata: { label: "prod" },
    });
    expect(Date.parse(read.json.created_at)).not.toBeNaN();
    expect(Date.parse(read.json.updated_at)).not.toBeNaN();

    await call("POST", "/vault/keys/anthropic", { as, body: { service: "anthropic", api_key: ANTHROPIC_KEY } });
    const list = await call("GET", "/vault/keys", { as });
    expect(list.status).toBe(200);
    expect(list.json.keys).toEqual(["anthropic", "openai"]);
    expect(list.json.items.map((i: any) => [i.service, i.key_hint, i.version])).toEqual([
      ["anthropic", "****ABCD", 1],
      ["openai", "****WXYZ", 1],
    ]);

    const rotated = await call("POST", "/vault/keys/openai", {
      as: { ...as, user: "user-2" },
      body: { service: "openai", api_key: "sk-proj-rotatedKey0123456789abcdefROT8" },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.json).toMatchObject({ action: "rotated", version: 2, key_hint: "****ROT8" });
    const afterRotate = await call("GET", "/vault/keys/openai", { as });
    expect(afterRotate.json).toMatchObject({
      version: 2,
      key_hint: "****ROT8",
      created_by: "user-1",
      created_at: read.json.created_at,
    });
    expect(Date.parse(afterRotate.json.updated_at)).toBeGreaterThan(Date.parse(read.json.updated_at));
    const listed = (await call("GET", "/vault/keys", { as })).json.items.find((i: any) => i.service === "openai");
    expect(listed).toEqual(afterRotate.json);

    const deleted = await call("DELETE", "/vault/keys/openai", { as });
    expect(deleted.status).toBe(200);
    expect(deleted.json).toEqual({ status: "success", service: "openai", deleted: true });
    expect((await vaultRaw("GET", `secret/metadata/tenants/${tenant}/api_keys/openai`)).status).toBe(404);
    expect((await call("GET", "/vault/keys/openai", { as })).status).toBe(404);
    expect((await call("GET", "/vault/keys", { as })).json.keys).toEqual(["anthropic"]);

    const [record] = await sql().query(
      `SELECT is_active, sync_status, vault_path FROM connector_configs WHERE tenant_id = $1 AND connector_id = 'openai'`,
      [tenant],
    );
    expect(record).toEqual({
      is_active: false,
      sync_status: "synced",
      vault_path: `tenants/${tenant}/api_keys/openai`,
    });

    // Every call left one audit row, in order, after waitUntil settled.
    const rows = await auditRows(tenant);
    expect(rows.map((r) => [r.action, r.resource_id, r.outcome])).toEqual([
      ["key.create", "openai", "success"],
      ["key.read", "openai", "success"],
      ["key.create", "anthropic", "success"],
      ["key.list", null, "success"],
      ["key.rotate", "openai", "success"],
      ["key.read", "openai", "success"],
      ["key.list", null, "success"],
      ["key.delete", "openai", "success"],
      ["key.read", "openai", "error"],
      ["key.list", null, "success"],
    ]);
    expect(rows[0]).toMatchObject({
      user_id: "user-1",
      resource_type: "api_key",
      details: { vault_version: 1, key_hint: "****WXYZ" },
    });
    expect(rows[4]).toMatchObject({ user_id: "user-2", details: { vault_version: 2, key_hint: "****ROT8" } });
    expect(rows[0].request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("with delete_version_after set, live versions carry a future deletion_time and the whole key API still sees them", async () => {
    const tenant = newTenant();
    const as = { tenant, user: "user-1", roles: ["admin"] };
    // Set on the key before its first version, as an operator would for the mount: Vault then stamps
    // deletion_time = created_time + 1h on every version and keeps serving it until then.
    const path = `tenants/${tenant}/api_keys/openai`;
    expect((await vaultRaw("POST", `secret/metadata/${path}`, { delete_version_after: "1h" })).status).toBe(204);

    const stored = await call("POST", "/vault/keys/openai", { as, body: { service: "openai", api_key: OPENAI_KEY } });
    expect(stored.status).toBe(201);
    const meta = await vaultRaw("GET", `secret/metadata/${path}`);
    expect(Date.parse(meta.json.data.versions["1"].deletion_time)).toBeGreaterThan(Date.now());
    // Written by the gateway's AppRole token (never the root token), as KV v2 attribution shows.
    expect(meta.json.data.versions["1"].created_by).toMatchObject({ actor: "approle", operation: "update" });

    expect((await call("GET", "/vault/keys/openai", { as })).json).toMatchObject({ version: 1, key_hint: "****WXYZ" });
    expect((await call("GET", "/vault/keys", { as })).json.keys).toEqual(["openai"]);
    const rotated = await call("POST", "/vault/keys/openai", {
      as,
      body: { service: "openai", api_key: "sk-proj-rotatedKey0123456789abcdefROT8", expected_version: 1 },
    });
    expect(rotated.json).toMatchObject({ action: "rotated", version: 2 });
    // A stale record (as after a crash) is reconciled from Vault, not dropped as "deleted".
    await sql().query(`UPDATE connector_configs SET sync_status = 'pending' WHERE tenant_id = $1`, [tenant]);
    expect((await call("GET", "/vault/keys/openai", { as })).json).toMatchObject({ version: 2, key_hint: "****ROT8" });
    expect((await call("GET", "/vault/keys", { as })).json.items.map((i: any) => [i.service, i.version])).toEqual([
      ["openai", 2],
    ]);
    // The key is used for chat like any other.
    await call("POST", "/agents", { as, body: { agent_id: "dva-bot", name: "DVA bot" } });
    const chat = await call("POST", "/agents/dva-bot/chat", {
      as,
      body: { messages: [{ role: "user", content: "Hi" }] },
    });
    expect(chat.status).toBe(200);
    expect((await call("DELETE", "/vault/keys/openai", { as })).json).toMatchObject({ deleted: true });
    expect((await call("GET", "/vault/keys/openai", { as })).status).toBe(404);
  });

  it("a version whose deletion_time has passed is deleted: the key is reported missing", async () => {
    const tenant = newTenant();
    const as = { tenant };
    await call("POST", "/vault/keys/openai", { as, body: { service: "openai", api_key: OPENAI_KEY } });
    // Soft-delete the current version behind the gateway's back (deletion_time = now).
    expect((await vaultRaw("DELETE", `secret/data/tenants/${tenant}/api_keys/openai`)).status).toBe(204);
    await sql().query(`UPDATE connector_configs SET sync_status = 'pending' WHERE tenant_id = $1`, [tenant]);
    expect((await call("GET", "/vault/keys/openai", { as })).status).toBe(404);
  });

  it("compare-and-set: stores with the expected version and refuses a stale one with 409", async () => {
    const as = { tenant: newTenant() };
    const first = await call("POST", "/vault/keys/openai", {
      as,
      body: { service: "openai", api_key: OPENAI_KEY, expected_version: 0 },
    });
    expect(first.status).toBe(201);
    const stale = await call("POST", "/vault/keys/openai", {
      as,
      body: { service: "openai", api_key: "sk-proj-secondKey0123456789abcdefghij", expected_version: 0 },
    });
    expect(stale.status).toBe(409);
    expect(stale.json.code).toBe("version_conflict");
    const ok = await call("POST", "/vault/keys/openai", {
      as,
      body: { service: "openai", api_key: "sk-proj-secondKey0123456789abcdefghij", expected_version: 1 },
    });
    expect(ok.status).toBe(200);
    expect(ok.json.version).toBe(2);
  });

  it("members read metadata and lists", async () => {
    const tenant = newTenant();
    await call("POST", "/vault/keys/openai", { as: { tenant }, body: { service: "openai", api_key: OPENAI_KEY } });
    const member = { tenant, roles: ["member"] };
    expect((await call("GET", "/vault/keys/openai", { as: member })).status).toBe(200);
    expect((await call("GET", "/vault/keys", { as: member })).json.keys).toEqual(["openai"]);
  });

  it("accepts any well-formed service name with a generic key", async () => {
    const as = { tenant: newTenant() };
    const r = await call("POST", "/vault/keys/my-llm_2", {
      as,
      body: { service: "my-llm_2", api_key: "custom-key-123456" },
    });
    expect(r.status).toBe(201);
  });

  it("admins page through the audit trail newest first, with filters", async () => {
    const tenant = newTenant();
    const as = { tenant };
    await call("POST", "/vault/keys/openai", { as, body: { service: "openai", api_key: OPENAI_KEY } });
    for (let i = 0; i < 3; i++) await call("GET", "/vault/keys/openai", { as });
    await call("GET", "/vault/keys", { as });

    const page1 = await call("GET", "/audit-logs?limit=2", { as });
    expect(page1.status).toBe(200);
    expect(page1.json.items.map((r: any) => r.action)).toEqual(["key.list", "key.read"]);
    expect(page1.json.next_cursor).toEqual(expect.any(String));
    const page2 = await call("GET", `/audit-logs?limit=2&cursor=${page1.json.next_cursor}`, { as });
    expect(page2.json.items.map((r: any) => r.action)).toEqual(["key.read", "key.read"]);
    const page3 = await call("GET", `/audit-logs?limit=2&cursor=${page2.json.next_cursor}`, { as });
    expect(page3.json.items.map((r: any) => r.action)).toEqual(["key.create"]);
    expect(page3.json.next_cursor).toBeNull();

    const reads = await call("GET", "/audit-logs?action=key.read", { as });
    expect(reads.json.items).toHaveLength(3);
    const future = await call(
      "GET",
      `/audit-logs?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
      { as },
    );
    expect(future.json.items).toHaveLength(0);
    const byResource = await call("GET", "/audit-logs?resource_id=anthropic", { as });
    expect(byResource.json.items).toHaveLength(0);
  });
});
