import { createMiddleware } from "hono/factory";
import { cors } from "hono/cors";
import { getConfig } from "../config";
import type { AppEnv } from "../env";

/** hono's `secureHeaders()` defaults, with Cross-Origin-Resource-Policy relaxed to same-site for the portal. */
const SECURE_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ["Cross-Origin-Resource-Policy", "same-site"],
  ["Cross-Origin-Opener-Policy", "same-origin"],
  ["Origin-Agent-Cluster", "?1"],
  ["Referrer-Policy", "no-referrer"],
  ["Strict-Transport-Security", "max-age=15552000; includeSubDomains"],
  ["X-Content-Type-Options", "nosniff"],
  ["X-DNS-Prefetch-Control", "off"],
  ["X-Download-Options", "noopen"],
  ["X-Frame-Options", "SAMEORIGIN"],
  ["X-Permitted-Cross-Domain-Policies", "none"],
  ["X-XSS-Protection", "0"],
];
const EXPOSE_HEADERS = "X-Request-Id,Retry-After";

/** Portal origins come from configuration; with none configured, no origin is allowed (never `*`). */
function allowedOrigin(origin: string, env: AppEnv["Bindings"]): string | null {
  try {
    return getConfig(env).corsOrigins.includes(origin) ? origin : null;
  } catch {
    return null;
  }
}

/** Preflights: hono's CORS middleware answers them (204 with the allowed methods and headers). */
const preflight = cors({
  origin: (origin, c) => allowedOrigin(origin, c.env),
  allowHeaders: ["Authorization", "Content-Type", "X-Request-Id"],
  allowMethods: ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
  exposeHeaders: EXPOSE_HEADERS.split(","),
  maxAge: 600,
});

function setAll(headers: Headers, extra: ReadonlyArray<readonly [string, string]>): void {
  for (const [name, value] of extra) headers.set(name, value);
  for (const [name, value] of SECURE_HEADERS) headers.set(name, value);
  headers.delete("X-Powered-By");
}

/**
 * The request id, CORS and secure headers of every response, as hono's
 * `requestId` + `cors` + `secureHeaders` chain left them, set in one pass on the
 * final response. That chain made a placeholder Response before the handler,
 * copied it into the real one, then rebuilt that again for `Vary`: ~50 µs of
 * workerd CPU per request more than this (bench 1b). Preflights still go through
 * hono's `cors`. Registered right after `requestId()`, whose value it echoes.
 */
export const responseHeaders = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.method === "OPTIONS") {
      const res = await preflight(c, next);
      if (res) c.res = res;
      setAll(c.res.headers, []);
      return;
    }
    const extra: Array<[string, string]> = [["X-Request-Id", c.get("requestId")]];
    const origin = allowedOrigin(c.req.header("origin") || "", c.env);
    if (origin) extra.push(["Access-Control-Allow-Origin", origin]);
    extra.push(["Access-Control-Expose-Headers", EXPOSE_HEADERS]);
    await next();
    let res = c.res;
    try {
      res.headers.append("Vary", "Origin");
    } catch {
      // Immutable headers (a fetch() response passed through): copy once, as hono does.
      c.res = res = new Response(res.body, res);
      res.headers.append("Vary", "Origin");
    }
    setAll(res.headers, extra);
  });
