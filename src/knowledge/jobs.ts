import { and, eq, inArray } from "drizzle-orm";
import type { Database } from "../db/client";
import { knowledgeBase, knowledgeJobs } from "../db/schema";
import { ApiError } from "../errors/problem";
import type { DocumentInput } from "./ingest";

export type JobRow = typeof knowledgeJobs.$inferSelect;

/** What starts an ingest Workflow instance (its id is `jobId`). Never the text: params are stored by the engine and hold at most 1 MiB. */
export interface IngestParams {
  tenantId: string;
  jobId: string;
  /** Who uploaded the document. */
  userId: string;
}

/** The Workflow binding jobs are started through (wrangler.toml [[workflows]]): the methods used here. */
export interface IngestWorkflow {
  create(options: { id: string; params: IngestParams }): Promise<unknown>;
  get(id: string): Promise<{ status(): Promise<{ status: string }> }>;
}

/** A queued job whose Workflow instance the engine does not know after this long was never started. */
const LOST_AFTER_MS = 60_000;

/** A tenant's large-upload jobs. Every query is filtered by tenant_id. */
export class IngestJobStore {
  constructor(
    private readonly db: Database,
    private readonly tenantId: string,
  ) {}

  /**
   * Records the job (with the document's text, which the Workflow reads from
   * here) and starts its Workflow instance. The document id is chosen now, so
   * every attempt of the Workflow writes the same document.
   */
  async start(workflow: IngestWorkflow, userId: string, doc: DocumentInput): Promise<JobRow> {
    const id = crypto.randomUUID();
    const [row] = await this.db
      .insert(knowledgeJobs)
      .values({
        id,
        tenant_id: this.tenantId,
        document_id: crypto.randomUUID(),
        agent_id: doc.agent_id ?? null,
        title: doc.title ?? null,
        metadata: doc.metadata ?? {},
        content: doc.content,
        characters: doc.content.length,
        created_by: userId,
      })
      .returning();
    try {
      await workflow.create({ id, params: { tenantId: this.tenantId, jobId: id, userId } });
    } catch (err) {
      await this.db
        .update(knowledgeJobs)
        .set({
          status: "failed",
          content: null,
          error: { step: "engine", code: "engine_unavailable", message: "The workflow engine did not accept the job." },
          finished_at: new Date(),
        })
        .where(and(eq(knowledgeJobs.id, id), eq(knowledgeJobs.tenant_id, this.tenantId)));
      throw new ApiError("internal_error", "The upload could not be started; retry later.", { cause: err });
    }
    return row!;
  }

  /** The job, or undefined when this tenant has none of that id. */
  async get(id: string): Promise<JobRow | undefined> {
    const [row] = await this.db
      .select()
      .from(knowledgeJobs)
      .where(and(eq(knowledgeJobs.id, id), eq(knowledgeJobs.tenant_id, this.tenantId)))
      .limit(1);
    return row;
  }
  /**
   * A job that looks active but whose instance has ended without recording
   * its end (terminated, or lost by the engine) is closed as failed, and any
   * part of its document removed, so a reader is never told "running" forever.
   */
  async reconcile(workflow: IngestWorkflow, row: JobRow): Promise<JobRow> {
    if (row.status !== "queued" && row.status !== "running") return row;
    let ended: boolean;
    try {
      const { status } = await (await workflow.get(row.id)).status();
      ended = status === "errored" || status === "terminated" || status === "complete";
    } catch {
      ended = Date.now() - row.created_at.getTime() > LOST_AFTER_MS;
    }
    if (!ended) return row;
    const where = and(
      eq(knowledgeJobs.id, row.id),
      eq(knowledgeJobs.tenant_id, this.tenantId),
      inArray(knowledgeJobs.status, ["queued", "running"]),
    );
    await this.db.batch([
      this.db
        .delete(knowledgeBase)
        .where(and(eq(knowledgeBase.tenant_id, this.tenantId), eq(knowledgeBase.document_id, row.document_id))),
      this.db
        .update(knowledgeJobs)
        .set({
          status: "failed",
          content: null,
          error: { step: "engine", code: "job_lost", message: "The job ended without recording its result." },
          finished_at: new Date(),
        })
        .where(where),
    ]);
    return (await this.get(row.id)) ?? row;
  }
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** A job as the API reports it (never its text). */
export function toJob(r: JobRow) {
  return {
    job_id: r.id,
    document_id: r.document_id,
    status: r.status as "queued" | "running" | "succeeded" | "failed",
    title: r.title,
    agent_id: r.agent_id,
    characters: r.characters,
    chunks: r.chunks,
    embedding_calls: r.embedding_calls,
    error: r.error ?? null,
    created_at: r.created_at.toISOString(),
    started_at: iso(r.started_at),
    finished_at: iso(r.finished_at),
    duration_ms: r.started_at && r.finished_at ? r.finished_at.getTime() - r.started_at.getTime() : null,
  };
}
