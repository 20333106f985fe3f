import { and, eq } from "drizzle-orm";
import { NonRetryableError } from "cloudflare:workflows";
import { AuditLog } from "../../audit/audit-log";
import type { AuditQueue } from "../../audit/store";
import { getConfig, type Config } from "../../config";
import { createDb, type Database } from "../../db/client";
import { connectorConfigs, connectorRuns } from "../../db/schema";
import type { Bindings } from "../../env";
import { ApiError, errorCode } from "../../errors/problem";
import type { EmbedDeps } from "../../knowledge/embedding";
import { KnowledgeStore } from "../../knowledge/knowledge-store";
import { createLogger, type Logger } from "../../lib/logger";
import { tenantOf } from "../../tenant";
import { VaultClient } from "../../vault/client";
import { ConnectorStore, type ConnectorRow } from "../connector-store";
import { connectorType } from "../registry";
import { ConnectorError, type ConnectorType, type SourceContext } from "../types";
import { indexItems, type PageCounts, removeGone } from "./indexer";
import type { SyncParams } from "./params";

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

/** A step's answer when the service or the embedding provider asked us to wait. */
export interface Wait {
  waitSeconds: number;
}

/**
 * The work of each sync step, built afresh inside every step (a resumed
 * Workflow may run on another machine; nothing but step results carries over).
 * Credentials are read from Vault inside the step and never returned, so they
 * are never stored in the engine's step results.
 */
export class SyncJob {
  private readonly config: Config;
  private readonly db: Database;
  private readonly vault: VaultClient;
  readonly logger: Logger;

  constructor(
    private readonly env: Bindings,
    readonly params: SyncParams,
    private readonly waitUntil: (p: Promise<unknown>) => void,
  ) {
    this.config = getConfig(env);
    this.db = createDb(this.config);
    this.vault = new VaultClient(this.config.vault);
    this.logger = createLogger({ run_id: params.runId, connector_id: params.connectorId });
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
      this.embedDeps(),
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

  /** An audit log for this run (the run id stands for the request id; there is no caller's IP). */
  private auditLog(): AuditLog {
    return new AuditLog(this.env.AUDIT_QUEUE as AuditQueue | undefined, this.db, this.waitUntil, this.logger, {
      requestId: this.params.runId,
      ip: null,
      userAgent: null,
      method: "WORKFLOW",
      path: `connector-sync/${this.params.connectorId}`,
    });
  }

  private audit(outcome: "succeeded" | "error", details: Record<string, unknown>) {
    this.auditLog().record({
      tenantId: this.params.tenantId,
      userId: this.params.userId,
      action: "connector.sync",
      resourceType: "connector",
      resourceId: this.params.connectorId,
      outcome: outcome === "succeeded" ? "success" : "error",
      details: { run_id: this.params.runId, ...details },
    });
  }

  private embedDeps(): EmbedDeps {
    const principal = { tenantId: this.params.tenantId, userId: this.params.userId, roles: [], isAdmin: false };
    return {
      config: this.config,
      tenant: tenantOf(principal, this.db, this.vault),
      audit: this.auditLog(),
      logger: this.logger,
    };
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

/**
 * What a failure inside a step becomes before it leaves the step (the engine
 * stores it): a Wait for rate limits, a NonRetryableError for what retrying
 * cannot fix, an Error to retry otherwise. Messages are `<code>: <text>`
 * (the engine keeps an error's message, not its name): a stable code and our
 * own text, never a service's body or a query's parameters.
 */
export function classify(err: unknown): Wait | Error {
  if (err instanceof NonRetryableError) return err;
  if (err instanceof ConnectorError) {
    switch (err.kind) {
      case "rate_limited":
        return { waitSeconds: err.retryAfterSeconds ?? 5 };
      case "unavailable":
        return named(new Error(err.message), "source_unavailable");
      case "auth":
        return fatal(err.message, "source_auth_failed");
      case "refused_url":
        return fatal(err.message, "source_url_refused");
      case "bad_response":
        return fatal(err.message, "source_bad_response");
    }
  }
  if (err instanceof ApiError) {
    if (err.code === "provider_unavailable") return { waitSeconds: Number(err.opts.headers?.["Retry-After"] ?? 5) };
    if (err.code === "provider_key_missing" || err.code === "provider_key_rejected" || err.status < 500) {
      return fatal(err.detail ?? err.message, err.code);
    }
  }
  const code = errorCode(err);
  const messages: Record<string, string> = {
    vault_unavailable: "The secret store is unavailable.",
    vault_auth_failed: "The secret store refused the gateway's credentials.",
    database_unavailable: "The database is unavailable.",
  };
  return named(new Error(messages[code] ?? "An unexpected error occurred."), code);
}

function named(err: Error, code: string): Error {
  err.message = `${code}: ${err.message}`;
  return err;
}

const fatal = (message: string, code: string) => new NonRetryableError(`${code}: ${message}`, code);

/** The run's recorded error from whatever ended it. */
export function failureOf(err: unknown, step: string): { step: string; code: string; message: string } {
  const text = err instanceof Error ? err.message : "";
  const m = /^([a-z_]{3,40}): ([\s\S]*)$/.exec(text);
  if (!m) return { step, code: "internal_error", message: "An unexpected error occurred." };
  // The engine may put the error's name (our code) before the message again: keep one.
  const message = m[2]!.replace(new RegExp(`^(${m[1]}: )+`), "").slice(0, 500);
  return { step, code: m[1]!, message };
}
