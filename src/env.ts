import type { Config } from "./config";
import type { Database } from "./db/client";
import type { VaultClient } from "./vault/client";
import type { AuditLog } from "./audit/audit-log";
import type { AuditTarget } from "./audit/audited";
import type { Logger } from "./lib/logger";
import type { Principal } from "./middleware/auth";

/**
 * Settings that are secrets: set with `wrangler secret put NAME` in production,
 * passed as vars by `npm run dev`. They are not in wrangler.toml, so
 * `wrangler types` cannot see them; they are declared here once.
 */
export interface Secrets {
  DATABASE_URL?: string;
  VAULT_TOKEN?: string;
  VAULT_ROLE_ID?: string;
  VAULT_SECRET_ID?: string;
  JWT_SECRET?: string;
}

/** Every binding and var the Worker may receive (see README "Settings"). */
export type Bindings = Env &
  Secrets & {
    NEON_FETCH_ENDPOINT?: string;
    DATABASE_TIMEOUT_MS?: string;
    VAULT_ADDR?: string;
    VAULT_NAMESPACE?: string;
    VAULT_TIMEOUT_MS?: string;
    JWT_ISSUER?: string;
    JWT_AUDIENCE?: string;
    JWT_JWKS_URL?: string;
    JWT_ALGORITHMS?: string;
    JWT_CLOCK_TOLERANCE_SECONDS?: string;
    JWT_MAX_TOKEN_AGE_SECONDS?: string;
    CORS_ORIGINS?: string;
    MAX_BODY_BYTES?: string;
    MAX_DOCUMENT_BODY_BYTES?: string;
    OPENAI_BASE_URL?: string;
    ANTHROPIC_BASE_URL?: string;
    EMBEDDING_MODEL?: string;
    LLM_TIMEOUT_MS?: string;
    DEV_LOGIN?: string;
  };

/** Per-request values, set by middleware in this order: requestId, logger, config, services, principal. */
export interface Variables {
  requestId: string;
  logger: Logger;
  config: Config;
  db: Database;
  vault: VaultClient;
  audit: AuditLog;
  principal: Principal;
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
