import { and, eq, isNotNull, lte, sql } from "drizzle-orm";
import { getConfig } from "../config";
import { createDb } from "../db/client";
import { connectorConfigs } from "../db/schema";
import type { Bindings } from "../env";
import { ApiError } from "../errors/problem";
import { createLogger } from "../lib/logger";
import { startRun } from "./runs";
import type { SyncWorkflow } from "./sync/params";

/** Most runs one cron tick starts; the rest stay due and start on the next tick. */
const MAX_PER_TICK = 100;

/**
 * The Cron Trigger's work: claims the connectors whose schedule is due (moving
 * their next_sync_at one interval on, in the same statement, so overlapping
 * ticks cannot both claim one) and starts a run for each. A connector whose
 * previous run is still going is skipped until its next slot.
 */
export async function startDueRuns(env: Bindings, now = new Date()): Promise<{ started: number; skipped: number }> {
  const config = getConfig(env);
  const db = createDb(config);
  const logger = createLogger({ job: "connector-schedule" });
  const due = db
    .select({ id: connectorConfigs.id })
    .from(connectorConfigs)
    .where(
      and(
        isNotNull(connectorConfigs.next_sync_at),
        lte(connectorConfigs.next_sync_at, now),
        isNotNull(connectorConfigs.schedule_minutes),
        eq(connectorConfigs.is_active, true),
      ),
    )
    .orderBy(connectorConfigs.next_sync_at)
    .limit(MAX_PER_TICK);
  const claimed = await db
    .update(connectorConfigs)
    .set({
      next_sync_at: sql`${now.toISOString()}::timestamptz + make_interval(mins => ${connectorConfigs.schedule_minutes})`,
    })
    .where(and(sql`${connectorConfigs.id} IN ${due}`, lte(connectorConfigs.next_sync_at, now)))
    .returning({ id: connectorConfigs.id, tenant_id: connectorConfigs.tenant_id });
  let started = 0;
  let skipped = 0;
  for (const c of claimed) {
    try {
      await startRun(db, env.CONNECTOR_SYNC as SyncWorkflow, {
        tenantId: c.tenant_id,
        connectorId: c.id,
        trigger: "schedule",
        userId: "schedule",
      });
      started++;
    } catch (err) {
      skipped++;
      if (!(err instanceof ApiError && err.code === "conflict")) {
        logger.error("schedule.start_failed", {
          connector_id: c.id,
          reason: err instanceof Error ? err.name : "unknown",
        });
      }
    }
  }
  if (claimed.length) logger.info("schedule.tick", { started, skipped });
  return { started, skipped };
}
