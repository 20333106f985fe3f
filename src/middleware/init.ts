import { createMiddleware } from "hono/factory";
import { AuditLog } from "../audit/audit-log";
import type { AuditQueue } from "../audit/store";
import { getConfig } from "../config";
import { createDb } from "../db/client";
import type { AppEnv } from "../env";
import { createLogger } from "../lib/logger";
import { VaultClient } from "../vault/client";

/**
 * Builds this request's logger, config and services and puts them on the
 * context. Nothing is created at import time: secrets arrive with the request,
 * and tests pass their own env.
 */
export const init = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const requestId = c.get("requestId");
    const logger = createLogger({ requestId });
    c.set("logger", logger);
    const config = getConfig(c.env); // throws ConfigError → problem+json 500 naming the setting
    c.set("config", config);
    const db = createDb(config);
    c.set("db", db);
    c.set("vault", new VaultClient(config.vault));
    const audit = new AuditLog(
      c.env.AUDIT_QUEUE as AuditQueue | undefined,
      db,
      (p) => c.executionCtx.waitUntil(p),
      logger,
      {
        requestId,
        ip: c.req.header("cf-connecting-ip") ?? null,
        userAgent: c.req.header("user-agent") ?? null,
        method: c.req.method,
        path: c.req.path,
      },
      config.auditSendWindowMs,
    );
    c.set("audit", audit);
    const started = Date.now();
    await next();
    logger.info("request", { method: c.req.method, path: c.req.path, status: c.res.status, ms: Date.now() - started });
  });
