/** Lowercase words (letters and digits, any script): the stand-in's notion of a token. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Token count as the stand-in reports it in `usage`: one token per word. */
export function countTokens(text: string): number {
  return words(text).length;
}

/**
 * Source names cited by retrieved context: every line of the system prompt that
 * starts with `[source: NAME]` (or `[source:NAME] …`) contributes NAME, in order,
 * without duplicates.
 */
export function citedSources(system: string): string[] {
  const names: string[] = [];
  for (const line of system.split(/\r?\n/)) {
    const match = /^\s*\[source:\s*([^\]]*?)\s*\]/i.exec(line);
    const name = match?.[1];
    if (name !== undefined && name.length > 0 && !names.includes(name)) names.push(name);
  }
  return names;
}

/** What the model "saw", reduced to the parts the deterministic answer depends on. */
export interface ChatInput {
  system: string;
  lastUserMessage: string;
}

/**
 * The deterministic answer: `Echo: <last user message>`, plus a sentence naming
 * the sources when the system prompt carries retrieved context. Tests assert on
 * it to prove what reached the model.
 */
export function answerFor(input: ChatInput): string {
  const sources = citedSources(input.system);
  const echo = `Echo: ${input.lastUserMessage}`;
  return sources.length === 0 ? echo : `${echo}\nSources consulted: ${sources.join(", ")}.`;
}

/** Result of applying a max-token budget to the answer. */
export interface Completion {
  text: string;
  tokens: number;
  truncated: boolean;
}

/** Cut the answer to at most `maxTokens` words, as a real model stops at its budget. */
export function limitTokens(text: string, maxTokens: number | undefined): Completion {
  const tokens = countTokens(text);
  if (maxTokens === undefined || tokens <= maxTokens) return { text, tokens, truncated: false };
  let seen = 0;
  let end = 0;
  for (const match of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    if (seen === maxTokens) break;
    seen += 1;
    end = (match.index ?? 0) + match[0].length;
  }
  return { text: text.slice(0, end), tokens: seen, truncated: true };
}

/**
 * Split text into streaming pieces (one word with its leading whitespace each),
 * so that concatenating the pieces gives back exactly the text.
 */
export function streamPieces(text: string): string[] {
  const pieces: string[] = text.match(/\s*\S+/g) ?? [];
  const covered = pieces.reduce((n, piece) => n + piece.length, 0);
  // Trailing whitespace (or an all-whitespace text) rides on the last piece.
  const rest = text.slice(covered);
  if (rest.length > 0) {
    if (pieces.length === 0) pieces.push(rest);
    else pieces[pieces.length - 1] += rest;
  }
  return pieces;
}
