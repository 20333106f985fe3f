import { and, desc, eq, inArray, ne, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { connectorConfigs, connectorItems, connectorRuns, knowledgeBase } from "../db/schema";
import { chunksChanged } from "../knowledge/knowledge-store";
import type { VaultClient } from "../vault/client";
import { connectorPath } from "../vault/paths";
import { connectorType } from "./registry";

/** The key-store's rows (one per provider key) share connector_configs; connectors are every other type. */
export const API_KEY_TYPE = "llm_api_key";

/** Non-secret settings of a connector, in connector_configs.metadata. */
export interface ConnectorMeta {
  name: string;
  settings: Record<string, unknown>;
  agent_id: string | null;
  credential_hints: Record<string, string>;
}

/** What Vault holds at a connector's path. `credentials` leaves this module only through `credentials()`. */
interface StoredCredentials {
  type: string;
  credentials: Record<string, unknown>;
  hints: Record<string, string>;
  created_at: string;
  created_by: string;
}

export type ConnectorRow = typeof connectorConfigs.$inferSelect & { metadata: ConnectorMeta };
export type RunRow = typeof connectorRuns.$inferSelect;

/** The connector_configs.connector_id of a connector: never a valid key service name, so the two cannot collide. */
const rowKey = (id: string) => `connector:${id}`;

/**
 * A tenant's content connectors: settings in connector_configs, credentials in
 * Vault at tenants/<tenant>/connectors/<id>. Like the key store, a write marks
 * the row `pending`, writes Vault, then marks it `synced`; a row is visible
 * once its first credentials are stored (`is_active`).
 */
export class ConnectorStore {
  constructor(
    private readonly db: Database,
    private readonly vault: VaultClient,
    readonly tenantId: string,
  ) {}

  async create(input: {
    type: string;
    meta: Omit<ConnectorMeta, "credential_hints">;
    credentials: Record<string, unknown>;
    hints: Record<string, string>;
    scheduleMinutes: number | null;
    userId: string;
  }): Promise<ConnectorRow> {
    const id = crypto.randomUUID();
    const path = connectorPath(this.tenantId, id);
    await this.db.insert(connectorConfigs).values({
      id,
      tenant_id: this.tenantId,
      connector_id: rowKey(id),
      connector_type: input.type,
      vault_path: path,
      is_active: false,
      sync_status: "pending",
      metadata: { ...input.meta, credential_hints: input.hints },
      created_by: input.userId,
      schedule_minutes: input.scheduleMinutes,
      next_sync_at: input.scheduleMinutes ? new Date() : null,
    });
    let version: number;
    try {
      ({ version } = await this.vault.write(
        path,
        this.secret(input.type, input.credentials, input.hints, input.userId),
        0,
      ));
    } catch (err) {
      await this.db
        .delete(connectorConfigs)
        .where(this.where(id))
        .catch(() => {});
      throw err;
    }
    const [row] = await this.db
      .update(connectorConfigs)
      .set({ is_active: true, sync_status: "synced", vault_version: version })
      .where(this.where(id))
      .returning();
    return row as ConnectorRow;
  }

  async get(id: string): Promise<ConnectorRow | null> {
    const [row] = await this.db
      .select()
      .from(connectorConfigs)
      .where(and(this.where(id), eq(connectorConfigs.is_active, true)))
      .limit(1);
    return (row as ConnectorRow | undefined) ?? null;
  }

  async list(): Promise<ConnectorRow[]> {
    const rows = await this.db
      .select()
      .from(connectorConfigs)
      .where(
        and(
          eq(connectorConfigs.tenant_id, this.tenantId),
          ne(connectorConfigs.connector_type, API_KEY_TYPE),
          eq(connectorConfigs.is_active, true),
        ),
      )
      .orderBy(connectorConfigs.created_at, connectorConfigs.id);
    return rows as ConnectorRow[];
  }

  /** Changes settings and/or rotates credentials (a new Vault version). */
  async update(
    row: ConnectorRow,
    patch: {
      meta: Omit<ConnectorMeta, "credential_hints">;
      scheduleMinutes: number | null;
      credentials?: { values: Record<string, unknown>; hints: Record<string, string> } | undefined;
      userId: string;
    },
  ): Promise<ConnectorRow> {
    let version = row.vault_version;
    let hints = row.metadata.credential_hints;
    if (patch.credentials) {
      await this.db.update(connectorConfigs).set({ sync_status: "pending" }).where(this.where(row.id));
      try {
        ({ version } = await this.vault.write(
          row.vault_path,
          this.secret(row.connector_type, patch.credentials.values, patch.credentials.hints, patch.userId),
        ));
      } catch (err) {
        await this.db
          .update(connectorConfigs)
          .set({ sync_status: "synced" })
          .where(this.where(row.id))
          .catch(() => {});
        throw err;
      }
      hints = patch.credentials.hints;
    }
    const scheduleChanged = patch.scheduleMinutes !== row.schedule_minutes;
    const [updated] = await this.db
      .update(connectorConfigs)
      .set({
        metadata: { ...patch.meta, credential_hints: hints },
        schedule_minutes: patch.scheduleMinutes,
        ...(scheduleChanged
          ? { next_sync_at: patch.scheduleMinutes ? new Date(Date.now() + patch.scheduleMinutes * 60_000) : null }
          : {}),
        vault_version: version,
        sync_status: "synced",
      })
      .where(this.where(row.id))
      .returning();
    return updated as ConnectorRow;
  }

  /**
   * Deletes the connector, its runs and its credentials. Its synced documents
   * are removed with it, or — `keepKnowledge` — kept as ordinary documents
   * (no longer updated; deletable at DELETE /knowledge/documents/:id).
   * Returns how many documents were removed or kept.
   */
  async remove(row: ConnectorRow, keepKnowledge: boolean): Promise<number> {
    // Vault first: if it fails, nothing is deleted and the call can be repeated.
    await this.vault.destroyAll(row.vault_path);
    const docs = await this.db
      .select({ document_id: connectorItems.document_id })
      .from(connectorItems)
      .where(and(eq(connectorItems.tenant_id, this.tenantId), eq(connectorItems.connector_id, row.id)));
    const ids = docs.map((d) => d.document_id);
    // One transaction: the connector (its items and runs cascade) and, unless kept, its documents.
    const dropRow = this.db.delete(connectorConfigs).where(this.where(row.id));
    if (!keepKnowledge && ids.length > 0) {
      await this.db
        .batch([
          this.db
            .delete(knowledgeBase)
            .where(and(eq(knowledgeBase.tenant_id, this.tenantId), inArray(knowledgeBase.document_id, ids))),
          dropRow,
        ])
        .finally(() => chunksChanged(this.tenantId));
    } else {
      await dropRow;
    }
    return ids.length;
  }

  /** The stored credentials, for the connector's own calls only (check, sync). */
  async credentials(row: ConnectorRow): Promise<Record<string, unknown> | null> {
    const secret = await this.vault.read<StoredCredentials>(row.vault_path);
    return secret?.data.credentials ?? null;
  }

  /** The connector's runs, newest first. */
  async runs(connectorId: string, limit: number): Promise<RunRow[]> {
    return await this.db
      .select()
      .from(connectorRuns)
      .where(and(eq(connectorRuns.tenant_id, this.tenantId), eq(connectorRuns.connector_id, connectorId)))
      .orderBy(desc(connectorRuns.created_at), desc(connectorRuns.id))
      .limit(limit);
  }

  async run(connectorId: string, runId: string): Promise<RunRow | null> {
    const [row] = await this.db
      .select()
      .from(connectorRuns)
      .where(
        and(
          eq(connectorRuns.tenant_id, this.tenantId),
          eq(connectorRuns.connector_id, connectorId),
          eq(connectorRuns.id, runId),
        ),
      )
      .limit(1);
    return row ?? null;
  }

  /** The latest run of each of these connectors. */
  async lastRuns(connectorIds: string[]): Promise<Map<string, RunRow>> {
    if (connectorIds.length === 0) return new Map();
    const rows = await this.db
      .selectDistinctOn([connectorRuns.connector_id])
      .from(connectorRuns)
      .where(and(eq(connectorRuns.tenant_id, this.tenantId), inArray(connectorRuns.connector_id, connectorIds)))
      .orderBy(connectorRuns.connector_id, desc(connectorRuns.created_at), desc(connectorRuns.id));
    return new Map(rows.map((r) => [r.connector_id, r]));
  }

  /** How many documents each connector holds. */
  async documentCounts(connectorIds: string[]): Promise<Map<string, number>> {
    if (connectorIds.length === 0) return new Map();
    const rows = await this.db
      .select({ connector_id: connectorItems.connector_id, n: sql<number>`count(*)::int` })
      .from(connectorItems)
      .where(and(eq(connectorItems.tenant_id, this.tenantId), inArray(connectorItems.connector_id, connectorIds)))
      .groupBy(connectorItems.connector_id);
    return new Map(rows.map((r) => [r.connector_id, r.n]));
  }

  private secret(
    type: string,
    credentials: Record<string, unknown>,
    hints: Record<string, string>,
    userId: string,
  ): Record<string, unknown> {
    const stored: StoredCredentials = {
      type,
      credentials,
      hints,
      created_at: new Date().toISOString(),
      created_by: userId,
    };
    return { ...stored };
  }

  private where(id: string) {
    return and(
      eq(connectorConfigs.tenant_id, this.tenantId),
      eq(connectorConfigs.id, id),
      ne(connectorConfigs.connector_type, API_KEY_TYPE),
    );
  }
}

/** Whether a connector_configs row is a content connector this build knows. */
export const isConnectorRow = (row: { connector_type: string }) => !!connectorType(row.connector_type);
