import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { requestId } from "hono/request-id";
import { describe, expect, it } from "vitest";
import { auditRejected } from "../../src/audit/audited";
import { onError } from "../../src/errors/problem";
import { createRouter, jsonResponse, z } from "../../src/lib/openapi";
import { defineRoute } from "../../src/lib/route";
import { authenticate } from "../../src/middleware/auth";
import { init } from "../../src/middleware/init";
import { auditRows } from "./support/stack";
import { withAuditQueue } from "./support/worker";
import { mintToken, newTenant } from "./support/tokens";

/** A route as a new one would be written, on the app's own middleware, but without `audited` in its handler. */
function probeApp() {
  const app = createRouter();
  app.use(requestId(), init(), authenticate());
  app.onError((err, c) => {
    const res = onError(err, c);
    auditRejected(c, err);
    return res;
  });
  return app
    .openapi(
      defineRoute({
        method: "get",
        path: "/probe",
        role: "member",
        audit: { action: "probe.read", resourceType: "probe" },
        responses: { 200: jsonResponse(z.object({ ok: z.boolean() }), "OK") },
      }),
      (c) => c.json({ ok: true }, 200),
    )
    .openapi(
      defineRoute({
        method: "post",
        path: "/probe",
        role: "admin",
        audit: { action: "probe.write", resourceType: "probe" },
        request: { body: { required: true, content: { "application/json": { schema: z.object({ n: z.number() }) } } } },
        responses: { 200: jsonResponse(z.object({ ok: z.boolean() }), "OK") },
      }),
      (c) => c.json({ ok: true }, 200),
    );
}

async function send(method: string, tenant: string, roles: string[], body?: string) {
  const ctx = createExecutionContext();
  const audit = withAuditQueue();
  const res = await probeApp().fetch(
    new Request("https://gateway.test/probe", {
      method,
      headers: { authorization: `Bearer ${await mintToken({ tenant, roles })}`, "content-type": "application/json" },
      body,
    }),
    audit.env,
    ctx,
  );
  await res.text();
  await waitOnExecutionContext(ctx);
  await audit.deliver();
  return res;
}

describe("defineRoute", () => {
  it("a handler that forgot `audited` still leaves the route's audit row", async () => {
    const tenant = newTenant();
    expect((await send("GET", tenant, ["member"])).status).toBe(200);
    const rows = await auditRows(tenant);
    expect(rows.map((r) => [r.action, r.resource_type, r.outcome])).toEqual([["probe.read", "probe", "success"]]);
  });

  it("checks the role before validating the body, and the refusal is audited as denied", async () => {
    const tenant = newTenant();
    const r = await send("POST", tenant, ["member"], "not json");
    expect(r.status).toBe(403);
    expect((await auditRows(tenant)).map((x) => [x.action, x.outcome, x.details.error])).toEqual([
      ["probe.write", "denied", "forbidden"],
    ]);
  });

  it("produces the OpenAPI entry: security, 401/403/413/429/400 and the admin line", () => {
    const doc = probeApp().getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "0" } });
    const post = doc.paths!["/probe"]!.post!;
    expect(post.security).toEqual([{ bearerAuth: [] }]);
    expect(post.description).toBe("Admins only.");
    expect(Object.keys(post.responses!).sort()).toEqual(["200", "400", "401", "403", "413", "429"]);
    expect(Object.keys(doc.paths!["/probe"]!.get!.responses!).sort()).toEqual(["200", "401", "429"]);
  });
});
