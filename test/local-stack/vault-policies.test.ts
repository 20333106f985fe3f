// Where the stand-in used to be kinder than Vault: ACL policies, non-root tokens with TTLs,
// AppRole roles bound to policies, namespaces, standby nodes. Driven by node-vault (a client
// written against real Vault) where it has the call, raw HTTP where it does not.
import nodeVault from "node-vault";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startVault, type VaultStandIn } from "../../local-stack/vault/server";
import { gatewayPolicy, setupVault } from "../../scripts/vault-setup";
import { call } from "./vault-helpers";

const ROOT = "root-token-for-policies";
let vault: VaultStandIn;
const root = () => nodeVault({ endpoint: vault.url, token: ROOT });
const asToken = (token: string) => nodeVault({ endpoint: vault.url, token });

/** node-vault rejects with the response attached; return status and Vault's errors. */
async function failure(p: Promise<unknown>): Promise<{ status: number; errors: string[] }> {
  try {
    await p;
  } catch (err) {
    const e = err as { response?: { statusCode: number; body?: { errors?: string[] } } };
    return { status: e.response?.statusCode ?? 0, errors: e.response?.body?.errors ?? [] };
  }
  throw new Error("expected the call to fail");
}

async function tokenWith(policies: string[], ttl = "10m"): Promise<string> {
  const created = await root().tokenCreate({ policies, ttl });
  return created.auth.client_token as string;
}

beforeAll(async () => {
  vault = await startVault({ rootToken: ROOT });
});
afterAll(async () => {
  await vault.close();
});

describe("ACL policies", () => {
  it("stores policies (sys/policy and sys/policies/acl) and refuses ones it cannot enforce", async () => {
    await root().addPolicy({ name: "reader", rules: 'path "secret/data/shared/*" { capabilities = ["read"] }' });
    expect((await root().getPolicy({ name: "reader" })).rules).toContain("secret/data/shared/*");
    expect((await root().policies()).policies).toEqual(expect.arrayContaining(["default", "reader", "root"]));
    const acl = await call(vault.url, "GET", "/v1/sys/policies/acl/reader", { token: ROOT });
    expect(acl.json.data).toEqual({ name: "reader", policy: expect.stringContaining("shared") });
    const bad = await call(vault.url, "PUT", "/v1/sys/policies/acl/bad", {
      token: ROOT,
      body: { policy: 'path "x" { capabilities = ["reed"] }' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0]).toContain('invalid capability "reed"');
    const params = await call(vault.url, "PUT", "/v1/sys/policies/acl/params", {
      token: ROOT,
      body: { policy: 'path "x" { capabilities = ["read"]\n allowed_parameters = { "a" = [] } }' },
    });
    expect(params.status).toBe(400);
    expect(
      (await call(vault.url, "PUT", "/v1/sys/policies/acl/root", { token: ROOT, body: { policy: "" } })).status,
    ).toBe(400);
  });

  it("a token is held to its policies: policy denial is a 1-error 'permission denied', a bad token adds 'invalid token'", async () => {
    await root().write("secret/data/shared/a", { data: { v: 1 } });
    await root().write("secret/data/private/a", { data: { v: 2 } });
    const token = await tokenWith(["reader"]);
    expect((await asToken(token).read("secret/data/shared/a")).data.data).toEqual({ v: 1 });
    const denied = await failure(asToken(token).read("secret/data/private/a"));
    expect(denied).toEqual({ status: 403, errors: ["1 error occurred:\n\t* permission denied\n\n"] });
    const write = await failure(asToken(token).write("secret/data/shared/a", { data: { v: 9 } }));
    expect(write.status).toBe(403);
    const bad = await failure(asToken("hvs.not-a-token").read("secret/data/shared/a"));
    expect(bad).toEqual({ status: 403, errors: ["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"] });
    // The default policy lets every token look itself up.
    expect((await asToken(token).tokenLookupSelf()).data.policies).toEqual(["default", "reader"]);
  });

  it("matches + and * like Vault: exact first, then the most specific wildcard; deny wins on its path", async () => {
    await root().addPolicy({
      name: "globs",
      rules: `
        path "kv/data/*" { capabilities = ["read"] }
        path "kv/data/tenants/+/keys/*" { capabilities = ["read", "create", "update"] }
        path "kv/data/tenants/blocked/keys/*" { capabilities = ["deny"] }
        path "kv/data/exact" { capabilities = ["update"] }
      `,
    });
    await root().mount({ mount_point: "kv", type: "kv-v2" });
    for (const p of ["kv/data/tenants/t1/keys/k", "kv/data/tenants/blocked/keys/k", "kv/data/exact", "kv/data/other"]) {
      await root().write(p, { data: { v: 1 } });
    }
    const t = asToken(await tokenWith(["globs"]));
    expect((await t.write("kv/data/tenants/t1/keys/k", { data: { v: 2 } })).data.version).toBe(2);
    expect((await failure(t.read("kv/data/tenants/blocked/keys/k"))).status).toBe(403);
    expect((await failure(t.read("kv/data/exact"))).status).toBe(403); // the exact rule wins over kv/data/*
    expect((await t.read("kv/data/other")).data.data).toEqual({ v: 1 });
    // + is one segment only.
    expect((await failure(t.write("kv/data/tenants/t1/x/keys/k", { data: { v: 1 } }))).status).toBe(403);
  });

  it("create and update are distinct: a new key needs create, an existing one update (existence check)", async () => {
    await root().addPolicy({ name: "create-only", rules: 'path "secret/data/co/*" { capabilities = ["create"] }' });
    const t = asToken(await tokenWith(["create-only"]));
    expect((await t.write("secret/data/co/new", { data: { v: 1 } })).data.version).toBe(1);
    expect((await failure(t.write("secret/data/co/new", { data: { v: 2 } }))).status).toBe(403);
  });

  it("a child token's policies must be a subset of its parent's", async () => {
    const t = asToken(await tokenWith(["reader"]));
    await root().addPolicy({ name: "tokens", rules: 'path "auth/token/create" { capabilities = ["update"] }' });
    // node-vault adopts a created token as its own (tokenSource), so each call gets a fresh client.
    const parentToken = await tokenWith(["reader", "tokens"]);
    expect((await asToken(parentToken).tokenCreate({ policies: ["reader"] })).auth.policies).toEqual([
      "default",
      "reader",
    ]);
    expect((await failure(asToken(parentToken).tokenCreate({ policies: ["globs"] }))).status).toBe(400);
    expect((await failure(t.tokenCreate({ policies: ["reader"] }))).status).toBe(403);
  });
});

describe("non-root tokens", () => {
  it("carry their TTL and stop working when it ends", async () => {
    const created = await root().tokenCreate({ policies: ["reader"], ttl: "1s" });
    expect(created.auth).toMatchObject({ lease_duration: 1, renewable: true, token_type: "service", orphan: false });
    const t = asToken(created.auth.client_token);
    expect((await t.tokenLookupSelf()).data.ttl).toBeLessThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await failure(t.read("secret/data/shared/a"))).toEqual({
      status: 403,
      errors: ["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"],
    });
  });

  it("revoke-self ends a token", async () => {
    const t = asToken(await tokenWith(["reader"]));
    await t.tokenRevokeSelf();
    expect((await failure(t.tokenLookupSelf())).status).toBe(403);
  });

  it("legacy mode answers a bad token with a bare 'permission denied', as Vault before 'invalid token' did", async () => {
    vault.setMode({ legacyTokenErrors: true });
    try {
      expect(await failure(asToken("hvs.gone").read("secret/data/shared/a"))).toEqual({
        status: 403,
        errors: ["permission denied"],
      });
    } finally {
      vault.setMode({ legacyTokenErrors: false });
    }
  });
});

describe("AppRole roles", () => {
  it("logs in to tokens carrying the role's policies and TTL", async () => {
    await root().addApproleRole({ role_name: "svc", policies: "reader", token_ttl: 120 });
    const roleId = (await root().getApproleRoleId({ role_name: "svc" })).data.role_id as string;
    const secretId = (await root().getApproleRoleSecret({ role_name: "svc" })).data.secret_id as string;
    const app = nodeVault({ endpoint: vault.url });
    const login = await app.approleLogin({ role_id: roleId, secret_id: secretId });
    expect(login.auth).toMatchObject({
      policies: ["default", "reader"],
      token_policies: ["default", "reader"],
      metadata: { role_name: "svc" },
      lease_duration: 120,
    });
    expect((await app.read("secret/data/shared/a")).data.data).toEqual({ v: 1 });
    expect((await failure(app.read("secret/data/private/a"))).status).toBe(403);
    // A secret id of another role does not log in to this one.
    await root().addApproleRole({ role_name: "other", policies: "reader" });
    const otherSecret = (await root().getApproleRoleSecret({ role_name: "other" })).data.secret_id as string;
    expect((await failure(app.approleLogin({ role_id: roleId, secret_id: otherSecret }))).status).toBe(400);
  });

  it("vault:setup writes the repo's policy and the gateway's role; its token can do exactly the gateway's calls", async () => {
    const { roleId, secretId } = await setupVault({ addr: vault.url, token: ROOT, newSecretId: true });
    expect((await root().getPolicy({ name: "brain-gateway" })).rules).toBe(gatewayPolicy());
    // Idempotent: a second run changes nothing and fails nothing.
    expect((await setupVault({ addr: vault.url, token: ROOT })).roleId).toBe(roleId);
    const gw = nodeVault({ endpoint: vault.url });
    await gw.approleLogin({ role_id: roleId, secret_id: secretId! });
    const key = "secret/data/tenants/3f2b8c1e-8a4d-4c1e-9f6a-2b7d9e0c1a55/api_keys/openai";
    expect((await gw.write(key, { data: { api_key: "sk-x" }, options: { cas: 0 } })).data.version).toBe(1);
    expect((await gw.write(key, { data: { api_key: "sk-y" } })).data.version).toBe(2);
    expect((await gw.read(key)).data.data).toEqual({ api_key: "sk-y" });
    const folder = "secret/metadata/tenants/3f2b8c1e-8a4d-4c1e-9f6a-2b7d9e0c1a55/api_keys";
    expect((await gw.list(folder)).data.keys).toEqual(["openai"]);
    expect((await gw.read(key.replace("/data/", "/metadata/"))).data.current_version).toBe(2);
    // Nothing outside the tenants' key paths.
    expect((await failure(gw.read("secret/data/shared/a"))).status).toBe(403);
    expect((await failure(gw.write("secret/data/tenants/x/other", { data: { a: 1 } }))).status).toBe(403);
    expect((await failure(gw.mounts())).status).toBe(403);
    await gw.delete(key.replace("/data/", "/metadata/"));
    expect((await failure(gw.read(key))).status).toBe(404);
  });
});

describe("KV v2 attribution (Vault 1.21+)", () => {
  it("records who created each version, who deleted it, and who last updated the key", async () => {
    await root().write("secret/data/attr/k", { data: { v: 1 } });
    const token = await tokenWith(["attr"]);
    await root().addPolicy({
      name: "attr",
      rules: 'path "secret/data/attr/*" { capabilities = ["update", "delete"] }',
    });
    await asToken(token).write("secret/data/attr/k", { data: { v: 2 } });
    await asToken(token).delete("secret/data/attr/k");
    const meta = (await root().read("secret/metadata/attr/k")).data;
    expect(meta.versions["1"].created_by).toEqual({
      actor: "root",
      client_id: expect.any(String),
      operation: "create",
    });
    expect(meta.versions["2"].created_by).toMatchObject({ actor: "token", operation: "update" });
    expect(meta.versions["2"].deleted_by).toMatchObject({ actor: "token", operation: "delete" });
    expect(meta.last_updated_by).toEqual(meta.versions["2"].created_by);
    expect(meta.versions["1"].created_by.client_id).not.toBe(meta.versions["2"].created_by.client_id);
  });
});

describe("namespaces", () => {
  afterEach(() => {
    vault.setMode({ ha: "active" });
  });

  it("separate mounts, policies, roles and tokens", async () => {
    expect((await call(vault.url, "POST", "/v1/sys/namespaces/tenant-b", { token: ROOT })).status).toBe(200);
    const nsRoot = nodeVault({ endpoint: vault.url, token: ROOT, namespace: "tenant-b" });
    const { roleId, secretId } = await setupVault({
      addr: vault.url,
      token: ROOT,
      namespace: "tenant-b",
      newSecretId: true,
    });
    await nsRoot.write("secret/data/tenants/t/api_keys/openai", { data: { where: "b" } });
    await root().write("secret/data/tenants/t/api_keys/openai", { data: { where: "root" } });
    expect((await nsRoot.read("secret/data/tenants/t/api_keys/openai")).data.data).toEqual({ where: "b" });
    expect((await root().read("secret/data/tenants/t/api_keys/openai")).data.data).toEqual({ where: "root" });

    // The role exists only in its namespace; its token works only there.
    const inB = nodeVault({ endpoint: vault.url, namespace: "tenant-b" });
    await inB.approleLogin({ role_id: roleId, secret_id: secretId! });
    expect((await inB.read("secret/data/tenants/t/api_keys/openai")).data.data).toEqual({ where: "b" });
    const inRoot = nodeVault({ endpoint: vault.url, token: inB.token });
    expect((await failure(inRoot.read("secret/data/tenants/t/api_keys/openai"))).errors[0]).toContain("invalid token");
    expect(
      (await failure(nodeVault({ endpoint: vault.url }).approleLogin({ role_id: roleId, secret_id: secretId! })))
        .status,
    ).toBe(400);
  });
});

describe("HA: standby and performance standby", () => {
  afterEach(() => {
    vault.setMode({ ha: "active" });
  });

  it.each([
    ["active", 200, 200, { standby: false, performance_standby: false }],
    ["standby", 429, 200, { standby: true, performance_standby: false }],
    ["perfstandby", 473, 200, { standby: true, performance_standby: true }],
    ["standby-unhealthy", 474, 474, { standby: true, ha_connection_healthy: false }],
    ["dr-secondary", 472, 472, { replication_dr_mode: "secondary" }],
    ["removed", 530, 530, { removed_from_cluster: true }],
  ] as const)("%s: sys/health %i, %i with standbyok and perfstandbyok", async (ha, plain, ok, fields) => {
    vault.setMode({ ha });
    const h = await root().health();
    expect(h).toMatchObject(fields);
    expect((await call(vault.url, "GET", "/v1/sys/health")).status).toBe(plain);
    expect((await call(vault.url, "GET", "/v1/sys/health?standbyok=true&perfstandbyok=true")).status).toBe(ok);
  });

  it("standbys serve requests (forwarded); one that cannot reach the active node redirects with 307", async () => {
    vault.setMode({ ha: "perfstandby" });
    expect((await root().read("secret/data/shared/a")).data.data).toEqual({ v: 1 });
    vault.setMode({ ha: "standby-unhealthy" });
    const r = await fetch(`${vault.url}/v1/secret/data/shared/a`, {
      headers: { "X-Vault-Token": ROOT },
      redirect: "manual",
    });
    expect(r.status).toBe(307);
    expect(r.headers.get("location")).toMatch(/\/v1\/secret\/data\/shared\/a$/);
  });

  it("mode is set over HTTP too, and a bad one is refused", async () => {
    const put = (body: unknown) =>
      fetch(`${vault.url}/__standin/mode`, { method: "PUT", body: JSON.stringify(body) }).then((r) => r.status);
    expect(await put({ ha: "perfstandby" })).toBe(204);
    expect((await call(vault.url, "GET", "/v1/sys/health")).status).toBe(473);
    expect(await put({ ha: "leader" })).toBe(400);
  });
});
