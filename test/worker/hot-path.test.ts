import { afterEach, describe, expect, it } from "vitest";
import { createApiKey } from "./support/api-keys";
import { openaiKey, storeKey } from "./support/knowledge";
import { neonControl } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

/**
 * The hot path: once an isolate has served a tenant, a /v1 completion needs neither the database nor
 * Vault before the provider call (README "Per-isolate caches"). Shown by taking them away.
 */
const body = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hot" }] };

afterEach(async () => {
  await neonControl.clearFaults();
});

describe("a hot /v1 call", () => {
  it("with a JWT answers while the database refuses every statement", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("hotjwt"));
    expect((await call("POST", "/v1/chat/completions", { as: { tenant, roles: ["member"] }, body })).status).toBe(200);
    await neonControl.faults({ status: 500 });
    const r = await call("POST", "/v1/chat/completions", { as: { tenant, roles: ["member"] }, body });
    expect(r.status).toBe(200);
  });

  it("with a tenant API key answers while the database refuses every statement", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("hotkey"));
    const { key } = await createApiKey(tenant, {});
    expect((await call("POST", "/v1/chat/completions", { token: key, body })).status).toBe(200);
    await neonControl.faults({ status: 500 });
    const r = await call("POST", "/v1/chat/completions", { token: key, body });
    expect(r.status).toBe(200);
  });
});
