import { describe, expect, it } from "vitest";
import { connectorFetch, urlProblem } from "../../src/connectors/http";
import { ConnectorError } from "../../src/connectors/types";
import { createWpConnector, syncAndWait, WP_PASSWORD, WP_USER, wpControl, wpSite } from "./support/connectors";
import { openaiKey, storeKey } from "./support/knowledge";
import { llmCalls, sha256Hex, sql } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const count = async (table: string, tenant: string) =>
  (await sql().query(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [tenant]))[0]!.n as number;

describe("connectors: bad credentials and bad input", () => {
  it("refuses a wrong application password with 422 saying what failed, and stores nothing", async () => {
    const tenant = newTenant();
    const site = await wpSite({ posts: 3, pages: 0 });
    const r = await call("POST", "/connectors", {
      as: { tenant },
      body: {
        type: "wordpress",
        name: "Blog",
        settings: { site_url: site.url },
        credentials: { username: WP_USER, application_password: "wxyz WXYZ 0000 aaaa BBBB 9999" },
      },
    });
    expect(r.status).toBe(422);
    expect(r.json).toMatchObject({ code: "connector_check_failed" });
    expect(r.json.detail).toContain("WordPress refused the user name or application password (HTTP 401)");
    expect(r.text).not.toContain("wxyz");
    expect(await count("connector_configs", tenant)).toBe(0);
  });

  it("refuses a site that is not WordPress, a private site read anonymously, and half-given credentials", async () => {
    const tenant = newTenant();
    const site = await wpSite({ posts: 1, private: true });
    const anon = await call("POST", "/connectors", {
      as: { tenant },
      body: { type: "wordpress", name: "x", settings: { site_url: site.url }, credentials: {} },
    });
    expect(anon.status).toBe(422);
    expect(anon.json.detail).toContain("requires credentials");
    const notWp = await call("POST", "/connectors", {
      as: { tenant },
      body: { type: "wordpress", name: "x", settings: { site_url: `${site.url}/nothing-here` }, credentials: {} },
    });
    expect(notWp.status).toBe(422);
    expect(notWp.json.detail).toContain("No WordPress REST API");
    const half = await call("POST", "/connectors", {
      as: { tenant },
      body: { type: "wordpress", name: "x", settings: { site_url: site.url }, credentials: { username: "a" } },
    });
    expect(half.status).toBe(400);
    expect(half.json.code).toBe("validation_failed");
    const unknown = await call("POST", "/connectors", {
      as: { tenant },
      body: { type: "ftp", name: "x", settings: {}, credentials: {} },
    });
    expect(unknown.status).toBe(400);
  });

  it("a sync whose credentials were revoked fails with the step and a stable code", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("wpRevoked"));
    const site = await wpSite({ posts: 5, pages: 0, users: { [WP_USER]: WP_PASSWORD } });
    const connector = await createWpConnector(tenant, site.url);
    // Rotate to a password the site does not know: the update checks it and refuses.
    const bad = await call("PATCH", `/connectors/${connector.id}`, {
      as: { tenant },
      body: { credentials: { username: WP_USER, application_password: "zzzz zzzz zzzz zzzz zzzz zzzz" } },
    });
    expect(bad.status).toBe(422);
    // The site revokes the password behind our back (401 on every call).
    await wpControl(site.name).faults({ status: 401 });
    const before = await wpControl(site.name).requests();
    const run = await syncAndWait(tenant, connector.id, "errored");
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ step: "ids posts page 1", code: "source_auth_failed" });
    expect(run.error.message).toBe("WordPress refused the user name or application password (HTTP 401).");
    // Fatal: the step is not retried (retrying cannot fix a refused password), so the site saw one request.
    expect((await wpControl(site.name).requests()) - before).toBe(1);
  });
});

describe("connectors: resilience", () => {
  it("rides out a 429 storm by waiting for Retry-After, without failing or duplicating", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("wp429"));
    const site = await wpSite({ posts: 120, pages: 0 });
    const connector = await createWpConnector(tenant, site.url);
    const wp = wpControl(site.name);
    await wp.faults({ status: 429, retryAfter: 30, count: 8 });
    const run = await syncAndWait(tenant, connector.id);
    expect(run).toMatchObject({ status: "succeeded", counts: { seen: 120, added: 120, failed: 0 } });
    expect(await count("connector_items", tenant)).toBe(120);
  });

  it("retries a step that failed with a 5xx and completes with each item once", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("wp5xx"));
    const site = await wpSite({ posts: 120, pages: 0 });
    const connector = await createWpConnector(tenant, site.url);
    await wpControl(site.name).faults({ status: 503, after: 3, count: 2 });
    const run = await syncAndWait(tenant, connector.id);
    expect(run).toMatchObject({ status: "succeeded", counts: { added: 120 } });
    expect(await count("connector_items", tenant)).toBe(120);
  });

  it("a run interrupted mid-way is resumed by the next one: no duplicates, done items not embedded again", async () => {
    const tenant = newTenant();
    const key = openaiKey("wpResume");
    await storeKey(tenant, "openai", key);
    const site = await wpSite({ posts: 120, pages: 0 });
    const wp = wpControl(site.name);
    const connector = await createWpConnector(tenant, site.url);
    // ids page 1, ids page 2, items page 1 pass; then the site goes down for good (past every retry).
    await wp.faults({ status: 500, after: 3 });
    const failed = await syncAndWait(tenant, connector.id, "errored");
    expect(failed).toMatchObject({
      status: "failed",
      error: { step: "sync posts page 2", code: "source_unavailable" },
    });
    expect(failed.counts).toMatchObject({ added: 50 });
    expect(await count("connector_items", tenant)).toBe(50);

    await wp.clearFaults();
    const fp = await sha256Hex(key);
    const before = (await llmCalls()).filter((c) => c.keyFingerprint === fp).length;
    const resumed = await syncAndWait(tenant, connector.id);
    expect(resumed).toMatchObject({ status: "succeeded", counts: { seen: 120, unchanged: 50, added: 70, removed: 0 } });
    const embedCalls = (await llmCalls()).filter((c) => c.keyFingerprint === fp).length - before;
    expect(embedCalls).toBe(resumed.counts.embedding_calls);
    expect(embedCalls).toBe(2); // the two pages not yet stored, one call each
    expect(await count("connector_items", tenant)).toBe(120);
    const chunks = await sql().query(
      "SELECT count(DISTINCT document_id)::int AS docs FROM knowledge_base WHERE tenant_id = $1",
      [tenant],
    );
    expect(chunks[0]!.docs).toBe(120);
  });

  it("never runs two syncs of one connector at once (409 with the active run)", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("wpOverlap"));
    const site = await wpSite({ posts: 30, pages: 0 });
    const connector = await createWpConnector(tenant, site.url);
    await wpControl(site.name).faults({ latencyMs: 300, count: 3 });
    const first = await call("POST", `/connectors/${connector.id}/sync`, { as: { tenant } });
    expect(first.status).toBe(202);
    const second = await call("POST", `/connectors/${connector.id}/sync`, { as: { tenant } });
    expect(second.status).toBe(409);
    expect(second.json.code).toBe("conflict");
    expect(second.json.detail).toContain(first.json.run_id);
  });
});

describe("connectors: SSRF rules", () => {
  const production = { CONNECTORS_ALLOW_LOOPBACK: "false" };

  it.each([
    ["http://blog.example.com", "must be an https URL"],
    ["https://127.0.0.1:8443", "must be a public host"],
    ["https://localhost/wp", "must be a public host name"],
    ["https://169.254.169.254/latest/meta-data", "must be a public host"],
    ["https://10.1.2.3", "must be a public host"],
    ["https://192.168.0.10", "must be a public host"],
    ["https://100.64.0.1", "must be a public host"],
    ["https://[::1]/", "must be a public host"],
    ["https://[fd00::1]/", "must be a public host"],
    ["https://[::ffff:127.0.0.1]/", "must be a public host"],
    ["https://2130706433/", "must be a public host"],
    ["https://metadata.google.internal/", "must be a public host name"],
    ["https://intranet/", "must be a public host name"],
    ["https://user:pw@blog.example.com", "must not contain a user name or password"],
  ])("refuses %s without calling it", async (url, message) => {
    expect(urlProblem(url, { allowLoopback: false })).toContain(message);
    const r = await call("POST", "/connectors", {
      as: { tenant: newTenant() },
      env: production,
      body: { type: "wordpress", name: "x", settings: { site_url: url }, credentials: {} },
    });
    if (r.status === 400 && r.json.code === "validation_failed") return; // zod's url check came first
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("url_not_allowed");
  });

  it("allows public https hosts; loopback only with the development setting, which production refuses", async () => {
    expect(urlProblem("https://blog.example.com/", { allowLoopback: false })).toBeNull();
    expect(urlProblem("https://8.8.8.8/", { allowLoopback: false })).toBeNull();
    expect(urlProblem("http://127.0.0.1:8400", { allowLoopback: true })).toBeNull();
    expect(urlProblem("http://10.0.0.1", { allowLoopback: true })).not.toBeNull();
    const r = await call("GET", "/connectors", {
      as: { tenant: newTenant() },
      env: { APP_ENV: "production", CONNECTORS_ALLOW_LOOPBACK: "true" },
    });
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({
      code: "config_invalid",
      detail: "setting CONNECTORS_ALLOW_LOOPBACK is missing or invalid",
    });
  });

  it("follows redirects on the same host only; a redirect to another host is refused", async () => {
    const policy = { allowLoopback: false, timeoutMs: 1000 };
    const seen: string[] = [];
    const fetcher = (async (url: string) => {
      seen.push(url);
      if (url === "https://blog.example.com/a") return new Response(null, { status: 301, headers: { location: "/b" } });
      if (url === "https://blog.example.com/b")
        return new Response(null, { status: 302, headers: { location: "https://169.254.169.254/" } });
      return new Response("{}");
    }) as typeof fetch;
    const err = await connectorFetch(policy, "https://blog.example.com/a", {}, fetcher).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err.kind).toBe("refused_url");
    expect(seen).toEqual(["https://blog.example.com/a", "https://blog.example.com/b"]);
  });
});
