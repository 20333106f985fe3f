import { importJWK, SignJWT } from "jose";
import { describe, expect, inject, it } from "vitest";
import { env } from "cloudflare:test";
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

describe("startup checks", () => {
  it("refuses both an HS256 secret and a JWKS URL", async () => {
    const r = await call("GET", "/vault/keys", { env: { JWT_JWKS_URL: jwks.url } });
    expect(r.status).toBe(500);
    expect(r.json.code).toBe("config_invalid");
  });
});
