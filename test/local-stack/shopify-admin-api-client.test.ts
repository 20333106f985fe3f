import { createAdminApiClient } from "@shopify/admin-api-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_SHOPIFY_TOKEN, type ShopifyStandIn, startShopify } from "../../local-stack/shopify/server";

// @shopify/admin-api-client, Shopify's own client, proves the stand-in's wire format. It always
// speaks https to the shop's domain; its customFetchApi hook sends the same request to the
// stand-in's http port instead (nothing else about the request changes).
let shop: ShopifyStandIn;
beforeAll(async () => {
  shop = await startShopify({ root: { products: 120, drafts: 3 } });
});
afterAll(async () => await shop.close());

const client = (accessToken = DEV_SHOPIFY_TOKEN) =>
  createAdminApiClient({
    storeDomain: new URL(shop.url).host,
    apiVersion: "2025-01",
    accessToken,
    customFetchApi: (url: string, init?: RequestInit) => fetch(url.replace(/^https:/, "http:"), init),
  });

const PRODUCTS = `query Products($first: Int!, $after: String, $query: String) {
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges { cursor node { id title handle description tags updatedAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe("Shopify stand-in, driven by @shopify/admin-api-client", () => {
  it("answers the shop query with extensions.cost", async () => {
    const r = await client().request(`query { shop { name myshopifyDomain } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data.shop.myshopifyDomain).toMatch(/\.myshopify\.com$/);
    expect(r.extensions?.cost).toMatchObject({
      requestedQueryCost: 1,
      throttleStatus: { maximumAvailable: 2000, restoreRate: 100 },
    });
  });

  it("pages products with cursors and pageInfo until hasNextPage is false", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const r: any = await client().request(PRODUCTS, { variables: { first: 50, after, query: "status:active" } });
      expect(r.errors).toBeUndefined();
      seen.push(...r.data.products.edges.map((e: any) => e.node.id));
      if (!r.data.products.pageInfo.hasNextPage) break;
      after = r.data.products.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(120);
    expect(new Set(seen).size).toBe(120);
    expect(seen[0]).toMatch(/^gid:\/\/shopify\/Product\/\d+$/);
  });

  it("filters with updated_at:> and status:", async () => {
    const all: any = await client().request(PRODUCTS, { variables: { first: 250, query: "status:active" } });
    const cut = all.data.products.edges[99].node.updatedAt;
    const newer: any = await client().request(PRODUCTS, {
      variables: { first: 250, query: `status:active updated_at:>'${cut}'` },
    });
    expect(newer.data.products.edges).toHaveLength(20);
    const drafts: any = await client().request(PRODUCTS, { variables: { first: 250, query: "status:draft" } });
    expect(drafts.data.products.edges).toHaveLength(3);
  });

  it("refuses a wrong access token with 401, and a too-large page with a GraphQL error", async () => {
    const bad = await client("shpat_wrongwrongwrongwrongwrong00").request(`query { shop { name } }`);
    expect(bad.errors?.networkStatusCode).toBe(401);
    const big: any = await client().request(PRODUCTS, { variables: { first: 251 } });
    expect(big.errors?.graphQLErrors?.[0]?.message).toContain("between 0 and 250");
  });

  it("throttles by cost: a query costing more than the bucket holds is THROTTLED", async () => {
    await fetch(`${shop.url}/__standin/shops/root/bucket`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ available: 10 }),
    });
    const r: any = await client().request(PRODUCTS, { variables: { first: 250 } });
    expect(r.errors?.graphQLErrors?.[0]?.extensions?.code).toBe("THROTTLED");
    expect(r.extensions?.cost?.requestedQueryCost).toBe(252);
    expect(r.extensions?.cost?.throttleStatus?.currentlyAvailable).toBeLessThan(252);
  });
});
