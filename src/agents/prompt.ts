import type { SearchHit } from "../knowledge/knowledge-store";

/** Chunks retrieved per chat turn, and the cosine similarity below which a chunk only found by vectors is noise rather than context. */
export const CHAT_CONTEXT_CHUNKS = 5;
export const CHAT_MIN_SCORE = 0.2;

/**
 * Whether a retrieved chunk goes into the prompt. The cosine threshold applies
 * to chunks only the vector list found; a full-text match is kept whatever its
 * cosine, because it contains every term of the question (websearch_to_tsquery
 * ANDs them) — typically the exact error code or id asked about, which
 * embeddings place poorly. rank_score is no threshold: it is relative, and
 * some chunk is always first.
 */
export const isContext = (hit: SearchHit) => hit.score >= CHAT_MIN_SCORE || hit.text_rank !== null;

export interface Source {
  /** The name the model cites: `<title or document_id>#<chunk_index>`. */
  ref: string;
  document_id: string;
  chunk_index: number;
  title: string | null;
  /** Where the passage comes from, for documents synced by a connector (metadata.source_url); else null. */
  url: string | null;
  score: number;
}

export function toSource(hit: SearchHit): Source {
  const url = hit.metadata?.source_url;
  return {
    ref: `${hit.title ?? hit.document_id}#${hit.chunk_index}`,
    document_id: hit.document_id,
    chunk_index: hit.chunk_index,
    title: hit.title,
    url: typeof url === "string" && /^https?:\/\//.test(url) ? url : null,
    score: hit.score,
  };
}

/**
 * The system prompt: the agent's own prompt, then one line per retrieved chunk,
 * `[source: <name>#<chunk>] <text>`. Each chunk is flattened to one line so a
 * chunk cannot forge another source line by starting a line with `[source:`.
 */
export function buildSystemPrompt(agentPrompt: string, hits: SearchHit[]): string {
  if (hits.length === 0) return agentPrompt;
  const lines = hits.map((h) => {
    const source = toSource(h);
    // A synced document is cited with its URL so the answer can link to it.
    const name = source.url ? `${source.ref} ${source.url}` : source.ref;
    return `[source: ${name.replace(/[\]\n\r\s]+/g, " ")}] ${h.content.replace(/\s+/g, " ").trim()}`;
  });
  return [
    agentPrompt,
    "",
    "Context retrieved from the knowledge base follows, one passage per line. Use it when it is relevant and cite the [source: …] names you used.",
    ...lines,
  ].join("\n");
}

/** The text retrieval embeds: the latest user turn, with the previous one for follow-ups like "and the second one?". */
export function retrievalQuery(messages: Array<{ role: string; content: string }>): string {
  const users = messages.filter((m) => m.role === "user").slice(-2);
  return users
    .map((m) => m.content)
    .join("\n")
    .slice(-4000);
}
