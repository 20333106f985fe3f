import { env, introspectWorkflow } from "cloudflare:test";
import { expect } from "vitest";
import { call } from "./worker";

/** Creates a WordPress site of its own on the stand-in (so tests never share content); returns its URL. */
export async function wpSite(opts: Record<string, unknown> = {}): Promise<{ url: string; name: string }> {
  const name = `s-${crypto.randomUUID().slice(0, 8)}`;
  const res = await fetch(`${env.TEST_WORDPRESS_URL}/__standin/sites`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, ...opts }),
  });
  if (res.status !== 201) throw new Error(`creating site: ${res.status}`);
  return (await res.json()) as { url: string; name: string };
}

/** The stand-in's control API for one site. */
export function wpControl(name: string) {
  const base = `${env.TEST_WORDPRESS_URL}/__standin/sites/${name}`;
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}/${path}`, {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`wp control ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  return {
    faults: (spec: Record<string, unknown>) => send("PUT", "faults", spec),
    clearFaults: () => send("DELETE", "faults"),
    items: async (): Promise<any[]> => (await send("GET", "items")).items,
    add: (item: Record<string, unknown>) => send("POST", "items", item),
    edit: (id: number, patch: Record<string, unknown>) => send("PATCH", `items/${id}`, patch),
    remove: (id: number) => send("DELETE", `items/${id}`),
    requests: async (): Promise<number> => (await send("GET", "requests")).requests,
  };
}

export const WP_USER = "editor";
export const WP_PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678";

/** Creates a WordPress connector as the tenant's admin; returns the API's answer. */
export async function createWpConnector(tenant: string, siteUrl: string, extra: Record<string, unknown> = {}) {
  const r = await call("POST", "/connectors", {
    as: { tenant },
    body: {
      type: "wordpress",
      name: "Support site",
      settings: { site_url: siteUrl },
      credentials: { username: WP_USER, application_password: WP_PASSWORD },
      ...extra,
    },
  });
  if (r.status !== 201) throw new Error(`creating connector: ${r.status} ${r.text}`);
  return r.json;
}

/**
 * Starts a sync through the API and waits for its Workflow instance to end
 * (sleeps and retry delays disabled, so 429 waits and backoff take no time).
 * Returns the run as the API reports it.
 */
export async function syncAndWait(
  tenant: string,
  connectorId: string,
  expected: "complete" | "errored" = "complete",
  opts: { realSleeps?: boolean } = {},
): Promise<any> {
  await using introspector = await introspectWorkflow(env.CONNECTOR_SYNC);
  await introspector.modifyAll(async (m) => {
    if (!opts.realSleeps) await m.disableSleeps();
    await m.disableRetryDelays();
  });
  const started = await call("POST", `/connectors/${connectorId}/sync`, { as: { tenant } });
  expect(started.status, started.text).toBe(202);
  const [instance] = await introspector.get();
  await instance!.waitForStatus(expected);
  const run = await call("GET", `/connectors/${connectorId}/runs/${started.json.run_id}`, { as: { tenant } });
  expect(run.status).toBe(200);
  return run.json;
}

/** Creates a Shopify shop of its own on the stand-in; returns its URL and control API. */
export async function shopifyShop(opts: Record<string, unknown> = {}) {
  const name = `shop-${crypto.randomUUID().slice(0, 8)}`;
  const res = await fetch(`${env.TEST_SHOPIFY_URL}/__standin/shops`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, ...opts }),
  });
  if (res.status !== 201) throw new Error(`creating shop: ${res.status}`);
  const { url } = (await res.json()) as { url: string };
  const base = `${env.TEST_SHOPIFY_URL}/__standin/shops/${name}`;
  const send = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${base}/${path}`, {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`shop control ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  return {
    url,
    faults: (spec: Record<string, unknown>) => send("PUT", "faults", spec),
    bucket: (available: number) => send("PUT", "bucket", { available }),
    products: async (): Promise<any[]> => (await send("GET", "products")).products,
    add: (p: Record<string, unknown>) => send("POST", "products", p),
    edit: (id: number, patch: Record<string, unknown>) => send("PATCH", `products/${id}`, patch),
    remove: (id: number) => send("DELETE", `products/${id}`),
  };
}

export const SHOPIFY_TOKEN = "shpat_0123456789abcdef0123456789abcdef";
