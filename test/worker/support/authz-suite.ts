import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { mintToken, newTenant } from "./tokens";
import { call, type CallOptions } from "./worker";

/** A route as the OpenAPI document states it: what its declaration (`defineRoute`) produced. */
export interface DocumentedRoute {
  method: string;
  /** The OpenAPI path, e.g. `/agents/{agent_id}`. */
  path: string;
  /** A callable path: every parameter replaced by a probe value (refused before validation anyway). */
  url: string;
  authenticated: boolean;
  adminOnly: boolean;
  description: string;
  hasBody: boolean;
  errorStatuses: number[];
  /** The media type and schema name of each documented error response, e.g. `application/problem+json Problem`. */
  errorShapes: string[];
}

/** Every route of the app's OpenAPI document, built from the same `createApp()` the Worker serves. */
export function documentedRoutes(): DocumentedRoute[] {
  const doc = createApp().getOpenAPI31Document({ openapi: "3.1.0", info: { title: "authz", version: "0" } });
  return Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item as Record<string, any>).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      url: path.replace(/\{[^}]+\}/g, "authz-probe"),
      authenticated: (op.security ?? []).length > 0,
      adminOnly: "403" in op.responses,
      description: op.description ?? "",
      hasBody: !!op.requestBody,
      errorStatuses: Object.keys(op.responses)
        .map(Number)
        .filter((s) => s >= 400),
      errorShapes: Object.entries(op.responses as Record<string, any>)
        .filter(([status]) => Number(status) >= 400)
        .flatMap(([, response]) =>
          Object.entries(response.content ?? {}).map(
            ([type, media]: [string, any]) =>
              `${type} ${String(media.schema?.$ref ?? "")
                .split("/")
                .at(-1)}`,
          ),
        ),
    })),
  );
}

/** The error shapes a route's document may declare: OpenAI's on the OpenAI-compatible paths, problem+json elsewhere. */
const OPENAI_ERROR = "application/json OpenAiError";
const PROBLEM = "application/problem+json Problem";

/** The error as the route answers it: problem+json, or OpenAI's `{"error": …}` on /v1 (same status and code). */
function errorOf(r: { res: Response; json: any }, path: string): { code: string; detail: string } {
  if (path.startsWith("/v1/")) {
    expect(r.res.headers.get("content-type")).toBe("application/json");
    expect(Object.keys(r.json)).toEqual(["error"]);
    return { code: r.json.error.code, detail: r.json.error.message };
  }
  expect(r.res.headers.get("content-type")).toBe("application/problem+json");
  return { code: r.json.code, detail: r.json.detail };
}

function expectUnauthorized(r: { status: number; res: Response; json: any }, code: string, path: string) {
  expect(r.status).toBe(401);
  expect(r.res.headers.get("www-authenticate")).toMatch(/^Bearer realm="brain-gateway"/);
  expect(errorOf(r, path).code).toBe(code);
}

/** A limiter binding that refuses every call, as the real one does once a tenant is over its limit. */
const exhaustedLimiter = { limit: async () => ({ success: false }) } as unknown as RateLimit;

/**
 * The authorization checks every authenticated route must pass: no token, bad tokens of every
 * kind, the wrong role, the tenant's rate limit; and what its OpenAPI entry promises. Tenant
 * isolation is asserted per resource in each route's security tests.
 */
export function authorizationSuite(route: DocumentedRoute) {
  // No body: authentication and the role are checked before the input is validated.
  const send = (o: CallOptions) => call(route.method, route.url, o);

  describe(`authorization: ${route.method} ${route.path}`, () => {
    it("documents what its declaration implies", () => {
      expect(route.errorStatuses).toEqual(expect.arrayContaining([401, 429]));
      expect(route.description.startsWith("Admins only.")).toBe(route.adminOnly);
      if (route.hasBody) expect(route.errorStatuses).toContain(413);
      // Every error it declares has the shape it answers with (errorOf below checks the answers).
      const shape = route.path.startsWith("/v1/") ? OPENAI_ERROR : PROBLEM;
      expect(route.errorShapes.length).toBe(route.errorStatuses.length);
      expect(new Set(route.errorShapes)).toEqual(new Set([shape]));
    });

    it("401 without a token", async () => {
      expectUnauthorized(await send({ token: null }), "unauthenticated", route.url);
    });

    it("401 for a malformed Authorization header", async () => {
      expectUnauthorized(
        await send({ token: null, headers: { authorization: "Basic Zm9vOmJhcg==" } }),
        "unauthenticated",
        route.url,
      );
    });

    it.each([
      ["a wrong signature", { secret: "another-secret-that-is-long-enough-0123456789" }],
      ["an expired token", { expiresIn: Math.floor(Date.now() / 1000) - 120 }],
      ["a wrong issuer", { issuer: "https://evil.example" }],
      ["a wrong audience", { audience: "someone-else" }],
      ["no tenant claim", { claims: { tenant_id: undefined } }],
      ["a tenant that is not a uuid", { claims: { tenant_id: "../other" } }],
    ])("401 for %s", async (_name, as) => {
      const r = await send({ token: await mintToken(as) });
      expectUnauthorized(r, "invalid_token", route.url);
      expect(errorOf(r, route.url).detail).toBe("The bearer token is invalid or expired.");
    });

    it("401 for an unsigned (alg none) token", async () => {
      const enc = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      const now = Math.floor(Date.now() / 1000);
      const token = `${enc({ alg: "none", typ: "JWT" })}.${enc({ tenant_id: newTenant(), sub: "x", roles: ["admin"], exp: now + 60 })}.`;
      expectUnauthorized(await send({ token }), "invalid_token", route.url);
    });

    it("429 with Retry-After once the tenant is over its limit", async () => {
      const r = await send({ as: { tenant: newTenant() }, env: { TENANT_RATE_LIMITER: exhaustedLimiter } });
      expect(r.status).toBe(429);
      expect(errorOf(r, route.url).code).toBe("rate_limited");
      expect(r.res.headers.get("retry-after")).toBe("60");
    });

    if (route.adminOnly) {
      it("403 for a member", async () => {
        const r = await send({ as: { tenant: newTenant(), roles: ["member"] } });
        expect(r.status).toBe(403);
        expect(errorOf(r, route.url).code).toBe("forbidden");
        expect(r.res.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
      });
    }

    if (route.hasBody) {
      it("413 for a body over every limit, before reading it", async () => {
        // Above MAX_DOCUMENT_BODY_BYTES (2 MiB), the largest body limit; an admin so the role is not what refuses it.
        const r = await send({ as: { tenant: newTenant() }, rawBody: "x".repeat(2 * 1024 * 1024 + 1) });
        expect(r.status).toBe(413);
        expect(errorOf(r, route.url).code).toBe("payload_too_large");
      });
    }
  });
}
