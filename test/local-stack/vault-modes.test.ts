// Sealed mode, fault injection and the /__standin controls, driven both
// through the exported API and over HTTP (the only way tests in workerd can).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startVault, type VaultStandIn } from "../../local-stack/vault/server";
import { APP_POLICIES, call } from "./vault-helpers";

const ROOT = "root-token-modes";
const ROLE_ID = "role-modes";
const SECRET_ID = "secret-modes";

let vault: VaultStandIn;
const api = (method: string, path: string, opts: Parameters<typeof call>[3] = {}) =>
  call(vault.url, method, path, { token: ROOT, ...opts });
const control = (method: string, what: string, body?: unknown) =>
  call(vault.url, method, `/__standin/${what}`, { token: null, body });

async function login(): Promise<string> {
  const r = await call(vault.url, "POST", "/v1/auth/approle/login", {
    token: null,
    body: { role_id: ROLE_ID, secret_id: SECRET_ID },
  });
  expect(r.status).toBe(200);
  return r.json.auth.client_token as string;
}

beforeAll(async () => {
  vault = await startVault({
    rootToken: ROOT,
    policies: APP_POLICIES,
    appRole: { roleId: ROLE_ID, secretId: SECRET_ID, tokenTtlSeconds: 1, policies: ["app"] },
  });
  await api("POST", "/v1/secret/data/base", { body: { data: { v: 1 } } });
});
afterEach(async () => {
  vault.clearFaults();
  vault.unseal();
});
afterAll(async () => {
  await vault.close();
});

describe("sealed mode", () => {
  it("answers 503 Vault is sealed everywhere but health (API control)", async () => {
    vault.seal();
    for (const [m, p, token] of [
      ["GET", "/v1/secret/data/base", ROOT],
      ["POST", "/v1/auth/approle/login", null],
      ["GET", "/v1/sys/mounts", ROOT],
      ["GET", "/v1/secret/data/base", "bad-token"],
    ] as const) {
      const r = await call(vault.url, m, p, {
        token,
        body: m === "POST" ? { role_id: ROLE_ID, secret_id: SECRET_ID } : undefined,
      });
      expect(r.status, `${m} ${p}`).toBe(503);
      expect(r.json, `${m} ${p}`).toEqual({ errors: ["Vault is sealed"] });
      expect(r.headers.get("cache-control")).toBe("no-store");
    }
    const h = await call(vault.url, "GET", "/v1/sys/health");
    expect(h.status).toBe(503);
    expect(h.json).toMatchObject({ initialized: true, sealed: true, standby: true });
    vault.unseal();
    expect((await api("GET", "/v1/secret/data/base")).status).toBe(200);
  });

  it("seals and unseals over HTTP", async () => {
    expect((await control("POST", "seal")).status).toBe(204);
    expect((await api("GET", "/v1/secret/data/base")).status).toBe(503);
    expect((await call(vault.url, "GET", "/v1/sys/health?sealedcode=299")).status).toBe(299);
    expect((await control("POST", "unseal")).status).toBe(204);
    const h = await call(vault.url, "GET", "/v1/sys/health");
    expect(h.status).toBe(200);
    expect(h.json.sealed).toBe(false);
  });
});

describe("faults", () => {
  it("adds measurable latency", async () => {
    const t0 = performance.now();
    await api("GET", "/v1/secret/data/base");
    const baseline = performance.now() - t0;
    vault.setFaults({ latencyMs: 300 });
    const t1 = performance.now();
    const r = await api("GET", "/v1/secret/data/base");
    const slowed = performance.now() - t1;
    expect(r.status).toBe(200);
    expect(slowed).toBeGreaterThanOrEqual(290);
    expect(slowed - baseline).toBeGreaterThanOrEqual(250);
  });

  it("forces statuses with Vault-shaped bodies", async () => {
    vault.setFaults({ status: 500 });
    const e500 = await api("GET", "/v1/secret/data/base");
    expect(e500.status).toBe(500);
    expect(e500.json).toEqual({ errors: ["internal error"] });
    vault.setFaults({ status: 429 });
    const e429 = await api("GET", "/v1/secret/data/base");
    expect(e429.status).toBe(429);
    expect(e429.json).toEqual({ errors: ['request path "secret/data/base": rate limit quota exceeded'] });
    vault.setFaults({ status: 503 });
    expect((await api("GET", "/v1/secret/data/base")).json).toEqual({ errors: ["Vault is sealed"] });
    vault.setFaults({ status: 502 });
    expect((await api("GET", "/v1/secret/data/base")).status).toBe(502);
    // A standby that cannot forward: 307 to the active node with the same path, no body.
    vault.setFaults({ status: 307 });
    const e307 = await fetch(`${vault.url}/v1/secret/data/base?version=1`, { redirect: "manual" });
    expect(e307.status).toBe(307);
    expect(e307.headers.get("location")).toMatch(/^https:\/\/[^/]+\/v1\/secret\/data\/base\?version=1$/);
    expect(await e307.text()).toBe("");
    // Faults stay off the control plane.
    expect((await control("POST", "unseal")).status).toBe(204);
  });

  it("applies only to the next `count` matching requests", async () => {
    vault.setFaults({ status: 503, count: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await api("GET", "/v1/secret/data/base")).status);
    expect(statuses).toEqual([503, 503, 200, 200]);
  });

  it("filters by path prefix and method; set and cleared over HTTP", async () => {
    const set = await control("PUT", "faults", { status: 502, pathPrefix: "/v1/secret/data/", methods: ["POST"] });
    expect(set.status).toBe(204);
    expect((await api("GET", "/v1/secret/data/base")).status).toBe(200);
    expect((await api("GET", "/v1/secret/metadata/base")).status).toBe(200);
    expect((await api("POST", "/v1/secret/data/base", { body: { data: { v: 2 } } })).status).toBe(502);
    expect((await api("POST", "/v1/secret/metadata/base", { body: { max_versions: 5 } })).status).toBe(204);
    expect((await call(vault.url, "GET", "/v1/sys/health")).status).toBe(200);
    expect((await control("DELETE", "faults")).status).toBe(204);
    expect((await api("POST", "/v1/secret/data/base", { body: { data: { v: 2 } } })).status).toBe(200);
  });

  it("rejects a malformed fault spec over HTTP", async () => {
    const r = await control("PUT", "faults", { status: 42 });
    expect(r.status).toBe(400);
    expect(r.json.errors[0]).toContain("status");
  });
});

describe("tokens and reset", () => {
  it("revoke-tokens makes AppRole tokens fail with 403 until re-login", async () => {
    const token = await login();
    expect((await call(vault.url, "GET", "/v1/secret/data/base", { token })).status).toBe(200);
    expect((await control("POST", "revoke-tokens")).status).toBe(204);
    const denied = await call(vault.url, "GET", "/v1/secret/data/base", { token });
    expect(denied.status).toBe(403);
    expect(denied.json.errors[0]).toContain("permission denied");
    // The root token is configuration, not an issued token.
    expect((await api("GET", "/v1/secret/data/base")).status).toBe(200);
    const fresh = await login();
    expect((await call(vault.url, "GET", "/v1/secret/data/base", { token: fresh })).status).toBe(200);
  });

  it("AppRole tokens expire after their TTL", async () => {
    const token = await login();
    expect((await call(vault.url, "GET", "/v1/secret/data/base", { token })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    const expired = await call(vault.url, "GET", "/v1/auth/token/lookup-self", { token });
    expect(expired.status).toBe(403);
    expect(expired.json).toEqual({ errors: ["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"] });
  });

  it("reset drops data, keeps mounts, unseals and clears faults", async () => {
    expect((await api("POST", "/v1/sys/mounts/extra", { body: { type: "kv-v2" } })).status).toBe(204);
    await api("POST", "/v1/extra/data/k", { body: { data: { a: 1 } } });
    vault.seal();
    vault.setFaults({ latencyMs: 5_000, pathPrefix: "/v1/never/" });
    vault.setFaults({ status: 500, pathPrefix: "/v1/extra/" });
    expect((await control("POST", "reset")).status).toBe(204);
    expect((await api("GET", "/v1/secret/data/base")).status).toBe(404);
    const extra = await api("GET", "/v1/extra/data/k");
    expect(extra.status).toBe(404);
    expect(extra.json).toEqual({ errors: [] });
    const mounts = await api("GET", "/v1/sys/mounts");
    expect(Object.keys(mounts.json.data)).toEqual(expect.arrayContaining(["secret/", "extra/"]));
    const w = await api("POST", "/v1/secret/data/base", { body: { data: { v: 1 } } });
    expect(w.json.data.version).toBe(1);
  });

  it("unknown controls → 404", async () => {
    expect((await control("POST", "explode")).status).toBe(404);
  });
});

describe("the request log", () => {
  it("records method, path and the Vault headers of /v1 calls, never the token", async () => {
    expect((await control("DELETE", "requests")).status).toBe(204);
    await api("GET", "/v1/secret/data/base", { headers: { "X-Vault-Namespace": "admin", "X-Vault-Request": "true" } });
    const r = await control("GET", "requests");
    expect(r.status).toBe(200);
    expect(r.json.requests).toEqual([
      { method: "GET", path: "/v1/secret/data/base", namespace: "admin", vaultRequest: "true" },
    ]);
    expect(JSON.stringify(r.json)).not.toContain(ROOT);
  });
});
