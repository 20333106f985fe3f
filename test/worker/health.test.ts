import { describe, expect, it } from "vitest";
import { vaultControl } from "./support/stack";
import { call } from "./support/worker";

describe("GET /health", () => {
  it("answers without dependencies, even with broken settings", async () => {
    const r = await call("GET", "/health", { token: null, env: { DATABASE_URL: undefined, VAULT_ADDR: "not a url" } });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ status: "ok" });
    expect(r.res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("keeps a caller's well-formed request id and replaces a malformed one", async () => {
    const kept = await call("GET", "/health", { token: null, headers: { "x-request-id": "portal-abc-123" } });
    expect(kept.res.headers.get("x-request-id")).toBe("portal-abc-123");
    const replaced = await call("GET", "/health", { token: null, headers: { "x-request-id": "bad id <script>" } });
    expect(replaced.res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("GET /ready", () => {
  it("is ready when Vault and the database answer", async () => {
    const r = await call("GET", "/ready", { token: null });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ status: "ready", checks: { vault: "ok", database: "ok" } });
  });

  it("answers 503 naming Vault when Vault is sealed", async () => {
    await vaultControl.seal();
    try {
      const r = await call("GET", "/ready", { token: null });
      expect(r.status).toBe(503);
      expect(r.json.checks).toEqual({ vault: "failed", database: "ok" });
      expect(r.res.headers.get("retry-after")).toBe("5");
    } finally {
      await vaultControl.unseal();
    }
  });

  it.each([
    ["standby", 200],
    ["perfstandby", 200],
    ["standby-unhealthy", 503],
    ["dr-secondary", 503],
    ["removed", 503],
  ])("behind a Vault %s node → %i", async (ha, status) => {
    await vaultControl.mode({ ha });
    try {
      const r = await call("GET", "/ready", { token: null });
      expect(r.status).toBe(status);
      expect(r.json.checks.vault).toBe(status === 200 ? "ok" : "failed");
    } finally {
      await vaultControl.mode({ ha: "active" });
    }
  });

  it("answers 503 naming the database when it cannot be reached", async () => {
    const r = await call("GET", "/ready", { token: null, env: { NEON_FETCH_ENDPOINT: "http://127.0.0.1:9/sql" } });
    expect(r.status).toBe(503);
    expect(r.json.checks).toEqual({ vault: "ok", database: "failed" });
  });
});

describe("configuration errors", () => {
  it("a missing setting is a problem+json 500 naming the setting, not its value", async () => {
    const r = await call("GET", "/vault/keys", { env: { JWT_SECRET: "too-short-secret" } });
    expect(r.status).toBe(500);
    expect(r.res.headers.get("content-type")).toBe("application/problem+json");
    expect(r.json.code).toBe("config_invalid");
    expect(r.json.detail).toContain("JWT_SECRET");
    expect(r.text).not.toContain("too-short-secret");
  });

  it("names a missing DATABASE_URL", async () => {
    const r = await call("GET", "/vault/keys", { env: { DATABASE_URL: undefined } });
    expect(r.status).toBe(500);
    expect(r.json.detail).toContain("DATABASE_URL");
  });

  it("refuses the dev sign-in in production", async () => {
    const r = await call("GET", "/vault/keys", { env: { APP_ENV: "production", DEV_LOGIN: "true" } });
    expect(r.status).toBe(500);
    expect(r.json.detail).toContain("DEV_LOGIN");
  });
});

describe("unknown routes and the API document", () => {
  it("404s as problem+json", async () => {
    const r = await call("GET", "/nope");
    expect(r.status).toBe(404);
    expect(r.json.code).toBe("not_found");
  });

  it("serves an OpenAPI 3.1 document generated from the routes", async () => {
    const r = await call("GET", "/openapi.json", { token: null });
    expect(r.status).toBe(200);
    expect(r.json.openapi).toBe("3.1.0");
    expect(Object.keys(r.json.paths)).toEqual(
      expect.arrayContaining(["/vault/keys/{service}", "/vault/keys", "/audit-logs", "/health", "/ready"]),
    );
    expect(r.json.components.schemas.StoreKeyRequest.required).toEqual(expect.arrayContaining(["service", "api_key"]));
  });
});
