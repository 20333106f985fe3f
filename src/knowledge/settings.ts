import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { connectorRuns, knowledgeBase, knowledgeJobs, knowledgeSettings } from "../db/schema";
import type { Background } from "../lib/background";
import { IsolateCache } from "../lib/isolate-cache";

/** Whose key embeds a tenant's knowledge (and its search queries). */
export const EMBEDDING_PROVIDERS = ["openai", "azure-openai"] as const;
export type EmbeddingProvider = (typeof EMBEDDING_PROVIDERS)[number];

/**
 * The tenant's embedding choice: OpenAI with EMBEDDING_MODEL (the default, also for a
 * tenant that never chose), or an embeddings deployment of its Azure OpenAI resource.
 */
export type EmbeddingChoice = { provider: "openai" } | { provider: "azure-openai"; deployment: string };

export const DEFAULT_EMBEDDING: EmbeddingChoice = { provider: "openai" };

const sameChoice = (a: EmbeddingChoice, b: EmbeddingChoice) =>
  a.provider === b.provider &&
  (a.provider === "openai" || (b.provider === "azure-openai" && a.deployment === b.deployment));

/** Embedding choices a hot isolate read for chat's retrieval (by tenant), kept CACHE_TTL_MS. Tens of bytes each. */
const usableChoices = new IsolateCache<EmbeddingChoice>(1000);

/** A tenant's knowledge settings. Every statement is filtered by tenant_id. */
export class KnowledgeSettingsStore {
  constructor(
    private readonly db: Database,
    private readonly tenantId: string,
    /** How long `useEmbedding` may answer from this isolate's cache (0: always from the database). */
    private readonly cacheTtlMs = 0,
    /** Where `useEmbedding` refreshes a cached choice ahead of its expiry (the request's `waitUntil`). */
    private readonly background?: Background,
  ) {}

  /** The settings and when they last changed (null: never set, the defaults apply). */
  async get(): Promise<{ embedding: EmbeddingChoice; updatedAt: Date | null }> {
    const stored = await this.stored();
    return stored ?? { embedding: DEFAULT_EMBEDDING, updatedAt: null };
  }

  /** The tenant's row, null when it never chose. */
  private async stored(): Promise<{ embedding: EmbeddingChoice; updatedAt: Date } | null> {
    const [row] = await this.db
      .select()
      .from(knowledgeSettings)
      .where(eq(knowledgeSettings.tenant_id, this.tenantId))
      .limit(1);
    if (!row) return null;
    const embedding: EmbeddingChoice =
      row.embedding_provider === "azure-openai" && row.embedding_deployment
        ? { provider: "azure-openai", deployment: row.embedding_deployment }
        : DEFAULT_EMBEDDING;
    return { embedding, updatedAt: row.updated_at };
  }

  /**
   * The embedding choice uploads, jobs, syncs, search and the settings check use: read on every use
   * (one primary-key read), so what is stored is embedded with the tenant's current choice.
   */
  async embedding(): Promise<EmbeddingChoice> {
    return (await this.get()).embedding;
  }

  /**
   * The choice chat's retrieval embeds its query with, from this isolate's cache when read less than
   * CACHE_TTL_MS ago (README "Per-isolate caches"). A tenant that never chose is read each time
   * (absence is not cached), as the caches of keys and agents do.
   */
  async useEmbedding(): Promise<EmbeddingChoice> {
    const choice = await usableChoices.load(
      this.tenantId,
      "embedding",
      this.cacheTtlMs,
      async () => (await this.stored())?.embedding ?? null,
      this.background,
    );
    return choice ?? DEFAULT_EMBEDDING;
  }

  /**
   * Whether the tenant has anything embedded, or being embedded, with its current choice:
   * chunks, a queued or running upload job, a queued or running connector sync. Vectors of two
   * models cannot be searched together, so the choice changes only while this is false.
   */
  async embeddingInUse(): Promise<boolean> {
    const t = this.tenantId;
    const result = await this.db.execute<{ in_use: boolean }>(sql`SELECT
      EXISTS (SELECT 1 FROM ${knowledgeBase} WHERE ${knowledgeBase.tenant_id} = ${t})
      OR EXISTS (SELECT 1 FROM ${knowledgeJobs} WHERE ${and(eq(knowledgeJobs.tenant_id, t), inArray(knowledgeJobs.status, ["queued", "running"]))})
      OR EXISTS (SELECT 1 FROM ${connectorRuns} WHERE ${and(eq(connectorRuns.tenant_id, t), inArray(connectorRuns.status, ["queued", "running"]))})
      AS in_use`);
    return result.rows[0]?.in_use === true;
  }

  /** Whether `next` differs from the current choice. */
  async changes(next: EmbeddingChoice): Promise<boolean> {
    return !sameChoice(await this.embedding(), next);
  }

  /** Stores the choice (the caller has checked it); the settings as now stored. */
  async setEmbedding(choice: EmbeddingChoice, userId: string) {
    const values = {
      embedding_provider: choice.provider,
      embedding_deployment: choice.provider === "azure-openai" ? choice.deployment : null,
      updated_by: userId,
    };
    try {
      await this.db
        .insert(knowledgeSettings)
        .values({ tenant_id: this.tenantId, ...values })
        .onConflictDoUpdate({ target: knowledgeSettings.tenant_id, set: values });
    } finally {
      // After the write (applied or not), so a read in flight meanwhile cannot put the old choice back.
      usableChoices.evict(this.tenantId, "embedding");
    }
    return await this.get();
  }
}
