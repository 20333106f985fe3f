import type { Bindings } from "../../env";

/** What starts a sync Workflow instance (its id is `runId`). Never a secret: params are stored by the engine. */
export interface SyncParams {
  tenantId: string;
  connectorId: string;
  runId: string;
  /** Who asked: a user id, or `schedule` for the cron trigger. */
  userId: string;
}

/** The Workflow binding runs are started through (wrangler.toml [[workflows]]). */
export type SyncWorkflow = Bindings["CONNECTOR_SYNC"];
