import { and, desc, eq, gte, lt, lte, or, type SQL } from "drizzle-orm";
import { auditLogs } from "../../db/schema";
import { describeError } from "../../errors/problem";
import { audited } from "../../audit/audited";
import { exportStream } from "../../audit/export";
import { readChain, verifyChain } from "../../audit/trail";
import { decodeCursor, encodeCursor, isRowId } from "../../lib/cursor";
import { createRouter, z } from "../../lib/openapi";
import { defineRoute } from "../../lib/route";
import { storableText } from "../../lib/text";

/** Exactly what `toISOString` writes for years 0000–9999 (Postgres cannot take `+275760-…`). */
const ROW_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const isRowTime = (s: string) => ROW_TIME.test(s) && new Date(s).toISOString() === s;

/** The position a page ends at: the last row's (created_at, id), so pages are stable while new rows arrive. */
const CURSOR_PARTS = [isRowTime, isRowId] as const;

const AuditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional(),
  action: z
    .string()
    .regex(/^[a-z_]+\.[a-z_]+$/, "action looks like key.read")
    .optional(),
  resource_type: storableText(z.string()).max(64).optional(),
  resource_id: storableText(z.string()).max(128).optional(),
  outcome: z.enum(["success", "denied", "error"]).optional(),
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: "Only rows at or after this time (RFC 3339)." }),
  until: z.iso.datetime({ offset: true }).optional().openapi({ description: "Only rows before this time (RFC 3339)." }),
});

const AuditRow = z
  .object({
    id: z.string(),
    user_id: z.string().nullable(),
    action: z.string(),
    resource_type: z.string(),
    resource_id: z.string().nullable(),
    outcome: z.string(),
    request_id: z.string().nullable(),
    ip_address: z.string().nullable(),
    user_agent: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    seq: z.number().int().nullable().openapi({ description: "The row's place in the tenant's hash chain." }),
    prev_hash: z.string().nullable(),
    hash: z.string().nullable(),
  })
  .openapi("AuditLogEntry");

const Seq = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

const VerifyQuery = z.object({
  from_seq: Seq.optional().openapi({ description: "First sequence number to check (default 1)." }),
  to_seq: Seq.optional().openapi({ description: "Last sequence number to check (default: the chain head)." }),
});

const VerifyReport = z
  .object({
    verified: z.boolean(),
    checked: z.number().int(),
    last_seq: z.number().int(),
    from_seq: z.number().int(),
    to_seq: z.number().int(),
    head_seq: z.number().int().openapi({ description: "The last sequence number the database has recorded." }),
    first_break: z
      .object({
        seq: z.number().int(),
        id: z.string().nullable().openapi({ description: "The row that does not verify; null for a gap (row gone)." }),
        fault: z.enum(["gap", "hash_mismatch", "prev_hash_mismatch"]),
      })
      .nullable(),
  })
  .openapi("AuditVerifyReport");

const verifyAuditLogs = defineRoute({
  method: "get",
  path: "/audit-logs/verify",
  role: "admin",
  audit: { action: "audit.verify", resourceType: "audit_log" },
  tags: ["Audit"],
  summary: "Re-compute the tenant's audit hash chain",
  description:
    'Re-computes every row\'s SHA-256 from its stored fields (README "Audit trail") and answers how many rows were checked and the first that does not verify: an edited row (`hash_mismatch`), a deleted one (`gap`) or one that does not link to its predecessor.',
  request: { query: VerifyQuery },
  responses: {
    200: { description: "The verification report", content: { "application/json": { schema: VerifyReport } } },
  },
  errors: [503],
});

const ExportQuery = z.object({
  format: z.enum(["ndjson", "csv"]).default("ndjson"),
  since: z.iso.datetime({ offset: true }).optional().openapi({ description: "Only rows at or after this time." }),
  until: z.iso.datetime({ offset: true }).optional().openapi({ description: "Only rows before this time." }),
});

const exportAuditLogs = defineRoute({
  method: "get",
  path: "/audit-logs/export",
  role: "admin",
  audit: { action: "audit.export", resourceType: "audit_log" },
  tags: ["Audit"],
  summary: "Stream the tenant's audit trail with its chain fields",
  description:
    "Rows in sequence order with `seq`, `prev_hash` and `hash`, as NDJSON (default) or CSV, streamed a page at a time. `npm run audit:verify -- --file <export>` re-computes the chain from the file.",
  request: { query: ExportQuery },
  responses: {
    200: {
      description: "The rows, one per line",
      content: { "application/x-ndjson": { schema: z.string() }, "text/csv": { schema: z.string() } },
    },
  },
  errors: [503],
});

const listAuditLogs = defineRoute({
  method: "get",
  path: "/audit-logs",
  role: "admin",
  audit: { action: "audit.list", resourceType: "audit_log" },
  tags: ["Audit"],
  summary: "The tenant's audit trail, newest first",
  description: "Cursor-paginated; pass `next_cursor` back as `cursor`.",
  request: { query: AuditQuery },
  responses: {
    200: {
      description: "A page of audit rows",
      content: {
        "application/json": {
          schema: z.object({ items: z.array(AuditRow), next_cursor: z.string().nullable() }).openapi("AuditLogPage"),
        },
      },
    },
  },
  errors: [503],
});

export const auditLogsRouter = createRouter()
  .openapi(listAuditLogs, async (c) => {
    const q = c.req.valid("query");
    return await audited(c, async () => {
      const { principal } = c.get("tenant");
      const where: SQL[] = [eq(auditLogs.tenant_id, principal.tenantId)];
      if (q.action) where.push(eq(auditLogs.action, q.action));
      if (q.resource_type) where.push(eq(auditLogs.resource_type, q.resource_type));
      if (q.resource_id) where.push(eq(auditLogs.resource_id, q.resource_id));
      if (q.outcome) where.push(eq(auditLogs.outcome, q.outcome));
      if (q.since) where.push(gte(auditLogs.created_at, new Date(q.since)));
      if (q.until) where.push(lt(auditLogs.created_at, new Date(q.until)));
      if (q.cursor) {
        const [iso, id] = decodeCursor(q.cursor, CURSOR_PARTS);
        const createdAt = new Date(iso);
        where.push(
          or(lt(auditLogs.created_at, createdAt), and(lte(auditLogs.created_at, createdAt), lt(auditLogs.id, id)))!,
        );
      }
      const rows = await c
        .get("db")
        .select()
        .from(auditLogs)
        .where(and(...where))
        .orderBy(desc(auditLogs.created_at), desc(auditLogs.id))
        .limit(q.limit + 1);
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      return c.json(
        {
          items: page.map(({ tenant_id: _t, created_at, ...r }) => ({ ...r, created_at: created_at.toISOString() })),
          next_cursor: rows.length > q.limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
        },
        200,
      );
    });
  })
  .openapi(verifyAuditLogs, async (c) => {
    const q = c.req.valid("query");
    return await audited(c, async (note) => {
      const { tenantId } = c.get("tenant").principal;
      const report = await verifyChain(c.get("db"), tenantId, { fromSeq: q.from_seq, toSeq: q.to_seq });
      Object.assign(note.details, { checked: report.checked, verified: report.first_break === null });
      if (report.first_break) note.details.first_break = report.first_break;
      return c.json({ verified: report.first_break === null, ...report }, 200);
    });
  })
  .openapi(exportAuditLogs, async (c) => {
    const q = c.req.valid("query");
    return await audited(c, async (note) => {
      const { tenantId } = c.get("tenant").principal;
      note.details.format = q.format;
      const rows = readChain(c.get("db"), tenantId, {
        since: q.since ? new Date(q.since) : undefined,
        until: q.until ? new Date(q.until) : undefined,
      });
      const logger = c.get("logger");
      const body = exportStream(rows, q.format, (err) =>
        logger.error("audit.export_failed", { reason: describeError(err) }),
      );
      return c.body(body, 200, {
        "content-type": q.format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
        "content-disposition": `attachment; filename="audit-${tenantId}.${q.format}"`,
      });
    });
  });
