import type { Context } from "hono";
import type { z } from "zod";
import { audited } from "../../audit/audited";
import type { ConnectorRow, RunRow } from "../../connectors/connector-store";
import { urlProblem } from "../../connectors/http";
import { CONNECTOR_TYPES, connectorType } from "../../connectors/registry";
import { startRun, stopActiveRun } from "../../connectors/runs";
import type { SyncWorkflow } from "../../connectors/sync/params";
import { ConnectorError, type ConnectorType } from "../../connectors/types";
import type { AppEnv } from "../../env";
import { ApiError } from "../../errors/problem";
import { createRouter } from "../../lib/openapi";
import {
  createConnector,
  deleteConnector,
  getConnector,
  getRun,
  listConnectors,
  listRuns,
  syncConnector,
  updateConnector,
} from "./connectors.routes";
import type { CreateConnectorInput } from "./connectors.schemas";

type Ctx = Context<AppEnv>;

const store = (c: Ctx) => c.get("tenant").connectors;
const workflow = (c: Ctx) => c.env.CONNECTOR_SYNC as SyncWorkflow;

function invalid(path: string, message: string): ApiError {
  return new ApiError("validation_failed", `${path}: ${message}`, { errors: [{ path, message }] });
}

function parseOr<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw invalid([path, ...issue.path].join("."), issue.message);
}

/**
 * Checks a connector's URL against the reach policy, then its credentials with
 * one cheap call; the service's refusal becomes an error saying what failed.
 */
async function checkSource(c: Ctx, type: ConnectorType, settings: unknown, credentials: unknown): Promise<void> {
  const policy = c.get("config").connectors;
  const problem = urlProblem(type.siteUrl(settings), policy);
  if (problem) {
    const path = `settings.${type.urlField}`;
    throw new ApiError("url_not_allowed", `${path} ${problem}.`, { errors: [{ path, message: problem }] });
  }
  try {
    await type.check({ settings, credentials, policy });
  } catch (err) {
    if (!(err instanceof ConnectorError)) throw err;
    switch (err.kind) {
      case "auth":
      case "bad_response":
        throw new ApiError("connector_check_failed", err.message);
      case "refused_url":
        throw new ApiError("url_not_allowed", err.message);
      case "rate_limited":
      case "unavailable":
        throw new ApiError("connector_unavailable", `${type.label} could not be reached: ${err.message}`, {
          headers: { "Retry-After": String(err.retryAfterSeconds ?? 5) },
        });
    }
  }
}

async function requireAgent(c: Ctx, agentId: string | null | undefined): Promise<void> {
  if (!agentId) return;
  const exists = await c.get("tenant").knowledge.agentExists(agentId);
  if (!exists) throw new ApiError("not_found", `No agent ${agentId} in this tenant.`);
}

async function requireConnector(c: Ctx, id: string): Promise<ConnectorRow> {
  const row = await store(c).get(id);
  if (!row || !connectorType(row.connector_type)) throw new ApiError("not_found", `No connector ${id} in this tenant.`);
  return row;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function toRun(r: RunRow) {
  return {
    run_id: r.id,
    connector_id: r.connector_id,
    trigger: r.trigger as "manual" | "schedule",
    status: r.status as "queued" | "running" | "succeeded" | "failed",
    counts: {
      seen: r.seen,
      added: r.added,
      updated: r.updated,
      unchanged: r.unchanged,
      removed: r.removed,
      failed: r.failed,
      embedding_calls: r.embedding_calls,
    },
    error: r.error ?? null,
    created_at: r.created_at.toISOString(),
    started_at: iso(r.started_at),
    finished_at: iso(r.finished_at),
    duration_ms: r.started_at && r.finished_at ? r.finished_at.getTime() - r.started_at.getTime() : null,
  };
}

function toConnector(row: ConnectorRow, lastRun: RunRow | undefined, documents: number) {
  return {
    id: row.id,
    type: row.connector_type as keyof typeof CONNECTOR_TYPES,
    name: row.metadata.name,
    settings: row.metadata.settings,
    agent_id: row.metadata.agent_id ?? null,
    schedule_minutes: row.schedule_minutes,
    next_sync_at: iso(row.next_sync_at),
    last_synced_at: iso(row.last_synced_at),
    credentials: { hints: row.metadata.credential_hints ?? {}, version: row.vault_version ?? 0 },
    documents,
    last_run: lastRun ? toRun(lastRun) : null,
    created_at: row.created_at.toISOString(),
    created_by: row.created_by,
    updated_at: row.updated_at.toISOString(),
  };
}

async function present(c: Ctx, row: ConnectorRow) {
  const s = store(c);
  const [runs, docs] = await Promise.all([s.lastRuns([row.id]), s.documentCounts([row.id])]);
  return toConnector(row, runs.get(row.id), docs.get(row.id) ?? 0);
}

export const connectorsRouter = createRouter()
  .openapi(createConnector, async (c) => {
    const body = c.req.valid("json") as CreateConnectorInput;
    return await audited(c, async (note) => {
      const { principal } = c.get("tenant");
      const type: ConnectorType = CONNECTOR_TYPES[body.type];
      await requireAgent(c, body.agent_id);
      await checkSource(c, type, body.settings, body.credentials);
      const row = await store(c).create({
        type: body.type,
        meta: { name: body.name, settings: body.settings, agent_id: body.agent_id ?? null },
        credentials: body.credentials,
        hints: type.hints(body.credentials),
        scheduleMinutes: body.schedule_minutes ?? null,
        userId: principal.userId,
      });
      note.resourceId = row.id;
      Object.assign(note.details, {
        type: body.type,
        vault_version: row.vault_version,
        schedule_minutes: row.schedule_minutes,
      });
      return c.json(toConnector(row, undefined, 0), 201);
    });
  })
  .openapi(listConnectors, async (c) => {
    return await audited(c, async (note) => {
      const s = store(c);
      const rows = (await s.list()).filter((r) => connectorType(r.connector_type));
      const ids = rows.map((r) => r.id);
      const [runs, docs] = await Promise.all([s.lastRuns(ids), s.documentCounts(ids)]);
      note.details.count = rows.length;
      return c.json({ items: rows.map((r) => toConnector(r, runs.get(r.id), docs.get(r.id) ?? 0)) }, 200);
    });
  })
  .openapi(getConnector, async (c) => {
    const { id } = c.req.valid("param");
    return await audited(c, async () => c.json(await present(c, await requireConnector(c, id)), 200));
  })
  .openapi(updateConnector, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    return await audited(c, async (note) => {
      const { principal } = c.get("tenant");
      const row = await requireConnector(c, id);
      const type = connectorType(row.connector_type)!;
      const settings = parseOr(type.settings, { ...row.metadata.settings, ...body.settings }, "settings") as Record<
        string,
        unknown
      >;
      const credentials = body.credentials
        ? (parseOr(type.credentials, body.credentials, "credentials") as Record<string, unknown>)
        : undefined;
      const agentId = body.agent_id === undefined ? row.metadata.agent_id : body.agent_id;
      await requireAgent(c, agentId);
      if (credentials || type.siteUrl(settings) !== type.siteUrl(row.metadata.settings)) {
        const current = credentials ?? (await store(c).credentials(row));
        if (!current)
          throw new ApiError("connector_check_failed", "The connector has no stored credentials; send them.");
        await checkSource(c, type, settings, current);
      }
      const updated = await store(c).update(row, {
        meta: { name: body.name ?? row.metadata.name, settings, agent_id: agentId ?? null },
        scheduleMinutes: body.schedule_minutes === undefined ? row.schedule_minutes : body.schedule_minutes,
        credentials: credentials ? { values: credentials, hints: type.hints(credentials) } : undefined,
        userId: principal.userId,
      });
      // Field names only, never values (credentials above all).
      Object.assign(note.details, { fields: Object.keys(body).sort(), vault_version: updated.vault_version });
      if (credentials) note.action = "connector.rotate_credentials";
      return c.json(await present(c, updated), 200);
    });
  })
  .openapi(deleteConnector, async (c) => {
    const { id } = c.req.valid("param");
    const { knowledge } = c.req.valid("query");
    return await audited(c, async (note) => {
      const row = await requireConnector(c, id);
      await stopActiveRun(c.get("db"), workflow(c), row.id);
      const documents = await store(c).remove(row, knowledge === "keep");
      const outcome = knowledge === "keep" ? ("kept" as const) : ("removed" as const);
      Object.assign(note.details, { knowledge: outcome, documents });
      return c.json({ status: "success" as const, id, deleted: true as const, knowledge: outcome, documents }, 200);
    });
  })
  .openapi(syncConnector, async (c) => {
    const { id } = c.req.valid("param");
    return await audited(c, async (note) => {
      const { principal } = c.get("tenant");
      const row = await requireConnector(c, id);
      const run = await startRun(c.get("db"), workflow(c), {
        tenantId: principal.tenantId,
        connectorId: row.id,
        trigger: "manual",
        userId: principal.userId,
      });
      note.details.run_id = run.id;
      return c.json({ status: "queued" as const, run_id: run.id, connector_id: row.id }, 202);
    });
  })
  .openapi(listRuns, async (c) => {
    const { id } = c.req.valid("param");
    const { limit } = c.req.valid("query");
    return await audited(c, async (note) => {
      await requireConnector(c, id);
      const runs = await store(c).runs(id, limit);
      note.details.count = runs.length;
      return c.json({ items: runs.map(toRun) }, 200);
    });
  })
  .openapi(getRun, async (c) => {
    const { id, run_id } = c.req.valid("param");
    return await audited(c, async (note) => {
      await requireConnector(c, id);
      const run = await store(c).run(id, run_id);
      if (!run) throw new ApiError("not_found", `No run ${run_id} of connector ${id}.`);
      note.details.run_id = run_id;
      return c.json(toRun(run), 200);
    });
  });
