/**
 * A key's own rate limit uses the same mechanism as the tenant's (src/middleware/rate-limit.ts): the
 * Workers rate limiting binding. A binding's limit is fixed in wrangler.toml (`[[ratelimits]]`), so
 * each allowed per-minute limit is a binding of its own, keyed by the API key's id; a key picks one.
 * test/docs/api-key-limits.test.ts checks wrangler.toml declares each with this limit and a 60 s period.
 */
export const API_KEY_RATE_LIMITS = {
  10: "API_KEY_RATE_LIMITER_10",
  30: "API_KEY_RATE_LIMITER_30",
  60: "API_KEY_RATE_LIMITER_60",
  120: "API_KEY_RATE_LIMITER_120",
  300: "API_KEY_RATE_LIMITER_300",
} as const satisfies Record<number, string>;

export type ApiKeyRateLimit = keyof typeof API_KEY_RATE_LIMITS;

/** The per-minute limits a key may have. */
export const API_KEY_RATE_LIMIT_TIERS = Object.keys(API_KEY_RATE_LIMITS).map(Number) as ApiKeyRateLimit[];

export const isApiKeyRateLimit = (n: number): n is ApiKeyRateLimit => n in API_KEY_RATE_LIMITS;

/**
 * The part of a rate limiting binding (`RateLimit`) used here, declared so that code reached from
 * browser code (the typed client imports the app's types) needs no Workers globals.
 */
export interface RateLimiter {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

/** The binding enforcing `perMinute`, if this deployment has it. */
export function apiKeyLimiter(env: object, perMinute: number): RateLimiter | undefined {
  if (!isApiKeyRateLimit(perMinute)) return undefined;
  return (env as Record<string, RateLimiter | undefined>)[API_KEY_RATE_LIMITS[perMinute]];
}
