import { drizzle } from "drizzle-orm/neon-http";
import { PgDialect } from "drizzle-orm/pg-core";
import { env } from "cloudflare:test";
import { neon, neonConfig } from "@neondatabase/serverless";
import { describe, expect, it } from "vitest";
import { schema } from "../../src/db/schema";
import { efSearchFor, KnowledgeStore } from "../../src/knowledge/knowledge-store";
import { addDocument, openaiKey, storeKey } from "./support/knowledge";
import { llmCalls, sha256Hex, sql } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const doc = { title: "T", content: "Some text." };

describe("knowledge: tenant isolation", () => {
  it("documents and search results of one tenant are invisible to another; each embeds with its own key", async () => {
    const a = newTenant();
    const b = newTenant();
    const keyA = openaiKey("isoTenantA");
    const keyB = openaiKey("isoTenantB");
    await storeKey(a, "openai", keyA);
    await storeKey(b, "openai", keyB);
    const secretDoc = await addDocument(a, {
      title: "A secret",
      content: "The launch code for project falcon is hidden in the vault.",
    });

    // B asks the exact question: gets nothing of A's.
    const search = await call("POST", "/knowledge/search", {
      as: { tenant: b },
      body: { query: "launch code for project falcon", k: 50 },
    });
    expect(search.status).toBe(200);
    expect(search.json.results).toEqual([]);
    expect((await call("GET", "/knowledge/documents", { as: { tenant: b } })).json.items).toEqual([]);
    expect((await call("DELETE", `/knowledge/documents/${secretDoc}`, { as: { tenant: b } })).status).toBe(404);
    expect((await call("GET", "/knowledge/documents", { as: { tenant: a } })).json.items).toHaveLength(1);

    // A finds its own document; B's search was embedded with B's key, never A's.
    const own = await call("POST", "/knowledge/search", {
      as: { tenant: a },
      body: { query: "launch code for project falcon" },
    });
    expect(own.json.results[0].document_id).toBe(secretDoc);
    const calls = await llmCalls();
    const [fpA, fpB] = [await sha256Hex(keyA), await sha256Hex(keyB)];
    expect(calls.filter((c) => c.keyFingerprint === fpB)).toHaveLength(1);
    expect(calls.filter((c) => c.keyFingerprint === fpA)).toHaveLength(2);
  });

  it("full text is tenant-filtered too: another tenant's exact error code never appears, even as B's only text match", async () => {
    const a = newTenant();
    const b = newTenant();
    await storeKey(a, "openai", openaiKey("ftsTenantA"));
    await storeKey(b, "openai", openaiKey("ftsTenantB"));
    const secret = await addDocument(a, {
      title: "Incident ERR-9911",
      content: "ERR-9911: the falcon export leaked nothing; rotate the falcon keys.",
    });
    await addDocument(b, { title: "Errors", content: "Every ERR code is listed in the manual." });
    for (const query of ["ERR-9911", '"falcon export"', "falcon keys ERR-9911"]) {
      const r = await call("POST", "/knowledge/search", { as: { tenant: b }, body: { query, k: 50 } });
      expect(r.status).toBe(200);
      expect(r.json.results.map((h: any) => h.document_id)).not.toContain(secret);
      expect(r.text).not.toContain("falcon");
      expect(r.json.results.every((h: any) => h.text_rank === null)).toBe(true);
    }
    const own = await call("POST", "/knowledge/search", { as: { tenant: a }, body: { query: "ERR-9911" } });
    expect(own.json.results[0]).toMatchObject({ document_id: secret, text_rank: 1 });
  });

  it("full text respects the agent scope: another agent's exact-term document stays out", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("ftsAgent"));
    await call("POST", "/agents", { as: { tenant }, body: { agent_id: "sales", name: "Sales" } });
    await call("POST", "/agents", { as: { tenant }, body: { agent_id: "support", name: "Support" } });
    const salesDoc = await addDocument(tenant, {
      title: "Deal DL-4410",
      content: "DL-4410 discount is thirty percent.",
      agent_id: "sales",
    });
    await addDocument(tenant, { title: "Shared", content: "Discounts need approval." });
    const r = await call("POST", "/knowledge/search", {
      as: { tenant },
      body: { query: "DL-4410", agent_id: "support", k: 50 },
    });
    expect(r.json.results.map((h: any) => h.document_id)).not.toContain(salesDoc);
    const sales = await call("POST", "/knowledge/search", {
      as: { tenant },
      body: { query: "DL-4410", agent_id: "sales" },
    });
    expect(sales.json.results[0]).toMatchObject({ document_id: salesDoc, text_rank: 1 });
  });

  it("an agent of another tenant cannot be used as a scope", async () => {
    const a = newTenant();
    const b = newTenant();
    await call("POST", "/agents", { as: { tenant: a }, body: { agent_id: "a-agent", name: "A" } });
    await storeKey(b, "openai", openaiKey("scopeB"));
    const r = await call("POST", "/knowledge/documents", { as: { tenant: b }, body: { ...doc, agent_id: "a-agent" } });
    expect(r.status).toBe(404);
  });
});

describe("knowledge: the search query and the HNSW index", () => {
  /** The store's own statement, rendered by drizzle, run under EXPLAIN. */
  async function explain(settings: string[]): Promise<string> {
    neonConfig.fetchEndpoint = env.NEON_FETCH_ENDPOINT!;
    const client = neon(env.DATABASE_URL!);
    const store = new KnowledgeStore(drizzle({ client, schema }), newTenant());
    const q = new PgDialect().sqlToQuery(
      store.searchQuery(
        Array.from({ length: 1536 }, (_, i) => (i % 7) / 10),
        "ERR-4021 router",
        { kind: "agent", agentId: "x" },
        5,
      ),
    );
    const results = await client.transaction([
      ...settings.map((s) => client.query(s)),
      client.query(`EXPLAIN ${q.sql}`, q.params as unknown[]),
    ]);
    return (results.at(-1) as Array<Record<string, string>>).map((r) => r["QUERY PLAN"]).join("\n");
  }

  it("the vector branch orders by the indexed distance operator, so the HNSW index can serve it with the tenant filter applied", async () => {
    // At test-table sizes the planner rightly prefers an exact scan of the tenant's rows plus a
    // sort; with those paths off, it must still be able to answer from the HNSW index (it could
    // not if the query ordered by a score expression or used a different operator).
    const plan = await explain([
      "SET LOCAL enable_seqscan = off",
      "SET LOCAL enable_bitmapscan = off",
      "SET LOCAL enable_sort = off",
      `SET LOCAL hnsw.ef_search = ${efSearchFor(5)}`,
      "SET LOCAL hnsw.iterative_scan = strict_order",
    ]);
    expect(plan.replace(/'\[[^\]]*\]'/g, "'[…]'"), "plan").toContain(
      "Index Scan using knowledge_base_embedding_hnsw_idx",
    );
    expect(plan).toMatch(/Order By: \(embedding <=>/);
    // Both branches and the final join carry the tenant filter.
    expect(plan.match(/tenant_id = /g)?.length ?? 0).toBeGreaterThanOrEqual(3);
    expect(plan).toMatch(/content_tsv @@/);
  });

  it("widens ef_search with k", () => {
    expect(efSearchFor(5)).toBe(100);
    expect(efSearchFor(50)).toBe(500);
  });

  it("search runs its SET LOCALs and the query in one transaction (settings do not leak)", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("setLocal"));
    await addDocument(tenant, doc);
    expect((await call("POST", "/knowledge/search", { as: { tenant }, body: { query: "text", k: 3 } })).status).toBe(
      200,
    );
    const [row] = await sql().query("SELECT current_setting('hnsw.ef_search') AS ef");
    expect(row!.ef).toBe("40");
  });
});
