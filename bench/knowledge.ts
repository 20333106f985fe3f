/**
 * Knowledge search over 10,000 chunks of one tenant, as the store runs it: the
 * hybrid statement (KnowledgeStore.searchQuery: HNSW vector list + full-text list,
 * fused by RRF) after its planSettings(scopeSize, k), through drizzle's neon-http
 * client — timed against the same statement with the HNSW index disabled (an exact
 * computation of the same ranking), whose results are also the truth for recall@10;
 * and POST /knowledge/search end to end through the Worker. Chunks go straight into
 * knowledge_base through the Neon stand-in, embedded with the stand-in's own
 * deterministic embedText.
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-http";
import { PgDialect } from "drizzle-orm/pg-core";
import { randomUUID } from "node:crypto";
import { embedText } from "../local-stack/llm-provider/embeddings";
import type { LocalStack } from "../local-stack/stack";
import { devToken } from "../scripts/token";
import { EMBEDDING_DIMENSIONS, schema } from "../src/db/schema";
import { TENANT } from "./keys";
import { loadKnowledgeStore } from "./load-store";
import { send, startWorkers } from "./miniflare";
import { fmtUs, rng, section, summarize, timedRow, type Row, verdict } from "./stats";

const DIMS = EMBEDDING_DIMENSIONS;
const K = 10;
const ROWS_PER_REQUEST = 100;
/** The baseline: the same statement with index scans off, so the vector list is an exact sort of every chunk in scope. */
const EXACT = ["SET LOCAL enable_indexscan = off"];
export interface KnowledgeOptions {
  chunks: number;
  queries: number;
}

/** 60 topics of 25 words each, plus common words; a chunk mixes mostly one topic. */
function corpus(n: number, seed: number): string[] {
  const rand = rng(seed);
  const syllables = [
    "ka",
    "lo",
    "mi",
    "ver",
    "tan",
    "sol",
    "rin",
    "de",
    "qua",
    "pel",
    "xo",
    "bri",
    "nu",
    "fa",
    "gor",
    "el",
  ];
  const word = () =>
    Array.from({ length: 2 + Math.floor(rand() * 3) }, () => syllables[Math.floor(rand() * syllables.length)]).join("");
  const topics = Array.from({ length: 60 }, () => Array.from({ length: 25 }, word));
  const common = ["the", "and", "of", "to", "a", "in", "is", "for", "with", "on"];
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  return Array.from({ length: n }, () => {
    const topic = pick(topics);
    const other = pick(topics);
    return Array.from({ length: 40 }, () =>
      rand() < 0.2 ? pick(common) : rand() < 0.8 ? pick(topic) : pick(other),
    ).join(" ");
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
    return JSON.parse(r.body) as {
      rows: Array<Record<string, unknown>>;
      results?: Array<{ rows: Array<Record<string, unknown>> }>;
    };
  };
  return {
    query: async (query: string, params: unknown[] = []) => (await post({ query, params })).rows,
    batch: async (queries: Array<{ query: string; params?: unknown[] }>) =>
      (await post({ queries: queries.map((q) => ({ query: q.query, params: q.params ?? [] })) })).results!.map(
        (r) => r.rows,
      ),
  };
}

export async function benchKnowledge(
  bundle: string,
  stack: LocalStack,
  o: KnowledgeOptions,
): Promise<{ rows: Row[]; notes: string[] }> {
  const db = neonClient(stack);
  const notes: string[] = [];

  // Load: drop the HNSW index, insert in batches, rebuild it with the same definition
  // (a bulk build is much faster than 10k incremental inserts into the graph).
  const texts = corpus(o.chunks, 42);
  const [index] = await db.query(
    `select indexdef from pg_indexes where indexname = 'knowledge_base_embedding_hnsw_idx'`,
  );
  if (!index) throw new Error("knowledge_base_embedding_hnsw_idx is missing: are the migrations applied?");
  const loadStart = Date.now();
  await db.query(`drop index knowledge_base_embedding_hnsw_idx`);
  for (let i = 0; i < texts.length; i += ROWS_PER_REQUEST) {
    const slice = texts.slice(i, i + ROWS_PER_REQUEST);
    const params: unknown[] = [];
    const values = slice.map((text, j) => {
      const n = i + j;
      params.push(
        TENANT,
        randomUUID(),
        n % 10,
        `doc ${Math.floor(n / 10)}`,
        text,
        vectorLiteral(embedText(text, DIMS)),
      );
      const b = j * 6;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}::vector)`;
    });
    await db.query(
      `insert into knowledge_base (tenant_id, document_id, chunk_index, title, content, embedding) values ${values.join(", ")}`,
      params,
    );
  }
  const insertedMs = Date.now() - loadStart;
  await db.batch([{ query: "SET LOCAL maintenance_work_mem = '512MB'" }, { query: String(index.indexdef) }]);
  // Statistics, as autovacuum would gather after a bulk load on Postgres (PGlite has no autovacuum); without
  // them the planner guesses 0.5% of the table per tenant and plans for a tenant of a few dozen rows.
  await db.query("analyze knowledge_base");
  notes.push(
    `knowledge load: ${o.chunks} rows inserted in ${(insertedMs / 1000).toFixed(1)} s (index dropped), HNSW rebuilt with the migration's definition and the table ANALYZEd in ${((Date.now() - loadStart - insertedMs) / 1000).toFixed(1)} s`,
  );

  // Queries: a few words of a stored chunk, so each has real neighbours (and full-text matches).
  const rand = rng(7);
  const queries = Array.from({ length: o.queries }, () => {
    const words = texts[Math.floor(rand() * texts.length)]!.split(" ");
    const start = Math.floor(rand() * (words.length - 8));
    return words.slice(start, start + 8).join(" ");
  });

  // The store itself, on drizzle's neon-http client, as the Worker builds it.
  neonConfig.fetchEndpoint = stack.vars.NEON_FETCH_ENDPOINT!;
  const client = neon(stack.vars.DATABASE_URL!);
  const { KnowledgeStore, EXACT_SCAN_MAX } = await loadKnowledgeStore();
  const store = new KnowledgeStore(drizzle({ client, schema }), TENANT);
  const scope = { kind: "tenant" } as const;
  const size = await store.scopeSize(scope);
  const settings = store.planSettings(size, K);
  const dialect = new PgDialect();
  /** The store's statement, rendered as drizzle sends it, after `pre` in one transaction. */
  const statement = async (pre: string[], v: number[], text: string, explain = false) => {
    const q = dialect.sqlToQuery(store.searchQuery(v, text, scope, K));
    const out = await client.transaction([
      ...pre.map((s) => client.query(s)),
      client.query(`${explain ? "EXPLAIN " : ""}${q.sql}`, q.params as unknown[]),
    ]);
    return out.at(-1) as Array<Record<string, unknown>>;
  };
  const rows: Row[] = [
    section(
      `4a. knowledge search, ${o.chunks} chunks × ${DIMS} dims, k=${K}: the store's hybrid statement (vector + full text, RRF), ${settings.map((s) => s.replace(/^SET LOCAL /, "")).join(", ")}`,
    ),
  ];
  notes.push(
    `knowledge: scopeSize = ${size} (counted up to EXACT_SCAN_MAX + 1 = ${EXACT_SCAN_MAX + 1}), so the store's planSettings are: ${settings.join("; ")}`,
  );

  /**
   * The plan's scan nodes condensed to one line, each labelled by the list it feeds: the two
   * inputs of the FULL JOIN are the vector and full-text lists (told apart by what they compute,
   * since the planner may reorder them or flatten a subquery); anything else joins the rows back.
   */
  const plan = async (pre: string[], v: number[], text: string) => {
    const lines = (await statement(pre, v, text, true)).map((r) => String(Object.values(r)[0]));
    const indent = (i: number) => lines[i]!.search(/\S/);
    const isNode = (i: number) => i === 0 || /^\s*->/.test(lines[i]!);
    const branches: Array<{ start: number; end: number; list: string }> = [];
    const join = lines.findIndex((l) => /Full Join/.test(l));
    if (join >= 0) {
      let end = lines.findIndex((_, i) => i > join && isNode(i) && indent(i) <= indent(join));
      if (end < 0) end = lines.length;
      const nodes = lines.map((_, i) => i).filter((i) => i > join && i < end && isNode(i));
      const top = Math.min(...nodes.map(indent));
      const starts = nodes.filter((i) => indent(i) === top);
      starts.forEach((start, j) => {
        const body = lines.slice(start, starts[j + 1] ?? end).join("\n");
        branches.push({
          start,
          end: starts[j + 1] ?? end,
          list: /ts_rank_cd|@@/.test(body) ? "text list" : /<=>|distance/.test(body) ? "vector list" : "?",
        });
      });
    }
    const parts: string[] = [];
    lines.forEach((l, i) => {
      const node = l.replace(/^\s*(->\s*)?/, "").replace(/\s+\(cost.*$/, "");
      if (!isNode(i) || !/Scan/.test(node) || /^(CTE|Subquery) Scan/.test(node)) return;
      const list = branches.find((b) => i >= b.start && i < b.end)?.list ?? "join back";
      parts.push(`${list}: ${node.replace(/ knowledge_base_\d+$/, "")}`);
    });
    return parts.join(" › ");
  };
  notes.push(`plan, store's search as run: ${await plan(settings, embedText(queries[0]!, DIMS), queries[0]!)}`);
  // Diagnostic: the store's settings without enable_bitmapscan = off, which also rules out the GIN index (bitmap-only) for the full-text list.
  const withBitmap = settings.filter((x) => x !== "SET LOCAL enable_bitmapscan = off");
  const diagnose = withBitmap.length < settings.length;
  if (diagnose)
    notes.push(
      `plan, diagnostic (store's settings but bitmap scans allowed): ${await plan(withBitmap, embedText(queries[0]!, DIMS), queries[0]!)}`,
    );
  notes.push(
    `plan, exact baseline (${EXACT.join("; ")}): ${await plan(EXACT, embedText(queries[0]!, DIMS), queries[0]!)}`,
  );

  // The Worker: POST /knowledge/search end to end (Vault key read, embeddings call, scopeSize, the SQL batch).
  const h = await startWorkers([{ name: "gw-real", script: bundle, bindings: stack.vars }]);
  try {
    const token = await devToken({
      tenant: TENANT,
      user: "00000000-0000-4000-8000-00000000be01",
      roles: ["member"],
      ttlSeconds: 7200,
    });
    const viaWorker = async (q: string) => {
      const w = await send(new URL("/knowledge/search", h.url("gw-real")), {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ query: q, k: K }),
      });
      if (w.status !== 200) throw new Error(`POST /knowledge/search: ${w.status} ${w.body.slice(0, 300)}`);
      return (JSON.parse(w.body) as { results: Array<Record<string, unknown>> }).results;
    };
    type Hit = { document_id: unknown; chunk_index: unknown; text_rank?: unknown };
    const key = (r: Hit) => `${String(r.document_id)}#${String(r.chunk_index)}`;

    const allTargets = ["exact", "search", "batch", "scopeSize", "worker", "bitmap"] as const;
    type Target = (typeof allTargets)[number];
    const targets = allTargets.filter((t) => diagnose || t !== "bitmap");
    const times: Record<Target, number[]> = { exact: [], search: [], batch: [], scopeSize: [], worker: [], bitmap: [] };
    const recall = { search: 0, batch: 0, worker: 0 };
    let vectorOnlyDiffers = 0;
    const once = async (q: string, i: number, record: boolean) => {
      const v = embedText(q, DIMS);
      const got: Partial<Record<Target, Hit[]>> = {};
      const call: Record<Target, () => Promise<unknown>> = {
        exact: async () => (got.exact = (await statement(EXACT, v, q)) as Hit[]),
        // As POST /knowledge/search calls it: scopeSize, then planSettings + searchQuery in one batch.
        search: async () => (got.search = await store.search(v, q, scope, K)),
        // The batch alone, the size already known (as chat runs it after sizing the scope in parallel).
        batch: async () => (got.batch = await store.search(v, q, scope, K, size)),
        scopeSize: () => store.scopeSize(scope),
        worker: async () => (got.worker = (await viaWorker(q)) as Hit[]),
        bitmap: async () => (got.bitmap = (await statement(withBitmap, v, q)) as Hit[]),
      };
      // Rotate the order query by query, so no target always runs first (or right after the exact scan).
      for (let j = 0; j < targets.length; j++) {
        const t = targets[(i + j) % targets.length]!;
        const start = process.hrtime.bigint();
        await call[t]();
        if (record) times[t].push(Number(process.hrtime.bigint() - start) / 1000);
      }
      if (!record) return;
      const truth = new Set(got.exact!.map(key));
      for (const t of ["search", "batch", "worker"] as const)
        recall[t] += got[t]!.filter((r) => truth.has(key(r))).length / Math.max(1, truth.size);
      if (got.exact!.some((r) => r.text_rank !== null)) vectorOnlyDiffers++;
    };
    for (const [i, q] of queries.slice(0, 5).entries()) await once(q, i, false); // warm-up
    for (const [i, q] of queries.entries()) await once(q, i, true);

    const s = Object.fromEntries(allTargets.map((t) => [t, summarize(times[t])])) as Record<
      Target,
      ReturnType<typeof summarize>
    >;
    rows.push(timedRow("same statement, HNSW off (exact), SQL", s.exact, s.exact));
    rows.push(timedRow("store.search() as it runs: scopeSize + batch", s.search, s.exact));
    rows.push(timedRow("  its batch alone (planSettings + searchQuery)", s.batch, s.exact));
    rows.push(timedRow(`  its scopeSize alone (count ≤ ${EXACT_SCAN_MAX + 1})`, s.scopeSize, s.exact));
    rows.push(timedRow("POST /knowledge/search via Worker", s.worker, s.exact));
    if (diagnose) rows.push(timedRow("diagnostic: store's batch, bitmap scans allowed", s.bitmap, s.exact));
    const n = queries.length;
    const recallRow = (name: string, r: number): Row => ({
      name,
      n: String(n),
      median: r.toFixed(3),
      p95: "",
      ratio: "",
      aim: `≥ 0.95: ${verdict(r >= 0.95)}`,
    });
    rows.push(recallRow("recall@10 store.search() vs exact", recall.search / n));
    rows.push(recallRow("recall@10 store's batch alone vs exact", recall.batch / n));
    rows.push(recallRow("recall@10 Worker results vs exact", recall.worker / n));
    notes.push(
      `knowledge recall@10 compares the same hybrid ranking computed two ways (HNSW vector list vs an exact one; the full-text list is the same), so it measures the index, not hybrid vs vector; ${vectorOnlyDiffers} of ${n} queries had full-text matches in the exact top ${K}`,
    );
    notes.push(
      `knowledge timings are per query, one at a time, order rotated per query; scopeSize is an extra round trip before every POST /knowledge/search (median ${fmtUs(s.scopeSize.median)} of store.search()'s ${fmtUs(s.search.median)}; chat runs it in parallel with the key read and passes the size in); the Worker row also reads the key from Vault and embeds the query at the LLM stand-in (median ${fmtUs(s.worker.median - s.search.median)} above store.search() from Node)`,
    );
    return { rows, notes };
  } finally {
    await h.dispose();
  }
}
