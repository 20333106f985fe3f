import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { prepared } from "../db/prepared";
import { auditLogs } from "../db/schema";
import { describeError } from "../errors/problem";
import { redact, type Logger } from "../lib/logger";

export type AuditOutcome = "success" | "denied" | "error";

export interface AuditEntry {
  tenantId: string;
  userId: string | null;
  /** e.g. key.create, key.rotate, key.read, key.list, key.delete, key.use */
  action: string;
  resourceType: string;
  resourceId: string | null;
  outcome: AuditOutcome;
  /** Non-secret facts only (vault_version, key_hint, error code). Redacted again before writing. */
  details?: Record<string, unknown>;
}

export interface RequestFacts {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
}

const RETRY_DELAYS_MS = [50, 250, 1000];

const COLUMNS = [
  "tenant_id",
  "user_id",
  "action",
  "resource_type",
  "resource_id",
  "outcome",
  "request_id",
  "ip_address",
  "user_agent",
  "details",
] as const;

/** The audit insert, prepared once per database handle: it runs on every request. */
const insertAudit = (db: Database) =>
  prepared(db, "audit_insert", (d) =>
    d
      .insert(auditLogs)
      .values(
        Object.fromEntries(COLUMNS.map((c) => [c, sql.placeholder(c)])) as unknown as typeof auditLogs.$inferInsert,
      )
      .prepare("audit_insert"),
  );

/**
 * Writes audit rows off the response's critical path: each `record` hands a
 * promise to `waitUntil`. A failed insert is retried, then logged as an error
 * with everything but the secret details — never silently dropped.
 */
export class AuditLog {
  constructor(
    private readonly db: Database,
    private readonly waitUntil: (p: Promise<unknown>) => void,
    private readonly logger: Logger,
    private readonly facts: RequestFacts,
  ) {}

  record(entry: AuditEntry): void {
    this.waitUntil(this.write(entry));
  }

  private async write(entry: AuditEntry): Promise<void> {
    const row = {
      tenant_id: entry.tenantId,
      user_id: entry.userId,
      action: entry.action,
      resource_type: entry.resourceType,
      resource_id: entry.resourceId,
      outcome: entry.outcome,
      request_id: this.facts.requestId,
      ip_address: this.facts.ip,
      user_agent: this.facts.userAgent?.slice(0, 512) ?? null,
      details: redact(entry.details ?? {}) as Record<string, unknown>,
    };
    for (let attempt = 0; ; attempt++) {
      try {
        await insertAudit(this.db).execute(row);
        return;
      } catch (err) {
        const delay = RETRY_DELAYS_MS[attempt];
        if (delay === undefined) {
          this.logger.error("audit.write_failed", {
            tenant_id: entry.tenantId,
            audit_action: entry.action,
            resource_id: entry.resourceId,
            outcome: entry.outcome,
            attempts: attempt + 1,
            reason: describeError(err),
          });
          return;
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
