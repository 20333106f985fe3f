import { createMiddleware } from "hono/factory";
import { apiKeyLimiter } from "../api-keys/rate-limit";
import type { AppEnv } from "../env";
import { ApiError } from "../errors/problem";

/** The bindings' window (wrangler.toml `[[ratelimits]]` period). */
const PERIOD_SECONDS = 60;

const limited = (detail: string) =>
  new ApiError("rate_limited", detail, { headers: { "Retry-After": String(PERIOD_SECONDS) } });

/**
 * Per-tenant rate limit with the Workers rate limiting binding; runs after `authenticate`. A caller
 * using a tenant API key with a limit of its own is also counted against that key's binding (keyed by
 * the key's id; src/api-keys/rate-limit.ts), checked beside the tenant's.
 */
export const tenantRateLimit = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const { tenantId, apiKey } = c.get("tenant").principal;
    const perMinute = apiKey?.rateLimitPerMinute ?? null;
    const keyLimiter = perMinute === null ? undefined : apiKeyLimiter(c.env, perMinute);
    if (perMinute !== null && !keyLimiter) {
      // A key's limit is never silently dropped: without its binding the key is refused.
      c.get("logger").error("api_key.limiter_missing", { per_minute: perMinute });
      throw new ApiError("config_invalid", `the rate limiting binding for ${perMinute} requests per minute is missing`);
    }
    const [tenantOk, keyOk] = await Promise.all([
      c.env.TENANT_RATE_LIMITER
        ? c.env.TENANT_RATE_LIMITER.limit({ key: tenantId }).then((r: { success: boolean }) => r.success)
        : true,
      keyLimiter && apiKey ? keyLimiter.limit({ key: apiKey.id }).then((r) => r.success) : true,
    ]);
    if (!tenantOk) throw limited("Too many requests for this tenant; retry later.");
    if (!keyOk) throw limited(`Too many requests for this API key (${perMinute} per minute); retry later.`);
    await next();
  });
