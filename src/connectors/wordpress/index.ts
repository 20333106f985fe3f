import { z } from "@hono/zod-openapi";
import { connectorFetch, readJson, retryAfterSeconds } from "../http";
import { decodeEntities, htmlToText } from "../html";
import { ConnectorError, type ConnectorType, secretHint, type SourceContext, type SourceItem } from "../types";

/**
 * WordPress over its REST API (`/wp-json/wp/v2`): published posts and pages,
 * paged with `per_page`/`page` and `X-WP-TotalPages`, increments with
 * `modified_after`. Authenticated with an Application Password (HTTP Basic),
 * or anonymous for a public site.
 */

const STREAMS = ["posts", "pages"] as const;

const Settings = z.object({
  site_url: z.url().max(2048).openapi({ example: "https://blog.example.com" }),
  content_types: z
    .array(z.enum(STREAMS))
    .min(1)
    .max(STREAMS.length)
    .default([...STREAMS])
    .openapi({ description: "What to sync: posts, pages or both." }),
});

const Credentials = z
  .object({
    username: z.string().min(1).max(60).optional(),
    // WordPress shows application passwords as six groups of four; it ignores the spaces.
    application_password: z
      .string()
      .regex(/^(?:[A-Za-z0-9]{4} ?){6}$/, "must be a WordPress application password (24 letters and digits)")
      .optional(),
  })
  .refine((c) => !!c.username === !!c.application_password, {
    message: "give both username and application_password, or neither for a public site",
  })
  .openapi({ description: "An Application Password (Users → Profile), or {} to read a public site anonymously." });

type WpSettings = z.output<typeof Settings>;
type WpCredentials = z.output<typeof Credentials>;
type Ctx = SourceContext<WpSettings, WpCredentials>;

/** Per page: WordPress's own maximum for ids, fewer for full items so one step's answer stays small. */
const IDS_PER_PAGE = 100;
const ITEMS_PER_PAGE = 50;

interface WpItem {
  id: number;
  link?: string;
  modified?: string;
  title?: { rendered?: string };
  content?: { rendered?: string; protected?: boolean };
}

function authHeader(c: WpCredentials): Record<string, string> {
  if (!c.username || !c.application_password) return {};
  const raw = new TextEncoder().encode(`${c.username}:${c.application_password.replace(/\s+/g, "")}`);
  return { Authorization: `Basic ${btoa(String.fromCharCode(...raw))}` };
}

const apiBase = (s: WpSettings) => `${s.site_url.replace(/\/+$/, "")}/wp-json/wp/v2`;

/** A GET on the site's REST API; statuses become ConnectorErrors, `null` for "page out of range". */
async function get(ctx: Ctx, path: string, params: Record<string, string>): Promise<Response | null> {
  const url = `${apiBase(ctx.settings)}/${path}?${new URLSearchParams(params)}`;
  const res = await connectorFetch(
    ctx.policy,
    url,
    { headers: { Accept: "application/json", ...authHeader(ctx.credentials) } },
    ctx.fetch,
  );
  if (res.ok) return res;
  const body = await res.text().catch(() => "");
  if (res.status === 400 && body.includes("rest_post_invalid_page_number")) return null;
  if (res.status === 401 || res.status === 403) {
    throw new ConnectorError(
      "auth",
      ctx.credentials.username
        ? `WordPress refused the user name or application password (HTTP ${res.status}).`
        : `WordPress requires credentials for this site (HTTP ${res.status}).`,
    );
  }
  if (res.status === 429) {
    const wait = retryAfterSeconds(res);
    throw new ConnectorError("rate_limited", `WordPress is rate limiting; retry after ${wait} s.`, wait);
  }
  if (res.status >= 500) throw new ConnectorError("unavailable", `WordPress answered HTTP ${res.status}.`);
  if (res.status === 404) {
    throw new ConnectorError("bad_response", `No WordPress REST API at ${apiBase(ctx.settings)}/${path} (HTTP 404).`);
  }
  throw new ConnectorError("bad_response", `WordPress answered HTTP ${res.status} to ${path}.`);
}

function nextPage(res: Response, page: number): string | null {
  const total = Number(res.headers.get("x-wp-totalpages"));
  if (!Number.isInteger(total)) throw new ConnectorError("bad_response", "WordPress sent no X-WP-TotalPages header.");
  return page < total ? String(page + 1) : null;
}

/** One second before `modified`: WordPress's `modified_after` is exclusive, and equal seconds must not be missed. */
function justBefore(modified: string): string {
  const t = Date.parse(`${modified.replace(/Z$/, "")}Z`);
  if (Number.isNaN(t)) return modified;
  return new Date(t - 1000).toISOString().slice(0, 19);
}

function toItem(stream: string, raw: WpItem): SourceItem {
  const title = htmlToText(decodeEntities(raw.title?.rendered ?? "")) || `${stream.slice(0, -1)} ${raw.id}`;
  return {
    externalId: `${stream}:${raw.id}`,
    title,
    text: raw.content?.protected ? "" : htmlToText(raw.content?.rendered ?? ""),
    url: raw.link ?? null,
    modified: raw.modified ?? "",
  };
}

export const wordpress: ConnectorType<WpSettings, WpCredentials> = {
  type: "wordpress",
  label: "WordPress",
  settings: Settings,
  credentials: Credentials,
  urlField: "site_url",
  siteUrl: (s) => s.site_url,
  hints: (c): Record<string, string> =>
    c.username && c.application_password
      ? { username: c.username, application_password: secretHint(c.application_password) }
      : {},

  async check(ctx) {
    // Authenticated: who am I (fails on a wrong password). Anonymous: one post id (fails when the API is closed).
    const res = ctx.credentials.username
      ? await get(ctx, "users/me", { context: "edit", _fields: "id" })
      : await get(ctx, "posts", { per_page: "1", _fields: "id" });
    if (!res) throw new ConnectorError("bad_response", "WordPress answered an unexpected page error.");
    const body = await readJson<unknown>(res, "WordPress's answer");
    const ok = ctx.credentials.username
      ? typeof (body as { id?: unknown }).id === "number"
      : Array.isArray(body) && res.headers.has("x-wp-total");
    if (!ok) throw new ConnectorError("bad_response", "The site does not answer like the WordPress REST API.");
  },

  streams: (s) => [...s.content_types],

  async listIds(ctx, stream, page) {
    const n = Number(page ?? 1);
    const res = await get(ctx, stream, {
      per_page: String(IDS_PER_PAGE),
      page: String(n),
      orderby: "id",
      order: "asc",
      _fields: "id",
    });
    if (!res) return { ids: [], next: null };
    const rows = await readJson<WpItem[]>(res, "WordPress's list");
    if (!Array.isArray(rows)) throw new ConnectorError("bad_response", "WordPress's list is not an array.");
    return { ids: rows.map((r) => `${stream}:${r.id}`), next: nextPage(res, n) };
  },

  async listChanged(ctx, stream, since, page) {
    const n = Number(page ?? 1);
    const params: Record<string, string> = {
      per_page: String(ITEMS_PER_PAGE),
      page: String(n),
      orderby: "modified",
      order: "asc",
      _fields: "id,link,modified,title,content",
    };
    if (since) params.modified_after = justBefore(since);
    const res = await get(ctx, stream, params);
    if (!res) return { items: [], next: null };
    const rows = await readJson<WpItem[]>(res, "WordPress's list");
    if (!Array.isArray(rows)) throw new ConnectorError("bad_response", "WordPress's list is not an array.");
    return { items: rows.map((r) => toItem(stream, r)), next: nextPage(res, n) };
  },
};
