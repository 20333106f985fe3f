import { createScheduledController, env, introspectWorkflow } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Bindings } from "../../src/env";
import worker from "../../src/index";
import { createWpConnector, syncAndWait, wpControl, wpSite } from "./support/connectors";
import { createAgent, openaiKey, storeKey } from "./support/knowledge";
import { sql } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const docsOf = async (tenant: string) =>
  await sql().query(
    `SELECT document_id, min(title) AS title, count(*)::int AS chunks, (array_agg(metadata))[1] AS metadata
       FROM knowledge_base WHERE tenant_id = $1 GROUP BY document_id`,
    [tenant],
  );

describe("connectors: WordPress sync", () => {
  it("syncs every published post and page into the knowledge base, with its source URL", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("wpFull"));
    const site = await wpSite({ posts: 130, pages: 12, drafts: 3 });
    const connector = await createWpConnector(tenant, site.url);
    expect(connector).toMatchObject({
      type: "wordpress",
      settings: { site_url: site.url, content_types: ["posts", "pages"] },
      credentials: { hints: { username: "editor", application_password: "****5678" }, version: 1 },
      documents: 0,
      last_run: null,
    });

    const run = await syncAndWait(tenant, connector.id);
    expect(run).toMatchObject({
      status: "succeeded",
      trigger: "manual",
      counts: { seen: 142, added: 142, updated: 0, unchanged: 0, removed: 0, failed: 0 },
      error: null,
    });
    expect(run.duration_ms).toBeGreaterThanOrEqual(0);

    const docs = await docsOf(tenant);
    expect(docs).toHaveLength(142);
    const tip = docs.find((d: any) => d.title.startsWith("Tip 7:"))!;
    expect(tip.title).toContain("&"); // entities decoded
    expect(tip.metadata).toMatchObject({
      source: "wordpress",
      source_url: `${site.url}/post-7/`,
      external_id: "posts:7",
    });

    const search = await call("POST", "/knowledge/search", {
      as: { tenant, roles: ["member"] },
      body: { query: "model X106", k: 3 },
    });
    expect(search.status).toBe(200);
    expect(search.json.results[0].metadata.source_url).toBe(`${site.url}/post-7/`);

    // Chat cites the synced page by its URL.
    await createAgent(tenant, { agent_id: "site-bot", name: "Site bot" });
    const chat = await call("POST", "/agents/site-bot/chat", {
      as: { tenant, roles: ["member"] },
      body: { messages: [{ role: "user", content: "What does model X106 do?" }] },
    });
    expect(chat.status).toBe(200);
    expect(chat.json.sources[0]).toMatchObject({ url: `${site.url}/post-7/`, ref: expect.stringContaining("Tip 7:") });

    const read = await call("GET", `/connectors/${connector.id}`, { as: { tenant, roles: ["member"] } });
    expect(read.json).toMatchObject({ documents: 142, last_run: { status: "succeeded" } });
    expect(read.json.last_synced_at).not.toBeNull();
  });

  it("a second run syncs only what changed: edits replace, deletions remove, nothing else is embedded", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("wpIncr"));
    const site = await wpSite({ posts: 60, pages: 5, drafts: 0 });
    const wp = wpControl(site.name);
    const connector = await createWpConnector(tenant, site.url);
    expect((await syncAndWait(tenant, connector.id)).counts).toMatchObject({ added: 65 });

    const again = await syncAndWait(tenant, connector.id);
    // Only the newest second of each type is fetched again (modified_after is exclusive), and found unchanged.
    expect(again.counts).toMatchObject({ added: 0, updated: 0, removed: 0, embedding_calls: 0 });
    expect(again.counts.seen).toBeLessThanOrEqual(2);
    expect(again.counts.unchanged).toBe(again.counts.seen);

    await wp.edit(3, { content: "<p>The X103 now ships with a quantum flux capacitor.</p>" });
    await wp.remove(10);
    await wp.edit(20, { status: "draft" }); // unpublished: gone from the public site
    const added = await wp.add({ title: "Brand new post", content: "<p>Zebra-striped antenna kit.</p>" });

    const third = await syncAndWait(tenant, connector.id);
    expect(third.counts).toMatchObject({ added: 1, updated: 1, removed: 2, failed: 0 });
    const docs = await docsOf(tenant);
    expect(docs).toHaveLength(64);
    const ids = new Set(docs.map((d: any) => d.metadata.external_id));
    expect(ids.has("posts:10")).toBe(false);
    expect(ids.has("posts:20")).toBe(false);
    expect(ids.has(`posts:${added.id}`)).toBe(true);
    const edited = await sql().query(
      "SELECT content FROM knowledge_base WHERE tenant_id = $1 AND metadata->>'external_id' = 'posts:3'",
      [tenant],
    );
    expect(edited.map((r: any) => r.content).join(" ")).toContain("quantum flux capacitor");
    // One row per item: no duplicates after three runs.
    const items = await sql().query("SELECT count(*)::int AS n FROM connector_items WHERE tenant_id = $1", [tenant]);
    expect(items[0]!.n).toBe(64);
  });
});

describe("connectors: schedules (Cron Trigger)", () => {
  it("starts a run for each connector whose schedule is due, and moves its next slot on", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("wpCron"));
    const site = await wpSite({ posts: 5, pages: 0 });
    const scheduled = await createWpConnector(tenant, site.url, { schedule_minutes: 60 });
    const manual = await createWpConnector(tenant, site.url, { name: "Manual only" });
    expect(scheduled.schedule_minutes).toBe(60);
    expect(manual.schedule_minutes).toBeNull();

    await using introspector = await introspectWorkflow(env.CONNECTOR_SYNC);
    await introspector.modifyAll(async (m) => {
      await m.disableSleeps();
      await m.disableRetryDelays();
    });
    await worker.scheduled(createScheduledController({ cron: "*/5 * * * *" }), env as Bindings);
    for (const instance of await introspector.get()) await instance.waitForStatus("complete");

    const runs = await call("GET", `/connectors/${scheduled.id}/runs`, { as: { tenant } });
    expect(runs.json.items).toHaveLength(1);
    expect(runs.json.items[0]).toMatchObject({ trigger: "schedule", status: "succeeded", counts: { added: 5 } });
    expect((await call("GET", `/connectors/${manual.id}/runs`, { as: { tenant } })).json.items).toEqual([]);
    const next = Date.parse((await call("GET", `/connectors/${scheduled.id}`, { as: { tenant } })).json.next_sync_at);
    expect(next - Date.now()).toBeGreaterThan(55 * 60_000);
  });
});
