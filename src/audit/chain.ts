/**
 * The audit trail's hash chain, the one definition shared by the Worker (verify,
 * export), the queue consumer (what it sends to Postgres) and `npm run audit:verify`.
 *
 * Each tenant's rows form one chain, numbered 1, 2, 3, … without gaps (`seq`):
 *
 *   canonical = RFC 8785 (JCS) JSON of the row's fields (CHAINED_FIELDS), created_at as
 *               `toISOString()` (UTC, milliseconds), absent values as null
 *   hash      = hex(SHA-256(UTF-8(prev_hash + "\n" + seq + "\n" + canonical)))
 *   prev_hash = the previous row's hash; GENESIS_HASH (64 zeros) for seq 1
 *
 * Postgres computes `hash` while it appends (function audit_append, migration 0006),
 * from the canonical text the consumer sends, and stores the fields parsed from that
 * same text; anyone re-computes it from the stored fields with this file or the README.
 */
import canonicalize from "canonicalize";

/** prev_hash of a chain's first row. */
export const GENESIS_HASH = "0".repeat(64);

/** The fields a row's hash covers, in no particular order (JCS sorts them). */
export const CHAINED_FIELDS = [
  "id",
  "tenant_id",
  "user_id",
  "action",
  "resource_type",
  "resource_id",
  "outcome",
  "request_id",
  "ip_address",
  "user_agent",
  "details",
  "created_at",
] as const;

/** An audit row as chained: the event as the request recorded it. */
export interface AuditRecord {
  id: string;
  tenant_id: string;
  user_id: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  outcome: string;
  request_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
  /** ISO 8601 UTC with milliseconds, as `Date#toISOString` writes it. */
  created_at: string;
}

/** A stored row: the record plus its place in the chain. */
export interface ChainedRow extends AuditRecord {
  seq: number;
  prev_hash: string;
  hash: string;
}

/** Row fields as read back from Postgres (drizzle gives Dates, raw SQL gives text) → the record that was hashed. */
export function recordOf(row: Record<string, unknown>): AuditRecord {
  const out: Record<string, unknown> = {};
  for (const f of CHAINED_FIELDS) out[f] = row[f] ?? null;
  const at = row.created_at;
  out.created_at = new Date(at instanceof Date ? at.getTime() : String(at)).toISOString();
  out.details = row.details ?? {};
  return out as unknown as AuditRecord;
}

/** The canonical text a row's hash covers (RFC 8785). */
export function canonicalText(record: AuditRecord): string {
  const picked: Record<string, unknown> = {};
  for (const f of CHAINED_FIELDS) picked[f] = record[f] ?? null;
  return canonicalize(picked) as string;
}

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** hash = hex(SHA-256(prev_hash "\n" seq "\n" canonical)). */
export async function chainHash(prevHash: string, seq: number, canonical: string): Promise<string> {
  const bytes = new TextEncoder().encode(`${prevHash}\n${seq}\n${canonical}`);
  return hex(await crypto.subtle.digest("SHA-256", bytes));
}

/** Why a row does not verify. */
export type ChainFault =
  /** A sequence number is missing (a deleted row): `seq` is the first missing one. */
  | "gap"
  /** The row's fields or hash were changed: its hash is not what its fields give. */
  | "hash_mismatch"
  /** The row does not link to the previous row's hash (rows reordered or replaced). */
  | "prev_hash_mismatch";

export interface ChainBreak {
  seq: number;
  /** The row named, or null for a gap (the row is gone). */
  id: string | null;
  fault: ChainFault;
}

export interface VerifyResult {
  /** Rows re-computed. */
  checked: number;
  /** The last sequence number checked (0 if none). */
  last_seq: number;
  /** The first row that does not verify, or null when the whole range does. */
  first_break: ChainBreak | null;
}

/**
 * Re-computes a chain from rows in sequence order. `from` is the first sequence
 * number expected and `prevHash` the hash the first row must link to (GENESIS_HASH
 * from seq 1; null when unknown); `to`, when given, is the last sequence number that
 * must be there (the chain head), so a deleted last row is a gap too. Stops at the
 * first break: everything after it is unproven anyway.
 */
export async function verifyRows(
  rows: AsyncIterable<ChainedRow> | Iterable<ChainedRow>,
  {
    from = 1,
    prevHash = GENESIS_HASH as string | null,
    to,
  }: { from?: number; prevHash?: string | null; to?: number } = {},
): Promise<VerifyResult> {
  let expected = from;
  let prev = prevHash;
  let checked = 0;
  for await (const row of rows) {
    const seq = Number(row.seq);
    if (seq !== expected)
      return { checked, last_seq: expected - 1, first_break: { seq: expected, id: null, fault: "gap" } };
    const hash = await chainHash(
      row.prev_hash,
      seq,
      canonicalText(recordOf(row as unknown as Record<string, unknown>)),
    );
    if (hash !== row.hash)
      return { checked, last_seq: seq - 1, first_break: { seq, id: row.id, fault: "hash_mismatch" } };
    if (prev !== null && row.prev_hash !== prev) {
      return { checked, last_seq: seq - 1, first_break: { seq, id: row.id, fault: "prev_hash_mismatch" } };
    }
    prev = row.hash;
    expected = seq + 1;
    checked++;
  }
  if (to !== undefined && expected <= to) {
    return { checked, last_seq: expected - 1, first_break: { seq: expected, id: null, fault: "gap" } };
  }
  return { checked, last_seq: expected - 1, first_break: null };
}
