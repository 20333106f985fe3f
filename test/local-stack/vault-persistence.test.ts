// `dataFile` persistence: state survives a restart, and the file is always a
// complete JSON document (written to a temp file, then renamed).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startVault } from "../../local-stack/vault/server";
import { call } from "./vault-helpers";

const ROOT = "root-token-persist";
const dir = mkdtempSync(join(tmpdir(), "vault-standin-"));
const dataFile = join(dir, "state", "vault.json");

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("persistence", () => {
  it("keeps secrets, versions, mounts, policies and tokens across a restart", async () => {
    const first = await startVault({
      rootToken: ROOT,
      dataFile,
      policies: { kept: 'path "kept/*" { capabilities = ["read"] }' },
      appRole: { roleId: "r", secretId: "s", policies: ["kept"] },
    });
    let token: string;
    try {
      await call(first.url, "POST", "/v1/secret/data/p/one", { token: ROOT, body: { data: { a: 1 } } });
      await call(first.url, "POST", "/v1/secret/data/p/one", { token: ROOT, body: { data: { a: 2 } } });
      await call(first.url, "DELETE", "/v1/secret/data/p/one", { token: ROOT });
      expect(
        (await call(first.url, "POST", "/v1/sys/mounts/kept", { token: ROOT, body: { type: "kv-v2" } })).status,
      ).toBe(204);
      await call(first.url, "POST", "/v1/kept/data/x", { token: ROOT, body: { data: { k: "v" } } });
      const login = await call(first.url, "POST", "/v1/auth/approle/login", { body: { role_id: "r", secret_id: "s" } });
      token = login.json.auth.client_token;
    } finally {
      await first.close();
    }

    // A complete JSON document and no temp files left behind.
    const parsed = JSON.parse(readFileSync(dataFile, "utf8"));
    expect(Object.keys(parsed.mounts).sort()).toEqual(["kept", "secret"]);
    expect(readdirSync(join(dir, "state"))).toEqual(["vault.json"]);

    const second = await startVault({ rootToken: ROOT, dataFile, appRole: { roleId: "r", secretId: "s" } });
    try {
      const deleted = await call(second.url, "GET", "/v1/secret/data/p/one", { token: ROOT });
      expect(deleted.status).toBe(404);
      expect(deleted.json.data.metadata.version).toBe(2);
      const v1 = await call(second.url, "GET", "/v1/secret/data/p/one?version=1", { token: ROOT });
      expect(v1.json.data.data).toEqual({ a: 1 });
      const kept = await call(second.url, "GET", "/v1/kept/data/x", { token });
      expect(kept.status).toBe(200);
      expect(kept.json.data.data).toEqual({ k: "v" });
      const next = await call(second.url, "POST", "/v1/secret/data/p/one", { token: ROOT, body: { data: { a: 3 } } });
      expect(next.json.data.version).toBe(3);
    } finally {
      await second.close();
    }
  });
});
