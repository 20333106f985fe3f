import { getConfig } from "../config";
import { createDb } from "../db/client";
import type { Bindings } from "../env";
import { describeError } from "../errors/problem";
import { createLogger, type Logger } from "../lib/logger";
import { type AuditBatch, type AuditQueue, unpackAuditBody, writeAuditMessages } from "./store";

/** The dead-letter queue's name (wrangler.toml `dead_letter_queue`): its batches are handled as a last resort. */
export const AUDIT_DEAD_LETTER_QUEUE = "brain-gateway-audit-dlq";
/** The DLQ consumer's `max_retries` (wrangler.toml): on the last attempt a message is sent to the DLQ again, never dropped. */
export const DEAD_LETTER_MAX_RETRIES = 100;
/** How long the DLQ waits between attempts. */
export const DEAD_LETTER_RETRY_SECONDS = 300;

/** Backoff of the main queue: 2, 4, 8, 16, then every 30 s (10 attempts ≈ 3.5 min before the dead-letter queue). */
export const retryDelaySeconds = (attempts: number) => Math.min(2 ** Math.max(attempts, 1), 30);

/**
 * The Worker's `queue()` handler for the audit queue and its dead-letter queue.
 * A batch (each message one window's events, `unpackAuditBody`) becomes one
 * append (see `writeAuditMessages`); if the database refuses,
 * the whole batch is retried with backoff — nothing is acknowledged until it is
 * stored. After the main queue's retries the batch lands in the dead-letter
 * queue, whose consumer keeps retrying every few minutes and logs each failure
 * as an error (`audit.dead_letter`).
 */
export async function consumeAuditBatch(batch: AuditBatch, env: Bindings): Promise<void> {
  const dead = batch.queue === AUDIT_DEAD_LETTER_QUEUE;
  const logger = createLogger({ queue: batch.queue });
  const attempts = Math.max(...batch.messages.map((m) => m.attempts));
  try {
    const written = await writeAuditMessages(
      createDb(getConfig(env)),
      batch.messages.flatMap((m) => unpackAuditBody(m.body)),
    );
    batch.ackAll();
    if (dead) logger.warn("audit.dead_letter_written", { messages: batch.messages.length, written, attempts });
  } catch (err) {
    if (dead) await retryDeadLetters(batch, env, logger, err);
    else {
      const delaySeconds = retryDelaySeconds(attempts);
      logger.warn("audit.batch_retry", {
        messages: batch.messages.length,
        attempts,
        delaySeconds,
        reason: describeError(err),
      });
      batch.retryAll({ delaySeconds });
    }
  }
}

async function retryDeadLetters(batch: AuditBatch, env: Bindings, logger: Logger, err: unknown) {
  const tenants = [
    ...new Set(
      batch.messages.flatMap((m) =>
        unpackAuditBody(m.body).map((e) => (e.kind === "audit" ? e.record.tenant_id : "(security)")),
      ),
    ),
  ];
  logger.error("audit.dead_letter", {
    messages: batch.messages.length,
    tenants: tenants.slice(0, 20),
    oldest: new Date(Math.min(...batch.messages.map((m) => m.timestamp.getTime()))).toISOString(),
    attempts: Math.max(...batch.messages.map((m) => m.attempts)),
    retry_in_seconds: DEAD_LETTER_RETRY_SECONDS,
    reason: describeError(err),
  });
  for (const m of batch.messages) {
    if (m.attempts >= DEAD_LETTER_MAX_RETRIES && env.AUDIT_DLQ) {
      // The DLQ's own retries are bounded; a message about to run out goes round again instead of being dropped.
      await (env.AUDIT_DLQ as AuditQueue).send(m.body, {
        contentType: typeof m.body === "string" ? "text" : "json",
        delaySeconds: DEAD_LETTER_RETRY_SECONDS,
      });
      m.ack();
    } else m.retry({ delaySeconds: DEAD_LETTER_RETRY_SECONDS });
  }
}
