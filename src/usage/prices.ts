import type { ProviderId } from "../llm/catalog";
import { type ListedModelId, servesDeployments } from "../llm/models";
import type { Usage } from "../llm/types";

/**
 * What each listed model costs, in US dollars per 1M tokens: the providers' standard (non-batch,
 * uncached) list prices. Keyed by the ids of `LISTED_MODELS` (src/llm/models.ts): a listed model
 * without a price is a type error, a price for a model not listed is one too. Any other model id
 * is recorded with its tokens and `cost_usd: null` (README "Usage and budgets").
 *
 * A row keeps the cost computed when the call was made, so changing a price here changes future
 * rows only; bump PRICES_AS_OF with it.
 */
export const PRICES_AS_OF = "2026-12-01";

export const PRICE_SOURCES = {
  openai: "https://platform.openai.com/docs/pricing",
  anthropic: "https://docs.anthropic.com/en/docs/about-claude/pricing",
} as const;

/** USD per 1M tokens. Chat models: input (prompt) and output (completion); embedding models: their input. */
export type ModelPrice = { input: number; output: number } | { embedding: number };

export const PRICES: Record<ListedModelId, ModelPrice> = {
  "gpt-4o": { input: 2.5, output: 10 },
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "text-embedding-3-small": { embedding: 0.02 },
  "text-embedding-3-large": { embedding: 0.13 },
  "claude-opus-4-1": { input: 15, output: 75 },
  "claude-sonnet-4-5": { input: 3, output: 15 },
  "claude-haiku-4-5": { input: 1, output: 5 },
};

/**
 * USD per 1M tokens × 1,000 = nano-dollars (1e-9 USD) per token. List prices have at most three
 * decimals, so every per-token price is a whole number of nano-dollars and costs are integer sums:
 * no float is ever added up (usage.prices.test.ts checks that no price loses a digit here).
 */
const nanosPerToken = (usdPer1M: number) => Math.round(usdPer1M * 1000);

/** A dated snapshot of a listed model (`gpt-4o-mini-2024-07-18`, `claude-sonnet-4-5-20250929`) costs what its alias costs. */
const SNAPSHOT = /^(.+)-(\d{4}-\d{2}-\d{2}|\d{8})$/;

/** The price of `model`, or null when it is not in the table. */
export function priceOf(model: string): ModelPrice | null {
  const own = (PRICES as Record<string, ModelPrice>)[model];
  if (own) return own;
  const alias = SNAPSHOT.exec(model)?.[1];
  return alias ? ((PRICES as Record<string, ModelPrice>)[alias] ?? null) : null;
}

/**
 * The model a call is priced by, and what its key.use row says of it beside `model` (the name the
 * caller used). A call to a deployment (Azure OpenAI) names the deployment, not a model, so it is
 * priced by the model the provider says answered (`answeredBy`, e.g. `gpt-4o-mini-2024-07-18`),
 * recorded as `priced_model`; null when the answer named none: no cost, never a guess. Any other
 * call is priced by the model it asked for.
 */
export function pricedModel(
  provider: ProviderId,
  model: string,
  answeredBy: string | undefined,
): { model: string | null; details: { priced_model?: string | null } } {
  if (!servesDeployments(provider)) return { model, details: {} };
  const priced = answeredBy ?? null;
  return { model: priced, details: { priced_model: priced } };
}

/** What `usage` of `model` cost, in whole nano-dollars; null when the model has no price. */
export function costNanos(model: string, usage: Usage): number | null {
  const price = priceOf(model);
  if (!price) return null;
  if ("embedding" in price) return usage.promptTokens * nanosPerToken(price.embedding);
  return usage.promptTokens * nanosPerToken(price.input) + usage.completionTokens * nanosPerToken(price.output);
}

const NANOS = 1_000_000_000;

/** Nano-dollars as a decimal USD string without trailing zeros ("0.000012", "3", "12.5"). */
export function formatUsd(nanos: number): string {
  const sign = nanos < 0 ? "-" : "";
  const abs = Math.abs(nanos);
  const whole = Math.floor(abs / NANOS);
  const frac = String(abs % NANOS)
    .padStart(9, "0")
    .replace(/0+$/, "");
  return `${sign}${whole}${frac ? `.${frac}` : ""}`;
}

/** A decimal USD string (as Postgres' numeric prints it) as whole nano-dollars; digits past the ninth are dropped. */
export function nanosOf(usd: string): number {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(usd.trim());
  if (!m) throw new Error(`not a decimal amount: ${usd}`);
  const value = Number(m[2]) * NANOS + Number((m[3] ?? "").slice(0, 9).padEnd(9, "0"));
  return m[1] ? -value : value;
}
