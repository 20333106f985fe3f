import type { AuditLog, AuditOutcome } from "../audit/audit-log";
import { ApiError } from "../errors/problem";
import type { Principal } from "../middleware/auth";
import type { ProviderId } from "./catalog";
import { recordedModel } from "./models";
import type { StoredCredential } from "./providers";
import type { Config } from "../config";
import type { Tenant } from "../tenant";
import { checkBudget, noteSpend } from "../usage/budget";
import { costNanos, formatUsd, pricedModel } from "../usage/prices";
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
      refresh: deps.tenant.background,
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
  // Past the expires_at the tenant gave when storing it: refused before the provider, naming the key to replace.
  const { expiresAt, version } = key.value;
  if (expiresAt && expiresAt.getTime() <= Date.now()) {
    throw new ApiError(
      "provider_key_expired",
      `This tenant's ${provider} key (version ${version}) expired at ${expiresAt.toISOString()}, the expires_at given when it was stored. An admin must store a new ${provider} key at POST /vault/keys/${provider}.`,
    );
  }
  return { provider, ...key.value };
}

/** The code a use's `extra.error` carries when the provider refused the key (401/403): see `providerFailureCode`. */
const KEY_REJECTED = "provider_key_rejected";

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
 * And on the key's record, off the response's path: `last_used_at`, and `verification:
 * rejected` when the provider refused the key (`extra.error` = provider_key_rejected).
 */
export function recordKeyUse(
  audit: AuditLog,
  tenant: Pick<Tenant, "principal" | "keys">,
  use: {
    key: Pick<TenantKey, "provider" | "version">;
    purpose: "embedding" | "retrieval" | "chat";
    /** The model asked for; for a provider that serves deployments, the deployment called (`recordedModel`). */
    model: string;
    usage: Usage | null;
    /** The model the provider's answer named (a deployment's call is priced by it: `pricedModel`). */
    answeredBy?: string;
    outcome: AuditOutcome;
    extra?: Record<string, unknown>;
  },
): void {
  const { principal } = tenant;
  tenant.keys.noteUse(use.key.provider, use.key.version, { rejected: use.extra?.error === KEY_REJECTED });
  const priced = pricedModel(use.key.provider, use.model, use.answeredBy);
  const cost = use.usage && priced.model !== null ? costNanos(priced.model, use.usage) : null;
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
      model: recordedModel(use.key.provider, use.model),
      ...priced.details,
      ...(use.usage ? { usage: usageDetails(use.usage, cost) } : {}),
      ...use.extra,
    },
  });
}

/** The tenant API key a call was made with (its budget applies and its usage is grouped under it); null for a JWT. */
export function apiKeyIdOf(principal: Principal): string | null {
  return principal.apiKey?.id ?? null;
}
