import { describe, expect, it } from "vitest";
import { addDocument, anthropicKey, createAgent, openaiKey, storeKey } from "./support/knowledge";
import { auditRows, llmCalls, sha256Hex } from "./support/stack";
import { callStream } from "./support/stream";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const ask = (content: string) => ({ messages: [{ role: "user", content }] });

describe("chat: answers grounded in the tenant's knowledge", () => {
  it("answers as JSON with the retrieved chunks named, usage recorded and the key version audited", async () => {
    const tenant = newTenant();
    const key = openaiKey("chatJson");
    await storeKey(tenant, "openai", key);
    await createAgent(tenant, { agent_id: "helpdesk", system_prompt: "You answer IT questions." });
    const docId = await addDocument(tenant, {
      title: "Router guide",
      content: "Hold the reset button of the router for ten seconds.",
    });
    await addDocument(tenant, { title: "Cafeteria", content: "Lunch is served from noon in the cafeteria." });

    const r = await call("POST", "/agents/helpdesk/chat", {
      as: { tenant, roles: ["member"] },
      body: ask("How do I reset the router?"),
    });
    expect(r.status).toBe(200);
    expect(r.json.message.content).toBe("Echo: How do I reset the router?\nSources consulted: Router guide#0.");
    expect(r.json.sources).toEqual([
      expect.objectContaining({ ref: "Router guide#0", document_id: docId, chunk_index: 0, title: "Router guide" }),
    ]);
    expect(r.json.usage).toEqual({
      prompt_tokens: expect.any(Number),
      completion_tokens: expect.any(Number),
      total_tokens: expect.any(Number),
    });
    expect(r.json.usage.completion_tokens).toBeGreaterThan(0);
    expect(r.json).toMatchObject({
      agent_id: "helpdesk",
      provider: "openai",
      model: "gpt-4o-mini",
      finish_reason: "stop",
    });

    // Only this tenant's key reached the provider, for retrieval and for the answer.
    const fp = await sha256Hex(key);
    const chats = (await llmCalls()).filter((c) => c.keyFingerprint === fp && c.path.endsWith("/chat/completions"));
    expect(chats).toHaveLength(1);
    expect(chats[0]!.model).toBe("gpt-4o-mini");

    const uses = (await auditRows(tenant)).filter((row) => row.action === "key.use" && row.details.purpose === "chat");
    expect(uses).toHaveLength(1);
    expect(uses[0]).toMatchObject({ resource_id: "openai", outcome: "success" });
    expect(uses[0].details).toMatchObject({
      vault_version: 1,
      model: "gpt-4o-mini",
      agent_id: "helpdesk",
      sources: ["Router guide#0"],
      usage: {
        prompt: r.json.usage.prompt_tokens,
        completion: r.json.usage.completion_tokens,
        total: r.json.usage.total_tokens,
      },
    });
  });

  it("streams server-sent events through the Worker as they are produced", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("chatStream"));
    await createAgent(tenant, { agent_id: "streamer" });
    await addDocument(tenant, {
      title: "Printer FAQ",
      content: "The printer on floor two needs A4 paper in tray one.",
    });

    const question = "Which paper does the printer on floor two need, and in which tray should it go today please?";
    const r = await callStream("/agents/streamer/chat", { ...ask(question), stream: true }, { tenant });
    expect(r.status).toBe(200);
    expect(r.res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    // More than one piece arrived, and the first well before the body ended: not buffered.
    expect(r.chunks.length).toBeGreaterThan(3);
    expect(r.chunks[0]!.at).toBeLessThan(r.endedAt);
    expect(r.endedAt - r.chunks[0]!.at).toBeGreaterThan(20);

    const names = r.events.map((e) => e.event);
    expect(names[0]).toBe("sources");
    expect(names.at(-1)).toBe("done");
    expect(names.filter((n) => n === "delta").length).toBeGreaterThan(5);
    expect(r.events[0]!.data.sources.map((s: any) => s.ref)).toEqual(["Printer FAQ#0"]);
    const answer = r.events
      .filter((e) => e.event === "delta")
      .map((e) => e.data.text)
      .join("");
    expect(answer).toBe(`Echo: ${question}\nSources consulted: Printer FAQ#0.`);
    const done = r.events.at(-1)!.data;
    expect(done.usage.completion_tokens).toBeGreaterThan(0);
    expect(done.sources).toEqual(["Printer FAQ#0"]);

    const use = (await auditRows(tenant)).find((row) => row.action === "key.use" && row.details.purpose === "chat");
    expect(use).toMatchObject({ outcome: "success" });
    expect(use.details).toMatchObject({
      stream: true,
      vault_version: 1,
      usage: { completion: done.usage.completion_tokens },
    });
  });

  it("chats with an Anthropic agent using the tenant's Anthropic key, streamed and not", async () => {
    const tenant = newTenant();
    const key = anthropicKey("chatClaude");
    await storeKey(tenant, "anthropic", key);
    await createAgent(tenant, {
      agent_id: "claude",
      llm_provider: "anthropic",
      llm_model: "claude-sonnet-4-5",
      temperature: 0.3,
      max_tokens: 2000,
    });

    const r = await call("POST", "/agents/claude/chat", { as: { tenant }, body: ask("Hello there") });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      provider: "anthropic",
      model: "claude-sonnet-4-5",
      sources: [],
      message: { content: "Echo: Hello there" },
    });
    expect(r.json.usage.total_tokens).toBe(r.json.usage.prompt_tokens + r.json.usage.completion_tokens);

    const s = await callStream(
      "/agents/claude/chat",
      { ...ask("Stream this reply to me please"), stream: true },
      { tenant },
    );
    expect(
      s.events
        .filter((e) => e.event === "delta")
        .map((e) => e.data.text)
        .join(""),
    ).toBe("Echo: Stream this reply to me please");
    expect(s.events.at(-1)).toMatchObject({ event: "done", data: { finish_reason: "end_turn" } });

    const fp = await sha256Hex(key);
    const calls = (await llmCalls()).filter((c) => c.keyFingerprint === fp);
    expect(calls.map((c) => [c.provider, c.model])).toEqual([
      ["anthropic", "claude-sonnet-4-5"],
      ["anthropic", "claude-sonnet-4-5"],
    ]);
  });

  it("multi-turn: earlier turns reach the model, retrieval follows the latest question", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("chatTurns"));
    await createAgent(tenant, { agent_id: "turns" });
    await addDocument(tenant, { title: "Parking", content: "Visitor parking is behind building C." });
    const r = await call("POST", "/agents/turns/chat", {
      as: { tenant },
      body: {
        messages: [
          { role: "user", content: "Hi" },
          { role: "assistant", content: "Hello!" },
          { role: "user", content: "Where is visitor parking?" },
        ],
      },
    });
    expect(r.status).toBe(200);
    expect(r.json.message.content).toBe("Echo: Where is visitor parking?\nSources consulted: Parking#0.");
  });
});
