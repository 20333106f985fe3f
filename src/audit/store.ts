import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { securityEvents } from "../db/schema";
import { canonicalText, type AuditRecord } from "./chain";

/** An attempt without a verified tenant (bad or missing token): operators' view of brute force. Never the token. */
export interface SecurityEvent {
  id: string;
  /** Why it was refused: missing_token, malformed_header, or jose's code (ERR_JWT_EXPIRED, …), claims. */
  reason: string;
  method: string;
  path: string;
  request_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
  /** ISO 8601 UTC, when the request was refused. */
  created_at: string;
}

/** One audit event: a tenant's audit record, or a tenant-less security event. */
export type AuditMessage = { kind: "audit"; record: AuditRecord } | { kind: "security"; event: SecurityEvent };

/**
 * What one queue message carries: the JSON text of an array of events (`packAuditEvents`), those one
 * isolate recorded within its send window, so a window costs one Queues operation however many
 * events it holds; or, as earlier versions sent it, a single event object. The consumer takes both.
 */
export type AuditQueueBody = string | AuditMessage;

/**
 * A packed message is kept under this many characters: at most 3 UTF-8 bytes each, it stays below
 * Queues' 128 KB per message. An event is at most a few KB (paths and user agents are cut).
 */
export const MAX_PACKED_CHARS = 40_000;

/** The queue body of events already serialized one by one (`JSON.stringify(event)`). */
export const packAuditEvents = (serialized: readonly string[]): string => `[${serialized.join(",")}]`;

/** The events a queue message carries, in either form. */
export function unpackAuditBody(body: AuditQueueBody): AuditMessage[] {
  return typeof body === "string" ? (JSON.parse(body) as AuditMessage[]) : [body];
}

// The parts of the Queues API the audit trail uses, declared here so that code reached from
// browser code (the typed client imports the app's types) needs no Workers globals.
/** The producer side of a queue binding (`Queue`). */
export interface AuditQueue {
  send(body: AuditQueueBody, options?: { contentType?: "json" | "text"; delaySeconds?: number }): Promise<unknown>;
}
/** One delivered message (`Message`). */
export interface AuditDelivery {
  readonly body: AuditQueueBody;
  readonly attempts: number;
  readonly timestamp: Date;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}
/** A batch handed to `queue()` (`MessageBatch`). */
export interface AuditBatch {
  readonly queue: string;
  readonly messages: readonly AuditDelivery[];
  ackAll(): void;
  retryAll(options?: { delaySeconds?: number }): void;
}

/** Records per `audit_append` statement (a request body of a few MB at most). */
const MAX_RECORDS_PER_APPEND = 1000;

/**
 * Writes messages in few statements: audit records are appended to
 * their tenants' chains by `audit_append` (one statement: locks each tenant's
 * chain head, skips ids already stored, hashes, inserts), security events in
 * one multi-row insert. Both are idempotent on the event id, so a redelivered
 * batch writes nothing twice. Returns how many rows were new.
 */
export async function writeAuditMessages(db: Database, messages: readonly AuditMessage[]): Promise<number> {
  const records: string[] = [];
  const events: SecurityEvent[] = [];
  for (const m of messages) {
    if (m.kind === "audit") records.push(canonicalText(m.record));
    else events.push(m.event);
  }
  let written = 0;
  // A batch of packed messages may hold thousands of records: appended in statements of bounded size.
  for (let i = 0; i < records.length; i += MAX_RECORDS_PER_APPEND) {
    const result = await db.execute<{ appended: number }>(
      sql`SELECT audit_append(${JSON.stringify(records.slice(i, i + MAX_RECORDS_PER_APPEND))}::jsonb) AS appended`,
    );
    written += Number(result.rows[0]?.appended ?? 0);
  }
  if (events.length > 0) {
    const inserted = await db
      .insert(securityEvents)
      .values(events.map((e) => ({ ...e, created_at: new Date(e.created_at) })))
      .onConflictDoNothing({ target: securityEvents.id })
      .returning({ id: securityEvents.id });
    written += inserted.length;
  }
  return written;
}
