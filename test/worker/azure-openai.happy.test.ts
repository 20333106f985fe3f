import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getConfig } from "../../src/config";
import { providerClient } from "../../src/llm/providers";
import { azureFields, azureKey, createAgent, storeKey } from "./support/knowledge";
import { auditRows, llmCalls, sha256Hex, vaultRaw } from "./support/stack";
import { callStream } from "./support/stream";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const ask = (content: string) => ({ messages: [{ role: "user", content }] });
/** The stand-in as the tenant's Azure resource, written as people paste it (a trailing slash). */
const endpoint = () => `${env.TEST_AZURE_ENDPOINT}/`;

describe("azure-openai: a credential that is not one string", () => {
  it("stores {api_key, endpoint, deployment, api_version}: the key write-only, the rest readable, nothing secret audited", async () => {
    const tenant = newTenant();
    const key = azureKey("storeRead");
    const body = {
      service: "azure-openai",
      api_key: key,
      endpoint: endpoint(),
      deployment: "gpt-4o-mini",
      api_version: "2024-10-21",
      metadata: { label: "west europe" },
    };
    const stored = await call("POST", "/vault/keys/azure-openai", { as: { tenant }, body });
    expect(stored.status).toBe(201);
    expect(stored.json).toMatchObject({
      action: "created",
      service: "azure-openai",
      version: 1,
      key_hint: `****${key.slice(-4)}`,
      // The endpoint as its origin, whatever trailing slash it was pasted with.
      endpoint: env.TEST_AZURE_ENDPOINT,
      deployment: "gpt-4o-mini",
      api_version: "2024-10-21",
    });
    expect(stored.json.warnings).toBeUndefined();

    const read = await call("GET", "/vault/keys/azure-openai", { as: { tenant, roles: ["member"] } });
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({
      service: "azure-openai",
      key_hint: `****${key.slice(-4)}`,
      endpoint: env.TEST_AZURE_ENDPOINT,
      deployment: "gpt-4o-mini",
      api_version: "2024-10-21",
      metadata: { label: "west europe" },
    });
    const list = await call("GET", "/vault/keys", { as: { tenant, roles: ["member"] } });
    expect(list.json.items).toEqual([
      expect.objectContaining({
        service: "azure-openai",
        endpoint: env.TEST_AZURE_ENDPOINT,
        deployment: "gpt-4o-mini",
      }),
    ]);

    // Vault holds the key beside the fields; the database record only the readable part.
    const secret = await vaultRaw("GET", `secret/data/tenants/${tenant}/api_keys/azure-openai`);
    expect(secret.json.data.data).toMatchObject({
      api_key: key,
      settings: { endpoint: env.TEST_AZURE_ENDPOINT, deployment: "gpt-4o-mini", api_version: "2024-10-21" },
    });
    for (const r of [stored, read, list]) expect(r.text).not.toContain(key);
    const rows = await auditRows(tenant);
    expect(rows.map((r) => r.action)).toEqual(["key.create", "key.read", "key.list"]);
    expect(rows[0].details).toMatchObject({ endpoint: env.TEST_AZURE_ENDPOINT, deployment: "gpt-4o-mini" });
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(JSON.stringify(rows)).not.toContain(key.slice(0, 12));
  });

  it("a rotation stores the new key and fields as the next version; reads follow it", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "azure-openai", azureKey("rotateOne"));
    const next = azureKey("rotateTwo");
    const r = await call("POST", "/vault/keys/azure-openai", {
      as: { tenant },
      body: { service: "azure-openai", api_key: next, ...azureFields({ deployment: "chat-prod" }) },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ action: "rotated", version: 2, deployment: "chat-prod" });
    const read = await call("GET", "/vault/keys/azure-openai", { as: { tenant } });
    expect(read.json).toMatchObject({ version: 2, key_hint: `****${next.slice(-4)}`, deployment: "chat-prod" });
  });

  it("an agent with llm_provider azure-openai chats through the stored deployment, with the api-key header", async () => {
    const tenant = newTenant();
    const key = azureKey("agentChat");
    // A deployment named unlike its model: the path, not the body's model, decides where the call goes.
    await storeKey(tenant, "azure-openai", key, azureFields({ deployment: "chat-prod" }));
    await createAgent(tenant, { agent_id: "azure-bot", llm_provider: "azure-openai", llm_model: "gpt-4o" });

    const r = await call("POST", "/agents/azure-bot/chat", {
      as: { tenant, roles: ["member"] },
      body: ask("Where is the manual?"),
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      provider: "azure-openai",
      model: "gpt-4o",
      finish_reason: "stop",
      message: { content: "Echo: Where is the manual?" },
    });
    expect(r.json.usage.completion_tokens).toBeGreaterThan(0);

    const fp = await sha256Hex(key);
    const calls = (await llmCalls()).filter((c) => c.keyFingerprint === fp);
    expect(calls).toEqual([
      expect.objectContaining({ provider: "azure", path: "/openai/deployments/chat-prod/chat/completions" }),
    ]);
    const uses = (await auditRows(tenant)).filter((row) => row.action === "key.use");
    expect(uses).toMatchObject([
      {
        resource_id: "azure-openai",
        outcome: "success",
        // Recorded under the deployment it went to, the agent's llm_model beside it.
        details: {
          purpose: "chat",
          model: "azure-openai/chat-prod",
          llm_model: "gpt-4o",
          vault_version: 1,
          usage: { completion: expect.any(Number) },
        },
      },
    ]);
    expect(JSON.stringify(uses)).not.toContain(key);
  });

  it("streams an Azure answer as server-sent events, past Azure's opening content-filter chunk", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "azure-openai", azureKey("agentStream"));
    await createAgent(tenant, { agent_id: "streamer", llm_provider: "azure-openai", llm_model: "gpt-4o-mini" });
    const s = await callStream(
      "/agents/streamer/chat",
      { ...ask("Tell me about the three routers"), stream: true },
      { tenant },
    );
    expect(s.status).toBe(200);
    const names = s.events.map((e) => e.event);
    expect(names[0]).toBe("sources");
    expect(names.filter((n) => n === "delta").length).toBeGreaterThan(3);
    const text = s.events
      .filter((e) => e.event === "delta")
      .map((e) => e.data.text)
      .join("");
    expect(text).toBe("Echo: Tell me about the three routers");
    expect(s.events.at(-1)).toMatchObject({
      event: "done",
      data: { finish_reason: "stop", usage: { completion_tokens: expect.any(Number) } },
    });
    expect(s.events.at(-1)!.data.usage.completion_tokens).toBeGreaterThan(0);
    const uses = (await auditRows(tenant)).filter((row) => row.action === "key.use");
    expect(uses).toMatchObject([{ resource_id: "azure-openai", outcome: "success", details: { stream: true } }]);
  });

  it("embeds through an embeddings deployment of the tenant's resource (Azure's /embeddings)", async () => {
    const key = azureKey("embedCall");
    const client = providerClient(getConfig(env), "azure-openai", {
      apiKey: key,
      settings: azureFields(),
    });
    const { vectors, usage } = await client.embed("text-embedding-3-small", ["reset the router", "reset the router"]);
    expect(vectors).toHaveLength(2);
    expect(vectors[0]).toHaveLength(1536);
    expect(vectors[0]).toEqual(vectors[1]);
    expect(usage.promptTokens).toBeGreaterThan(0);
    const fp = await sha256Hex(key);
    const calls = (await llmCalls()).filter((c) => c.keyFingerprint === fp);
    expect(calls.map((c) => c.path)).toEqual(["/openai/deployments/text-embedding-3-small/embeddings"]);
  });
});
