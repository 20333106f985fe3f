import { createApp } from "./app";
import { consumeAuditBatch } from "./audit/consumer";

const app = createApp();

/** HTTP requests go to the Hono app; batches of the audit queue (and its dead-letter queue) to the audit consumer. */
export default {
  fetch: app.fetch,
  queue: consumeAuditBatch,
};
