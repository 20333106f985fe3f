import { ApiError } from "../errors/problem";
import type { Logger } from "../lib/logger";

/** Why a provider call failed, as the gateway classifies it. The provider's body is never kept. */
export type ProviderFailure =
  | { kind: "key_rejected"; status: number }
  | { kind: "unavailable"; status: number | null; retryAfterSeconds: number | null; reason: string }
  | {
      kind: "refused";
      status: number;
      /**
       * The stored credential setting the provider refused (an Azure deployment it does not have, an
       * API version it does not support), with the gateway's own words for why: never upstream text.
       */
      setting?: { field: string; problem: string };
    };

/** A failed provider call; turned into a stable API error by {@link toApiError}. */
export class ProviderError extends Error {
  override readonly name = "ProviderError";
  /** A 401/403 that named a missing permission (scope) rather than a bad key. */
  scopeLimited = false;
  constructor(
    readonly provider: string,
    readonly failure: ProviderFailure,
    /** Log-safe (already redacted) upstream error type/message, for the log only. */
    readonly upstreamReason?: string,
  ) {
    super(
      `${provider} call failed: ${failure.kind}${"status" in failure && failure.status ? ` (${failure.status})` : ""}`,
    );
  }
}

/** A 200 whose body is not what `provider`'s API returns (`what`: the part that was wrong). */
export function malformedResponse(provider: string, what: string): ProviderError {
  return new ProviderError(provider, {
    kind: "unavailable",
    status: 200,
    retryAfterSeconds: null,
    reason: `malformed ${what}`,
  });
}

const DEFAULT_RETRY_AFTER = 5;
const MAX_RETRY_AFTER = 300;

/** The API error a tenant sees; says what to do, never what the provider said. */
export function toApiError(err: ProviderError): ApiError {
  const { provider, failure } = err;
  switch (failure.kind) {
    case "key_rejected":
      return new ApiError(
        "provider_key_rejected",
        `${provider} rejected the tenant's ${provider} key (HTTP ${failure.status}). An admin must replace it at POST /vault/keys/${provider}.`,
        { cause: err },
      );
    case "unavailable": {
      const retry = Math.min(Math.max(failure.retryAfterSeconds ?? DEFAULT_RETRY_AFTER, 1), MAX_RETRY_AFTER);
      return new ApiError(
        "provider_unavailable",
        `${provider} is rate limiting or unavailable; retry after ${retry} seconds.`,
        {
          headers: { "Retry-After": String(retry) },
          cause: err,
        },
      );
    }
    case "refused":
      if (failure.setting)
        return new ApiError(
          "provider_misconfigured",
          `${provider} refused the tenant's stored ${failure.setting.field}: ${failure.setting.problem}. An admin must correct it at POST /vault/keys/${provider}.`,
          { cause: err },
        );
      return new ApiError(
        "upstream_error",
        `${provider} refused the request (HTTP ${failure.status}); check the agent's llm_model and max_tokens.`,
        { cause: err },
      );
  }
}

/** The code a key.use audit row records for a failed provider call (`provider_<kind>`, or the API error's code). */
export function providerFailureCode(err: unknown): string {
  if (err instanceof ProviderError)
    return err.failure.kind === "refused" && err.failure.setting
      ? "provider_misconfigured"
      : `provider_${err.failure.kind}`;
  if (err instanceof ApiError) return err.code;
  // Anything can be thrown (a stream cancelled without a reason rejects with undefined).
  return err instanceof Error ? err.name : "unknown";
}

/** Logs the failure's redacted reason and returns the API error to throw. */
export function reportProviderError(err: ProviderError, logger: Logger): ApiError {
  logger.warn("provider.failed", { provider: err.provider, failure: err.failure, upstream: err.upstreamReason });
  return toApiError(err);
}

/** Seconds from a Retry-After header (delta-seconds or HTTP date); null when absent or unreadable. */
export function parseRetryAfter(value: string | null): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** Token-shaped strings, masked ones included (`sk-abc***wxyz`), wherever they appear. */
const KEYISH = /\b(?:sk|gsk|AIza|key)[-_A-Za-z0-9*]{4,}|\*{3,}[A-Za-z0-9_-]{0,8}/g;

/**
 * Removes the key — verbatim, masked or partial — from provider text before it
 * is logged. OpenAI's 401 message echoes a masked key; that is a leak too.
 */
export function redactSecret(text: string, secret: string): string {
  let out = text;
  if (secret.length >= 8) {
    out = out.split(secret).join("[redacted]");
    // Long fragments of the key (e.g. the prefix a mask keeps) go too.
    for (const part of [secret.slice(0, 12), secret.slice(-12)]) out = out.split(part).join("[redacted]");
  }
  return out.replace(KEYISH, "[redacted]");
}
