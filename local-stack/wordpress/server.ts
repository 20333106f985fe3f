/**
 * A stand-in for the WordPress REST API (`/wp-json/wp/v2`), enough to sync
 * from: posts and pages (published and drafts), paging with `page`/`per_page`
 * and `X-WP-Total`/`X-WP-TotalPages`/`Link`, `orderby`/`order`,
 * `modified_after`, `_fields`, `context=edit`, `users/me`, Application
 * Password (HTTP Basic) authentication, and WordPress's error bodies
 * (`{code, message, data: {status}}`) for the cases WordPress refuses.
 *
 * Several sites live side by side: the root site (`/wp-json/…`) and any site
 * created under `/sites/<name>` (`/sites/<name>/wp-json/…`), so tests do not
 * share content. Control endpoints (`/__standin/…`) edit content and set
 * fault knobs (429 with Retry-After, 5xx, slow) per site.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { paragraph, prng, SourceFaults, type SourceFaultSpec } from "../source-faults";
import { listen, readText } from "../http-server";

export interface WpItem {
  id: number;
  type: "post" | "page";
  status: "publish" | "draft";
  slug: string;
  title: string;
  /** Rendered HTML. */
  content: string;
  date: string;
  modified: string;
}

export interface SiteOptions {
  posts?: number;
  pages?: number;
  drafts?: number;
  /** Application Password users: username → password (spaces allowed, as WordPress shows them). */
  users?: Record<string, string>;
  /** Anonymous reads refused (a site closed with a plugin): 401 rest_not_logged_in. */
  private?: boolean;
  seed?: number;
}

export const DEV_WP_USER = "editor";
export const DEV_WP_APP_PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678";

class Site {
  items = new Map<number, WpItem>();
  nextId = 1;
  faults = new SourceFaults();
  requests = 0;
  users: Map<string, string>;
  private: boolean;

  constructor(opts: SiteOptions) {
    this.users = new Map(Object.entries(opts.users ?? { [DEV_WP_USER]: DEV_WP_APP_PASSWORD }));
    this.private = !!opts.private;
    const rand = prng(opts.seed ?? 42);
    const base = Date.UTC(2024, 0, 1);
    const add = (type: WpItem["type"], status: WpItem["status"], i: number) => {
      const topic = `${type === "post" ? "Tip" : "Guide"} ${i + 1}`;
      const t = new Date(base + i * 3_600_000).toISOString().slice(0, 19);
      this.insert({
        type,
        status,
        title: `${topic}: the X${100 + i} &amp; ${paragraph(rand, 1).split(" ").slice(0, 3).join(" ")}`,
        content: `<p>${topic} covers model X${100 + i}. ${paragraph(rand)}</p>\n<p>${paragraph(rand, 3)}</p>`,
        date: t,
        modified: t,
      });
    };
    for (let i = 0; i < (opts.posts ?? 300); i++) add("post", "publish", i);
    for (let i = 0; i < (opts.pages ?? 40); i++) add("page", "publish", i);
    for (let i = 0; i < (opts.drafts ?? 5); i++) add("post", "draft", 1000 + i);
  }

  insert(p: Omit<WpItem, "id" | "slug"> & { slug?: string }): WpItem {
    const id = this.nextId++;
    const item: WpItem = { ...p, id, slug: p.slug ?? `${p.type}-${id}` };
    this.items.set(id, item);
    return item;
  }
}

/** Seconds-precision UTC, as WordPress formats `modified` (site timezone UTC here, so = modified_gmt). */
const wpNow = () => new Date().toISOString().slice(0, 19);

function wpError(res: ServerResponse, status: number, code: string, message: string, extra: object = {}): undefined {
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8" });
  res.end(JSON.stringify({ code, message, data: { status, ...extra } }));
  return undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8", ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readText(req);
  return text ? JSON.parse(text) : {};
}

/** WordPress's representation of an item, in `view` or `edit` context. */
function represent(item: WpItem, siteUrl: string, context: string): Record<string, unknown> {
  return {
    id: item.id,
    date: item.date,
    date_gmt: item.date,
    guid: { rendered: `${siteUrl}/?p=${item.id}` },
    modified: item.modified,
    modified_gmt: item.modified,
    slug: item.slug,
    status: item.status,
    type: item.type,
    link: `${siteUrl}/${item.slug}/`,
    title: context === "edit" ? { raw: item.title, rendered: item.title } : { rendered: item.title },
    content: { rendered: item.content, protected: false },
    excerpt: { rendered: `<p>${item.content.replace(/<[^>]+>/g, "").slice(0, 120)}</p>`, protected: false },
    author: 1,
  };
}

/** `_fields=a,b.c`: keeps only those (top-level or nested) fields, as WordPress's rest_filter_response_fields. */
function pickFields(obj: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const [head, ...rest] = f.split(".");
    if (!(head! in obj)) continue;
    if (rest.length === 0) out[head!] = obj[head!];
    else if (obj[head!] && typeof obj[head!] === "object") {
      const inner = pickFields(obj[head!] as Record<string, unknown>, [rest.join(".")]);
      out[head!] = { ...((out[head!] as object) ?? {}), ...inner };
    }
  }
  return out;
}

type Auth = { user: string } | null;

function authenticate(req: IncomingMessage, site: Site): Auth | { error: [number, string, string] } {
  const header = req.headers.authorization;
  if (!header) return null;
  const m = /^Basic\s+(.+)$/i.exec(header);
  if (!m) return null; // WordPress ignores other schemes here
  const [user, ...rest] = Buffer.from(m[1]!, "base64").toString("utf8").split(":");
  const password = rest.join(":");
  const stored = site.users.get(user ?? "");
  if (stored === undefined)
    return { error: [401, "invalid_username", "Unknown username. Check again or try your email address."] };
  // WordPress strips everything but letters and digits from an application password before comparing.
  if (password.replace(/[^a-z\d]/gi, "") !== stored.replace(/[^a-z\d]/gi, "")) {
    return { error: [401, "incorrect_password", "The provided password is an invalid application password."] };
  }
  return { user: user! };
}

const ORDERBY = new Set(["date", "id", "modified", "title", "slug"]);

function listItems(
  site: Site,
  type: WpItem["type"],
  q: URLSearchParams,
  auth: Auth,
  res: ServerResponse,
  siteUrl: string,
  route: string,
): undefined {
  const perPage = Number(q.get("per_page") ?? 10);
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100) {
    return wpError(res, 400, "rest_invalid_param", "Invalid parameter(s): per_page", {
      params: { per_page: "per_page must be between 1 (inclusive) and 100 (inclusive)" },
    });
  }
  const page = Number(q.get("page") ?? 1);
  if (!Number.isInteger(page) || page < 1) {
    return wpError(res, 400, "rest_invalid_param", "Invalid parameter(s): page", {
      params: { page: "page must be greater than or equal to 1" },
    });
  }
  const orderby = q.get("orderby") ?? "date";
  const order = q.get("order") ?? "desc";
  if (!ORDERBY.has(orderby) || (order !== "asc" && order !== "desc")) {
    return wpError(res, 400, "rest_invalid_param", "Invalid parameter(s): orderby, order");
  }
  const context = q.get("context") ?? "view";
  if (context === "edit" && !auth) {
    return wpError(res, 401, "rest_forbidden_context", "Sorry, you are not allowed to edit posts in this post type.");
  }
  const status = q.get("status") ?? "publish";
  if (status !== "publish" && !auth) {
    return wpError(res, 400, "rest_invalid_param", "Invalid parameter(s): status", {
      params: { status: "Status is forbidden." },
    });
  }
  let after: number | null = null;
  const modifiedAfter = q.get("modified_after");
  if (modifiedAfter) {
    // RFC 3339; without an offset WordPress reads it in the site's timezone (UTC here).
    after = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(modifiedAfter) ? modifiedAfter : `${modifiedAfter}Z`);
    if (Number.isNaN(after)) {
      return wpError(res, 400, "rest_invalid_param", "Invalid parameter(s): modified_after", {
        params: { modified_after: "Invalid date." },
      });
    }
  }
  const statuses = status === "any" ? ["publish", "draft"] : status.split(",");
  let rows = [...site.items.values()].filter((i) => i.type === type && statuses.includes(i.status));
  if (after !== null) rows = rows.filter((i) => Date.parse(`${i.modified}Z`) > after!);
  const key = (i: WpItem): string | number => i[orderby as "id" | "title" | "date" | "modified" | "slug"];
  rows.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    const c = x < y ? -1 : x > y ? 1 : a.id - b.id;
    return order === "asc" ? c : -c;
  });
  const total = rows.length;
  const totalPages = Math.ceil(total / perPage);
  if (page > totalPages && !(page === 1 && total === 0)) {
    return wpError(
      res,
      400,
      "rest_post_invalid_page_number",
      "The page number requested is larger than the number of pages available.",
    );
  }
  const fields = q.get("_fields")?.split(",").filter(Boolean);
  const body = rows
    .slice((page - 1) * perPage, page * perPage)
    .map((i) => represent(i, siteUrl, context))
    .map((o) => (fields ? pickFields(o, fields) : o));
  const link = (p: number) => {
    const u = new URL(`${siteUrl}/wp-json/wp/v2/${route}`);
    for (const [k, v] of q) u.searchParams.set(k, v);
    u.searchParams.set("page", String(p));
    return u.toString();
  };
  const links = [
    ...(page > 1 ? [`<${link(page - 1)}>; rel="prev"`] : []),
    ...(page < totalPages ? [`<${link(page + 1)}>; rel="next"`] : []),
  ];
  sendJson(res, 200, body, {
    "X-WP-Total": String(total),
    "X-WP-TotalPages": String(totalPages),
    ...(links.length ? { Link: links.join(", ") } : {}),
  });
}

async function handleSite(req: IncomingMessage, res: ServerResponse, site: Site, siteUrl: string, path: string) {
  site.requests++;
  const fault = site.faults.take(path);
  if (fault?.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs));
  if (fault?.status) {
    const headers: Record<string, string> =
      fault.retryAfter !== undefined ? { "Retry-After": String(fault.retryAfter) } : {};
    if (fault.status === 429) {
      res.writeHead(429, { "content-type": "text/html", ...headers });
      return res.end("<html><body><h1>429 Too Many Requests</h1></body></html>");
    }
    res.writeHead(fault.status, { "content-type": "text/html", ...headers });
    return res.end(`<html><body><h1>Error ${fault.status}</h1></body></html>`);
  }
  const url = new URL(req.url ?? "/", "http://stand-in");
  const auth = authenticate(req, site);
  if (auth && typeof auth === "object" && "error" in auth) {
    const [status, code, message] = auth.error;
    return wpError(res, status, code, message);
  }
  const who = auth as Auth;
  if (req.method !== "GET")
    return wpError(res, 405, "rest_no_route", "No route was found matching the URL and request method.");
  if (path === "/wp-json" || path === "/wp-json/") {
    return sendJson(res, 200, {
      name: "Acme Support (stand-in)",
      url: siteUrl,
      home: siteUrl,
      namespaces: ["oembed/1.0", "wp/v2"],
      authentication: {
        "application-passwords": { endpoints: { authorization: `${siteUrl}/wp-admin/authorize-application.php` } },
      },
      routes: {},
    });
  }
  const m = /^\/wp-json\/wp\/v2\/(posts|pages|users\/me)(?:\/(\d+))?\/?$/.exec(path);
  if (!m) return wpError(res, 404, "rest_no_route", "No route was found matching the URL and request method.");
  if (site.private && !who) return wpError(res, 401, "rest_not_logged_in", "You are not currently logged in.");
  if (m[1] === "users/me") {
    if (!who) return wpError(res, 401, "rest_not_logged_in", "You are not currently logged in.");
    const me = { id: 1, name: who.user, slug: who.user, link: `${siteUrl}/author/${who.user}/` };
    const fields = url.searchParams.get("_fields")?.split(",");
    return sendJson(res, 200, fields ? pickFields(me, fields) : me);
  }
  const type = m[1] === "posts" ? "post" : "page";
  if (m[2]) {
    const item = site.items.get(Number(m[2]));
    if (!item || item.type !== type || (item.status !== "publish" && !who)) {
      return wpError(res, 404, "rest_post_invalid_id", "Invalid post ID.");
    }
    return sendJson(res, 200, represent(item, siteUrl, url.searchParams.get("context") ?? "view"));
  }
  return listItems(site, type, url.searchParams, who, res, siteUrl, m[1]!);
}

export interface WordPressStandIn {
  url: string;
  port: number;
  /** The root site (seeded with the defaults). */
  site(name?: string): Site | undefined;
  close(): Promise<void>;
}

/** Starts the stand-in; the root site is seeded with 300 posts, 40 pages and 5 drafts. */
export async function startWordPress(
  opts: { port?: number; host?: string; root?: SiteOptions } = {},
): Promise<WordPressStandIn> {
  const sites = new Map<string, Site>([["", new Site(opts.root ?? {})]]);
  let base = "";
  const server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? "/", "http://stand-in").pathname;
      try {
        if (path.startsWith("/__standin/")) return await control(req, res, path.slice("/__standin/".length));
        const m = /^\/sites\/([a-z0-9-]{1,64})(\/.*)$/.exec(path);
        const name = m ? m[1]! : "";
        const site = sites.get(name);
        if (!site) return wpError(res, 404, "rest_no_route", "No route was found matching the URL and request method.");
        await handleSite(req, res, site, m ? `${base}/sites/${name}` : base, m ? m[2]! : path);
      } catch (err) {
        if (!res.headersSent) wpError(res, 500, "standin_error", String(err));
        else res.destroy();
      }
    })();
  });

  /** Control API: sites, content edits, faults, request counts. */
  async function control(req: IncomingMessage, res: ServerResponse, rest: string) {
    const parts = rest.split("/");
    if (parts[0] === "sites" && parts.length === 1 && req.method === "POST") {
      const body = await readBody(req);
      const name = String(body.name ?? "");
      if (!/^[a-z0-9-]{1,64}$/.test(name)) return sendJson(res, 400, { error: "name must be a slug" });
      sites.set(name, new Site(body));
      return sendJson(res, 201, { name, url: `${base}/sites/${name}` });
    }
    const site = sites.get(parts[1] === "root" ? "" : (parts[1] ?? ""));
    if (parts[0] !== "sites" || !site) return sendJson(res, 404, { error: "no such site" });
    const what = parts[2];
    if (what === "faults" && req.method === "PUT") {
      try {
        site.faults.set((await readBody(req)) as SourceFaultSpec);
      } catch (err) {
        return sendJson(res, 400, { error: (err as Error).message });
      }
      return res.writeHead(204).end();
    }
    if (what === "faults" && req.method === "DELETE") {
      site.faults.clear();
      return res.writeHead(204).end();
    }
    if (what === "requests" && req.method === "GET") return sendJson(res, 200, { requests: site.requests });
    if (what === "items" && parts.length === 3 && req.method === "GET") {
      return sendJson(res, 200, { items: [...site.items.values()] });
    }
    if (what === "items" && parts.length === 3 && req.method === "POST") {
      const b = await readBody(req);
      const item = site.insert({
        type: b.type === "page" ? "page" : "post",
        status: b.status === "draft" ? "draft" : "publish",
        title: String(b.title ?? "Untitled"),
        content: String(b.content ?? ""),
        date: wpNow(),
        modified: wpNow(),
      });
      return sendJson(res, 201, item);
    }
    const item = site.items.get(Number(parts[3]));
    if (what === "items" && item && req.method === "PATCH") {
      const b = await readBody(req);
      if (typeof b.title === "string") item.title = b.title;
      if (typeof b.content === "string") item.content = b.content;
      if (b.status === "draft" || b.status === "publish") item.status = b.status;
      item.modified = typeof b.modified === "string" ? b.modified : wpNow();
      return sendJson(res, 200, item);
    }
    if (what === "items" && item && req.method === "DELETE") {
      site.items.delete(item.id);
      return res.writeHead(204).end();
    }
    return sendJson(res, 404, { error: "no such control" });
  }

  const listening = await listen(server, opts);
  base = listening.url;
  return { ...listening, site: (name = "") => sites.get(name) };
}
