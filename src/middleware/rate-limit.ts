import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError } from "../errors/problem";

/** The binding's window (wrangler.toml `[[ratelimits]]` period). */
const PERIOD_SECONDS = 60;

/** Per-tenant rate limit with the Workers rate limiting binding; runs after `authenticate`. */
export const tenantRateLimit = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const limiter = c.env.TENANT_RATE_LIMITER;
    if (limiter) {
      const { success } = await limiter.limit({ key: c.get("tenant").principal.tenantId });
      if (!success) {
        throw new ApiError("rate_limited", "Too many requests for this tenant; retry later.", {
          headers: { "Retry-After": String(PERIOD_SECONDS) },
        });
      }
    }
    await next();
  });
