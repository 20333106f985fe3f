import { describe, expect, it } from "vitest";
import { auditRows } from "./support/stack";
import { mintToken, newTenant } from "./support/tokens";
import { call } from "./support/worker";

describe("CORS", () => {
  it("allows a configured portal origin, with the headers the portal needs", async () => {
    const r = await call("OPTIONS", "/vault/keys", {
      token: null,
      headers: {
        origin: "http://localhost:5173",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
      },
    });
    expect(r.status).toBe(204);
    expect(r.res.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(r.res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
  });

  it("never allows another origin, and never `*`", async () => {
    const r = await call("GET", "/vault/keys", { headers: { origin: "https://evil.example" } });
    expect(r.res.headers.get("access-control-allow-origin")).toBeNull();
    const pre = await call("OPTIONS", "/vault/keys", {
      token: null,
      headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
    });
    expect(pre.res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers a call without Origin (code, not a browser) with no CORS headers, still varying by Origin", async () => {
    const r = await call("GET", "/vault/keys", { as: { tenant: newTenant() } });
    expect(r.status).toBe(200);
    expect([...r.res.headers.keys()].filter((h) => h.startsWith("access-control-"))).toEqual([]);
    expect(r.res.headers.get("vary")).toContain("Origin");
    const allowed = await call("GET", "/vault/keys", {
      as: { tenant: newTenant() },
      headers: { origin: "http://localhost:5173" },
    });
    expect(allowed.res.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(allowed.res.headers.get("access-control-expose-headers")).toContain("X-Request-Id");
  });
});

describe("secure headers", () => {
  it("are set on API responses", async () => {
    const r = await call("GET", "/vault/keys", { as: { tenant: newTenant() } });
    expect(r.res.headers.get("strict-transport-security")).toContain("max-age=");
    expect(r.res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(r.res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
  });
});

describe("per-tenant rate limit", () => {
  it("answers 429 with Retry-After once a tenant exceeds its limit, without affecting other tenants", async () => {
    const tenant = newTenant();
    const token = await mintToken({ tenant });
    let limited: Awaited<ReturnType<typeof call>> | undefined;
    // The binding allows 300 requests per 60 s per tenant (wrangler.toml); unknown routes still count.
    // Up to 700 calls: a window rolling over mid-loop resets the count once at most.
    for (let i = 0; i < 700 && !limited; i++) {
      const r = await call("GET", "/nope", { token });
      if (r.status === 429) limited = r;
      else expect(r.status).toBe(404);
    }
    expect(limited).toBeDefined();
    expect(limited!.json.code).toBe("rate_limited");
    expect(limited!.res.headers.get("retry-after")).toBe("60");
    expect((await call("GET", "/nope", { as: { tenant: newTenant() } })).status).toBe(404);
    // The refusal is audited, though no route named a target: the row says what was refused.
    const refused = (await auditRows(tenant)).filter((r) => r.details.error === "rate_limited");
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      action: "request.refused",
      resource_type: "route",
      outcome: "denied",
      details: { error: "rate_limited", method: "GET", path: "/nope" },
    });
  });
});
