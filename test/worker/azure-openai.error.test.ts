import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ConfigError, getConfig } from "../../src/config";
import { azureEndpointProblem } from "../../src/llm/azure-openai";
import { azureFields, azureKey, createAgent, openaiKey, storeKey } from "./support/knowledge";
import { auditRows, llmCalls, sha256Hex, vaultRaw } from "./support/stack";
import { callStream } from "./support/stream";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const ask = { messages: [{ role: "user", content: "Hi" }] };
const store = (tenant: string, body: Record<string, unknown>) =>
  call("POST", "/vault/keys/azure-openai", {
    as: { tenant },
    body: { service: "azure-openai", api_key: azureKey("refusedStore"), ...azureFields(), ...body },
  });

describe("azure-openai: the endpoint is user input", () => {
  it.each([
    ["the metadata address", "http://169.254.169.254", "must be an https URL"],
    ["a private address over https", "https://10.0.0.7", "must be a public host"],
    ["an IPv4-mapped loopback", "https://[::ffff:127.0.0.1]", "must be a public host"],
    ["a host that is not Azure's", "https://api.example.com", "must be an Azure OpenAI resource endpoint"],
    ["Azure's name inside another domain", "https://x.openai.azure.com.evil.example", "must be an Azure OpenAI"],
    ["http to Azure", "http://my-resource.openai.azure.com", "must be an https URL"],
    ["a user and password", "https://u:p@my-resource.openai.azure.com", "must not contain a user name"],
    ["a path", "https://my-resource.openai.azure.com/openai/deployments/x", "without a path or query"],
    ["a query", "https://my-resource.openai.azure.com/?api-version=2024-10-21", "without a path or query"],
    ["a port", "https://my-resource.openai.azure.com:8443", "must be an Azure OpenAI resource endpoint"],
    ["not a URL", "my-resource.openai.azure.com", "is not a URL"],
  ])("refuses %s: 400 url_not_allowed naming endpoint, nothing stored", async (_what, url, message) => {
    const tenant = newTenant();
    const r = await store(tenant, { endpoint: url });
    expect(r.status).toBe(400);
    expect(r.res.headers.get("content-type")).toBe("application/problem+json");
    expect(r.json.code).toBe("url_not_allowed");
    expect(r.json.errors).toEqual([{ path: "endpoint", message: expect.stringContaining(message) }]);
    expect((await call("GET", "/vault/keys/azure-openai", { as: { tenant } })).status).toBe(404);
  });

  it("accepts both Azure endpoint forms; production refuses the loopback stand-in and the setting itself", () => {
    const prod = { allowLoopback: false };
    expect(azureEndpointProblem("https://my-resource.openai.azure.com", prod)).toBeNull();
    expect(azureEndpointProblem("https://My-Resource.openai.azure.com/", prod)).toBeNull();
    expect(azureEndpointProblem("https://my-foundry.cognitiveservices.azure.com", prod)).toBeNull();
    expect(azureEndpointProblem(env.TEST_AZURE_ENDPOINT, prod)).toBe("must be an https URL");
    expect(azureEndpointProblem("https://127.0.0.1:8300", prod)).toContain("must be a public host");
    expect(azureEndpointProblem("https://localhost", prod)).toBe("must be a public host name");
    expect(azureEndpointProblem(env.TEST_AZURE_ENDPOINT, { allowLoopback: true })).toBeNull();
    expect(() => getConfig({ ...env, APP_ENV: "production", PROVIDERS_ALLOW_LOOPBACK: "true" })).toThrow(ConfigError);
  });

  it("a stored endpoint the deployment no longer allows is refused at use, before any call (422)", async () => {
    const tenant = newTenant();
    const key = azureKey("strictDeploy");
    await storeKey(tenant, "azure-openai", key);
    await createAgent(tenant, { agent_id: "bot", llm_provider: "azure-openai", llm_model: "gpt-4o-mini" });
    // The same stored credential, read by a deployment without the development setting.
    const r = await call("POST", "/agents/bot/chat", {
      as: { tenant },
      body: ask,
      env: { PROVIDERS_ALLOW_LOOPBACK: "false" },
    });
    expect(r.status).toBe(422);
    expect(r.json.code).toBe("provider_misconfigured");
    expect(r.json.detail).toContain("endpoint must be an https URL");
    expect(r.json.detail).toContain("POST /vault/keys/azure-openai");
    const fp = await sha256Hex(key);
    expect((await llmCalls()).filter((c) => c.keyFingerprint === fp)).toEqual([]);
  });

  it("a secret written to Vault by hand with a foreign endpoint is never called", async () => {
    const tenant = newTenant();
    const key = azureKey("handWritten");
    await vaultRaw("POST", `secret/data/tenants/${tenant}/api_keys/azure-openai`, {
      data: {
        api_key: key,
        settings: { endpoint: "https://attacker.example", deployment: "x", api_version: "2024-10-21" },
      },
    });
    await createAgent(tenant, { agent_id: "bot", llm_provider: "azure-openai", llm_model: "gpt-4o-mini" });
    const r = await call("POST", "/agents/bot/chat", { as: { tenant }, body: ask });
    expect(r.status).toBe(422);
    expect(r.json.code).toBe("provider_misconfigured");
    expect(r.json.detail).toContain("must be an Azure OpenAI resource endpoint");
  });
});

describe("azure-openai: bad fields are clear 400s", () => {
  it("names each missing field", async () => {
    const r = await call("POST", "/vault/keys/azure-openai", {
      as: { tenant: newTenant() },
      body: { service: "azure-openai", api_key: azureKey("missingFields") },
    });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("validation_failed");
    expect(r.json.errors).toEqual([
      { path: "endpoint", message: "endpoint is required for azure-openai" },
      { path: "deployment", message: "deployment is required for azure-openai" },
      { path: "api_version", message: "api_version is required for azure-openai" },
    ]);
  });

  it.each([
    ["deployment", "../models", "deployment must be 1-64 letters"],
    ["deployment", "a/b", "deployment must be 1-64 letters"],
    ["deployment", "", "deployment must be 1-64 letters"],
    ["api_version", "latest", "api_version must be a dated Azure OpenAI API version"],
    ["api_version", "2024-10-21&x=1", "api_version must be a dated Azure OpenAI API version"],
  ])("refuses %s %j", async (field, value, message) => {
    const r = await store(newTenant(), { [field]: value });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("validation_failed");
    expect(r.json.errors).toEqual([
      expect.objectContaining({ path: field, message: expect.stringContaining(message) }),
    ]);
  });

  it("refuses Azure's fields for a provider that takes none, and an OpenAI key in the Azure slot", async () => {
    const tenant = newTenant();
    const r = await call("POST", "/vault/keys/openai", {
      as: { tenant },
      body: { service: "openai", api_key: openaiKey("withFields"), endpoint: env.TEST_AZURE_ENDPOINT },
    });
    expect(r.status).toBe(400);
    expect(r.json.errors).toEqual([{ path: "endpoint", message: "endpoint is only accepted for azure-openai" }]);
    const wrongSlot = await store(tenant, { api_key: openaiKey("inAzureSlot") });
    expect(wrongSlot.status).toBe(400);
    expect(wrongSlot.json.detail).toBe("api_key is an openai key (sk-…), not an azure-openai key");
  });
});

describe("azure-openai: Azure's refusals become clear problems", () => {
  const chatWith = async (word: string, fields = azureFields()) => {
    const tenant = newTenant();
    await storeKey(tenant, "azure-openai", azureKey(word), fields);
    await createAgent(tenant, { agent_id: "bot", llm_provider: "azure-openai", llm_model: "gpt-4o-mini" });
    return { tenant, r: await call("POST", "/agents/bot/chat", { as: { tenant }, body: ask }) };
  };

  it("a key Azure refuses (401): 422 provider_key_rejected, streamed or not, Azure's words never relayed", async () => {
    const { tenant, r } = await chatWith("revoked");
    expect(r.status).toBe(422);
    expect(r.json.code).toBe("provider_key_rejected");
    expect(r.json.detail).toContain("replace it at POST /vault/keys/azure-openai");
    expect(r.text).not.toContain("subscription key");
    const s = await callStream("/agents/bot/chat", { ...ask, stream: true }, { tenant });
    expect(s.status).toBe(422);
    expect(s.res.headers.get("content-type")).toBe("application/problem+json");
    const uses = (await auditRows(tenant)).filter((row) => row.action === "key.use");
    expect(uses.map((u) => [u.outcome, u.details.error])).toEqual([
      ["error", "provider_key_rejected"],
      ["error", "provider_key_rejected"],
    ]);
  });

  it("a deployment the resource does not have (404 DeploymentNotFound): 422 naming the deployment", async () => {
    const { tenant, r } = await chatWith("noDeployment", azureFields({ deployment: "gpt-9-turbo" }));
    expect(r.status).toBe(422);
    expect(r.json.code).toBe("provider_misconfigured");
    expect(r.json.detail).toBe(
      "azure-openai refused the tenant's stored deployment: the Azure resource has no deployment named gpt-9-turbo. An admin must correct it at POST /vault/keys/azure-openai.",
    );
    const uses = (await auditRows(tenant)).filter((row) => row.action === "key.use");
    expect(uses.map((u) => u.details.error)).toEqual(["provider_misconfigured"]);
  });

  it("an API version Azure does not serve (400): 422 naming api_version", async () => {
    const { r } = await chatWith("badVersion", azureFields({ api_version: "2099-01-01" }));
    expect(r.status).toBe(422);
    expect(r.json.code).toBe("provider_misconfigured");
    expect(r.json.detail).toContain("stored api_version: Azure does not support api_version 2099-01-01");
  });

  it("an embeddings deployment used for chat (400 OperationNotSupported): 422 naming the deployment", async () => {
    const { r } = await chatWith("wrongKind", azureFields({ deployment: "text-embedding-3-small" }));
    expect(r.status).toBe(422);
    expect(r.json.detail).toContain("the deployment text-embedding-3-small does not support this operation");
  });

  it("a key check at a resource that does not serve the stored api_version: unknown, naming it; stored", async () => {
    const tenant = newTenant();
    const r = await call("POST", "/vault/keys/azure-openai", {
      as: { tenant },
      body: {
        service: "azure-openai",
        api_key: azureKey("verifyVersion"),
        ...azureFields({ api_version: "2099-01-01" }),
        verify: true,
      },
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      verification: "unknown",
      verification_reason:
        "azure-openai refused the stored api_version (Azure does not support api_version 2099-01-01); the key could not be checked.",
    });
  });

  it("a key check with a revoked key: rejected, and POST …/verify says so of the stored one", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "azure-openai", azureKey("revoked"));
    const v = await call("POST", "/vault/keys/azure-openai/verify", { as: { tenant } });
    expect(v.status).toBe(200);
    expect(v.json).toMatchObject({
      verification: "rejected",
      verification_reason: "azure-openai rejected the key (HTTP 401).",
    });
  });

  it("rate limited (429): 503 provider_unavailable with Azure's Retry-After", async () => {
    const { r } = await chatWith("ratelimited");
    expect(r.status).toBe(503);
    expect(r.json.code).toBe("provider_unavailable");
    expect(r.res.headers.get("retry-after")).toBe("7");
  });
});
