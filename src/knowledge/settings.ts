import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { connectorRuns, knowledgeBase, knowledgeJobs, knowledgeSettings } from "../db/schema";

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

/** A tenant's knowledge settings. Every statement is filtered by tenant_id. */
export class KnowledgeSettingsStore {
  constructor(
    private readonly db: Database,
    private readonly tenantId: string,
  ) {}

  /** The settings and when they last changed (null: never set, the defaults apply). */
  async get(): Promise<{ embedding: EmbeddingChoice; updatedAt: Date | null }> {
    const [row] = await this.db
      .select()
      .from(knowledgeSettings)
      .where(eq(knowledgeSettings.tenant_id, this.tenantId))
      .limit(1);
    if (!row) return { embedding: DEFAULT_EMBEDDING, updatedAt: null };
    const embedding: EmbeddingChoice =
      row.embedding_provider === "azure-openai" && row.embedding_deployment
        ? { provider: "azure-openai", deployment: row.embedding_deployment }
        : DEFAULT_EMBEDDING;
    return { embedding, updatedAt: row.updated_at };
  }

  /**
   * The embedding choice every embedding of the tenant's knowledge uses, read on every use (one
   * primary-key read; never cached, so no isolate embeds with a choice the tenant has left).
   */
  async embedding(): Promise<EmbeddingChoice> {
    return (await this.get()).embedding;
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
    await this.db
      .insert(knowledgeSettings)
      .values({ tenant_id: this.tenantId, ...values })
      .onConflictDoUpdate({ target: knowledgeSettings.tenant_id, set: values });
    return await this.get();
  }
}
