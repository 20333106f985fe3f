import { afterEach, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { appRoleWithPolicy, vaultControl, vaultRaw } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

/** The gateway as the local stack runs it: AppRole, role `brain-gateway`, the repo's policy. */
const appRole = { VAULT_TOKEN: undefined, VAULT_ROLE_ID: "dev-gateway-role", VAULT_SECRET_ID: "dev-gateway-secret" };
const KEY = "sk-proj-approleKey0123456789abcdefAPR1";

/** How many AppRole logins (and token self-lookups) the stand-in saw since the last clear. */
async function vaultCalls(): Promise<{ logins: number; lookups: number }> {
  const seen = await vaultControl.requests();
  return {
    logins: seen.filter((r) => r.path === "/v1/auth/approle/login").length,
    lookups: seen.filter((r) => r.path === "/v1/auth/token/lookup-self").length,
  };
}

describe("Vault AppRole auth", () => {
  afterEach(async () => {
    await vaultControl.mode({ legacyTokenErrors: false });
  });

  it("logs in, caches the token, and logs in again once when Vault revokes it", async () => {
    const as = { tenant: newTenant() };
    const body = { service: "openai", api_key: KEY };
    expect((await call("POST", "/vault/keys/openai", { as, body, env: appRole })).status).toBe(201);
    expect((await call("GET", "/vault/keys/openai", { as, env: appRole })).status).toBe(200);
    await vaultControl.revokeTokens();
    await vaultControl.clearRequests();
    const after = await call("GET", "/vault/keys/openai", { as, env: appRole });
    expect(after.status).toBe(200);
    expect(after.json.key_hint).toBe("****APR1");
    // Current Vault says "invalid token": no need to ask Vault about the token.
    expect(await vaultCalls()).toEqual({ logins: 1, lookups: 0 });
  });

  it("with an older Vault's bare 'permission denied', asks lookup-self and logs in again only for a dead token", async () => {
    await vaultControl.mode({ legacyTokenErrors: true });
    const as = { tenant: newTenant() };
    expect(
      (await call("POST", "/vault/keys/openai", { as, body: { service: "openai", api_key: KEY }, env: appRole }))
        .status,
    ).toBe(201);
    await vaultControl.revokeTokens();
    await vaultControl.clearRequests();
    const after = await call("GET", "/vault/keys/openai", { as, env: appRole });
    expect(after.status).toBe(200);
    expect(await vaultCalls()).toEqual({ logins: 1, lookups: 1 });
  });

  it("a policy denial is its own error: no login per request, no misleading vault_auth_failed", async () => {
    // The recommended policy without `delete` on metadata: deleting a key is refused by Vault.
    const env = await appRoleWithPolicy(
      inject("gatewayPolicy").replace('["read", "list", "delete"]', '["read", "list"]'),
    );
    const as = { tenant: newTenant() };
    await vaultControl.clearRequests();
    expect(
      (await call("POST", "/vault/keys/openai", { as, body: { service: "openai", api_key: KEY }, env })).status,
    ).toBe(201);
    for (let i = 0; i < 3; i++) {
      const r = await call("DELETE", "/vault/keys/openai", { as, env });
      expect(r.status).toBe(502);
      expect(r.json.code).toBe("vault_permission_denied");
      expect(r.text).not.toMatch(/permission denied|"errors"/);
    }
    // One login for the whole run; the key is still there.
    expect((await vaultCalls()).logins).toBe(1);
    expect((await call("GET", "/vault/keys/openai", { as, env })).status).toBe(200);
  });

  it("a policy denial with an older Vault's bare message is told apart by lookup-self, still without a login", async () => {
    await vaultControl.mode({ legacyTokenErrors: true });
    const env = await appRoleWithPolicy(inject("gatewayPolicy").replace('["create", "read", "update"]', '["read"]'));
    await vaultControl.clearRequests();
    const r = await call("POST", "/vault/keys/openai", {
      as: { tenant: newTenant() },
      body: { service: "openai", api_key: KEY },
      env,
    });
    expect(r.json.code).toBe("vault_permission_denied");
    expect(await vaultCalls()).toEqual({ logins: 1, lookups: 1 });
  });

  it("concurrent cold requests share one login", async () => {
    const env = await appRoleWithPolicy(inject("gatewayPolicy"));
    await vaultControl.clearRequests();
    const tenant = newTenant();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => call("GET", "/vault/keys", { as: { tenant }, env })),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect((await vaultCalls()).logins).toBe(1);
  });

  it("tokens expire on their TTL; the gateway logs in again before using an expired one", async () => {
    // Vault caps a TTL below the safety margin at half the lease: a 2 s token is used for ~1 s.
    const env = await appRoleWithPolicy(inject("gatewayPolicy"), { tokenTtl: "2s" });
    const as = { tenant: newTenant() };
    await vaultControl.clearRequests();
    expect((await call("GET", "/vault/keys", { as, env })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await call("GET", "/vault/keys", { as, env })).status).toBe(200);
    const calls = await vaultCalls();
    expect(calls.logins).toBe(2);
    expect(calls.lookups).toBe(0); // renewed ahead of expiry, never refused
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
      env: { VAULT_TOKEN: "hvs.not-a-real-token", VAULT_ROLE_ID: undefined, VAULT_SECRET_ID: undefined },
    });
    expect(r.status).toBe(502);
    expect(r.json.code).toBe("vault_auth_failed");
  });

  it("a static non-root token under the recommended policy works; one under a narrower policy is denied, not 'expired'", async () => {
    const policy = inject("gatewayPolicy");
    expect((await vaultRaw("PUT", "sys/policies/acl/gateway-static", { policy })).status).toBe(204);
    expect(
      (await vaultRaw("PUT", "sys/policies/acl/nothing", { policy: 'path "sys/nothing" { capabilities = ["read"] }' }))
        .status,
    ).toBe(204);
    const token = async (p: string) =>
      (await vaultRaw("POST", "auth/token/create", { policies: [p], ttl: "10m" })).json.auth.client_token as string;
    const as = { tenant: newTenant() };
    const good = { VAULT_TOKEN: await token("gateway-static"), VAULT_ROLE_ID: undefined, VAULT_SECRET_ID: undefined };
    expect(
      (await call("POST", "/vault/keys/openai", { as, body: { service: "openai", api_key: KEY }, env: good })).status,
    ).toBe(201);
    const narrow = { VAULT_TOKEN: await token("nothing"), VAULT_ROLE_ID: undefined, VAULT_SECRET_ID: undefined };
    const r = await call("GET", "/vault/keys", { as, env: narrow });
    expect(r.status).toBe(502);
    expect(r.json.code).toBe("vault_permission_denied");
  });
});

describe("Vault namespaces (Enterprise / HCP)", () => {
  it("sends X-Vault-Namespace when one is configured, and X-Vault-Request always", async () => {
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

  it("a key stored in a namespace lives only there", async () => {
    const tenant = newTenant();
    const as = { tenant };
    const inAdmin = { VAULT_NAMESPACE: "admin" };
    const stored = await call("POST", "/vault/keys/openai", {
      as,
      body: { service: "openai", api_key: KEY },
      env: inAdmin,
    });
    expect(stored.status).toBe(201);
    const path = `secret/data/tenants/${tenant}/api_keys/openai`;
    expect((await vaultRaw("GET", path, undefined, { namespace: "admin" })).status).toBe(200);
    expect((await vaultRaw("GET", path)).status).toBe(404);
  });
});
