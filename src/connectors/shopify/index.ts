import { z } from "@hono/zod-openapi";
import { connectorFetch, readJson, retryAfterSeconds } from "../http";
import { ConnectorError, type ConnectorType, secretHint, type SourceContext, type SourceItem } from "../types";

/**
 * Shopify over the Admin GraphQL API: active products (title, description,
 * handle, tags, updatedAt), Relay cursor paging with `pageInfo`, increments
 * with the search query `updated_at:>'…'`, authenticated with an Admin API
 * access token (`X-Shopify-Access-Token`). Throttling: a THROTTLED answer
 * waits for the points it lacks at the bucket's restore rate
 * (`extensions.cost.throttleStatus`); a 429 waits for its Retry-After.
 */

const Settings = z.object({
  shop_url: z.url().max(2048).openapi({ example: "https://acme.myshopify.com" }),
  api_version: z
    .string()
    .regex(/^\d{4}-(01|04|07|10)$/, "must be a Shopify API version such as 2025-01")
    .default("2025-01"),
});

const Credentials = z
  .object({
    access_token: z
      .string()
      .regex(/^shp(at|ca|pa|ss)_[A-Za-z0-9]{16,128}$/, "must be a Shopify Admin API access token (shpat_…)"),
  })
  .strict()
  .openapi({ description: "An Admin API access token with read_products." });

type ShopSettings = z.output<typeof Settings>;
type ShopCredentials = z.output<typeof Credentials>;
type Ctx = SourceContext<ShopSettings, ShopCredentials>;

const IDS_PER_PAGE = 250;
const ITEMS_PER_PAGE = 50;

interface GraphQLAnswer<T> {
  data?: T;
  errors?: Array<{ message?: string; extensions?: { code?: string } }> | string;
  extensions?: {
    cost?: {
      requestedQueryCost?: number;
      throttleStatus?: { currentlyAvailable?: number; restoreRate?: number };
    };
  };
}

interface ProductPage {
  products: {
    nodes: Array<{
      id: string;
      title?: string;
      handle?: string;
      description?: string;
      tags?: string[];
      updatedAt?: string;
      onlineStoreUrl?: string | null;
    }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

const endpoint = (s: ShopSettings) => `${s.shop_url.replace(/\/+$/, "")}/admin/api/${s.api_version}/graphql.json`;

/** One GraphQL call; statuses and GraphQL errors become ConnectorErrors (THROTTLED → rate_limited with a computed wait). */
async function query<T>(ctx: Ctx, source: string, variables: Record<string, unknown>): Promise<T> {
  const res = await connectorFetch(
    ctx.policy,
    endpoint(ctx.settings),
    {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-Shopify-Access-Token": ctx.credentials.access_token,
      },
      body: JSON.stringify({ query: source, variables }),
    },
    ctx.fetch,
  );
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw new ConnectorError("auth", `Shopify refused the access token (HTTP ${res.status}).`);
  }
  if (res.status === 429) {
    await res.body?.cancel();
    const wait = retryAfterSeconds(res, 2);
    throw new ConnectorError("rate_limited", `Shopify is rate limiting; retry after ${wait} s.`, wait);
  }
  if (res.status >= 500) {
    await res.body?.cancel();
    throw new ConnectorError("unavailable", `Shopify answered HTTP ${res.status}.`);
  }
  if (res.status === 404) {
    await res.body?.cancel();
    throw new ConnectorError("bad_response", `No Shopify Admin API at ${endpoint(ctx.settings)} (HTTP 404).`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new ConnectorError("bad_response", `Shopify answered HTTP ${res.status}.`);
  }
  const body = await readJson<GraphQLAnswer<T>>(res, "Shopify's answer");
  if (Array.isArray(body.errors) && body.errors.length > 0) {
    if (body.errors.some((e) => e.extensions?.code === "THROTTLED")) {
      const cost = body.extensions?.cost;
      const lacking = (cost?.requestedQueryCost ?? 100) - (cost?.throttleStatus?.currentlyAvailable ?? 0);
      const wait = Math.ceil(Math.max(lacking, 1) / Math.max(cost?.throttleStatus?.restoreRate ?? 50, 1));
      throw new ConnectorError("rate_limited", `Shopify throttled the query; retry after ${wait} s.`, wait);
    }
    if (body.errors.some((e) => e.extensions?.code === "ACCESS_DENIED")) {
      throw new ConnectorError("auth", "The access token lacks the read_products scope.");
    }
    throw new ConnectorError("bad_response", "Shopify refused the query (GraphQL errors).");
  }
  if (!body.data) throw new ConnectorError("bad_response", "Shopify's answer has no data.");
  return body.data;
}

/** One second before `updatedAt`, so the exclusive `updated_at:>` misses nothing updated in the same second. */
function justBefore(updatedAt: string): string {
  const t = Date.parse(updatedAt);
  return Number.isNaN(t) ? updatedAt : new Date(t - 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const IDS_QUERY = `query ProductIds($first: Int!, $after: String, $query: String) {
  products(first: $first, after: $after, query: $query, sortKey: ID) {
    nodes { id }
    pageInfo { hasNextPage endCursor }
  }
}`;

const ITEMS_QUERY = `query ChangedProducts($first: Int!, $after: String, $query: String) {
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes { id title handle description tags updatedAt onlineStoreUrl }
    pageInfo { hasNextPage endCursor }
  }
}`;

const numericId = (gid: string) => gid.split("/").pop() ?? gid;

function toItem(settings: ShopSettings, p: ProductPage["products"]["nodes"][number]): SourceItem {
  const tags = p.tags?.length ? `\n\nTags: ${p.tags.join(", ")}` : "";
  return {
    externalId: `product:${numericId(p.id)}`,
    title: p.title || `Product ${numericId(p.id)}`,
    text: `${p.description ?? ""}${tags}`.trim(),
    url: p.onlineStoreUrl ?? (p.handle ? `${settings.shop_url.replace(/\/+$/, "")}/products/${p.handle}` : null),
    modified: p.updatedAt ?? "",
  };
}

export const shopify: ConnectorType<ShopSettings, ShopCredentials> = {
  type: "shopify",
  label: "Shopify",
  settings: Settings,
  credentials: Credentials,
  urlField: "shop_url",
  siteUrl: (s) => s.shop_url,
  hints: (c) => ({ access_token: secretHint(c.access_token) }),

  async check(ctx) {
    const data = await query<{ shop?: { name?: string } }>(ctx, "query { shop { name } }", {});
    if (typeof data.shop?.name !== "string") throw new ConnectorError("bad_response", "The shop did not name itself.");
  },

  streams: () => ["products"],

  async listIds(ctx, _stream, page) {
    const data = await query<ProductPage>(ctx, IDS_QUERY, { first: IDS_PER_PAGE, after: page, query: "status:active" });
    const { nodes, pageInfo } = data.products;
    return {
      ids: nodes.map((n) => `product:${numericId(n.id)}`),
      next: pageInfo.hasNextPage ? pageInfo.endCursor : null,
    };
  },

  async listChanged(ctx, _stream, since, page) {
    const filter = since ? `status:active updated_at:>'${justBefore(since)}'` : "status:active";
    const data = await query<ProductPage>(ctx, ITEMS_QUERY, { first: ITEMS_PER_PAGE, after: page, query: filter });
    const { nodes, pageInfo } = data.products;
    return {
      items: nodes.map((n) => toItem(ctx.settings, n)),
      next: pageInfo.hasNextPage ? pageInfo.endCursor : null,
    };
  },
};
