import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startLlmProvider, type LlmProviderStandIn, type RecordedCall } from "../../local-stack/llm-provider/server";

const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");
const TENANT_A = "sk-proj-tenantA-aaaaaaaaaaaaaaaa1111";
const TENANT_B = "sk-proj-tenantB-bbbbbbbbbbbbbbbb2222";
const ANT_KEY = "sk-ant-api03-tenantC-cccccccccccc3333";
let standIn: LlmProviderStandIn;

beforeAll(async () => {
  standIn = await startLlmProvider({ tokenDelayMs: 0 });
});
afterAll(async () => {
  await standIn.close();
});
beforeEach(() => standIn.clearCalls());

const chatBody = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
const anthropicBody = JSON.stringify({
  model: "claude-haiku-4-5",
  max_tokens: 16,
  messages: [{ role: "user", content: "hi" }],
});

function openai(headers: Record<string, string>, body = chatBody): Promise<Response> {
  return fetch(`${standIn.openaiBaseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}
function anthropic(headers: Record<string, string>): Promise<Response> {
  return fetch(`${standIn.anthropicBaseUrl}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers },
    body: anthropicBody,
  });
}
const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

describe("OpenAI credentials", () => {
  it("401s a missing Authorization header", async () => {
    const res = await openai({});
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error).toMatchObject({
      type: "invalid_request_error",
      code: null,
      message: expect.stringMatching(/didn't provide an API key/),
    });
  });

  it.each([
    ["not sk- prefixed", "pk-0123456789abcdefghijkl"],
    ["too short", "sk-short"],
    ["an Anthropic key", ANT_KEY],
    ["with a space inside", "sk-0123456789 abcdefghijkl"],
  ])("401s a key that is %s with invalid_api_key", async (_name, key) => {
    const res = await openai(bearer(key));
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error).toMatchObject({ type: "invalid_request_error", code: "invalid_api_key" });
  });

  it("401s a revoked key, echoing it masked like the real API", async () => {
    const key = "sk-abc-revoked-0123456789-wxyz";
    const res = await openai(bearer(key));
    expect(res.status).toBe(401);
    const { error } = (await res.json()) as any;
    expect(error).toEqual({
      message: expect.any(String),
      type: "invalid_request_error",
      param: null,
      code: "invalid_api_key",
    });
    expect(error.message).toMatch(
      /^Incorrect API key provided: sk-abc\*{20}wxyz\. You can find your API key at https:\/\/platform\.openai\.com\/account\/api-keys\.$/,
    );
    expect(error.message).not.toContain(key);
  });

  it("429s a ratelimited key with retry-after: 7", async () => {
    const res = await openai(bearer("sk-ratelimited-0123456789abcdef"));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(((await res.json()) as any).error).toMatchObject({
      type: "requests",
      code: "rate_limit_exceeded",
      param: null,
    });
  });

  it("503s an overloaded key", async () => {
    const res = await openai(bearer("sk-overloaded-0123456789abcdef"));
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).error).toMatchObject({ type: "server_error", code: null, param: null });
  });

  it("checks the key before the body, as the real API does", async () => {
    const res = await openai({}, "{not json");
    expect(res.status).toBe(401);
  });
});

describe("Anthropic credentials", () => {
  async function expectError(res: Response, status: number, type: string): Promise<any> {
    expect(res.status).toBe(status);
    const body = (await res.json()) as any;
    expect(body).toEqual({
      type: "error",
      error: { type, message: expect.any(String) },
      request_id: expect.stringMatching(/^req_/),
    });
    return body;
  }

  it("401s a missing x-api-key", async () => {
    await expectError(await anthropic({}), 401, "authentication_error");
  });
  it("takes the API key as a Bearer token too (what @anthropic-ai/sdk 1.x sends), with the same key rules", async () => {
    expect((await anthropic(bearer(ANT_KEY))).status).toBe(200);
    await expectError(await anthropic(bearer(TENANT_A)), 401, "authentication_error");
    await expectError(await anthropic(bearer("sk-ant-api03-revoked-0123456789")), 401, "authentication_error");
  });
  it("401s an OpenAI key", async () => {
    await expectError(await anthropic({ "x-api-key": TENANT_A }), 401, "authentication_error");
  });
  it("401s a revoked key without echoing it", async () => {
    const key = "sk-ant-api03-revoked-0123456789";
    const body = await expectError(await anthropic({ "x-api-key": key }), 401, "authentication_error");
    expect(JSON.stringify(body)).not.toContain("0123456789");
  });
  it("429s a ratelimited key with rate_limit_error and retry-after: 7", async () => {
    const res = await anthropic({ "x-api-key": "sk-ant-api03-ratelimited-0123456789" });
    expect(res.headers.get("retry-after")).toBe("7");
    await expectError(res, 429, "rate_limit_error");
  });
  it("529s an overloaded key with overloaded_error", async () => {
    await expectError(await anthropic({ "x-api-key": "sk-ant-api03-overloaded-0123456789" }), 529, "overloaded_error");
  });
});

describe("recorded calls", () => {
  it("records each authenticated call with the SHA-256 fingerprint of the key received", async () => {
    expect((await openai(bearer(TENANT_A))).status).toBe(200);
    expect((await openai(bearer(TENANT_B))).status).toBe(200);
    expect((await anthropic({ "x-api-key": ANT_KEY })).status).toBe(200);

    const calls = standIn.calls();
    expect(calls.map((c) => [c.provider, c.path, c.keyFingerprint, c.model, c.status])).toEqual([
      ["openai", "/openai/v1/chat/completions", sha256(TENANT_A), "gpt-4o-mini", 200],
      ["openai", "/openai/v1/chat/completions", sha256(TENANT_B), "gpt-4o-mini", 200],
      ["anthropic", "/anthropic/v1/messages", sha256(ANT_KEY), "claude-haiku-4-5", 200],
    ]);
    for (const call of calls) expect(new Date(call.at).toISOString()).toBe(call.at);
  });

  it("records refused-but-authenticated calls (429/503/400) and not failed authentication", async () => {
    const limited = "sk-ratelimited-0123456789abcdef";
    await openai(bearer(limited));
    await openai(bearer("sk-revoked-0123456789abcdef"));
    await openai({});
    await anthropic({ "x-api-key": "nope" });
    await openai(bearer(TENANT_A), JSON.stringify({ model: "m", messages: [] }));
    expect(standIn.calls().map((c) => [c.keyFingerprint, c.status])).toEqual([
      [sha256(limited), 429],
      [sha256(TENANT_A), 400],
    ]);
  });

  it("serves and clears the log over HTTP without ever exposing a key", async () => {
    await openai(bearer(TENANT_A));
    await anthropic({ "x-api-key": ANT_KEY });
    const res = await fetch(`${standIn.url}/__standin/calls`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(TENANT_A);
    expect(text).not.toContain(ANT_KEY);
    const { calls } = JSON.parse(text) as { calls: RecordedCall[] };
    expect(calls.map((c) => c.keyFingerprint)).toEqual([sha256(TENANT_A), sha256(ANT_KEY)]);

    expect((await fetch(`${standIn.url}/__standin/calls`, { method: "DELETE" })).status).toBe(204);
    expect(((await (await fetch(`${standIn.url}/__standin/calls`)).json()) as any).calls).toEqual([]);
    expect(standIn.calls()).toEqual([]);
  });

  it("hands out copies, so a caller cannot rewrite the log", async () => {
    await openai(bearer(TENANT_A));
    standIn.calls()[0]!.keyFingerprint = "tampered";
    expect(standIn.calls()[0]!.keyFingerprint).toBe(sha256(TENANT_A));
  });

  it("exposes the documented base URLs", () => {
    expect(standIn.url).toBe(`http://127.0.0.1:${standIn.port}`);
    expect(standIn.openaiBaseUrl).toBe(`${standIn.url}/openai/v1`);
    expect(standIn.anthropicBaseUrl).toBe(`${standIn.url}/anthropic`);
  });
});
