import { afterEach, describe, expect, it } from "vitest";
import { neonControl } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const KEY = "sk-proj-databaseFaultKey0123456789abcDB1";
// Short, so that a hung call and the audit write's retries end quickly.
const FAST = { DATABASE_TIMEOUT_MS: "300" };
// The platform delivers the request's audit event later; by then the database is back.
const recover = () => neonControl.clearFaults();

function expectUnavailable(r: { status: number; res: Response; json: any }) {
  expect(r.status).toBe(503);
  expect(r.res.headers.get("content-type")).toBe("application/problem+json");
  expect(r.json).toMatchObject({ code: "database_unavailable", requestId: r.res.headers.get("x-request-id") });
  expect(r.res.headers.get("retry-after")).toBe("2");
}

describe("a database that accepts requests but never answers", () => {
  afterEach(() => neonControl.clearFaults());

  it("GET /vault/keys/:service ends in 503 database_unavailable", async () => {
    const tenant = newTenant();
    expect(
      (await call("POST", "/vault/keys/openai", { as: { tenant }, body: { service: "openai", api_key: KEY } })).status,
    ).toBe(201);
    await neonControl.faults({ hang: true });
    const r = await call("GET", "/vault/keys/openai", { as: { tenant }, env: FAST, beforeAuditDelivery: recover });
    expectUnavailable(r);
    expect(r.text).not.toContain(KEY);
  });

  it("GET /agents ends in 503 database_unavailable", async () => {
    await neonControl.faults({ hang: true });
    expectUnavailable(
      await call("GET", "/agents", { as: { tenant: newTenant() }, env: FAST, beforeAuditDelivery: recover }),
    );
  });

  it("GET /ready reports the database failed, and Vault ok", async () => {
    await neonControl.faults({ hang: true });
    const r = await call("GET", "/ready", { token: null, env: FAST });
    expect(r.status).toBe(503);
    expect(r.json).toEqual({ status: "unavailable", checks: { vault: "ok", database: "failed" } });
  });

  it("a slow database within the timeout is only slow", async () => {
    await neonControl.faults({ latencyMs: 100 });
    const r = await call("GET", "/ready", { token: null, env: { DATABASE_TIMEOUT_MS: "3000" } });
    expect(r.status).toBe(200);
  });
});

describe("the proxy failing in front of the database", () => {
  afterEach(() => neonControl.clearFaults());

  it.each([500, 502, 503])("a %i from the proxy → 503 database_unavailable", async (status) => {
    await neonControl.faults({ status });
    expectUnavailable(await call("GET", "/agents", { as: { tenant: newTenant() } }));
  });

  it("a query the proxy cancelled (08P01) → 503 database_unavailable", async () => {
    await neonControl.faults({ cancelled: true });
    expectUnavailable(await call("GET", "/agents", { as: { tenant: newTenant() } }));
  });

  it("a fault for the next request only: the one after it succeeds", async () => {
    const tenant = newTenant();
    await neonControl.faults({ status: 500, count: 1 });
    expectUnavailable(await call("GET", "/agents", { as: { tenant } }));
    expect((await call("GET", "/agents", { as: { tenant } })).status).toBe(200);
  });
});
