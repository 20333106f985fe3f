/**
 * A stand-in for the Shopify Admin GraphQL API (`POST /admin/api/<version>/graphql.json`),
 * enough to sync products from: a real GraphQL schema (graphql-js) for `shop` and
 * `products(first/after/last/before, query, sortKey, reverse)` with Relay cursor
 * paging (`edges`/`nodes`/`pageInfo`), the search syntax the sync uses
 * (`updated_at:>'…'`, `status:active`), `X-Shopify-Access-Token` authentication,
 * and Shopify's cost-based throttling: every answer carries `extensions.cost`
 * (requested/actual cost, a leaky bucket of 2,000 points restoring 100/s), and a
 * query costing more than is available gets `errors: [{ extensions: { code: "THROTTLED" } }]`.
 *
 * Several shops live side by side: the root shop and `/shops/<name>/admin/api/…`.
 * Control endpoints (`/__standin/shops/<name|root>/…`) edit products and set fault
 * knobs (429 with Retry-After, 5xx, slow) per shop.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { buildSchema, type DocumentNode, graphql, Kind, parse, type ValueNode } from "graphql";
import { paragraph, prng, SourceFaults, type SourceFaultSpec } from "../source-faults";
import { listen, readText } from "../http-server";

export const DEV_SHOPIFY_TOKEN = "shpat_0123456789abcdef0123456789abcdef";
const BUCKET = 2000;
const RESTORE_PER_SECOND = 100;
const MAX_PAGE = 250;

const SCHEMA = buildSchema(`
  scalar DateTime
  scalar URL
  enum ProductSortKeys { ID TITLE UPDATED_AT CREATED_AT }
  enum ProductStatus { ACTIVE ARCHIVED DRAFT }
  type Domain { url: URL! host: String! }
  type Shop { name: String! myshopifyDomain: String! primaryDomain: Domain! }
  type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
  type Product {
    id: ID!
    title: String!
    handle: String!
    description(truncateAt: Int): String!
    descriptionHtml: String!
    tags: [String!]!
    vendor: String!
    productType: String!
    status: ProductStatus!
    onlineStoreUrl: URL
    createdAt: DateTime!
    updatedAt: DateTime!
  }
  type ProductEdge { cursor: String! node: Product! }
  type ProductConnection { edges: [ProductEdge!]! nodes: [Product!]! pageInfo: PageInfo! }
  type Query {
    shop: Shop!
    products(first: Int, after: String, last: Int, before: String, query: String, sortKey: ProductSortKeys = ID, reverse: Boolean = false): ProductConnection!
  }
`);

export interface ShopProduct {
  id: number;
  title: string;
  handle: string;
  descriptionHtml: string;
  tags: string[];
  status: "ACTIVE" | "ARCHIVED" | "DRAFT";
  createdAt: string;
  updatedAt: string;
}

export interface ShopOptions {
  products?: number;
  drafts?: number;
  token?: string;
  seed?: number;
}

class Shop {
  products = new Map<number, ShopProduct>();
  nextId = 8_000_000_001;
  faults = new SourceFaults();
  requests = 0;
  token: string;
  available = BUCKET;
  at = Date.now();

  constructor(
    readonly name: string,
    opts: ShopOptions,
  ) {
    this.token = opts.token ?? DEV_SHOPIFY_TOKEN;
    const rand = prng(opts.seed ?? 7);
    const base = Date.UTC(2024, 2, 1);
    const add = (i: number, status: ShopProduct["status"]) => {
      const t = new Date(base + i * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
      this.insert({
        title: `Acme ${["Router", "Mesh Node", "Modem", "Switch", "Antenna"][i % 5]} S${200 + i}`,
        descriptionHtml: `<p>The S${200 + i} ${paragraph(rand, 3)}</p>`,
        tags: [["wifi", "home"], ["office"], ["outdoor", "wifi"]][i % 3]!,
        status,
        createdAt: t,
        updatedAt: t,
      });
    };
    for (let i = 0; i < (opts.products ?? 300); i++) add(i, "ACTIVE");
    for (let i = 0; i < (opts.drafts ?? 5); i++) add(1000 + i, "DRAFT");
  }

  insert(p: Omit<ShopProduct, "id" | "handle"> & { handle?: string }): ShopProduct {
    const id = this.nextId++;
    const product: ShopProduct = { ...p, id, handle: p.handle ?? `product-${id}` };
    this.products.set(id, product);
    return product;
  }

  /** Leaky bucket: refill since the last call, then try to take `cost`. */
  take(cost: number): boolean {
    const now = Date.now();
    this.available = Math.min(BUCKET, this.available + ((now - this.at) / 1000) * RESTORE_PER_SECOND);
    this.at = now;
    if (cost > this.available) return false;
    this.available -= cost;
    return true;
  }
}

const gid = (id: number) => `gid://shopify/Product/${id}`;
const encodeCursor = (p: ShopProduct, key: string) =>
  Buffer.from(JSON.stringify({ last_id: p.id, last_value: sortValue(p, key) })).toString("base64");
function sortValue(p: ShopProduct, key: string): string | number {
  if (key === "TITLE") return p.title;
  if (key === "UPDATED_AT") return p.updatedAt;
  if (key === "CREATED_AT") return p.createdAt;
  return p.id;
}

/** The subset of Shopify's search syntax the sync uses: `updated_at:>'…'`, `status:active`, bare terms in the title. */
function matches(p: ShopProduct, query: string | undefined): boolean {
  if (!query) return true;
  for (const m of query.matchAll(/(\w+):(>=|<=|>|<)?('[^']*'|"[^"]*"|\S+)|(\S+)/g)) {
    if (m[4]) {
      if (!p.title.toLowerCase().includes(m[4].toLowerCase())) return false;
      continue;
    }
    const [field, op, raw] = [m[1]!, m[2] ?? "", m[3]!.replace(/^['"]|['"]$/g, "")];
    if (field === "status") {
      if (!raw.split(",").some((s) => s.toUpperCase() === p.status)) return false;
    } else if (field === "updated_at" || field === "created_at") {
      const v = Date.parse(field === "updated_at" ? p.updatedAt : p.createdAt);
      const t = Date.parse(raw);
      if (Number.isNaN(t)) continue; // Shopify ignores a filter it cannot read
      if (
        (op === ">" && !(v > t)) ||
        (op === ">=" && !(v >= t)) ||
        (op === "<" && !(v < t)) ||
        (op === "<=" && !(v <= t))
      )
        return false;
      if (op === "" && v !== t) return false;
    }
  }
  return true;
}

function productsResolver(shop: Shop, shopUrl: string) {
  return (args: {
    first?: number;
    after?: string;
    last?: number;
    before?: string;
    query?: string;
    sortKey: string;
    reverse: boolean;
  }) => {
    if ((args.first == null) === (args.last == null)) throw new Error("you must provide one of first or last");
    const n = args.first ?? args.last!;
    if (n < 0 || n > MAX_PAGE) throw new Error(`The connection's page size must be between 0 and ${MAX_PAGE}`);
    const rows = [...shop.products.values()].filter((p) => matches(p, args.query));
    rows.sort((a, b) => {
      const [x, y] = [sortValue(a, args.sortKey), sortValue(b, args.sortKey)];
      const c = x < y ? -1 : x > y ? 1 : a.id - b.id;
      return args.reverse ? -c : c;
    });
    const indexOf = (cursor: string) => {
      const { last_id } = JSON.parse(Buffer.from(cursor, "base64").toString("utf8")) as { last_id: number };
      return rows.findIndex((p) => p.id === last_id);
    };
    let start = 0;
    let end = rows.length;
    if (args.after) start = indexOf(args.after) + 1;
    if (args.before) end = indexOf(args.before);
    const window = rows.slice(start, end);
    const page = args.first != null ? window.slice(0, n) : window.slice(Math.max(0, window.length - n));
    const offset = start + (args.first != null ? 0 : Math.max(0, window.length - n));
    const nodes = page.map((p) => ({
      id: gid(p.id),
      title: p.title,
      handle: p.handle,
      description: ({ truncateAt }: { truncateAt?: number }) => {
        const text = p.descriptionHtml.replace(/<[^>]+>/g, "").trim();
        return truncateAt ? text.slice(0, truncateAt) : text;
      },
      descriptionHtml: p.descriptionHtml,
      tags: p.tags,
      vendor: "Acme",
      productType: p.title.split(" ")[1],
      status: p.status,
      onlineStoreUrl: p.status === "ACTIVE" ? `${shopUrl}/products/${p.handle}` : null,
      createdAt: p.createdAt,
      updatedAt: p.updatedAt,
    }));
    return {
      nodes,
      edges: nodes.map((node, i) => ({ cursor: encodeCursor(page[i]!, args.sortKey), node })),
      pageInfo: {
        hasNextPage: offset + page.length < rows.length,
        hasPreviousPage: offset > 0,
        startCursor: page[0] ? encodeCursor(page[0], args.sortKey) : null,
        endCursor: page.at(-1) ? encodeCursor(page.at(-1)!, args.sortKey) : null,
      },
    };
  };
}

/** Shopify's cost model, simplified: 1 per object field, a connection 2 + its page size. */
function requestedCost(doc: DocumentNode, variables: Record<string, unknown>): number {
  let cost = 0;
  const value = (v: ValueNode | undefined): number => {
    if (!v) return 0;
    if (v.kind === Kind.INT) return Number(v.value);
    if (v.kind === Kind.VARIABLE) return Number(variables[v.name.value] ?? 0);
    return 0;
  };
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const sel of def.selectionSet.selections) {
      if (sel.kind !== Kind.FIELD) continue;
      if (sel.name.value === "products") {
        const first = sel.arguments?.find((a) => a.name.value === "first" || a.name.value === "last");
        cost += 2 + value(first?.value);
      } else cost += 1;
    }
  }
  return Math.max(cost, 1);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
}

async function handleShop(req: IncomingMessage, res: ServerResponse, shop: Shop, shopUrl: string, path: string) {
  shop.requests++;
  const fault = shop.faults.take(path);
  if (fault?.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs));
  if (fault?.status) {
    const headers: Record<string, string> =
      fault.retryAfter !== undefined ? { "Retry-After": String(fault.retryAfter) } : {};
    return send(
      res,
      fault.status,
      { errors: fault.status === 429 ? "Exceeded 2 calls per second for api client." : "Internal Server Error" },
      headers,
    );
  }
  if (!/^\/admin\/api\/\d{4}-\d{2}\/graphql\.json$/.test(path)) return send(res, 404, { errors: "Not Found" });
  if (req.method !== "POST") return send(res, 405, { errors: "Method Not Allowed" });
  if (req.headers["x-shopify-access-token"] !== shop.token) {
    return send(res, 401, { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" });
  }
  let body: { query?: unknown; variables?: Record<string, unknown> };
  try {
    body = JSON.parse(await readText(req));
  } catch {
    return send(res, 400, { errors: { query: "Required parameter missing or invalid" } });
  }
  if (typeof body.query !== "string")
    return send(res, 400, { errors: { query: "Required parameter missing or invalid" } });
  let doc: DocumentNode;
  try {
    doc = parse(body.query);
  } catch (err) {
    return send(res, 200, { errors: [{ message: (err as Error).message, extensions: { code: "PARSE_ERROR" } }] });
  }
  const variables = body.variables ?? {};
  const requested = requestedCost(doc, variables);
  const throttle = () => ({
    maximumAvailable: BUCKET,
    currentlyAvailable: Math.floor(shop.available),
    restoreRate: RESTORE_PER_SECOND,
  });
  if (!shop.take(requested)) {
    return send(res, 200, {
      errors: [
        {
          message: "Throttled",
          extensions: { code: "THROTTLED", documentation: "https://shopify.dev/api/usage/rate-limits" },
        },
      ],
      extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: throttle() } },
    });
  }
  const result = await graphql({
    schema: SCHEMA,
    source: body.query,
    variableValues: variables,
    rootValue: {
      shop: {
        name: `Acme ${shop.name || "Store"}`,
        myshopifyDomain: `${shop.name || "acme"}.myshopify.com`,
        primaryDomain: { url: shopUrl, host: new URL(shopUrl).host },
      },
      products: productsResolver(shop, shopUrl),
    },
  });
  const returned = JSON.stringify(result.data ?? {}).match(/"id":"gid:/g)?.length ?? 0;
  const actual = Math.min(requested, 2 + returned);
  shop.available = Math.min(BUCKET, shop.available + (requested - actual)); // unused points are refunded
  send(res, 200, {
    ...(result.errors
      ? { errors: result.errors.map((e) => ({ message: e.message, locations: e.locations, path: e.path })) }
      : {}),
    ...(result.data ? { data: result.data } : {}),
    extensions: { cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: throttle() } },
  });
}

export interface ShopifyStandIn {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the stand-in; the root shop has 300 active products and 5 drafts. */
export async function startShopify(
  opts: { port?: number; host?: string; root?: ShopOptions } = {},
): Promise<ShopifyStandIn> {
  const shops = new Map<string, Shop>([["", new Shop("", opts.root ?? {})]]);
  let base = "";
  const server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? "/", "http://stand-in").pathname;
      try {
        if (path.startsWith("/__standin/")) return await control(req, res, path.slice("/__standin/".length));
        const m = /^\/shops\/([a-z0-9-]{1,64})(\/.*)$/.exec(path);
        const name = m ? m[1]! : "";
        const shop = shops.get(name);
        if (!shop) return send(res, 404, { errors: "Not Found" });
        await handleShop(req, res, shop, m ? `${base}/shops/${name}` : base, m ? m[2]! : path);
      } catch (err) {
        if (!res.headersSent) send(res, 500, { errors: String(err) });
        else res.destroy();
      }
    })();
  });

  async function control(req: IncomingMessage, res: ServerResponse, rest: string) {
    const parts = rest.split("/");
    const json = async () => {
      const text = await readText(req);
      return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    };
    if (parts[0] === "shops" && parts.length === 1 && req.method === "POST") {
      const b = await json();
      const name = String(b.name ?? "");
      if (!/^[a-z0-9-]{1,64}$/.test(name)) return send(res, 400, { error: "name must be a slug" });
      shops.set(name, new Shop(name, b as ShopOptions));
      return send(res, 201, { name, url: `${base}/shops/${name}` });
    }
    const shop = shops.get(parts[1] === "root" ? "" : (parts[1] ?? ""));
    if (parts[0] !== "shops" || !shop) return send(res, 404, { error: "no such shop" });
    const what = parts[2];
    if (what === "faults" && req.method === "PUT") {
      try {
        shop.faults.set((await json()) as SourceFaultSpec);
      } catch (err) {
        return send(res, 400, { error: (err as Error).message });
      }
      return res.writeHead(204).end();
    }
    if (what === "faults" && req.method === "DELETE") {
      shop.faults.clear();
      return res.writeHead(204).end();
    }
    if (what === "bucket" && req.method === "PUT") {
      shop.available = Number((await json()).available ?? BUCKET);
      shop.at = Date.now();
      return res.writeHead(204).end();
    }
    if (what === "requests" && req.method === "GET") return send(res, 200, { requests: shop.requests });
    if (what === "products" && parts.length === 3 && req.method === "GET") {
      return send(res, 200, { products: [...shop.products.values()] });
    }
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    if (what === "products" && parts.length === 3 && req.method === "POST") {
      const b = await json();
      const p = shop.insert({
        title: String(b.title ?? "New product"),
        descriptionHtml: String(b.descriptionHtml ?? ""),
        tags: Array.isArray(b.tags) ? b.tags.map(String) : [],
        status: b.status === "DRAFT" ? "DRAFT" : "ACTIVE",
        createdAt: now,
        updatedAt: now,
      });
      return send(res, 201, p);
    }
    const product = shop.products.get(Number(parts[3]));
    if (what === "products" && product && req.method === "PATCH") {
      const b = await json();
      if (typeof b.title === "string") product.title = b.title;
      if (typeof b.descriptionHtml === "string") product.descriptionHtml = b.descriptionHtml;
      if (Array.isArray(b.tags)) product.tags = b.tags.map(String);
      if (b.status === "ACTIVE" || b.status === "DRAFT" || b.status === "ARCHIVED") product.status = b.status;
      product.updatedAt = now;
      return send(res, 200, product);
    }
    if (what === "products" && product && req.method === "DELETE") {
      shop.products.delete(product.id);
      return res.writeHead(204).end();
    }
    return send(res, 404, { error: "no such control" });
  }

  const listening = await listen(server, opts);
  base = listening.url;
  return { ...listening };
}
