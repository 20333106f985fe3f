/**
 * What the browser tests share besides the browser and the Worker: tokens of the
 * dev tenant with other roles, the stand-ins' control API, and the page's typed client.
 */
import { SignJWT } from "jose";
import type { Page } from "playwright-core";
import { DEV } from "../../../local-stack/settings";
import { type LocalStack, startLocalStack } from "../../../local-stack/stack";
import { type BrainApi, createBrainApi } from "../../../src/client";
import { DEV_TENANT_ID } from "../../../src/routes/portal/dev-session";
import { type Browser, collectPageErrors, launchBrowser } from "./browser";
import { type RunningWorker, startWorker } from "./worker";

/** POSTs (or PUTs, DELETEs) to a stand-in's control API (`/__standin/…`). */
export async function control(base: string, path: string, method: string, body?: unknown) {
  const res = await fetch(`${base}/__standin/${path}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : ((await res.json()) as { url: string });
}

/** A token of the dev tenant with other roles, signed like the dev session's. */
export async function devToken(roles: string[], sub = "dev-member") {
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({ tenant_id: DEV_TENANT_ID, roles })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(DEV.jwt.issuer)
    .setAudience(DEV.jwt.audience)
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(new TextEncoder().encode(DEV.jwt.secret));
}

/** The typed client with the token the page holds (signed in): for setting up and checking what the page did. */
export async function pageApi(page: Page, baseUrl: string) {
  const token = await page.evaluate(() => sessionStorage.getItem("brain.byok.token"));
  if (!token) throw new Error("the page is not signed in");
  return createBrainApi({ baseUrl, getToken: () => token });
}

/** Which of `secrets` the page holds anywhere: its HTML, its inputs' values, its storage. */
export async function secretsInPage(page: Page, secrets: readonly string[]): Promise<string[]> {
  const where = await page.evaluate(() =>
    [
      document.documentElement.outerHTML,
      ...Array.from(document.querySelectorAll("input, textarea"), (i) => (i as HTMLInputElement).value),
      ...[...Object.entries(sessionStorage), ...Object.entries(localStorage)].flat(),
    ].join("\n"),
  );
  return secrets.filter((s) => where.includes(s));
}

/** A browser test's world: the local stack, the Worker (dev sign-in on), chromium, and a page signed in as the dev admin. */
export interface SignedIn {
  stack: LocalStack;
  worker: RunningWorker;
  browser: Browser;
  page: Page;
  /** The page's script errors and console errors (CSP violations among them). */
  pageErrors: string[];
  /** The typed client with the page's token. */
  api: BrainApi;
  close(): Promise<void>;
}

/** Starts a `SignedIn` world; `close` stops what started, whatever failed. */
export async function signedIn(): Promise<SignedIn> {
  const started: Partial<SignedIn> = {};
  const close = async () => {
    await started.browser?.close();
    await started.worker?.close();
    await started.stack?.close();
  };
  try {
    started.stack = await startLocalStack({ persist: false });
    started.worker = await startWorker({ ...started.stack.vars, DEV_LOGIN: "true", APP_ENV: "development" });
    started.browser = await launchBrowser();
    const page = await started.browser.context.newPage();
    const pageErrors = collectPageErrors(page);
    await page.goto(`${started.worker.url}/byok`);
    await page.getByRole("button", { name: "Sign in as dev admin" }).click();
    await page.locator("#app").waitFor();
    const api = await pageApi(page, started.worker.url);
    return { ...(started as Required<Pick<SignedIn, "stack" | "worker" | "browser">>), page, pageErrors, api, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Keeps `GET /usage` from answering on this page: its `scope` is how the page knows up front
 * that a member may only read. Without it, a member's change meets the API's 403 (that path is tested so).
 */
export async function withoutUsageReport(page: Page) {
  await page.route(/\/usage(\?|$)/, (route) => route.abort());
}
