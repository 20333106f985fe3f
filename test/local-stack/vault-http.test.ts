// Raw-HTTP contract test of the Vault stand-in: exact status codes, envelopes
// (every key), headers and messages of specs/vault-kv-v2.md.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startVault, type VaultStandIn } from "../../local-stack/vault/server";
import { APP_POLICIES, call, ENVELOPE_KEYS, rawRequest, RFC3339_NANO_RE, UUID_RE } from "./vault-helpers";

const ROOT = "root-token-http";
const ROLE_ID = "role-http";
const SECRET_ID = "secret-http";

let vault: VaultStandIn;
const api = (method: string, path: string, opts: Parameters<typeof call>[3] = {}) =>
  call(vault.url, method, path, { token: ROOT, ...opts });

beforeAll(async () => {
  vault = await startVault({
    rootToken: ROOT,
    policies: APP_POLICIES,
    appRole: { roleId: ROLE_ID, secretId: SECRET_ID, policies: ["app"] },
  });
});
afterAll(async () => {
  await vault.close();
});

describe("envelopes and headers", () => {
  it("write answers 200 with the full envelope and version metadata", async () => {
    const r = await api("POST", "/v1/secret/data/env/one", { body: { data: { k: "v" } } });
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(Object.keys(r.json)).toEqual(ENVELOPE_KEYS);
    expect(r.json.request_id).toMatch(UUID_RE);
    expect(r.json).toMatchObject({
      lease_id: "",
      renewable: false,
      lease_duration: 0,
      wrap_info: null,
      warnings: null,
      auth: null,
      mount_type: "kv",
    });
    expect(Object.keys(r.json.data)).toEqual([
      "created_time",
      "custom_metadata",
      "deletion_time",
      "destroyed",
      "version",
    ]);
    expect(r.json.data.created_time).toMatch(RFC3339_NANO_RE);
    expect(r.json.data).toMatchObject({ custom_metadata: null, deletion_time: "", destroyed: false, version: 1 });
    expect(r.text.endsWith("}\n")).toBe(true);
  });

  it("read answers data and metadata", async () => {
    const r = await api("GET", "/v1/secret/data/env/one");
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual(ENVELOPE_KEYS);
    expect(r.json.data.data).toEqual({ k: "v" });
    expect(Object.keys(r.json.data.metadata)).toEqual([
      "created_time",
      "custom_metadata",
      "deletion_time",
      "destroyed",
      "version",
    ]);
    expect(r.json.data.metadata.version).toBe(1);
  });

  it("every kind of answer carries Cache-Control: no-store", async () => {
    const answers = await Promise.all([
      api("DELETE", "/v1/secret/data/env/nothing"), // 204
      api("GET", "/v1/secret/data/env/nothing"), // 404
      call(vault.url, "GET", "/v1/secret/data/env/one", { token: "bad" }), // 403
      api("PATCH", "/v1/secret/data/env/one"), // 405
      call(vault.url, "GET", "/v1/sys/health"), // health
      call(vault.url, "POST", "/__standin/unseal"), // control
    ]);
    expect(answers.map((a) => a.status)).toEqual([204, 404, 403, 405, 200, 204]);
    for (const a of answers) expect(a.headers.get("cache-control")).toBe("no-store");
  });

  it("204 answers have an empty body", async () => {
    const r = await api("DELETE", "/v1/secret/data/env/nothing");
    expect(r.status).toBe(204);
    expect(r.text).toBe("");
  });
});

describe("tokens, namespace and methods", () => {
  it("no token → 403 permission denied", async () => {
    const r = await call(vault.url, "GET", "/v1/secret/data/env/one", { token: null });
    expect(r.status).toBe(403);
    expect(r.json).toEqual({ errors: ["permission denied"] });
  });

  it("bad token → 403 with Vault's two-error message", async () => {
    const r = await call(vault.url, "GET", "/v1/secret/data/env/one", { token: "nope" });
    expect(r.status).toBe(403);
    expect(r.json).toEqual({ errors: ["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"] });
  });

  it("accepts Authorization: Bearer, and X-Vault-Token wins over it", async () => {
    const bearer = await call(vault.url, "GET", "/v1/secret/data/env/one", {
      token: null,
      headers: { Authorization: `Bearer ${ROOT}` },
    });
    expect(bearer.status).toBe(200);
    const badWins = await call(vault.url, "GET", "/v1/secret/data/env/one", {
      token: "wrong",
      headers: { Authorization: `Bearer ${ROOT}` },
    });
    expect(badWins.status).toBe(403);
    const goodWins = await call(vault.url, "GET", "/v1/secret/data/env/one", {
      token: ROOT,
      headers: { Authorization: "Bearer wrong" },
    });
    expect(goodWins.status).toBe(200);
  });

  it("X-Vault-Namespace routes to a namespace with its own mounts; an unknown one has no routes", async () => {
    const missing = await api("GET", "/v1/secret/data/env/one", { headers: { "X-Vault-Namespace": "nowhere" } });
    expect(missing.status).toBe(404);
    expect((await api("POST", "/v1/sys/namespaces/team-a")).status).toBe(200);
    const ns = { "X-Vault-Namespace": "team-a" };
    // A new namespace has no secrets engine: the root namespace's secret/ is not visible there.
    expect((await api("GET", "/v1/secret/data/env/one", { headers: ns })).status).toBe(404);
    expect((await api("POST", "/v1/sys/mounts/secret", { headers: ns, body: { type: "kv-v2" } })).status).toBe(204);
    expect((await api("GET", "/v1/secret/data/env/one", { headers: ns })).status).toBe(404);
    expect(
      (await api("POST", "/v1/secret/data/env/one", { headers: ns, body: { data: { k: "team-a" } } })).status,
    ).toBe(200);
    expect((await api("GET", "/v1/secret/data/env/one", { headers: ns })).json.data.data).toEqual({ k: "team-a" });
    expect((await api("GET", "/v1/secret/data/env/one")).json.data.data).toEqual({ k: "v" });
  });

  it("unknown methods → 405 with an empty errors list", async () => {
    for (const m of ["PATCH", "OPTIONS", "HEAD"]) {
      const r = await api(m, "/v1/secret/data/env/one");
      expect(r.status, m).toBe(405);
      if (m !== "HEAD") expect(r.json, m).toEqual({ errors: [] });
    }
  });

  it("a path outside any mount → 404 no handler", async () => {
    const r = await api("GET", "/v1/nomount/data/x");
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ errors: ['no handler for route "nomount/data/x". route entry not found.'] });
  });

  it("invalid JSON → 400", async () => {
    const r = await api("POST", "/v1/secret/data/env/bad-json", { body: "{not json" });
    expect(r.status).toBe(400);
    expect(r.json.errors[0]).toMatch(/^failed to parse JSON input/);
  });
});

describe("KV v2 writes and reads", () => {
  it("write without data → 400 no data provided", async () => {
    const r = await api("POST", "/v1/secret/data/kv/nodata", { body: { options: {} } });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ errors: ["no data provided"] });
  });

  it("PUT writes like POST and versions increase", async () => {
    const a = await api("PUT", "/v1/secret/data/kv/put", { body: { data: { n: 1 } } });
    const b = await api("PUT", "/v1/secret/data/kv/put", { body: { data: { n: 2 } } });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect([a.json.data.version, b.json.data.version]).toEqual([1, 2]);
    const old = await api("GET", "/v1/secret/data/kv/put?version=1");
    expect(old.json.data.data).toEqual({ n: 1 });
    const missing = await api("GET", "/v1/secret/data/kv/put?version=9");
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ errors: [] });
  });

  it("cas:0 creates only; cas must equal current_version", async () => {
    const first = await api("POST", "/v1/secret/data/kv/cas", { body: { data: { a: 1 }, options: { cas: 0 } } });
    expect(first.status).toBe(200);
    const again = await api("POST", "/v1/secret/data/kv/cas", { body: { data: { a: 2 }, options: { cas: 0 } } });
    expect(again.status).toBe(400);
    expect(again.json).toEqual({ errors: ["check-and-set parameter did not match the current version"] });
    const stale = await api("POST", "/v1/secret/data/kv/cas", { body: { data: { a: 2 }, options: { cas: 2 } } });
    expect(stale.status).toBe(400);
    const ok = await api("POST", "/v1/secret/data/kv/cas", { body: { data: { a: 2 }, options: { cas: 1 } } });
    expect(ok.json.data.version).toBe(2);
  });

  it("soft-deleted versions still count for cas", async () => {
    await api("POST", "/v1/secret/data/kv/cas-del", { body: { data: { a: 1 } } });
    await api("DELETE", "/v1/secret/data/kv/cas-del");
    const zero = await api("POST", "/v1/secret/data/kv/cas-del", { body: { data: { a: 2 }, options: { cas: 0 } } });
    expect(zero.status).toBe(400);
    const one = await api("POST", "/v1/secret/data/kv/cas-del", { body: { data: { a: 2 }, options: { cas: 1 } } });
    expect(one.status).toBe(200);
  });

  it("cas_required on the key or the engine demands cas", async () => {
    const meta = await api("POST", "/v1/secret/metadata/kv/cas-req", { body: { cas_required: true } });
    expect(meta.status).toBe(204);
    const r = await api("POST", "/v1/secret/data/kv/cas-req", { body: { data: { a: 1 } } });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ errors: ["check-and-set parameter required for this call"] });
    const ok = await api("POST", "/v1/secret/data/kv/cas-req", { body: { data: { a: 1 }, options: { cas: 0 } } });
    expect(ok.status).toBe(200);

    await api("POST", "/v1/cfgmount/config", { body: {} }); // no such mount yet
    expect((await api("POST", "/v1/sys/mounts/cfgmount", { body: { type: "kv-v2" } })).status).toBe(204);
    expect((await api("POST", "/v1/cfgmount/config", { body: { cas_required: true } })).status).toBe(204);
    const cfg = await api("GET", "/v1/cfgmount/config");
    expect(cfg.json.data).toEqual({ cas_required: true, delete_version_after: "0s", max_versions: 0 });
    const engine = await api("POST", "/v1/cfgmount/data/x", { body: { data: { a: 1 } } });
    expect(engine.status).toBe(400);
    expect(engine.json.errors).toEqual(["check-and-set parameter required for this call"]);
  });

  it("a data path with a trailing slash → 404", async () => {
    const r = await api("GET", "/v1/secret/data/env/one/");
    expect(r.status).toBe(404);
    expect(r.json.data).toBeNull();
    expect(r.json.warnings[0]).toMatch(/^Invalid path for a versioned K\/V secrets engine/);
  });
});

describe("KV v2 deletes", () => {
  it("soft delete: 204, then 404 with envelope, data null, metadata filled", async () => {
    await api("POST", "/v1/secret/data/del/soft", { body: { data: { s: 1 } } });
    const d = await api("DELETE", "/v1/secret/data/del/soft");
    expect(d.status).toBe(204);
    const r = await api("GET", "/v1/secret/data/del/soft");
    expect(r.status).toBe(404);
    expect(Object.keys(r.json)).toEqual(ENVELOPE_KEYS);
    expect(r.json.mount_type).toBe("");
    expect(r.json.data.data).toBeNull();
    expect(r.json.data.metadata.version).toBe(1);
    expect(r.json.data.metadata.destroyed).toBe(false);
    expect(r.json.data.metadata.deletion_time).toMatch(RFC3339_NANO_RE);
    expect((await api("DELETE", "/v1/secret/data/del/never")).status).toBe(204);
  });

  it("delete, undelete and destroy specific versions", async () => {
    await api("POST", "/v1/secret/data/del/ver", { body: { data: { v: 1 } } });
    await api("POST", "/v1/secret/data/del/ver", { body: { data: { v: 2 } } });
    expect((await api("POST", "/v1/secret/delete/del/ver", { body: { versions: [1] } })).status).toBe(204);
    expect((await api("GET", "/v1/secret/data/del/ver?version=1")).status).toBe(404);
    expect((await api("GET", "/v1/secret/data/del/ver")).json.data.data).toEqual({ v: 2 });

    expect((await api("POST", "/v1/secret/undelete/del/ver", { body: { versions: [1] } })).status).toBe(204);
    const back = await api("GET", "/v1/secret/data/del/ver?version=1");
    expect(back.status).toBe(200);
    expect(back.json.data.data).toEqual({ v: 1 });
    expect(back.json.data.metadata.deletion_time).toBe("");

    expect((await api("POST", "/v1/secret/destroy/del/ver", { body: { versions: [1] } })).status).toBe(204);
    const gone = await api("GET", "/v1/secret/data/del/ver?version=1");
    expect(gone.status).toBe(404);
    expect(gone.json.data).toMatchObject({ data: null, metadata: { destroyed: true, version: 1 } });
    // A destroyed version cannot be undeleted.
    await api("POST", "/v1/secret/undelete/del/ver", { body: { versions: [1] } });
    expect((await api("GET", "/v1/secret/data/del/ver?version=1")).status).toBe(404);
  });

  it("an empty versions list → 400", async () => {
    const del = await api("POST", "/v1/secret/delete/del/ver", { body: { versions: [] } });
    expect(del.status).toBe(400);
    expect(del.json).toEqual({ errors: ["No version number provided"] });
    const und = await api("POST", "/v1/secret/undelete/del/ver", { body: {} });
    expect(und.json).toEqual({ errors: ["No version number provided"] });
    const des = await api("POST", "/v1/secret/destroy/del/ver", { body: { versions: [] } });
    expect(des.status).toBe(400);
    expect(des.json).toEqual({ errors: ["no version number provided"] });
  });

  it("metadata delete removes every version and numbering restarts", async () => {
    await api("POST", "/v1/secret/data/del/meta", { body: { data: { a: 1 } } });
    await api("POST", "/v1/secret/data/del/meta", { body: { data: { a: 2 } } });
    expect((await api("DELETE", "/v1/secret/metadata/del/meta")).status).toBe(204);
    const read = await api("GET", "/v1/secret/data/del/meta");
    expect(read.status).toBe(404);
    expect(read.json).toEqual({ errors: [] });
    expect((await api("GET", "/v1/secret/metadata/del/meta")).status).toBe(404);
    const again = await api("POST", "/v1/secret/data/del/meta", { body: { data: { a: 3 } } });
    expect(again.json.data.version).toBe(1);
    expect((await api("DELETE", "/v1/secret/metadata/del/never")).status).toBe(204);
  });
});

describe("KV v2 lists", () => {
  it("lists keys and folders, by LIST and by ?list=true", async () => {
    await api("POST", "/v1/secret/data/lst/openai", { body: { data: { k: 1 } } });
    await api("POST", "/v1/secret/data/lst/sub/x", { body: { data: { k: 1 } } });
    await api("POST", "/v1/secret/data/lst/sub", { body: { data: { k: 1 } } });
    const viaList = await api("LIST", "/v1/secret/metadata/lst");
    expect(viaList.status).toBe(200);
    expect(viaList.json.data).toEqual({ keys: ["openai", "sub", "sub/"] });
    expect(viaList.json.mount_type).toBe("kv");
    const viaGet = await api("GET", "/v1/secret/metadata/lst/?list=true");
    expect(viaGet.json.data).toEqual({ keys: ["openai", "sub", "sub/"] });
  });

  it("keeps soft-deleted keys, drops metadata-deleted keys, 404 when empty", async () => {
    await api("POST", "/v1/secret/data/lst2/a", { body: { data: { k: 1 } } });
    await api("POST", "/v1/secret/data/lst2/b", { body: { data: { k: 1 } } });
    await api("DELETE", "/v1/secret/data/lst2/a");
    await api("DELETE", "/v1/secret/metadata/lst2/b");
    expect((await api("LIST", "/v1/secret/metadata/lst2")).json.data.keys).toEqual(["a"]);
    const empty = await api("LIST", "/v1/secret/metadata/nothing-here");
    expect(empty.status).toBe(404);
    expect(empty.json).toEqual({ errors: [] });
  });

  it("?list=notabool → 400", async () => {
    expect((await api("GET", "/v1/secret/metadata/lst?list=maybe")).status).toBe(400);
  });
});

describe("KV v2 metadata", () => {
  it("reads every metadata key", async () => {
    await api("POST", "/v1/secret/data/md/read", { body: { data: { a: 1 } } });
    const r = await api("GET", "/v1/secret/metadata/md/read");
    expect(r.status).toBe(200);
    expect(Object.keys(r.json.data)).toEqual([
      "cas_required",
      "created_time",
      "current_version",
      "custom_metadata",
      "delete_version_after",
      "last_updated_by",
      "max_versions",
      "oldest_version",
      "updated_time",
      "versions",
    ]);
    expect(r.json.data).toMatchObject({
      cas_required: false,
      current_version: 1,
      custom_metadata: null,
      delete_version_after: "0s",
      max_versions: 0,
      oldest_version: 0,
    });
    expect(Object.keys(r.json.data.versions["1"])).toEqual([
      "created_by",
      "created_time",
      "deletion_time",
      "destroyed",
    ]);
    expect(r.json.data.last_updated_by).toEqual({ actor: "root", client_id: expect.any(String), operation: "create" });
    expect(r.json.data.versions["1"].deletion_time).toBe("");
    expect(r.json.data.created_time).toMatch(RFC3339_NANO_RE);
  });

  it("prunes beyond max_versions and moves oldest_version", async () => {
    expect((await api("POST", "/v1/secret/metadata/md/prune", { body: { max_versions: 2 } })).status).toBe(204);
    for (let i = 1; i <= 3; i++) await api("POST", "/v1/secret/data/md/prune", { body: { data: { i } } });
    const m = await api("GET", "/v1/secret/metadata/md/prune");
    expect(m.json.data.current_version).toBe(3);
    expect(m.json.data.oldest_version).toBe(2);
    expect(m.json.data.max_versions).toBe(2);
    expect(Object.keys(m.json.data.versions)).toEqual(["2", "3"]);
    const pruned = await api("GET", "/v1/secret/data/md/prune?version=1");
    expect(pruned.status).toBe(404);
    expect(pruned.json).toEqual({ errors: [] });
  });

  it("keeps 10 versions when neither key nor engine sets max_versions", async () => {
    for (let i = 1; i <= 11; i++) await api("POST", "/v1/secret/data/md/ten", { body: { data: { i } } });
    const m = await api("GET", "/v1/secret/metadata/md/ten");
    expect(Object.keys(m.json.data.versions)).toHaveLength(10);
    expect(m.json.data.oldest_version).toBe(2);
    expect(m.json.data.versions["1"]).toBeUndefined();
    expect(m.json.data.versions["11"]).toBeDefined();
  });

  it("uses the larger of key and engine max_versions", async () => {
    expect((await api("POST", "/v1/sys/mounts/maxv", { body: { type: "kv", options: { version: "2" } } })).status).toBe(
      204,
    );
    await api("POST", "/v1/maxv/config", { body: { max_versions: 3 } });
    await api("POST", "/v1/maxv/metadata/k", { body: { max_versions: 1 } });
    for (let i = 1; i <= 4; i++) await api("POST", "/v1/maxv/data/k", { body: { data: { i } } });
    const m = await api("GET", "/v1/maxv/metadata/k");
    expect(Object.keys(m.json.data.versions)).toEqual(["2", "3", "4"]);
  });

  it("stores custom_metadata and returns it on data reads", async () => {
    const w = await api("POST", "/v1/secret/metadata/md/custom", { body: { custom_metadata: { owner: "gw", n: 5 } } });
    expect(w.status).toBe(204);
    await api("POST", "/v1/secret/data/md/custom", { body: { data: { a: 1 } } });
    const r = await api("GET", "/v1/secret/data/md/custom");
    expect(r.json.data.metadata.custom_metadata).toEqual({ n: "5", owner: "gw" });
  });

  it("rejects custom_metadata over the limits with 400", async () => {
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
    const tooMany = await api("POST", "/v1/secret/metadata/md/limits", { body: { custom_metadata: many } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json).toEqual({
      errors: [
        "1 error occurred:\n\t* custom_metadata validation failed: payload must contain at most 64 keys, provided 65\n\n",
      ],
    });
    const longKey = await api("POST", "/v1/secret/metadata/md/limits", {
      body: { custom_metadata: { ["k".repeat(129)]: "v" } },
    });
    expect(longKey.status).toBe(400);
    expect(longKey.json.errors[0]).toContain("is 129 but must be 0 < len(key) <= 128");
    const emptyValue = await api("POST", "/v1/secret/metadata/md/limits", { body: { custom_metadata: { k: "" } } });
    expect(emptyValue.status).toBe(400);
    expect(emptyValue.json.errors[0]).toContain('length of value for key "k" is 0 but must be 0 < len(value) <= 512');
    const longValue = await api("POST", "/v1/secret/metadata/md/limits", {
      body: { custom_metadata: { k: "v".repeat(513) } },
    });
    expect(longValue.status).toBe(400);
    // Nothing was created by the rejected writes.
    expect((await api("GET", "/v1/secret/metadata/md/limits")).status).toBe(404);
    const atLimit = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, "v".repeat(512)]));
    expect((await api("POST", "/v1/secret/metadata/md/limits", { body: { custom_metadata: atLimit } })).status).toBe(
      204,
    );
  });
});

describe("dot segments never resolve to another path", () => {
  it("rejects '..' and '.' segments, raw or percent-encoded, with 400", async () => {
    await api("POST", "/v1/secret/data/victim", { body: { data: { secret: "do-not-leak" } } });
    const paths = [
      "/v1/secret/data/tenant-a/../victim",
      "/v1/secret/data/tenant-a/%2e%2e/victim",
      "/v1/secret/data/tenant-a/%2E%2e/victim",
      "/v1/secret/data/./victim",
      "/v1/secret/data/%2e/victim",
      "/v1/secret/data/tenant-a%2f..%2fvictim",
      "/v1/secret/tenant/../data/victim",
    ];
    for (const p of paths) {
      const r = await rawRequest(vault.port, "GET", p, ROOT);
      expect(r.status, p).toBe(400);
      expect(JSON.parse(r.text), p).toEqual({ errors: ["1 error occurred:\n\t* relative paths not supported\n\n"] });
      expect(r.text, p).not.toContain("do-not-leak");
      expect(r.cacheControl, p).toBe("no-store");
    }
  });

  it("a write through '..' changes nothing", async () => {
    const w = await rawRequest(vault.port, "POST", "/v1/secret/data/x/../victim", ROOT, {
      data: { secret: "overwritten" },
    });
    expect(w.status).toBe(400);
    const r = await api("GET", "/v1/secret/data/victim");
    expect(r.json.data.data).toEqual({ secret: "do-not-leak" });
    expect(r.json.data.metadata.version).toBe(1);
  });

  it("names that merely contain dots are ordinary keys", async () => {
    const w = await api("POST", "/v1/secret/data/a..b/.hidden", { body: { data: { ok: true } } });
    expect(w.status).toBe(200);
    expect((await api("GET", "/v1/secret/data/a..b/.hidden")).json.data.data).toEqual({ ok: true });
  });
});

describe("sys/mounts, sys/health, auth", () => {
  it("enables kv v2 mounts, refuses a second mount at the same path, lists them", async () => {
    expect((await api("POST", "/v1/sys/mounts/kv2alias", { body: { type: "kv-v2" } })).status).toBe(204);
    const dup = await api("POST", "/v1/sys/mounts/kv2alias", { body: { type: "kv", options: { version: "2" } } });
    expect(dup.status).toBe(400);
    expect(dup.json).toEqual({ errors: ["path is already in use at kv2alias/"] });
    const secretDup = await api("POST", "/v1/sys/mounts/secret", { body: { type: "kv-v2" } });
    expect(secretDup.json).toEqual({ errors: ["path is already in use at secret/"] });

    const list = await api("GET", "/v1/sys/mounts");
    expect(list.status).toBe(200);
    expect(list.json.mount_type).toBe("system");
    expect(list.json.data["secret/"]).toMatchObject({ type: "kv", options: { version: "2" } });
    expect(list.json.data["kv2alias/"]).toMatchObject({ type: "kv", options: { version: "2" } });
    // sys responses repeat data's keys at the top level (HTTPSysInjector).
    expect(list.json["secret/"]).toEqual(list.json.data["secret/"]);
    expect(list.json.request_id).toMatch(UUID_RE);
  });

  it("health needs no token and reports state", async () => {
    const h = await call(vault.url, "GET", "/v1/sys/health", { token: null });
    expect(h.status).toBe(200);
    expect(h.json).toMatchObject({ initialized: true, sealed: false, standby: false, performance_standby: false });
    expect(typeof h.json.version).toBe("string");
    expect(typeof h.json.server_time_utc).toBe("number");
  });

  it("AppRole login answers data:null and the full auth object", async () => {
    const r = await call(vault.url, "POST", "/v1/auth/approle/login", {
      token: null,
      body: { role_id: ROLE_ID, secret_id: SECRET_ID },
    });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual(ENVELOPE_KEYS);
    expect(r.json.data).toBeNull();
    expect(Object.keys(r.json.auth)).toEqual([
      "client_token",
      "accessor",
      "policies",
      "token_policies",
      "metadata",
      "lease_duration",
      "renewable",
      "entity_id",
      "token_type",
      "orphan",
      "mfa_requirement",
      "num_uses",
    ]);
    expect(r.json.auth).toMatchObject({
      lease_duration: 3600,
      renewable: true,
      token_type: "service",
      orphan: true,
      num_uses: 0,
      policies: ["app", "default"],
      token_policies: ["app", "default"],
    });
    expect(r.json.auth.entity_id).toMatch(UUID_RE);

    const token = r.json.auth.client_token as string;
    const self = await call(vault.url, "GET", "/v1/auth/token/lookup-self", { token });
    expect(self.status).toBe(200);
    expect(self.json.mount_type).toBe("token");
    expect(self.json.data.ttl).toBeGreaterThan(3590);
    expect(self.json.data.policies).toEqual(["app", "default"]);
    expect(self.json.data.expire_time).toMatch(RFC3339_NANO_RE);
    const expire = Date.parse(self.json.data.expire_time);
    expect(Math.abs(expire - (Date.now() + 3600_000))).toBeLessThan(10_000);
    expect((await call(vault.url, "GET", "/v1/secret/data/victim", { token })).status).toBe(200);
  });

  it("bad AppRole credentials → 400 invalid role or secret ID", async () => {
    for (const body of [
      { role_id: ROLE_ID, secret_id: "wrong" },
      { role_id: "wrong", secret_id: SECRET_ID },
    ]) {
      const r = await call(vault.url, "POST", "/v1/auth/approle/login", { token: null, body });
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ errors: ["invalid role or secret ID"] });
    }
    const missing = await call(vault.url, "POST", "/v1/auth/approle/login", { token: null, body: {} });
    expect(missing.json).toEqual({ errors: ["missing role_id"] });
  });

  it("lookup-self with a bad token → 403", async () => {
    const r = await call(vault.url, "GET", "/v1/auth/token/lookup-self", { token: "hvs.nope" });
    expect(r.status).toBe(403);
    expect(r.json.errors[0]).toContain("permission denied");
  });
});
