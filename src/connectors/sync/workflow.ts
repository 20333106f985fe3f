import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep, type WorkflowStepConfig } from "cloudflare:workers";
import { NonRetryableError } from "cloudflare:workflows";
import type { Bindings } from "../../env";
import { classify, failureOf, type RunCounts, SyncJob, type SyncParams, type Wait, zeroCounts } from "./sync-job";

type PageResult = Awaited<ReturnType<SyncJob["syncPage"]>>;

/**
 * Each step is retried with exponential backoff (5 s, 10 s, 20 s, 40 s, 80 s)
 * before the run fails; rate limits are not failures but waits (below).
 */
export const STEP_CONFIG: WorkflowStepConfig = {
  retries: { limit: 5, delay: "5 seconds", backoff: "exponential" },
  timeout: "5 minutes",
};
/** How many rate-limit waits one step may take before the run gives up. */
export const MAX_WAITS = 20;

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
      const plan = await this.step(step, "start", () => job().start());
      const live: string[] = [];
      const cursor = { ...plan.cursor };
      for (const stream of plan.streams) {
        let page: string | null = null;
        let n = 0;
        do {
          current = `ids ${stream} page ${++n}`;
          const from: string | null = page;
          const r: { ids: string[]; next: string | null } = await this.step(step, current, () =>
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
          const r: PageResult = await this.step(step, current, () => job().syncPage(stream, since, from));
          for (const k of ["seen", "added", "updated", "unchanged", "failed", "embedding_calls"] as const) {
            counts[k] += r.counts[k];
          }
          if (r.newest && (!cursor[stream] || r.newest > cursor[stream])) cursor[stream] = r.newest;
          page = r.next;
        } while (page);
      }
      current = "remove gone";
      counts.removed = await this.step(step, current, () => job().removeGone(live));
      current = "finish";
      await this.step(step, current, () => job().finish(counts, cursor));
      return counts;
    } catch (err) {
      const failure = failureOf(err, current);
      await step.do("record failure", STEP_CONFIG, async () => {
        await job().fail(counts, failure);
      });
      throw err;
    }
  }

  /**
   * A durable step whose failures are classified inside it (see `classify`);
   * a Wait answer becomes `step.sleep` and the step is tried again under a new name.
   */
  private async step<T>(step: WorkflowStep, name: string, fn: () => Promise<T>): Promise<T> {
    for (let waits = 0; ; waits++) {
      const label = waits === 0 ? name : `${name} (retry ${waits} after a wait)`;
      const out = (await step.do(label, STEP_CONFIG, async () => {
        try {
          return { ok: (await fn()) ?? null } as never;
        } catch (err) {
          const c = classify(err);
          if (c instanceof Error) throw c;
          return c as never;
        }
      })) as { ok: T } | Wait;
      if ("ok" in out) return out.ok;
      if (waits >= MAX_WAITS) {
        throw new NonRetryableError(`rate_limited: still rate limited after ${MAX_WAITS} waits.`, "rate_limited");
      }
      await step.sleep(`${name} wait ${waits + 1}`, out.waitSeconds * 1000);
    }
  }
}
