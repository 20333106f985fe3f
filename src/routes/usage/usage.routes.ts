import { jsonResponse } from "../../lib/openapi";
import { defineRoute } from "../../lib/route";
import { ApiKeyIdParam } from "../api-keys/api-keys.schemas";
import { BudgetBody, BudgetList, BudgetSchema, UsageQuery, UsageReportSchema } from "./usage.schemas";

const body = <T>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

export const getUsage = defineRoute({
  method: "get",
  path: "/usage",
  role: "member",
  audit: { action: "usage.read", resourceType: "usage" },
  tags: ["Usage"],
  summary: "Requests, tokens and cost per day, model, agent, user or API key",
  description:
    "Totals of the tenant's provider calls over a range of UTC days, grouped by `group_by`. Admins see the whole tenant; a member sees only their own calls (`scope: user`). Costs are exact decimal strings in USD.",
  request: { query: UsageQuery },
  responses: { 200: jsonResponse(UsageReportSchema, "The usage") },
  errors: [503],
});

export const listBudgets = defineRoute({
  method: "get",
  path: "/usage/budgets",
  role: "admin",
  audit: { action: "budget.list", resourceType: "budget" },
  tags: ["Usage"],
  summary: "The tenant's monthly budgets with this month's spend",
  responses: { 200: jsonResponse(BudgetList, "Budgets, the tenant's first") },
  errors: [503],
});

export const putTenantBudget = defineRoute({
  method: "put",
  path: "/usage/budgets/tenant",
  role: "admin",
  audit: { action: "budget.set", resourceType: "budget" },
  tags: ["Usage"],
  summary: "Set the tenant's monthly budget",
  description:
    "Provider calls are refused with 402 `budget_exceeded` (OpenAI-shaped on /v1) once this calendar month's (UTC) cost reaches the limit.",
  request: { body: body(BudgetBody) },
  responses: { 200: jsonResponse(BudgetSchema, "The budget") },
  errors: [503],
});

export const deleteTenantBudget = defineRoute({
  method: "delete",
  path: "/usage/budgets/tenant",
  role: "admin",
  audit: { action: "budget.delete", resourceType: "budget" },
  tags: ["Usage"],
  summary: "Remove the tenant's monthly budget",
  responses: { 204: { description: "Removed" } },
  errors: [404, 503],
});

export const putApiKeyBudget = defineRoute({
  method: "put",
  path: "/usage/budgets/api-keys/{id}",
  role: "admin",
  audit: { action: "budget.set", resourceType: "budget", param: "id" },
  tags: ["Usage"],
  summary: "Set a tenant API key's monthly budget",
  description:
    "Calls made with the key are refused with 402 `budget_exceeded` once this calendar month's (UTC) cost of the key's calls reaches the limit; the tenant's budget applies to them too.",
  request: { params: ApiKeyIdParam, body: body(BudgetBody) },
  responses: { 200: jsonResponse(BudgetSchema, "The budget") },
  errors: [404, 503],
});

export const deleteApiKeyBudget = defineRoute({
  method: "delete",
  path: "/usage/budgets/api-keys/{id}",
  role: "admin",
  audit: { action: "budget.delete", resourceType: "budget", param: "id" },
  tags: ["Usage"],
  summary: "Remove a tenant API key's monthly budget",
  request: { params: ApiKeyIdParam },
  responses: { 204: { description: "Removed" } },
  errors: [404, 503],
});
