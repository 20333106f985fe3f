/**
 * Splitting documents for embedding.
 *
 * Size: 1,200 characters (≈ 300 tokens of English) per chunk, 200 characters
 * (≈ 50 tokens, one or two sentences) of overlap. Small enough that a chunk is
 * about one thing and several fit in a prompt as context, large enough to
 * keep a paragraph together; the overlap keeps a sentence cut at a boundary
 * findable from either side. Boundaries prefer a paragraph break, then a
 * sentence end, then whitespace, searched in the last third of the window.
 */
export const CHUNK_SIZE = 1200;
export const CHUNK_OVERLAP = 200;
/** Chunks per embeddings call: well under OpenAI's 2,048 inputs and 300k tokens for chunks of this size. */
export const INPUTS_PER_CALL = 256;

const BOUNDARIES = [/\n\s*\n/g, /[.!?。]["')\]]?\s/g, /\s/g];

/** Splits `text` into overlapping chunks; a text within one chunk's size stays whole. */
export function chunkText(text: string, size = CHUNK_SIZE, overlap = CHUNK_OVERLAP): string[] {
  if (overlap >= size) throw new RangeError("overlap must be smaller than size");
  const clean = text.replace(/\r\n?/g, "\n").trim();
  if (clean.length <= size) return clean ? [clean] : [];
  const chunks: string[] = [];
  let start = 0;
  while (start < clean.length) {
    let end = Math.min(start + size, clean.length);
    if (end < clean.length) end = breakPoint(clean, start + Math.floor((size * 2) / 3), end);
    const piece = clean.slice(start, end).trim();
    if (piece) chunks.push(piece);
    if (end >= clean.length) break;
    // Step back by the overlap, then forward to a word start so no chunk begins mid-word.
    let next = Math.max(end - overlap, start + 1);
    const space = clean.slice(next, end).search(/\s/);
    if (space >= 0) next += space + 1;
    start = next;
  }
  return chunks;
}

/** The last boundary in [from, to), by preference; `to` when there is none. */
function breakPoint(text: string, from: number, to: number): number {
  const window = text.slice(from, to);
  for (const re of BOUNDARIES) {
    let last = -1;
    for (const m of window.matchAll(re)) last = m.index + m[0].length;
    if (last > 0) return from + last;
  }
  return to;
}
