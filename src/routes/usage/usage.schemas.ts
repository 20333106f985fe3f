import { z } from "../../lib/openapi";
import { GROUP_BY } from "../../usage/usage-store";

/** Longest range one GET /usage answers (a year, leap day included). */
export const MAX_RANGE_DAYS = 366;

const DAY_MS = 86_400_000;
const day = (what: string) =>
  z.iso
    .date()
    .optional()
    .openapi({ description: `${what} (YYYY-MM-DD, UTC, included).`, example: "2026-12-01" });

export const UsageQuery = z
  .object({
    from: day("First day; default: the 1st of the current month"),
    to: day("Last day; default: today"),
    group_by: z
      .enum(Object.keys(GROUP_BY) as [keyof typeof GROUP_BY, ...(keyof typeof GROUP_BY)[]])
      .default("day")
      .openapi({ description: "What each group is: a day, a model, an agent, a user or a tenant API key." }),
  })
  .superRefine((q, ctx) => {
    if (!q.from || !q.to) return;
    const span = (Date.parse(q.to) - Date.parse(q.from)) / DAY_MS;
    if (span < 0) ctx.addIssue({ code: "custom", path: ["to"], message: "to must not be before from" });
    else if (span >= MAX_RANGE_DAYS)
      ctx.addIssue({ code: "custom", path: ["to"], message: `a range covers at most ${MAX_RANGE_DAYS} days` });
  });

const Totals = {
  requests: z.number().int().openapi({ description: "Provider calls (key.use rows), failed ones included." }),
  failed_requests: z.number().int(),
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
  cost_usd: z
    .string()
    .openapi({ description: "Exact decimal USD from the price table at the time of each call.", example: "0.0123" }),
  unpriced_requests: z
    .number()
    .int()
    .openapi({ description: "Calls with tokens but no price (a model the price table lacks): not in cost_usd." }),
};

export const UsageReportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    group_by: z.string(),
    scope: z
      .enum(["tenant", "user"])
      .openapi({ description: "tenant for admins; user: a member sees their own calls." }),
    currency: z.literal("USD"),
    totals: z.object(Totals),
    groups: z.array(z.object({ key: z.string().nullable(), ...Totals })),
    truncated: z.boolean().openapi({ description: "More than 1,000 groups: the biggest spenders are listed." }),
    prices_as_of: z.string().openapi({ description: "The date of the price table new calls are priced with." }),
  })
  .openapi("UsageReport");

/** A monthly limit in USD with at most two decimals, as a string or a JSON number. */
const LimitUsd = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const s = typeof v === "number" ? String(v) : v.trim();
    if (!/^\d{1,9}(\.\d{1,2})?$/.test(s)) {
      ctx.addIssue({ code: "custom", message: "a USD amount from 0 to 999999999.99, at most two decimals" });
      return z.NEVER;
    }
    return s;
  })
  .openapi({ type: "string", example: "250.00" });

export const BudgetBody = z.object({ monthly_limit_usd: LimitUsd }).openapi("BudgetBody");

export const BudgetSchema = z
  .object({
    scope: z.enum(["tenant", "api_key"]),
    api_key_id: z.string().nullable(),
    monthly_limit_usd: z.string(),
    month: z.string().openapi({ example: "2026-12" }),
    spent_usd: z.string().openapi({ description: "This calendar month (UTC) so far, from the delivered audit rows." }),
    remaining_usd: z.string(),
    exceeded: z.boolean(),
    updated_at: z.string().nullable(),
  })
  .openapi("Budget");

export const BudgetList = z.object({ budgets: z.array(BudgetSchema) }).openapi("BudgetList");
