import type { Config, SettingsEnv } from "./config";
import type { Database } from "./db/client";
import type { VaultClient } from "./vault/client";
import type { AuditLog } from "./audit/audit-log";
import type { AuditTarget } from "./audit/audited";
import type { Logger } from "./lib/logger";
import type { Tenant } from "./tenant";

/** Every binding the Worker may receive: wrangler.toml's (`wrangler types`) and the settings (README "Settings"). */
export type Bindings = Env & SettingsEnv;

/** Per-request values, set by middleware in this order: requestId, logger, config, services, tenant. */
export interface Variables {
  requestId: string;
  logger: Logger;
  config: Config;
  db: Database;
  vault: VaultClient;
  audit: AuditLog;
  /** The verified caller and its tenant's stores (set by `authenticate`). */
  tenant: Tenant;
  /** What the matched route audits (set by `auditTarget` before validation). */
  auditTarget: AuditTarget;
  /** True once the handler wrote its audit row. */
  audited: boolean;
}

/** The one Hono environment type every router and handler uses. */
export interface AppEnv {
  Bindings: Bindings;
  Variables: Variables;
}
