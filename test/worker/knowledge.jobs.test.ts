import { env, introspectWorkflow } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { chunkText } from "../../src/knowledge/chunking";
import { embedText } from "../../local-stack/llm-provider/embeddings";
import { getConfig } from "../../src/config";
import { createDb } from "../../src/db/client";
import { EMBEDDING_DIMENSIONS } from "../../src/db/schema";
import type { Bindings } from "../../src/env";
import { KnowledgeStore } from "../../src/knowledge/knowledge-store";
import { createAgent, openaiKey, storeKey } from "./support/knowledge";
import { auditRows, llmCalls, neonControl, sha256Hex, sql } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const WORDS =
  "router firmware wireless mesh signal channel backup modem bridge latency warranty battery sensor thermostat camera doorbell speaker vacuum filter valve heater bracket hinge panel".split(
    " ",
  );

/** About `chars` characters of paragraphs, the same for the same seed, with `marker` in the middle. */
function longText(chars: number, marker: string, seed = 1): string {
  let a = seed;
  const rand = () => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return a / 2147483648;
  };
  const paragraphs: string[] = [];
  let length = 0;
  while (length < chars) {
    const words = Array.from({ length: 60 }, () => WORDS[Math.floor(rand() * WORDS.length)]!);
    const p = `${words.join(" ")}.`;
    paragraphs.push(p);
    length += p.length + 2;
  }
  paragraphs.splice(paragraphs.length >> 1, 0, `The ${marker} reset procedure takes ninety seconds.`);
  return paragraphs.join("\n\n").slice(0, chars);
}

/**
 * Words of random Greek letters (2 bytes each in UTF-8, and each word its own
 * embedding feature): a 200,000-character document then needs more than one
 * 2 MiB database request.
 */
function denseText(chars: number, marker: string): string {
  let a = 7;
  const rand = () => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return a / 2147483648;
  };
  const letters = "αβγδεζηθικλμνξοπρστυφχψω";
  const word = () =>
    Array.from({ length: 4 + Math.floor(rand() * 6) }, () => letters[Math.floor(rand() * 24)]).join("");
  let text = `The ${marker} manual.\n\n`;
  while (text.length < chars) text += `${Array.from({ length: 60 }, word).join(" ")}.\n\n`;
  return text.slice(0, chars);
}

/** Uploads a document and waits for its Workflow to end (sleeps and retry delays off unless asked). */
async function uploadAndWait(
  tenant: string,
  body: Record<string, unknown>,
  expected: "complete" | "errored" = "complete",
  opts: { realSleeps?: boolean; whileRunning?: () => Promise<void>; path?: string } = {},
) {
  await using introspector = await introspectWorkflow(env.KNOWLEDGE_INGEST);
  await introspector.modifyAll(async (m) => {
    if (!opts.realSleeps) await m.disableSleeps();
    await m.disableRetryDelays();
  });
  const accepted = await call("POST", opts.path ?? "/knowledge/documents", { as: { tenant }, body });
  expect(accepted.status, accepted.text).toBe(202);
  await opts.whileRunning?.();
  const [instance] = await introspector.get();
  await instance!.waitForStatus(expected);
  const job = await call("GET", `/knowledge/jobs/${accepted.json.job_id}`, { as: { tenant, roles: ["member"] } });
  expect(job.status, job.text).toBe(200);
  return { accepted, job: job.json };
}

const chunksOf = async (tenant: string, documentId: string) =>
  (
    await sql().query(
      "SELECT count(*)::int AS n, count(DISTINCT chunk_index)::int AS distinct_n FROM knowledge_base WHERE tenant_id = $1 AND document_id = $2",
      [tenant, documentId],
    )
  )[0] as { n: number; distinct_n: number };

const jobCount = async (tenant: string) =>
  (await sql().query("SELECT count(*)::int AS n FROM knowledge_jobs WHERE tenant_id = $1", [tenant]))[0]!.n as number;

describe("knowledge: large uploads off the request", () => {
  it("a document within the threshold is still stored within the request (201, no job)", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("jobSmall"));
    const r = await call("POST", "/knowledge/documents", {
      as: { tenant },
      body: { title: "Small", content: longText(3000, "ZX-small") },
    });
    expect(r.status, r.text).toBe(201);
    expect(r.json).toMatchObject({ chunks: chunkText(longText(3000, "ZX-small")).length });
    expect(r.json.job_id).toBeUndefined();
    expect(await jobCount(tenant)).toBe(0);
  });

  it("a document over the threshold answers 202 with a job; the Workflow chunks, embeds and stores it; then it is searchable", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("jobBig"));
    const content = longText(60_000, "QX-4471");
    expect(content.length).toBeGreaterThan(50_000); // the default KNOWLEDGE_ASYNC_ABOVE_CHARS
    const { accepted, job } = await uploadAndWait(tenant, {
      title: "Installer handbook",
      content,
      metadata: { source: "handbook.pdf" },
    });
    expect(accepted.res.headers.get("location")).toBe(`/knowledge/jobs/${accepted.json.job_id}`);
    expect(accepted.json).toMatchObject({
      status: "queued",
      title: "Installer handbook",
      characters: content.length,
      chunks: 0,
      error: null,
    });
    const expected = chunkText(content).length;
    expect(job).toMatchObject({
      job_id: accepted.json.job_id,
      document_id: accepted.json.document_id,
      status: "succeeded",
      chunks: expected,
      embedding_calls: 1,
      error: null,
    });
    expect(job.duration_ms).toBeGreaterThanOrEqual(0);
    expect(await chunksOf(tenant, job.document_id)).toEqual({ n: expected, distinct_n: expected });

    const search = await call("POST", "/knowledge/search", {
      as: { tenant, roles: ["member"] },
      body: { query: "QX-4471 reset procedure", k: 3 },
    });
    expect(search.status).toBe(200);
    expect(search.json.results[0]).toMatchObject({
      document_id: job.document_id,
      title: "Installer handbook",
      metadata: { source: "handbook.pdf" },
    });
    expect(search.json.results[0].content).toContain("QX-4471");
    const list = await call("GET", "/knowledge/documents", { as: { tenant, roles: ["member"] } });
    expect(list.json.items).toEqual([expect.objectContaining({ document_id: job.document_id, chunks: expected })]);

    // The text is not kept once stored; the upload and the Workflow's write are both audited.
    const [row] = await sql().query("SELECT content FROM knowledge_jobs WHERE id = $1", [job.job_id]);
    expect(row!.content).toBeNull();
    const actions = async () => (await auditRows(tenant)).map((a) => `${a.action}:${a.outcome}`);
    expect(await actions()).toContain("knowledge.create:success");
    // The Workflow's own row arrives through the audit queue.
    await expect.poll(actions, { timeout: 15_000 }).toContain("knowledge.ingest:success");
  });

  it("`async: true` takes a small document off the request too, scoped to its agent", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("jobAsync"));
    await createAgent(tenant, { agent_id: "install-bot" });
    const { job } = await uploadAndWait(tenant, {
      content: "The QX-9 bracket mounts with four screws.",
      agent_id: "install-bot",
      async: true,
    });
    expect(job).toMatchObject({ status: "succeeded", chunks: 1, agent_id: "install-bot" });
    const rows = await sql().query("SELECT agent_id FROM knowledge_base WHERE tenant_id = $1 AND document_id = $2", [
      tenant,
      job.document_id,
    ]);
    expect(rows).toEqual([{ agent_id: "install-bot" }]);
  });

  it("the embedding provider's 429 is a wait, not a failure: the job completes once the provider accepts", async () => {
    const tenant = newTenant();
    const limited = openaiKey("ratelimited");
    await storeKey(tenant, "openai", limited);
    const fp = await sha256Hex(limited);
    const { job } = await uploadAndWait(
      tenant,
      { content: "The QX-12 heater needs a 30 A breaker.", async: true },
      "complete",
      {
        // The step's first attempt gets the stand-in's 429 (Retry-After: 7) and sleeps; the admin then fixes the quota.
        realSleeps: true,
        whileRunning: async () => {
          await expect
            .poll(async () => (await llmCalls()).some((c: any) => c.keyFingerprint === fp && c.status === 429), {
              timeout: 20_000,
            })
            .toBe(true);
          await storeKey(tenant, "openai", openaiKey("jobAfterWait"));
        },
      },
    );
    expect(job).toMatchObject({ status: "succeeded", chunks: 1, error: null });
  }, 60_000);
});

describe("knowledge jobs: failures", () => {
  it("refuses up front what the Workflow could not do: an unknown agent (404), no OpenAI key (422); no job is made", async () => {
    const tenant = newTenant();
    const noKey = await call("POST", "/knowledge/documents", {
      as: { tenant },
      body: { content: "text", async: true },
    });
    expect(noKey.status).toBe(422);
    expect(noKey.json.code).toBe("provider_key_missing");
    await storeKey(tenant, "openai", openaiKey("jobRefused"));
    const noAgent = await call("POST", "/knowledge/documents", {
      as: { tenant },
      body: { content: "text", async: true, agent_id: "nobody" },
    });
    expect(noAgent.status).toBe(404);
    const notBool = await call("POST", "/knowledge/documents", {
      as: { tenant },
      body: { content: "x", async: "yes" },
    });
    expect(notBool.status).toBe(400);
    expect(await jobCount(tenant)).toBe(0);
  });

  it("a failed step is surfaced on the job (step, stable code, safe message) and nothing of the document stays", async () => {
    const tenant = newTenant();
    const revoked = openaiKey("revoked");
    await storeKey(tenant, "openai", revoked);
    const { job } = await uploadAndWait(tenant, { content: longText(60_000, "QX-fail") }, "errored");
    expect(job).toMatchObject({
      status: "failed",
      chunks: 0,
      error: { step: "embed and store", code: "provider_key_rejected" },
    });
    expect(job.error.message).toContain("rejected the tenant's openai key");
    expect(JSON.stringify(job)).not.toContain(revoked.slice(8, 20));
    expect(job.finished_at).not.toBeNull();
    expect(await chunksOf(tenant, job.document_id)).toMatchObject({ n: 0 });
    const [row] = await sql().query("SELECT content FROM knowledge_jobs WHERE id = $1", [job.job_id]);
    expect(row!.content).toBeNull();
  });

  it("a job whose Workflow instance was terminated reads as failed (job_lost), not running forever", async () => {
    const tenant = newTenant();
    const limited = openaiKey("ratelimited");
    await storeKey(tenant, "openai", limited);
    const fp = await sha256Hex(limited);
    const before = (await llmCalls()).filter((c: any) => c.keyFingerprint === fp).length;
    const accepted = await call("POST", "/knowledge/documents", {
      as: { tenant },
      body: { content: "QX-5", async: true },
    });
    expect(accepted.status).toBe(202);
    // Its embed step got a 429 and sleeps for the Retry-After; the instance is stopped meanwhile.
    await expect
      .poll(async () => (await llmCalls()).filter((c: any) => c.keyFingerprint === fp).length, { timeout: 20_000 })
      .toBeGreaterThan(before);
    const instance = await env.KNOWLEDGE_INGEST.get(accepted.json.job_id);
    await instance.terminate();
    await expect.poll(async () => (await instance.status()).status, { timeout: 10_000 }).toBe("terminated");
    const job = await call("GET", `/knowledge/jobs/${accepted.json.job_id}`, { as: { tenant, roles: ["member"] } });
    expect(job.json).toMatchObject({ status: "failed", error: { step: "engine", code: "job_lost" } });
    expect(job.json.finished_at).not.toBeNull();
  }, 60_000);

  it("a step retried after part of its write landed leaves every chunk once", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("jobRetry"));
    const content = denseText(200_000, "QX-retry");
    // The document's chunks go to Neon in two requests (over MAX_BATCH_BYTES); the first commits, the
    // second (with the job's end) fails once: the step is retried and must replace, not add to, the first.
    await neonControl.faults({ status: 503, match: '"status" = $2, "chunks" = $3', count: 1 });
    try {
      const { job } = await uploadAndWait(tenant, { content });
      const expected = chunkText(content).length;
      expect(job).toMatchObject({ status: "succeeded", chunks: expected });
      expect(await chunksOf(tenant, job.document_id)).toEqual({ n: expected, distinct_n: expected });
      // The scenario needs the write to span requests: the same packing, with the stand-in's vectors, says it did.
      const db = createDb(getConfig(env as Bindings));
      const pieces = chunkText(content);
      const requests = new KnowledgeStore(db, tenant).insertRequests([
        {
          documentId: job.document_id,
          agentId: null,
          title: null,
          metadata: {},
          chunks: pieces.map((c) => ({ content: c, embedding: embedText(c, EMBEDDING_DIMENSIONS) })),
        },
      ]);
      expect(requests.length).toBeGreaterThanOrEqual(2);
    } finally {
      await neonControl.clearFaults();
    }
  }, 60_000);
});

describe("knowledge jobs: isolation", () => {
  it("a member of the tenant reads the job; another tenant gets 404; the id must be a UUID", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("jobIso"));
    const { job } = await uploadAndWait(tenant, { content: "The QX-77 valve is left-handed.", async: true });
    const member = await call("GET", `/knowledge/jobs/${job.job_id}`, { as: { tenant, roles: ["member"] } });
    expect(member.status).toBe(200);
    const other = newTenant();
    const foreign = await call("GET", `/knowledge/jobs/${job.job_id}`, { as: { tenant: other } });
    expect(foreign.status).toBe(404);
    expect(foreign.text).not.toContain(job.document_id);
    await storeKey(other, "openai", openaiKey("jobIsoOther"));
    const search = await call("POST", "/knowledge/search", {
      as: { tenant: other },
      body: { query: "QX-77 valve" },
    });
    expect(search.status).toBe(200);
    expect(search.json.results).toEqual([]);
    expect((await call("GET", "/knowledge/jobs/not-a-uuid", { as: { tenant } })).status).toBe(400);
  });
});

/** Uploads a batch and waits for its one Workflow instance to end. */
const batchAndWait = (tenant: string, body: Record<string, unknown>, expected: "complete" | "errored" = "complete") =>
  uploadAndWait(tenant, body, expected, { path: "/knowledge/documents/batch" });

const batchTexts = async (jobId: string) =>
  (await sql().query("SELECT content FROM knowledge_job_documents WHERE job_id = $1 ORDER BY position", [jobId])).map(
    (r) => r.content,
  );

describe("knowledge: batches off the request (one job per batch)", () => {
  it("`async: true` makes the batch one job: 202 + Location, every document id fixed now; the Workflow stores them all", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("batchAsync"));
    await createAgent(tenant, { agent_id: "install-bot" });
    const docs = [
      { title: "Brackets", content: "The QB-1 bracket mounts with four screws.", agent_id: "install-bot" },
      { title: "Heaters", content: longText(5000, "QB-2"), metadata: { source: "heaters.pdf" } },
      { content: "The QB-3 valve is left-handed." },
    ];
    const { accepted, job } = await batchAndWait(tenant, { documents: docs, async: true });
    expect(accepted.res.headers.get("location")).toBe(`/knowledge/jobs/${accepted.json.job_id}`);
    expect(accepted.json).toMatchObject({
      kind: "batch",
      status: "queued",
      document_id: null,
      title: null,
      characters: docs.reduce((n, d) => n + d.content.length, 0),
      chunks: 0,
    });
    expect(accepted.json.documents).toEqual(
      docs.map((d) => ({
        document_id: expect.any(String),
        title: d.title ?? null,
        agent_id: d.agent_id ?? null,
        characters: d.content.length,
        chunks: 0,
      })),
    );
    const ids = accepted.json.documents.map((d: any) => d.document_id);
    expect(new Set(ids).size).toBe(3);

    const perDoc = docs.map((d) => chunkText(d.content).length);
    expect(job).toMatchObject({
      job_id: accepted.json.job_id,
      kind: "batch",
      status: "succeeded",
      chunks: perDoc.reduce((a, b) => a + b, 0),
      embedding_calls: 1,
      error: null,
    });
    expect(job.documents.map((d: any) => [d.document_id, d.chunks])).toEqual(
      ids.map((id: string, i: number) => [id, perDoc[i]]),
    );
    for (const [i, id] of ids.entries()) {
      expect(await chunksOf(tenant, id)).toEqual({ n: perDoc[i], distinct_n: perDoc[i] });
    }
    const list = await call("GET", "/knowledge/documents", { as: { tenant, roles: ["member"] } });
    expect(list.json.items.map((d: any) => d.document_id).sort()).toEqual([...ids].sort());
    const scoped = await sql().query("SELECT DISTINCT agent_id FROM knowledge_base WHERE document_id = $1", [ids[0]]);
    expect(scoped).toEqual([{ agent_id: "install-bot" }]);
    const search = await call("POST", "/knowledge/search", {
      as: { tenant, roles: ["member"] },
      body: { query: "QB-2 reset procedure", k: 1 },
    });
    expect(search.json.results[0]).toMatchObject({ document_id: ids[1], metadata: { source: "heaters.pdf" } });
    // The texts are not kept once stored; the batch and the Workflow's write are both audited.
    expect(await batchTexts(job.job_id)).toEqual([null, null, null]);
    const actions = async () => (await auditRows(tenant)).map((a) => `${a.action}:${a.outcome}`);
    expect(await actions()).toContain("knowledge.create_batch:success");
    await expect.poll(actions, { timeout: 15_000 }).toContain("knowledge.ingest:success");
  });

  it("one document over the threshold takes the whole batch off the request; a batch within it stays synchronous (201)", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("batchBig"));
    const small = { content: "The QB-10 fuse is 5 A." };
    const sync = await call("POST", "/knowledge/documents/batch", { as: { tenant }, body: { documents: [small] } });
    expect(sync.status, sync.text).toBe(201);
    expect(sync.json.job_id).toBeUndefined();
    expect(await jobCount(tenant)).toBe(0);

    const big = { title: "Manual", content: longText(60_000, "QB-11") };
    const { job } = await batchAndWait(tenant, { documents: [small, big] });
    expect(job).toMatchObject({ kind: "batch", status: "succeeded" });
    expect(job.documents.map((d: any) => d.chunks)).toEqual([1, chunkText(big.content).length]);
    const list = await call("GET", "/knowledge/documents", { as: { tenant, roles: ["member"] } });
    expect(list.json.items).toHaveLength(3);
  });

  it("refuses up front what the job could not do (no key 422, unknown agent 404, `async` not a boolean 400); no job is made", async () => {
    const tenant = newTenant();
    const noKey = await call("POST", "/knowledge/documents/batch", {
      as: { tenant },
      body: { documents: [{ content: "text" }], async: true },
    });
    expect(noKey.status).toBe(422);
    expect(noKey.res.headers.get("content-type")).toContain("application/problem+json");
    expect(noKey.json.code).toBe("provider_key_missing");
    await storeKey(tenant, "openai", openaiKey("batchRefused"));
    const noAgent = await call("POST", "/knowledge/documents/batch", {
      as: { tenant },
      body: { documents: [{ content: "a" }, { content: "b", agent_id: "nobody" }], async: true },
    });
    expect(noAgent.status).toBe(404);
    expect(noAgent.json.code).toBe("not_found");
    const notBool = await call("POST", "/knowledge/documents/batch", {
      as: { tenant },
      body: { documents: [{ content: "x" }], async: "yes" },
    });
    expect(notBool.status).toBe(400);
    expect(notBool.json.code).toBe("validation_failed");
    const member = await call("POST", "/knowledge/documents/batch", {
      as: { tenant, roles: ["member"] },
      body: { documents: [{ content: "x" }], async: true },
    });
    expect(member.status).toBe(403);
    expect(await jobCount(tenant)).toBe(0);
  });

  it("a failed batch leaves none of its documents and no text behind", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("revoked"));
    const { job } = await batchAndWait(
      tenant,
      { documents: [{ content: "QB-20 one" }, { content: "QB-20 two" }], async: true },
      "errored",
    );
    expect(job).toMatchObject({
      kind: "batch",
      status: "failed",
      error: { step: "embed and store", code: "provider_key_rejected" },
    });
    for (const d of job.documents) expect(await chunksOf(tenant, d.document_id)).toMatchObject({ n: 0 });
    expect(await batchTexts(job.job_id)).toEqual([null, null]);
  });

  it("a step retried after part of the batch's write landed leaves every chunk of every document once", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("batchRetry"));
    const docs = [
      { content: "The QB-30 hinge is steel." },
      { content: denseText(200_000, "QB-31") },
      { content: "The QB-32 panel is glass." },
    ];
    // The write spans several Neon requests; the last (with the job's end) fails once after the others committed.
    await neonControl.faults({ status: 503, match: '"status" = $2, "chunks" = $3', count: 1 });
    try {
      const { job } = await batchAndWait(tenant, { documents: docs, async: true });
      expect(job).toMatchObject({ status: "succeeded" });
      for (const [i, d] of job.documents.entries()) {
        const expected = chunkText(docs[i]!.content).length;
        expect(d.chunks).toBe(expected);
        expect(await chunksOf(tenant, d.document_id)).toEqual({ n: expected, distinct_n: expected });
      }
      // The scenario needs the write to span requests: the same packing, with the stand-in's vectors, says it did.
      const requests = new KnowledgeStore(createDb(getConfig(env as Bindings)), tenant).insertRequests(
        job.documents.map((d: any, i: number) => ({
          documentId: d.document_id,
          agentId: null,
          title: null,
          metadata: {},
          chunks: chunkText(docs[i]!.content).map((c) => ({
            content: c,
            embedding: embedText(c, EMBEDDING_DIMENSIONS),
          })),
        })),
      );
      expect(requests.length).toBeGreaterThanOrEqual(2);
    } finally {
      await neonControl.clearFaults();
    }
  }, 60_000);

  it("another tenant cannot read a batch's job; its documents stay out of the other tenant's search", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("batchIso"));
    const { job } = await batchAndWait(tenant, {
      documents: [{ content: "The QB-40 relay clicks twice." }],
      async: true,
    });
    const other = newTenant();
    const foreign = await call("GET", `/knowledge/jobs/${job.job_id}`, { as: { tenant: other } });
    expect(foreign.status).toBe(404);
    expect(foreign.text).not.toContain(job.documents[0].document_id);
    await storeKey(other, "openai", openaiKey("batchIsoOther"));
    const search = await call("POST", "/knowledge/search", { as: { tenant: other }, body: { query: "QB-40 relay" } });
    expect(search.json.results).toEqual([]);
  });
});

/** Every page of GET /knowledge/jobs (query without cursor), followed to the end. */
async function allJobPages(tenant: string, query: string) {
  const pages: any[][] = [];
  let cursor: string | null = null;
  do {
    const r = await call("GET", `/knowledge/jobs?${query}${cursor ? `&cursor=${cursor}` : ""}`, {
      as: { tenant, roles: ["member"] },
    });
    expect(r.status, r.text).toBe(200);
    pages.push(r.json.items);
    cursor = r.json.next_cursor;
  } while (cursor && pages.length < 20);
  return pages;
}

/** A job row written directly (no Workflow instance), at an exact created_at. */
const insertJob = (tenant: string, createdAt: string, status = "succeeded") =>
  sql().query(
    "INSERT INTO knowledge_jobs (tenant_id, document_id, characters, status, created_at) VALUES ($1, gen_random_uuid(), 1, $2, $3) RETURNING id::text",
    [tenant, status, createdAt],
  );

describe("GET /knowledge/jobs", () => {
  it("members list the tenant's jobs newest first, a page at a time, filtered by status", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("jobList"));
    const ok1 = (await uploadAndWait(tenant, { content: "QL-1 first", async: true })).job;
    const batch = (
      await uploadAndWait(
        tenant,
        { documents: [{ content: "QL-2 a" }, { content: "QL-2 b" }], async: true },
        "complete",
        { path: "/knowledge/documents/batch" },
      )
    ).job;
    await storeKey(tenant, "openai", openaiKey("revoked"));
    const failed = (await uploadAndWait(tenant, { content: "QL-3 refused", async: true }, "errored")).job;

    const pages = await allJobPages(tenant, "limit=2");
    expect(pages.map((p) => p.length)).toEqual([2, 1]);
    const items = pages.flat();
    expect(items.map((j) => j.job_id)).toEqual([failed.job_id, batch.job_id, ok1.job_id]);
    // Each item is the job as GET /knowledge/jobs/:job_id reports it (a batch with its documents).
    expect(items[1]).toEqual(batch);
    expect(items[1].documents).toHaveLength(2);
    expect(JSON.stringify(items)).not.toContain("QL-2 a"); // never the text

    const onlyFailed = await allJobPages(tenant, "status=failed");
    expect(onlyFailed.flat().map((j) => [j.job_id, j.error.code])).toEqual([[failed.job_id, "provider_key_rejected"]]);
    const onlySucceeded = await allJobPages(tenant, "status=succeeded&limit=100");
    expect(onlySucceeded.flat().map((j) => j.job_id)).toEqual([batch.job_id, ok1.job_id]);
    expect((await allJobPages(tenant, "status=queued")).flat()).toEqual([]);
  });

  it("pages split jobs created within one millisecond exactly (the cursor keeps Postgres' microseconds)", async () => {
    const tenant = newTenant();
    const ids = [];
    for (const us of ["100", "200", "300", "400"]) {
      ids.push((await insertJob(tenant, `2026-11-30 10:00:00.000${us}+00`))[0]!.id);
    }
    const pages = await allJobPages(tenant, "limit=1");
    expect(pages.flat().map((j) => j.job_id)).toEqual(ids.reverse());
    expect(pages.at(-1)).toHaveLength(1);
  });

  it("a job whose Workflow instance is gone is listed as failed (job_lost), and no longer as queued", async () => {
    const tenant = newTenant();
    const [row] = await insertJob(tenant, new Date(Date.now() - 5 * 60_000).toISOString(), "queued");
    expect((await allJobPages(tenant, "status=queued")).flat()).toEqual([]);
    const [job] = (await allJobPages(tenant, "")).flat();
    expect(job).toMatchObject({ job_id: row!.id, status: "failed", error: { code: "job_lost" } });
  });

  it("refuses a status or cursor it does not know (400 problem+json)", async () => {
    const tenant = newTenant();
    const badStatus = await call("GET", "/knowledge/jobs?status=done", { as: { tenant, roles: ["member"] } });
    expect(badStatus.status).toBe(400);
    expect(badStatus.res.headers.get("content-type")).toContain("application/problem+json");
    expect(badStatus.json.code).toBe("validation_failed");
    const badCursor = await call("GET", "/knowledge/jobs?cursor=bm90LWEtY3Vyc29y", {
      as: { tenant, roles: ["member"] },
    });
    expect(badCursor.status).toBe(400);
    expect(badCursor.json.code).toBe("validation_failed");
    const badLimit = await call("GET", "/knowledge/jobs?limit=0", { as: { tenant, roles: ["member"] } });
    expect(badLimit.status).toBe(400);
  });

  it("lists only the caller's tenant's jobs; a cursor from another tenant's list reveals nothing", async () => {
    const tenant = newTenant();
    const other = newTenant();
    await insertJob(tenant, "2026-11-30 11:00:00+00");
    await insertJob(tenant, "2026-11-30 11:00:01+00");
    const [foreign] = await insertJob(other, "2026-11-30 11:00:02+00");
    const mine = await call("GET", "/knowledge/jobs?limit=1", { as: { tenant, roles: ["member"] } });
    expect(mine.json.items).toHaveLength(1);
    expect(JSON.stringify((await allJobPages(tenant, "")).flat())).not.toContain(foreign!.id);
    const theirs = await call("GET", `/knowledge/jobs?cursor=${mine.json.next_cursor}`, {
      as: { tenant: other, roles: ["member"] },
    });
    expect(theirs.status).toBe(200);
    expect(theirs.json.items.map((j: any) => j.job_id)).toEqual([]);
    expect((await allJobPages(other, "")).flat().map((j) => j.job_id)).toEqual([foreign!.id]);
  });
});
