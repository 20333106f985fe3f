/**
 * src/knowledge/knowledge-store.ts for the benches, loaded by a path the Node typecheck
 * does not follow: its imports reach src/env.ts, whose `Env` exists only in the Worker's
 * project (src/worker-configuration.d.ts). The members the benches use are typed by hand
 * here instead; keep them in step with the store.
 */
import type { SQL } from "drizzle-orm";
import type { drizzle } from "drizzle-orm/neon-http";
import type { schema } from "../src/db/schema";

const STORE_MODULE = "../src/knowledge/knowledge-store.ts";

export type BenchScope = { kind: "tenant" } | { kind: "agent"; agentId: string };

export interface BenchHit {
  document_id: string;
  chunk_index: number;
  score: number;
  rank_score: number;
  vector_rank: number | null;
  text_rank: number | null;
}

export interface BenchStore {
  insert(
    docs: Array<{
      documentId: string;
      agentId: string | null;
      title: string | null;
      metadata: Record<string, unknown>;
      chunks: Array<{ content: string; embedding: number[] }>;
    }>,
  ): Promise<void>;
  /** Chunks in scope, counted up to EXACT_SCAN_MAX + 1. */
  scopeSize(scope: BenchScope): Promise<number>;
  /** The SET LOCALs a search runs before its statement. */
  planSettings(size: number, k: number): string[];
  /** The search statement itself (render it with PgDialect().sqlToQuery). */
  searchQuery(embedding: number[], text: string, scope: BenchScope, k: number): SQL;
  /** scopeSize (unless given) + one batch of planSettings and searchQuery. */
  search(embedding: number[], text: string, scope: BenchScope, k: number, scopeSize?: number): Promise<BenchHit[]>;
}

export type BenchStoreClass = new (db: ReturnType<typeof drizzle<typeof schema>>, tenantId: string) => BenchStore;

export async function loadKnowledgeStore(): Promise<{ KnowledgeStore: BenchStoreClass; EXACT_SCAN_MAX: number }> {
  return (await import(STORE_MODULE)) as { KnowledgeStore: BenchStoreClass; EXACT_SCAN_MAX: number };
}
