import { uuidv7 } from "uuidv7";
import type { Database } from "../db/client";
import { describeError } from "../errors/problem";
import { redact, type Logger } from "../lib/logger";
import type { AuditRecord } from "./chain";
import {
  type AuditMessage,
  type AuditQueue,
  MAX_PACKED_CHARS,
  packAuditEvents,
  type SecurityEvent,
  writeAuditMessages,
} from "./store";

export type AuditOutcome = "success" | "denied" | "error";

export interface AuditEntry {
  tenantId: string;
  userId: string | null;
  /** e.g. key.create, key.rotate, key.read, key.list, key.delete, key.use */
  action: string;
  resourceType: string;
  resourceId: string | null;
  outcome: AuditOutcome;
  /** Non-secret facts only (vault_version, key_hint, error code). Redacted again before writing. */
  details?: Record<string, unknown>;
}

export interface RequestFacts {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  method: string;
  path: string;
}

/** Retries of the direct insert, used only when the queue refuses the send. */
const RETRY_DELAYS_MS = [50, 250, 1000];

/** Events of this isolate's requests waiting for one send (one queue message), and the promise of that send. */
interface SendWindow {
  events: AuditMessage[];
  /** Each event's JSON, as the packed message carries it. */
  texts: string[];
  chars: number;
  sent: Promise<void>;
}

/** Per isolate and queue binding: the window open now, if any (see `AuditLog.send`). */
const openWindows = new WeakMap<AuditQueue, SendWindow>();

/**
 * Records audit events off the response's critical path: each call stamps the
 * event (a UUIDv7 id, the time) and hands `waitUntil` a send to the audit queue;
 * the queue's consumer writes it (see consumer.ts). Events recorded within
 * AUDIT_SEND_WINDOW_MS of each other by this isolate's requests travel in one
 * queue message (`send`, `packAuditEvents`): a /v1 completion's two rows (the
 * route's and `key.use`) and those of concurrent requests, one Queues
 * operation for them all. If the send itself fails, the events are written
 * directly, with retries, and only then logged as `audit.write_failed` — never
 * silently dropped.
 */
export class AuditLog {
  constructor(
    private readonly queue: AuditQueue | undefined,
    private readonly db: Database,
    private readonly waitUntil: (p: Promise<unknown>) => void,
    private readonly logger: Logger,
    private readonly facts: RequestFacts,
    /** AUDIT_SEND_WINDOW_MS: events recorded within it share one queue message; 0: each event is sent on its own. */
    private readonly windowMs = 0,
  ) {}

  /** The tenant API key the request authenticated with: every row it records names it (`details.api_key_id`). */
  private apiKeyId: string | null = null;

  /** Called once the request's API key is known (see `authenticate`). */
  attributeTo(apiKeyId: string): void {
    this.apiKeyId = apiKeyId;
  }

  /** An action on a tenant's resources, whatever its outcome. */
  record(entry: AuditEntry): void {
    const record: AuditRecord = {
      id: uuidv7(),
      tenant_id: entry.tenantId,
      user_id: entry.userId,
      action: entry.action,
      resource_type: entry.resourceType,
      resource_id: entry.resourceId,
      outcome: entry.outcome,
      request_id: this.facts.requestId,
      ip_address: this.facts.ip,
      user_agent: this.facts.userAgent?.slice(0, 512) ?? null,
      details: redact({ ...entry.details, ...(this.apiKeyId ? { api_key_id: this.apiKeyId } : {}) }) as Record<
        string,
        unknown
      >,
      created_at: new Date().toISOString(),
    };
    this.enqueue({ kind: "audit", record });
  }

  /** An attempt without a verified tenant (bad or missing token), with why it was refused; never the token. */
  security(reason: string): void {
    const event: SecurityEvent = {
      id: uuidv7(),
      reason,
      method: this.facts.method,
      path: this.facts.path.slice(0, 256),
      request_id: this.facts.requestId,
      ip_address: this.facts.ip,
      user_agent: this.facts.userAgent?.slice(0, 512) ?? null,
      created_at: new Date().toISOString(),
    };
    this.enqueue({ kind: "security", event });
  }

  /** Hands `waitUntil` the send at once: a request cancelled later (its client gone) still sends what it recorded. */
  private enqueue(message: AuditMessage): void {
    this.waitUntil(this.send(message));
  }

  /**
   * Sends `message`, in one queue message with the other events this isolate records within the
   * window: the first opens it, later ones join until it closes (or is full); each hands `waitUntil`
   * the one promise of that send, so no request ends before its events are with the queue (or written).
   */
  private send(message: AuditMessage): Promise<void> {
    const queue = this.queue;
    if (!queue) return this.writeDirectly([message]);
    const text = JSON.stringify(message);
    if (this.windowMs <= 0) return this.sendPacked(queue, [message], [text]);
    let window = openWindows.get(queue);
    if (!window || window.chars + text.length + 1 > MAX_PACKED_CHARS) {
      const opened: SendWindow = { events: [], texts: [], chars: 2, sent: Promise.resolve() };
      opened.sent = new Promise<void>((resolve) => setTimeout(resolve, this.windowMs)).then(() => {
        if (openWindows.get(queue) === opened) openWindows.delete(queue);
        return this.sendPacked(queue, opened.events, opened.texts);
      });
      openWindows.set(queue, opened);
      window = opened;
    }
    window.events.push(message);
    window.texts.push(text);
    window.chars += text.length + 1;
    return window.sent;
  }

  private async sendPacked(queue: AuditQueue, events: AuditMessage[], texts: string[]): Promise<void> {
    try {
      await queue.send(packAuditEvents(texts), { contentType: "text" });
      return;
    } catch (err) {
      this.logger.warn("audit.queue_send_failed", { reason: describeError(err), messages: events.length });
    }
    await this.writeDirectly(events);
  }

  private async writeDirectly(messages: AuditMessage[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await writeAuditMessages(this.db, messages);
        return;
      } catch (err) {
        const delay = RETRY_DELAYS_MS[attempt];
        if (delay === undefined) {
          // Each lost event by its id, so it can be found and written again.
          for (const message of messages)
            this.logger.error("audit.write_failed", {
              ...(message.kind === "audit"
                ? {
                    event_id: message.record.id,
                    tenant_id: message.record.tenant_id,
                    audit_action: message.record.action,
                    resource_id: message.record.resource_id,
                    outcome: message.record.outcome,
                  }
                : { event_id: message.event.id, security_reason: message.event.reason }),
              attempts: attempt + 1,
              reason: describeError(err),
            });
          return;
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
