import type { AuditLog, AuditOutcome } from "../audit/audit-log";
import { ApiError } from "../errors/problem";
import type { KeyStore } from "../keys/key-store";
import type { Principal } from "../middleware/auth";
import type { ProviderId } from "./catalog";
import type { StoredCredential } from "./providers";
import type { Usage } from "./types";

/** The tenant's stored credential for a provider (the key and its readable settings) and its Vault version. */
export interface TenantKey extends StoredCredential {
  provider: ProviderId;
  version: number;
}

/** The tenant's key for `provider`, or a 422 telling the admin exactly which key to add. */
export async function requireProviderKey(keys: KeyStore, provider: ProviderId): Promise<TenantKey> {
  const key = await keys.useKey(provider);
  if (!key) {
    throw new ApiError(
      "provider_key_missing",
      `This tenant has no ${provider} key. Store an ${provider} key at POST /vault/keys/${provider}.`,
    );
  }
  return { provider, ...key };
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
      ...(use.usage
        ? {
            usage: {
              prompt: use.usage.promptTokens,
              completion: use.usage.completionTokens,
              total: use.usage.totalTokens,
            },
          }
        : {}),
      ...use.extra,
    },
  });
}
