import type { Context } from "hono";
import { type AuditNote, audited } from "../../audit/audited";
import type { Config } from "../../config";
import { EMBEDDING_DIMENSIONS } from "../../db/schema";
import type { AppEnv } from "../../env";
import { ApiError } from "../../errors/problem";
import {
  embedDepsOf,
  embeddingTarget,
  embeddingUsageBody,
  embedTexts,
  requireEmbeddingKey,
} from "../../knowledge/embedding";
import { type DocumentInput, ingestDocuments, requireAgents } from "../../knowledge/ingest";
import { toJob } from "../../knowledge/jobs";
import type { SearchScope } from "../../knowledge/knowledge-store";
import type { EmbeddingChoice } from "../../knowledge/settings";
import { decodeCursor, encodeCursor, isRowId } from "../../lib/cursor";
import { createRouter } from "../../lib/openapi";
import {
  addDocument,
  addDocuments,
  deleteDocument,
  getJob,
  getKnowledgeSettings,
  listDocuments,
  listJobs,
  searchKnowledge,
  setKnowledgeSettings,
} from "./knowledge.routes";

/** Postgres' text for a timestamptz (four-digit years only), as the list query returns created_at. */
const PG_TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)$/;
const isPgTime = (s: string) => PG_TIME.test(s) && !Number.isNaN(Date.parse(s));

/** The position a page ends at: the last document's (or job's) created_at and id. */
const CURSOR_PARTS = [isPgTime, isRowId] as const;
const fromCursor = ([createdAt, documentId]: readonly [string, string]) => ({ createdAt, documentId });
/** A jobs page ends at the last job's created_at and id. */
const jobCursor = ([createdAt, id]: readonly [string, string]) => ({ createdAt, id });

/**
 * Takes documents off the request: one job (and one Workflow instance) for a
 * single upload or for a whole batch, answered 202 with Location. What the job
 * could not do is refused first, as for a synchronous upload: an unknown agent
 * (404), no key for the tenant's embedding provider (422).
 */
async function startJob(c: Context<AppEnv>, note: AuditNote, docs: DocumentInput[], batch: boolean) {
  const tenant = c.get("tenant");
  await requireAgents(
    tenant.knowledge,
    docs.map((d) => d.agent_id),
  );
  await requireEmbeddingKey(embedDepsOf(c));
  const { row, documents } = await tenant.knowledgeJobs.start(
    c.env.KNOWLEDGE_INGEST,
    tenant.principal.userId,
    docs,
    batch,
  );
  Object.assign(
    note.details,
    { job_id: row.id, characters: row.characters },
    batch
      ? { document_ids: documents.map((d) => d.document_id) }
      : { document_id: row.document_id, agent_id: row.agent_id },
  );
  c.header("Location", `/knowledge/jobs/${row.id}`);
  return c.json(toJob(row, documents), 202);
}

/** The settings as the API reports them. */
function settingsBody(config: Config, s: { embedding: EmbeddingChoice; updatedAt: Date | null }) {
  return {
    embedding_provider: s.embedding.provider,
    embedding_deployment: s.embedding.provider === "azure-openai" ? s.embedding.deployment : null,
    embedding_model: embeddingTarget(config, s.embedding).model,
    dimensions: EMBEDDING_DIMENSIONS,
    updated_at: s.updatedAt?.toISOString() ?? null,
  };
}

/** A short text the embedding check sends: it proves the key, the deployment and the vectors' width. */
const EMBEDDING_CHECK_TEXT = "Brain Gateway embedding check.";

export const knowledgeRouter = createRouter()
  .openapi(addDocument, async (c) => {
    const { async: offRequest, ...body } = c.req.valid("json");
    return await audited(c, async (note) => {
      if (offRequest || body.content.length > c.get("config").knowledgeAsyncAboveChars) {
        return await startJob(c, note, [body], false);
      }
      const { documents, usage } = await ingestDocuments(embedDepsOf(c), c.get("tenant").knowledge, [body]);
      const doc = documents[0]!;
      Object.assign(note.details, { document_id: doc.document_id, agent_id: doc.agent_id, chunks: doc.chunks });
      return c.json({ ...doc, usage: embeddingUsageBody(usage) }, 201);
    });
  })
  .openapi(addDocuments, async (c) => {
    const { async: offRequest, documents: inputs } = c.req.valid("json");
    return await audited(c, async (note) => {
      const threshold = c.get("config").knowledgeAsyncAboveChars;
      if (offRequest || inputs.some((d) => d.content.length > threshold)) {
        return await startJob(c, note, inputs, true);
      }
      const { documents, usage } = await ingestDocuments(embedDepsOf(c), c.get("tenant").knowledge, inputs);
      Object.assign(note.details, {
        document_ids: documents.map((d) => d.document_id),
        chunks: documents.reduce((n, d) => n + d.chunks, 0),
      });
      return c.json({ documents, usage: embeddingUsageBody(usage) }, 201);
    });
  })
  .openapi(listDocuments, async (c) => {
    const { agent_id, limit, cursor } = c.req.valid("query");
    return await audited(c, async (note) => {
      const page = await c.get("tenant").knowledge.list({
        agentId: agent_id,
        limit,
        cursor: cursor ? fromCursor(decodeCursor(cursor, CURSOR_PARTS)) : undefined,
      });
      note.details.count = page.items.length;
      return c.json(
        {
          items: page.items,
          next_cursor: page.next ? encodeCursor([page.next.createdAt, page.next.documentId]) : null,
        },
        200,
      );
    });
  })
  .openapi(deleteDocument, async (c) => {
    const { document_id } = c.req.valid("param");
    return await audited(c, async (note) => {
      const chunks = await c.get("tenant").knowledge.remove(document_id);
      if (chunks === 0) throw new ApiError("not_found", `No document ${document_id} in this tenant.`);
      note.details.chunks = chunks;
      return c.json({ status: "success" as const, document_id, deleted: true as const, chunks }, 200);
    });
  })
  .openapi(listJobs, async (c) => {
    const { status, limit, cursor } = c.req.valid("query");
    return await audited(c, async (note) => {
      const page = await c.get("tenant").knowledgeJobs.list(c.env.KNOWLEDGE_INGEST, {
        status,
        limit,
        cursor: cursor ? jobCursor(decodeCursor(cursor, CURSOR_PARTS)) : undefined,
      });
      Object.assign(note.details, { count: page.items.length, status: status ?? null });
      return c.json(
        { items: page.items, next_cursor: page.next ? encodeCursor([page.next.createdAt, page.next.id]) : null },
        200,
      );
    });
  })
  .openapi(getJob, async (c) => {
    const { job_id } = c.req.valid("param");
    return await audited(c, async () => {
      const jobs = c.get("tenant").knowledgeJobs;
      const job = await jobs.get(job_id);
      if (!job) throw new ApiError("not_found", `No job ${job_id} in this tenant.`);
      return c.json(await jobs.view(await jobs.reconcile(c.env.KNOWLEDGE_INGEST, job)), 200);
    });
  })
  .openapi(searchKnowledge, async (c) => {
    const { query, agent_id, k } = c.req.valid("json");
    return await audited(c, async (note) => {
      const { knowledge } = c.get("tenant");
      const scope: SearchScope = agent_id ? { kind: "agent", agentId: agent_id } : { kind: "tenant" };
      // Two independent database reads side by side; the scope's size picks the search plan.
      const [exists, scopeSize, embedding] = await Promise.all([
        agent_id ? knowledge.agentExists(agent_id) : true,
        knowledge.scopeSize(scope),
        c.get("tenant").knowledgeSettings.embedding(),
      ]);
      if (!exists) throw new ApiError("not_found", `No agent ${agent_id} in this tenant.`);
      const { vectors, usage } = await embedTexts(embedDepsOf(c), [query], "retrieval", {}, embedding);
      const results = await knowledge.search(vectors[0]!, query, scope, k, scopeSize);
      Object.assign(note.details, { agent_id: agent_id ?? null, k, results: results.length });
      return c.json({ results, usage: embeddingUsageBody(usage) }, 200);
    });
  })
  .openapi(getKnowledgeSettings, async (c) => {
    return await audited(c, async () => {
      return c.json(settingsBody(c.get("config"), await c.get("tenant").knowledgeSettings.get()), 200);
    });
  })
  .openapi(setKnowledgeSettings, async (c) => {
    const body = c.req.valid("json");
    return await audited(c, async (note) => {
      const tenant = c.get("tenant");
      const choice: EmbeddingChoice =
        body.embedding_provider === "azure-openai"
          ? { provider: "azure-openai", deployment: body.embedding_deployment! }
          : { provider: "openai" };
      const changed = await tenant.knowledgeSettings.changes(choice);
      Object.assign(note.details, {
        embedding_provider: choice.provider,
        embedding_deployment: body.embedding_deployment ?? null,
        changed,
      });
      if (changed && (await tenant.knowledgeSettings.embeddingInUse())) {
        throw new ApiError(
          "knowledge_not_empty",
          "This tenant's knowledge is embedded with its current embedding provider, and vectors of two models cannot be searched together. " +
            "Delete its documents (and let upload jobs and connector syncs finish) before choosing another.",
        );
      }
      // One embedding with the new choice: the key, the deployment and the vectors' width, before anything is stored.
      await embedTexts(embedDepsOf(c), [EMBEDDING_CHECK_TEXT], "embedding", { check: "knowledge.settings" }, choice);
      const stored = await tenant.knowledgeSettings.setEmbedding(choice, tenant.principal.userId);
      return c.json(settingsBody(c.get("config"), stored), 200);
    });
  });
