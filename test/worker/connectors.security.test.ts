import { describe, expect, it } from "vitest";
import { createWpConnector, syncAndWait, WP_PASSWORD, wpSite } from "./support/connectors";
import { openaiKey, storeKey } from "./support/knowledge";
import { auditRows, sql, vaultRaw } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

describe("connectors: credentials and isolation", () => {
  it("stores credentials in Vault only; responses, audit rows and the table show hints", async () => {
    const tenant = newTenant();
    const site = await wpSite({ posts: 2, pages: 0 });
    const created = await call("POST", "/connectors", {
      as: { tenant },
      body: {
        type: "wordpress",
        name: "Blog",
        settings: { site_url: site.url },
        credentials: { username: "editor", application_password: WP_PASSWORD },
      },
    });
    expect(created.status).toBe(201);
    const secretPart = WP_PASSWORD.replace(/\s/g, "");
    const id = created.json.id;
    const vault = await vaultRaw("GET", `secret/data/tenants/${tenant}/connectors/${id}`);
    expect(vault.json.data.data.credentials).toEqual({ username: "editor", application_password: WP_PASSWORD });

    const list = await call("GET", "/connectors", { as: { tenant, roles: ["member"] } });
    const read = await call("GET", `/connectors/${id}`, { as: { tenant, roles: ["member"] } });
    const rotated = await call("PATCH", `/connectors/${id}`, {
      as: { tenant },
      body: { credentials: { username: "editor", application_password: WP_PASSWORD } },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.json.credentials.version).toBe(2);
    const rows = await sql().query("SELECT * FROM connector_configs WHERE tenant_id = $1", [tenant]);
    const audit = await auditRows(tenant);
    for (const text of [
      created.text,
      list.text,
      read.text,
      rotated.text,
      JSON.stringify(rows),
      JSON.stringify(audit),
    ]) {
      expect(text).not.toContain(secretPart);
      expect(text).not.toContain(WP_PASSWORD);
    }
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(["connector.create", "connector.list", "connector.read", "connector.rotate_credentials"]),
    );
    // Connector rows never show up as provider keys.
    const keys = await call("GET", "/vault/keys", { as: { tenant } });
    expect(keys.json.keys).toEqual([]);
  });

  it("another tenant never sees, syncs or deletes the connector, nor finds its content", async () => {
    const a = newTenant();
    const b = newTenant();
    await storeKey(a, "openai", openaiKey("isoA"));
    await storeKey(b, "openai", openaiKey("isoB"));
    const site = await wpSite({ posts: 8, pages: 0 });
    const connector = await createWpConnector(a, site.url);
    const run = await syncAndWait(a, connector.id);
    expect(run.status).toBe("succeeded");

    for (const [method, path] of [
      ["GET", `/connectors/${connector.id}`],
      ["PATCH", `/connectors/${connector.id}`],
      ["DELETE", `/connectors/${connector.id}`],
      ["POST", `/connectors/${connector.id}/sync`],
      ["GET", `/connectors/${connector.id}/runs`],
      ["GET", `/connectors/${connector.id}/runs/${run.run_id}`],
    ] as const) {
      const r = await call(method, path, {
        as: { tenant: b },
        body: method === "PATCH" ? { name: "mine" } : undefined,
      });
      expect(r.status, `${method} ${path}`).toBe(404);
    }
    expect((await call("GET", "/connectors", { as: { tenant: b } })).json.items).toEqual([]);
    const search = await call("POST", "/knowledge/search", { as: { tenant: b }, body: { query: "model X103", k: 5 } });
    expect(search.json.results).toEqual([]);
    expect((await call("GET", `/connectors/${connector.id}`, { as: { tenant: a } })).json.documents).toBe(8);
  });

  it("delete removes the synced documents by default, or keeps them as ordinary documents", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("wpDelete"));
    const site = await wpSite({ posts: 4, pages: 0 });
    const removeMe = await createWpConnector(tenant, site.url);
    const keepMe = await createWpConnector(tenant, site.url, { name: "Second copy" });
    await syncAndWait(tenant, removeMe.id);
    await syncAndWait(tenant, keepMe.id);
    const docs = async () =>
      (
        await sql().query("SELECT count(DISTINCT document_id)::int AS n FROM knowledge_base WHERE tenant_id = $1", [
          tenant,
        ])
      )[0]!.n;
    expect(await docs()).toBe(8);

    const removed = await call("DELETE", `/connectors/${removeMe.id}`, { as: { tenant } });
    expect(removed.json).toMatchObject({ deleted: true, knowledge: "removed", documents: 4 });
    expect(await docs()).toBe(4);
    const kept = await call("DELETE", `/connectors/${keepMe.id}?knowledge=keep`, { as: { tenant } });
    expect(kept.json).toMatchObject({ deleted: true, knowledge: "kept", documents: 4 });
    expect(await docs()).toBe(4);
    expect((await vaultRaw("GET", `secret/data/tenants/${tenant}/connectors/${keepMe.id}`)).status).toBe(404);
    expect((await call("GET", "/connectors", { as: { tenant } })).json.items).toEqual([]);
    const runs = await sql().query("SELECT count(*)::int AS n FROM connector_runs WHERE tenant_id = $1", [tenant]);
    expect(runs[0]!.n).toBe(0);
  });
});
