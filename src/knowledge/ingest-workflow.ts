import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { StepServices } from "../connectors/sync/services";
import { durableStep, failureOf, fatal, STEP_CONFIG } from "../connectors/sync/steps";
import { knowledgeJobs } from "../db/schema";
import type { Bindings } from "../env";
import { embedDocuments } from "./ingest";
import { IngestJobStore, type IngestParams, type JobRow } from "./jobs";
import { KnowledgeStore } from "./knowledge-store";

export interface JobCounts {
  chunks: number;
  embedding_calls: number;
}

/**
 * The work of each step of a large upload, built afresh inside every step.
 * Idempotent: the document ids were chosen with the job, so the write replaces
 * whatever an earlier attempt of the step left (old chunks out, new ones in, the job marked
 * succeeded, in one transaction per request); a job already marked succeeded
 * is not embedded again.
 */
export class IngestJob {
  private readonly services: StepServices;

  constructor(
    env: Bindings,
    readonly params: IngestParams,
    waitUntil: (p: Promise<unknown>) => void,
  ) {
    this.services = new StepServices(
      env,
      {
        tenantId: params.tenantId,
        userId: params.userId,
        instanceId: params.jobId,
        path: `knowledge-ingest/${params.jobId}`,
        log: { job_id: params.jobId },
      },
      waitUntil,
    );
  }

  /** Marks the job running once its documents' agent scopes are known to exist. */
  async start(): Promise<{ characters: number }> {
    const row = await this.load();
    if (row.status === "succeeded") return { characters: row.characters };
    const knowledge = new KnowledgeStore(this.services.db, this.params.tenantId);
    const agents = new Set((await this.jobs().texts(row)).flatMap((d) => (d.agentId ? [d.agentId] : [])));
    for (const agentId of agents) {
      if (!(await knowledge.agentExists(agentId))) {
        throw fatal(`No agent ${agentId} in this tenant (deleted after the upload).`, "not_found");
      }
    }
    await this.services.db
      .update(knowledgeJobs)
      .set({ status: "running", started_at: row.started_at ?? new Date() })
      .where(this.where());
    return { characters: row.characters };
  }

  /**
   * Chunks and embeds the text of every document (one provider call per 256
   * chunks), then writes the documents and the job's end together: the job is
   * marked succeeded (and the texts cleared) in the last request of the write.
   */
  async embedAndStore(): Promise<JobCounts> {
    const row = await this.load();
    if (row.status === "succeeded") return { chunks: row.chunks, embedding_calls: row.embedding_calls };
    const jobs = this.jobs();
    const texts = await jobs.texts(row);
    const inputs = texts.map(({ text, ...d }) => {
      if (text === null) throw fatal("The document's text is no longer held.", "content_missing");
      return { ...d, text };
    });
    const { db } = this.services;
    const { documents, empty, calls } = await embedDocuments(this.services.embedDeps(), inputs);
    if (documents.length === 0 || empty.length > 0)
      throw fatal("A document has no text to embed.", "validation_failed");
    const counts = { chunks: documents.reduce((n, d) => n + d.chunks.length, 0), embedding_calls: calls };
    const end = [
      ...jobs.storedStatements(row, new Map(documents.map((d) => [d.documentId, d.chunks.length]))),
      db
        .update(knowledgeJobs)
        .set({ status: "succeeded", ...counts, content: null, error: null, finished_at: new Date() })
        .where(this.where()),
    ];
    await new KnowledgeStore(db, this.params.tenantId).replace(
      documents.map((document, i) => ({
        document,
        replaces: document.documentId,
        also: i === documents.length - 1 ? end : [],
      })),
    );
    this.audit("success", row, { ...counts, documents: documents.length });
    return counts;
  }

  /** Records the failure; removes whatever part of the documents an attempt wrote, so nothing half-written stays searchable. */
  async fail(error: { step: string; code: string; message: string }): Promise<void> {
    const row = await this.load();
    const { db } = this.services;
    const jobs = this.jobs();
    await db.batch([
      jobs.removeDocuments(row),
      db
        .update(knowledgeJobs)
        .set({ status: "failed", content: null, error, finished_at: new Date() })
        .where(this.where()),
      jobs.clearTexts(row.id),
    ]);
    this.audit("error", row, { error: error.code, step: error.step });
  }

  private jobs() {
    return new IngestJobStore(this.services.db, this.params.tenantId);
  }

  private where() {
    return this.jobs().jobWhere(this.params.jobId);
  }

  private async load(): Promise<JobRow> {
    const [row] = await this.services.db.select().from(knowledgeJobs).where(this.where()).limit(1);
    if (!row) throw fatal("The job's record is missing.", "not_found");
    return row;
  }

  private audit(outcome: "success" | "error", row: JobRow, details: Record<string, unknown>) {
    this.services.auditLog().record({
      tenantId: this.params.tenantId,
      userId: this.params.userId,
      action: "knowledge.ingest",
      // A batch's row names the job (its documents are in the job); a single upload's names the document.
      resourceType: row.document_id ? "knowledge_document" : "knowledge_job",
      resourceId: row.document_id ?? row.id,
      outcome,
      details: { job_id: this.params.jobId, ...details },
    });
  }
}

/**
 * A large upload (one document, or a whole batch), stored off the request:
 * `start` (the job running, its agents checked), `embed and store` (chunked,
 * embedded with the tenant's OpenAI key, written with the job's end in the
 * same transaction). Steps retry with
 * backoff; the embedding provider's 429 is a durable sleep for its
 * Retry-After, then the step again (connectors/sync/steps.ts). A failure is
 * recorded on the job with its step and a stable code.
 */
export class KnowledgeIngestWorkflow extends WorkflowEntrypoint<Bindings, IngestParams> {
  override async run(event: Readonly<WorkflowEvent<IngestParams>>, step: WorkflowStep): Promise<JobCounts> {
    const job = () => new IngestJob(this.env, event.payload, (p) => this.ctx.waitUntil(p));
    let current = "start";
    try {
      await durableStep(step, current, () => job().start());
      current = "embed and store";
      return await durableStep(step, current, () => job().embedAndStore());
    } catch (err) {
      const failure = failureOf(err, current);
      await step.do("record failure", STEP_CONFIG, async () => {
        await job().fail(failure);
      });
      throw err;
    }
  }
}
