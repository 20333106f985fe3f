import { AuditLog } from "../../audit/audit-log";
import type { AuditQueue } from "../../audit/store";
import { getConfig, type Config } from "../../config";
import { createDb, type Database } from "../../db/client";
import type { Bindings } from "../../env";
import type { EmbedDeps } from "../../knowledge/embedding";
import { createLogger, type Logger } from "../../lib/logger";
import { background } from "../../lib/background";
import { tenantOf } from "../../tenant";
import { VaultClient } from "../../vault/client";

/** Who a Workflow instance works for, and how its audit rows and log lines name it. */
export interface InstanceOf {
  tenantId: string;
  /** Who started it: a user id, or `schedule` for the cron trigger. */
  userId: string;
  /** The instance id: audit rows carry it as their request id. */
  instanceId: string;
  /** The audit rows' path, e.g. `connector-sync/<connector id>`. */
  path: string;
  /** Fields on every log line. */
  log: Record<string, string>;
}

/**
 * What a Workflow step works with, built afresh inside every step (a resumed
 * Workflow may run on another machine; nothing but step results carries over):
 * the settings, database, Vault client, logger, and the tenant's embedding deps.
 */
export class StepServices {
  readonly config: Config;
  readonly db: Database;
  readonly vault: VaultClient;
  readonly logger: Logger;

  constructor(
    private readonly env: Bindings,
    readonly instance: InstanceOf,
    private readonly waitUntil: (p: Promise<unknown>) => void,
  ) {
    this.config = getConfig(env);
    this.db = createDb(this.config);
    this.vault = new VaultClient(this.config.vault);
    this.logger = createLogger(instance.log);
  }

  /** An audit log for this instance (its id stands for the request id; there is no caller's IP). */
  auditLog(): AuditLog {
    return new AuditLog(this.env.AUDIT_QUEUE as AuditQueue | undefined, this.db, this.waitUntil, this.logger, {
      requestId: this.instance.instanceId,
      ip: null,
      userAgent: null,
      method: "WORKFLOW",
      path: this.instance.path,
    });
  }

  /** Embedding with the tenant's own OpenAI key, on behalf of whoever started the instance. */
  embedDeps(): EmbedDeps {
    const { tenantId, userId } = this.instance;
    const principal = { tenantId, userId, roles: [], isAdmin: false };
    return {
      config: this.config,
      tenant: tenantOf(principal, this.db, this.vault, background(this.waitUntil, this.logger)),
      audit: this.auditLog(),
      logger: this.logger,
    };
  }
}
