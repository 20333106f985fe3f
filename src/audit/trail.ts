import { and, asc, eq, gt, gte, isNotNull, lt, lte, type SQL } from "drizzle-orm";
import type { Database } from "../db/client";
import { auditChainHeads, auditLogs } from "../db/schema";
import { type ChainedRow, GENESIS_HASH, type VerifyResult, verifyRows } from "./chain";

/** Rows per query when walking a chain: bounded memory, whatever the chain's length. */
const PAGE = 500;

export interface ChainRange {
  /** First sequence number (default 1). */
  fromSeq?: number | undefined;
  /** Last sequence number (default: the chain head). */
  toSeq?: number | undefined;
  /** Only rows recorded at or after / before these times. */
  since?: Date | undefined;
  until?: Date | undefined;
}

type Row = typeof auditLogs.$inferSelect;

/** A stored row in the chain's wire form (export, verify): created_at as ISO text. */
export function chainedRow(r: Row): ChainedRow {
  return {
    id: r.id,
    tenant_id: r.tenant_id,
    seq: r.seq!,
    user_id: r.user_id,
    action: r.action,
    resource_type: r.resource_type,
    resource_id: r.resource_id,
    outcome: r.outcome,
    request_id: r.request_id,
    ip_address: r.ip_address,
    user_agent: r.user_agent,
    details: r.details,
    created_at: r.created_at.toISOString(),
    prev_hash: r.prev_hash!,
    hash: r.hash!,
  };
}

/** A tenant's chained rows in sequence order, a page at a time (keyset on seq). */
export async function* readChain(db: Database, tenantId: string, range: ChainRange = {}): AsyncGenerator<ChainedRow> {
  let after = (range.fromSeq ?? 1) - 1;
  for (;;) {
    const where: SQL[] = [eq(auditLogs.tenant_id, tenantId), isNotNull(auditLogs.seq), gt(auditLogs.seq, after)];
    if (range.toSeq !== undefined) where.push(lte(auditLogs.seq, range.toSeq));
    if (range.since) where.push(gte(auditLogs.created_at, range.since));
    if (range.until) where.push(lt(auditLogs.created_at, range.until));
    const page = await db
      .select()
      .from(auditLogs)
      .where(and(...where))
      .orderBy(asc(auditLogs.seq))
      .limit(PAGE);
    for (const r of page) yield chainedRow(r);
    if (page.length < PAGE) return;
    after = page.at(-1)!.seq!;
  }
}

/** The chain's last link as the database recorded it (seq 0 for a tenant without rows). */
export async function chainHead(db: Database, tenantId: string): Promise<{ seq: number; hash: string }> {
  const [head] = await db
    .select({ seq: auditChainHeads.seq, hash: auditChainHeads.hash })
    .from(auditChainHeads)
    .where(eq(auditChainHeads.tenant_id, tenantId));
  return head ?? { seq: 0, hash: GENESIS_HASH };
}

export interface ChainReport extends VerifyResult {
  /** The chain head recorded by the database when verification started. */
  head_seq: number;
  from_seq: number;
  to_seq: number;
}

/**
 * Re-computes a tenant's chain (or a range of it) from the stored fields. Up to
 * the recorded head, a missing number is a gap, so deleting the last row shows too.
 */
export async function verifyChain(db: Database, tenantId: string, range: ChainRange = {}): Promise<ChainReport> {
  const head = await chainHead(db, tenantId);
  const from = range.fromSeq ?? 1;
  const to = Math.min(range.toSeq ?? head.seq, head.seq);
  let prevHash: string | null = GENESIS_HASH;
  if (from > 1) {
    const [prev] = await db
      .select({ hash: auditLogs.hash })
      .from(auditLogs)
      .where(and(eq(auditLogs.tenant_id, tenantId), eq(auditLogs.seq, from - 1)));
    // The row before the range is gone: the range's first link cannot be checked (verify from 1 to see the gap).
    prevHash = prev?.hash ?? null;
  }
  const result =
    from > to
      ? { checked: 0, last_seq: to, first_break: null }
      : await verifyRows(readChain(db, tenantId, { fromSeq: from, toSeq: to }), { from, prevHash, to });
  return { ...result, head_seq: head.seq, from_seq: from, to_seq: to };
}
