import { afterEach, describe, expect, it } from "vitest";
import { auditRows, sql, vaultControl, vaultRaw } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const KEY = "sk-proj-errorPathKey0123456789abcdefERR1";

function expectProblem(r: { status: number; res: Response; json: any }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.res.headers.get("content-type")).toBe("application/problem+json");
  expect(r.json).toMatchObject({ status, code, requestId: r.res.headers.get("x-request-id") });
  expect(JSON.stringify(r.json)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack traces
}

describe("BYOK keys: bad input", () => {
  const as = () => ({ tenant: newTenant() });

  it.each([
    ["an invalid service name", "/vault/keys/OpenAI", { service: "OpenAI", api_key: KEY }],
    ["a service name over 64 characters", `/vault/keys/${"a".repeat(65)}`, { service: "a".repeat(65), api_key: KEY }],
    ["a body service different from the path", "/vault/keys/openai", { service: "anthropic", api_key: KEY }],
    ["a missing api_key", "/vault/keys/openai", { service: "openai" }],
    ["an unknown field", "/vault/keys/openai", { service: "openai", api_key: KEY, extra: 1 }],
    [
      "an Anthropic key saved as openai",
      "/vault/keys/openai",
      { service: "openai", api_key: "sk-ant-api03-wrongSlotKey0123456789abcd" },
    ],
    ["an OpenAI key saved as anthropic", "/vault/keys/anthropic", { service: "anthropic", api_key: KEY }],
    [
      "a Groq key saved as openai",
      "/vault/keys/openai",
      { service: "openai", api_key: "gsk_wrongSlotKey0123456789abcdefgh" },
    ],
    ["a key with spaces", "/vault/keys/custom", { service: "custom", api_key: "has spaces in it 123" }],
    ["a key with a pasted newline", "/vault/keys/openai", { service: "openai", api_key: `${KEY}\n` }],
    ["a key with a non-printable character", "/vault/keys/openai", { service: "openai", api_key: `${KEY}\u200b` }],
    ["a key of 7 characters", "/vault/keys/custom", { service: "custom", api_key: "k".repeat(7) }],
    ["a key over 512 characters", "/vault/keys/custom", { service: "custom", api_key: "k".repeat(513) }],
    [
      "metadata setting a server-owned field",
      "/vault/keys/openai",
      { service: "openai", api_key: KEY, metadata: { created_by: "x" } },
    ],
    [
      "metadata with a nested object",
      "/vault/keys/openai",
      { service: "openai", api_key: KEY, metadata: { a: { b: 1 } } },
    ],
    [
      "metadata with too many entries",
      "/vault/keys/openai",
      { service: "openai", api_key: KEY, metadata: Object.fromEntries([...Array(21).keys()].map((i) => [`k${i}`, i])) },
    ],
    ["a negative expected_version", "/vault/keys/openai", { service: "openai", api_key: KEY, expected_version: -1 }],
  ])("400 for %s, and nothing stored", async (_name, path, body) => {
    const who = as();
    const r = await call("POST", path, { as: who, body });
    expectProblem(r, 400, "validation_failed");
    expect(r.text).not.toContain(KEY);
    expect((await vaultRaw("GET", `secret/metadata/tenants/${who.tenant}/api_keys?list=true`)).status).toBe(404);
  });

  it("a refused request is audited too, with its error code", async () => {
    const who = as();
    await call("POST", "/vault/keys/openai", { as: who, body: { service: "openai", api_key: KEY, extra: 1 } });
    await call("GET", "/vault/keys/Bad..Name", { as: who });
    const rows = await auditRows(who.tenant);
    expect(rows.map((r) => [r.action, r.resource_id, r.outcome, r.details])).toEqual([
      ["key.store", "openai", "error", { error: "validation_failed" }],
      ["key.read", "Bad..Name", "error", { error: "validation_failed" }], // the attempted name, as sent (safe characters only)
    ]);
  });

  it("400 for malformed JSON", async () => {
    const r = await call("POST", "/vault/keys/openai", {
      as: as(),
      rawBody: "{not json",
      headers: { "content-type": "application/json" },
    });
    expectProblem(r, 400, "bad_request");
  });

  it("415 for a body without a JSON content type", async () => {
    const r = await call("POST", "/vault/keys/openai", {
      as: as(),
      rawBody: JSON.stringify({ service: "openai", api_key: KEY }),
    });
    expectProblem(r, 415, "unsupported_media_type");
  });

  it("413 for a body over the limit", async () => {
    const r = await call("POST", "/vault/keys/openai", {
      as: as(),
      body: { service: "openai", api_key: KEY, metadata: { big: "x".repeat(70_000) } },
    });
    expectProblem(r, 413, "payload_too_large");
  });

  it("404 reading or deleting a key that does not exist", async () => {
    const who = as();
    expectProblem(await call("GET", "/vault/keys/openai", { as: who }), 404, "not_found");
    expectProblem(await call("DELETE", "/vault/keys/openai", { as: who }), 404, "not_found");
  });
});

describe("BYOK keys: Vault failures", () => {
  afterEach(async () => {
    await vaultControl.clearFaults();
    await vaultControl.unseal();
  });

  it("sealed Vault → 503 with Retry-After; the record is not half-written", async () => {
    const tenant = newTenant();
    await vaultControl.seal();
    const r = await call("POST", "/vault/keys/openai", { as: { tenant }, body: { service: "openai", api_key: KEY } });
    expectProblem(r, 503, "vault_unavailable");
    expect(Number(r.res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(r.text).not.toContain("sealed");
    await vaultControl.unseal();
    // No active record exists, and listing shows nothing.
    const rows = await sql().query(`SELECT is_active, sync_status FROM connector_configs WHERE tenant_id = $1`, [
      tenant,
    ]);
    expect(rows.every((row: any) => row.is_active === false)).toBe(true);
    expect((await call("GET", "/vault/keys", { as: { tenant } })).json.keys).toEqual([]);
    const audit = await auditRows(tenant);
    expect(audit[0]).toMatchObject({ action: "key.store", outcome: "error", details: { error: "vault_unavailable" } });
  });

  it.each([
    [500, 503, "vault_unavailable"],
    [429, 503, "vault_unavailable"],
    // A standby redirecting to the active node: not followed (the token must not travel elsewhere), retried later.
    [307, 503, "vault_unavailable"],
  ])("Vault answering %i → %i %s, never its body", async (forced, status, code) => {
    const tenant = newTenant();
    await vaultControl.faults({ status: forced, pathPrefix: "/v1/secret/" });
    const r = await call("GET", "/vault/keys", { as: { tenant } });
    expectProblem(r, status, code);
    if (status === 503) expect(r.res.headers.get("retry-after")).toBeTruthy();
    expect(r.text).not.toMatch(/"errors"|permission denied|invalid token/);
  });

  it("a mount or key with cas_required is a Vault configuration problem, not a version conflict", async () => {
    const tenant = newTenant();
    const path = `tenants/${tenant}/api_keys/openai`;
    expect((await vaultRaw("POST", `secret/metadata/${path}`, { cas_required: true })).status).toBe(204);
    const r = await call("POST", "/vault/keys/openai", { as: { tenant }, body: { service: "openai", api_key: KEY } });
    expectProblem(r, 502, "vault_misconfigured");
    expect(r.json.detail).toContain("cas_required");
    expect(r.text).not.toContain("check-and-set parameter required");
    // With expected_version the gateway sends cas, which such a mount accepts.
    const withCas = await call("POST", "/vault/keys/openai", {
      as: { tenant },
      body: { service: "openai", api_key: KEY, expected_version: 0 },
    });
    expect(withCas.status).toBe(201);
  });

  it("a slow Vault times out → 503", async () => {
    await vaultControl.faults({ latencyMs: 1500, pathPrefix: "/v1/secret/" });
    const r = await call("GET", "/vault/keys", { as: { tenant: newTenant() }, env: { VAULT_TIMEOUT_MS: "300" } });
    expectProblem(r, 503, "vault_unavailable");
  });

  it("an unreachable Vault → 503", async () => {
    const r = await call("GET", "/vault/keys", {
      as: { tenant: newTenant() },
      env: { VAULT_ADDR: "http://127.0.0.1:9" },
    });
    expectProblem(r, 503, "vault_unavailable");
  });

  it("a rotation that fails in Vault keeps the previous version intact", async () => {
    const tenant = newTenant();
    await call("POST", "/vault/keys/openai", { as: { tenant }, body: { service: "openai", api_key: KEY } });
    await vaultControl.faults({ status: 503, pathPrefix: `/v1/secret/data/`, methods: ["POST", "PUT"] });
    const r = await call("POST", "/vault/keys/openai", {
      as: { tenant },
      body: { service: "openai", api_key: "sk-proj-neverStored0123456789abcdefNEW1" },
    });
    expect(r.status).toBe(503);
    await vaultControl.clearFaults();
    const info = await call("GET", "/vault/keys/openai", { as: { tenant } });
    expect(info.json).toMatchObject({ version: 1, key_hint: "****ERR1" });
    const [row] = await sql().query(`SELECT sync_status, vault_version FROM connector_configs WHERE tenant_id = $1`, [
      tenant,
    ]);
    expect(row).toEqual({ sync_status: "synced", vault_version: 1 });
  });

  it("when the database fails after Vault stored the key, the next read reconciles the record", async () => {
    const tenant = newTenant();
    // Simulate the crash window: Vault has version 1, the record was only marked pending.
    await sql().query(
      `INSERT INTO connector_configs (tenant_id, connector_id, vault_path, is_active, sync_status) VALUES ($1, 'openai', $2, false, 'pending')`,
      [tenant, `tenants/${tenant}/api_keys/openai`],
    );
    await vaultRaw("POST", `secret/data/tenants/${tenant}/api_keys/openai`, {
      data: {
        api_key: KEY,
        created_by: "user-9",
        created_at: new Date().toISOString(),
        key_hint: "****ERR1",
        metadata: { a: 1 },
      },
    });
    const list = await call("GET", "/vault/keys", { as: { tenant } });
    expect(list.json.items).toMatchObject([
      { service: "openai", version: 1, key_hint: "****ERR1", created_by: "user-9", metadata: { a: 1 } },
    ]);
    const [row] = await sql().query(
      `SELECT is_active, sync_status, vault_version FROM connector_configs WHERE tenant_id = $1`,
      [tenant],
    );
    expect(row).toEqual({ is_active: true, sync_status: "synced", vault_version: 1 });
  });

  it("a record whose key vanished from Vault is deactivated on list", async () => {
    const tenant = newTenant();
    await call("POST", "/vault/keys/openai", { as: { tenant }, body: { service: "openai", api_key: KEY } });
    await vaultRaw("DELETE", `secret/metadata/tenants/${tenant}/api_keys/openai`);
    expect((await call("GET", "/vault/keys", { as: { tenant } })).json.keys).toEqual([]);
    const [row] = await sql().query(`SELECT is_active FROM connector_configs WHERE tenant_id = $1`, [tenant]);
    expect(row!.is_active).toBe(false);
  });
});

describe("BYOK keys: database failures", () => {
  it("an unreachable database → 503 database_unavailable, nothing written to Vault", async () => {
    const tenant = newTenant();
    const r = await call("POST", "/vault/keys/openai", {
      as: { tenant },
      body: { service: "openai", api_key: KEY },
      env: { NEON_FETCH_ENDPOINT: "http://127.0.0.1:9/sql" },
    });
    expectProblem(r, 503, "database_unavailable");
    expect(r.text).not.toContain(KEY);
    expect((await vaultRaw("GET", `secret/data/tenants/${tenant}/api_keys/openai`)).status).toBe(404);
  });
});
