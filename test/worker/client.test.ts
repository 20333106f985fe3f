import { createExecutionContext, env, introspectWorkflow, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { BrainApiError, createBrainApi, isBrainApiError } from "../../src/client";
import worker from "../../src/index";
import { WP_PASSWORD, WP_USER, wpSite } from "./support/connectors";
import { vaultControl } from "./support/stack";
import { mintToken, newTenant } from "./support/tokens";
import { withAuditQueue } from "./support/worker";

const OPENAI_KEY = "sk-proj-clientTestKey0123456789abcdefWXYZ";
const ANTHROPIC_KEY = "sk-ant-api03-clientTestKey0123456789abcdABCD";

/** The Worker's fetch handler as a `fetch`: each call waits for its `waitUntil` work (audit writes). */
async function workerFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const audit = withAuditQueue();
  const res = await worker.fetch(new Request(input, init), audit.env, ctx);
  const body = await res.arrayBuffer();
  await waitOnExecutionContext(ctx);
  await audit.deliver();
  return new Response(res.status === 204 ? null : body, res);
}

/** A client for a fresh tenant, signed in with the given roles. */
function clientFor(roles = ["admin"], tenant = newTenant()) {
  const api = createBrainApi({
    baseUrl: "https://gateway.test",
    getToken: () => mintToken({ tenant, roles }),
    fetch: workerFetch,
  });
  return { api, tenant };
}

async function rejection(p: Promise<unknown>): Promise<BrainApiError> {
  const err = await p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BrainApiError);
  return err as BrainApiError;
}

describe("typed client: the portal's BYOK flow", () => {
  it("stores, reads, lists, rotates and deletes keys with typed results", async () => {
    const { api } = clientFor();

    const created = await api.vault.storeKey("openai", OPENAI_KEY, { metadata: { label: "prod" } });
    expect(created).toMatchObject({
      status: "success",
      action: "created",
      service: "openai",
      version: 1,
      key_hint: "****WXYZ",
    });
    await api.vault.storeKey("anthropic", ANTHROPIC_KEY);

    const info = await api.vault.getKey("openai");
    expect(info).toMatchObject({
      service: "openai",
      has_key: true,
      version: 1,
      key_hint: "****WXYZ",
      metadata: { label: "prod" },
    });
    expect(JSON.stringify(info)).not.toContain(OPENAI_KEY);

    const list = await api.vault.listKeys();
    expect(list.keys).toEqual(["anthropic", "openai"]);
    expect(list.items.map((i) => [i.service, i.key_hint, i.version])).toEqual([
      ["anthropic", "****ABCD", 1],
      ["openai", "****WXYZ", 1],
    ]);

    const rotated = await api.vault.storeKey("openai", "sk-proj-rotatedClientKey0123456789abcROT8", {
      expectedVersion: 1,
    });
    expect(rotated).toMatchObject({ action: "rotated", version: 2, key_hint: "****ROT8" });

    expect(await api.vault.deleteKey("anthropic")).toEqual({ status: "success", service: "anthropic", deleted: true });
    expect((await api.vault.listKeys()).keys).toEqual(["openai"]);
  });

  it("lists the audit trail of those calls", async () => {
    const { api } = clientFor();
    await api.vault.storeKey("openai", OPENAI_KEY);
    await api.vault.storeKey("openai", "sk-proj-rotatedClientKey0123456789abcROT8");
    const page = await api.audit.list({ limit: 10, resource_type: "api_key" });
    expect(page.items.map((r) => r.action)).toEqual(["key.rotate", "key.create"]);
    expect(page.next_cursor).toBeNull();
    const first = await api.audit.list({ limit: 1 });
    expect(first.items).toHaveLength(1);
    expect(first.next_cursor).toEqual(expect.any(String));
    const rest = await api.audit.list({ limit: 1, cursor: first.next_cursor! });
    expect(rest.items[0]!.id).not.toBe(first.items[0]!.id);
  });
});

describe("typed client: connectors (the BYOK page's Connectors section)", () => {
  it("creates, lists, syncs, follows the run and deletes with the knowledge choice, typed", async () => {
    const { api } = clientFor();
    await api.vault.storeKey("openai", OPENAI_KEY);
    const site = await wpSite({ posts: 3, pages: 1 });
    const body = {
      type: "wordpress" as const,
      name: "Blog",
      settings: { site_url: site.url },
      credentials: { username: WP_USER, application_password: WP_PASSWORD },
    };

    const refused = await rejection(
      api.connectors.create({ ...body, credentials: { ...body.credentials, application_password: "zzzz ".repeat(6) } }),
    );
    expect(refused).toMatchObject({ status: 422, code: "connector_check_failed" });
    expect(JSON.stringify(refused)).not.toContain("zzzz");

    const created = await api.connectors.create(body);
    expect(created).toMatchObject({
      type: "wordpress",
      name: "Blog",
      credentials: { hints: { username: WP_USER, application_password: "****5678" }, version: 1 },
      last_run: null,
    });
    expect(JSON.stringify(created)).not.toContain(WP_PASSWORD);
    expect((await api.connectors.list()).items.map((c) => c.id)).toEqual([created.id]);

    await using introspector = await introspectWorkflow(env.CONNECTOR_SYNC);
    const started = await api.connectors.sync(created.id);
    expect(started).toMatchObject({ status: "queued", connector_id: created.id });
    const [instance] = await introspector.get();
    await instance!.waitForStatus("complete");
    const run = await api.connectors.run(created.id, started.run_id);
    expect(run).toMatchObject({ status: "succeeded", counts: { seen: 4, added: 4 } });
    expect((await api.connectors.runs(created.id, { limit: 5 })).items.map((r) => r.run_id)).toEqual([started.run_id]);
    expect((await api.connectors.get(created.id)).documents).toBe(4);

    expect(await api.connectors.delete(created.id, { knowledge: "keep" })).toEqual({
      status: "success",
      id: created.id,
      deleted: true,
      knowledge: "kept",
      documents: 4,
    });
    expect(await rejection(api.connectors.get(created.id))).toMatchObject({ status: 404, code: "not_found" });
  });

  it("a member reads connectors; changing them is forbidden", async () => {
    const { api: admin, tenant } = clientFor();
    const site = await wpSite({ posts: 1, pages: 0 });
    const c = await admin.connectors.create({
      type: "wordpress",
      name: "Public",
      settings: { site_url: site.url },
      credentials: {},
    });
    const { api: member } = clientFor(["member"], tenant);
    expect((await member.connectors.list()).items.map((i) => i.name)).toEqual(["Public"]);
    expect(await rejection(member.connectors.sync(c.id))).toMatchObject({ status: 403, code: "forbidden" });
    expect(await rejection(member.connectors.delete(c.id))).toMatchObject({ status: 403, code: "forbidden" });
    await admin.connectors.delete(c.id);
  });
});

describe("typed client: errors carry the problem details", () => {
  afterEach(async () => {
    await vaultControl.clearFaults();
  });

  it("not_found with status, title, detail and request id", async () => {
    const { api } = clientFor();
    const err = await rejection(api.vault.getKey("openai"));
    expect(err).toMatchObject({
      name: "BrainApiError",
      status: 404,
      code: "not_found",
      title: "Not found",
      detail: "No key is stored for openai.",
    });
    expect(err.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(err.message).toBe("No key is stored for openai.");
    expect(isBrainApiError(err)).toBe(true);
  });

  it("validation_failed with field errors, never echoing the key", async () => {
    const { api } = clientFor();
    const badKey = "sk-ant-api03-wrongSlot0123456789abcdef";
    const err = await rejection(api.vault.storeKey("openai", badKey));
    expect(err).toMatchObject({ status: 400, code: "validation_failed" });
    expect(err.errors).toEqual([
      { path: "api_key", message: expect.stringContaining("is an anthropic key (sk-ant-…), not an openai key") },
    ]);
    expect(JSON.stringify(err)).not.toContain(badKey);
    expect(err.message).not.toContain(badKey);
  });

  it("unauthenticated without a token, invalid_token with a bad one", async () => {
    const anonymous = createBrainApi({ baseUrl: "https://gateway.test", getToken: () => null, fetch: workerFetch });
    expect(await rejection(anonymous.vault.listKeys())).toMatchObject({ status: 401, code: "unauthenticated" });
    const forged = createBrainApi({
      baseUrl: "https://gateway.test",
      getToken: async () => await mintToken({ secret: "another-secret-that-is-long-enough-0123456789" }),
      fetch: workerFetch,
    });
    expect(await rejection(forged.vault.listKeys())).toMatchObject({
      status: 401,
      code: "invalid_token",
      detail: "The bearer token is invalid or expired.",
    });
  });

  it("forbidden for a member's write; reads still work", async () => {
    const { api } = clientFor(["member"]);
    expect(await rejection(api.vault.storeKey("openai", OPENAI_KEY))).toMatchObject({ status: 403, code: "forbidden" });
    expect(await api.vault.listKeys()).toEqual({ keys: [], items: [] });
    expect(await rejection(api.audit.list())).toMatchObject({ status: 403, code: "forbidden" });
  });

  it("vault_unavailable with Retry-After when Vault fails", async () => {
    const { api, tenant } = clientFor();
    // Scoped to this tenant's paths so other suites sharing the stand-in are not affected.
    await vaultControl.faults({ status: 503, pathPrefix: `/v1/secret/data/tenants/${tenant}/` });
    const err = await rejection(api.vault.storeKey("openai", OPENAI_KEY));
    expect(err).toMatchObject({
      status: 503,
      code: "vault_unavailable",
      detail: "The secret store is unavailable; retry later.",
    });
    expect(err.retryAfterSeconds).toBeGreaterThan(0);
  });

  it("network_error when the gateway cannot be reached", async () => {
    const api = createBrainApi({
      baseUrl: "https://gateway.test",
      getToken: () => "t",
      fetch: async () => {
        throw new TypeError("fetch failed");
      },
    });
    const err = await rejection(api.vault.listKeys());
    expect(err).toMatchObject({ status: 0, code: "network_error", detail: "The gateway could not be reached." });
    expect(err.cause).toBeInstanceOf(TypeError);
  });

  it("unexpected_response for an answer that is not problem+json", async () => {
    const api = createBrainApi({
      baseUrl: "https://gateway.test",
      getToken: () => "t",
      fetch: async () =>
        new Response("<html>Bad gateway</html>", {
          status: 502,
          headers: { "content-type": "text/html", "x-request-id": "edge-1" },
        }),
    });
    expect(await rejection(api.vault.listKeys())).toMatchObject({
      status: 502,
      code: "unexpected_response",
      requestId: "edge-1",
    });
  });

  it("asks for the token on every request and sends it as a bearer token", async () => {
    const seen: Array<string | null> = [];
    let calls = 0;
    const api = createBrainApi({
      baseUrl: "https://gateway.test/",
      getToken: async () => {
        calls += 1;
        return await mintToken({ tenant: newTenant() });
      },
      fetch: async (input, init) => {
        const req = new Request(input, init);
        seen.push(req.headers.get("authorization"));
        expect(new URL(req.url).pathname).toBe("/vault/keys");
        return await workerFetch(req);
      },
    });
    await api.vault.listKeys();
    await api.vault.listKeys();
    expect(calls).toBe(2);
    expect(seen).toHaveLength(2);
    for (const h of seen) expect(h).toMatch(/^Bearer eyJ/);
    expect(seen[0]).not.toBe(seen[1]);
  });

  it("exposes the raw Hono client for anything the wrappers do not cover", async () => {
    const { api } = clientFor();
    const res = await api.raw.vault.keys.$get();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ keys: [], items: [] });
    expect(api.raw.vault.keys[":service"].$url({ param: { service: "openai" } }).pathname).toBe("/vault/keys/openai");
  });
});

describe("typed client: agents, knowledge and chat", () => {
  it("creates an agent, adds knowledge, searches it and chats (JSON and streamed)", async () => {
    const { api } = clientFor();
    await api.vault.storeKey("openai", OPENAI_KEY);
    const agent = await api.agents.$post({ json: { agent_id: "support-bot", name: "Support bot" } });
    expect(agent).toMatchObject({ agent_id: "support-bot", name: "Support bot", llm_provider: "openai" });
    const listed = await api.agents.$get({ query: {} });
    expect(JSON.stringify(listed)).toContain("support-bot");

    const doc = await api.knowledge.documents.$post({
      json: { title: "Refunds", content: "Refunds are issued within 14 days of purchase." },
    });
    expect(doc).toMatchObject({ title: "Refunds", chunks: expect.any(Number) });
    const found = await api.knowledge.search.$post({ json: { query: "How long do refunds take?" } });
    expect(JSON.stringify(found)).toContain(doc.document_id);

    const reply = await api.chat.send("support-bot", [{ role: "user", content: "How long do refunds take?" }]);
    expect(reply).toMatchObject({
      agent_id: "support-bot",
      message: { role: "assistant", content: expect.any(String) },
    });
    expect(reply.usage.total_tokens).toBeGreaterThan(0);

    const events: string[] = [];
    let text = "";
    for await (const ev of api.chat.stream("support-bot", [{ role: "user", content: "How long do refunds take?" }])) {
      events.push(ev.event);
      if (ev.event === "delta") text += ev.data.text;
    }
    expect(events[0]).toBe("sources");
    expect(events.at(-1)).toBe("done");
    expect(events).toContain("delta");
    expect(text.length).toBeGreaterThan(0);
  });

  it("chat errors are BrainApiErrors too: an unknown agent is not_found", async () => {
    const { api } = clientFor();
    expect(await rejection(api.chat.send("no-such-agent", [{ role: "user", content: "hi" }]))).toMatchObject({
      status: 404,
      code: "not_found",
    });
  });
});
