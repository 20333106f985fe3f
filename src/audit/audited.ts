import type { Context } from "hono";
import type { AppEnv } from "../env";
import { ApiError, errorCode } from "../errors/problem";
import type { AuditOutcome } from "./audit-log";

/** What an audit row is about. */
export interface AuditTarget {
  action: string;
  resourceType: string;
  resourceId: string | null;
}

/** Route path parameters that name a resource: only well-formed ones reach an audit row. */
const RESOURCE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** What a route declares it audits (see `defineRoute`): the resource it names comes from the path parameter `param`. */
export interface AuditSpec {
  action: string;
  resourceType: string;
  param?: string;
}

/**
 * The audit target of this request, set before validation by the route's middleware, so a request
 * refused before its handler (invalid input) still leaves a row — see `auditRejected`.
 */
export function auditTargetOf(c: Context<AppEnv>, { action, resourceType, param }: AuditSpec): AuditTarget {
  const raw = param ? c.req.param(param) : undefined;
  return { action, resourceType, resourceId: raw && RESOURCE_ID.test(raw) ? raw : null };
}

/** Refusals of the caller (401, 403, 429) are denials; everything else that failed is an error. */
const outcomeOf = (err: unknown): AuditOutcome =>
  err instanceof ApiError && (err.status === 401 || err.status === 403 || err.status === 429) ? "denied" : "error";

/** What a refusal audits when it came before any route named a target (429 from the rate limit, unknown routes). */
const REFUSED_REQUEST = { action: "request.refused", resourceType: "route", resourceId: null } as const;

/**
 * Called by the app's onError: an authenticated request whose handler never
 * wrote its row (refused earlier: validation, the rate limit, an unknown route)
 * gets one now, with the error's code. Without a route target the row says
 * which request was refused.
 */
export function auditRejected(c: Context<AppEnv>, err: unknown): void {
  const principal = c.get("tenant")?.principal;
  if (!principal || c.get("audited")) return;
  const target = c.get("auditTarget");
  c.set("audited", true);
  c.get("audit").record({
    tenantId: principal.tenantId,
    userId: principal.userId,
    ...(target ?? REFUSED_REQUEST),
    outcome: outcomeOf(err),
    details: target
      ? { error: errorCode(err) }
      : { error: errorCode(err), method: c.req.method, path: c.req.path.slice(0, 256) },
  });
}

/**
 * Called by the route's middleware after its handler: a handler that answered without `audited`
 * (a forgotten wrapper) still leaves the route's row, outcome from the status, and a warning in
 * the log; what it loses is the handler's details, never the row.
 */
export function auditUnwritten(c: Context<AppEnv>): void {
  const principal = c.get("tenant")?.principal;
  const target = c.get("auditTarget");
  if (!principal || !target || c.get("audited")) return;
  c.set("audited", true);
  const status = c.res.status;
  c.get("logger").warn("audit.handler_unaudited", { action: target.action, status });
  c.get("audit").record({
    tenantId: principal.tenantId,
    userId: principal.userId,
    ...target,
    outcome: status < 400 ? "success" : [401, 403, 429].includes(status) ? "denied" : "error",
    details: status < 400 ? {} : { status },
  });
}

/** What a handler tells the audit row: the action may be refined once known (key.store → key.create / key.rotate). */
export interface AuditNote {
  action: string;
  /** The resource, when the handler knows it better than the route (e.g. the new agent's id). */
  resourceId: string | null;
  details: Record<string, unknown>;
}

/**
 * Runs `fn` and records exactly one audit row for it, whatever the outcome:
 * success, denied (401/403) or error (with the error's code, never its message).
 * What is audited comes from the route's `auditTarget`.
 */
export async function audited<T>(c: Context<AppEnv>, fn: (note: AuditNote) => Promise<T>): Promise<T> {
  const { tenantId, userId } = c.get("tenant").principal;
  const target = c.get("auditTarget");
  const note: AuditNote = { action: target.action, resourceId: target.resourceId, details: {} };
  let outcome: AuditOutcome = "success";
  try {
    return await fn(note);
  } catch (err) {
    outcome = outcomeOf(err);
    note.details.error = errorCode(err);
    throw err;
  } finally {
    c.set("audited", true);
    c.get("audit").record({
      tenantId,
      userId,
      action: note.action,
      resourceType: target.resourceType,
      resourceId: note.resourceId,
      outcome,
      details: note.details,
    });
  }
}
