/**
 * Knowledge search over 10,000 chunks: latency of the store's HNSW query, its
 * recall@10 against an exact scan of the same data, and POST /knowledge/search
 * end to end through the Worker. Chunks go straight into knowledge_base through
 * the Neon stand-in, embedded with the stand-in's own deterministic embedText.
 */
import { randomUUID } from "node:crypto";
import { embedText } from "../local-stack/llm-provider/embeddings";
import type { LocalStack } from "../local-stack/stack";
import { devToken } from "../scripts/token";
import { TENANT } from "./keys";
import { send, startWorkers } from "./miniflare";
import { fmtUs, section, summarize, timedRow, verdict, type Row } from "./stats";

const DIMS = 1536;
const K = 10;
/** Mirrors efSearchFor(k) in src/knowledge/knowledge-store.ts. */
const EF_SEARCH = Math.min(1000, Math.max(100, K * 10));
const ROWS_PER_REQUEST = 100;

export interface KnowledgeOptions {
  chunks: number;
  queries: number;
}

/** A small seeded PRNG (mulberry32): the same corpus every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 60 topics of 25 words each, plus common words; a chunk mixes mostly one topic. */
function corpus(n: number, seed: number): string[] {
  const rand = rng(seed);
  const syllables = ["ka", "lo", "mi", "ver", "tan", "sol", "rin", "de", "qua", "pel", "xo", "bri", "nu", "fa", "gor", "el"];
  const word = () => Array.from({ length: 2 + Math.floor(rand() * 3) }, () => syllables[Math.floor(rand() * syllables.length)]).join("");
  const topics = Array.from({ length: 60 }, () => Array.from({ length: 25 }, word));
  const common = ["the", "and", "of", "to", "a", "in", "is", "for", "with", "on"];
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  return Array.from({ length: n }, () => {
    const topic = pick(topics);
    const other = pick(topics);
    return Array.from({ length: 40 }, () => (rand() < 0.2 ? pick(common) : rand() < 0.8 ? pick(topic) : pick(other))).join(" ");
  });
}

const vectorLiteral = (v: number[]) => `[${v.map((x) => x.toPrecision(7)).join(",")}]`;

/** Raw Neon SQL-over-HTTP from Node: one statement, or a batch (one transaction). */
function neonClient(stack: LocalStack) {
  const url = new URL(stack.vars.NEON_FETCH_ENDPOINT!);
  const headers = { "content-type": "application/json", "neon-connection-string": stack.vars.DATABASE_URL! };
  const post = async (payload: unknown) => {
    const r = await send(url, { method: "POST", headers, body: JSON.stringify(payload) });
    if (r.status !== 200) throw new Error(`neon ${r.status}: ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body) as { rows: Array<Record<string, unknown>>; results?: Array<{ rows: Array<Record<string, unknown>> }> };
  };
  return {
    query: async (query: string, params: unknown[] = []) => (await post({ query, params })).rows,
    batch: async (queries: Array<{ query: string; params?: unknown[] }>) =>
      (await post({ queries: queries.map((q) => ({ query: q.query, params: q.params ?? [] })) })).results!.map((r) => r.rows),
  };
}

/** The store's search statement (knowledge-store.ts searchQuery), selecting ids to compare. */
const SEARCH_SQL = `select "document_id", "chunk_index", 1 - ("embedding" <=> $1) as score from "knowledge_base" where "tenant_id" = $2 order by "embedding" <=> $1 limit $3`;

export async function benchKnowledge(bundle: string, stack: LocalStack, o: KnowledgeOptions): Promise<{ rows: Row[]; notes: string[] }> {
  const db = neonClient(stack);
  const rows: Row[] = [section(`4a. knowledge search, ${o.chunks} chunks × ${DIMS} dims, k=${K} (HNSW, ef_search ${EF_SEARCH}, iterative scan)`)];
  const notes: string[] = [];

  // Load: drop the HNSW index, insert in batches, rebuild it with the same definition
  // (a bulk build is much faster than 10k incremental inserts into the graph).
  const texts = corpus(o.chunks, 42);
  const [index] = await db.query(`select indexdef from pg_indexes where indexname = 'knowledge_base_embedding_hnsw_idx'`);
  if (!index) throw new Error("knowledge_base_embedding_hnsw_idx is missing: are the migrations applied?");
  const loadStart = Date.now();
  await db.query(`drop index knowledge_base_embedding_hnsw_idx`);
  for (let i = 0; i < texts.length; i += ROWS_PER_REQUEST) {
    const slice = texts.slice(i, i + ROWS_PER_REQUEST);
    const params: unknown[] = [];
    const values = slice.map((text, j) => {
      const n = i + j;
      params.push(TENANT, randomUUID(), n % 10, `doc ${Math.floor(n / 10)}`, text, vectorLiteral(embedText(text, DIMS)));
      const b = j * 6;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}::vector)`;
    });
    await db.query(`insert into knowledge_base (tenant_id, document_id, chunk_index, title, content, embedding) values ${values.join(", ")}`, params);
  }
  const insertedMs = Date.now() - loadStart;
  await db.batch([{ query: "SET LOCAL maintenance_work_mem = '512MB'" }, { query: String(index.indexdef) }]);
  notes.push(`knowledge load: ${o.chunks} rows inserted in ${(insertedMs / 1000).toFixed(1)} s (index dropped), HNSW rebuilt with the migration's definition in ${((Date.now() - loadStart - insertedMs) / 1000).toFixed(1)} s`);

  // Queries: a few words of a stored chunk, so each has real neighbours.
  const rand = rng(7);
  const queries = Array.from({ length: o.queries }, () => {
    const words = texts[Math.floor(rand() * texts.length)]!.split(" ");
    const start = Math.floor(rand() * (words.length - 8));
    return words.slice(start, start + 8).join(" ");
  });

  // As the store runs it (knowledge-store.ts search): the planner chooses the plan.
  const storeSettings = [{ query: `SET LOCAL hnsw.ef_search = ${EF_SEARCH}` }, { query: "SET LOCAL hnsw.iterative_scan = strict_order" }];
  // The same with every alternative to the HNSW index priced out, so the index itself is measured.
  const forcedSettings = [
    ...storeSettings,
    { query: "SET LOCAL enable_seqscan = off" },
    { query: "SET LOCAL enable_bitmapscan = off" },
    { query: "SET LOCAL enable_sort = off" },
  ];
  const exactSettings = [{ query: "SET LOCAL enable_indexscan = off" }];
  const run = (settings: Array<{ query: string }>, v: string) => db.batch([...settings, { query: SEARCH_SQL, params: [v, TENANT, K] }]);
  const hnsw = (v: string) => run(storeSettings, v);
  const key = (r: Record<string, unknown>) => `${String(r.document_id)}#${String(r.chunk_index)}`;

  /** The plan's nodes, condensed to one line. */
  const plan = async (settings: Array<{ query: string }>, v: string) => {
    const out = await db.batch([...settings, { query: `explain ${SEARCH_SQL}`, params: [v, TENANT, K] }]);
    return out
      .at(-1)!
      .map((r) => String(Object.values(r)[0]))
      .filter((l) => !/^\s*(Order By|Index Cond|Recheck Cond|Filter|Sort Key):/.test(l))
      .map((l) => l.replace(/->/, "").replace(/\s+\(cost.*$/, "").trim())
      .join(" › ");
  };
  const probe = vectorLiteral(embedText(queries[0]!, DIMS));
  notes.push(`plan, store's query as planned: ${await plan(storeSettings, probe)}`);
  notes.push(`plan, HNSW forced: ${await plan(forcedSettings, probe)}`);
  notes.push(`plan, exact: ${await plan(exactSettings, probe)}`);

  // The Worker: POST /knowledge/search end to end (Vault key read, embeddings call, the SQL batch).
  const h = await startWorkers([{ name: "gw-real", script: bundle, bindings: stack.vars }]);
  try {
    const token = await devToken({ tenant: TENANT, user: "00000000-0000-4000-8000-00000000be01", roles: ["member"], ttlSeconds: 7200 });
    const viaWorker = (q: string) =>
      send(new URL("/knowledge/search", h.url("gw-real")), {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ query: q, k: K }),
      });
    for (const q of queries.slice(0, 5)) await Promise.all([run(forcedSettings, vectorLiteral(embedText(q, DIMS))), viaWorker(q)]); // warm-up

    const tHnsw: number[] = [];
    const tForced: number[] = [];
    const tExact: number[] = [];
    const tWorker: number[] = [];
    let recallSql = 0;
    let recallForced = 0;
    let recallWorker = 0;
    for (const q of queries) {
      const v = vectorLiteral(embedText(q, DIMS));
      let t = process.hrtime.bigint();
      const approx = (await hnsw(v)).at(-1)!;
      tHnsw.push(Number(process.hrtime.bigint() - t) / 1000);
      t = process.hrtime.bigint();
      const forced = (await run(forcedSettings, v)).at(-1)!;
      tForced.push(Number(process.hrtime.bigint() - t) / 1000);
      t = process.hrtime.bigint();
      const truth = (await run(exactSettings, v)).at(-1)!;
      tExact.push(Number(process.hrtime.bigint() - t) / 1000);
      t = process.hrtime.bigint();
      const w = await viaWorker(q);
      tWorker.push(Number(process.hrtime.bigint() - t) / 1000);
      if (w.status !== 200) throw new Error(`POST /knowledge/search: ${w.status} ${w.body.slice(0, 300)}`);
      const truthKeys = new Set(truth.map(key));
      recallSql += approx.filter((r) => truthKeys.has(key(r))).length / Math.max(1, truth.length);
      recallForced += forced.filter((r) => truthKeys.has(key(r))).length / Math.max(1, truth.length);
      const hits = (JSON.parse(w.body) as { results: Array<Record<string, unknown>> }).results;
      recallWorker += hits.filter((r) => truthKeys.has(key(r))).length / Math.max(1, truth.length);
    }
    const exactS = summarize(tExact);
    rows.push(timedRow("exact scan (enable_indexscan off), SQL", exactS, exactS));
    rows.push(timedRow("store's search SQL as planned", summarize(tHnsw), exactS));
    rows.push(timedRow("HNSW index forced, same SQL", summarize(tForced), exactS));
    rows.push(timedRow("POST /knowledge/search via Worker", summarize(tWorker), exactS));
    const rs = recallSql / queries.length;
    const rf = recallForced / queries.length;
    const rw = recallWorker / queries.length;
    rows.push({ name: "recall@10 HNSW forced vs exact", n: String(queries.length), median: rf.toFixed(3), p95: "", ratio: "", aim: `≥ 0.95: ${verdict(rf >= 0.95)}` });
    rows.push({ name: "recall@10 store's SQL vs exact", n: String(queries.length), median: rs.toFixed(3), p95: "", ratio: "", aim: `≥ 0.95: ${verdict(rs >= 0.95)}` });
    rows.push({ name: "recall@10 Worker results vs exact", n: String(queries.length), median: rw.toFixed(3), p95: "", ratio: "", aim: `≥ 0.95: ${verdict(rw >= 0.95)}` });
    notes.push(`search timings are per query, one at a time; the Worker row also reads the key from Vault and embeds the query at the LLM stand-in (median ${fmtUs(summarize(tWorker).median - summarize(tHnsw).median)} above the SQL alone)`);
    return { rows, notes };
  } finally {
    await h.dispose();
  }
}
