import { describe, expect, it } from "vitest";
import { azureFields, azureKey, openaiKey, storeKey } from "./support/knowledge";
import { auditRows, llmCalls, sha256Hex } from "./support/stack";
import { callStream } from "./support/stream";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

/** The `data:` payloads of an OpenAI-style stream, in order (`[DONE]` kept as the string). */
const dataLines = (text: string) =>
  text
    .split("\n\n")
    .filter((block) => block.startsWith("data: "))
    .map((block) => block.slice(6))
    .map((d) => (d === "[DONE]" ? d : JSON.parse(d)));

const ask = (model: string) => ({ model, messages: [{ role: "user", content: "Hi" }] });

/** A tenant with an Azure credential and an OpenAI key: /v1 must send each model to its own provider. */
async function tenantWithBoth() {
  const tenant = newTenant();
  // Keys of their own, so the stand-in's calls of this test are told apart from the others'.
  const word = crypto.randomUUID().replace(/-/g, "").slice(0, 10);
  const azure = azureKey(`vOne${word}`);
  const openai = openaiKey(`vOne${word}`);
  await storeKey(tenant, "azure-openai", azure);
  await storeKey(tenant, "openai", openai);
  const calls = async () => {
    const [a, o] = [await sha256Hex(azure), await sha256Hex(openai)];
    const all = await llmCalls();
    return { azure: all.filter((c) => c.keyFingerprint === a), openai: all.filter((c) => c.keyFingerprint === o) };
  };
  return { tenant, azure, calls };
}

describe("/v1 with an Azure OpenAI deployment: model azure-openai/<deployment>", () => {
  it("relays a chat completion to that deployment of the tenant's resource, never to OpenAI", async () => {
    const { tenant, azure, calls } = await tenantWithBoth();
    const r = await call("POST", "/v1/chat/completions", {
      as: { tenant, roles: ["member"] },
      body: ask("azure-openai/chat-prod"),
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      object: "chat.completion",
      // Azure names the model the deployment runs (its dated version).
      model: "gpt-4o-2024-11-20",
      choices: [{ message: { content: "Echo: Hi" } }],
    });
    const seen = await calls();
    expect(seen.azure.map((c) => [c.provider, c.path])).toEqual([
      ["azure", "/openai/deployments/chat-prod/chat/completions"],
    ]);
    expect(seen.openai).toEqual([]);
    const uses = (await auditRows(tenant)).filter((row) => row.action === "key.use");
    expect(uses).toMatchObject([
      { resource_id: "azure-openai", outcome: "success", details: { api: "v1", model: "azure-openai/chat-prod" } },
    ]);
    expect(JSON.stringify(await auditRows(tenant))).not.toContain(azure);
  });

  it("streams Azure's chunks through, then [DONE]", async () => {
    const { tenant } = await tenantWithBoth();
    const s = await callStream(
      "/v1/chat/completions",
      { ...ask("azure-openai/gpt-4o-mini"), stream: true, stream_options: { include_usage: true } },
      { tenant },
    );
    expect(s.status).toBe(200);
    const data = dataLines(s.text);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1);
    // Azure's opening chunk (the prompt's filter results, no choices) comes through as Azure sent it.
    expect(chunks[0]).toMatchObject({ choices: [], prompt_filter_results: [expect.any(Object)] });
    const text = chunks.map((c: any) => c.choices[0]?.delta?.content ?? "").join("");
    expect(text).toBe("Echo: Hi");
    expect(chunks.at(-1).usage.completion_tokens).toBeGreaterThan(0);
  });

  it("embeds with an embeddings deployment", async () => {
    const { tenant, calls } = await tenantWithBoth();
    const r = await call("POST", "/v1/embeddings", {
      as: { tenant },
      body: { model: "azure-openai/text-embedding-3-small", input: ["a router", "a printer"] },
    });
    expect(r.status).toBe(200);
    expect(r.json.data).toHaveLength(2);
    expect(r.json.data[0].embedding).toHaveLength(1536);
    expect((await calls()).azure.map((c) => c.path)).toEqual(["/openai/deployments/text-embedding-3-small/embeddings"]);
  });

  it("lists azure-openai/<the stored deployment> among the models", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "azure-openai", azureKey("vOneModels"), azureFields({ deployment: "chat-prod" }));
    const r = await call("GET", "/v1/models", { as: { tenant } });
    expect(r.status).toBe(200);
    expect(r.json.data).toEqual([expect.objectContaining({ id: "azure-openai/chat-prod", owned_by: "azure-openai" })]);
  });

  it("a deployment the resource does not have: 404 model_not_found, OpenAI-shaped", async () => {
    const { tenant } = await tenantWithBoth();
    const r = await call("POST", "/v1/chat/completions", { as: { tenant }, body: ask("azure-openai/gpt-9") });
    expect(r.status).toBe(404);
    expect(r.json.error).toMatchObject({ code: "model_not_found", param: "model" });
  });

  it.each(["azure-openai/", "azure-openai/..", "azure-openai/a/b", "azure-openai/%2e%2e"])(
    "%s is not a deployment name: 400 before any Vault read or call",
    async (model) => {
      const { tenant, calls } = await tenantWithBoth();
      const r = await call("POST", "/v1/chat/completions", { as: { tenant }, body: ask(model) });
      expect(r.status).toBe(400);
      expect(r.json.error).toMatchObject({ code: "validation_failed", param: "model" });
      expect((await calls()).azure).toEqual([]);
    },
  );

  it("without an Azure credential: 422 provider_key_missing naming the key to add", async () => {
    const tenant = newTenant();
    const r = await call("POST", "/v1/chat/completions", { as: { tenant }, body: ask("azure-openai/gpt-4o-mini") });
    expect(r.status).toBe(422);
    expect(r.json.error.message).toContain("POST /vault/keys/azure-openai");
  });
});
