import { drizzle } from "drizzle-orm/neon-http";
import { PgDialect } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { schema } from "../../src/db/schema";
import { EXACT_SCAN_MAX, KnowledgeStore } from "../../src/knowledge/knowledge-store";
import { sql } from "./support/stack";
import { newTenant } from "./support/tokens";

/** Deterministic pseudo-random unit vectors (mulberry32), 1536 dims. */
function vectors(count: number, seed: number): number[][] {
  let a = seed;
  const rand = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
  return Array.from({ length: count }, () => {
    const v = Array.from({ length: 1536 }, rand);
    const norm = Math.hypot(...v);
    return v.map((x) => Number((x / norm).toFixed(6)));
  });
}

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

async function seed(tenant: string, docs: number[][]): Promise<string[]> {
  const ids: string[] = [];
  for (const v of docs) {
    const [row] = await sql().query(
      `INSERT INTO knowledge_base (tenant_id, document_id, content, embedding) VALUES ($1, gen_random_uuid(), 'chunk', $2::vector) RETURNING id`,
      [tenant, JSON.stringify(v)],
    );
    ids.push(row!.id);
  }
  return ids;
}

describe("knowledge search: exact scan for small scopes, HNSW for large ones", () => {
  it(`steers a scope above the threshold (${EXACT_SCAN_MAX} chunks in production) onto the HNSW index, with the same top k`, async () => {
    const tenant = newTenant();
    const query = vectors(1, 99)[0]!;
    // Chunks at graded distances from the query (random 1536-dim vectors are all about equally far
    // from it, a tie that makes any approximate index's top 5 a matter of graph luck).
    const docs = vectors(40, 7).map((noise, i) => {
      const v = query.map((x, d) => x * (1 - i / 40) + noise[d]! * (0.3 + i / 40));
      const norm = Math.hypot(...v);
      return v.map((x) => Number((x / norm).toFixed(6)));
    });
    const ids = await seed(tenant, docs);
    const client = sql();
    const store = new KnowledgeStore(drizzle({ client, schema }), tenant, 10);
    expect(await store.scopeSize({ kind: "tenant" })).toBe(11); // counted only up to threshold + 1

    const q = new PgDialect().sqlToQuery(store.searchQuery(query, "", { kind: "tenant" }, 5));
    const plan = async (size: number) => {
      const results = await client.transaction([
        ...store.planSettings(size, 5).map((s) => client.query(s)),
        client.query(`EXPLAIN ${q.sql}`, q.params as unknown[]),
      ]);
      return (results.at(-1) as Array<Record<string, string>>).map((r) => r["QUERY PLAN"]).join("\n");
    };
    expect(await plan(11)).toContain("Index Scan using knowledge_base_embedding_hnsw_idx");

    const hits = await store.search(query, "", { kind: "tenant" }, 5);
    const exact = ids
      .map((id, i) => ({ id, score: cosine(query, docs[i]!) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 5);
    // HNSW is approximate, and its graph is shared with every other tenant's chunks (the suite's
    // other files add hundreds): the best hit must be the exact best, and recall@5 at least 0.8.
    const got = hits.map((h) => h.score.toFixed(4));
    const want = exact.map((e) => e.score.toFixed(4));
    expect(got[0]).toBe(want[0]);
    expect(want.filter((w) => got.includes(w)).length).toBeGreaterThanOrEqual(4);
  });

  it("keeps Postgres's exact plan for a small scope, with exact results", async () => {
    const tenant = newTenant();
    const docs = vectors(12, 3);
    const ids = await seed(tenant, docs);
    const store = new KnowledgeStore(drizzle({ client: sql(), schema }), tenant);
    expect(store.planSettings(12, 5)).not.toContain("SET LOCAL enable_sort = off");
    const query = vectors(1, 5)[0]!;
    const hits = await store.search(query, "", { kind: "tenant" }, 3);
    const exact = ids
      .map((_id, i) => cosine(query, docs[i]!))
      .sort((a, b) => b - a)
      .slice(0, 3);
    expect(hits.map((h) => h.score.toFixed(4))).toEqual(exact.map((s) => s.toFixed(4)));
  });
});
