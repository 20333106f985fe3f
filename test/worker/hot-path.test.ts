import { afterEach, describe, expect, it } from "vitest";
import { createApiKey } from "./support/api-keys";
import { createAgent, openaiKey, storeKey } from "./support/knowledge";
import { neonControl, vaultControl } from "./support/stack";
import { callStream } from "./support/stream";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

/**
 * The hot path: once an isolate has served a tenant, a /v1 completion needs neither the database nor
 * Vault before the provider call (README "Per-isolate caches"). Shown by taking them away.
 */
const body = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hot" }] };

afterEach(async () => {
  await neonControl.clearFaults();
  await vaultControl.clearFaults();
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

/**
 * An agent's turn, hot: the agent, the provider key, the budgets, the knowledge settings and the agent's
 * (empty) knowledge scope are what this isolate already knows, so a turn of an agent without documents
 * needs neither the database nor Vault. Retrieval over documents needs the
 * database (the pgvector search); this agent has none.
 */
describe("a hot agent turn (agent without documents)", () => {
  const ask = { messages: [{ role: "user", content: "Hot" }] };
  const v1Ask = { model: "agent:hot", ...ask };

  /** Every database statement fails, and every Vault read of the tenant's secrets. */
  async function takeAway(tenant: string) {
    await neonControl.faults({ status: 500 });
    await vaultControl.faults({ status: 503, pathPrefix: `/v1/secret/data/tenants/${tenant}/` });
  }

  async function hotAgent(word: string) {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey(word));
    await createAgent(tenant, { agent_id: "hot" });
    return { tenant, roles: ["member"] };
  }

  it("POST /agents/:id/chat answers JSON and streamed while the database and Vault refuse", async () => {
    const as = await hotAgent("hotagent");
    expect((await call("POST", "/agents/hot/chat", { as, body: ask })).status).toBe(200);
    await takeAway(as.tenant);
    const r = await call("POST", "/agents/hot/chat", { as, body: ask });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ agent_id: "hot", message: { content: "Echo: Hot" }, sources: [] });
    const s = await callStream("/agents/hot/chat", { ...ask, stream: true }, as);
    expect(s.status).toBe(200);
    expect(s.events[0]).toMatchObject({ event: "sources", data: { agent_id: "hot", sources: [] } });
    expect(
      s.events
        .filter((e) => e.event === "delta")
        .map((e) => e.data.text)
        .join(""),
    ).toBe("Echo: Hot");
    expect(s.events.at(-1)?.event).toBe("done");
  });

  it('/v1 model "agent:<id>" answers JSON and streamed while the database and Vault refuse', async () => {
    const as = await hotAgent("hotv1agent");
    expect((await call("POST", "/v1/chat/completions", { as, body: v1Ask })).status).toBe(200);
    await takeAway(as.tenant);
    const r = await call("POST", "/v1/chat/completions", { as, body: v1Ask });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ model: "agent:hot", choices: [{ message: { content: "Echo: Hot" } }], sources: [] });
    const s = await callStream("/v1/chat/completions", { ...v1Ask, stream: true }, as);
    expect(s.status).toBe(200);
    expect(s.text.trimEnd().endsWith("data: [DONE]")).toBe(true);
  });
});
