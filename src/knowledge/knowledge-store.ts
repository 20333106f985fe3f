import { and, cosineDistance, desc, eq, isNull, or, sql, type SQL } from "drizzle-orm";
import type { Database } from "../db/client";
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
  score: number;
}

/**
 * Which chunks a search sees. `tenant`: all of the tenant's chunks.
 * `agent`: the agent's own chunks plus the tenant's shared ones (agent_id null) —
 * exactly what that agent's chat retrieves.
 */
export type SearchScope = { kind: "tenant" } | { kind: "agent"; agentId: string };

/** Rows per INSERT statement; a document's statements run in one db.batch (one transaction). */
const ROWS_PER_INSERT = 100;

/**
 * hnsw.ef_search for a query asking for k results: the candidate list must be
 * well above k, and the tenant filter discards candidates of other tenants,
 * so start wide; iterative scanning (pgvector ≥ 0.8) widens further when the
 * filter leaves fewer than k.
 */
export const efSearchFor = (k: number) => Math.min(1000, Math.max(100, k * 10));

/** A tenant's knowledge chunks. Every query is filtered by tenant_id; there is no unscoped read. */
export class KnowledgeStore {
  constructor(
    private readonly db: Database,
    private readonly tenantId: string,
  ) {}

  async agentExists(agentId: string): Promise<boolean> {
    const rows = await this.db
      .select({ id: agentConfigs.id })
      .from(agentConfigs)
      .where(and(eq(agentConfigs.tenant_id, this.tenantId), eq(agentConfigs.agent_id, agentId)))
      .limit(1);
    return rows.length > 0;
  }

  /** Inserts every chunk of every document in one transaction: a document is stored whole or not at all. */
  async insert(documents: NewDocument[]): Promise<void> {
    const statements = documents.flatMap((doc) => {
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
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) out.push(this.db.insert(knowledgeBase).values(rows.slice(i, i + ROWS_PER_INSERT)));
      return out;
    });
    const [first, ...rest] = statements;
    if (!first) return;
    await this.db.batch([first, ...rest]);
  }

  /** Documents newest first, one entry per document_id; `cursor` continues after the last one seen. */
  async list(opts: { agentId?: string | undefined; limit: number; cursor?: { createdAt: string; documentId: string } | undefined }) {
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
      .returning({ id: knowledgeBase.id });
    return rows.length;
  }

  /** True when the scope holds at least one chunk (chat skips embedding the question otherwise). */
  async hasAny(scope: SearchScope): Promise<boolean> {
    const rows = await this.db.select({ id: knowledgeBase.id }).from(knowledgeBase).where(this.scopeWhere(scope)).limit(1);
    return rows.length > 0;
  }

  /**
   * The k nearest chunks by cosine distance, within the tenant (and scope).
   * Written as ORDER BY embedding <=> $q LIMIT k so the HNSW index serves it;
   * the settings are SET LOCAL in the same batch (one transaction), so they
   * apply to this query only.
   */
  async search(embedding: number[], scope: SearchScope, k: number): Promise<SearchHit[]> {
    const [, , rows] = await this.db.batch([
      this.db.execute(sql.raw(`SET LOCAL hnsw.ef_search = ${efSearchFor(k)}`)),
      // Keeps walking the graph until k rows pass the tenant filter (bounded by hnsw.max_scan_tuples).
      this.db.execute(sql.raw("SET LOCAL hnsw.iterative_scan = strict_order")),
      this.searchQuery(embedding, scope, k),
    ]);
    return rows.map((r) => ({ ...r, score: Number(r.score) }));
  }

  /** The search statement; exported through the store so the EXPLAIN test checks exactly this query. */
  searchQuery(embedding: number[], scope: SearchScope, k: number) {
    const kb = knowledgeBase;
    const distance = cosineDistance(kb.embedding, embedding);
    return this.db
      .select({
        document_id: kb.document_id,
        chunk_index: kb.chunk_index,
        agent_id: kb.agent_id,
        title: kb.title,
        content: kb.content,
        metadata: kb.metadata,
        score: sql<number>`1 - (${distance})`,
      })
      .from(kb)
      .where(this.scopeWhere(scope))
      .orderBy(distance)
      .limit(k);
  }

  private scopeWhere(scope: SearchScope): SQL | undefined {
    const tenant = eq(knowledgeBase.tenant_id, this.tenantId);
    if (scope.kind === "tenant") return tenant;
    return and(tenant, or(eq(knowledgeBase.agent_id, scope.agentId), isNull(knowledgeBase.agent_id)));
  }
}

