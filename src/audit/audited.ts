import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError, errorCode } from "../errors/problem";
import type { AuditOutcome } from "./audit-log";

/** What a handler tells the audit row: the action may be refined once known (key.store → key.create / key.rotate). */
export interface AuditNote {
  action: string;
  details: Record<string, unknown>;
}

/**
 * Runs `fn` and records exactly one audit row for it, whatever the outcome:
 * success, denied (401/403) or error (with the error's code, never its message).
 */
export async function audited<T>(
  c: Context<AppEnv>,
  target: { action: string; resourceType: string; resourceId: string | null },
  fn: (note: AuditNote) => Promise<T>,
): Promise<T> {
  const { tenantId, userId } = c.get("principal");
  const note: AuditNote = { action: target.action, details: {} };
  let outcome: AuditOutcome = "success";
  try {
    return await fn(note);
  } catch (err) {
    outcome = err instanceof ApiError && (err.status === 403 || err.status === 401) ? "denied" : "error";
    note.details.error = errorCode(err);
    throw err;
  } finally {
    c.get("audit").record({
      tenantId,
      userId,
      action: note.action,
      resourceType: target.resourceType,
      resourceId: target.resourceId,
      outcome,
      details: note.details,
    });
  }
}
