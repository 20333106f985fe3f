import { and, asc, desc, eq, getTableColumns, inArray, isNotNull, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { knowledgeBase, knowledgeJobDocuments, knowledgeJobs } from "../db/schema";
import { ApiError } from "../errors/problem";
import type { DocumentInput, DocumentText } from "./ingest";

export type JobRow = typeof knowledgeJobs.$inferSelect;
/** A job without its text: what reads for the API load. */
export type JobRecord = Omit<JobRow, "content">;
const { content: _text, ...JOB_COLUMNS } = getTableColumns(knowledgeJobs);
export const JOB_STATUSES = ["queued", "running", "succeeded", "failed"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** One document of a job as the API reports it (never its text). */
export interface JobDocument {
  document_id: string;
  title: string | null;
  agent_id: string | null;
  characters: number;
  chunks: number;
}

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

/** Active jobs of one list page checked with the engine (one call each); later lists check the rest. */
const RECONCILE_PER_LIST = 10;

/** A single upload's job carries its one document in its own row; a batch's (document_id null) are its knowledge_job_documents rows. */
const isBatch = (row: JobRecord) => row.document_id === null;

/** A tenant's large-upload jobs. Every query is filtered by tenant_id. */
export class IngestJobStore {
  constructor(
    private readonly db: Database,
    private readonly tenantId: string,
  ) {}

  /**
   * Records the job (with the documents' text, which the Workflow reads from
   * here) and starts its Workflow instance. Document ids are chosen now, so
   * every attempt of the Workflow writes the same documents. `batch`: the
   * documents of POST /knowledge/documents/batch, one job for all of them;
   * otherwise exactly one document.
   */
  async start(
    workflow: IngestWorkflow,
    userId: string,
    docs: DocumentInput[],
    batch: boolean,
  ): Promise<{ row: JobRow; documents: JobDocument[] }> {
    const id = crypto.randomUUID();
    const single = batch ? undefined : docs[0];
    const insertJob = this.db
      .insert(knowledgeJobs)
      .values({
        id,
        tenant_id: this.tenantId,
        document_id: single ? crypto.randomUUID() : null,
        agent_id: single?.agent_id ?? null,
        title: single?.title ?? null,
        metadata: single?.metadata ?? {},
        content: single?.content ?? null,
        characters: docs.reduce((n, d) => n + d.content.length, 0),
        created_by: userId,
      })
      .returning();
    let row: JobRow;
    let documents: JobDocument[];
    if (single) {
      [row] = (await insertJob) as [JobRow];
      documents = ownDocument(row);
    } else {
      const children = docs.map((d, position) => ({
        job_id: id,
        tenant_id: this.tenantId,
        position,
        document_id: crypto.randomUUID(),
        agent_id: d.agent_id ?? null,
        title: d.title ?? null,
        metadata: d.metadata ?? {},
        content: d.content,
        characters: d.content.length,
      }));
      // One transaction: the job never exists without its documents.
      const [jobRows] = await this.db.batch([insertJob, this.db.insert(knowledgeJobDocuments).values(children)]);
      row = jobRows[0]!;
      documents = children.map(({ document_id, title, agent_id, characters }) => ({
        document_id,
        title,
        agent_id,
        characters,
        chunks: 0,
      }));
    }
    try {
      await workflow.create({ id, params: { tenantId: this.tenantId, jobId: id, userId } });
    } catch (err) {
      await this.db.batch([
        this.db
          .update(knowledgeJobs)
          .set({
            status: "failed",
            content: null,
            error: {
              step: "engine",
              code: "engine_unavailable",
              message: "The workflow engine did not accept the job.",
            },
            finished_at: new Date(),
          })
          .where(this.jobWhere(id)),
        this.clearTexts(id),
      ]);
      throw new ApiError("internal_error", "The upload could not be started; retry later.", { cause: err });
    }
    return { row, documents };
  }

  /** The job (without its text), or undefined when this tenant has none of that id. */
  async get(id: string): Promise<JobRecord | undefined> {
    const [row] = await this.db.select(JOB_COLUMNS).from(knowledgeJobs).where(this.jobWhere(id)).limit(1);
    return row;
  }

  /**
   * The tenant's jobs, newest first (created_at, then id), optionally of one
   * status; `cursor` continues after the last one seen. Active jobs whose
   * instance ended unrecorded are closed on the way (at most RECONCILE_PER_LIST
   * per page) and left out if they no longer match the status asked for.
   */
  async list(
    workflow: IngestWorkflow,
    opts: { status?: JobStatus | undefined; limit: number; cursor?: { createdAt: string; id: string } | undefined },
  ) {
    const j = knowledgeJobs;
    const filters: SQL[] = [eq(j.tenant_id, this.tenantId)];
    if (opts.status) filters.push(eq(j.status, opts.status));
    if (opts.cursor) {
      filters.push(sql`(${j.created_at}, ${j.id}) < (${opts.cursor.createdAt}::timestamptz, ${opts.cursor.id}::uuid)`);
    }
    const rows = await this.db
      .select({ row: JOB_COLUMNS, position: sql<string>`${j.created_at}::text` })
      .from(j)
      .where(and(...filters))
      .orderBy(desc(j.created_at), desc(j.id))
      .limit(opts.limit + 1);
    const page = rows.slice(0, opts.limit);
    const last = page.at(-1);
    let checks = 0;
    const current: JobRecord[] = [];
    for (const { row } of page) {
      const active = row.status === "queued" || row.status === "running";
      const now = active && checks++ < RECONCILE_PER_LIST ? await this.reconcile(workflow, row) : row;
      if (!opts.status || now.status === opts.status) current.push(now);
    }
    const documents = await this.documents(current);
    return {
      items: current.map((r) => toJob(r, documents.get(r.id) ?? [])),
      next: rows.length > opts.limit && last ? { createdAt: last.position, id: last.row.id } : null,
    };
  }

  /** The documents of each job (one query for all the batches among them), in upload order. */
  async documents(rows: JobRecord[]): Promise<Map<string, JobDocument[]>> {
    const out = new Map<string, JobDocument[]>();
    const batches: string[] = [];
    for (const r of rows) {
      if (isBatch(r)) {
        batches.push(r.id);
        out.set(r.id, []);
      } else out.set(r.id, ownDocument(r));
    }
    if (batches.length === 0) return out;
    const d = knowledgeJobDocuments;
    const children = await this.db
      .select({
        job_id: d.job_id,
        document_id: d.document_id,
        title: d.title,
        agent_id: d.agent_id,
        characters: d.characters,
        chunks: d.chunks,
      })
      .from(d)
      .where(and(eq(d.tenant_id, this.tenantId), inArray(d.job_id, batches)))
      .orderBy(asc(d.job_id), asc(d.position));
    for (const { job_id, ...doc } of children) out.get(job_id)!.push(doc);
    return out;
  }

  /** The job as the API reports it, its documents included. */
  async view(row: JobRecord) {
    return toJob(row, (await this.documents([row])).get(row.id) ?? []);
  }

  /**
   * A job that looks active but whose instance has ended without recording
   * its end (terminated, or lost by the engine) is closed as failed, and any
   * part of its documents removed, so a reader is never told "running" forever.
   */
  async reconcile(workflow: IngestWorkflow, row: JobRecord): Promise<JobRecord> {
    if (row.status !== "queued" && row.status !== "running") return row;
    let ended: boolean;
    try {
      const { status } = await (await workflow.get(row.id)).status();
      ended = status === "errored" || status === "terminated" || status === "complete";
    } catch {
      ended = Date.now() - row.created_at.getTime() > LOST_AFTER_MS;
    }
    if (!ended) return row;
    await this.db.batch([
      this.removeDocuments(row),
      this.db
        .update(knowledgeJobs)
        .set({
          status: "failed",
          content: null,
          error: { step: "engine", code: "job_lost", message: "The job ended without recording its result." },
          finished_at: new Date(),
        })
        .where(and(this.jobWhere(row.id), inArray(knowledgeJobs.status, ["queued", "running"]))),
      this.clearTexts(row.id),
    ]);
    return (await this.get(row.id)) ?? row;
  }

  /** The job's documents to chunk and embed, with their text (null once stored), in upload order. */
  async texts(row: JobRow): Promise<Array<Omit<DocumentText, "text"> & { text: string | null }>> {
    if (!isBatch(row)) {
      return [
        {
          documentId: row.document_id!,
          agentId: row.agent_id,
          title: row.title,
          metadata: row.metadata,
          text: row.content,
        },
      ];
    }
    const d = knowledgeJobDocuments;
    const children = await this.db
      .select()
      .from(d)
      .where(and(eq(d.tenant_id, this.tenantId), eq(d.job_id, row.id)))
      .orderBy(asc(d.position));
    return children.map((c) => ({
      documentId: c.document_id,
      agentId: c.agent_id,
      title: c.title,
      metadata: c.metadata,
      text: c.content,
    }));
  }

  /**
   * The statements that record a batch's documents as stored (their chunk
   * counts, their text cleared), for the same transaction as the job's end.
   * Nothing for a single upload (its row holds both).
   */
  storedStatements(row: JobRecord, chunks: Map<string, number>) {
    if (!isBatch(row)) return [];
    const d = knowledgeJobDocuments;
    return [...chunks].map(([documentId, n]) =>
      this.db
        .update(d)
        .set({ chunks: n, content: null })
        .where(and(eq(d.tenant_id, this.tenantId), eq(d.job_id, row.id), eq(d.document_id, documentId))),
    );
  }

  /** The DELETE of every chunk the job's documents have (an attempt's partial write included). */
  removeDocuments(row: JobRecord) {
    const kb = knowledgeBase;
    const d = knowledgeJobDocuments;
    const ids = isBatch(row)
      ? inArray(
          kb.document_id,
          this.db
            .select({ id: d.document_id })
            .from(d)
            .where(and(eq(d.tenant_id, this.tenantId), eq(d.job_id, row.id))),
        )
      : eq(kb.document_id, row.document_id!);
    return this.db.delete(kb).where(and(eq(kb.tenant_id, this.tenantId), ids));
  }

  /** Clears the text a batch's documents still hold (a job that ended). */
  clearTexts(jobId: string) {
    const d = knowledgeJobDocuments;
    return this.db
      .update(d)
      .set({ content: null })
      .where(and(eq(d.tenant_id, this.tenantId), eq(d.job_id, jobId), isNotNull(d.content)));
  }

  /** This tenant's job of that id. */
  jobWhere(id: string) {
    return and(eq(knowledgeJobs.id, id), eq(knowledgeJobs.tenant_id, this.tenantId));
  }
}

/** A single upload's one document, from its job row. */
const ownDocument = (r: JobRecord): JobDocument[] => [
  { document_id: r.document_id!, title: r.title, agent_id: r.agent_id, characters: r.characters, chunks: r.chunks },
];

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** A job as the API reports it (never its text). */
export function toJob(r: JobRecord, documents: JobDocument[]) {
  return {
    job_id: r.id,
    kind: isBatch(r) ? ("batch" as const) : ("document" as const),
    document_id: r.document_id,
    status: r.status as JobStatus,
    title: r.title,
    agent_id: r.agent_id,
    characters: r.characters,
    chunks: r.chunks,
    embedding_calls: r.embedding_calls,
    documents,
    error: r.error ?? null,
    created_at: r.created_at.toISOString(),
    started_at: iso(r.started_at),
    finished_at: iso(r.finished_at),
    duration_ms: r.started_at && r.finished_at ? r.finished_at.getTime() - r.started_at.getTime() : null,
  };
}
