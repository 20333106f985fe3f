import { audited } from "../../audit/audited";
import { ApiError } from "../../errors/problem";
import { embedDepsOf, embedTexts } from "../../knowledge/embedding";
import { ingestDocuments } from "../../knowledge/ingest";
import type { SearchScope } from "../../knowledge/knowledge-store";
import type { Usage } from "../../llm/types";
import { createRouter } from "../../lib/openapi";
import { addDocument, addDocuments, deleteDocument, listDocuments, searchKnowledge } from "./knowledge.routes";

const usageBody = (u: Usage) => ({ prompt_tokens: u.promptTokens, total_tokens: u.totalTokens });

/** Opaque page cursor: the last document's created_at and id. */
const encodeCursor = (c: { createdAt: string; documentId: string }) =>
  btoa(JSON.stringify([c.createdAt, c.documentId]))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

function decodeCursor(s: string): { createdAt: string; documentId: string } {
  try {
    const [createdAt, documentId] = JSON.parse(atob(s.replace(/-/g, "+").replace(/_/g, "/"))) as unknown[];
    if (
      typeof createdAt === "string" &&
      !Number.isNaN(Date.parse(createdAt)) &&
      typeof documentId === "string" &&
      /^[0-9a-f-]{36}$/.test(documentId)
    ) {
      return { createdAt, documentId };
    }
  } catch {
    // fall through
  }
  throw new ApiError("validation_failed", "cursor: cursor is the next_cursor of a previous page", {
    errors: [{ path: "cursor", message: "cursor is the next_cursor of a previous page" }],
  });
}

export const knowledgeRouter = createRouter()
  .openapi(addDocument, async (c) => {
    const body = c.req.valid("json");
    return await audited(c, async (note) => {
      const { documents, usage } = await ingestDocuments(embedDepsOf(c), c.get("tenant").knowledge, [body]);
      const doc = documents[0]!;
      Object.assign(note.details, { document_id: doc.document_id, agent_id: doc.agent_id, chunks: doc.chunks });
      return c.json({ ...doc, usage: usageBody(usage) }, 201);
    });
  })
  .openapi(addDocuments, async (c) => {
    const body = c.req.valid("json");
    return await audited(c, async (note) => {
      const { documents, usage } = await ingestDocuments(embedDepsOf(c), c.get("tenant").knowledge, body.documents);
      Object.assign(note.details, {
        document_ids: documents.map((d) => d.document_id),
        chunks: documents.reduce((n, d) => n + d.chunks, 0),
      });
      return c.json({ documents, usage: usageBody(usage) }, 201);
    });
  })
  .openapi(listDocuments, async (c) => {
    const { agent_id, limit, cursor } = c.req.valid("query");
    return await audited(c, async (note) => {
      const page = await c
        .get("tenant")
        .knowledge.list({ agentId: agent_id, limit, cursor: cursor ? decodeCursor(cursor) : undefined });
      note.details.count = page.items.length;
      return c.json({ items: page.items, next_cursor: page.next ? encodeCursor(page.next) : null }, 200);
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
  .openapi(searchKnowledge, async (c) => {
    const { query, agent_id, k } = c.req.valid("json");
    return await audited(c, async (note) => {
      const { knowledge } = c.get("tenant");
      const scope: SearchScope = agent_id ? { kind: "agent", agentId: agent_id } : { kind: "tenant" };
      // Two independent database reads side by side; the scope's size picks the search plan.
      const [exists, scopeSize] = await Promise.all([
        agent_id ? knowledge.agentExists(agent_id) : true,
        knowledge.scopeSize(scope),
      ]);
      if (!exists) throw new ApiError("not_found", `No agent ${agent_id} in this tenant.`);
      const { vectors, usage } = await embedTexts(embedDepsOf(c), [query], "retrieval");
      const results = await knowledge.search(vectors[0]!, query, scope, k, scopeSize);
      Object.assign(note.details, { agent_id: agent_id ?? null, k, results: results.length });
      return c.json({ results, usage: usageBody(usage) }, 200);
    });
  });
