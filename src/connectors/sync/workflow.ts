import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import type { Bindings } from "../../env";
import { durableStep, failureOf, STEP_CONFIG } from "./steps";
import { type RunCounts, SyncJob, type SyncParams, zeroCounts } from "./sync-job";

type PageResult = Awaited<ReturnType<SyncJob["syncPage"]>>;

/**
 * One sync run of one connector, in durable steps: start, then per stream the
 * id pages (what exists) and the changed-item pages (fetched, embedded and
 * written in one step each, idempotent by content hash), then removal of
 * items gone at the source, then finish. A crash resumes after the last
 * completed step; a 429 (or an embedding provider's rate limit) becomes a
 * durable sleep for its Retry-After, then the step is tried again.
 */
export class ConnectorSyncWorkflow extends WorkflowEntrypoint<Bindings, SyncParams> {
  override async run(event: Readonly<WorkflowEvent<SyncParams>>, step: WorkflowStep): Promise<RunCounts> {
    const params = event.payload;
    const job = () => new SyncJob(this.env, params, (p) => this.ctx.waitUntil(p));
    const counts = zeroCounts();
    let current = "start";
    try {
      const plan = await durableStep(step, "start", () => job().start());
      const live: string[] = [];
      const cursor = { ...plan.cursor };
      for (const stream of plan.streams) {
        let page: string | null = null;
        let n = 0;
        do {
          current = `ids ${stream} page ${++n}`;
          const from: string | null = page;
          const r: { ids: string[]; next: string | null } = await durableStep(step, current, () =>
            job().listIds(stream, from),
          );
          live.push(...r.ids);
          page = r.next;
        } while (page);
        page = null;
        n = 0;
        do {
          current = `sync ${stream} page ${++n}`;
          const from: string | null = page;
          const since = plan.cursor[stream] ?? null;
          const r: PageResult = await durableStep(step, current, () => job().syncPage(stream, since, from));
          for (const k of ["seen", "added", "updated", "unchanged", "failed", "embedding_calls"] as const) {
            counts[k] += r.counts[k];
          }
          if (r.newest && (!cursor[stream] || r.newest > cursor[stream])) cursor[stream] = r.newest;
          page = r.next;
        } while (page);
      }
      current = "remove gone";
      counts.removed = await durableStep(step, current, () => job().removeGone(live));
      current = "finish";
      await durableStep(step, current, () => job().finish(counts, cursor));
      return counts;
    } catch (err) {
      const failure = failureOf(err, current);
      await step.do("record failure", STEP_CONFIG, async () => {
        await job().fail(counts, failure);
      });
      throw err;
    }
  }
}
