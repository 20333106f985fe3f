import { describe, expect, it } from "vitest";
import { auditRows, vaultRaw } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

describe("shape checks advise, the provider decides", () => {
  it("the plan's test command stores sk-test-key as openai, with a warning in plain English", async () => {
    const tenant = newTenant();
    // The plan's curl, word for word: POST /vault/keys/openai -d '{"service":"openai","api_key":"sk-test-key"}'
    const r = await call("POST", "/vault/keys/openai", {
      as: { tenant },
      body: { service: "openai", api_key: "sk-test-key" },
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ status: "success", action: "created", version: 1, key_hint: "****-key" });
    expect(r.json.warnings).toEqual([
      "api_key does not look like an openai key (expected sk-…); stored anyway: verify it with the provider",
    ]);
    expect(r.text).not.toContain("sk-test-key");
    const inVault = await vaultRaw("GET", `secret/data/tenants/${tenant}/api_keys/openai`);
    expect(inVault.json.data.data.api_key).toBe("sk-test-key");
    const [row] = await auditRows(tenant);
    expect(row).toMatchObject({ action: "key.create", outcome: "success" });
    expect(row.details.warnings).toHaveLength(1);
  });

  it("a key of the usual shape carries no warnings", async () => {
    const r = await call("POST", "/vault/keys/anthropic", {
      as: { tenant: newTenant() },
      body: { service: "anthropic", api_key: "sk-ant-api03-usualShape0123456789abcdWXYZ" },
    });
    expect(r.status).toBe(201);
    expect(r.json).not.toHaveProperty("warnings");
  });

  it("refuses another provider's key in a slot, naming both with the right article", async () => {
    const r = await call("POST", "/vault/keys/anthropic", {
      as: { tenant: newTenant() },
      body: { service: "anthropic", api_key: "sk-proj-wrongSlot0123456789abcdefABCD" },
    });
    expect(r.status).toBe(400);
    expect(r.json.detail).toBe("api_key is an openai key (sk-…), not an anthropic key");
    expect(r.text).not.toContain("wrongSlot");
  });

  it("a service without a known shape takes any printable key, even a provider-prefixed one", async () => {
    const r = await call("POST", "/vault/keys/my-proxy", {
      as: { tenant: newTenant() },
      body: { service: "my-proxy", api_key: "sk-ant-proxiedKey0123456789abcd" },
    });
    expect(r.status).toBe(201);
    expect(r.json).not.toHaveProperty("warnings");
  });
});

describe("the plan's agent fields", () => {
  it("creates an agent from only agent_id, system_prompt, llm_provider, llm_model, temperature, max_tokens, metadata", async () => {
    const tenant = newTenant();
    const body = {
      agent_id: "plan-bot",
      system_prompt: "You answer from the plan.",
      llm_provider: "openai",
      llm_model: "gpt-4o-mini",
      temperature: 0.3,
      max_tokens: 500,
      metadata: { team: "support", tags: ["a", "b"], limits: { daily: 100 }, beta: true },
    };
    const created = await call("POST", "/agents", { as: { tenant }, body });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ ...body, name: "plan-bot" });
    const read = await call("GET", "/agents/plan-bot", { as: { tenant } });
    expect(read.json.metadata).toEqual(body.metadata);
    expect(read.json.name).toBe("plan-bot");

    const patched = await call("PATCH", "/agents/plan-bot", { as: { tenant }, body: { metadata: { team: "sales" } } });
    expect(patched.status).toBe(200);
    expect(patched.json.metadata).toEqual({ team: "sales" });
  });

  it("an agent created without metadata has {}", async () => {
    const created = await call("POST", "/agents", { as: { tenant: newTenant() }, body: { agent_id: "bare" } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: "bare", metadata: {} });
  });
});
