import { afterEach, describe, expect, it, vi } from "vitest";
import { IsolateCache } from "../../src/lib/isolate-cache";
import { createApiKey } from "./support/api-keys";
import { addDocument, azureKey, createAgent, openaiKey, storeKey } from "./support/knowledge";
import { auditRows, llmCalls, sha256Hex, sql, vaultControl, vaultRaw } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

/**
 * The per-isolate caches (src/lib/isolate-cache.ts): the hot path does not read Vault (or the
 * agent) again within CACHE_TTL_MS (default 30 s); a change made through this isolate is seen at
 * once; a change made elsewhere (another isolate, Vault directly) within the TTL; tenants never
 * share an entry. The tests run in the Worker's own isolate, so its module-level caches are these.
 */

const member = (tenant: string) => ({ tenant, roles: ["member"] });
const completion = (tenant: string, model = "gpt-4o-mini", content = "Hi") =>
  call("POST", "/v1/chat/completions", { as: member(tenant), body: { model, messages: [{ role: "user", content }] } });

/** The tenant's key reads the Vault stand-in received (GET of the key's data path). */
async function keyReads(tenant: string, service = "openai"): Promise<number> {
  const path = `/v1/secret/data/tenants/${tenant}/api_keys/${service}`;
  return (await vaultControl.requests()).filter((r) => r.method === "GET" && r.path === path).length;
}

/** Fingerprints of the keys the provider stand-in received for chat completions, in order. */
async function chatKeys(fingerprints: string[]): Promise<string[]> {
  return (await llmCalls())
    .filter((c) => c.path.endsWith("/chat/completions") && fingerprints.includes(c.keyFingerprint))
    .map((c) => c.keyFingerprint);
}

/** Moves this isolate's clock (Date only: timers and I/O keep running). */
function advanceClock(ms: number) {
  vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + ms });
}

afterEach(() => {
  vi.useRealTimers();
});

describe("the tenant's provider key, per isolate", () => {
  it("a second call reads nothing from Vault; the key that answered is the tenant's", async () => {
    const tenant = newTenant();
    const key = openaiKey("cacheHot");
    await storeKey(tenant, "openai", key);
    expect((await completion(tenant)).status).toBe(200);
    expect(await keyReads(tenant)).toBe(1);
    expect((await completion(tenant)).status).toBe(200);
    expect((await completion(tenant, "gpt-4o-mini", "again")).status).toBe(200);
    expect(await keyReads(tenant)).toBe(1);
    const fp = await sha256Hex(key);
    expect(await chatKeys([fp])).toEqual([fp, fp, fp]);
  });

  it("a rotation or deletion through this isolate is seen by the very next call", async () => {
    const tenant = newTenant();
    const first = openaiKey("cacheRotA");
    const second = openaiKey("cacheRotB");
    await storeKey(tenant, "openai", first);
    expect((await completion(tenant)).status).toBe(200);
    await storeKey(tenant, "openai", second);
    expect((await completion(tenant)).status).toBe(200);
    const [a, b] = await Promise.all([sha256Hex(first), sha256Hex(second)]);
    expect(await chatKeys([a, b])).toEqual([a, b]);
    const del = await call("DELETE", "/vault/keys/openai", { as: { tenant } });
    expect(del.status).toBeLessThan(300);
    const gone = await completion(tenant);
    expect(gone.status).toBe(422);
    expect(gone.json.error.code).toBe("provider_key_missing");
  });

  it("a rotation made elsewhere (Vault itself, another isolate) is served within the TTL: past half of it, a hit re-reads Vault off the call's path", async () => {
    const tenant = newTenant();
    const first = openaiKey("cacheTtlA");
    const second = openaiKey("cacheTtlB");
    await storeKey(tenant, "openai", first);
    expect((await completion(tenant)).status).toBe(200);
    // Written straight into Vault: this isolate cannot know.
    const w = await vaultRaw("POST", `secret/data/tenants/${tenant}/api_keys/openai`, {
      data: { api_key: second, created_at: "", created_by: "elsewhere", key_hint: "****KEYS", metadata: {} },
    });
    expect(w.status).toBe(200);
    advanceClock(14_000);
    expect((await completion(tenant)).status).toBe(200);
    expect(await keyReads(tenant)).toBe(1);
    // Past half the TTL (16 s of 30): answered from the cache (the first key), Vault read after the answer.
    advanceClock(2_000);
    expect((await completion(tenant)).status).toBe(200);
    expect(await keyReads(tenant)).toBe(2);
    // The next call has the rotated key without reading Vault itself.
    expect((await completion(tenant)).status).toBe(200);
    expect(await keyReads(tenant)).toBe(2);
    const [a, b] = await Promise.all([sha256Hex(first), sha256Hex(second)]);
    expect(await chatKeys([a, b])).toEqual([a, a, a, b]);
  });

  it("a key in steady use is never read on the hot path; a refresh that fails does not fail the call", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("cacheSteady"));
    expect((await completion(tenant)).status).toBe(200);
    for (let i = 0; i < 4; i++) {
      // Every 20 s (CACHE_TTL_MS 30 s): each call is a hit past half the TTL, which refreshes the entry.
      advanceClock(20_000);
      expect((await completion(tenant)).status).toBe(200);
    }
    // One read to fill the cache, then one refresh per call (without refreshing: one read per 40 s).
    expect(await keyReads(tenant)).toBe(5);
    // Vault failing for this tenant: the hit still answers; its refresh fails off the path.
    await vaultControl.faults({ status: 503, pathPrefix: `/v1/secret/data/tenants/${tenant}/` });
    try {
      advanceClock(20_000);
      expect((await completion(tenant)).status).toBe(200);
    } finally {
      await vaultControl.clearFaults();
    }
  });

  it("a key deleted elsewhere leaves the cache at the refresh", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("cacheGone"));
    expect((await completion(tenant)).status).toBe(200);
    const d = await vaultRaw("DELETE", `secret/metadata/tenants/${tenant}/api_keys/openai`);
    expect(d.status).toBeLessThan(300);
    advanceClock(16_000);
    expect((await completion(tenant)).status).toBe(200);
    const gone = await completion(tenant);
    expect(gone.status).toBe(422);
    expect(gone.json.error.code).toBe("provider_key_missing");
  });

  it("a key the provider rejects in use leaves the cache: a replacement written elsewhere is used by the next call", async () => {
    const tenant = newTenant();
    const revoked = openaiKey("revoked");
    const replacement = openaiKey("cacheRepl");
    await storeKey(tenant, "openai", revoked);
    const refused = await completion(tenant);
    expect(refused.status).toBe(422);
    expect(refused.json.error.code).toBe("provider_key_rejected");
    const w = await vaultRaw("POST", `secret/data/tenants/${tenant}/api_keys/openai`, {
      data: { api_key: replacement, created_at: "", created_by: "elsewhere", key_hint: "****KEYS", metadata: {} },
    });
    expect(w.status).toBe(200);
    // Well within the TTL: without the eviction the rejected key would be sent again.
    expect((await completion(tenant)).status).toBe(200);
    expect(await keyReads(tenant)).toBe(2);
    const [a, b] = await Promise.all([sha256Hex(revoked), sha256Hex(replacement)]);
    // The stand-in records only the calls it answered: the replacement's.
    expect(await chatKeys([a, b])).toEqual([b]);
  });

  it("CACHE_TTL_MS=0 turns the cache off: every call reads Vault", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("cacheOff"));
    const env = { CACHE_TTL_MS: "0" };
    for (let i = 0; i < 2; i++) {
      const r = await call("POST", "/v1/chat/completions", {
        as: member(tenant),
        env,
        body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] },
      });
      expect(r.status).toBe(200);
    }
    expect(await keyReads(tenant)).toBe(2);
  });

  it("tenant A's cached key never serves tenant B", async () => {
    const [a, b] = [newTenant(), newTenant()];
    const [keyA, keyB] = [openaiKey("cacheIsoA"), openaiKey("cacheIsoB")];
    await storeKey(a, "openai", keyA);
    expect((await completion(a)).status).toBe(200);
    // B has no key: A's cached one must not answer for it.
    const none = await completion(b);
    expect(none.status).toBe(422);
    await storeKey(b, "openai", keyB);
    expect((await completion(b)).status).toBe(200);
    expect((await completion(a)).status).toBe(200);
    const [fa, fb] = await Promise.all([sha256Hex(keyA), sha256Hex(keyB)]);
    expect(await chatKeys([fa, fb])).toEqual([fa, fb, fa]);
    expect(await keyReads(b)).toBe(2);
  });
});

describe("the agent, per isolate", () => {
  it("an update through this isolate applies at once; one made elsewhere once the TTL has passed", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("cacheAgent"));
    await createAgent(tenant, { agent_id: "brief", max_tokens: 1000 });
    const ask = () => completion(tenant, "agent:brief", "one two three four five");
    expect((await ask()).json.choices[0].message.content).toBe("Echo: one two three four five");

    const patched = await call("PATCH", "/agents/brief", { as: { tenant }, body: { max_tokens: 3 } });
    expect(patched.status).toBe(200);
    expect((await ask()).json.choices[0].message.content).toBe("Echo: one two");

    // Changed in the database behind this isolate's back (as another isolate's update would be).
    await sql().query("UPDATE agent_configs SET max_tokens = 4 WHERE tenant_id = $1 AND agent_id = 'brief'", [tenant]);
    advanceClock(29_000);
    expect((await ask()).json.choices[0].message.content).toBe("Echo: one two");
    advanceClock(31_000);
    expect((await ask()).json.choices[0].message.content).toBe("Echo: one two three");
  });

  it("a deleted agent is gone at once, and another tenant's agent of the same id is never served", async () => {
    const [a, b] = [newTenant(), newTenant()];
    await storeKey(a, "openai", openaiKey("cacheDelA"));
    await storeKey(b, "openai", openaiKey("cacheDelB"));
    await createAgent(a, { agent_id: "shared-name", max_tokens: 2 });
    expect((await completion(a, "agent:shared-name", "one two three")).json.choices[0].message.content).toBe(
      "Echo: one",
    );
    const missing = await completion(b, "agent:shared-name");
    expect(missing.status).toBe(404);
    await createAgent(b, { agent_id: "shared-name", max_tokens: 1000 });
    expect((await completion(b, "agent:shared-name", "one two three")).json.choices[0].message.content).toBe(
      "Echo: one two three",
    );
    expect((await call("DELETE", "/agents/shared-name", { as: { tenant: a } })).status).toBeLessThan(300);
    expect((await completion(a, "agent:shared-name")).status).toBe(404);
  });
});

describe("an agent's knowledge, per isolate: its scope's size and the tenant's knowledge settings", () => {
  const turn = (tenant: string, agentId: string) =>
    call("POST", `/agents/${agentId}/chat`, {
      as: member(tenant),
      body: { messages: [{ role: "user", content: "What does the KX-7 do?" }] },
    });
  const refs = async (tenant: string, agentId: string) => {
    const r = await turn(tenant, agentId);
    expect(r.status, r.text).toBe(200);
    return r.json.sources.map((s: { ref: string }) => s.ref);
  };
  /** The provider each retrieval embedding of the tenant's turns went to, in order. */
  const retrievals = async (tenant: string) =>
    (await auditRows(tenant))
      .filter((row) => row.action === "key.use" && row.details.purpose === "retrieval")
      .map((row) => row.resource_id);

  it("documents added or deleted through this isolate reach the next turn; moved elsewhere once the TTL has passed", async () => {
    const [tenant, other] = [newTenant(), newTenant()];
    await storeKey(tenant, "openai", openaiKey("cacheScope"));
    await storeKey(other, "openai", openaiKey("cacheScopeB"));
    await createAgent(tenant, { agent_id: "kb" });
    await createAgent(tenant, { agent_id: "later" });
    await createAgent(other, { agent_id: "kb" });
    expect(await refs(tenant, "kb")).toEqual([]);
    expect(await refs(tenant, "later")).toEqual([]);
    // A shared document is in every agent's scope: both empty scopes counted above are forgotten.
    const shared = await addDocument(tenant, { title: "KX-7", content: "The KX-7 cools the server room." });
    expect(await refs(tenant, "kb")).toEqual(["KX-7#0"]);
    expect(await refs(tenant, "later")).toEqual(["KX-7#0"]);
    // Another tenant's agent of the same id keeps its own (empty) scope.
    expect(await refs(other, "kb")).toEqual([]);
    expect((await call("DELETE", `/knowledge/documents/${shared}`, { as: { tenant } })).status).toBeLessThan(300);
    expect(await refs(tenant, "kb")).toEqual([]);

    // An agent's own document, moved to "later" behind this isolate's back (as another isolate's upload would add it).
    await addDocument(tenant, { title: "KX-7 manual", content: "The KX-7 cools the server room.", agent_id: "kb" });
    expect(await refs(tenant, "later")).toEqual([]);
    await sql().query("UPDATE knowledge_base SET agent_id = 'later' WHERE tenant_id = $1", [tenant]);
    advanceClock(29_000);
    expect(await refs(tenant, "later")).toEqual([]);
    advanceClock(31_000);
    expect(await refs(tenant, "later")).toEqual(["KX-7 manual#0"]);
  });

  it("a new embedding provider chosen through this isolate embeds the very next turn's retrieval", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("cacheSettings"));
    await storeKey(tenant, "azure-openai", azureKey("cacheSettings"));
    await createAgent(tenant, { agent_id: "kb" });
    const choose = (body: Record<string, unknown>) => call("PUT", "/knowledge/settings", { as: { tenant }, body });

    expect(
      (await choose({ embedding_provider: "azure-openai", embedding_deployment: "text-embedding-3-small" })).status,
    ).toBe(200);
    const doc = await addDocument(tenant, { title: "KX-7", content: "The KX-7 cools the server room." });
    expect(await refs(tenant, "kb")).toEqual(["KX-7#0"]);
    expect(await refs(tenant, "kb")).toEqual(["KX-7#0"]);
    expect(await retrievals(tenant)).toEqual(["azure-openai", "azure-openai"]);

    // The 409 rule: the provider changes only while the tenant has no knowledge.
    expect((await call("DELETE", `/knowledge/documents/${doc}`, { as: { tenant } })).status).toBeLessThan(300);
    expect((await choose({ embedding_provider: "openai" })).status).toBe(200);
    await addDocument(tenant, { title: "KX-7", content: "The KX-7 cools the server room." });
    expect(await refs(tenant, "kb")).toEqual(["KX-7#0"]);
    expect(await retrievals(tenant)).toEqual(["azure-openai", "azure-openai", "openai"]);
  });

  it("a tenant that never chose is read on each turn that retrieves (absence is not kept); a choice, for the TTL", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("cacheAbsent"));
    await storeKey(tenant, "azure-openai", azureKey("cacheAbsent"));
    await createAgent(tenant, { agent_id: "kb" });
    await addDocument(tenant, { title: "KX-7", content: "The KX-7 cools the server room." });
    expect(await refs(tenant, "kb")).toEqual(["KX-7#0"]);
    // Chosen behind this isolate's back (as another isolate's PUT would store it).
    const store = (provider: string, deployment: string | null) =>
      sql().query(
        `INSERT INTO knowledge_settings (tenant_id, embedding_provider, embedding_deployment, updated_by) VALUES ($1, $2, $3, 'elsewhere')
         ON CONFLICT (tenant_id) DO UPDATE SET embedding_provider = $2, embedding_deployment = $3`,
        [tenant, provider, deployment],
      );
    await store("azure-openai", "text-embedding-3-small");
    expect(await refs(tenant, "kb")).toEqual(["KX-7#0"]);
    await store("openai", null);
    expect(await refs(tenant, "kb")).toEqual(["KX-7#0"]);
    advanceClock(31_000);
    expect(await refs(tenant, "kb")).toEqual(["KX-7#0"]);
    expect(await retrievals(tenant)).toEqual(["openai", "azure-openai", "azure-openai", "openai"]);
  });
});

describe("the tenant API key lookup, per isolate", () => {
  const models = (token: string) => call("GET", "/v1/models", { token });

  it("a revocation through this isolate is refused at once; one made elsewhere once the TTL has passed", async () => {
    const tenant = newTenant();
    const here = await createApiKey(tenant, { name: "here" });
    const there = await createApiKey(tenant, { name: "there" });
    expect((await models(here.key)).status).toBe(200);
    expect((await models(there.key)).status).toBe(200);

    expect((await call("DELETE", `/api-keys/${here.id}`, { as: { tenant } })).status).toBe(200);
    expect((await models(here.key)).status).toBe(401);

    // Revoked in the database behind this isolate's back (as another isolate's DELETE would be).
    await sql().query("UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1 AND id = $2", [tenant, there.id]);
    advanceClock(29_000);
    expect((await models(there.key)).status).toBe(200);
    advanceClock(31_000);
    const refused = await models(there.key);
    expect(refused.status).toBe(401);
    expect(refused.json.error.code).toBe("invalid_api_key");
  });

  it("a cached key still expires on time, and a key's record serves only its own tenant", async () => {
    const [a, b] = [newTenant(), newTenant()];
    await storeKey(b, "openai", openaiKey("cacheKeyB"));
    const created = await createApiKey(a, { expires_at: new Date(Date.now() + 60_000).toISOString() });
    const listed = await models(created.key);
    expect(listed.status).toBe(200);
    // Tenant B's provider key is not tenant A's: A's key lists none of B's models.
    expect(listed.json.data).toEqual([]);
    advanceClock(61_000);
    expect((await models(created.key)).status).toBe(401);
  });
});

describe("IsolateCache", () => {
  const tenant = "00000000-0000-4000-8000-000000000001";

  it("is bounded: beyond maxEntries the least recently used entry goes", async () => {
    const cache = new IsolateCache<string>(2);
    let fetches = 0;
    const load = (key: string) =>
      cache.load(tenant, key, 60_000, async () => {
        fetches++;
        return `value of ${key}`;
      });
    await load("a");
    await load("b");
    await load("a"); // a is now the most recently used
    await load("c"); // evicts b
    expect(cache.size).toBe(2);
    expect(fetches).toBe(3);
    await load("a");
    expect(fetches).toBe(3);
    await load("b");
    expect(fetches).toBe(4);
  });

  it("a read in flight during an eviction does not put its older answer back; absence is not kept", async () => {
    const cache = new IsolateCache<string>(10);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = cache.load(tenant, "k", 60_000, async () => {
      await gate;
      return "old";
    });
    cache.evict(tenant, "k");
    release();
    expect(await slow).toBe("old");
    expect(await cache.load(tenant, "k", 60_000, async () => "new")).toBe("new");
    expect(await cache.load(tenant, "none", 60_000, async () => null)).toBeNull();
    expect(await cache.load(tenant, "none", 60_000, async () => "now there")).toBe("now there");
    expect(await cache.load("00000000-0000-4000-8000-000000000002", "k", 60_000, async () => "theirs")).toBe("theirs");
  });
});
