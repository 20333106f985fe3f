import { describe, expect, it } from "vitest";
import { createApiKey } from "./support/api-keys";
import { createAgent, openaiKey, storeKey } from "./support/knowledge";
import { auditRows, llmCalls, sha256Hex, sql } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const chat = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] };

describe("tenant isolation", () => {
  it("a key of tenant A reaches only A: A's provider key, A's agents, A's trail; B cannot see or revoke it", async () => {
    const a = newTenant();
    const b = newTenant();
    const providerA = openaiKey("isoltenantA");
    const providerB = openaiKey("isoltenantB");
    await storeKey(a, "openai", providerA);
    await storeKey(b, "openai", providerB);
    await createAgent(b, { agent_id: "b-only" });
    const keyA = await createApiKey(a);

    const r = await call("POST", "/v1/chat/completions", { token: keyA.key, body: chat });
    expect(r.status).toBe(200);
    const [fpA, fpB] = [await sha256Hex(providerA), await sha256Hex(providerB)];
    const fingerprints = (await llmCalls()).map((x) => x.keyFingerprint);
    expect(fingerprints).toContain(fpA);
    expect(fingerprints).not.toContain(fpB);
    // B's agent does not exist for A's key.
    const agent = await call("POST", "/v1/chat/completions", {
      token: keyA.key,
      body: { ...chat, model: "agent:b-only" },
    });
    expect(agent.status).toBe(404);
    expect((await call("GET", "/v1/models", { token: keyA.key })).json.data.map((m: any) => m.id)).not.toContain(
      "agent:b-only",
    );

    // B's admins: not listed, not readable, not revocable.
    expect((await call("GET", "/api-keys", { as: { tenant: b } })).json.items).toEqual([]);
    expect((await call("GET", `/api-keys/${keyA.id}`, { as: { tenant: b } })).status).toBe(404);
    expect((await call("DELETE", `/api-keys/${keyA.id}`, { as: { tenant: b } })).status).toBe(404);
    expect((await call("GET", "/v1/models", { token: keyA.key })).status).toBe(200);

    // The uses are in A's trail only.
    expect((await auditRows(a)).filter((x) => x.details.api_key_id === keyA.id).length).toBeGreaterThan(2);
    expect((await auditRows(b)).filter((x) => x.details.api_key_id === keyA.id)).toEqual([]);
  });

  it("members list keys but may not create or revoke them (403, audited as denied)", async () => {
    const tenant = newTenant();
    const { id } = await createApiKey(tenant);
    const member = { tenant, roles: ["member"] };
    expect((await call("POST", "/api-keys", { as: member, body: { name: "mine" } })).status).toBe(403);
    expect((await call("DELETE", `/api-keys/${id}`, { as: member })).status).toBe(403);
    expect((await call("GET", "/api-keys", { as: member })).json.items.map((k: any) => k.status)).toEqual(["active"]);
    const denied = (await auditRows(tenant)).filter((x) => x.outcome === "denied").map((x) => x.action);
    expect(denied).toEqual(["api_key.create", "api_key.revoke"]);
  });
});

describe("the key itself", () => {
  it("appears in no response but its creation, no log line and no audit row, on any path", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("apikeycanary"));
    const logs: string[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => {
      logs.push(args.map(String).join(" "));
    };
    const responses: string[] = [];
    let key = "";
    try {
      const created = await call("POST", "/api-keys", {
        as: { tenant },
        body: { name: "canary", allowed_models: ["gpt-4o-mini"], rate_limit_per_minute: 10 },
      });
      key = created.json.key;
      const send = async (method: string, path: string, body?: unknown) =>
        responses.push((await call(method, path, { token: key, body })).text);
      await send("POST", "/v1/chat/completions", chat); // success
      await send("POST", "/v1/chat/completions", { ...chat, stream: true }); // streamed
      await send("POST", "/v1/chat/completions", { ...chat, model: "gpt-4o" }); // 403
      await send("POST", "/v1/chat/completions", { model: "gpt-4o-mini" }); // 400
      await send("GET", "/vault/keys"); // 401 outside /v1
      await send("GET", `/v1/models?${key}`); // the key in the URL too
      responses.push((await call("GET", "/api-keys", { as: { tenant } })).text);
      responses.push((await call("DELETE", `/api-keys/${created.json.id}`, { as: { tenant } })).text);
      await send("GET", "/v1/models"); // 401 revoked
    } finally {
      console.log = original;
    }
    const secret = key.slice(4);
    expect(secret).toHaveLength(43);
    expect(logs.length).toBeGreaterThan(5);
    for (const line of logs) expect(line).not.toContain(secret);
    for (const text of responses) expect(text).not.toContain(secret);
    expect(JSON.stringify(await auditRows(tenant))).not.toContain(secret);
    const events = await sql().query(
      "SELECT * FROM security_events WHERE path LIKE '/vault/keys%' OR path LIKE '/v1/%'",
    );
    expect(JSON.stringify(events)).not.toContain(secret);
  });
});

describe("OpenAPI", () => {
  it("documents API keys as a bearer scheme on /v1 only", async () => {
    const doc = (await call("GET", "/openapi.json", { token: null })).json;
    expect(doc.components.securitySchemes.apiKeyAuth).toMatchObject({ type: "http", scheme: "bearer" });
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const op of Object.values<any>(item)) {
        const schemes = (op.security ?? []).flatMap((s: object) => Object.keys(s));
        if (!schemes.length) continue;
        expect(schemes.includes("apiKeyAuth"), path).toBe(path.startsWith("/v1/"));
        expect(schemes, path).toContain("bearerAuth");
      }
    }
  });
});
