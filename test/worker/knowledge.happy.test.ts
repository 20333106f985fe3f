import { describe, expect, it } from "vitest";
import { CHAT_MIN_SCORE, isContext } from "../../src/agents/prompt";
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

    const rows = await sql().query(
      "SELECT chunk_index, vector_dims(embedding) AS dims, metadata FROM knowledge_base WHERE tenant_id = $1",
      [tenant],
    );
    expect(rows).toEqual([{ chunk_index: 0, dims: 1536, metadata: { source: "manual.pdf" } }]);

    const list = await call("GET", "/knowledge/documents", { as: { tenant, roles: ["member"] } });
    expect(list.status).toBe(200);
    expect(list.json.items).toEqual([
      expect.objectContaining({
        document_id: added.json.document_id,
        title: "Router guide",
        chunks: 1,
        metadata: { source: "manual.pdf" },
      }),
    ]);

    const del = await call("DELETE", `/knowledge/documents/${added.json.document_id}`, { as: { tenant } });
    expect(del.json).toEqual({ status: "success", document_id: added.json.document_id, deleted: true, chunks: 1 });
    expect((await call("GET", "/knowledge/documents", { as: { tenant } })).json.items).toEqual([]);
    expect((await call("DELETE", `/knowledge/documents/${added.json.document_id}`, { as: { tenant } })).status).toBe(
      404,
    );

    const trail = await auditRows(tenant);
    const use = trail.find((r) => r.action === "key.use");
    expect(use).toMatchObject({ resource_id: "openai", outcome: "success" });
    expect(use.details).toMatchObject({ vault_version: 1, purpose: "embedding", model: "text-embedding-3-small" });
    expect(trail.map((r) => r.action)).toEqual(
      expect.arrayContaining(["knowledge.create", "knowledge.list", "knowledge.delete"]),
    );
  });

  it(`splits long content into ${CHUNK_SIZE}-character chunks overlapping by ${CHUNK_OVERLAP}, stored under one document`, async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("chunking"));
    const sentences = Array.from(
      { length: 80 },
      (_, i) => `Sentence number ${i} talks about topic ${i % 7} in some detail.`,
    );
    const content = sentences.join(" ");
    const r = await call("POST", "/knowledge/documents", { as: { tenant }, body: { title: "Long", content } });
    expect(r.status).toBe(201);
    const rows = await sql().query(
      "SELECT chunk_index, content FROM knowledge_base WHERE tenant_id = $1 ORDER BY chunk_index",
      [tenant],
    );
    expect(r.json.chunks).toBe(rows.length);
    expect(rows.length).toBeGreaterThanOrEqual(Math.ceil(content.length / CHUNK_SIZE));
    expect(rows.map((x: any) => x.chunk_index)).toEqual(rows.map((_: unknown, i: number) => i));
    for (const row of rows) expect(row.content.length).toBeLessThanOrEqual(CHUNK_SIZE);
    // Consecutive chunks share text, and together they cover every sentence.
    for (let i = 1; i < rows.length; i++)
      expect(rows[i - 1]!.content.slice(-(CHUNK_OVERLAP + 10))).toContain(rows[i]!.content.slice(0, 20));
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
      body: {
        documents: [
          { title: "Router", content: ROUTER },
          { title: "Billing", content: BILLING },
          { content: VACATION },
        ],
      },
    });
    expect(batch.status).toBe(201);
    expect(batch.json.documents.map((d: any) => [d.title, d.chunks])).toEqual([
      ["Router", 1],
      ["Billing", 1],
      [null, 1],
    ]);
    const later = await addDocument(tenant, { title: "Later", content: "A later note about printers." });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await call("GET", `/knowledge/documents?limit=2${cursor ? `&cursor=${cursor}` : ""}`, {
        as: { tenant },
      });
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
      body: {
        documents: [
          { title: "Router", content: ROUTER },
          { title: "Billing", content: BILLING },
          { title: "Vacation", content: VACATION },
        ],
      },
    });
    const r = await call("POST", "/knowledge/search", {
      as: { tenant, roles: ["member"] },
      body: { query: "how do I reset the router button", k: 2 },
    });
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
    await addDocument(tenant, {
      title: "Sales router pricing",
      content: "The router costs forty euros.",
      agent_id: "sales",
    });
    await addDocument(tenant, {
      title: "Support router reset",
      content: "Reset the router with the button.",
      agent_id: "support",
    });
    await addDocument(tenant, { title: "Shared router facts", content: "Every router ships with a manual." });
    const r = await call("POST", "/knowledge/search", {
      as: { tenant },
      body: { query: "router", agent_id: "support", k: 10 },
    });
    expect(r.json.results.map((h: any) => h.title).sort()).toEqual(["Shared router facts", "Support router reset"]);
    const all = await call("POST", "/knowledge/search", { as: { tenant }, body: { query: "router", k: 10 } });
    expect(all.json.results).toHaveLength(3);
    const listed = await call("GET", "/knowledge/documents?agent_id=sales", { as: { tenant } });
    expect(listed.json.items.map((d: any) => d.title)).toEqual(["Sales router pricing"]);
  });
});

/** A chunk-sized release note that names the error code once among ~150 other words. */
const RELEASE_NOTE = [
  "The dashboard now loads reports in the background and shows a progress bar while the numbers refresh.",
  "Exports to spreadsheet keep the column order chosen in the report view.",
  "Administrators can rotate provider keys without interrupting running conversations.",
  "The audit page filters by action, outcome and date, and remembers the last filter used.",
  "Fixed ERR-7731, which appeared when a report was exported twice at the same moment.",
  "Search results show the document title and the chunk that matched, with a link to the source.",
  "Agents can be disabled for maintenance; requests to a disabled agent are refused with a clear message.",
  "Streaming answers start sooner because the first words are sent as soon as they arrive.",
].join(" ");
const ERROR_PAGES = [
  { title: "Error codes", content: "Every error code starts with ERR." },
  { title: "Error lookup", content: "Look up ERR codes in the error table." },
  { title: "Retrying", content: "Most ERR responses go away after a retry." },
];

describe("knowledge: hybrid ranking", () => {
  it("an exact error code ranks its chunk first through full text, where cosine alone ranks it lower; score stays the cosine", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("exactTerm"));
    const notes = await addDocument(tenant, { title: "Release notes 4.2", content: RELEASE_NOTE });
    for (const page of ERROR_PAGES) await addDocument(tenant, page);

    const r = await call("POST", "/knowledge/search", {
      as: { tenant, roles: ["member"] },
      body: { query: "ERR-7731", k: 3 },
    });
    expect(r.status).toBe(200);
    const [first, ...rest] = r.json.results;
    expect(first).toMatchObject({ document_id: notes, text_rank: 1 });
    // Vector-only ranking (the order of vector_rank) would not have put it first.
    expect(first.vector_rank).toBeGreaterThan(1);
    const nearest = rest.find((h: any) => h.vector_rank === 1);
    expect(nearest.score).toBeGreaterThan(first.score);
    expect(nearest.text_rank).toBeNull();
    // Found by both lists beats found by one: RRF with k = 60.
    expect(first.rank_score).toBeCloseTo(1 / 61 + 1 / (60 + first.vector_rank), 10);
    expect(nearest.rank_score).toBeCloseTo(1 / 61, 10);
    expect(r.json.results.map((h: any) => h.rank_score)).toEqual(
      [...r.json.results.map((h: any) => h.rank_score)].sort((a, b) => b - a),
    );
    // The cosine is below the chat threshold, so chat keeps it only because it matched in full text.
    expect(first.score).toBeLessThan(CHAT_MIN_SCORE);
  });

  it("the title is searched too, and web-search syntax works (quoted phrase, -exclusion)", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("tsvTitle"));
    const a = await addDocument(tenant, {
      title: "Runbook INC-5531",
      content: "Restart the ingest workers, then drain the queue.",
    });
    const b = await addDocument(tenant, {
      title: "Runbook INC-5532",
      content: "Restart the ingest workers, then rebuild the index.",
    });
    const byTitle = await call("POST", "/knowledge/search", { as: { tenant }, body: { query: "INC-5531", k: 2 } });
    expect(byTitle.json.results.find((h: any) => h.text_rank !== null).document_id).toBe(a);
    const excluded = await call("POST", "/knowledge/search", {
      as: { tenant },
      body: { query: '"ingest workers" -drain', k: 2 },
    });
    expect(excluded.json.results.filter((h: any) => h.text_rank !== null).map((h: any) => h.document_id)).toEqual([b]);
  });

  it("a question with no full-text match is ranked by cosine alone (no text ranks, same order as vector_rank)", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("noTextMatch"));
    await call("POST", "/knowledge/documents/batch", {
      as: { tenant },
      body: {
        documents: [
          { title: "Router", content: ROUTER },
          { title: "Billing", content: BILLING },
          { title: "Vacation", content: VACATION },
        ],
      },
    });
    const r = await call("POST", "/knowledge/search", {
      as: { tenant },
      body: { query: "my wifi box is stuck, what should I press", k: 3 },
    });
    expect(r.json.results.map((h: any) => h.text_rank)).toEqual([null, null, null]);
    expect(r.json.results.map((h: any) => h.vector_rank)).toEqual([1, 2, 3]);
  });

  it("chat puts a full-text match into the prompt even below the cosine threshold", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("chatExact"));
    await createAgent(tenant, { agent_id: "helpdesk" });
    await addDocument(tenant, { title: "Release notes 4.2", content: RELEASE_NOTE });
    await addDocument(tenant, { title: "Cafeteria", content: "Lunch is served from noon in the cafeteria." });
    const r = await call("POST", "/agents/helpdesk/chat", {
      as: { tenant, roles: ["member"] },
      body: { messages: [{ role: "user", content: "ERR-7731" }] },
    });
    expect(r.status).toBe(200);
    expect(r.json.sources).toEqual([expect.objectContaining({ ref: "Release notes 4.2#0" })]);
    expect(r.json.sources[0].score).toBeLessThan(CHAT_MIN_SCORE);
    expect(r.json.message.content).toContain("Sources consulted: Release notes 4.2#0.");
  });
});

describe("chat context filter", () => {
  const hit = (score: number, text_rank: number | null) =>
    ({
      document_id: "d",
      chunk_index: 0,
      agent_id: null,
      title: null,
      content: "",
      metadata: {},
      score,
      rank_score: 0,
      vector_rank: 1,
      text_rank,
    }) as const;
  it("keeps a chunk at or above the cosine threshold, or matched in full text; drops the rest", () => {
    expect(isContext(hit(CHAT_MIN_SCORE, null))).toBe(true);
    expect(isContext(hit(0.05, 3))).toBe(true);
    expect(isContext(hit(CHAT_MIN_SCORE - 0.01, null))).toBe(false);
  });
});
