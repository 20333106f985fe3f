import { isRecord } from "./http";
import { words } from "./text";

/** Limits of the real Embeddings endpoint that the stand-in enforces. */
export const EMBEDDING_LIMITS = { maxInputs: 2048, maxTokensPerInput: 8192, maxTokensPerRequest: 300_000 } as const;

/** Native dimensions per model; unknown models are treated like text-embedding-3-small. */
const NATIVE_DIMENSIONS: Record<string, number> = {
  "text-embedding-3-small": 1536,
  "text-embedding-3-large": 3072,
  "text-embedding-ada-002": 1536,
};
const DEFAULT_DIMENSIONS = 1536;
// ada-002 predates Matryoshka embeddings and rejects `dimensions`.
const FIXED_DIMENSION_MODELS = new Set(["text-embedding-ada-002"]);

// Function words are shared by almost any two English sentences; at full weight
// they would pull unrelated texts together, so they count for little.
const STOPWORDS = new Set(
  "a an and are as at be by for from has have i in is it its of on or that the this to was were will with you your we our".split(
    " ",
  ),
);
const STOPWORD_WEIGHT = 0.15;
const BIGRAM_WEIGHT = 0.5;

/** 32-bit FNV-1a over the UTF-8 bytes, seeded so bucket and sign use independent hashes. */
function fnv1a(text: string, seed: number): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

function addFeature(vector: Float64Array, feature: string, weight: number): void {
  const bucket = fnv1a(feature, 0) % vector.length;
  const sign = (fnv1a(feature, 0x9e3779b9) & 1) === 0 ? 1 : -1;
  vector[bucket] = (vector[bucket] ?? 0) + sign * weight;
}

/**
 * The deterministic embedding: lowercase words and word bigrams feature-hashed
 * into `dimensions` signed buckets, then L2-normalised. Texts sharing words have
 * clearly higher cosine similarity than unrelated ones, which are near orthogonal.
 */
export function embedText(text: string, dimensions: number): number[] {
  if (!Number.isInteger(dimensions) || dimensions < 1)
    throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`);
  const vector = new Float64Array(dimensions);
  const tokens = words(text);
  tokens.forEach((word, i) => {
    addFeature(vector, `w:${word}`, STOPWORDS.has(word) ? STOPWORD_WEIGHT : 1);
    const next = tokens[i + 1];
    if (next !== undefined) addFeature(vector, `b:${word} ${next}`, BIGRAM_WEIGHT);
  });
  // Punctuation-only text still gets a stable unit vector of its own.
  if (tokens.length === 0) addFeature(vector, `raw:${text}`, 1);
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  return Array.from(vector, (x) => (norm === 0 ? 0 : x / norm));
}

/** A validation failure, phrased for OpenAI's error envelope. */
export interface EmbeddingsRequestError {
  message: string;
  param: string | null;
  code: string | null;
}

/** A validated embeddings request. */
export interface EmbeddingsRequest {
  model: string;
  texts: string[];
  dimensions: number;
  encoding: "float" | "base64";
}

function isTokenArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((t) => Number.isInteger(t) && (t as number) >= 0);
}

/** Token-id input is embedded as the words `t<id>`, so equal ids embed equally. */
function tokenIdsToText(ids: number[]): string {
  return ids.map((id) => `t${id}`).join(" ");
}

function normaliseInput(input: unknown): string[] | EmbeddingsRequestError {
  const invalid: EmbeddingsRequestError = {
    message: "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
    param: null,
    code: null,
  };
  if (typeof input === "string") return input.length > 0 ? [input] : invalid;
  if (isTokenArray(input)) return [tokenIdsToText(input)];
  if (!Array.isArray(input) || input.length === 0) return invalid;
  if (input.length > EMBEDDING_LIMITS.maxInputs) {
    return {
      message: `Invalid 'input': array too long. Expected an array with maximum length ${EMBEDDING_LIMITS.maxInputs}, but got an array with length ${input.length} instead.`,
      param: "input",
      code: "array_above_max_length",
    };
  }
  const texts: string[] = [];
  for (const item of input) {
    if (typeof item === "string" && item.length > 0) texts.push(item);
    else if (isTokenArray(item)) texts.push(tokenIdsToText(item));
    else return invalid;
  }
  return texts;
}

/** Validate an embeddings body as OpenAI does; returns the request or the error to send as 400. */
export function parseEmbeddingsRequest(body: unknown): EmbeddingsRequest | EmbeddingsRequestError {
  if (!isRecord(body)) return { message: "Invalid body: expected a JSON object.", param: null, code: null };
  const { model, input, dimensions, encoding_format: encoding } = body;
  if (typeof model !== "string" || model.length === 0)
    return { message: "you must provide a model parameter", param: null, code: null };
  if (input === undefined)
    return { message: "Missing required parameter: 'input'.", param: "input", code: "missing_required_parameter" };
  const texts = normaliseInput(input);
  if (!Array.isArray(texts)) return texts;

  const native = NATIVE_DIMENSIONS[model] ?? DEFAULT_DIMENSIONS;
  let dims = native;
  if (dimensions !== undefined && dimensions !== null) {
    if (FIXED_DIMENSION_MODELS.has(model))
      return { message: "This model does not support specifying dimensions.", param: null, code: null };
    if (typeof dimensions !== "number" || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > native) {
      return {
        message: `Invalid value for 'dimensions' = ${JSON.stringify(dimensions)}. Must be an integer between 1 and ${native} for model ${model}.`,
        param: "dimensions",
        code: "invalid_value",
      };
    }
    dims = dimensions;
  }
  if (encoding !== undefined && encoding !== null && encoding !== "float" && encoding !== "base64") {
    return {
      message: `Invalid value: ${JSON.stringify(encoding)}. Supported values are: 'float' and 'base64'.`,
      param: "encoding_format",
      code: "invalid_value",
    };
  }

  let total = 0;
  for (const [i, text] of texts.entries()) {
    const tokens = words(text).length;
    if (tokens > EMBEDDING_LIMITS.maxTokensPerInput) {
      return {
        message: `This model's maximum context length is ${EMBEDDING_LIMITS.maxTokensPerInput} tokens, however you requested ${tokens} tokens (${tokens} in your prompt; 0 for the completion) in input ${i}. Please reduce your prompt; or completion length.`,
        param: null,
        code: null,
      };
    }
    total += tokens;
  }
  if (total > EMBEDDING_LIMITS.maxTokensPerRequest) {
    return {
      message: `Requested ${total} tokens, max ${EMBEDDING_LIMITS.maxTokensPerRequest} tokens per request`,
      param: null,
      code: "max_tokens_per_request",
    };
  }
  return { model, texts, dimensions: dims, encoding: encoding === "base64" ? "base64" : "float" };
}

/** Float32 little-endian bytes, base64-encoded: what OpenAI returns for `encoding_format: "base64"`. */
function toBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}

/** The response body in OpenAI's exact shape. */
export function embeddingsResponse(request: EmbeddingsRequest): unknown {
  const tokens = request.texts.reduce((sum, text) => sum + words(text).length, 0);
  return {
    object: "list",
    data: request.texts.map((text, index) => {
      const vector = embedText(text, request.dimensions);
      return { object: "embedding", index, embedding: request.encoding === "base64" ? toBase64(vector) : vector };
    }),
    model: request.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
