/**
 * The API reference (/docs) in a real browser, offline: every request to
 * another origin is refused and recorded, so the page must render
 * /openapi.json from the Worker's own static assets alone.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumMissing, collectPageErrors, launchBrowser, screenshot, type Browser } from "./support/browser";
import { startWorker, type RunningWorker } from "./support/worker";

describe.skipIf(chromiumMissing)("API reference in chromium, offline", () => {
  let worker: RunningWorker;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  const offsite: string[] = [];

  beforeAll(async () => {
    // /docs and /openapi.json need no settings, hence no stand-ins.
    worker = await startWorker({});
    browser = await launchBrowser();
    await browser.context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(`${worker.url}/`)) return route.continue();
      offsite.push(url);
      return route.abort("internetdisconnected");
    });
    page = await browser.context.newPage();
    pageErrors = collectPageErrors(page);
  });

  afterAll(async () => {
    await browser?.close();
    await worker?.close();
  });

  it("renders every route of /openapi.json with its summary, from this origin only", async () => {
    const spec = (await (await fetch(`${worker.url}/openapi.json`)).json()) as {
      info: { title: string };
      paths: Record<string, Record<string, { summary?: string }>>;
    };
    const response = await page.goto(`${worker.url}/docs`);
    expect(response?.status()).toBe(200);
    // The static asset's headers (web/public/_headers): a CSP allowing this origin only.
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");

    await page.getByRole("heading", { name: spec.info.title }).waitFor();
    const paths = Object.keys(spec.paths);
    expect(paths.length).toBeGreaterThan(5);
    for (const path of paths) {
      expect(await page.locator(`.opblock-summary-path[data-path="${path}"]`).count(), path).toBeGreaterThan(0);
    }
    const summaries = Object.values(spec.paths)
      .flatMap((ops) => Object.values(ops).map((op) => op.summary))
      .filter((s): s is string => !!s);
    expect(summaries.length).toBeGreaterThan(5);
    for (const summary of summaries) await page.getByText(summary, { exact: true }).first().waitFor();
    await screenshot(page, "docs");

    expect(offsite).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
