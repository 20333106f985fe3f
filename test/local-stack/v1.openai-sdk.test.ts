/**
 * The OpenAI-compatible API driven by the real `openai` SDK, as tenants' developers would use it:
 * the local stack (local-stack/stack.ts) plus the Worker on workerd (wrangler's unstable_dev, as
 * the browser tests run it), with a tenant's JWT as the SDK's API key.
 */
import { SignJWT } from "jose";
import OpenAI, { APIError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../local-stack/stack";
import { startWorker, type RunningWorker } from "../browser/support/worker";

let stack: LocalStack;
let worker: RunningWorker;

async function tokenFor(tenant: string, roles: string[]): Promise<string> {
  return await new SignJWT({ tenant_id: tenant, roles })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(stack.vars.JWT_ISSUER!)
    .setAudience(stack.vars.JWT_AUDIENCE!)
    .setSubject("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(new TextEncoder().encode(stack.vars.JWT_SECRET!));
}

/** A tenant with an OpenAI key stored (by its admin) and an SDK client for one of its members. */
async function tenantClient(opts: { openaiKey?: string; anthropicKey?: string; tenant?: string } = {}) {
  const tenant = opts.tenant ?? crypto.randomUUID();
  const admin = await tokenFor(tenant, ["admin"]);
  for (const [service, apiKey] of Object.entries({ openai: opts.openaiKey, anthropic: opts.anthropicKey })) {
    if (!apiKey) continue;
    const res = await fetch(`${worker.url}/vault/keys/${service}`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ service, api_key: apiKey }),
    });
    expect(res.status).toBe(201);
  }
  return new OpenAI({ baseURL: `${worker.url}/v1`, apiKey: await tokenFor(tenant, ["member"]), maxRetries: 0 });
}

/** Calls the gateway as the tenant's admin (to set up agents and documents). */
async function asAdmin(tenant: string, method: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${worker.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${await tokenFor(tenant, ["admin"])}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status, `${method} ${path}: ${await res.text()}`).toBe(201);
}

const OPENAI_KEY = "sk-proj-sdkclient0123456789abcdefKEYS";
const ANTHROPIC_KEY = "sk-ant-api03-sdkclient0123456789abcdefKEYS";

beforeAll(async () => {
  stack = await startLocalStack({ persist: false });
  worker = await startWorker(stack.vars);
});

afterAll(async () => {
  await worker?.close();
  await stack?.close();
});

describe("the openai SDK against /v1", () => {
  it("chat.completions.create, non-streaming", async () => {
    const client = await tenantClient({ openaiKey: OPENAI_KEY });
    const completion = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]!.message.content).toContain("Echo: Hi");
    expect(completion.usage!.total_tokens).toBeGreaterThan(0);
  });

  it("streaming, with include_usage: content arrives in pieces and the last chunk has usage", async () => {
    const client = await tenantClient({ openaiKey: OPENAI_KEY });
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Tell me about routers" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(chunks.length).toBeGreaterThan(2);
    expect(text).toContain("Echo: Tell me about routers");
    expect(chunks.at(-1)!.usage!.total_tokens).toBeGreaterThan(0);
  });

  it("an Anthropic model, translated, non-streaming and streaming", async () => {
    const client = await tenantClient({ anthropicKey: ANTHROPIC_KEY });
    const completion = await client.chat.completions.create({
      model: "claude-sonnet-4-5",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hello there" },
      ],
      max_tokens: 200,
    });
    expect(completion.choices[0]!.message.content).toContain("Hello there");
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    const stream = await client.chat.completions.create({
      model: "claude-sonnet-4-5",
      messages: [{ role: "user", content: "Stream it" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toContain("Stream it");
  });

  it("embeddings.create (the SDK asks for base64 and decodes it)", async () => {
    const client = await tenantClient({ openaiKey: OPENAI_KEY });
    const out = await client.embeddings.create({ model: "text-embedding-3-small", input: ["one", "two"] });
    expect(out.data).toHaveLength(2);
    expect(out.data[0]!.embedding).toHaveLength(1536);
    expect(out.data[0]!.embedding.every((x) => typeof x === "number")).toBe(true);
  });

  it("models.list", async () => {
    const client = await tenantClient({ openaiKey: OPENAI_KEY });
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toContain("gpt-4o-mini");
    expect(ids.some((id) => id.startsWith("claude"))).toBe(false);
  });

  it("no key stored → the SDK raises an APIError with status 422 and code provider_key_missing", async () => {
    const client = await tenantClient();
    const err = await client.chat.completions
      .create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(APIError);
    const api = err as APIError;
    expect(api.status).toBe(422);
    expect(api.code).toBe("provider_key_missing");
    expect(api.type).toBe("invalid_request_error");
    expect(api.message).toContain("POST /vault/keys/openai");
  });

  it("an untranslatable request and a bad token raise the SDK's BadRequestError and AuthenticationError", async () => {
    const client = await tenantClient({ anthropicKey: ANTHROPIC_KEY });
    const bad = await client.chat.completions
      .create({
        model: "claude-sonnet-4-5",
        messages: [{ role: "user", content: "Hi" }],
        tools: [{ type: "function", function: { name: "lookup" } }],
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as APIError).param).toBe("tools");
    const anon = new OpenAI({ baseURL: `${worker.url}/v1`, apiKey: "not-a-token", maxRetries: 0 });
    const denied = await anon.models.list().then(
      () => null,
      (e: unknown) => e,
    );
    expect(denied).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((denied as APIError).code).toBe("invalid_token");
  });

  it('an agent as the model ("agent:<id>"): its knowledge answers, sources beside the answer, streamed and not', async () => {
    const tenant = crypto.randomUUID();
    const client = await tenantClient({ openaiKey: OPENAI_KEY, tenant });
    await asAdmin(tenant, "POST", "/agents", { agent_id: "helpdesk", system_prompt: "You answer IT questions." });
    await asAdmin(tenant, "POST", "/knowledge/documents", {
      title: "Router guide",
      content: "Hold the reset button of the router for ten seconds.",
    });
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(["gpt-4o-mini", "agent:helpdesk"]));

    type WithSources = { sources?: Array<{ ref: string }> };
    const completion = await client.chat.completions.create({
      model: "agent:helpdesk",
      messages: [{ role: "user", content: "How do I reset the router?" }],
    });
    expect(completion.choices[0]!.message.content).toBe(
      "Echo: How do I reset the router?\nSources consulted: Router guide#0.",
    );
    expect((completion as WithSources).sources).toEqual([expect.objectContaining({ ref: "Router guide#0" })]);

    const stream = await client.chat.completions.create({
      model: "agent:helpdesk",
      messages: [{ role: "user", content: "How do I reset the router?" }],
      stream: true,
    });
    let text = "";
    let sources: WithSources["sources"];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      sources = (chunk as WithSources).sources ?? sources;
    }
    expect(text).toBe("Echo: How do I reset the router?\nSources consulted: Router guide#0.");
    expect(sources).toEqual([expect.objectContaining({ ref: "Router guide#0" })]);

    const missing = await client.chat.completions
      .create({ model: "agent:nobody", messages: [{ role: "user", content: "Hi" }] })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as APIError).code).toBe("model_not_found");
  });

  it("a tenant API key (bgk_…) as the SDK's apiKey: chat, streaming, models; a disallowed model and a revoked key raise the SDK's errors", async () => {
    const tenant = crypto.randomUUID();
    await tenantClient({ openaiKey: OPENAI_KEY, tenant });
    const admin = { authorization: `Bearer ${await tokenFor(tenant, ["admin"])}`, "content-type": "application/json" };
    const created = await fetch(`${worker.url}/api-keys`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: "sdk", allowed_models: ["gpt-4o-mini"] }),
    });
    expect(created.status).toBe(201);
    const { id, key } = (await created.json()) as { id: string; key: string };
    expect(key).toMatch(/^bgk_/);
    const client = new OpenAI({ baseURL: `${worker.url}/v1`, apiKey: key, maxRetries: 0 });

    const completion = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(completion.choices[0]!.message.content).toContain("Echo: Hi");
    let text = "";
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Hello there" }],
      stream: true,
    });
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toContain("Echo: Hello there");
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(["gpt-4o-mini"]);

    const notAllowed = await client.chat.completions
      .create({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(notAllowed).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((notAllowed as APIError).code).toBe("model_not_allowed");

    expect((await fetch(`${worker.url}/api-keys/${id}`, { method: "DELETE", headers: admin })).status).toBe(200);
    const revoked = await client.models.list().then(
      () => null,
      (e: unknown) => e,
    );
    expect(revoked).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((revoked as APIError).code).toBe("invalid_api_key");
  });
});
