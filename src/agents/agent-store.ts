import { and, asc, eq, gt } from "drizzle-orm";
import type { Database } from "../db/client";
import { agentConfigs, knowledgeBase } from "../db/schema";
import { ApiError } from "../errors/problem";
import type { Background } from "../lib/background";
import { chunksChanged } from "../knowledge/knowledge-store";
import { IsolateCache } from "../lib/isolate-cache";
import type { ProviderId } from "../llm/catalog";

type Row = typeof agentConfigs.$inferSelect;

/** The fields an admin sets (create and update). */
export interface AgentFields {
  name: string;
  description: string | null;
  system_prompt: string;
  llm_provider: ProviderId;
  llm_model: string;
  temperature: number;
  max_tokens: number;
  enabled_tools: string[];
  is_active: boolean;
  metadata: Record<string, unknown>;
}

/** An agent as the API returns it (temperature as a number, not numeric's string). */
export interface Agent extends AgentFields {
  agent_id: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

/** A row in the API's shape. */
export function toAgent(r: Row): Agent {
  return {
    agent_id: r.agent_id,
    name: r.name,
    description: r.description,
    system_prompt: r.system_prompt,
    llm_provider: r.llm_provider as ProviderId,
    llm_model: r.llm_model,
    temperature: Number(r.temperature),
    max_tokens: r.max_tokens,
    enabled_tools: r.enabled_tools,
    is_active: r.is_active,
    metadata: r.metadata,
    created_by: r.created_by,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}

/** numeric(3,2) travels as a string. */
function toRow<F extends Partial<AgentFields>>(f: F): Omit<F, "temperature"> & { temperature?: string } {
  const { temperature, ...rest } = f;
  return { ...rest, ...(temperature !== undefined ? { temperature: temperature.toFixed(2) } : {}) };
}

/** Agents a hot isolate loaded for a chat (by tenant and agent_id), kept CACHE_TTL_MS. A few KiB each at most. */
const usableAgents = new IsolateCache<Agent>(1000);

/** A tenant's agents. Every statement is filtered by tenant_id. */
export class AgentStore {
  constructor(
    private readonly db: Database,
    private readonly tenantId: string,
    /** How long `useAgent` may answer from this isolate's cache (0: always from the database). */
    private readonly cacheTtlMs = 0,
    /** Where `useAgent` refreshes a cached agent ahead of its expiry (the request's `waitUntil`). */
    private readonly background?: Background,
  ) {}

  /** Creates an agent; 409 conflict when the tenant already has this agent_id. */
  async create(agentId: string, fields: AgentFields, userId: string): Promise<Agent> {
    const [row] = await this.db
      .insert(agentConfigs)
      .values({ tenant_id: this.tenantId, agent_id: agentId, created_by: userId, ...toRow(fields) })
      .onConflictDoNothing({ target: [agentConfigs.tenant_id, agentConfigs.agent_id] })
      .returning();
    if (!row) throw new ApiError("conflict", `An agent with agent_id ${agentId} already exists in this tenant.`);
    usableAgents.evict(this.tenantId, agentId);
    return toAgent(row);
  }

  async get(agentId: string): Promise<Agent | null> {
    const [row] = await this.db.select().from(agentConfigs).where(this.where(agentId)).limit(1);
    return row ? toAgent(row) : null;
  }

  /**
   * The agent for a chat turn, from this isolate's cache when loaded less than CACHE_TTL_MS ago.
   * Reads and writes of the agent itself (GET, PATCH) use `get`, never this.
   */
  async useAgent(agentId: string): Promise<Agent | null> {
    return await usableAgents.load(this.tenantId, agentId, this.cacheTtlMs, () => this.get(agentId), this.background);
  }

  /** Agents ordered by agent_id; `after` continues from the last agent_id seen. */
  async list(limit: number, after?: string): Promise<{ items: Agent[]; next: string | null }> {
    const rows = await this.db
      .select()
      .from(agentConfigs)
      .where(and(eq(agentConfigs.tenant_id, this.tenantId), after ? gt(agentConfigs.agent_id, after) : undefined))
      .orderBy(asc(agentConfigs.agent_id))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map(toAgent);
    return { items, next: rows.length > limit ? (items.at(-1)?.agent_id ?? null) : null };
  }

  async update(agentId: string, fields: Partial<AgentFields>): Promise<Agent | null> {
    try {
      const [row] = await this.db.update(agentConfigs).set(toRow(fields)).where(this.where(agentId)).returning();
      return row ? toAgent(row) : null;
    } finally {
      // After the write (applied or not), so a read in flight meanwhile cannot put the old agent back.
      usableAgents.evict(this.tenantId, agentId);
    }
  }

  /**
   * Deletes the agent and its own knowledge chunks in one transaction, so a
   * later agent with the same agent_id does not inherit them. Null when absent.
   */
  async remove(agentId: string): Promise<{ chunks: number } | null> {
    const [chunks, agents] = await this.db
      .batch([
        this.db
          .delete(knowledgeBase)
          .where(and(eq(knowledgeBase.tenant_id, this.tenantId), eq(knowledgeBase.agent_id, agentId)))
          .returning({ id: knowledgeBase.id }),
        this.db.delete(agentConfigs).where(this.where(agentId)).returning({ id: agentConfigs.id }),
      ])
      .finally(() => {
        usableAgents.evict(this.tenantId, agentId);
        chunksChanged(this.tenantId);
      });
    if (agents.length === 0) {
      // Nothing to delete; the chunk delete matched only orphans of a long-gone agent, which is harmless.
      return null;
    }
    return { chunks: chunks.length };
  }

  private where(agentId: string) {
    return and(eq(agentConfigs.tenant_id, this.tenantId), eq(agentConfigs.agent_id, agentId));
  }
}
