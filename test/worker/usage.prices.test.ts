import { describe, expect, it } from "vitest";
import { LISTED_MODELS } from "../../src/llm/models";
import { PRICES, PRICES_AS_OF, costNanos, formatUsd, nanosOf, priceOf } from "../../src/usage/prices";

describe("the price table", () => {
  it("prices every listed model and nothing else, with a date", () => {
    const listed = Object.values(LISTED_MODELS)
      .flat()
      .map((m) => m.id)
      .sort();
    expect(Object.keys(PRICES).sort()).toEqual(listed);
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Number.isNaN(Date.parse(PRICES_AS_OF))).toBe(false);
  });

  it("every price is a whole number of nano-dollars per token (at most three decimals per 1M tokens)", () => {
    for (const price of Object.values(PRICES)) {
      for (const usdPer1M of Object.values(price)) {
        expect(usdPer1M).toBeGreaterThan(0);
        expect(Math.abs(usdPer1M * 1000 - Math.round(usdPer1M * 1000))).toBeLessThan(1e-6);
      }
    }
  });

  it("costs tokens exactly, snapshots at their alias's price, unknown models at null", () => {
    const usage = { promptTokens: 1_000_000, completionTokens: 1_000_000, totalTokens: 2_000_000 };
    expect(formatUsd(costNanos("gpt-4o-mini", usage)!)).toBe("0.75");
    expect(costNanos("gpt-4o-mini-2024-07-18", usage)).toBe(costNanos("gpt-4o-mini", usage));
    expect(costNanos("claude-sonnet-4-5-20250929", usage)).toBe(18_000_000_000);
    expect(formatUsd(costNanos("text-embedding-3-small", { ...usage, completionTokens: 0 })!)).toBe("0.02");
    expect(costNanos("gpt-3.5-turbo", usage)).toBeNull();
    expect(priceOf("gpt-4o-mini-mystery")).toBeNull();
    // 0.1 + 0.2 in floats is 0.30000000000000004; in nano-dollars it is exact.
    expect(formatUsd(nanosOf("0.1") + nanosOf("0.2"))).toBe("0.3");
    expect(formatUsd(7)).toBe("0.000000007");
    expect(nanosOf("12.500000000")).toBe(12_500_000_000);
  });
});
