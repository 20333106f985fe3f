import { createApp } from "./app";
import { consumeAuditBatch } from "./audit/consumer";
import type { AuditMessage } from "./audit/store";
import type { Bindings } from "./env";

const app = createApp();

/** HTTP requests go to the Hono app; batches of the audit queue (and its dead-letter queue) to the audit consumer. */
export default {
  fetch: app.fetch,
  queue: (batch, env) => consumeAuditBatch(batch, env),
} satisfies ExportedHandler<Bindings, AuditMessage>;
