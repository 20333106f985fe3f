import { env, introspectWorkflow } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { azureFields, azureKey, createAgent, openaiKey, storeKey } from "./support/knowledge";
import { auditRows, llmCalls, sha256Hex } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const AZURE_EMBEDDINGS = { embedding_provider: "azure-openai", embedding_deployment: "text-embedding-3-small" };

/** A tenant holding only an Azure OpenAI credential (chat deployment gpt-4o-mini); the stand-in's calls with its key. */
async function azureOnlyTenant() {
  const tenant = newTenant();
  const key = azureKey(`kset${crypto.randomUUID().replace(/-/g, "").slice(0, 10)}`);
  await storeKey(tenant, "azure-openai", key, azureFields());
  const fp = await sha256Hex(key);
  const calls = async () => (await llmCalls()).filter((c) => c.keyFingerprint === fp);
  return { tenant, key, calls };
}

const settings = (tenant: string) => call("GET", "/knowledge/settings", { as: { tenant, roles: ["member"] } });
const choose = (tenant: string, body: Record<string, unknown>) =>
  call("PUT", "/knowledge/settings", { as: { tenant }, body });

describe("knowledge settings: the embedding provider", () => {
  it("defaults to OpenAI with EMBEDDING_MODEL; members read it", async () => {
    const tenant = newTenant();
    const r = await settings(tenant);
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({
      embedding_provider: "openai",
      embedding_deployment: null,
      embedding_model: "text-embedding-3-small",
      dimensions: 1536,
      updated_at: null,
    });
  });

  it("a tenant with only an Azure OpenAI credential builds and searches a knowledge base through its embeddings deployment", async () => {
    const { tenant, key, calls } = await azureOnlyTenant();
    // Before the choice: knowledge needs an OpenAI key the tenant does not have.
    const before = await call("POST", "/knowledge/documents", { as: { tenant }, body: { content: "The KS-1 fan." } });
    expect(before.status).toBe(422);
    expect(before.json.code).toBe("provider_key_missing");
    expect(before.json.detail).toContain("openai");

    const chosen = await choose(tenant, AZURE_EMBEDDINGS);
    expect(chosen.status, chosen.text).toBe(200);
    expect(chosen.json).toMatchObject({
      embedding_provider: "azure-openai",
      embedding_deployment: "text-embedding-3-small",
      embedding_model: "text-embedding-3-small",
      dimensions: 1536,
    });
    expect(chosen.json.updated_at).not.toBeNull();
    expect((await settings(tenant)).json).toEqual(chosen.json);

    const doc = await call("POST", "/knowledge/documents", {
      as: { tenant },
      body: { title: "Fans", content: "The KS-1 fan spins at 1200 rpm and needs a 12 V supply." },
    });
    expect(doc.status, doc.text).toBe(201);
    const search = await call("POST", "/knowledge/search", {
      as: { tenant, roles: ["member"] },
      body: { query: "KS-1 fan supply voltage" },
    });
    expect(search.status, search.text).toBe(200);
    expect(search.json.results[0]).toMatchObject({ document_id: doc.json.document_id });

    // Chat with an Azure agent retrieves through the same deployment and cites the document.
    await createAgent(tenant, { agent_id: "fan-bot", llm_provider: "azure-openai", llm_model: "gpt-4o-mini" });
    const chat = await call("POST", "/agents/fan-bot/chat", {
      as: { tenant, roles: ["member"] },
      body: { messages: [{ role: "user", content: "What supply does the KS-1 fan need?" }] },
    });
    expect(chat.status, chat.text).toBe(200);
    expect(JSON.stringify(chat.json)).toContain("Fans#0");

    // Every embedding (the check, the upload, the search, the chat's retrieval) went to the embeddings deployment.
    const paths = (await calls()).map((c) => c.path);
    expect(paths.filter((p) => p.endsWith("/embeddings"))).toEqual(
      Array(4).fill("/openai/deployments/text-embedding-3-small/embeddings"),
    );
    const uses = (await auditRows(tenant)).filter((r) => r.action === "key.use" && r.details.purpose !== "chat");
    expect(uses.length).toBe(4);
    for (const u of uses) {
      expect(u).toMatchObject({
        resource_id: "azure-openai",
        outcome: "success",
        details: { model: "azure-openai/text-embedding-3-small", priced_model: "text-embedding-3-small" },
      });
    }
    expect(JSON.stringify(await auditRows(tenant))).not.toContain(key);
  });

  it("a large upload's Workflow embeds through the Azure deployment too", async () => {
    const { tenant, calls } = await azureOnlyTenant();
    expect((await choose(tenant, AZURE_EMBEDDINGS)).status).toBe(200);
    await using introspector = await introspectWorkflow(env.KNOWLEDGE_INGEST);
    await introspector.modifyAll(async (m) => {
      await m.disableSleeps();
      await m.disableRetryDelays();
    });
    const accepted = await call("POST", "/knowledge/documents", {
      as: { tenant },
      body: { content: "The KS-2 pump primes in ten seconds.", async: true },
    });
    expect(accepted.status, accepted.text).toBe(202);
    const [instance] = await introspector.get();
    await instance!.waitForStatus("complete");
    const job = await call("GET", `/knowledge/jobs/${accepted.json.job_id}`, { as: { tenant, roles: ["member"] } });
    expect(job.json).toMatchObject({ status: "succeeded", chunks: 1 });
    expect((await calls()).filter((c) => c.path.endsWith("/embeddings"))).toHaveLength(2);
  });

  it("refuses a deployment whose vectors are not 1536-dimensional, one that does not exist or cannot embed, and a missing key (422); nothing is stored", async () => {
    const { tenant } = await azureOnlyTenant();
    const wide = await choose(tenant, {
      embedding_provider: "azure-openai",
      embedding_deployment: "text-embedding-3-large",
    });
    expect(wide.status).toBe(422);
    expect(wide.res.headers.get("content-type")).toContain("application/problem+json");
    expect(wide.json.code).toBe("provider_misconfigured");
    expect(wide.json.detail).toContain("3072-dimensional");
    const missing = await choose(tenant, {
      embedding_provider: "azure-openai",
      embedding_deployment: "no-such-deployment",
    });
    expect(missing.status).toBe(422);
    expect(missing.json.code).toBe("provider_misconfigured");
    const chatOnly = await choose(tenant, { embedding_provider: "azure-openai", embedding_deployment: "gpt-4o-mini" });
    expect(chatOnly.status).toBe(422);
    expect(chatOnly.json.code).toBe("provider_misconfigured");
    // Back to OpenAI: the tenant has no OpenAI key.
    const noKey = await choose(tenant, { embedding_provider: "openai" });
    expect(noKey.status).toBe(422);
    expect(noKey.json.code).toBe("provider_key_missing");
    expect((await settings(tenant)).json).toMatchObject({ embedding_provider: "openai", updated_at: null });
    const other = newTenant();
    const noAzure = await choose(other, AZURE_EMBEDDINGS);
    expect(noAzure.status).toBe(422);
    expect(noAzure.json.code).toBe("provider_key_missing");
    expect(noAzure.json.detail).toContain("azure-openai");
  });

  it("validates the choice (400 naming the field)", async () => {
    const tenant = newTenant();
    for (const body of [
      { embedding_provider: "azure-openai" },
      { embedding_provider: "azure-openai", embedding_deployment: "../models" },
      { embedding_provider: "openai", embedding_deployment: "text-embedding-3-small" },
      { embedding_provider: "anthropic" },
      { embedding_provider: "openai", extra: 1 },
    ]) {
      const r = await choose(tenant, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.code).toBe("validation_failed");
    }
    const member = await call("PUT", "/knowledge/settings", {
      as: { tenant, roles: ["member"] },
      body: { embedding_provider: "openai" },
    });
    expect(member.status).toBe(403);
  });

  it("changes the provider only while the tenant has no knowledge (409 knowledge_not_empty); the same choice again is fine", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("ksetSwitch"));
    await storeKey(tenant, "azure-openai", azureKey("ksetSwitchAzure"), azureFields());
    const doc = await call("POST", "/knowledge/documents", { as: { tenant }, body: { content: "The KS-3 valve." } });
    expect(doc.status).toBe(201);
    const refused = await choose(tenant, AZURE_EMBEDDINGS);
    expect(refused.status).toBe(409);
    expect(refused.json.code).toBe("knowledge_not_empty");
    expect((await choose(tenant, { embedding_provider: "openai" })).status).toBe(200);
    expect((await call("DELETE", `/knowledge/documents/${doc.json.document_id}`, { as: { tenant } })).status).toBe(200);
    const allowed = await choose(tenant, AZURE_EMBEDDINGS);
    expect(allowed.status, allowed.text).toBe(200);
    // Once on Azure, another deployment is a change too.
    await call("POST", "/knowledge/documents", { as: { tenant }, body: { content: "The KS-4 hinge." } });
    const again = await choose(tenant, { ...AZURE_EMBEDDINGS, embedding_deployment: "text-embedding-3-large" });
    expect(again.status).toBe(409);
  });

  it("one tenant's choice is its own: another tenant keeps embedding with OpenAI", async () => {
    const { tenant } = await azureOnlyTenant();
    expect((await choose(tenant, AZURE_EMBEDDINGS)).status).toBe(200);
    const other = newTenant();
    expect((await settings(other)).json.embedding_provider).toBe("openai");
    await storeKey(other, "openai", openaiKey("ksetOther"));
    const ok = await call("POST", "/knowledge/documents", { as: { tenant: other }, body: { content: "KS-5 relay." } });
    expect(ok.status).toBe(201);
    const uses = (await auditRows(other)).filter((r) => r.action === "key.use");
    expect(uses.map((u) => u.resource_id)).toEqual(["openai"]);
  });
});
