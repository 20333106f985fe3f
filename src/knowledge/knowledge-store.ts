import type { BatchItem } from "drizzle-orm/batch";
import { and, desc, eq, inArray, isNull, or, sql, type SQL } from "drizzle-orm";
import type { Database } from "../db/client";
import type { Background } from "../lib/background";
import { IsolateCache } from "../lib/isolate-cache";
import type { Logger } from "../lib/logger";
import { agentConfigs, knowledgeBase } from "../db/schema";

export interface NewDocument {
  documentId: string;
  agentId: string | null;
  title: string | null;
  metadata: Record<string, unknown>;
  chunks: Array<{ content: string; embedding: number[] }>;
}

export interface DocumentSummary {
  document_id: string;
  agent_id: string | null;
  title: string | null;
  chunks: number;
  characters: number;
  metadata: Record<string, unknown>;
  created_at: string;
}

export interface SearchHit {
  document_id: string;
  chunk_index: number;
  agent_id: string | null;
  title: string | null;
  content: string;
  metadata: Record<string, unknown>;
  /** Cosine similarity of chunk and query (1 = same direction), whichever list found the chunk. */
  score: number;
  /** The fused rank: Σ 1/(60 + rank) over the lists that found it; what results are ordered by. */
  rank_score: number;
  /** 1-based position in the vector candidates, null when not among them. */
  vector_rank: number | null;
  /** 1-based position in the full-text candidates, null when the chunk does not match every query term. */
  text_rank: number | null;
}

type RawHit = Omit<SearchHit, "score" | "rank_score"> & {
  score: number | string;
  rank_score: number | string;
} & Record<string, unknown>;

/**
 * Which chunks a search sees. `tenant`: all of the tenant's chunks.
 * `agent`: the agent's own chunks plus the tenant's shared ones (agent_id null) —
 * exactly what that agent's chat retrieves.
 */
export type SearchScope = { kind: "tenant" } | { kind: "agent"; agentId: string };

/** Rows per INSERT statement. */
const ROWS_PER_INSERT = 100;

/**
 * Neon's proxy refuses a request body over 10 MiB (`max_request_size_bytes`) with
 * a 413, which no retry can fix. A chunk's embedding alone is ~20-30 KB of text,
 * so two 200,000-character documents (~400 chunks) already exceed it in one
 * request. Requests are kept well under the cap so that each also finishes well
 * within DATABASE_TIMEOUT_MS: with real (dense) embeddings that is one statement
 * of 100 rows, ~2 MB and 100 HNSW index inserts.
 */
export const MAX_BATCH_BYTES = 2 * 1024 * 1024;

/**
 * hnsw.ef_search for a query asking for k results: the candidate list must be
 * well above k, and the tenant filter discards candidates of other tenants,
 * so start wide; iterative scanning (pgvector ≥ 0.8) widens further when the
 * filter leaves fewer than k.
 */
export const efSearchFor = (k: number) => Math.min(1000, Math.max(100, k * 10));

/**
 * Candidates taken from each list before fusion. Wider than k so a chunk that
 * is, say, 12th by cosine but 1st by full text can still make the top k; 40 at
 * least because RRF's k=60 makes ranks beyond that weigh nearly the same.
 */
export const candidatesFor = (k: number) => Math.max(4 * k, 40);

/**
 * Above this many chunks in scope the vector list is steered onto the HNSW
 * index; at or below it Postgres's own choice (an exact scan through the tenant
 * index) is kept: exact recall, and fast on few rows. Measured with `npm run bench`
 * on 10,000 chunks of one tenant: left alone the planner chose an exact scan
 * (113 ms; 89 ms for the same hybrid statement exactly); steered, the statement
 * takes 15 ms at recall@10 1.000 — the planner underprices 1536-dim distances.
 */
export const EXACT_SCAN_MAX = 1000;

/** RRF's constant (Cormack et al. 2009): damps the head of each list so neither dominates. */
export const RRF_K = 60;

/**
 * Chat's scope sizes a hot isolate counted (by tenant and scope), kept CACHE_TTL_MS, so the turn of
 * an agent without documents reads nothing from the database. A shared document is in every agent's
 * scope, so a change to a tenant's chunks must forget all of its sizes: each size is keyed by the
 * tenant's chunk epoch, a token `chunksChanged` replaces (tokens are never reused, so a size counted
 * before a change is never read after it).
 */
const scopeSizes = new IsolateCache<number>(1000);
/** Each tenant's current chunk epoch in this isolate; not read from anywhere, so it never goes stale (no TTL). */
const chunkEpochs = new IsolateCache<number>(1000);
let nextEpoch = 0;

/**
 * Forgets this isolate's scope sizes of the tenant: called after every write to its chunks (applied or
 * not, so a count in flight meanwhile cannot be served after the write).
 */
export function chunksChanged(tenantId: string): void {
  chunkEpochs.evict(tenantId, "epoch");
}

/** A tenant's knowledge chunks. Every query (and each branch of the search) is filtered by tenant_id; there is no unscoped read. */
export class KnowledgeStore {
  constructor(
    private readonly db: Database,
    private readonly tenantId: string,
    /** Tests lower it to exercise the HNSW plan on a few rows. */
    private readonly exactScanMax = EXACT_SCAN_MAX,
    /** How long `useScopeSize` may answer from this isolate's cache (0: always from the database). */
    private readonly cacheTtlMs = 0,
    /** Where `useScopeSize` refreshes a cached size ahead of its expiry (the request's `waitUntil`). */
    private readonly background?: Background,
  ) {}

  async agentExists(agentId: string): Promise<boolean> {
    const rows = await this.db
      .select({ id: agentConfigs.id })
      .from(agentConfigs)
      .where(and(eq(agentConfigs.tenant_id, this.tenantId), eq(agentConfigs.agent_id, agentId)))
      .limit(1);
    return rows.length > 0;
  }

  /**
   * Stores every chunk of every document: a document is stored whole or not at
   * all, and so is the batch. Statements are packed into as few requests as fit
   * under MAX_BATCH_BYTES, each request one transaction, a document's statements
   * kept together unless it alone is larger than a request. When a request fails,
   * everything the batch stored is deleted again, including what the failed request
   * may have committed before its reply was lost.
   */
  async insert(documents: NewDocument[], logger?: Logger): Promise<void> {
    const requests = this.insertRequests(documents);
    try {
      for (const [first, ...rest] of requests) await this.db.batch([first!, ...rest]);
    } catch (err) {
      const ids = documents.map((d) => d.documentId);
      await this.db
        .delete(knowledgeBase)
        .where(and(eq(knowledgeBase.tenant_id, this.tenantId), inArray(knowledgeBase.document_id, ids)))
        .catch((cleanupErr: unknown) =>
          // The caller gets the original error; these ids name what may be left to delete.
          logger?.error("knowledge.insert_cleanup_failed", {
            document_ids: ids,
            reason: cleanupErr instanceof Error ? cleanupErr.name : typeof cleanupErr,
          }),
        );
      throw err;
    } finally {
      chunksChanged(this.tenantId);
    }
  }

  /**
   * Replaces documents in place (a connector's changed items): per document, its
   * old chunks are deleted, its new chunks inserted and the caller's own
   * statements for it (e.g. recording its content hash) run in the same
   * transaction. Documents are packed into requests under MAX_BATCH_BYTES like
   * `insert`; only a document larger than a whole request is split.
   */
  async replace(
    items: Array<{ document: NewDocument; replaces: string | null; also: BatchItem<"pg">[] }>,
  ): Promise<void> {
    const sized = items.map(({ document, replaces, also }) => [
      ...(replaces ? [this.removeStatement([replaces])] : []).map((statement) => ({
        statement: statement as BatchItem<"pg">,
        bytes: requestBytes(statement.toSQL()),
      })),
      ...this.#insertStatements(document).map((s) => ({ statement: s.statement as BatchItem<"pg">, bytes: s.bytes })),
      ...also.map((statement) => ({
        statement,
        bytes: requestBytes((statement as unknown as { toSQL(): { sql: string; params: unknown[] } }).toSQL()),
      })),
    ]);
    try {
      for (const [first, ...rest] of packRequests(sized)) await this.db.batch([first!, ...rest]);
    } finally {
      chunksChanged(this.tenantId);
    }
  }

  /** The DELETE of these documents' chunks (within the tenant), for a caller's batch (who calls `chunksChanged` after it). */
  removeStatement(documentIds: string[]) {
    return this.db
      .delete(knowledgeBase)
      .where(and(eq(knowledgeBase.tenant_id, this.tenantId), inArray(knowledgeBase.document_id, documentIds)));
  }

  /** The INSERT statements for `documents`, grouped into the requests `insert` sends (one db.batch each). */
  insertRequests(documents: NewDocument[]) {
    return packRequests(documents.map((doc) => this.#insertStatements(doc)));
  }

  #insertStatements(doc: NewDocument) {
    const rows = doc.chunks.map((chunk, i) => ({
      tenant_id: this.tenantId,
      agent_id: doc.agentId,
      document_id: doc.documentId,
      chunk_index: i,
      title: doc.title,
      content: chunk.content,
      metadata: doc.metadata,
      embedding: chunk.embedding,
    }));
    const out = [];
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const statement = this.db.insert(knowledgeBase).values(rows.slice(i, i + ROWS_PER_INSERT));
      out.push({ statement, bytes: requestBytes(statement.toSQL()) });
    }
    return out;
  }

  /** Documents newest first, one entry per document_id; `cursor` continues after the last one seen. */
  async list(opts: {
    agentId?: string | undefined;
    limit: number;
    cursor?: { createdAt: string; documentId: string } | undefined;
  }) {
    const kb = knowledgeBase;
    const createdAt = sql<string>`min(${kb.created_at})::text`;
    const filters: SQL[] = [eq(kb.tenant_id, this.tenantId)];
    if (opts.agentId !== undefined) filters.push(eq(kb.agent_id, opts.agentId));
    const after = opts.cursor
      ? sql`(min(${kb.created_at}), ${kb.document_id}) < (${opts.cursor.createdAt}::timestamptz, ${opts.cursor.documentId}::uuid)`
      : undefined;
    const rows = await this.db
      .select({
        document_id: kb.document_id,
        agent_id: kb.agent_id,
        title: sql<string | null>`min(${kb.title})`,
        chunks: sql<number>`count(*)::int`,
        characters: sql<number>`sum(length(${kb.content}))::int`,
        metadata: sql<Record<string, unknown>>`(array_agg(${kb.metadata} order by ${kb.chunk_index}))[1]`,
        created_at: createdAt,
      })
      .from(kb)
      .where(and(...filters))
      .groupBy(kb.document_id, kb.agent_id)
      .having(after)
      .orderBy(desc(sql`min(${kb.created_at})`), desc(kb.document_id))
      .limit(opts.limit + 1);
    const page = rows.slice(0, opts.limit);
    const last = page.at(-1);
    return {
      items: page.map((r) => ({ ...r, created_at: new Date(r.created_at).toISOString() })) satisfies DocumentSummary[],
      next: rows.length > opts.limit && last ? { createdAt: last.created_at, documentId: last.document_id } : null,
    };
  }

  /** Deletes a document's chunks; the number deleted (0 when the tenant has no such document). */
  async remove(documentId: string): Promise<number> {
    const rows = await this.db
      .delete(knowledgeBase)
      .where(and(eq(knowledgeBase.tenant_id, this.tenantId), eq(knowledgeBase.document_id, documentId)))
      .returning({ id: knowledgeBase.id })
      .finally(() => chunksChanged(this.tenantId));
    return rows.length;
  }

  /**
   * How many chunks the scope holds, counted up to EXACT_SCAN_MAX + 1 (an index
   * scan of at most that many entries). Chat skips retrieval at 0; search picks
   * its plan from it.
   */
  async scopeSize(scope: SearchScope): Promise<number> {
    const capped = this.db
      .select({ one: sql`1` })
      .from(knowledgeBase)
      .where(this.scopeWhere(scope))
      .limit(this.exactScanMax + 1)
      .as("capped");
    const [row] = await this.db.select({ n: sql<number>`count(*)::int` }).from(capped);
    return row?.n ?? 0;
  }

  /**
   * `scopeSize` for a chat turn, from this isolate's cache when counted less than CACHE_TTL_MS ago and
   * no write to the tenant's chunks went through this isolate since. Documents added elsewhere (another
   * isolate, an upload job, a connector sync) reach a scope counted empty here within CACHE_TTL_MS.
   */
  async useScopeSize(scope: SearchScope): Promise<number> {
    // The epoch is a token, not a copy of anything: kept until a change replaces it (or the bound drops it).
    const epoch = await chunkEpochs.load(
      this.tenantId,
      "epoch",
      this.cacheTtlMs > 0 ? Infinity : 0,
      async () => nextEpoch++,
    );
    const key = `${epoch}:${scope.kind === "agent" ? scope.agentId : "*"}`;
    const size = await scopeSizes.load(
      this.tenantId,
      key,
      this.cacheTtlMs,
      () => this.scopeSize(scope),
      this.background,
    );
    return size ?? 0;
  }

  /**
   * The k best chunks within the tenant (and scope), ranked by reciprocal rank
   * fusion of the vector and full-text candidate lists (see searchQuery).
   * The HNSW settings are SET LOCAL in the same batch (one transaction), so
   * they apply to this query only.
   */
  async search(
    embedding: number[],
    text: string,
    scope: SearchScope,
    k: number,
    scopeSize?: number,
  ): Promise<SearchHit[]> {
    const settings = this.planSettings(scopeSize ?? (await this.scopeSize(scope)), k);
    const results = await this.db.batch([
      this.db.execute(sql.raw(settings[0]!)),
      ...settings.slice(1).map((s) => this.db.execute(sql.raw(s))),
      this.db.execute<RawHit>(this.searchQuery(embedding, text, scope, k)),
    ]);
    const result = results.at(-1) as { rows: RawHit[] };
    return result.rows.map((r) => ({
      document_id: r.document_id,
      chunk_index: r.chunk_index,
      agent_id: r.agent_id,
      title: r.title,
      content: r.content,
      metadata: r.metadata,
      score: Number(r.score),
      rank_score: Number(r.rank_score),
      vector_rank: r.vector_rank,
      text_rank: r.text_rank,
    }));
  }

  /** The SET LOCALs a search runs before its statement, for a scope of `size` chunks. Public for the plan test. */
  planSettings(size: number, k: number): string[] {
    return [
      `SET LOCAL hnsw.ef_search = ${efSearchFor(candidatesFor(k))}`,
      // Keeps walking the graph until enough rows pass the tenant filter (bounded by hnsw.max_scan_tuples).
      "SET LOCAL hnsw.iterative_scan = strict_order",
      // A large scope: make the sorted exact scan look as costly as it is, so the HNSW index serves the ORDER BY.
      // Bitmap scans stay allowed: the full-text list reaches its GIN index only through them (bench 4a: 15.3 → 13.9 ms).
      ...(size > this.exactScanMax ? ["SET LOCAL enable_sort = off", "SET LOCAL enable_seqscan = off"] : []),
    ];
  }

  /**
   * The search statement, one round trip: the vector candidates (top N by
   * cosine, written as ORDER BY embedding <=> q LIMIT N so the HNSW index
   * serves it) and the full-text candidates (content_tsv @@
   * websearch_to_tsquery, top N by ts_rank_cd; the GIN index can serve it), each filtered by
   * tenant and scope, fused by RRF: Σ 1/(60 + rank) over the lists a chunk is
   * in. A chunk first in both lists scores 2/61; ties go to the higher cosine.
   * An empty `text` (no lexemes) leaves the full-text list empty, and the order
   * is then exactly the cosine order. Public so the EXPLAIN test checks exactly this query.
   */
  searchQuery(embedding: number[], text: string, scope: SearchScope, k: number): SQL {
    const n = candidatesFor(k);
    const where = this.scopeWhere(scope);
    const kb = knowledgeBase;
    // The vector is sent once; the scalar subquery is an InitPlan parameter, which the HNSW index accepts.
    const q = sql`(SELECT embedding FROM query)`;
    return sql`WITH query AS (
  SELECT ${JSON.stringify(embedding)}::vector AS embedding, websearch_to_tsquery('english', ${text}) AS tsq
), vector_hits AS (
  SELECT id, (row_number() OVER (ORDER BY distance))::int AS rank FROM (
    SELECT ${kb.id} AS id, ${kb.embedding} <=> ${q} AS distance FROM ${kb} WHERE ${where}
    ORDER BY ${kb.embedding} <=> ${q} LIMIT ${n}
  ) v
), text_hits AS (
  SELECT id, (row_number() OVER (ORDER BY text_score DESC, id))::int AS rank FROM (
    SELECT ${kb.id} AS id, ts_rank_cd(${kb.content_tsv}, query.tsq) AS text_score FROM ${kb}, query
    WHERE ${where} AND ${kb.content_tsv} @@ query.tsq
    ORDER BY text_score DESC, ${kb.id} LIMIT ${n}
  ) t
), fused AS (
  SELECT coalesce(v.id, t.id) AS id, v.rank AS vector_rank, t.rank AS text_rank,
    coalesce(1.0::float8 / (${RRF_K} + v.rank), 0) + coalesce(1.0::float8 / (${RRF_K} + t.rank), 0) AS rank_score
  FROM vector_hits v FULL JOIN text_hits t ON t.id = v.id
)
SELECT ${kb.document_id} AS document_id, ${kb.chunk_index} AS chunk_index, ${kb.agent_id} AS agent_id, ${kb.title} AS title,
  ${kb.content} AS content, ${kb.metadata} AS metadata, 1 - (${kb.embedding} <=> ${q}) AS score,
  fused.rank_score, fused.vector_rank, fused.text_rank
FROM fused JOIN ${kb} ON ${kb.id} = fused.id
WHERE ${where}
ORDER BY fused.rank_score DESC, score DESC, ${kb.id}
LIMIT ${k}`;
  }

  private scopeWhere(scope: SearchScope): SQL | undefined {
    const tenant = eq(knowledgeBase.tenant_id, this.tenantId);
    if (scope.kind === "tenant") return tenant;
    return and(tenant, or(eq(knowledgeBase.agent_id, scope.agentId), isNull(knowledgeBase.agent_id)));
  }
}

type Sized<T> = { statement: T; bytes: number };

/** Groups each document's statements into requests under MAX_BATCH_BYTES, keeping a document's statements together. */
function packRequests<T>(documents: Sized<T>[][], maxBytes = MAX_BATCH_BYTES): T[][] {
  const requests: T[][] = [];
  let current: T[] = [];
  let size = 0;
  const flush = () => {
    if (current.length > 0) requests.push(current);
    current = [];
    size = 0;
  };
  for (const statements of documents) {
    const docBytes = statements.reduce((n, s) => n + s.bytes, 0);
    if (size + docBytes > maxBytes) flush();
    for (const s of statements) {
      // Only a document larger than a whole request is split between requests.
      if (size + s.bytes > maxBytes) flush();
      current.push(s.statement);
      size += s.bytes;
    }
  }
  flush();
  return requests;
}

/** What the driver sends for one statement: `{"query": …, "params": [...]}`, in UTF-8 bytes. */
function requestBytes(q: { sql: string; params: unknown[] }): number {
  let n = q.sql.length + 32;
  for (const p of q.params) n += utf8Length(typeof p === "string" ? p : (JSON.stringify(p) ?? "null")) + 3;
  return n;
}

/** UTF-8 length of a string as JSON encodes it, without encoding it (escapes counted as 2 bytes, generously). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c) n += c < 0x20 ? 6 : 2;
    else if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
