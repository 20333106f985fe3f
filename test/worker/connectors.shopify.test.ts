import { describe, expect, it } from "vitest";
import { SHOPIFY_TOKEN, shopifyShop, syncAndWait } from "./support/connectors";
import { openaiKey, storeKey } from "./support/knowledge";
import { sql } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

async function createShopConnector(tenant: string, shopUrl: string, token = SHOPIFY_TOKEN) {
  return await call("POST", "/connectors", {
    as: { tenant },
    body: { type: "shopify", name: "Shop", settings: { shop_url: shopUrl }, credentials: { access_token: token } },
  });
}

const itemCount = async (tenant: string) =>
  (await sql().query("SELECT count(*)::int AS n FROM connector_items WHERE tenant_id = $1", [tenant]))[0]!.n as number;

describe("connectors: Shopify sync", () => {
  it("syncs active products, then only what changed; drafts and deletions leave the knowledge base", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("shopFull"));
    const shop = await shopifyShop({ products: 260, drafts: 4 });
    const created = await createShopConnector(tenant, shop.url);
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({
      type: "shopify",
      settings: { shop_url: shop.url, api_version: "2025-01" },
      credentials: { hints: { access_token: "****cdef" }, version: 1 },
    });
    expect(created.text).not.toContain(SHOPIFY_TOKEN);

    const first = await syncAndWait(tenant, created.json.id);
    expect(first).toMatchObject({ status: "succeeded", counts: { seen: 260, added: 260, failed: 0 } });
    const doc = await sql().query(
      "SELECT title, content, metadata FROM knowledge_base WHERE tenant_id = $1 AND title LIKE 'Acme % S203' LIMIT 1",
      [tenant],
    );
    expect(doc[0]!.content).toContain("Tags: wifi, home");
    expect(doc[0]!.metadata.source_url).toMatch(new RegExp(`^${shop.url}/products/product-\\d+$`));

    const products = await shop.products();
    await shop.edit(products[0].id, { descriptionHtml: "<p>Now with a titanium chassis.</p>" });
    await shop.edit(products[1].id, { status: "DRAFT" });
    await shop.remove(products[2].id);
    const second = await syncAndWait(tenant, created.json.id);
    expect(second.counts).toMatchObject({ updated: 1, added: 0, removed: 2, failed: 0 });
    expect(await itemCount(tenant)).toBe(258);
  });

  it("waits out THROTTLED answers (the wait computed from extensions.cost) and 429s", async () => {
    const tenant = newTenant();
    await storeKey(tenant, "openai", openaiKey("shopThrottle"));
    const shop = await shopifyShop({ products: 60, drafts: 0 });
    const created = await createShopConnector(tenant, shop.url);
    expect(created.status).toBe(201);
    // The id query costs 252 points; with 100 available the run must wait ~2 s (real sleeps here).
    await shop.bucket(100);
    await shop.faults({ status: 429, retryAfter: 1, count: 2, after: 1 });
    const run = await syncAndWait(tenant, created.json.id, "complete", { realSleeps: true });
    expect(run).toMatchObject({ status: "succeeded", counts: { added: 60 } });
    expect(run.duration_ms).toBeGreaterThanOrEqual(1000);
  });

  it("refuses a wrong access token at create (422) and a malformed one (400)", async () => {
    const tenant = newTenant();
    const shop = await shopifyShop({ products: 1 });
    const wrong = await createShopConnector(tenant, shop.url, "shpat_ffffffffffffffffffffffffffffffff");
    expect(wrong.status).toBe(422);
    expect(wrong.json).toMatchObject({
      code: "connector_check_failed",
      detail: "Shopify refused the access token (HTTP 401).",
    });
    const malformed = await createShopConnector(tenant, shop.url, "not-a-token");
    expect(malformed.status).toBe(400);
    expect(malformed.text).not.toContain("not-a-token");
  });
});
