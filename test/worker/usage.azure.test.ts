import { describe, expect, it } from "vitest";
import { pricedModel } from "../../src/usage/prices";
import { addDocument, azureFields, azureKey, createAgent, openaiKey, storeKey } from "./support/knowledge";
import { callStream } from "./support/stream";
import { newTenant } from "./support/tokens";
import { expectPriced, keyUses, nanos } from "./support/usage";
import { call } from "./support/worker";

const ask = (content: string) => ({ messages: [{ role: "user", content }] });

// The stand-in's deployments answer as Azure does, naming the dated model they run: chat-prod
// `gpt-4o-2024-11-20`, gpt-4o-mini `gpt-4o-mini-2024-07-18`, text-embedding-3-small by its name.
describe("Azure OpenAI calls are priced by the model Azure says answered", () => {
  it("/v1 chat (JSON and streamed) and embeddings: cost from the price table, the deployment kept as model", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "azure-openai", azureKey("usageAzureVone"));
    const as = { tenant, roles: ["member"] };
    const chat = await call("POST", "/v1/chat/completions", {
      as,
      body: { model: "azure-openai/chat-prod", messages: [{ role: "user", content: "One two three" }] },
    });
    expect(chat.status).toBe(200);
    expect(chat.json.model).toBe("gpt-4o-2024-11-20");
    // Streamed without include_usage: Azure's opening chunk names no model ("model": ""), the others do.
    const stream = await callStream(
      "/v1/chat/completions",
      { model: "azure-openai/gpt-4o-mini", messages: [{ role: "user", content: "Four five" }], stream: true },
      as,
    );
    expect(stream.status).toBe(200);
    const emb = await call("POST", "/v1/embeddings", {
      as,
      body: { model: "azure-openai/text-embedding-3-small", input: ["seven eight", "nine"] },
    });
    expect(emb.status).toBe(200);

    const uses = await keyUses(tenant);
    expect(uses.map((u) => [u.details.model, u.details.priced_model, u.details.stream ?? null])).toEqual([
      ["azure-openai/chat-prod", "gpt-4o-2024-11-20", false],
      ["azure-openai/gpt-4o-mini", "gpt-4o-mini-2024-07-18", true],
      ["azure-openai/text-embedding-3-small", "text-embedding-3-small", null],
    ]);
    expectPriced(uses[0], "gpt-4o");
    expectPriced(uses[1], "gpt-4o-mini");
    expectPriced(uses[2], "text-embedding-3-small");
    expect(uses[0].details.usage.prompt).toBe(chat.json.usage.prompt_tokens);
    expect(uses[2].details.usage.prompt).toBe(emb.json.usage.prompt_tokens);

    // GET /usage groups them under the name the caller used, with their cost; nothing unpriced.
    const byModel = await call("GET", "/usage?group_by=model", { as: { tenant } });
    const groups = Object.fromEntries(byModel.json.groups.map((g: any) => [g.key, g]));
    for (const use of uses) {
      expect(groups[use.details.model]).toMatchObject({ requests: 1, unpriced_requests: 0 });
      expect(nanos(groups[use.details.model].cost_usd)).toBe(nanos(use.details.usage.cost_usd));
    }
    expect(byModel.json.totals.unpriced_requests).toBe(0);
  });

  it("an agent on Azure is priced by the deployment's model, not its llm_model, and recorded under the deployment; JSON and streamed", async () => {
    const tenant = newTenant();
    // chat-prod runs gpt-4o; the agent claims gpt-4o-mini, which must not decide the price.
    await storeKey(tenant, "azure-openai", azureKey("usageAzureAgent"), azureFields({ deployment: "chat-prod" }));
    await createAgent(tenant, { agent_id: "azure-bot", llm_provider: "azure-openai", llm_model: "gpt-4o-mini" });
    // The same tenant's OpenAI agent on OpenAI's gpt-4o-mini: a usage group of its own.
    await storeKey(tenant, "openai", openaiKey("usageAzureAgentOpenai"));
    await createAgent(tenant, { agent_id: "openai-bot", llm_provider: "openai", llm_model: "gpt-4o-mini" });
    const r = await call("POST", "/agents/azure-bot/chat", { as: { tenant }, body: ask("Where is the manual?") });
    expect(r.status).toBe(200);
    const s = await callStream("/agents/azure-bot/chat", { ...ask("Stream it"), stream: true }, { tenant });
    expect(s.status).toBe(200);
    const v1 = await callStream(
      "/v1/chat/completions",
      { model: "agent:azure-bot", ...ask("And on v1"), stream: true },
      { tenant },
    );
    expect(v1.status).toBe(200);
    const uses = await keyUses(tenant);
    expect(uses.map((u) => [u.details.model, u.details.llm_model, u.details.priced_model, u.details.stream])).toEqual([
      ["azure-openai/chat-prod", "gpt-4o-mini", "gpt-4o-2024-11-20", false],
      ["azure-openai/chat-prod", "gpt-4o-mini", "gpt-4o-2024-11-20", true],
      ["azure-openai/chat-prod", "gpt-4o-mini", "gpt-4o-2024-11-20", true],
    ]);
    for (const use of uses) expectPriced(use, "gpt-4o");

    // By model, the deployment's calls stay apart from OpenAI's gpt-4o-mini (its row names no llm_model).
    const onOpenai = await call("POST", "/agents/openai-bot/chat", { as: { tenant }, body: ask("On OpenAI") });
    expect(onOpenai.status).toBe(200);
    const openaiUse = (await keyUses(tenant)).at(-1)!;
    expect(openaiUse.details).toMatchObject({ model: "gpt-4o-mini", agent_id: "openai-bot" });
    expect(openaiUse.details).not.toHaveProperty("llm_model");
    const byModel = await call("GET", "/usage?group_by=model", { as: { tenant } });
    const groups = Object.fromEntries(byModel.json.groups.map((g: any) => [g.key, g.requests]));
    expect(groups).toEqual({ "azure-openai/chat-prod": 3, "gpt-4o-mini": 1 });
  });

  it("a budget is charged for Azure usage: spent is the rows' cost, and a spent budget refuses the next call", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "azure-openai", azureKey("usageAzureBudget"));
    const body = { model: "azure-openai/gpt-4o-mini", messages: [{ role: "user", content: "Spend a little" }] };
    expect((await call("POST", "/v1/chat/completions", { as: { tenant }, body })).status).toBe(200);
    const [use] = await keyUses(tenant);
    expectPriced(use, "gpt-4o-mini");

    const set = await call("PUT", "/usage/budgets/tenant", { as: { tenant }, body: { monthly_limit_usd: "0" } });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ scope: "tenant", exceeded: true });
    expect(nanos(set.json.spent_usd)).toBe(nanos(use.details.usage.cost_usd));
    const listed = await call("GET", "/usage/budgets", { as: { tenant } });
    expect(nanos(listed.json.budgets[0].spent_usd)).toBeGreaterThan(0);

    const refused = await call("POST", "/v1/chat/completions", { as: { tenant }, body });
    expect(refused.status).toBe(402);
    expect(refused.json.error).toMatchObject({ code: "budget_exceeded" });
  });

  it("an answer that names no model is not priced (never guessed from the deployment's name)", () => {
    expect(pricedModel("azure-openai", "azure-openai/gpt-4o-mini", undefined)).toEqual({
      model: null,
      details: { priced_model: null },
    });
    expect(pricedModel("azure-openai", "gpt-4o-mini", "gpt-4o-2024-11-20")).toEqual({
      model: "gpt-4o-2024-11-20",
      details: { priced_model: "gpt-4o-2024-11-20" },
    });
    // Other providers' calls are priced by the model asked for, as before.
    expect(pricedModel("openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18")).toEqual({
      model: "gpt-4o-mini",
      details: {},
    });
  });
});

describe("an agent's retrieval embedding is the agent's usage", () => {
  it("carries the agent's id (chat and /v1 agent:<id>), so group_by=agent counts its cost", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("usageRetrieval"));
    await createAgent(tenant, { agent_id: "helpdesk" });
    await addDocument(tenant, {
      title: "Router guide",
      content: "Hold the reset button of the router for ten seconds.",
    });
    expect(
      (await call("POST", "/agents/helpdesk/chat", { as: { tenant }, body: ask("Reset the router?") })).status,
    ).toBe(200);
    const v1 = await call("POST", "/v1/chat/completions", {
      as: { tenant },
      body: { model: "agent:helpdesk", ...ask("And the router again?") },
    });
    expect(v1.status).toBe(200);

    const uses = await keyUses(tenant);
    const retrievals = uses.filter((u) => u.details.purpose === "retrieval");
    expect(retrievals.map((u) => [u.details.agent_id, u.details.api ?? null])).toEqual([
      ["helpdesk", null],
      ["helpdesk", "v1"],
    ]);
    for (const use of retrievals) expectPriced(use, "text-embedding-3-small");

    const byAgent = await call("GET", "/usage?group_by=agent", { as: { tenant } });
    const groups = Object.fromEntries(byAgent.json.groups.map((g: any) => [String(g.key), g]));
    const agentRows = uses.filter((u) => u.details.agent_id === "helpdesk");
    // Two chats and their two retrieval embeddings; the document's embedding is no agent's.
    expect(agentRows).toHaveLength(4);
    expect(groups.helpdesk.requests).toBe(4);
    expect(nanos(groups.helpdesk.cost_usd)).toBe(
      agentRows.reduce((sum, u) => sum + nanos(u.details.usage.cost_usd), 0),
    );
    expect(groups.null.requests).toBe(1);
  });
});
