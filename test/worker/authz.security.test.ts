/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { authorizationSuite, documentedRoutes } from "./support/authz-suite";
import { call } from "./support/worker";

const routes = documentedRoutes();

// Every authenticated route the app serves, as its declaration put it in the OpenAPI document.
for (const route of routes.filter((r) => r.authenticated)) authorizationSuite(route);

describe("route declarations", () => {
  it.each(routes.filter((r) => !r.authenticated).map((r) => [r.method, r.path, r] as const))(
    "public by declaration: %s %s answers without a token",
    async (_m, _p, route) => {
      const r = await call(route.method, route.url, { token: null });
      expect(r.status).not.toBe(401);
      expect(route.errorStatuses).not.toContain(401);
    },
  );

  it("every declared route is served and documented (its router is mounted, its handler registered)", () => {
    // Any route declaration in src/routes, found by its shape (defineRoute → createRoute adds getRoutingPath).
    const modules = import.meta.glob<Record<string, unknown>>("../../src/routes/**/*.ts", { eager: true });
    const declared = Object.values(modules)
      .flatMap((m) => Object.values(m))
      .filter((v): v is { method: string; path: string } => typeof v === "object" && !!v && "getRoutingPath" in v)
      .map((r) => `${r.method.toUpperCase()} ${r.path}`);
    const documented = routes.map((r) => `${r.method} ${r.path}`);
    expect(declared.length).toBeGreaterThan(10);
    expect(documented).toEqual(expect.arrayContaining(declared));
  });
});
