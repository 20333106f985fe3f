// Contract test driven by the npm `node-vault` client (written by people who
// tested it against real Vault): where the stand-in and Vault disagree on a
// path, method, status or envelope, this client is what notices.
import nodeVault from "node-vault";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startVault, type VaultStandIn } from "../../local-stack/vault/server";
import { APP_POLICIES } from "./vault-helpers";

const ROOT = "root-token-for-node-vault";
const ROLE_ID = "role-id-1";
const SECRET_ID = "secret-id-1";

let vault: VaultStandIn;
let client: nodeVault.client;

beforeAll(async () => {
  vault = await startVault({
    rootToken: ROOT,
    policies: APP_POLICIES,
    appRole: { roleId: ROLE_ID, secretId: SECRET_ID, tokenTtlSeconds: 900, policies: ["app"] },
  });
  client = nodeVault({ endpoint: vault.url, token: ROOT });
});
afterAll(async () => {
  await vault.close();
});

/** node-vault rejects with ApiResponseError carrying status and body. */
async function failure(p: Promise<unknown>): Promise<{ message: string; statusCode: number; body: unknown }> {
  try {
    await p;
  } catch (err) {
    const e = err as Error & { response?: { statusCode: number; body: unknown } };
    return { message: e.message, statusCode: e.response?.statusCode ?? -1, body: e.response?.body };
  }
  throw new Error("expected the call to fail");
}

describe("node-vault against the stand-in", () => {
  it("writes and reads a KV v2 secret", async () => {
    const written = await client.write("secret/data/tenants/acme/openai", { data: { apiKey: "sk-1" } });
    expect(written.data.version).toBe(1);
    expect(written.data.destroyed).toBe(false);
    expect(written.data.deletion_time).toBe("");
    expect(written.mount_type).toBe("kv");

    const read = await client.read("secret/data/tenants/acme/openai");
    expect(read.data.data).toEqual({ apiKey: "sk-1" });
    expect(read.data.metadata.version).toBe(1);
    expect(read.data.metadata.created_time).toBe(written.data.created_time);
  });

  it("keeps versions and reads an older one with ?version=", async () => {
    await client.write("secret/data/versioned", { data: { v: "one" } });
    const second = await client.write("secret/data/versioned", { data: { v: "two" } });
    expect(second.data.version).toBe(2);

    const latest = await client.read("secret/data/versioned");
    expect(latest.data.data).toEqual({ v: "two" });
    const first = await client.read("secret/data/versioned?version=1");
    expect(first.data.data).toEqual({ v: "one" });
    expect(first.data.metadata.version).toBe(1);

    const meta = await client.read("secret/metadata/versioned");
    expect(meta.data.current_version).toBe(2);
    expect(Object.keys(meta.data.versions).sort()).toEqual(["1", "2"]);
  });

  it("lists keys with LIST and with ?list=true (noCustomHTTPVerbs)", async () => {
    await client.write("secret/data/listing/a", { data: { x: 1 } });
    await client.write("secret/data/listing/sub/b", { data: { x: 2 } });
    const listed = await client.list("secret/metadata/listing");
    expect(listed.data.keys).toEqual(["a", "sub/"]);

    const getList = nodeVault({ endpoint: vault.url, token: ROOT, noCustomHTTPVerbs: true });
    const listed2 = await getList.list("secret/metadata/listing/sub");
    expect(listed2.data.keys).toEqual(["b"]);
  });

  it("soft-deletes the latest version: a read then fails with 404 and metadata", async () => {
    await client.write("secret/data/to-delete", { data: { gone: "soon" } });
    await client.delete("secret/data/to-delete");
    const f = await failure(client.read("secret/data/to-delete"));
    expect(f.statusCode).toBe(404);
    // The 404 body is an envelope, not {"errors":[...]}: node-vault falls back to "Status 404".
    expect(f.message).toBe("Status 404");
    const body = f.body as { data: { data: unknown; metadata: { deletion_time: string; version: number } } };
    expect(body.data.data).toBeNull();
    expect(body.data.metadata.version).toBe(1);
    expect(body.data.metadata.deletion_time).not.toBe("");
  });

  it("returns 404 with an empty errors list for a missing secret", async () => {
    const f = await failure(client.read("secret/data/never-written"));
    expect(f.statusCode).toBe(404);
    expect(f.body).toEqual({ errors: [] });
  });

  it("rejects a write whose cas does not match the current version", async () => {
    await client.write("secret/data/cas", { data: { n: 1 }, options: { cas: 0 } });
    const f = await failure(client.write("secret/data/cas", { data: { n: 2 }, options: { cas: 0 } }));
    expect(f.statusCode).toBe(400);
    expect(f.message).toBe("check-and-set parameter did not match the current version");
    const ok = await client.write("secret/data/cas", { data: { n: 2 }, options: { cas: 1 } });
    expect(ok.data.version).toBe(2);
  });

  it("answers 403 permission denied for a bad token", async () => {
    const bad = nodeVault({ endpoint: vault.url, token: "not-a-token" });
    const f = await failure(bad.read("secret/data/tenants/acme/openai"));
    expect(f.statusCode).toBe(403);
    expect(f.message).toBe("2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n");
    expect(f.message).toContain("permission denied");
  });

  it("logs in with approleLogin and uses the issued token", async () => {
    const app = nodeVault({ endpoint: vault.url });
    const login = await app.approleLogin({ role_id: ROLE_ID, secret_id: SECRET_ID });
    expect(login.data).toBeNull();
    expect(login.auth.client_token).toMatch(/^hvs\./);
    expect(login.auth.lease_duration).toBe(900);
    expect(login.auth.token_type).toBe("service");
    // tokenSource: node-vault adopts the token itself.
    expect(app.token).toBe(login.auth.client_token);

    const read = await app.read("secret/data/tenants/acme/openai");
    expect(read.data.data).toEqual({ apiKey: "sk-1" });
    const self = await app.tokenLookupSelf();
    expect(self.data.ttl).toBeGreaterThan(890);
    expect(self.data.ttl).toBeLessThanOrEqual(900);
    expect(self.data.policies).toEqual(["app", "default"]);
  });

  it("rejects bad AppRole credentials with 400", async () => {
    const app = nodeVault({ endpoint: vault.url });
    const f = await failure(app.approleLogin({ role_id: ROLE_ID, secret_id: "wrong" }));
    expect(f.statusCode).toBe(400);
    expect(f.message).toBe("invalid role or secret ID");
  });

  it("reports health, also when sealed", async () => {
    const h = await client.health();
    expect(h.initialized).toBe(true);
    expect(h.sealed).toBe(false);
    expect(h.standby).toBe(false);
    vault.seal();
    try {
      const sealed = await client.health();
      expect(sealed.sealed).toBe(true);
      const f = await failure(client.read("secret/data/tenants/acme/openai"));
      expect(f.statusCode).toBe(503);
      expect(f.message).toBe("Vault is sealed");
    } finally {
      vault.unseal();
    }
  });

  it("mounts a second KV v2 engine and refuses to mount it twice", async () => {
    await client.mount({ mount_point: "team", type: "kv", options: { version: "2" } });
    const mounts = await client.mounts();
    expect(mounts.data["team/"].type).toBe("kv");
    expect(mounts.data["team/"].options).toEqual({ version: "2" });
    const f = await failure(client.mount({ mount_point: "team", type: "kv-v2" }));
    expect(f.statusCode).toBe(400);
    expect(f.message).toBe("path is already in use at team/");
    const w = await client.write("team/data/x", { data: { ok: true } });
    expect(w.data.version).toBe(1);
  });
});
