/**
 * The key record (connector_configs) against Vault under concurrency and lost replies: the
 * record never moves backwards, one writer never clears another's pending mark, and the list
 * repairs what it has reason to doubt, within Workers' subrequest limits.
 */
import { env } from "cloudflare:test";
import { neon, neonConfig } from "@neondatabase/serverless";
import { afterEach, describe, expect, inject, it } from "vitest";
import { MAX_REPAIRS_PER_LIST } from "../../src/keys/key-store";
import { neonControl, sql, vaultControl, vaultRaw } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const key = (word: string) => `sk-proj-${word}${"0123456789abcdefghijklmn".slice(word.length)}K${word.slice(-3)}`;
const keysPath = (tenant: string, service = "openai") => `secret/data/tenants/${tenant}/api_keys/${service}`;

async function store(tenant: string, apiKey: string, env?: Record<string, string>) {
  return await call("POST", "/vault/keys/openai", {
    as: { tenant },
    body: { service: "openai", api_key: apiKey },
    env,
  });
}

async function record(tenant: string) {
  const [row] = await sql().query(
    "SELECT vault_version, key_hint, sync_status, pending_writes FROM connector_configs WHERE tenant_id = $1",
    [tenant],
  );
  return row;
}

afterEach(async () => {
  await neonControl.clearFaults();
  await vaultControl.clearFaults();
});

describe("key records under concurrent rotations", () => {
  it("50 concurrent rotations with jittered database replies: the record and the list end at Vault's version", async () => {
    const tenant = newTenant();
    expect((await store(tenant, key("first"))).status).toBe(201);
    // Each rotation's closing update reaches the database after 0-300 ms: they land out of version order.
    await neonControl.faults({ match: 'update "connector_configs"', jitterMs: 300 });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store(tenant, key(`rot${i}`))));
    await neonControl.clearFaults();
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    const vault = await vaultRaw("GET", keysPath(tenant));
    expect(vault.json.data.metadata.version).toBe(51);
    expect(await record(tenant)).toEqual({
      vault_version: 51,
      key_hint: vault.json.data.data.key_hint,
      sync_status: "synced",
      pending_writes: 0,
    });
    const list = await call("GET", "/vault/keys", { as: { tenant } });
    expect(list.json.keys ?? list.json.items).toBeDefined();
    const listed = list.json.items.find((k: any) => k.service === "openai");
    expect(listed).toMatchObject({ version: 51, key_hint: vault.json.data.data.key_hint });
  });

  it("a rotation whose Vault reply is lost (the write applied) is repaired by the next list, not reset", async () => {
    const tenant = newTenant();
    expect((await store(tenant, key("before"))).status).toBe(201);
    expect((await store(tenant, key("second"))).status).toBe(200);
    // Vault applies the write but answers after the gateway has given up.
    await vaultControl.faults({ latencyMs: 900, pathPrefix: "/v1/secret/data/", methods: ["POST", "PUT"], count: 1 });
    const lost = await store(tenant, key("lostreply"), { VAULT_TIMEOUT_MS: "300" });
    expect(lost.status).toBe(503);
    expect(lost.json.code).toBe("vault_unavailable");
    let version = 0;
    for (let i = 0; i < 40 && version !== 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
      version = (await vaultRaw("GET", keysPath(tenant))).json?.data?.metadata?.version ?? 0;
    }
    expect(version).toBe(3);
    const list = await call("GET", "/vault/keys", { as: { tenant } });
    const listed = list.json.items.find((k: any) => k.service === "openai");
    expect(listed).toMatchObject({ version: 3, key_hint: `****${key("lostreply").slice(-4)}` });
    expect((await record(tenant))?.vault_version).toBe(3);
  });

  it("a write Vault refuses does not clear another writer's pending mark", async () => {
    const tenant = newTenant();
    expect((await store(tenant, key("mine"))).status).toBe(201);
    // Another writer is in flight: it has counted itself in and written Vault, not yet the record.
    await sql().query(
      "UPDATE connector_configs SET pending_writes = pending_writes + 1, sync_status = 'pending', pending_since = now() WHERE tenant_id = $1",
      [tenant],
    );
    const other = await vaultRaw("POST", keysPath(tenant), {
      data: {
        api_key: key("theirs"),
        key_hint: "****heir",
        created_at: new Date().toISOString(),
        created_by: "x",
        metadata: {},
      },
    });
    expect(other.json.data.version).toBe(2);
    // This writer's compare-and-set fails in Vault: it counts itself out, and only itself.
    const refused = await call("POST", "/vault/keys/openai", {
      as: { tenant },
      body: { service: "openai", api_key: key("refused"), expected_version: 1 },
    });
    expect(refused.status).toBe(409);
    expect((await record(tenant))?.pending_writes).toBe(1);
    const list = await call("GET", "/vault/keys", { as: { tenant } });
    expect(list.json.items.find((k: any) => k.service === "openai")).toMatchObject({
      version: 2,
      key_hint: "****heir",
    });
  });
});

describe("repairing many records in one list", () => {
  it(`repairs at most ${MAX_REPAIRS_PER_LIST} records per list (one Vault read each), and the next list the rest`, async () => {
    const tenant = newTenant();
    const services = Array.from({ length: 60 }, (_, i) => `svc${String(i).padStart(2, "0")}`);
    // Keys Vault holds that have no record yet (as after a database restore).
    for (const service of services) {
      await vaultRaw("POST", keysPath(tenant, service), {
        data: {
          api_key: key(service),
          key_hint: `****${service.slice(-4)}`,
          created_at: "",
          created_by: "x",
          metadata: {},
        },
      });
    }
    await vaultControl.clearRequests();
    const first = await call("GET", "/vault/keys", { as: { tenant } });
    expect(first.status).toBe(200);
    const reads = (await vaultControl.requests()).filter((r) => r.path.includes(`/tenants/${tenant}/`));
    // One LIST, then one read per repaired record: nothing per record beyond that.
    expect(reads.length).toBeLessThanOrEqual(MAX_REPAIRS_PER_LIST + 1);
    expect(first.json.items.length).toBe(MAX_REPAIRS_PER_LIST);
    const second = await call("GET", "/vault/keys", { as: { tenant } });
    expect(second.json.items.map((k: any) => k.service)).toEqual(services);
    for (const k of second.json.items) expect(k).toMatchObject({ version: 1 });
  });
});

const pooled = inject("pooledNeonUrl");

describe.skipIf(!pooled)(
  "the key API against the pooled Neon stand-in (a real Postgres, requests side by side)",
  () => {
    const onPooled = { NEON_FETCH_ENDPOINT: pooled };
    const pooledSql = () => {
      neonConfig.fetchEndpoint = pooled;
      return neon(env.DATABASE_URL!);
    };

    it("50 concurrent rotations of one key and 20 services rotated 5 times at once: zero lost or mismatched records", async () => {
      const tenant = newTenant();
      expect((await store(tenant, key("pool0"), onPooled)).status).toBe(201);
      const one = await Promise.all(Array.from({ length: 50 }, (_, i) => store(tenant, key(`pl${i}`), onPooled)));
      expect(one.map((r) => r.status)).toEqual(Array(50).fill(200));
      const services = Array.from({ length: 20 }, (_, i) => `svc-${String(i).padStart(2, "0")}`);
      const many = await Promise.all(
        services.flatMap((service) =>
          Array.from({ length: 5 }, (_, r) =>
            call("POST", `/vault/keys/${service}`, {
              as: { tenant },
              body: { service, api_key: key(`${service}r${r}`) },
              env: onPooled,
            }),
          ),
        ),
      );
      expect(many.every((r) => r.status === 200 || r.status === 201)).toBe(true);
      const rows = await pooledSql().query(
        "SELECT connector_id, vault_version, key_hint, pending_writes, sync_status FROM connector_configs WHERE tenant_id = $1 ORDER BY connector_id",
        [tenant],
      );
      expect(rows).toHaveLength(21);
      for (const row of rows) {
        const secret = (await vaultRaw("GET", keysPath(tenant, row.connector_id))).json.data;
        expect(row).toEqual({
          connector_id: row.connector_id,
          vault_version: secret.metadata.version,
          key_hint: secret.data.key_hint,
          pending_writes: 0,
          sync_status: "synced",
        });
        expect(secret.metadata.version).toBe(row.connector_id === "openai" ? 51 : 5);
      }
      const list = await call("GET", "/vault/keys", { as: { tenant }, env: onPooled });
      expect(list.json.items.map((k: any) => [k.service, k.version])).toEqual(
        rows.map((r) => [r.connector_id, r.vault_version]),
      );
    });
  },
);
