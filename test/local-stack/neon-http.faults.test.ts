/**
 * The Neon stand-in's fault injection, driven by the real client: each fault
 * surfaces exactly as the same failure of Neon's proxy does in production.
 */
import { NeonDbError, neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startNeonHttp, type NeonHttpServer } from "../../local-stack/neon-http/server.js";

let server: NeonHttpServer;
const sql = neon("postgresql://user:pass@ep-local.localtest.me/neondb");

async function faults(method: "PUT" | "DELETE", spec?: unknown): Promise<Response> {
  return await fetch(new URL("/__standin/faults", server.url), {
    method,
    body: spec === undefined ? undefined : JSON.stringify(spec),
  });
}

beforeAll(async () => {
  server = await startNeonHttp();
  neonConfig.fetchEndpoint = server.url;
});
afterAll(async () => {
  await server?.close();
});
afterEach(async () => {
  await faults("DELETE");
});

describe("Neon stand-in faults", () => {
  it("hang: the request is accepted and never answered; the driver's fetchOptions signal ends it", async () => {
    expect((await faults("PUT", { hang: true })).status).toBe(204);
    const err = await sql.query("SELECT 1", [], { fetchOptions: { signal: AbortSignal.timeout(200) } }).catch((e) => e);
    expect(err).toBeInstanceOf(NeonDbError);
    expect(err.message).toMatch(/^Error connecting to database: .*TimeoutError|timeout/i);
    expect(err.code).toBeUndefined();
  });

  it("clearing a hang cuts the held requests instead of leaving them open", async () => {
    await faults("PUT", { hang: true });
    const pending = sql.query("SELECT 1").catch((e) => e);
    await new Promise((r) => setTimeout(r, 100));
    await faults("DELETE");
    const err = await pending;
    expect(err).toBeInstanceOf(NeonDbError);
    expect(err.message).toMatch(/^Error connecting to database/);
  });

  it("a 5xx from the proxy is a server error without SQLSTATE", async () => {
    await faults("PUT", { status: 500 });
    const err = await sql.query("SELECT 1").catch((e) => e);
    expect(err).toBeInstanceOf(NeonDbError);
    expect(err.message).toMatch(/^Server error \(HTTP status 500\): /);
    expect(err.code).toBeUndefined();
  });

  it("a cancelled query answers 400 with the proxy's two-key body, SQLSTATE 08P01", async () => {
    await faults("PUT", { cancelled: true });
    const res = await fetch(server.url, {
      method: "POST",
      headers: { "Neon-Connection-String": "postgresql://user:pass@ep-local.localtest.me/neondb" },
      body: JSON.stringify({ query: "SELECT 1", params: [] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ message: "Query cancelled, connection was terminated", code: "08P01" });
    const err = await sql.query("SELECT 1").catch((e) => e);
    expect(err).toBeInstanceOf(NeonDbError);
    expect(err.code).toBe("08P01");
  });

  it("latency delays the answer; count limits a fault to the next N requests", async () => {
    await faults("PUT", { status: 503, count: 1 });
    expect(await sql.query("SELECT 1 AS one").catch((e) => e)).toBeInstanceOf(NeonDbError);
    expect(await sql.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
    await faults("PUT", { latencyMs: 150 });
    const started = performance.now();
    expect(await sql.query("SELECT 2 AS two")).toEqual([{ two: 2 }]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("match and after pick one request among others: the second statement naming a table", async () => {
    await faults("PUT", { match: "pg_class", after: 1, count: 1, status: 500 });
    expect(await sql.query("SELECT count(*)::int AS n FROM pg_class WHERE false")).toEqual([{ n: 0 }]);
    expect(await sql.query("SELECT 1 AS one")).toEqual([{ one: 1 }]); // not matching: not counted
    expect(await sql.query("SELECT count(*)::int AS n FROM pg_class WHERE false").catch((e) => e)).toBeInstanceOf(
      NeonDbError,
    );
    expect(await sql.query("SELECT count(*)::int AS n FROM pg_class WHERE false")).toEqual([{ n: 0 }]);
  });

  it("refuses a malformed fault so a typo fails loudly", async () => {
    expect((await faults("PUT", { status: 404 })).status).toBe(400);
    expect((await faults("PUT", { hang: true, cancelled: true })).status).toBe(400);
    expect((await faults("PUT", { latency: 10 })).status).toBe(400);
  });
});
