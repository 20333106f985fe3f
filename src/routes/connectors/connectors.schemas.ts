import { CONNECTOR_TYPE_NAMES, CONNECTOR_TYPES } from "../../connectors/registry";
import { z } from "../../lib/openapi";
import { AgentIdSchema } from "../agents/agents.schemas";

/** Shortest schedule: a sync every 15 minutes; longest: weekly. */
export const SCHEDULE_MINUTES = { min: 15, max: 7 * 24 * 60 };

const Name = z.string().trim().min(1).max(100).openapi({ example: "Company blog" });
const Schedule = z
  .number()
  .int()
  .min(SCHEDULE_MINUTES.min)
  .max(SCHEDULE_MINUTES.max)
  .nullable()
  .openapi({ description: "Minutes between scheduled syncs (15–10080); null (the default) = manual only." });
const AgentScope = AgentIdSchema.nullable().openapi({
  description: "Scope the synced documents to this agent; null (the default) = shared by every agent.",
});

export const ConnectorIdParam = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" }, example: "0b9f1c2e-5d6a-4f7b-8c9d-0e1f2a3b4c5d" }),
});
export const RunParam = ConnectorIdParam.extend({
  run_id: z.uuid().openapi({ param: { name: "run_id", in: "path" } }),
});

/** One create body per connector type, told apart by `type`. */
export const CreateConnectorBody = z
  .discriminatedUnion(
    "type",
    CONNECTOR_TYPE_NAMES.map((type) =>
      z
        .object({
          type: z.literal(type),
          name: Name,
          settings: CONNECTOR_TYPES[type].settings,
          credentials: CONNECTOR_TYPES[type].credentials,
          agent_id: AgentScope.optional(),
          schedule_minutes: Schedule.optional(),
        })
        .strict(),
    ) as unknown as [z.ZodObject, ...z.ZodObject[]],
  )
  .openapi("CreateConnector");

export type CreateConnectorInput = {
  type: (typeof CONNECTOR_TYPE_NAMES)[number];
  name: string;
  settings: Record<string, unknown>;
  credentials: Record<string, unknown>;
  agent_id?: string | null | undefined;
  schedule_minutes?: number | null | undefined;
};

/** Settings given are merged over the stored ones; credentials given replace the stored ones (a new Vault version). */
export const UpdateConnectorBody = z
  .object({
    name: Name.optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    credentials: z.record(z.string(), z.unknown()).optional(),
    agent_id: AgentScope.optional(),
    schedule_minutes: Schedule.optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, "give at least one field to change")
  .openapi("UpdateConnector");

export const DeleteConnectorQuery = z.object({
  knowledge: z.enum(["remove", "keep"]).default("remove").openapi({
    description:
      "remove (default): the documents this connector synced are deleted with it. keep: they stay as ordinary documents, no longer updated.",
  }),
});

export const RunsQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) });

const Counts = z.object({
  seen: z.number().int(),
  added: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  removed: z.number().int(),
  failed: z.number().int(),
  embedding_calls: z.number().int(),
});

export const Run = z
  .object({
    run_id: z.uuid(),
    connector_id: z.uuid(),
    trigger: z.enum(["manual", "schedule"]),
    status: z.enum(["queued", "running", "succeeded", "failed"]),
    counts: Counts,
    error: z.object({ step: z.string(), code: z.string(), message: z.string() }).nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    duration_ms: z.number().int().nullable(),
  })
  .openapi("ConnectorRun");

export const Connector = z
  .object({
    id: z.uuid(),
    type: z.enum(CONNECTOR_TYPE_NAMES),
    name: z.string(),
    settings: z.record(z.string(), z.unknown()),
    agent_id: z.string().nullable(),
    schedule_minutes: z.number().int().nullable(),
    next_sync_at: z.string().nullable(),
    last_synced_at: z.string().nullable(),
    credentials: z.object({
      hints: z
        .record(z.string(), z.string())
        .openapi({ example: { username: "editor", application_password: "****abcd" } }),
      version: z.number().int(),
    }),
    documents: z.number().int(),
    last_run: Run.nullable(),
    created_at: z.string(),
    created_by: z.string().nullable(),
    updated_at: z.string(),
  })
  .openapi("Connector");

export const ConnectorList = z.object({ items: z.array(Connector) }).openapi("ConnectorList");
export const RunList = z.object({ items: z.array(Run) }).openapi("ConnectorRunList");
export const SyncStarted = z
  .object({ status: z.literal("queued"), run_id: z.uuid(), connector_id: z.uuid() })
  .openapi("SyncStarted");
export const DeleteConnectorResponse = z.object({
  status: z.literal("success"),
  id: z.uuid(),
  deleted: z.literal(true),
  knowledge: z.enum(["removed", "kept"]),
  documents: z.number().int(),
});
