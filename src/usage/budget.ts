import { ApiError } from "../errors/problem";
import type { Background } from "../lib/background";
import { refreshDue } from "../lib/isolate-cache";
import type { Principal } from "../middleware/auth";
import { formatUsd } from "./prices";
import { type BudgetState, monthStart, type UsageStore } from "./usage-store";

/**
 * The budget check before every provider call (README "Usage and budgets"). It must not add a round
 * trip to the hot path, so each isolate keeps, per (tenant, API key), the budgets that apply and
 * the month's spend for `USAGE_BUDGET_CACHE_SECONDS` (one statement to refresh it; a tenant
 * without budgets caches "none" the same way); past half that time a check re-reads it in the
 * background (`refresh`), so a tenant in steady use never waits for it. Between refreshes the isolate adds the cost of each
 * call it records itself (`noteSpend`), so one isolate never overshoots by more than the calls in
 * flight; other isolates' calls are seen at the next refresh, after the audit queue delivered
 * their rows (seconds). A budget set or removed here is seen here at once and elsewhere within
 * the cache time.
 */

interface Entry {
  month: string;
  fetchedAt: number;
  budgets: BudgetState[];
}

/** Per isolate: tenant → (API key id or "" for none) → the budgets and spend last read. */
const cache = new Map<string, Map<string, Entry | Promise<Entry>>>();
/** Entries being re-read ahead of their time now (one read each). */
const refreshing = new WeakSet<Entry>();
/** Tenants remembered at most; the oldest is forgotten first (a Map keeps insertion order). */
const MAX_TENANTS = 5000;

export interface BudgetCheck {
  usage: UsageStore;
  principal: Principal;
  cacheSeconds: number;
  /** The API key the call is made with (its budget applies too); null for a JWT. */
  apiKeyId: string | null;
  /** Where a fresh entry past half its time is re-read (the request's `waitUntil`); none: only when stale. */
  refresh?: Background;
  now?: Date;
}

async function load(c: BudgetCheck, now: Date): Promise<Entry> {
  const budgets = await c.usage.budgets(now, c.apiKeyId);
  return { month: monthStart(now), fetchedAt: now.getTime(), budgets };
}

/** The budgets that apply to this call, from the isolate's cache when fresh (concurrent misses share one read). */
async function budgetsFor(c: BudgetCheck, now: Date): Promise<BudgetState[]> {
  const tenant = c.principal.tenantId;
  let byKey = cache.get(tenant);
  if (!byKey) {
    if (cache.size >= MAX_TENANTS) cache.delete(cache.keys().next().value!);
    byKey = new Map();
    cache.set(tenant, byKey);
  }
  const slot = c.apiKeyId ?? "";
  const held = byKey.get(slot);
  if (held && !(held instanceof Promise)) {
    const age = now.getTime() - held.fetchedAt;
    const fresh = age < c.cacheSeconds * 1000 && held.month === monthStart(now);
    if (fresh && c.refresh && refreshDue(age, c.cacheSeconds * 1000) && !refreshing.has(held)) {
      refreshing.add(held);
      c.refresh(
        "budget.refresh",
        load(c, now).then((entry) => {
          // Spend this isolate noted meanwhile is in the rows the read saw, or arrives with the next refresh.
          if (byKey.get(slot) === held) byKey.set(slot, entry);
        }),
      );
    }
    if (fresh) return held.budgets;
  } else if (held) {
    return (await held).budgets;
  }
  const pending = load(c, now);
  byKey.set(slot, pending);
  try {
    const entry = await pending;
    if (byKey.get(slot) === pending) byKey.set(slot, entry);
    return entry.budgets;
  } catch (err) {
    if (byKey.get(slot) === pending) byKey.delete(slot);
    throw err;
  }
}

/** 402 `budget_exceeded` when a budget that applies to this call is spent; resolves otherwise. */
export async function checkBudget(c: BudgetCheck): Promise<void> {
  const now = c.now ?? new Date();
  const budgets = await budgetsFor(c, now);
  const spent = budgets.find((b) => b.spentNanos >= b.limitNanos);
  if (!spent) return;
  const month = monthStart(now).slice(0, 7);
  const which =
    spent.apiKeyId === null ? "The tenant's monthly budget" : `The monthly budget of API key ${spent.apiKeyId}`;
  const where = spent.apiKeyId === null ? "/usage/budgets/tenant" : `/usage/budgets/api-keys/${spent.apiKeyId}`;
  throw new ApiError(
    "budget_exceeded",
    `${which} of $${formatUsd(spent.limitNanos)} is spent ($${formatUsd(spent.spentNanos)} in ${month}, UTC). An admin can raise it with PUT ${where}; it resets on the 1st.`,
  );
}

/** Adds a call's cost to this isolate's cached spend of the tenant (and of the API key it used). */
export function noteSpend(tenantId: string, apiKeyId: string | null, nanos: number): void {
  const byKey = cache.get(tenantId);
  if (!byKey || nanos <= 0) return;
  for (const entry of byKey.values()) {
    if (entry instanceof Promise) continue;
    for (const b of entry.budgets) if (b.apiKeyId === null || b.apiKeyId === apiKeyId) b.spentNanos += nanos;
  }
}

/** Forgets what this isolate knows of a tenant's budgets (after an admin changed them). */
export function forgetBudgets(tenantId: string): void {
  cache.delete(tenantId);
}
