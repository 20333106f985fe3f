import { describe, expect, it } from "vitest";
import { createApiKey } from "./support/api-keys";
import { openaiKey, storeKey } from "./support/knowledge";
import { sql } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

describe("POST /api-keys refuses bad input (400, nothing stored)", () => {
  it.each([
    ["no name", {}, "name"],
    ["an empty name", { name: "   " }, "name"],
    ["an unknown field", { name: "x", scopes: ["all"] }, ""],
    ["a past expiry", { name: "x", expires_at: "2020-01-01T00:00:00Z" }, "expires_at"],
    ["an expiry without a time zone", { name: "x", expires_at: "2099-01-01T00:00:00" }, "expires_at"],
    ["a rate limit that is no tier", { name: "x", rate_limit_per_minute: 15 }, "rate_limit_per_minute"],
    ["an agent that is no slug", { name: "x", allowed_agents: ["Not A Slug"] }, "allowed_agents.0"],
    ["a repeated model", { name: "x", allowed_models: ["gpt-4o", "gpt-4o"] }, "allowed_models"],
    ["a NUL in the name", { name: "a\u0000b" }, "name"],
  ])("%s", async (_what, body, path) => {
    const tenant = newTenant();
    const r = await call("POST", "/api-keys", { as: { tenant }, body });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("validation_failed");
    expect(r.json.errors.map((e: any) => e.path)).toContain(path);
    expect(await sql().query("SELECT id FROM api_keys WHERE tenant_id = $1", [tenant])).toEqual([]);
  });

  it("names the allowed rate limits", async () => {
    const r = await call("POST", "/api-keys", {
      as: { tenant: newTenant() },
      body: { name: "x", rate_limit_per_minute: 15 },
    });
    expect(r.json.detail).toContain("10, 30, 60, 120, 300");
  });
});

describe("unknown ids", () => {
  it("404 for a key the tenant does not have; 400 for an id that is no UUID", async () => {
    const tenant = newTenant();
    const missing = crypto.randomUUID();
    expect((await call("GET", `/api-keys/${missing}`, { as: { tenant } })).status).toBe(404);
    expect((await call("DELETE", `/api-keys/${missing}`, { as: { tenant } })).json.code).toBe("not_found");
    expect((await call("DELETE", "/api-keys/not-a-uuid", { as: { tenant } })).status).toBe(400);
  });
});

describe("refused keys on /v1 (401 invalid_api_key, OpenAI-shaped, no provider call)", () => {
  it.each([
    ["an unknown key", `bgk_${"A".repeat(43)}`],
    ["a key one character short", `bgk_${"A".repeat(42)}`],
    ["a key with a foreign character", `bgk_${"A".repeat(42)}-`],
  ])("%s", async (_what, token) => {
    const r = await call("POST", "/v1/chat/completions", {
      token,
      body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] },
    });
    expect(r.status).toBe(401);
    expect(r.res.headers.get("content-type")).toBe("application/json");
    expect(r.res.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect(r.json.error).toMatchObject({ code: "invalid_api_key", type: "authentication_error" });
    expect(r.text).not.toContain(token);
  });

  it("the database down while looking a key up → 503, never a pass", async () => {
    const r = await call("GET", "/v1/models", {
      token: `bgk_${"B".repeat(43)}`,
      env: { NEON_FETCH_ENDPOINT: "http://127.0.0.1:9/sql" },
    });
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe("database_unavailable");
  });
});

describe("an API key outside /v1", () => {
  it("is a clear 401 api_key_not_accepted (problem+json) on every other route, even a valid key", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("apikeyroute"));
    const { key } = await createApiKey(tenant);
    for (const [method, path] of [
      ["GET", "/vault/keys"],
      ["GET", "/api-keys"],
      ["POST", "/api-keys"],
      ["GET", "/audit-logs"],
      ["GET", "/agents"],
    ] as const) {
      const r = await call(method, path, { token: key, body: method === "POST" ? { name: "escalate" } : undefined });
      expect(r.status, path).toBe(401);
      expect(r.res.headers.get("content-type")).toBe("application/problem+json");
      expect(r.json.code).toBe("api_key_not_accepted");
      expect(r.json.detail).toContain("/v1");
    }
    // Nothing was created by the attempt.
    expect((await call("GET", "/api-keys", { as: { tenant } })).json.items).toHaveLength(1);
  });
});
