import { describe, expect, it, onTestFinished, vi } from "vitest";
import { LAST_USED_RESOLUTION_MS } from "../../src/lib/last-used";
import { azureFields, azureKey, createAgent } from "./support/knowledge";
import { auditRows, llmCalls, sha256Hex, sql, vaultRaw } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

// The provider stand-in answers a key as the real API would by a word inside it (local-stack/llm-provider/keys.ts).
const openaiKey = (word = "good") => `sk-proj-${word}Verify0123456789abcdef${crypto.randomUUID().slice(0, 8)}`;
const anthropicKey = (word = "good") => `sk-ant-api03-${word}Verify0123456789abcd${crypto.randomUUID().slice(0, 8)}`;

const store = (tenant: string, service: string, api_key: string, extra: Record<string, unknown> = {}) =>
  call("POST", `/vault/keys/${service}`, { as: { tenant }, body: { service, api_key, ...extra } });

/** Provider calls the stand-in received with this key. */
const callsWith = async (key: string) => {
  const fp = await sha256Hex(key);
  return (await llmCalls()).filter((c) => c.keyFingerprint === fp);
};

describe("keys checked with the provider on store (verify: true)", () => {
  it.each([
    ["openai", openaiKey(), "/openai/v1/models"],
    ["anthropic", anthropicKey(), "/anthropic/v1/models"],
  ])("a valid %s key is stored as valid, on the answer and the record", async (service, key, path) => {
    const tenant = newTenant();
    const r = await store(tenant, service, key, { verify: true });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      version: 1,
      verification: "valid",
      verification_reason: `${service} accepted the key.`,
    });
    expect(Date.parse(r.json.last_verified_at)).not.toBeNaN();
    // One cheap authenticated call that costs no tokens: the model list.
    expect((await callsWith(key)).map((c) => c.path)).toEqual([path]);
    const info = await call("GET", `/vault/keys/${service}`, { as: { tenant } });
    expect(info.json).toMatchObject({
      version: 1,
      verification: "valid",
      verified_version: 1,
      last_verified_at: r.json.last_verified_at,
    });
    const [row] = await auditRows(tenant);
    expect(row).toMatchObject({
      action: "key.create",
      outcome: "success",
      details: { verification: "valid", provider_status: 200 },
    });
    expect(r.text + info.text + JSON.stringify(await auditRows(tenant))).not.toContain(key);
  });

  it.each([
    ["openai", openaiKey("revoked"), 401],
    ["anthropic", anthropicKey("revoked"), 401],
    ["anthropic", anthropicKey("forbidden"), 403],
  ])(
    "a %s key the provider rejects (HTTP %#) is not stored, and the previous version stays",
    async (service, bad, status) => {
      const tenant = newTenant();
      const first = service === "openai" ? openaiKey() : anthropicKey();
      expect((await store(tenant, service, first)).status).toBe(201);
      const r = await store(tenant, service, bad, { verify: true });
      expect(r.status).toBe(422);
      expect(r.res.headers.get("content-type")).toBe("application/problem+json");
      expect(r.json).toMatchObject({ code: "provider_key_rejected" });
      expect(r.json.detail).toBe(
        `${service} rejected the key (HTTP ${status}). It was not stored; the ${service} key stored before, if any, is unchanged.`,
      );
      expect(r.text).not.toContain(bad);
      const inVault = await vaultRaw("GET", `secret/data/tenants/${tenant}/api_keys/${service}`);
      expect(inVault.json.data.metadata.version).toBe(1);
      expect(inVault.json.data.data.api_key).toBe(first);
      const info = await call("GET", `/vault/keys/${service}`, { as: { tenant } });
      expect(info.json).toMatchObject({ version: 1, verification: null });
      const rows = await auditRows(tenant);
      expect(rows[1]).toMatchObject({
        action: "key.store",
        outcome: "error",
        details: { error: "provider_key_rejected", verification: "rejected", provider_status: status },
      });
      expect(JSON.stringify(rows)).not.toContain(bad);
    },
  );

  it("the plan's sk-test-key, checked, is rejected as OpenAI would (and not stored)", async () => {
    const tenant = newTenant();
    const r = await store(tenant, "openai", "sk-test-key", { verify: true });
    expect(r.status).toBe(422);
    expect(r.json.code).toBe("provider_key_rejected");
    expect((await vaultRaw("GET", `secret/data/tenants/${tenant}/api_keys/openai`)).status).toBe(404);
  });

  it("a rate-limited key is stored as unknown: the provider did not say no", async () => {
    const tenant = newTenant();
    const r = await store(tenant, "openai", openaiKey("ratelimited"), { verify: true });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      verification: "unknown",
      verification_reason: "openai is rate limiting the key (retry after 7 s); the key could not be checked.",
    });
    const info = await call("GET", "/vault/keys/openai", { as: { tenant } });
    expect(info.json).toMatchObject({ verification: "unknown", verified_version: 1 });
  });

  it("a provider that does not answer within the timeout leaves the key unknown, and stored", async () => {
    const tenant = newTenant();
    const r = await call("POST", "/vault/keys/anthropic", {
      as: { tenant },
      body: { service: "anthropic", api_key: anthropicKey("unresponsive"), verify: true },
      env: { LLM_TIMEOUT_MS: "1000" },
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      verification: "unknown",
      verification_reason: "anthropic did not answer within 1000 ms; the key could not be checked.",
    });
  });

  it("a provider outage (5xx/529) is unknown", async () => {
    const r = await store(newTenant(), "anthropic", anthropicKey("overloaded"), { verify: true });
    expect(r.status).toBe(201);
    expect(r.json.verification_reason).toBe("anthropic is unavailable (HTTP 529); the key could not be checked.");
  });

  it("an OpenAI restricted key that may not list models is unknown, not rejected (it can still chat)", async () => {
    const r = await store(newTenant(), "openai", openaiKey("restricted"), { verify: true });
    expect(r.status).toBe(201);
    expect(r.json.verification).toBe("unknown");
    expect(r.json.verification_reason).toMatch(/may not list models \(a restricted key\)/);
  });

  it("an azure-openai credential is checked at its resource (the model list, api-key header)", async () => {
    const tenant = newTenant();
    const key = azureKey("verifyGood");
    const ok = await store(tenant, "azure-openai", key, { ...azureFields(), verify: true });
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({ verification: "valid", verification_reason: "azure-openai accepted the key." });
    expect((await callsWith(key)).map((c) => c.path)).toEqual(["/openai/models"]);
    const bad = await store(tenant, "azure-openai", azureKey("revoked"), { ...azureFields(), verify: true });
    expect(bad.status).toBe(422);
    expect(bad.json.code).toBe("provider_key_rejected");
    const v = await call("POST", "/vault/keys/azure-openai/verify", { as: { tenant } });
    expect(v.json).toMatchObject({ version: 1, verification: "valid" });
  });

  it("a service with no known check is unknown, stored, and no provider is called", async () => {
    const key = "proxy-key-0123456789-verify";
    const r = await store(newTenant(), "my-proxy", key, { verify: true });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      verification: "unknown",
      verification_reason: "The gateway has no check for my-proxy keys.",
    });
    expect(await callsWith(key)).toEqual([]);
  });

  it("without verify nothing is asked and the record says not checked", async () => {
    const tenant = newTenant();
    const key = openaiKey();
    const r = await store(tenant, "openai", key);
    expect(r.json).not.toHaveProperty("verification");
    expect(await callsWith(key)).toEqual([]);
    const info = await call("GET", "/vault/keys/openai", { as: { tenant } });
    expect(info.json).toMatchObject({ verification: null, verified_version: null, last_verified_at: null });
  });

  it("verify must be a boolean", async () => {
    const r = await store(newTenant(), "openai", openaiKey(), { verify: "yes" });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("validation_failed");
  });
});

describe("POST /vault/keys/:service/verify", () => {
  it("checks the stored key again and keeps the result, its time and the version on the record", async () => {
    const tenant = newTenant();
    const key = anthropicKey("revoked");
    await store(tenant, "anthropic", key);
    const before = await call("GET", "/vault/keys/anthropic", { as: { tenant } });
    expect(before.json).toMatchObject({ verification: null, last_verified_at: null });

    const v = await call("POST", "/vault/keys/anthropic/verify", { as: { tenant } });
    expect(v.status).toBe(200);
    expect(v.json).toMatchObject({
      service: "anthropic",
      version: 1,
      key_hint: `****${key.slice(-4)}`,
      verification: "rejected",
      verification_reason: "anthropic rejected the key (HTTP 401).",
    });
    expect(v.text).not.toContain(key);
    const list = await call("GET", "/vault/keys", { as: { tenant } });
    expect(list.json.items[0]).toMatchObject({
      verification: "rejected",
      verified_version: 1,
      last_verified_at: v.json.last_verified_at,
    });
    const [row] = await sql().query(
      "SELECT verification, verified_version FROM connector_configs WHERE tenant_id = $1",
      [tenant],
    );
    expect(row).toEqual({ verification: "rejected", verified_version: 1 });
    const rows = await auditRows(tenant);
    expect(rows.find((r) => r.action === "key.verify")).toMatchObject({
      outcome: "success",
      resource_id: "anthropic",
      details: { verification: "rejected", vault_version: 1, provider_status: 401 },
    });
    expect(JSON.stringify(rows)).not.toContain(key);

    // A rotation leaves the new version unchecked: the old verdict is not the new key's.
    await store(tenant, "anthropic", anthropicKey());
    const rotated = await call("GET", "/vault/keys/anthropic", { as: { tenant } });
    expect(rotated.json).toMatchObject({ version: 2, verification: null, verified_version: null });
    const again = await call("POST", "/vault/keys/anthropic/verify", { as: { tenant } });
    expect(again.json).toMatchObject({ version: 2, verification: "valid" });
    const after = await call("GET", "/vault/keys/anthropic", { as: { tenant } });
    expect(after.json).toMatchObject({ version: 2, verification: "valid", verified_version: 2 });
  });

  it("a key valid at store time and revoked since is found out", async () => {
    const tenant = newTenant();
    expect((await store(tenant, "openai", openaiKey(), { verify: true })).json.verification).toBe("valid");
    // The tenant revokes it at the provider: here, Vault now holds a key the stand-in refuses.
    const revoked = openaiKey("revoked");
    await vaultRaw("POST", `secret/data/tenants/${tenant}/api_keys/openai`, {
      data: { api_key: revoked, key_hint: "****", created_at: new Date().toISOString(), created_by: "x", metadata: {} },
    });
    const v = await call("POST", "/vault/keys/openai/verify", { as: { tenant } });
    expect(v.json).toMatchObject({ version: 2, verification: "rejected" });
  });

  it("is a 404 when no key is stored", async () => {
    const v = await call("POST", "/vault/keys/openai/verify", { as: { tenant: newTenant() } });
    expect(v.status).toBe(404);
    expect(v.json.code).toBe("not_found");
  });

  it("is for admins: a member is refused (403) and the refusal audited", async () => {
    const tenant = newTenant();
    await store(tenant, "openai", openaiKey());
    const v = await call("POST", "/vault/keys/openai/verify", { as: { tenant, roles: ["member"] } });
    expect(v.status).toBe(403);
    const rows = await auditRows(tenant);
    expect(rows.at(-1)).toMatchObject({ action: "key.verify", outcome: "denied" });
  });

  it("keeps an isolated record per tenant", async () => {
    const a = newTenant();
    const b = newTenant();
    await store(a, "openai", openaiKey("revoked"));
    await store(b, "openai", openaiKey());
    await call("POST", "/vault/keys/openai/verify", { as: { tenant: a } });
    const infoB = await call("GET", "/vault/keys/openai", { as: { tenant: b } });
    expect(infoB.json.verification).toBeNull();
  });
});

describe("a key's lifecycle: last use, expiry, rejection during use", () => {
  const chat = (tenant: string, agent = "bot") =>
    call("POST", `/agents/${agent}/chat`, {
      as: { tenant, roles: ["member"] },
      body: { messages: [{ role: "user", content: "hello" }] },
    });
  const info = async (tenant: string, service = "openai") =>
    (await call("GET", `/vault/keys/${service}`, { as: { tenant } })).json;
  /** Writes a version straight into Vault, as an older client (or a date now past) left it. */
  const writeInVault = (tenant: string, service: string, data: Record<string, unknown>) =>
    vaultRaw("POST", `secret/data/tenants/${tenant}/api_keys/${service}`, {
      data: { key_hint: "****", created_at: new Date().toISOString(), created_by: "x", metadata: {}, ...data },
    });

  it("last_used_at moves after a chat (written after the answer, through waitUntil), at most once a minute; updated_at stays", async () => {
    const tenant = newTenant();
    await store(tenant, "openai", openaiKey());
    await createAgent(tenant, { agent_id: "bot" });
    const stored = await info(tenant);
    expect(stored.last_used_at).toBeNull();
    const before = Date.now();
    expect((await chat(tenant)).status).toBe(200);
    const used = await info(tenant);
    const first = Date.parse(used.last_used_at);
    expect(first).toBeGreaterThanOrEqual(before - 1000);
    // A use is not an edit of the record.
    expect(used.updated_at).toBe(stored.updated_at);
    // Within the minute the hot path writes nothing.
    expect((await chat(tenant)).status).toBe(200);
    expect(Date.parse((await info(tenant)).last_used_at)).toBe(first);
    // A minute later (this isolate's clock) the next use is recorded.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + LAST_USED_RESOLUTION_MS + 1000 });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    expect((await chat(tenant)).status).toBe(200);
    expect(Date.parse((await info(tenant)).last_used_at)).toBeGreaterThan(first + LAST_USED_RESOLUTION_MS);
  });

  it.each([
    ["/v1/chat/completions", { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }],
    ["/v1/embeddings", { model: "text-embedding-3-small", input: "hi" }],
  ])("%s records the use too", async (path, body) => {
    const tenant = newTenant();
    await store(tenant, "openai", openaiKey());
    const r = await call("POST", path, { as: { tenant, roles: ["member"] }, body });
    expect(r.status).toBe(200);
    expect((await info(tenant)).last_used_at).not.toBeNull();
  });

  it("embedding a knowledge document records the use", async () => {
    const tenant = newTenant();
    await store(tenant, "openai", openaiKey());
    const r = await call("POST", "/knowledge/documents", {
      as: { tenant },
      body: { title: "Reset", content: "Hold the reset button for ten seconds." },
    });
    expect(r.status).toBe(201);
    expect((await info(tenant)).last_used_at).not.toBeNull();
  });

  it("expires_at is stored with the key; within 14 days the record says expiring_soon", async () => {
    const tenant = newTenant();
    const soon = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const r = await store(tenant, "openai", openaiKey(), { expires_at: soon });
    expect(r.status).toBe(201);
    expect(r.json.expires_at).toBe(soon);
    const later = new Date(Date.now() + 30 * 86_400_000).toISOString();
    await store(tenant, "anthropic", anthropicKey(), { expires_at: later });
    await store(tenant, "my-proxy", "proxy-key-0123456789-noexpiry");
    const list = await call("GET", "/vault/keys", { as: { tenant } });
    const byService = Object.fromEntries(list.json.items.map((i: any) => [i.service, i]));
    expect(byService.openai).toMatchObject({ expires_at: soon, expiring_soon: true, expired: false });
    expect(byService.anthropic).toMatchObject({ expires_at: later, expiring_soon: false, expired: false });
    expect(byService["my-proxy"]).toMatchObject({ expires_at: null, expiring_soon: false, expired: false });
    // Each version has its own expiry: a rotation without one has none.
    await store(tenant, "openai", openaiKey());
    expect(await info(tenant)).toMatchObject({ version: 2, expires_at: null, expiring_soon: false });
  });

  it.each([
    ["in the past", new Date(Date.now() - 60_000).toISOString(), "expires_at must be in the future"],
    ["not a date-time", "next tuesday", "expires_at must be an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z"],
  ])("expires_at %s is refused (400) and nothing is stored", async (_what, expires_at, message) => {
    const tenant = newTenant();
    const r = await store(tenant, "openai", openaiKey(), { expires_at });
    expect(r.status).toBe(400);
    expect(r.json.errors).toContainEqual({ path: "expires_at", message });
    expect((await vaultRaw("GET", `secret/data/tenants/${tenant}/api_keys/openai`)).status).toBe(404);
  });

  it("an expired key is refused for use with a problem naming the key to replace; /v1 answers in OpenAI's shape", async () => {
    const tenant = newTenant();
    const key = openaiKey();
    await writeInVault(tenant, "openai", { api_key: key, expires_at: "2026-01-01T00:00:00.000Z" });
    await createAgent(tenant, { agent_id: "bot" });
    const r = await chat(tenant);
    expect(r.status).toBe(422);
    expect(r.res.headers.get("content-type")).toBe("application/problem+json");
    expect(r.json).toMatchObject({
      code: "provider_key_expired",
      detail:
        "This tenant's openai key (version 1) expired at 2026-01-01T00:00:00.000Z, the expires_at given when it was stored. An admin must store a new openai key at POST /vault/keys/openai.",
    });
    const v1 = await call("POST", "/v1/chat/completions", {
      as: { tenant, roles: ["member"] },
      body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] },
    });
    expect(v1.status).toBe(422);
    expect(v1.json.error).toMatchObject({ code: "provider_key_expired", type: "invalid_request_error" });
    expect(v1.json.error.message).toContain("POST /vault/keys/openai");
    // Refused before the provider: no call made, and not a use.
    expect(await callsWith(key)).toEqual([]);
    expect(await info(tenant)).toMatchObject({ expired: true, expiring_soon: false, last_used_at: null });
  });

  it("a key the provider rejects during use is marked rejected on its record; a rotation starts unchecked", async () => {
    const tenant = newTenant();
    const key = openaiKey("revoked");
    await store(tenant, "openai", key);
    await createAgent(tenant, { agent_id: "bot" });
    expect((await info(tenant)).verification).toBeNull();
    const r = await chat(tenant);
    expect(r.status).toBe(422);
    expect(r.json.code).toBe("provider_key_rejected");
    const after = await info(tenant);
    expect(after).toMatchObject({ verification: "rejected", verified_version: 1 });
    expect(after.last_used_at).not.toBeNull();
    expect(Date.parse(after.last_verified_at)).not.toBeNaN();
    const texts = [r.text, JSON.stringify(after), JSON.stringify(await auditRows(tenant))].join("");
    expect(texts).not.toContain(key);

    await store(tenant, "openai", openaiKey());
    expect(await info(tenant)).toMatchObject({ version: 2, verification: null });
    expect((await chat(tenant)).status).toBe(200);
    // A successful use is no verdict: the record stays unchecked.
    expect(await info(tenant)).toMatchObject({ version: 2, verification: null });
  });

  it("a rate-limited use is no verdict on the key", async () => {
    const tenant = newTenant();
    await store(tenant, "openai", openaiKey("ratelimited"), { verify: true });
    await createAgent(tenant, { agent_id: "bot" });
    expect((await chat(tenant)).status).toBe(503);
    expect(await info(tenant)).toMatchObject({ verification: "unknown" });
  });
});
