import type { AuditLog, AuditOutcome } from "../audit/audit-log";
import { ApiError } from "../errors/problem";
import type { Principal } from "../middleware/auth";
import type { ProviderId } from "./catalog";
import type { StoredCredential } from "./providers";
import type { Config } from "../config";
import type { Tenant } from "../tenant";
import { checkBudget, noteSpend } from "../usage/budget";
import { costNanos, formatUsd } from "../usage/prices";
import type { Usage } from "./types";

/** The tenant's stored credential for a provider (the key and its readable settings) and its Vault version. */
export interface TenantKey extends StoredCredential {
  provider: ProviderId;
  version: number;
}

/** What a provider call needs checked first: the tenant (its keys, budgets) and the config (budget cache time). */
export interface KeyUseDeps {
  config: Config;
  tenant: Tenant;
}

/**
 * The tenant's key for `provider`, or a 422 telling the admin exactly which key to add; and the
 * budgets that apply to the call (402 `budget_exceeded` when one is spent), checked side by side
 * with the key read so the check adds no round trip. Every provider call starts here.
 */
export async function requireProviderKey(deps: KeyUseDeps, provider: ProviderId): Promise<TenantKey> {
  const { principal, keys, usage } = deps.tenant;
  const [key, budget] = await Promise.allSettled([
    keys.useKey(provider),
    checkBudget({
      usage,
      principal,
      cacheSeconds: deps.config.usage.budgetCacheSeconds,
      apiKeyId: apiKeyIdOf(principal),
    }),
  ]);
  // A spent budget is the answer even when the key read failed too: the call would not be made either way.
  if (budget.status === "rejected") throw budget.reason;
  if (key.status === "rejected") throw key.reason;
  if (!key.value) {
    throw new ApiError(
      "provider_key_missing",
      `This tenant has no ${provider} key. Store an ${provider} key at POST /vault/keys/${provider}.`,
    );
  }
  return { provider, ...key.value };
}

/**
 * A call's usage as its key.use row carries it: tokens, and what they cost (`cost_usd`, a decimal
 * string computed from whole nano-dollars; null for a model src/usage/prices.ts does not price).
 * GET /usage and the budgets add these up in Postgres (README "Usage and budgets").
 */
function usageDetails(usage: Usage, cost: number | null) {
  return {
    prompt: usage.promptTokens,
    completion: usage.completionTokens,
    total: usage.totalTokens,
    cost_usd: cost === null ? null : formatUsd(cost),
  };
}

/**
 * Records one `key.use` row: which key version served which call and what it
 * consumed. Field names avoid "token"/"key" because the audit writer redacts those.
 */
export function recordKeyUse(
  audit: AuditLog,
  principal: Principal,
  use: {
    key: Pick<TenantKey, "provider" | "version">;
    purpose: "embedding" | "retrieval" | "chat";
    model: string;
    usage: Usage | null;
    outcome: AuditOutcome;
    extra?: Record<string, unknown>;
  },
): void {
  const cost = use.usage ? costNanos(use.model, use.usage) : null;
  if (cost) noteSpend(principal.tenantId, apiKeyIdOf(principal), cost);
  audit.record({
    tenantId: principal.tenantId,
    userId: principal.userId,
    action: "key.use",
    resourceType: "api_key",
    resourceId: use.key.provider,
    outcome: use.outcome,
    details: {
      vault_version: use.key.version,
      purpose: use.purpose,
      model: use.model,
      ...(use.usage ? { usage: usageDetails(use.usage, cost) } : {}),
      ...use.extra,
    },
  });
}

/** The tenant API key a call was made with (its budget applies and its usage is grouped under it); null for a JWT. */
export function apiKeyIdOf(principal: Principal): string | null {
  return principal.apiKey?.id ?? null;
}
