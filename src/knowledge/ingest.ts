import { ApiError } from "../errors/problem";
import type { Usage } from "../llm/types";
import { chunkText, INPUTS_PER_CALL } from "./chunking";
import { embedTexts, type EmbedDeps } from "./embedding";
import type { KnowledgeStore, NewDocument } from "./knowledge-store";

export interface DocumentInput {
  title?: string | null | undefined;
  content: string;
  agent_id?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export interface StoredDocument {
  document_id: string;
  title: string | null;
  agent_id: string | null;
  chunks: number;
  characters: number;
}

/** A document to chunk and embed, its id already chosen (a re-run then replaces it rather than adding another). */
export interface DocumentText {
  documentId: string;
  agentId: string | null;
  title: string | null;
  metadata: Record<string, unknown>;
  text: string;
}

/**
 * Chunks and embeds documents: the one path every write to knowledge takes (an
 * upload, a large upload's Workflow, a connector sync); the callers differ only
 * in how they store the result. One provider round trip per 256 chunks for all
 * of them together. A document whose text yields no chunk is left out (`empty`
 * holds its index).
 */
export async function embedDocuments(
  deps: EmbedDeps,
  inputs: DocumentText[],
): Promise<{ documents: NewDocument[]; empty: number[]; usage: Usage; calls: number }> {
  const chunked = inputs.map((d) => ({ input: d, pieces: chunkText(d.text) }));
  const texts = chunked.flatMap((d) => d.pieces);
  const empty = chunked.flatMap((d, i) => (d.pieces.length === 0 ? [i] : []));
  if (texts.length === 0) {
    return { documents: [], empty, usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 }, calls: 0 };
  }
  const { vectors, usage } = await embedTexts(deps, texts, "embedding");
  let next = 0;
  const documents: NewDocument[] = chunked
    .filter((d) => d.pieces.length > 0)
    .map(({ input, pieces }) => ({
      documentId: input.documentId,
      agentId: input.agentId,
      title: input.title,
      metadata: input.metadata,
      chunks: pieces.map((content) => ({ content, embedding: vectors[next++]! })),
    }));
  return { documents, empty, usage, calls: Math.ceil(texts.length / INPUTS_PER_CALL) };
}

/** The API's view of a stored document. */
export const storedDocument = (d: NewDocument): StoredDocument => ({
  document_id: d.documentId,
  title: d.title,
  agent_id: d.agentId,
  chunks: d.chunks.length,
  characters: d.chunks.reduce((n, c) => n + c.content.length, 0),
});

/** Refuses an agent scope the tenant does not have (404), before anything is embedded or stored. */
export async function requireAgents(store: KnowledgeStore, agentIds: Array<string | null | undefined>): Promise<void> {
  for (const agentId of new Set(agentIds.filter((a): a is string => !!a))) {
    if (!(await store.agentExists(agentId))) throw new ApiError("not_found", `No agent ${agentId} in this tenant.`);
  }
}

/**
 * Chunks, embeds and stores documents within the request.
 * Agents are checked first and the key before any write, so a refusal leaves nothing behind;
 * the batch is stored whole or not at all (see KnowledgeStore.insert).
 */
export async function ingestDocuments(
  deps: EmbedDeps,
  store: KnowledgeStore,
  inputs: DocumentInput[],
): Promise<{ documents: StoredDocument[]; usage: Usage }> {
  await requireAgents(
    store,
    inputs.map((d) => d.agent_id),
  );
  const { documents, usage } = await embedDocuments(
    deps,
    inputs.map((d) => ({
      documentId: crypto.randomUUID(),
      agentId: d.agent_id ?? null,
      title: d.title ?? null,
      metadata: d.metadata ?? {},
      text: d.content,
    })),
  );
  await store.insert(documents, deps.logger);
  return { documents: documents.map(storedDocument), usage };
}
