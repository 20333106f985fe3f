import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { StepServices } from "../connectors/sync/services";
import { durableStep, failureOf, fatal, STEP_CONFIG } from "../connectors/sync/steps";
import { knowledgeJobs } from "../db/schema";
import type { Bindings } from "../env";
import { embedDocuments } from "./ingest";
import type { IngestParams, JobRow } from "./jobs";
import { KnowledgeStore } from "./knowledge-store";

export interface JobCounts {
  chunks: number;
  embedding_calls: number;
}

/**
 * The work of each step of a large upload, built afresh inside every step.
 * Idempotent: the document id is the job's, so the write replaces whatever an
 * earlier attempt of the step left (old chunks out, new ones in, the job marked
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

  /** Marks the job running once its agent scope is known to exist. */
  async start(): Promise<{ characters: number }> {
    const row = await this.load();
    if (row.status === "succeeded") return { characters: row.characters };
    const knowledge = new KnowledgeStore(this.services.db, this.params.tenantId);
    if (row.agent_id && !(await knowledge.agentExists(row.agent_id))) {
      throw fatal(`No agent ${row.agent_id} in this tenant (deleted after the upload).`, "not_found");
    }
    await this.services.db
      .update(knowledgeJobs)
      .set({ status: "running", started_at: row.started_at ?? new Date() })
      .where(this.where());
    return { characters: row.characters };
  }

  /** Chunks and embeds the text (one provider call per 256 chunks), then writes the document and the job's end together. */
  async embedAndStore(): Promise<JobCounts> {
    const row = await this.load();
    if (row.status === "succeeded") return { chunks: row.chunks, embedding_calls: row.embedding_calls };
    if (row.content === null) throw fatal("The document's text is no longer held.", "content_missing");
    const { db } = this.services;
    const { documents, calls } = await embedDocuments(this.services.embedDeps(), [
      {
        documentId: row.document_id,
        agentId: row.agent_id,
        title: row.title,
        metadata: row.metadata,
        text: row.content,
      },
    ]);
    const document = documents[0];
    if (!document) throw fatal("The document has no text to embed.", "validation_failed");
    const counts = { chunks: document.chunks.length, embedding_calls: calls };
    await new KnowledgeStore(db, this.params.tenantId).replace([
      {
        document,
        replaces: row.document_id,
        also: [
          db
            .update(knowledgeJobs)
            .set({ status: "succeeded", ...counts, content: null, error: null, finished_at: new Date() })
            .where(this.where()),
        ],
      },
    ]);
    this.audit("success", row.document_id, { ...counts });
    return counts;
  }

  /** Records the failure; removes whatever part of the document an attempt wrote, so nothing half-written stays searchable. */
  async fail(error: { step: string; code: string; message: string }): Promise<void> {
    const row = await this.load();
    const { db } = this.services;
    await db.batch([
      new KnowledgeStore(db, this.params.tenantId).removeStatement([row.document_id]),
      db
        .update(knowledgeJobs)
        .set({ status: "failed", content: null, error, finished_at: new Date() })
        .where(this.where()),
    ]);
    this.audit("error", row.document_id, { error: error.code, step: error.step });
  }

  private where() {
    return and(eq(knowledgeJobs.id, this.params.jobId), eq(knowledgeJobs.tenant_id, this.params.tenantId));
  }

  private async load(): Promise<JobRow> {
    const [row] = await this.services.db.select().from(knowledgeJobs).where(this.where()).limit(1);
    if (!row) throw fatal("The job's record is missing.", "not_found");
    return row;
  }

  private audit(outcome: "success" | "error", documentId: string, details: Record<string, unknown>) {
    this.services.auditLog().record({
      tenantId: this.params.tenantId,
      userId: this.params.userId,
      action: "knowledge.ingest",
      resourceType: "knowledge_document",
      resourceId: documentId,
      outcome,
      details: { job_id: this.params.jobId, ...details },
    });
  }
}

/**
 * A large upload, stored off the request: `start` (the job running, its agent
 * checked), `embed and store` (chunked, embedded with the tenant's OpenAI key,
 * written with the job's end in the same transaction). Steps retry with
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
