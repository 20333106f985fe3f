import { audited } from "../../audit/audited";
import { ApiError } from "../../errors/problem";
import { createRouter } from "../../lib/openapi";
import { forgetBudgets } from "../../usage/budget";
import { formatUsd, PRICES_AS_OF } from "../../usage/prices";
import { type BudgetState, monthStart } from "../../usage/usage-store";
import {
  deleteApiKeyBudget,
  deleteTenantBudget,
  getUsage,
  listBudgets,
  putApiKeyBudget,
  putTenantBudget,
} from "./usage.routes";

const today = (now: Date) => now.toISOString().slice(0, 10);

/** A budget in the API's shape, with this month's spend. */
function budgetBody(b: BudgetState, now: Date) {
  return {
    scope: b.apiKeyId === null ? ("tenant" as const) : ("api_key" as const),
    api_key_id: b.apiKeyId,
    monthly_limit_usd: formatUsd(b.limitNanos),
    month: monthStart(now).slice(0, 7),
    spent_usd: formatUsd(b.spentNanos),
    remaining_usd: formatUsd(Math.max(0, b.limitNanos - b.spentNanos)),
    exceeded: b.spentNanos >= b.limitNanos,
    updated_at: b.updatedAt,
  };
}

export const usageRouter = createRouter()
  .openapi(getUsage, async (c) => {
    const q = c.req.valid("query");
    return await audited(c, async (note) => {
      const now = new Date();
      const from = q.from ?? monthStart(now);
      const to = q.to ?? today(now);
      if (from > to)
        throw new ApiError("validation_failed", "to: to must not be before from", {
          errors: [{ path: "to", message: "to must not be before from" }],
        });
      const { usage, principal } = c.get("tenant");
      // Members see their own calls only; admins the tenant's.
      const scope = principal.isAdmin ? ("tenant" as const) : ("user" as const);
      Object.assign(note.details, { from, to, group_by: q.group_by, scope });
      const report = await usage.report({
        from,
        to,
        groupBy: q.group_by,
        ...(scope === "user" ? { userId: principal.userId } : {}),
      });
      return c.json(
        { from, to, group_by: q.group_by, scope, currency: "USD" as const, ...report, prices_as_of: PRICES_AS_OF },
        200,
      );
    });
  })
  .openapi(listBudgets, async (c) => {
    return await audited(c, async () => {
      const now = new Date();
      const budgets = await c.get("tenant").usage.budgets(now);
      return c.json({ budgets: budgets.map((b) => budgetBody(b, now)) }, 200);
    });
  })
  .openapi(putTenantBudget, async (c) => {
    const { monthly_limit_usd } = c.req.valid("json");
    return await audited(c, async (note) => {
      const { usage, principal } = c.get("tenant");
      note.details.monthly_limit_usd = monthly_limit_usd;
      await usage.setBudget(null, monthly_limit_usd, principal.userId);
      forgetBudgets(principal.tenantId);
      const now = new Date();
      const [budget] = await usage.budgets(now, null);
      return c.json(budgetBody(budget!, now), 200);
    });
  })
  .openapi(putApiKeyBudget, async (c) => {
    const { id } = c.req.valid("param");
    const { monthly_limit_usd } = c.req.valid("json");
    return await audited(c, async (note) => {
      const { usage, principal, apiKeys } = c.get("tenant");
      note.details.monthly_limit_usd = monthly_limit_usd;
      // Only a key of this tenant gets a budget (a revoked one may: its calls are refused anyway).
      if (!(await apiKeys.get(id))) throw new ApiError("not_found", `No API key ${id} in this tenant.`);
      await usage.setBudget(id, monthly_limit_usd, principal.userId);
      forgetBudgets(principal.tenantId);
      const now = new Date();
      const budget = (await usage.budgets(now, id)).find((b) => b.apiKeyId === id);
      return c.json(budgetBody(budget!, now), 200);
    });
  })
  .openapi(deleteApiKeyBudget, async (c) => {
    const { id } = c.req.valid("param");
    return await audited(c, async () => {
      const { usage, principal } = c.get("tenant");
      const deleted = await usage.deleteBudget(id);
      forgetBudgets(principal.tenantId);
      if (!deleted) throw new ApiError("not_found", `API key ${id} has no monthly budget.`);
      return c.body(null, 204);
    });
  })
  .openapi(deleteTenantBudget, async (c) => {
    return await audited(c, async () => {
      const { usage, principal } = c.get("tenant");
      const deleted = await usage.deleteBudget(null);
      forgetBudgets(principal.tenantId);
      if (!deleted) throw new ApiError("not_found", "This tenant has no monthly budget.");
      return c.body(null, 204);
    });
  });
