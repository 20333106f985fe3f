import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { auditRejected } from "./audit/audited";
import { ApiError, onError, problem } from "./errors/problem";
import { createRouter } from "./lib/openapi";
import { authenticate } from "./middleware/auth";
import { init } from "./middleware/init";
import { tenantRateLimit } from "./middleware/rate-limit";
import { getConfig } from "./config";
import { auditLogsRouter } from "./routes/audit-logs/audit-logs.index";
import { healthRouter, readyRouter } from "./routes/health/health.index";
import { keysRouter } from "./routes/keys/keys.index";
import { agentsRouter } from "./routes/agents/agents.index";
import { chatRouter } from "./routes/chat/chat.index";
import { connectorsRouter } from "./routes/connectors/connectors.index";
import { knowledgeRouter } from "./routes/knowledge/knowledge.index";
import { portalRouter } from "./routes/portal/portal.index";
import { usageRouter } from "./routes/usage/usage.index";
import { v1Router } from "./routes/v1/v1.index";
import { apiKeysRouter } from "./routes/api-keys/api-keys.index";

/**
 * Builds the app: public routes first (liveness and docs need no config), then the request services,
 * then the authenticated API.
 */
export function createApp() {
  const app = createRouter();
  // A caller's X-Request-Id is kept only if it is at most 128 of [A-Za-z0-9_=-]; otherwise a UUID is minted.
  app.use("*", requestId({ headerName: "X-Request-Id", limitLength: 128 }));
  app.use("*", secureHeaders({ crossOriginResourcePolicy: "same-site" }));
  const portalCors = cors({
    // Portal origins come from configuration; with none configured, no origin is allowed (never `*`).
    origin: (origin, c) => {
      try {
        return getConfig(c.env).corsOrigins.includes(origin) ? origin : null;
      } catch {
        return null;
      }
    },
    allowHeaders: ["Authorization", "Content-Type", "X-Request-Id"],
    allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    exposeHeaders: ["X-Request-Id", "Retry-After"],
    maxAge: 600,
  });
  app.use("*", async (c, next) => {
    // Only browsers send Origin: calls from code (the SDKs, curl) skip the CORS work, keeping `Vary`.
    if (c.req.header("origin") !== undefined) return await portalCors(c, next);
    await next();
    c.header("Vary", "Origin", { append: true });
  });

  app.route("/", healthRouter);
  // Generated at request time from every route registered on `app`; public, read by the /docs page (a static asset).
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Brain Gateway API",
      version: "1.0.0",
      description: "Edge API of the Brain multi-tenant AI agent platform.",
    },
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKeyAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "bgk_…",
    description: "A tenant API key (POST /api-keys), accepted on /v1/* only.",
  });

  app.use("*", init());
  app.route("/", readyRouter);
  // The BYOK page and, in development only, its sign-in; public, but they need config.
  app.route("/", portalRouter);

  app.notFound((c) => problem(c, new ApiError("not_found", "No such route.")));
  app.onError((err, c) => {
    const res = onError(err, c);
    auditRejected(c, err);
    return res;
  });
  // Mounted last: its authentication also answers every path no public route took (401 before 404).
  return app.route("/", authenticatedApi());
}

/**
 * Every route that needs a token, behind one authentication and per-tenant rate limit. A route's
 * role (member or admin), audit target and body limit come from its declaration (`defineRoute`).
 * Chained so the app's type carries every API route (the typed client is built from it).
 */
function authenticatedApi() {
  const api = createRouter();
  api.use(authenticate(), tenantRateLimit());
  return api
    .route("/", keysRouter)
    .route("/", auditLogsRouter)
    .route("/", agentsRouter)
    .route("/", knowledgeRouter)
    .route("/", chatRouter)
    .route("/", connectorsRouter)
    .route("/", apiKeysRouter)
    .route("/", v1Router)
    .route("/", usageRouter);
}

/** The API's type, for Hono's typed client (`hc<AppType>`). */
export type AppType = ReturnType<typeof createApp>;
