import { describe, expect, it } from "vitest";
import { vaultControl } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

/** The gateway logging in to Vault with AppRole instead of a static token. */
const appRole = { VAULT_TOKEN: undefined, VAULT_ROLE_ID: "dev-gateway-role", VAULT_SECRET_ID: "dev-gateway-secret" };

describe("Vault AppRole auth", () => {
  it("logs in, caches the token, and logs in again once when Vault revokes it", async () => {
    const as = { tenant: newTenant() };
    const body = { service: "openai", api_key: "sk-proj-approleKey0123456789abcdefAPR1" };
    expect((await call("POST", "/vault/keys/openai", { as, body, env: appRole })).status).toBe(201);
    expect((await call("GET", "/vault/keys/openai", { as, env: appRole })).status).toBe(200);
    await vaultControl.revokeTokens();
    const after = await call("GET", "/vault/keys/openai", { as, env: appRole });
    expect(after.status).toBe(200);
    expect(after.json.key_hint).toBe("****APR1");
  });

  it("a wrong secret id is Vault refusing the gateway: 502, not the caller's fault", async () => {
    const r = await call("GET", "/vault/keys", {
      as: { tenant: newTenant() },
      env: { ...appRole, VAULT_ROLE_ID: "other-role", VAULT_SECRET_ID: "wrong" },
    });
    expect(r.status).toBe(502);
    expect(r.json.code).toBe("vault_auth_failed");
    expect(r.text).not.toContain("invalid role or secret ID");
  });

  it("a static token Vault refuses is 502 too", async () => {
    const r = await call("GET", "/vault/keys", {
      as: { tenant: newTenant() },
      env: { VAULT_TOKEN: "hvs.not-a-real-token" },
    });
    expect(r.status).toBe(502);
    expect(r.json.code).toBe("vault_auth_failed");
  });

  it("sends X-Vault-Namespace when one is configured (Vault Enterprise / HCP), and X-Vault-Request always", async () => {
    const as = { tenant: newTenant() };
    await vaultControl.clearRequests();
    await call("GET", "/vault/keys", { as, env: { VAULT_NAMESPACE: "admin" } });
    await call("GET", "/vault/keys", { as });
    const seen = (await vaultControl.requests()).filter((r) => r.path.includes(as.tenant));
    expect(seen.map((r) => [r.namespace, r.vaultRequest])).toEqual([
      ["admin", "true"],
      [null, "true"],
    ]);
  });
});
