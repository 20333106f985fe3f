import { sql } from "drizzle-orm";
import { createRouter, z } from "../../lib/openapi";
import { defineRoute } from "../../lib/route";

const Health = z.object({ status: z.literal("ok") }).openapi("Health");
const Ready = z
  .object({
    status: z.enum(["ready", "unavailable"]),
    checks: z.object({ vault: z.enum(["ok", "failed"]), database: z.enum(["ok", "failed"]) }),
  })
  .openapi("Readiness");

const health = defineRoute({
  method: "get",
  path: "/health",
  role: "public",
  tags: ["Operations"],
  summary: "Liveness: the Worker answers (no dependencies)",
  responses: { 200: { description: "Alive", content: { "application/json": { schema: Health } } } },
});

const ready = defineRoute({
  method: "get",
  path: "/ready",
  role: "public",
  tags: ["Operations"],
  summary: "Readiness: Vault can serve (unsealed; active or a standby) and the database answers",
  responses: {
    200: { description: "Ready", content: { "application/json": { schema: Ready } } },
    503: {
      description: "A dependency failed; `checks` names which",
      content: { "application/json": { schema: Ready } },
    },
  },
});

/** Liveness is public and needs no config: it must answer even when settings are broken. */
export const healthRouter = createRouter().openapi(health, (c) => c.json({ status: "ok" as const }, 200));

/** Readiness is public; it checks Vault's `sys/health` and a database round trip. */
export const readyRouter = createRouter().openapi(ready, async (c) => {
  const logger = c.get("logger");
  const [vault, database] = await Promise.all([
    c
      .get("vault")
      .healthy()
      .catch(() => false),
    c
      .get("db")
      .execute(sql`select 1`)
      .then(() => true)
      .catch((err: Error) => {
        logger.warn("ready.database_failed", { reason: err.name });
        return false;
      }),
  ]);
  const checks = {
    vault: vault ? ("ok" as const) : ("failed" as const),
    database: database ? ("ok" as const) : ("failed" as const),
  };
  if (vault && database) return c.json({ status: "ready" as const, checks }, 200);
  logger.warn("ready.failed", checks);
  c.header("Retry-After", "5");
  return c.json({ status: "unavailable" as const, checks }, 503);
});
