import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEV_WP_APP_PASSWORD,
  DEV_WP_USER,
  startWordPress,
  type WordPressStandIn,
} from "../../local-stack/wordpress/server";

// wpapi (node-wpapi), the WordPress REST client nobody here wrote, proves the stand-in's wire format.
const WPAPI = createRequire(import.meta.url)("wpapi");

let wp: WordPressStandIn;
beforeAll(async () => {
  wp = await startWordPress({ root: { posts: 120, pages: 7, drafts: 2 } });
});
afterAll(async () => await wp.close());

const client = (auth?: { username: string; password: string }) =>
  new WPAPI({ endpoint: `${wp.url}/wp-json`, ...(auth ?? {}) });

describe("WordPress stand-in, driven by wpapi", () => {
  it("pages posts with X-WP-Total / X-WP-TotalPages and Link, as wpapi's _paging reads them", async () => {
    const page = await client().posts().perPage(50).page(2).get();
    expect(page).toHaveLength(50);
    expect(page._paging.total).toBe(120);
    expect(page._paging.totalPages).toBe(3);
    expect(page._paging.next).toBeDefined();
    expect(page._paging.prev).toBeDefined();
    const next = await page._paging.next.get();
    expect(next).toHaveLength(20);
    expect(next[0]).toMatchObject({ type: "post", status: "publish", title: { rendered: expect.any(String) } });
    const pages = await client().pages().perPage(100).get();
    expect(pages).toHaveLength(7);
  });

  it("filters with modified_after and orderby, and trims with _fields", async () => {
    const all = await client()
      .posts()
      .perPage(100)
      .orderby("modified")
      .order("asc")
      .param("_fields", "id,modified")
      .get();
    expect(Object.keys(all[0]).sort()).toEqual(["id", "modified"]);
    const cut = all[89].modified;
    const newer = await client().posts().perPage(100).param("modified_after", cut).get();
    expect(newer._paging.total).toBe(30);
  });

  it("authenticates an Application Password (spaces ignored) and refuses a wrong one like WordPress", async () => {
    const me = await client({ username: DEV_WP_USER, password: DEV_WP_APP_PASSWORD.replace(/ /g, "") })
      .users()
      .me()
      .get();
    expect(me).toMatchObject({ id: 1, slug: DEV_WP_USER });
    const anon = await client()
      .users()
      .me()
      .get()
      .catch((e: any) => e);
    expect(anon).toMatchObject({ code: "rest_not_logged_in", data: { status: 401 } });
    const wrong = await client({ username: DEV_WP_USER, password: "nope nope nope nope nope nope" })
      .posts()
      .get()
      .catch((e: any) => e);
    expect(wrong).toMatchObject({ code: "incorrect_password", data: { status: 401 } });
    // Drafts only with credentials.
    const drafts = await client({ username: DEV_WP_USER, password: DEV_WP_APP_PASSWORD }).posts().status("draft").get();
    expect(drafts).toHaveLength(2);
  });

  it("answers WordPress's errors for an out-of-range page and a too-large per_page", async () => {
    const beyond = await client()
      .posts()
      .perPage(100)
      .page(9)
      .get()
      .catch((e: any) => e);
    expect(beyond).toMatchObject({ code: "rest_post_invalid_page_number", data: { status: 400 } });
    const big = await client()
      .posts()
      .perPage(101)
      .get()
      .catch((e: any) => e);
    expect(big).toMatchObject({ code: "rest_invalid_param", data: { status: 400 } });
  });

  it("fault knobs: 429 with Retry-After for the next N requests, then normal service", async () => {
    const control = (method: string, body?: unknown) =>
      fetch(`${wp.url}/__standin/sites/root/faults`, {
        method,
        headers: { "content-type": "application/json" },
        body: body ? JSON.stringify(body) : undefined,
      });
    expect((await control("PUT", { status: 429, retryAfter: 7, count: 1 })).status).toBe(204);
    const limited = await fetch(`${wp.url}/wp-json/wp/v2/posts`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    await limited.body?.cancel();
    expect((await fetch(`${wp.url}/wp-json/wp/v2/posts?per_page=1`)).status).toBe(200);
    expect((await control("PUT", { status: 42 })).status).toBe(400);
  });
});
