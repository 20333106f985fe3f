import { AuthenticationError, AzureOpenAI, BadRequestError, NotFoundError, RateLimitError } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startLlmProvider, type LlmProviderStandIn } from "../../local-stack/llm-provider/server";

// The stand-in's Azure OpenAI wire, proven with a client nobody here wrote: the openai SDK's AzureOpenAI,
// which builds Azure's URLs (`/openai/deployments/{model}/…?api-version=`) and sends the key as `api-key`.
const KEY = "standinAzureKey0123456789abcdefghijKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxy";
const API_VERSION = "2024-10-21";
let standIn: LlmProviderStandIn;

beforeAll(async () => {
  standIn = await startLlmProvider({ tokenDelayMs: 1 });
});
afterAll(async () => {
  await standIn.close();
});
beforeEach(() => standIn.clearCalls());

const azure = (o: { apiKey?: string; apiVersion?: string; deployment?: string } = {}) =>
  new AzureOpenAI({
    endpoint: standIn.azureEndpoint,
    apiKey: o.apiKey ?? KEY,
    apiVersion: o.apiVersion ?? API_VERSION,
    ...(o.deployment ? { deployment: o.deployment } : {}),
    maxRetries: 0,
  });

describe("Azure OpenAI through the openai SDK's AzureOpenAI client", () => {
  it("chats with a deployment: the path names it, the key travels as api-key, content filter results come back", async () => {
    const completion = await azure().chat.completions.create({
      model: "chat-prod",
      messages: [{ role: "user", content: "Where is the manual?" }],
    });
    expect(completion.choices[0]!.message.content).toBe("Echo: Where is the manual?");
    // The deployment's model (its dated version, as Azure names it), not the name the caller used.
    expect(completion.model).toBe("gpt-4o-2024-11-20");
    expect((completion as unknown as { prompt_filter_results: unknown[] }).prompt_filter_results).toHaveLength(1);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
    expect(standIn.calls()).toEqual([
      expect.objectContaining({
        provider: "azure",
        path: "/openai/deployments/chat-prod/chat/completions",
        status: 200,
      }),
    ]);
  });

  it("streams, Azure's opening chunk (no choices) first, then OpenAI's chunks and usage", async () => {
    const stream = await azure({ deployment: "gpt-4o-mini" }).chat.completions.create({
      model: "ignored-by-azure",
      messages: [{ role: "user", content: "Tell me about the three routers" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices).toEqual([]);
    expect(chunks[0]!.model).toBe("");
    expect(chunks.slice(1).map((c) => c.model)).toEqual(chunks.slice(1).map(() => "gpt-4o-mini-2024-07-18"));
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe("Echo: Tell me about the three routers");
    expect(chunks.at(-1)!.usage!.completion_tokens).toBeGreaterThan(0);
    expect(standIn.calls()[0]!.path).toBe("/openai/deployments/gpt-4o-mini/chat/completions");
  });

  it("embeds with an embeddings deployment", async () => {
    const res = await azure().embeddings.create({ model: "text-embedding-3-small", input: ["a router", "a router"] });
    expect(res.data).toHaveLength(2);
    expect(res.data[0]!.embedding).toHaveLength(1536);
    expect(res.data[0]!.embedding).toEqual(res.data[1]!.embedding);
    expect(res.model).toBe("text-embedding-3-small");
  });

  it("lists the resource's models with api-version: the key check that costs no tokens", async () => {
    const ids = [];
    for await (const m of azure().models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(["gpt-4o-mini", "gpt-4o", "text-embedding-3-small"]));
    expect(standIn.calls()).toEqual([expect.objectContaining({ path: "/openai/models", status: 200 })]);
  });
});

describe("Azure OpenAI's refusals, as the SDK sees them", () => {
  it("a refused key: 401 with Azure's error body, not recorded", async () => {
    const err = await azure({ apiKey: "revoked0123456789abcdefghijklmnopqrstuv" })
      .chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).error).toEqual({
      code: "401",
      message: expect.stringContaining("Access denied due to invalid subscription key or wrong API endpoint"),
    });
    expect(standIn.calls()).toEqual([]);
  });

  it("an OpenAI key sent to Azure is refused too (401)", async () => {
    const err = await azure({ apiKey: "sk-proj-0123456789abcdefghijKLMN" })
      .embeddings.create({ model: "text-embedding-3-small", input: "x" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
  });

  it("an unknown deployment: 404 DeploymentNotFound", async () => {
    const err = await azure()
      .chat.completions.create({ model: "gpt-9", messages: [{ role: "user", content: "Hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).code).toBe("DeploymentNotFound");
  });

  it("an API version Azure does not serve: 400 BadRequest 'API version not supported'", async () => {
    const err = await azure({ apiVersion: "2099-01-01" })
      .chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).error).toEqual({ code: "BadRequest", message: "API version not supported" });
  });

  it("chat on an embeddings deployment: 400 OperationNotSupported", async () => {
    const err = await azure()
      .chat.completions.create({ model: "text-embedding-3-small", messages: [{ role: "user", content: "Hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).code).toBe("OperationNotSupported");
  });

  it("rate limited: 429 with retry-after", async () => {
    const err = await azure({ apiKey: "ratelimited0123456789abcdefghijklmnopqr" })
      .chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).headers?.get("retry-after")).toBe("7");
  });

  it("without api-version (or on a route Azure does not have) a bare 404, as Azure answers", async () => {
    const post = (path: string) =>
      fetch(`${standIn.azureEndpoint}${path}`, {
        method: "POST",
        headers: { "api-key": KEY, "content-type": "application/json" },
        body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }] }),
      });
    for (const path of [
      "/openai/deployments/gpt-4o-mini/chat/completions",
      `/openai/deployments/gpt-4o-mini/completion?api-version=${API_VERSION}`,
    ]) {
      const res = await post(path);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: "404", message: "Resource not found" } });
    }
    expect(standIn.calls()).toEqual([]);
  });
});
