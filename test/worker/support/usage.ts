import { expect } from "vitest";
import { auditRows } from "./stack";

/**
 * Nano-dollars per token (input, output), written out from the providers' list prices per 1M tokens
 * (× 1,000), independently of src/usage/prices.ts.
 */
const NANOS_PER_TOKEN: Record<string, [number, number]> = {
  "gpt-4o": [2500, 10000],
  "gpt-4o-mini": [150, 600],
  "claude-sonnet-4-5": [3000, 15000],
  "text-embedding-3-small": [20, 0],
};

/** What `prompt` and `completion` tokens of `model` cost at its list price, in nano-dollars. */
export const expectedNanos = (model: string, prompt: number, completion: number) => {
  const [input, output] = NANOS_PER_TOKEN[model]!;
  return prompt * input + completion * output;
};

/** A decimal USD string as nano-dollars. */
export const nanos = (usd: string) => Math.round(Number(usd) * 1e9);

/** The tenant's key.use audit rows, oldest first. */
export const keyUses = async (tenant: string) => (await auditRows(tenant)).filter((r) => r.action === "key.use");

/** A key.use row's usage carries tokens and the cost of exactly those tokens at `model`'s price. */
export function expectPriced(use: any, model: string) {
  const u = use.details.usage;
  expect(typeof u.cost_usd).toBe("string");
  expect(u.cost_usd).toMatch(/^\d+(\.\d{1,9})?$/);
  expect(u.prompt).toBeGreaterThan(0);
  expect(nanos(u.cost_usd)).toBe(expectedNanos(model, u.prompt, u.completion ?? 0));
}
