import { describe, expect, it } from "vitest";
import { CHUNK_OVERLAP, CHUNK_SIZE } from "../../src/knowledge/chunking";
import { addDocument, createAgent, openaiKey, storeKey } from "./support/knowledge";
import { auditRows, llmCalls, sha256Hex, sql } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const ROUTER = "To reset the router, hold the reset button for ten seconds until the lights blink.";
const BILLING = "Invoices are issued monthly; billing questions go to the finance team by email.";
const VACATION = "Employees get twenty five vacation days per year, booked in the holiday planner.";

describe("knowledge: documents", () => {
  it("adds a document, embeds it with the tenant's own key, lists and deletes it", async () => {
    const tenant = newTenant();
    const key = openaiKey("knowHappy");
    await storeKey(tenant, "openai", key);
    const added = await call("POST", "/knowledge/documents", {
      as: { tenant },
      body: { title: "Router guide", content: ROUTER, metadata: { source: "manual.pdf" } },
    });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ title: "Router guide", agent_id: null, chunks: 1, characters: ROUTER.length });
    expect(added.json.usage.prompt_tokens).toBeGreaterThan(0);

    // The embedding call used this tenant's key, the configured model, and no other credential.
    const fp = await sha256Hex(key);
    const embeds = (await llmCalls()).filter((c) => c.keyFingerprint === fp);
    expect(embeds).toHaveLength(1);
    expect(embeds[0]).toMatchObject({ provider: "openai", model: "text-embedding-3-small" });
    expect(embeds[0]!.path).toMatch(/\/embeddings$/);

    const rows = await sql().query("SELECT chunk_index, vector_dims(embedding) AS dims, metadata FROM knowledge_base WHERE tenant_id = $1", [tenant]);
    expect(rows).toEqual([{ chunk_index: 0, dims: 1536, metadata: { source: "manual.pdf" } }]);

    const list = await call("GET", "/knowledge/documents", { as: { tenant, roles: ["member"] } });
    expect(list.status).toBe(200);
    expect(list.json.items).toEqual([
      expect.objectContaining({ document_id: added.json.document_id, title: "Router guide", chunks: 1, metadata: { source: "manual.pdf" } }),
    ]);

    const del = await call("DELETE", `/knowledge/documents/${added.json.document_id}`, { as: { tenant } });
    expect(del.json).toEqual({ status: "success", document_id: added.json.document_id, deleted: true, chunks: 1 });
    expect((await call("GET", "/knowledge/documents", { as: { tenant } })).json.items).toEqual([]);
    expect((await call("DELETE", `/knowledge/documents/${added.json.document_id}`, { as: { tenant } })).status).toBe(404);

    const trail = await auditRows(tenant);
    const use = trail.find((r) => r.action === "key.use");
    expect(use).toMatchObject({ resource_id: "openai", outcome: "success" });
    expect(use.details).toMatchObject({ vault_version: 1, purpose: "embedding", model: "text-embedding-3-small" });
    expect(trail.map((r) => r.action)).toEqual(expect.arrayContaining(["knowledge.create", "knowledge.list", "knowledge.delete"]));
  });

  it(`splits long content into ${CHUNK_SIZE}-character chunks overlapping by ${CHUNK_OVERLAP}, stored under one document`, async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("chunking"));
    const sentences = Array.from({ length: 80 }, (_, i) => `Sentence number ${i} talks about topic ${i % 7} in some detail.`);
    const content = sentences.join(" ");
    const r = await call("POST", "/knowledge/documents", { as: { tenant }, body: { title: "Long", content } });
    expect(r.status).toBe(201);
    const rows = await sql().query("SELECT chunk_index, content FROM knowledge_base WHERE tenant_id = $1 ORDER BY chunk_index", [tenant]);
    expect(r.json.chunks).toBe(rows.length);
    expect(rows.length).toBeGreaterThanOrEqual(Math.ceil(content.length / CHUNK_SIZE));
    expect(rows.map((x: any) => x.chunk_index)).toEqual(rows.map((_: unknown, i: number) => i));
    for (const row of rows) expect(row.content.length).toBeLessThanOrEqual(CHUNK_SIZE);
    // Consecutive chunks share text, and together they cover every sentence.
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.content.slice(-(CHUNK_OVERLAP + 10))).toContain(rows[i]!.content.slice(0, 20));
    for (const s of sentences) expect(rows.some((x: any) => x.content.includes(s))).toBe(true);
    const list = await call("GET", "/knowledge/documents", { as: { tenant } });
    expect(list.json.items).toHaveLength(1);
    expect(list.json.items[0].chunks).toBe(rows.length);
  });

  it("adds a batch in one call and pages through the documents newest first", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("batchDocs"));
    const batch = await call("POST", "/knowledge/documents/batch", {
      as: { tenant },
      body: { documents: [{ title: "Router", content: ROUTER }, { title: "Billing", content: BILLING }, { content: VACATION }] },
    });
    expect(batch.status).toBe(201);
    expect(batch.json.documents.map((d: any) => [d.title, d.chunks])).toEqual([["Router", 1], ["Billing", 1], [null, 1]]);
    const later = await addDocument(tenant, { title: "Later", content: "A later note about printers." });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await call("GET", `/knowledge/documents?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { as: { tenant } });
      expect(page.status).toBe(200);
      seen.push(...page.json.items.map((d: any) => d.document_id));
      cursor = page.json.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
    expect(seen[0]).toBe(later);
  });
});

describe("knowledge: search", () => {
  it("returns the top-k chunks by cosine similarity, best first, with scores", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("searchHappy"));
    await call("POST", "/knowledge/documents/batch", {
      as: { tenant },
      body: { documents: [{ title: "Router", content: ROUTER }, { title: "Billing", content: BILLING }, { title: "Vacation", content: VACATION }] },
    });
    const r = await call("POST", "/knowledge/search", { as: { tenant, roles: ["member"] }, body: { query: "how do I reset the router button", k: 2 } });
    expect(r.status).toBe(200);
    expect(r.json.results).toHaveLength(2);
    expect(r.json.results[0]).toMatchObject({ title: "Router", chunk_index: 0, content: ROUTER });
    expect(r.json.results[0].score).toBeGreaterThan(0.3);
    expect(r.json.results[0].score).toBeGreaterThan(r.json.results[1].score);
    expect(r.json.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it("with agent_id, sees that agent's documents and the shared ones, not another agent's", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("agentScope"));
    await createAgent(tenant, { agent_id: "sales" });
    await createAgent(tenant, { agent_id: "support" });
    await addDocument(tenant, { title: "Sales router pricing", content: "The router costs forty euros.", agent_id: "sales" });
    await addDocument(tenant, { title: "Support router reset", content: "Reset the router with the button.", agent_id: "support" });
    await addDocument(tenant, { title: "Shared router facts", content: "Every router ships with a manual." });
    const r = await call("POST", "/knowledge/search", { as: { tenant }, body: { query: "router", agent_id: "support", k: 10 } });
    expect(r.json.results.map((h: any) => h.title).sort()).toEqual(["Shared router facts", "Support router reset"]);
    const all = await call("POST", "/knowledge/search", { as: { tenant }, body: { query: "router", k: 10 } });
    expect(all.json.results).toHaveLength(3);
    const listed = await call("GET", "/knowledge/documents?agent_id=sales", { as: { tenant } });
    expect(listed.json.items.map((d: any) => d.title)).toEqual(["Sales router pricing"]);
  });
});
