import { describe, expect, it } from "vitest";
import { mintToken, newTenant } from "./tokens";
import { call, type CallOptions } from "./worker";

export interface ProtectedRoute {
  method: string;
  path: string;
  body?: unknown;
  /** Members (non-admins) are refused with 403. */
  adminOnly: boolean;
}

function expectUnauthorized(r: { status: number; res: Response; json: any }, code: string) {
  expect(r.status).toBe(401);
  expect(r.res.headers.get("content-type")).toBe("application/problem+json");
  expect(r.res.headers.get("www-authenticate")).toMatch(/^Bearer realm="brain-gateway"/);
  expect(r.json.code).toBe(code);
}

/**
 * The authorization checks every protected route must pass: no token, bad
 * tokens of every kind, the wrong role. Tenant isolation is asserted per
 * resource in each route's security tests.
 */
export function authorizationSuite(route: ProtectedRoute) {
  const send = (o: CallOptions) => call(route.method, route.path, { body: route.body, ...o });

  describe(`authorization: ${route.method} ${route.path}`, () => {
    it("401 without a token", async () => {
      expectUnauthorized(await send({ token: null }), "unauthenticated");
    });

    it("401 for a malformed Authorization header", async () => {
      expectUnauthorized(
        await send({ token: null, headers: { authorization: "Basic Zm9vOmJhcg==" } }),
        "unauthenticated",
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
      expectUnauthorized(r, "invalid_token");
      expect(r.json.detail).toBe("The bearer token is invalid or expired.");
    });

    it("401 for an unsigned (alg none) token", async () => {
      const enc = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      const now = Math.floor(Date.now() / 1000);
      const token = `${enc({ alg: "none", typ: "JWT" })}.${enc({ tenant_id: newTenant(), sub: "x", roles: ["admin"], exp: now + 60 })}.`;
      expectUnauthorized(await send({ token }), "invalid_token");
    });

    if (route.adminOnly) {
      it("403 for a member", async () => {
        const r = await send({ as: { tenant: newTenant(), roles: ["member"] } });
        expect(r.status).toBe(403);
        expect(r.json.code).toBe("forbidden");
        expect(r.res.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
      });
    }
  });
}
