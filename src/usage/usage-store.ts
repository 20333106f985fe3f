import { and, asc, desc, eq, gte, isNull, lte, sql, type SQL } from "drizzle-orm";
import type { Database } from "../db/client";
import { usageBudgets, usageDaily } from "../db/schema";
import { formatUsd, nanosOf } from "./prices";

/** What GET /usage can group by, and the usage_daily column each one is. */
export const GROUP_BY = {
  day: usageDaily.day,
  model: usageDaily.model,
  agent: usageDaily.agent_id,
  user: usageDaily.user_id,
  api_key: usageDaily.api_key_id,
} as const;
export type GroupBy = keyof typeof GROUP_BY;

/** Most groups one answer lists (the biggest spenders first); totals always cover everything. */
export const MAX_GROUPS = 1000;

export interface UsageTotals {
  requests: number;
  failed_requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Exact decimal string (USD); calls of unpriced models are not in it. */
  cost_usd: string;
  /** Calls with tokens but no price (a model src/usage/prices.ts does not list). */
  unpriced_requests: number;
}

export interface UsageGroup extends UsageTotals {
  /** The day (YYYY-MM-DD), model, agent id, user id or API key id; null: none (e.g. no agent). */
  key: string | null;
}

export interface UsageReport {
  totals: UsageTotals;
  groups: UsageGroup[];
  truncated: boolean;
}

/** A monthly budget and what the current month has spent against it. */
export interface BudgetState {
  /** null: the tenant's budget; else the tenant API key it limits. */
  apiKeyId: string | null;
  limitNanos: number;
  spentNanos: number;
  updatedAt: string | null;
}

/** The first day (UTC) of the month `at` falls in, as YYYY-MM-DD. */
export const monthStart = (at: Date) => `${at.getUTCFullYear()}-${String(at.getUTCMonth() + 1).padStart(2, "0")}-01`;

/** Postgres sums of bigint come back as numeric text; they are whole numbers well within 2^53. */
const count = (v: unknown) => Number(v ?? 0);

/** A tenant's usage rollup and budgets. Every statement is filtered by tenant_id. */
export class UsageStore {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  /** Requests, tokens and cost per group over [from, to] (UTC days, both included), optionally one user's only. */
  async report(o: { from: string; to: string; groupBy: GroupBy; userId?: string }): Promise<UsageReport> {
    const dim = GROUP_BY[o.groupBy];
    const where = and(
      eq(usageDaily.tenant_id, this.tenantId),
      gte(usageDaily.day, o.from),
      lte(usageDaily.day, o.to),
      o.userId === undefined ? undefined : eq(usageDaily.user_id, o.userId),
    );
    const cost = sql<string>`sum(${usageDaily.cost_usd})`;
    // One statement: the groups and, as the grouping set (), the totals over all of them.
    const rows = await this.db
      .select({
        total: sql<number>`grouping(${dim})`.mapWith(Number),
        key: sql<string | null>`${dim}::text`,
        requests: sql`sum(${usageDaily.requests})`,
        failed_requests: sql`sum(${usageDaily.failed_requests})`,
        prompt_tokens: sql`sum(${usageDaily.prompt_tokens})`,
        completion_tokens: sql`sum(${usageDaily.completion_tokens})`,
        cost_usd: cost,
        unpriced_requests: sql`sum(${usageDaily.unpriced_requests})`,
      })
      .from(usageDaily)
      .where(where)
      .groupBy(sql`grouping sets ((${dim}), ())`)
      .orderBy(
        desc(sql`grouping(${dim})`),
        ...(o.groupBy === "day" ? [asc(dim)] : [desc(cost), desc(sql`sum(${usageDaily.requests})`), asc(dim)]),
      )
      .limit(MAX_GROUPS + 2);
    const toTotals = (r: (typeof rows)[number]): UsageTotals => ({
      requests: count(r.requests),
      failed_requests: count(r.failed_requests),
      prompt_tokens: count(r.prompt_tokens),
      completion_tokens: count(r.completion_tokens),
      total_tokens: count(r.prompt_tokens) + count(r.completion_tokens),
      cost_usd: formatUsd(nanosOf(r.cost_usd ?? "0")),
      unpriced_requests: count(r.unpriced_requests),
    });
    const totalRow = rows.find((r) => r.total === 1);
    const groupRows = rows.filter((r) => r.total === 0);
    return {
      totals: totalRow ? toTotals(totalRow) : toTotals({} as (typeof rows)[number]),
      groups: groupRows.slice(0, MAX_GROUPS).map((r) => ({ key: r.key, ...toTotals(r) })),
      truncated: groupRows.length > MAX_GROUPS,
    };
  }

  /**
   * The budgets that apply to a call (the tenant's, and `apiKeyId`'s when given) with the current
   * month's spend of each: one statement over the month's rollup rows (a few per day).
   * `apiKeyId` undefined: every budget of the tenant (the list).
   */
  async budgets(now: Date, apiKeyId?: string | null): Promise<BudgetState[]> {
    const scope: SQL | undefined =
      apiKeyId === undefined
        ? undefined
        : apiKeyId === null
          ? isNull(usageBudgets.api_key_id)
          : sql`(${usageBudgets.api_key_id} IS NULL OR ${usageBudgets.api_key_id} = ${apiKeyId})`;
    const rows = await this.db
      .select({
        apiKeyId: usageBudgets.api_key_id,
        limit: usageBudgets.monthly_limit_usd,
        updatedAt: usageBudgets.updated_at,
        spent: sql<string | null>`sum(${usageDaily.cost_usd})`,
      })
      .from(usageBudgets)
      .leftJoin(
        usageDaily,
        and(
          eq(usageDaily.tenant_id, usageBudgets.tenant_id),
          gte(usageDaily.day, monthStart(now)),
          sql`(${usageBudgets.api_key_id} IS NULL OR ${usageDaily.api_key_id} = ${usageBudgets.api_key_id})`,
        ),
      )
      .where(and(eq(usageBudgets.tenant_id, this.tenantId), scope))
      .groupBy(usageBudgets.api_key_id, usageBudgets.monthly_limit_usd, usageBudgets.updated_at)
      .orderBy(sql`${usageBudgets.api_key_id} NULLS FIRST`);
    return rows.map((r) => ({
      apiKeyId: r.apiKeyId,
      limitNanos: nanosOf(r.limit),
      spentNanos: nanosOf(r.spent ?? "0"),
      updatedAt: r.updatedAt.toISOString(),
    }));
  }

  /** Sets (creates or replaces) the monthly budget of the tenant (apiKeyId null) or of one API key. */
  async setBudget(apiKeyId: string | null, limitUsd: string, by: string): Promise<void> {
    await this.db
      .insert(usageBudgets)
      .values({ tenant_id: this.tenantId, api_key_id: apiKeyId, monthly_limit_usd: limitUsd, created_by: by })
      .onConflictDoUpdate({
        target: [usageBudgets.tenant_id, usageBudgets.api_key_id],
        set: { monthly_limit_usd: limitUsd },
      });
  }

  /** Removes a budget; false when there was none. */
  async deleteBudget(apiKeyId: string | null): Promise<boolean> {
    const deleted = await this.db
      .delete(usageBudgets)
      .where(
        and(
          eq(usageBudgets.tenant_id, this.tenantId),
          apiKeyId === null ? isNull(usageBudgets.api_key_id) : eq(usageBudgets.api_key_id, apiKeyId),
        ),
      )
      .returning({ t: usageBudgets.tenant_id });
    return deleted.length > 0;
  }
}
