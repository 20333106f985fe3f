import { describe, expect, it } from "vitest";
import { auditRows, vaultRaw } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

/** A key that must never appear anywhere but in Vault. */
const CANARY = "sk-proj-CANARYcanary0123456789abcdefghijKLMN";

describe("tenant isolation", () => {
  it("two tenants storing the same service never see or touch each other's key", async () => {
    const a = newTenant();
    const b = newTenant();
    await call("POST", "/vault/keys/openai", {
      as: { tenant: a },
      body: { service: "openai", api_key: "sk-proj-tenantAkey0123456789abcdefAAAA" },
    });
    await call("POST", "/vault/keys/openai", {
      as: { tenant: b },
      body: { service: "openai", api_key: "sk-proj-tenantBkey0123456789abcdefBBBB" },
    });

    expect((await call("GET", "/vault/keys/openai", { as: { tenant: a } })).json.key_hint).toBe("****AAAA");
    expect((await call("GET", "/vault/keys/openai", { as: { tenant: b } })).json.key_hint).toBe("****BBBB");

    // B deletes its key; A's is untouched.
    expect((await call("DELETE", "/vault/keys/openai", { as: { tenant: b } })).status).toBe(200);
    expect((await call("GET", "/vault/keys/openai", { as: { tenant: a } })).json).toMatchObject({
      version: 1,
      key_hint: "****AAAA",
    });
    expect((await call("GET", "/vault/keys/openai", { as: { tenant: b } })).status).toBe(404);
    expect((await vaultRaw("GET", `secret/data/tenants/${a}/api_keys/openai`)).json.data.data.api_key).toContain(
      "AAAA",
    );

    // Each tenant's audit trail holds only its own rows.
    const trailA = await call("GET", "/audit-logs", { as: { tenant: a } });
    expect(trailA.json.items.every((r: any) => r.resource_id === "openai")).toBe(true);
    expect((await auditRows(a)).map((r) => r.action)).toEqual(["key.create", "key.read", "key.read", "audit.list"]);
  });

  it("the tenant comes only from the token, never from the request", async () => {
    const a = newTenant();
    const b = newTenant();
    await call("POST", "/vault/keys/openai", {
      as: { tenant: b },
      body: { service: "openai", api_key: "sk-proj-tenantBkey0123456789abcdefBBBB" },
    });
    const r = await call("GET", `/vault/keys/openai?tenant_id=${b}`, {
      as: { tenant: a },
      headers: { "x-tenant-id": b },
    });
    expect(r.status).toBe(404);
  });

  it.each(["..", ".", "%2e%2e", "openai%2F..%2F..", "a/b"])(
    "a path-traversal service %s never reaches Vault",
    async (service) => {
      const r = await call("GET", `/vault/keys/${service}`, { as: { tenant: newTenant() } });
      expect([400, 404]).toContain(r.status);
      expect(r.res.headers.get("content-type")).toBe("application/problem+json");
    },
  );
});

describe("the canary key", () => {
  it("appears in no response, log line or audit row on any path, success or failure", async () => {
    const tenant = newTenant();
    const logs: string[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => {
      logs.push(args.map(String).join(" "));
    };
    const responses: string[] = [];
    try {
      const as = { tenant };
      const send = async (method: string, path: string, b?: unknown, extra: object = {}) =>
        responses.push((await call(method, path, { as, body: b, ...extra })).text);
      await send("POST", "/vault/keys/openai", { service: "openai", api_key: CANARY, metadata: { note: "canary" } });
      await send("POST", "/vault/keys/openai", { service: "openai", api_key: CANARY, expected_version: 0 }); // 409
      await send("POST", "/vault/keys/openai", { service: "openai", api_key: CANARY, unknown: true }); // 400
      await send("POST", "/vault/keys/anthropic", { service: "anthropic", api_key: CANARY }); // wrong shape
      await send(
        "POST",
        "/vault/keys/openai",
        { service: "openai", api_key: CANARY },
        { as: { tenant, roles: ["member"] } },
      ); // 403
      await send(
        "POST",
        "/vault/keys/openai",
        { service: "openai", api_key: CANARY },
        { env: { NEON_FETCH_ENDPOINT: "http://127.0.0.1:9/sql" } },
      );
      await send("GET", "/vault/keys/openai");
      await send("GET", "/vault/keys");
      await send("GET", "/audit-logs");
      await send("DELETE", "/vault/keys/openai");
    } finally {
      console.log = original;
    }
    const rows = await auditRows(tenant);
    // Refused input, the database outage (its row lands when the queue retries) and the audit read all leave a row.
    expect(rows.map((r) => `${r.action}:${r.outcome}`)).toEqual([
      "key.create:success",
      "key.store:error",
      "key.store:error",
      "key.store:error",
      "key.store:denied",
      "key.store:error",
      "key.read:success",
      "key.list:success",
      "audit.list:success",
      "key.delete:success",
    ]);
    expect(logs.length).toBeGreaterThan(0);
    for (const text of [...responses, ...logs, JSON.stringify(rows)]) {
      expect(text).not.toContain(CANARY);
      expect(text).not.toContain(CANARY.slice(8, 30));
    }
  });
});
