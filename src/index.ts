import { createApp } from "./app";
import { consumeAuditBatch } from "./audit/consumer";
import { startDueRuns } from "./connectors/schedule";
import type { Bindings } from "./env";

const app = createApp();

/**
 * HTTP requests go to the Hono app; batches of the audit queue (and its dead-letter queue) to the
 * audit consumer; the Cron Trigger starts scheduled connector syncs.
 */
export default {
  fetch: app.fetch,
  queue: consumeAuditBatch,
  async scheduled(_controller: unknown, env: Bindings) {
    await startDueRuns(env);
  },
};

/** Workflow classes must be exported by the Worker's main module (wrangler.toml [[workflows]]). */
export { ConnectorSyncWorkflow } from "./connectors/sync/workflow";
export { KnowledgeIngestWorkflow } from "./knowledge/ingest-workflow";
