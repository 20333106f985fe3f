import { ApiError } from "../errors/problem";
import type { Usage } from "../llm/types";
import { chunkText } from "./chunking";
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

/**
 * Chunks, embeds (one provider round trip per 256 chunks) and stores documents.
 * Agents are checked first and the key before any write, so a refusal leaves nothing behind;
 * the batch is stored whole or not at all (see KnowledgeStore.insert).
 */
export async function ingestDocuments(
  deps: EmbedDeps,
  store: KnowledgeStore,
  inputs: DocumentInput[],
): Promise<{ documents: StoredDocument[]; usage: Usage }> {
  for (const agentId of new Set(inputs.map((d) => d.agent_id).filter((a): a is string => !!a))) {
    if (!(await store.agentExists(agentId))) throw new ApiError("not_found", `No agent ${agentId} in this tenant.`);
  }
  const chunked = inputs.map((d) => ({ input: d, pieces: chunkText(d.content) }));
  const { vectors, usage } = await embedTexts(
    deps,
    chunked.flatMap((d) => d.pieces),
    "embedding",
  );
  let next = 0;
  const docs: NewDocument[] = chunked.map(({ input, pieces }) => ({
    documentId: crypto.randomUUID(),
    agentId: input.agent_id ?? null,
    title: input.title ?? null,
    metadata: input.metadata ?? {},
    chunks: pieces.map((content) => ({ content, embedding: vectors[next++]! })),
  }));
  await store.insert(docs, deps.logger);
  return {
    documents: docs.map((d) => ({
      document_id: d.documentId,
      title: d.title,
      agent_id: d.agentId,
      chunks: d.chunks.length,
      characters: d.chunks.reduce((n, c) => n + c.content.length, 0),
    })),
    usage,
  };
}
