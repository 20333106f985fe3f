import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getConfig } from "../../src/config";
import { createDb } from "../../src/db/client";
import type { Bindings } from "../../src/env";
import { KnowledgeStore } from "../../src/knowledge/knowledge-store";
import { addDocument, openaiKey, storeKey } from "./support/knowledge";
import { auditRows, neonControl, sql } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const doc = { title: "Doc", content: "Some content about routers." };

describe("knowledge: embedding key problems", () => {
  it("no OpenAI key: 422 provider_key_missing naming the key to add, nothing stored", async () => {
    const tenant = newTenant();
    for (const [path, body] of [
      ["/knowledge/documents", doc],
      ["/knowledge/documents/batch", { documents: [doc] }],
      ["/knowledge/search", { query: "routers" }],
    ] as const) {
      const r = await call("POST", path, { as: { tenant }, body });
      expect(r.status, path).toBe(422);
      expect(r.json.code).toBe("provider_key_missing");
      expect(r.json.detail).toContain("Store an openai key at POST /vault/keys/openai");
    }
    expect(await sql().query("SELECT 1 FROM knowledge_base WHERE tenant_id = $1", [tenant])).toEqual([]);
  });

  it("a revoked key: 422 provider_key_rejected telling the admin to replace it; key.use audited as an error", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("revoked"));
    const r = await call("POST", "/knowledge/documents", { as: { tenant }, body: doc });
    expect(r.status).toBe(422);
    expect(r.json.code).toBe("provider_key_rejected");
    expect(r.json.detail).toContain("replace it at POST /vault/keys/openai");
    // OpenAI's 401 body echoes a masked key; none of it reaches the caller.
    expect(r.text).not.toContain("Incorrect API key");
    expect(r.text).not.toContain("sk-");
    const use = (await auditRows(tenant)).find((row) => row.action === "key.use");
    expect(use).toMatchObject({ outcome: "error", details: { error: "provider_key_rejected", vault_version: 1 } });
  });

  it.each([
    ["ratelimited", "7"],
    ["overloaded", "5"],
  ])("a %s provider: 503 provider_unavailable with Retry-After %s", async (word, retry) => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey(word));
    const r = await call("POST", "/knowledge/search", { as: { tenant }, body: { query: "anything" } });
    expect(r.status).toBe(503);
    expect(r.json.code).toBe("provider_unavailable");
    expect(r.res.headers.get("retry-after")).toBe(retry);
  });

  it("an unreachable provider: 503 provider_unavailable", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("unreachable"));
    const r = await call("POST", "/knowledge/documents", {
      as: { tenant },
      body: doc,
      env: { OPENAI_BASE_URL: "http://127.0.0.1:9/v1" },
    });
    expect(r.status).toBe(503);
    expect(r.json.code).toBe("provider_unavailable");
    expect(r.res.headers.get("retry-after")).toBe("5");
  });
});

describe("knowledge: validation", () => {
  it.each([
    ["/knowledge/documents", { content: "" }, "content"],
    ["/knowledge/documents", { content: "   " }, "content"],
    ["/knowledge/documents", { content: "x", title: "t".repeat(301) }, "title"],
    ["/knowledge/documents", { content: "x", agent_id: "Not A Slug" }, "agent_id"],
    ["/knowledge/documents", { content: "x", embedding: [1, 2] }, ""],
    ["/knowledge/documents", { content: "x", metadata: { "bad key": 1 } }, "metadata.bad key"],
    ["/knowledge/documents/batch", { documents: [] }, "documents"],
    ["/knowledge/documents/batch", { documents: Array.from({ length: 51 }, () => ({ content: "x" })) }, "documents"],
    ["/knowledge/documents/batch", { documents: [{ content: "x", tenant_id: "y" }] }, "documents.0"],
    ["/knowledge/search", { query: "" }, "query"],
    ["/knowledge/search", { query: "q", k: 0 }, "k"],
    ["/knowledge/search", { query: "q", k: 51 }, "k"],
    ["/knowledge/search", { query: "q", k: 2.5 }, "k"],
    ["/knowledge/search", { query: "q", tenant_id: "00000000-0000-4000-8000-000000000000" }, ""],
  ])("POST %s refuses %j", async (path, body, field) => {
    const r = await call("POST", path, { as: { tenant: newTenant() }, body });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("validation_failed");
    expect(r.json.errors.map((e: any) => e.path)).toContain(field);
  });

  it("an agent_id that does not exist in the tenant is 404, checked before any embedding", async () => {
    const tenant = newTenant();
    const r1 = await call("POST", "/knowledge/documents", { as: { tenant }, body: { ...doc, agent_id: "nobody" } });
    expect(r1.status).toBe(404);
    const r2 = await call("POST", "/knowledge/search", { as: { tenant }, body: { query: "x", agent_id: "nobody" } });
    expect(r2.status).toBe(404);
  });

  it("bad cursors and document ids are 400; unknown documents 404", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("cursorErr"));
    await addDocument(tenant, doc);
    expect((await call("GET", "/knowledge/documents?cursor=garbage", { as: { tenant } })).status).toBe(400);
    expect((await call("GET", "/knowledge/documents?limit=0", { as: { tenant } })).status).toBe(400);
    expect((await call("DELETE", "/knowledge/documents/not-a-uuid", { as: { tenant } })).status).toBe(400);
    expect((await call("DELETE", `/knowledge/documents/${crypto.randomUUID()}`, { as: { tenant } })).status).toBe(404);
  });

  it.each([
    ["an id of dashes", ["2026-01-01 00:00:00.000001+00", "-".repeat(36)]],
    ["a year Postgres cannot store", ["+275760-09-13T00:00:00.000Z", crypto.randomUUID()]],
    ["a third part", ["2026-01-01 00:00:00+00", crypto.randomUUID(), "x"]],
    ["a number for the time", [1, crypto.randomUUID()]],
  ])("a crafted cursor (%s) is a 400 on cursor, never a failed query", async (_name, position) => {
    const cursor = btoa(JSON.stringify(position)).replace(/=+$/, "");
    const r = await call("GET", `/knowledge/documents?cursor=${encodeURIComponent(cursor)}`, {
      as: { tenant: newTenant() },
    });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: "validation_failed", errors: [{ path: "cursor" }] });
  });

  it("a batch is stored whole or not at all", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("atomicBatch"));
    // The second document's agent does not exist: nothing from the batch is stored.
    const r = await call("POST", "/knowledge/documents/batch", {
      as: { tenant },
      body: { documents: [doc, { ...doc, agent_id: "missing" }] },
    });
    expect(r.status).toBe(404);
    expect(await sql().query("SELECT 1 FROM knowledge_base WHERE tenant_id = $1", [tenant])).toEqual([]);
  });
});

/** A document of `length` characters in sentences (so chunks break naturally), distinct per `seed`. */
const longContent = (seed: string, length: number) =>
  Array.from({ length: Math.ceil(length / 40) }, (_, i) => `Sentence ${i} of ${seed} about router ${i % 997}. `)
    .join("")
    .slice(0, length);

describe("knowledge: batches within the documented limits", () => {
  // Two documents of 199,000 characters (0.4 MB of body, well under the 2 MiB limit) make ~400 chunks whose
  // embeddings are more than Neon's 10 MiB request cap in one request. (The ten such documents fail
  // the same way; two keep the test quick on PGlite, whose HNSW inserts run in WASM.)
  // Stored within the request: over the default KNOWLEDGE_ASYNC_ABOVE_CHARS the batch would be one 202 job
  // (knowledge.jobs.test.ts); this is the synchronous path's split.
  const WITHIN_REQUEST = { KNOWLEDGE_ASYNC_ABOVE_CHARS: "200000" };
  const bigDocuments = (seed: string) =>
    Array.from({ length: 2 }, (_, i) => ({ title: `Manual ${i}`, content: longContent(`${seed}${i}`, 199_000) }));

  it("two documents of 199,000 characters are stored in several requests, every chunk of every document", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("bigBatch"));
    const r = await call("POST", "/knowledge/documents/batch", {
      as: { tenant },
      body: { documents: bigDocuments("a") },
      env: WITHIN_REQUEST,
    });
    expect(r.status).toBe(201);
    expect(r.json.documents).toHaveLength(2);
    const stored = await sql().query(
      "SELECT document_id::text, count(*)::int AS chunks FROM knowledge_base WHERE tenant_id = $1 GROUP BY document_id",
      [tenant],
    );
    expect(stored).toHaveLength(2);
    const expected = new Map(r.json.documents.map((d: any) => [d.document_id, d.chunks]));
    for (const row of stored) expect(row.chunks).toBe(expected.get(row.document_id));
  });

  it("the issue's ten documents of 199,000 characters with OpenAI-like dense embeddings fit Neon's 10 MiB cap per request", () => {
    // OpenAI's embeddings are dense (every value ~10 significant digits); the stand-in's are sparse hashes,
    // so the production size is checked on the statements themselves, as the driver serializes them.
    const NEON_MAX_REQUEST_BYTES = 10 * 1024 * 1024;
    let seed = 1;
    const value = () => {
      seed = (seed * 16807) % 2147483647;
      return Number(((seed / 2147483647 - 0.5) * 0.1).toPrecision(10));
    };
    const documents = Array.from({ length: 10 }, (_, d) => ({
      documentId: crypto.randomUUID(),
      agentId: null,
      title: `Manual ${d}`,
      metadata: {},
      chunks: Array.from({ length: 199 }, (_, i) => ({
        content: longContent(`doc${d}chunk${i}`, 1200),
        embedding: Array.from({ length: 1536 }, value),
      })),
    }));
    const store = new KnowledgeStore(createDb(getConfig(env as Bindings)), newTenant());
    const requests = store.insertRequests(documents);
    const bodies = requests.map((statements) =>
      new TextEncoder().encode(
        JSON.stringify({ queries: statements.map((s) => ({ query: s.toSQL().sql, params: s.toSQL().params })) }),
      ),
    );
    const total = bodies.reduce((n, b) => n + b.byteLength, 0);
    expect(total).toBeGreaterThan(3 * NEON_MAX_REQUEST_BYTES); // one request, as before, could never succeed
    for (const body of bodies) expect(body.byteLength).toBeLessThan(NEON_MAX_REQUEST_BYTES);
    expect(requests.flat()).toHaveLength(10 * 2); // every row: 199 rows per document, 100 per statement
  });

  it("when a later request of a split batch fails, nothing of the batch is left stored", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("bigBatchFails"));
    // The first insert request goes through, the second fails at the proxy.
    await neonControl.faults({ match: "knowledge_base", after: 1, count: 1, status: 500 });
    try {
      const r = await call("POST", "/knowledge/documents/batch", {
        as: { tenant },
        body: { documents: bigDocuments("b") },
        env: WITHIN_REQUEST,
      });
      expect(r.status).toBe(503);
      expect(r.json.code).toBe("database_unavailable");
    } finally {
      await neonControl.clearFaults();
    }
    expect(await sql().query("SELECT 1 FROM knowledge_base WHERE tenant_id = $1", [tenant])).toEqual([]);
  });
});

describe("knowledge: body limits", () => {
  it("a long document (120,000 characters, over the API's 64 KiB default) is accepted under the document limit", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("longdoc"));
    const content = Array.from({ length: 20_000 }, (_, i) => `word${i % 997}`)
      .join(" ")
      .slice(0, 120_000);
    // Stored within the request (over the default KNOWLEDGE_ASYNC_ABOVE_CHARS it would be a 202 job: knowledge.jobs.test.ts).
    const r = await call("POST", "/knowledge/documents", {
      as: { tenant },
      body: { title: "Manual", content },
      env: { KNOWLEDGE_ASYNC_ABOVE_CHARS: "200000" },
    });
    expect(r.status).toBe(201);
    expect(r.json.chunks).toBeGreaterThan(50);
    expect(r.json.characters).toBeGreaterThanOrEqual(content.length); // chunks overlap
  });

  it("a body over the document limit is 413, and other routes keep the small limit", async () => {
    const tenant = newTenant();
    const big = await call("POST", "/knowledge/documents", {
      as: { tenant },
      body: { title: "Huge", content: "x".repeat(2 * 1024 * 1024) },
    });
    expect(big.status).toBe(413);
    expect(big.json.code).toBe("payload_too_large");
    const agent = await call("POST", "/agents", {
      as: { tenant },
      body: { agent_id: "a", name: "A", system_prompt: "x".repeat(70_000) },
    });
    expect(agent.status).toBe(413);
  });
});
