import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embedText, startLlmProvider, type LlmProviderStandIn } from "../../local-stack/llm-provider/server";

const KEY = "sk-proj-embeddings-0123456789abcdef";
let standIn: LlmProviderStandIn;

beforeAll(async () => {
  standIn = await startLlmProvider();
});
afterAll(async () => {
  await standIn.close();
});

function embed(body: unknown): Promise<Response> {
  return fetch(`${standIn.openaiBaseUrl}/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

function cosine(a: number[], b: number[]): number {
  return a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0);
}
function norm(a: number[]): number {
  return Math.sqrt(cosine(a, a));
}

describe("embedText", () => {
  it("is deterministic, unit-length and of the requested size", () => {
    const a = embedText("The quick brown fox", 1536);
    expect(a).toHaveLength(1536);
    expect(embedText("The quick brown fox", 1536)).toEqual(a);
    expect(norm(a)).toBeCloseTo(1, 10);
    expect(embedText("x", 7)).toHaveLength(7);
    expect(norm(embedText("!!!", 64))).toBeCloseTo(1, 10);
  });

  it("ignores case and punctuation", () => {
    expect(embedText("Hello, World!", 256)).toEqual(embedText("hello world", 256));
  });

  it("puts texts that share words clearly closer than unrelated texts", () => {
    const d = 1536;
    const related = cosine(embedText("the cat sat on the mat", d), embedText("a cat sat on a mat", d));
    const paraphrase = cosine(
      embedText("reset your account password", d),
      embedText("how to reset a forgotten password", d),
    );
    const unrelated = [
      ["the cat sat on the mat", "quarterly revenue grew in europe"],
      ["reset your account password", "volcanic eruptions shape islands"],
      ["kubernetes pod scheduling", "chocolate cake recipe with berries"],
      ["invoice payment overdue", "migratory birds fly south"],
    ].map(([x, y]) => cosine(embedText(x!, d), embedText(y!, d)));
    expect(related).toBeGreaterThan(0.6);
    expect(paraphrase).toBeGreaterThan(0.3);
    for (const u of unrelated) expect(Math.abs(u)).toBeLessThan(0.1);
    expect(paraphrase - Math.max(...unrelated)).toBeGreaterThan(0.25);
  });

  it("ranks the document that shares the query's words first", () => {
    const docs = [
      "Our refund policy allows returns within 30 days",
      "The office is closed on public holidays",
      "Password reset links expire after one hour",
    ];
    const query = embedText("when does my password reset link expire", 512);
    const scores = docs.map((doc) => cosine(query, embedText(doc, 512)));
    expect(scores.indexOf(Math.max(...scores))).toBe(2);
  });

  it("rejects a non-positive dimension count", () => {
    expect(() => embedText("x", 0)).toThrow(RangeError);
  });
});

describe("POST /embeddings", () => {
  it("answers a string input in OpenAI's exact shape with 1536 dimensions by default", async () => {
    const res = await embed({ model: "text-embedding-3-small", input: "hello embedding world" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(Object.keys(body).sort()).toEqual(["data", "model", "object", "usage"]);
    expect(body).toMatchObject({
      object: "list",
      model: "text-embedding-3-small",
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toEqual({
      object: "embedding",
      index: 0,
      embedding: embedText("hello embedding world", 1536),
    });
  });

  it("embeds an array input in order, honouring dimensions", async () => {
    const input = ["alpha beta", "gamma", "delta epsilon zeta"];
    const body = (await (await embed({ model: "text-embedding-3-large", input, dimensions: 256 })).json()) as any;
    expect(body.data.map((d: any) => d.index)).toEqual([0, 1, 2]);
    body.data.forEach((d: any, i: number) => {
      expect(d.embedding).toHaveLength(256);
      expect(d.embedding).toEqual(embedText(input[i]!, 256));
    });
    expect(body.usage).toEqual({ prompt_tokens: 6, total_tokens: 6 });
  });

  it("returns float32 little-endian base64 for encoding_format base64", async () => {
    const body = (await (
      await embed({ model: "text-embedding-3-small", input: "base64 please", dimensions: 8, encoding_format: "base64" })
    ).json()) as any;
    const bytes = Buffer.from(body.data[0].embedding as string, "base64");
    const floats = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    expect(floats).toEqual(Array.from(new Float32Array(embedText("base64 please", 8))));
  });

  it("accepts exactly 2048 inputs and refuses 2049", async () => {
    const many = Array.from({ length: 2048 }, (_, i) => `item ${i}`);
    const ok = await embed({ model: "text-embedding-3-small", input: many, dimensions: 4 });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as any).data).toHaveLength(2048);

    const tooMany = await embed({ model: "text-embedding-3-small", input: [...many, "one more"], dimensions: 4 });
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as any).error).toMatchObject({
      type: "invalid_request_error",
      param: "input",
      code: "array_above_max_length",
    });
  });

  it.each([
    ["missing input", { model: "text-embedding-3-small" }, "input"],
    ["empty string", { model: "text-embedding-3-small", input: "" }, null],
    ["empty array", { model: "text-embedding-3-small", input: [] }, null],
    ["non-string item", { model: "text-embedding-3-small", input: ["ok", { text: "no" }] }, null],
    ["dimensions above native", { model: "text-embedding-3-small", input: "x", dimensions: 1537 }, "dimensions"],
    ["dimensions zero", { model: "text-embedding-3-small", input: "x", dimensions: 0 }, "dimensions"],
    ["dimensions on ada-002", { model: "text-embedding-ada-002", input: "x", dimensions: 256 }, null],
    ["bad encoding_format", { model: "text-embedding-3-small", input: "x", encoding_format: "hex" }, "encoding_format"],
    ["input over 8192 tokens", { model: "text-embedding-3-small", input: "word ".repeat(8193) }, null],
    ["missing model", { input: "x" }, null],
  ])("refuses %s with 400 in OpenAI's envelope", async (_name, body, param) => {
    const res = await embed(body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as any;
    expect(Object.keys(json)).toEqual(["error"]);
    expect(Object.keys(json.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(json.error).toMatchObject({ message: expect.any(String), type: "invalid_request_error", param });
  });
});
