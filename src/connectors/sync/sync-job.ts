import { and, eq } from "drizzle-orm";
import type { Config } from "../../config";
import type { Database } from "../../db/client";
import { connectorConfigs, connectorRuns } from "../../db/schema";
import type { Bindings } from "../../env";
import { KnowledgeStore } from "../../knowledge/knowledge-store";
import type { Logger } from "../../lib/logger";
import type { VaultClient } from "../../vault/client";
import { ConnectorStore, type ConnectorRow } from "../connector-store";
import { connectorType } from "../registry";
import type { ConnectorType, SourceContext } from "../types";
import { indexItems, type PageCounts, removeGone } from "./indexer";
import type { SyncParams } from "./params";
import { StepServices } from "./services";
import { fatal } from "./steps";

export type { SyncParams } from "./params";

export type RunCounts = PageCounts & { removed: number };
export const zeroCounts = (): RunCounts => ({
  seen: 0,
  added: 0,
  updated: 0,
  unchanged: 0,
  removed: 0,
  failed: 0,
  embedding_calls: 0,
});

/**
 * The work of each sync step, built afresh inside every step (StepServices).
 * Credentials are read from Vault inside the step and never returned, so they
 * are never stored in the engine's step results.
 */
export class SyncJob {
  private readonly services: StepServices;
  private readonly config: Config;
  private readonly db: Database;
  private readonly vault: VaultClient;
  readonly logger: Logger;

  constructor(
    env: Bindings,
    readonly params: SyncParams,
    waitUntil: (p: Promise<unknown>) => void,
  ) {
    this.services = new StepServices(
      env,
      {
        tenantId: params.tenantId,
        userId: params.userId,
        instanceId: params.runId,
        path: `connector-sync/${params.connectorId}`,
        log: { run_id: params.runId, connector_id: params.connectorId },
      },
      waitUntil,
    );
    ({ config: this.config, db: this.db, vault: this.vault, logger: this.logger } = this.services);
  }

  /** Marks the run running; the streams to walk and where the last successful run stopped. */
  async start(): Promise<{ type: string; streams: string[]; cursor: Record<string, string> }> {
    const { row, type } = await this.load();
    await this.db
      .update(connectorRuns)
      .set({ status: "running", started_at: new Date() })
      .where(and(eq(connectorRuns.id, this.params.runId), eq(connectorRuns.tenant_id, this.params.tenantId)));
    return {
      type: type.type,
      streams: type.streams(type.settings.parse(row.metadata.settings)),
      cursor: row.sync_cursor ?? {},
    };
  }

  async listIds(stream: string, page: string | null) {
    const { type, ctx } = await this.source();
    return await type.listIds(ctx, stream, page);
  }

  /** One page of changed items: fetched, compared by hash, the changed ones embedded and written. */
  async syncPage(stream: string, since: string | null, page: string | null) {
    const { row, type, ctx } = await this.source();
    const { items, next } = await type.listChanged(ctx, stream, since, page);
    const knowledge = new KnowledgeStore(this.db, this.params.tenantId);
    const counts = await indexItems(
      this.db,
      knowledge,
      this.services.embedDeps(),
      { runId: this.params.runId, connectorId: row.id, connectorType: type.type, agentId: row.metadata.agent_id },
      items,
    );
    const newest = items.reduce<string | null>((m, i) => (i.modified && (!m || i.modified > m) ? i.modified : m), null);
    return { counts, next, newest };
  }

  async removeGone(live: string[]): Promise<number> {
    const knowledge = new KnowledgeStore(this.db, this.params.tenantId);
    return await removeGone(this.db, knowledge, this.params.tenantId, this.params.connectorId, new Set(live));
  }

  /** Records the run's counts and the connector's new cursor (only a successful run moves it). */
  async finish(counts: RunCounts, cursor: Record<string, string>): Promise<void> {
    const now = new Date();
    await this.db.batch([
      this.db
        .update(connectorRuns)
        .set({ status: "succeeded", ...counts, finished_at: now })
        .where(and(eq(connectorRuns.id, this.params.runId), eq(connectorRuns.tenant_id, this.params.tenantId))),
      this.db
        .update(connectorConfigs)
        .set({ sync_cursor: cursor, last_synced_at: now })
        .where(
          and(eq(connectorConfigs.id, this.params.connectorId), eq(connectorConfigs.tenant_id, this.params.tenantId)),
        ),
    ]);
    this.audit("succeeded", { ...counts });
  }

  async fail(counts: RunCounts, error: { step: string; code: string; message: string }): Promise<void> {
    await this.db
      .update(connectorRuns)
      .set({ status: "failed", ...counts, error, finished_at: new Date() })
      .where(and(eq(connectorRuns.id, this.params.runId), eq(connectorRuns.tenant_id, this.params.tenantId)));
    this.audit("error", { ...counts, error: error.code, step: error.step });
  }

  private audit(outcome: "succeeded" | "error", details: Record<string, unknown>) {
    this.services.auditLog().record({
      tenantId: this.params.tenantId,
      userId: this.params.userId,
      action: "connector.sync",
      resourceType: "connector",
      resourceId: this.params.connectorId,
      outcome: outcome === "succeeded" ? "success" : "error",
      details: { run_id: this.params.runId, ...details },
    });
  }

  private async load(): Promise<{ row: ConnectorRow; type: ConnectorType }> {
    const row = await new ConnectorStore(this.db, this.vault, this.params.tenantId).get(this.params.connectorId);
    if (!row) throw fatal("The connector was deleted.", "connector_deleted");
    const type = connectorType(row.connector_type);
    if (!type) throw fatal(`Unknown connector type ${row.connector_type}.`, "internal_error");
    return { row, type };
  }

  private async source(): Promise<{ row: ConnectorRow; type: ConnectorType; ctx: SourceContext<unknown, unknown> }> {
    const { row, type } = await this.load();
    const credentials = await new ConnectorStore(this.db, this.vault, this.params.tenantId).credentials(row);
    if (!credentials) throw fatal("The connector's credentials are missing.", "credentials_missing");
    return {
      row,
      type,
      ctx: {
        settings: type.settings.parse(row.metadata.settings),
        credentials: type.credentials.parse(credentials),
        policy: this.config.connectors,
      },
    };
  }
}
