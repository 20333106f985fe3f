/**
 * The key check the gateway makes (the model list) against the provider stand-in, driven by the
 * real `openai` SDK for OpenAI and by fetch for Anthropic: valid, revoked, forbidden, restricted,
 * rate-limited and unresponsive keys answer as the real APIs do.
 */
import OpenAI, { APIConnectionTimeoutError, AuthenticationError, PermissionDeniedError, RateLimitError } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startLlmProvider, type LlmProviderStandIn } from "../../local-stack/llm-provider/server";

let standIn: LlmProviderStandIn;

beforeAll(async () => {
  standIn = await startLlmProvider({ tokenDelayMs: 1 });
});
afterAll(async () => {
  await standIn.close();
});
beforeEach(() => standIn.clearCalls());

const sdk = (apiKey: string, timeout = 10_000) =>
  new OpenAI({ apiKey, baseURL: standIn.openaiBaseUrl, maxRetries: 0, timeout });

/** The error the SDK threw for `models.list()`. */
async function listError(client: OpenAI): Promise<unknown> {
  try {
    await client.models.list();
  } catch (err) {
    return err;
  }
  throw new Error("models.list() succeeded");
}

describe("OpenAI: GET /models through the openai SDK", () => {
  it("lists models for a valid key, and the call is recorded as the key's", async () => {
    const page = await sdk("sk-proj-validKeyCheck0123456789").models.list();
    expect(page.data.map((m) => m.id)).toContain("gpt-4o-mini");
    expect(page.data[0]).toMatchObject({ object: "model", owned_by: "system" });
    expect(standIn.calls()).toMatchObject([{ provider: "openai", path: "/openai/v1/models", status: 200 }]);
  });

  it("a revoked key is an AuthenticationError (401, invalid_api_key)", async () => {
    const err = await listError(sdk("sk-proj-revokedKey0123456789abcd"));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ status: 401, code: "invalid_api_key", type: "invalid_request_error" });
  });

  it("a forbidden key is a PermissionDeniedError (403, unsupported region)", async () => {
    const err = await listError(sdk("sk-proj-forbiddenKey0123456789ab"));
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err).toMatchObject({ status: 403, code: "unsupported_country_region_territory" });
  });

  it("a restricted key may not list models (401, missing scope) but may chat", async () => {
    const client = sdk("sk-proj-restrictedKey0123456789a");
    const err = await listError(client);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).message).toMatch(/insufficient permissions.*Missing scopes: api\.model\.read/);
    const chat = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hello" }],
    });
    expect(chat.choices[0]?.message.content).toBe("Echo: hello");
  });

  it("a rate-limited key is a RateLimitError (429) with retry-after: 7", async () => {
    const err = await listError(sdk("sk-proj-ratelimitedKey0123456789"));
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ status: 429, code: "rate_limit_exceeded" });
    expect((err as RateLimitError).headers.get("retry-after")).toBe("7");
  });

  it("an unresponsive key is never answered: the client's timeout ends the call", async () => {
    const err = await listError(sdk("sk-proj-unresponsiveKey012345678", 300));
    expect(err).toBeInstanceOf(APIConnectionTimeoutError);
  });
});

describe("Anthropic: GET /v1/models", () => {
  const models = (key: string, signal?: AbortSignal) =>
    fetch(`${standIn.anthropicBaseUrl}/v1/models`, {
      headers: { "x-api-key": key, "anthropic-version": "2023-06-01" },
      signal,
    });

  it("lists models for a valid key", async () => {
    const res = await models("sk-ant-api03-validKeyCheck0123456789");
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).data[0]).toMatchObject({ type: "model", id: "claude-sonnet-4-5" });
  });

  it.each([
    ["revoked", 401, "authentication_error"],
    ["forbidden", 403, "permission_error"],
    ["ratelimited", 429, "rate_limit_error"],
    ["overloaded", 529, "overloaded_error"],
  ])("a %s key: %i %s in Anthropic's envelope", async (word, status, type) => {
    const res = await models(`sk-ant-api03-${word}Key0123456789abcd`);
    expect(res.status).toBe(status);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ type: "error", error: { type } });
    expect(body.request_id).toMatch(/^req_/);
    if (status === 429) expect(res.headers.get("retry-after")).toBe("7");
  });

  it("an unresponsive key is never answered", async () => {
    await expect(models("sk-ant-api03-unresponsiveKey0123456", AbortSignal.timeout(300))).rejects.toThrow(
      /aborted|timeout/i,
    );
  });
});
