import { and, eq, inArray } from "drizzle-orm";
import type { Database } from "../db/client";
import { connectorRuns } from "../db/schema";
import { ApiError } from "../errors/problem";
import type { RunRow } from "./connector-store";
import type { SyncWorkflow } from "./sync/params";

/** A queued run whose Workflow instance the engine does not know after this long was never started. */
const LOST_AFTER_MS = 60_000;

/**
 * Starts a sync run: a connector_runs row (the partial unique index allows one
 * queued or running run per connector, so two runs never overlap), then the
 * Workflow instance with the run's id. An active run whose instance has ended
 * without recording it (crashed past its retries, terminated) is closed first.
 */
export async function startRun(
  db: Database,
  workflow: SyncWorkflow,
  input: { tenantId: string; connectorId: string; trigger: "manual" | "schedule"; userId: string },
): Promise<RunRow> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const id = crypto.randomUUID();
    const [row] = await db
      .insert(connectorRuns)
      .values({
        id,
        tenant_id: input.tenantId,
        connector_id: input.connectorId,
        trigger: input.trigger,
        status: "queued",
        created_by: input.userId,
      })
      .onConflictDoNothing()
      .returning();
    if (row) {
      try {
        await workflow.create({
          id,
          params: { tenantId: input.tenantId, connectorId: input.connectorId, runId: id, userId: input.userId },
        });
      } catch (err) {
        await closeRun(db, row, "engine_unavailable", "The workflow engine did not accept the run.");
        throw new ApiError("internal_error", "The sync could not be started; retry later.", { cause: err });
      }
      return row;
    }
    const [active] = await db
      .select()
      .from(connectorRuns)
      .where(
        and(eq(connectorRuns.connector_id, input.connectorId), inArray(connectorRuns.status, ["queued", "running"])),
      )
      .limit(1);
    if (active && !(await hasEnded(workflow, active))) {
      throw new ApiError("conflict", `A sync of this connector is already ${active.status} (run ${active.id}).`, {
        errors: [{ path: "run_id", message: active.id }],
      });
    }
    if (active) await closeRun(db, active, "run_lost", "The run ended without recording its result.");
  }
  throw new ApiError("conflict", "A sync of this connector is already running.");
}

/** Whether the Workflow instance of an active-looking run has in fact ended (or never started). */
async function hasEnded(workflow: SyncWorkflow, run: RunRow): Promise<boolean> {
  try {
    const { status } = await (await workflow.get(run.id)).status();
    return status === "errored" || status === "terminated" || status === "complete";
  } catch {
    return Date.now() - run.created_at.getTime() > LOST_AFTER_MS;
  }
}

export async function closeRun(db: Database, run: RunRow, code: string, message: string): Promise<void> {
  await db
    .update(connectorRuns)
    .set({ status: "failed", error: { step: "engine", code, message }, finished_at: new Date() })
    .where(and(eq(connectorRuns.id, run.id), inArray(connectorRuns.status, ["queued", "running"])));
}

/** Stops the connector's active run, if any (before the connector is deleted). */
export async function stopActiveRun(db: Database, workflow: SyncWorkflow, connectorId: string): Promise<void> {
  const active = await db
    .select()
    .from(connectorRuns)
    .where(and(eq(connectorRuns.connector_id, connectorId), inArray(connectorRuns.status, ["queued", "running"])));
  for (const run of active) {
    try {
      await (await workflow.get(run.id)).terminate();
    } catch {
      // Already ended or never started: nothing to stop.
    }
    await closeRun(db, run, "connector_deleted", "The connector was deleted during the run.");
  }
}
