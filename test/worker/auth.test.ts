import { importJWK, SignJWT } from "jose";
import { describe, expect, inject, it, onTestFinished, vi } from "vitest";
import { env } from "cloudflare:test";
import { auditRows } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const jwks = inject("jwks");
/** A JWKS-configured gateway: no HS256 secret, keys from the identity provider's JWKS URL. */
const jwksEnv = { JWT_SECRET: undefined, JWT_JWKS_URL: jwks.url };

async function signWith(alg: string, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  const jwk = jwks.privateKeys[alg]!;
  const key = await importJWK(jwk, alg);
  return await new SignJWT({ tenant_id: newTenant(), roles: ["member"], ...claims })
    .setProtectedHeader({ alg, kid: jwk.kid!, ...header })
    .setIssuer(env.JWT_ISSUER!)
    .setAudience(env.JWT_AUDIENCE!)
    .setSubject("user-jwks")
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(key);
}

describe("JWKS verification (RS256, ES256, EdDSA)", () => {
  it.each(["ES256", "RS256", "EdDSA"])("accepts a %s token signed by a key in the JWKS", async (alg) => {
    const r = await call("GET", "/vault/keys", { token: await signWith(alg), env: jwksEnv });
    expect(r.status).toBe(200);
    expect(r.json.keys).toEqual([]);
  });

  it("rejects an algorithm the configuration does not allow, whatever the token says", async () => {
    const r = await call("GET", "/vault/keys", {
      token: await signWith("RS256"),
      env: { ...jwksEnv, JWT_ALGORITHMS: "ES256" },
    });
    expect(r.status).toBe(401);
  });

  it("rejects an HS256 token signed with the JWKS's public key material (algorithm confusion)", async () => {
    const pub = JSON.stringify({ ...jwks.privateKeys.ES256, d: undefined });
    const token = await new SignJWT({ tenant_id: newTenant(), roles: ["admin"] })
      .setProtectedHeader({ alg: "HS256", kid: jwks.privateKeys.ES256!.kid! })
      .setIssuer(env.JWT_ISSUER!)
      .setAudience(env.JWT_AUDIENCE!)
      .setSubject("attacker")
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(pub));
    expect((await call("GET", "/vault/keys", { token, env: jwksEnv })).status).toBe(401);
  });

  it("rejects a token without exp", async () => {
    const jwk = jwks.privateKeys.ES256!;
    const token = await new SignJWT({ tenant_id: newTenant(), roles: ["admin"] })
      .setProtectedHeader({ alg: "ES256", kid: jwk.kid! })
      .setIssuer(env.JWT_ISSUER!)
      .setAudience(env.JWT_AUDIENCE!)
      .setSubject("no-exp")
      .sign(await importJWK(jwk, "ES256"));
    expect((await call("GET", "/vault/keys", { token, env: jwksEnv })).status).toBe(401);
  });

  it("accepts a token expired within the configured clock tolerance, and not beyond", async () => {
    const exp = Math.floor(Date.now() / 1000) - 3;
    const sign = async () =>
      await new SignJWT({ tenant_id: newTenant(), roles: ["admin"] })
        .setProtectedHeader({ alg: "HS256" })
        .setIssuer(env.JWT_ISSUER!)
        .setAudience(env.JWT_AUDIENCE!)
        .setSubject("late")
        .setIssuedAt(exp - 60)
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(env.JWT_SECRET!));
    expect(
      (await call("GET", "/vault/keys", { token: await sign(), env: { JWT_CLOCK_TOLERANCE_SECONDS: "10" } })).status,
    ).toBe(200);
    expect(
      (await call("GET", "/vault/keys", { token: await sign(), env: { JWT_CLOCK_TOLERANCE_SECONDS: "0" } })).status,
    ).toBe(401);
  });

  it("reads the tenant and roles from configurable claims", async () => {
    const tenant = newTenant();
    const token = await signWith("ES256", { org: tenant, perms: "owner", tenant_id: undefined, roles: undefined });
    const r = await call("POST", "/vault/keys/openai", {
      token,
      env: { ...jwksEnv, JWT_TENANT_CLAIM: "org", JWT_ROLES_CLAIM: "perms" },
      body: { service: "openai", api_key: "sk-proj-claimsTest0123456789abcdefCLM1" },
    });
    expect(r.status).toBe(201);
    expect(r.json.vault_path).toBe(`tenants/${tenant}/api_keys/openai`);
  });
});

/** An HS256 token with exactly these times (seconds; undefined leaves the claim out) and subject. */
async function signTimes(t: { iat?: number; exp?: number; sub?: string; tenant?: string }) {
  const jwt = new SignJWT({ tenant_id: t.tenant ?? newTenant(), roles: ["admin"] })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer(env.JWT_ISSUER!)
    .setAudience(env.JWT_AUDIENCE!)
    .setSubject(t.sub ?? "user-times");
  if (t.iat !== undefined) jwt.setIssuedAt(t.iat);
  if (t.exp !== undefined) jwt.setExpirationTime(t.exp);
  return await jwt.sign(new TextEncoder().encode(env.JWT_SECRET!));
}
const now = () => Math.floor(Date.now() / 1000);
const HOUR = 3600;

describe("token times: iat and lifetime", () => {
  it("refuses an iat a day in the future", async () => {
    const token = await signTimes({ iat: now() + 24 * HOUR, exp: now() + 24 * HOUR + 300 });
    const r = await call("GET", "/vault/keys", { token });
    expect(r.status).toBe(401);
    expect(r.json.code).toBe("invalid_token");
  });

  it("accepts an iat in the future within the clock tolerance, and not beyond it", async () => {
    const token = await signTimes({ iat: now() + 3, exp: now() + 300 });
    expect((await call("GET", "/vault/keys", { token, env: { JWT_CLOCK_TOLERANCE_SECONDS: "30" } })).status).toBe(200);
    expect((await call("GET", "/vault/keys", { token, env: { JWT_CLOCK_TOLERANCE_SECONDS: "0" } })).status).toBe(401);
  });

  it("refuses a token that expires in the year 3000", async () => {
    const token = await signTimes({ iat: now(), exp: Math.floor(Date.UTC(3000, 0, 1) / 1000) });
    expect((await call("GET", "/vault/keys", { token })).status).toBe(401);
  });

  it("refuses a token without iat (its lifetime cannot be bounded)", async () => {
    const token = await signTimes({ exp: now() + 300 });
    expect((await call("GET", "/vault/keys", { token })).status).toBe(401);
  });

  it("bounds the lifetime by JWT_MAX_TOKEN_AGE_SECONDS (default 24 h)", async () => {
    const day = await signTimes({ iat: now(), exp: now() + 24 * HOUR });
    const longer = await signTimes({ iat: now(), exp: now() + 36 * HOUR });
    expect((await call("GET", "/vault/keys", { token: day })).status).toBe(200);
    expect((await call("GET", "/vault/keys", { token: longer })).status).toBe(401);
    const twoDays = { JWT_MAX_TOKEN_AGE_SECONDS: String(48 * HOUR) };
    expect((await call("GET", "/vault/keys", { token: longer, env: twoDays })).status).toBe(200);
    const hour = { JWT_MAX_TOKEN_AGE_SECONDS: String(HOUR) };
    expect((await call("GET", "/vault/keys", { token: day, env: hour })).status).toBe(401);
  });

  it("a token verified once is accepted again from this isolate's memory only while jose would accept it", async () => {
    const token = await signTimes({ iat: now(), exp: now() + 10 });
    expect((await call("GET", "/vault/keys", { token })).status).toBe(200);
    expect((await call("GET", "/vault/keys", { token })).status).toBe(200);
    // Past its expiry and the 5 s tolerance (this isolate's clock): refused, though verified a moment ago.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 16_000 });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const r = await call("GET", "/vault/keys", { token });
    expect(r.status).toBe(401);
    expect(r.json.code).toBe("invalid_token");
    // The same token under a configuration that never verified it: jose decides afresh.
    const other = await call("GET", "/vault/keys", { token, env: { JWT_CLOCK_TOLERANCE_SECONDS: "60" } });
    expect(other.status).toBe(200);
  });

  it("refuses a token issued longer ago than the maximum age, though not yet expired", async () => {
    const token = await signTimes({ iat: now() - 2 * HOUR, exp: now() + 300 });
    expect((await call("GET", "/vault/keys", { token, env: { JWT_MAX_TOKEN_AGE_SECONDS: String(HOUR) } })).status).toBe(
      401,
    );
  });

  it("refuses an invalid JWT_MAX_TOKEN_AGE_SECONDS at startup, naming it", async () => {
    const r = await call("GET", "/vault/keys", { env: { JWT_MAX_TOKEN_AGE_SECONDS: "forever" } });
    expect(r.status).toBe(500);
    expect(r.json.code).toBe("config_invalid");
    expect(r.json.detail).toContain("JWT_MAX_TOKEN_AGE_SECONDS");
  });
});

describe("token subject", () => {
  it.each([
    ["a NUL", "user\u0000x"],
    ["a control character", "user\u001bx"],
    ["a lone surrogate", "user\ud800x"],
    ["an empty string", ""],
    ["256 characters", "u".repeat(256)],
    ["a huge string", "u".repeat(100_000)],
  ])("refuses a sub with %s (401, not a lost audit row)", async (_what, sub) => {
    const token = await signTimes({ iat: now(), exp: now() + 300, sub });
    const r = await call("GET", "/vault/keys", { token });
    expect(r.status).toBe(401);
    expect(r.json.code).toBe("invalid_token");
  });

  it("accepts an identity provider's usual subjects and audits them as given", async () => {
    for (const sub of ["auth0|5f7c8ec7c33c6c004bbafe82", "ユーザー@example.jp", "u".repeat(255)]) {
      const tenant = newTenant();
      const r = await call("GET", "/vault/keys", {
        token: await signTimes({ iat: now(), exp: now() + 300, sub, tenant }),
      });
      expect(r.status).toBe(200);
      const rows = await auditRows(tenant);
      expect(rows.map((row) => row.user_id)).toEqual([sub]);
    }
  });
});

describe("startup checks", () => {
  it("refuses both an HS256 secret and a JWKS URL", async () => {
    const r = await call("GET", "/vault/keys", { env: { JWT_JWKS_URL: jwks.url } });
    expect(r.status).toBe(500);
    expect(r.json.code).toBe("config_invalid");
  });
});
