import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { type AuditSpec, auditTargetOf, auditUnwritten } from "../audit/audited";
import type { Config } from "../config";
import type { AppEnv } from "../env";
import { ApiError, isOpenAiPath } from "../errors/problem";
import { requireRole } from "../middleware/auth";
import { bearerOrApiKeySecurity, bearerSecurity, problemResponses } from "./openapi";

/** Who may call a route: anyone, any member of the token's tenant, or its admins (`admin`/`owner`). */
export type Role = "public" | "member" | "admin";

/** The settings a route's request body may be limited by (413 above). */
export type BodyLimitSetting = keyof Pick<Config, "maxBodyBytes" | "maxDocumentBodyBytes">;

/** What a route declares about its security, besides its OpenAPI shape. */
export type RouteSecurity =
  | { role: "public"; audit?: never }
  | {
      role: "member" | "admin";
      /** What its audit row is about: every authenticated call leaves one, whatever its outcome. */
      audit: AuditSpec;
    };

interface Declaration {
  /** Which setting limits the request body; `maxBodyBytes` unless named. Only routes with a body have a limit. */
  bodyLimit?: BodyLimitSetting;
  /**
   * The error statuses the handler itself can answer (404, 409, 422, 502, 503…). Those the declaration
   * implies are added: 400 (a request schema), 401 and 429 (authenticated), 403 (admin), 413 (a body).
   */
  errors?: number[];
}

type Base = Omit<RouteConfig, "path" | "middleware" | "security">;

/**
 * Declares a route once: its OpenAPI shape plus role, audit target and body limit. From that come
 * the route's middleware (audit target, then role, then body limit), the OpenAPI `security` and
 * error responses, the "Admins only." line of its description, and the shared authorization tests
 * (test/worker/authz.security.test.ts iterates the OpenAPI document).
 * Member and admin routes must be mounted on the authenticated router in app.ts; one mounted
 * elsewhere refuses every call (401), and the authz tests fail.
 */
export function defineRoute<P extends string, R extends Base & { path: P }>(declared: R & RouteSecurity & Declaration) {
  const { role, audit, bodyLimit: limit, errors = [], ...route } = declared;
  const request = route.request;
  const hasBody = !!request?.body;
  const statuses = new Set<number>();
  if (request?.body || request?.params || request?.query) statuses.add(400);
  if (role !== "public") statuses.add(401).add(429);
  if (role === "admin") statuses.add(403);
  if (hasBody) statuses.add(413);
  for (const s of errors) statuses.add(s);
  const responses = {
    ...route.responses,
    ...problemResponses(route.path, ...[...statuses].sort((a, b) => a - b)),
    // Typed as the declared responses only, as before: the typed client's results are the success bodies.
  } as R["responses"];
  const config: Omit<R, keyof RouteSecurity | keyof Declaration> & {
    middleware: [MiddlewareHandler<AppEnv>];
    security?: typeof bearerSecurity;
  } = {
    ...route,
    middleware: [guard(role, audit, hasBody ? (limit ?? "maxBodyBytes") : null)],
    responses,
  };
  if (role === "admin") config.description = joinSentences("Admins only.", route.description);
  // Tenant API keys are accepted where `authenticate` accepts them: /v1 only.
  if (role !== "public") config.security = isOpenAiPath(route.path) ? bearerOrApiKeySecurity : bearerSecurity;
  return createRoute(config);
}

const joinSentences = (first: string, rest: string | undefined) => (rest ? `${first} ${rest}` : first);

/**
 * The one middleware a declaration produces: names the audit target, checks the role, limits the
 * body, and afterwards makes sure the call left its audit row.
 */
function guard(role: Role, audit: AuditSpec | undefined, limit: BodyLimitSetting | null): MiddlewareHandler<AppEnv> {
  return createMiddleware<AppEnv>(async (c, next) => {
    // The target first, so a refusal below (403, 413) is audited like the handler's own failures.
    if (audit) c.set("auditTarget", auditTargetOf(c, audit));
    if (role !== "public") requireRole(c.get("tenant")?.principal, role);
    if (limit) {
      const maxSize = c.get("config")[limit];
      await bodyLimit({
        maxSize,
        onError: () => {
          throw new ApiError("payload_too_large", `Request bodies here are limited to ${maxSize} bytes.`);
        },
      })(c, next);
    } else {
      await next();
    }
    if (audit) auditUnwritten(c);
  });
}
