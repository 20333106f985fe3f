/**
 * The BYOK page in a real browser, against the local stack: stand-ins from
 * local-stack/stack.ts and the Worker on workerd, with the dev sign-in on.
 * Steps share one page and run in order, like a tenant admin's session.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../local-stack/stack";
import {
  chromiumMissing,
  CHROMIUM,
  collectPageErrors,
  launchBrowser,
  screenshot,
  type Browser,
} from "./support/browser";
import { startWorker, type RunningWorker } from "./support/worker";

const OPENAI_KEY = "sk-proj-browserTestKey0123456789abcdefWXYZ";
const ANTHROPIC_KEY = "sk-ant-api03-browserTestKey0123456789abcdABCD";
const ROTATED_KEY = "sk-proj-browserRotatedKey0123456789abcROT8";
const SEALED_TRY_KEY = "sk-ant-api03-sealedVaultKey0123456789abcdSEAL";
const OTHER_KEY = "other-service-key-0123456789abcdefOTHR";
// The provider stand-in answers a key containing "revoked" as the real API answers a revoked key: 401.
const REVOKED_KEY = "sk-proj-revokedBrowserKey0123456789abcdREVK";
// Shorter than OpenAI's usual shape (a warning), yet accepted by the provider.
const ODD_SHAPE_KEY = "sk-oddShapeKey0000ODD1";
const ALL_KEYS = [OPENAI_KEY, ANTHROPIC_KEY, ROTATED_KEY, SEALED_TRY_KEY, OTHER_KEY, REVOKED_KEY, ODD_SHAPE_KEY];

if (chromiumMissing) {
  console.warn(
    `[browser] ${CHROMIUM} is missing: skipping the browser tests (apt-get install -y chromium; CI always runs them).`,
  );
}

/** A tiny "portal" on its own origin (`port`) that embeds the page and hands it a token by postMessage. */
async function startPortal(port: number, workerUrl: string, token: string): Promise<Server> {
  const html = `<!doctype html><title>Portal</title><iframe id="byok" src="${workerUrl}/byok" width="1100" height="800"></iframe>
<script>
window.addEventListener("message", (e) => {
  if (e.origin === ${JSON.stringify(workerUrl)} && e.data && e.data.type === "brain-byok:ready")
    document.getElementById("byok").contentWindow.postMessage({ type: "brain-byok:token", token: ${JSON.stringify(token)} }, e.origin);
});
</script>`;
  const server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end(html));
  await new Promise<void>((r) => server.listen(port, "localhost", r));
  return server;
}

describe.skipIf(chromiumMissing)("BYOK page in chromium", () => {
  let stack: LocalStack;
  let worker: RunningWorker;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  // The embedding portal's origin is configured before the Worker starts (CORS_ORIGINS → frame-ancestors),
  // so a free port is picked now and the portal listens on it later.
  let portalPort: number;
  let portalOrigin: string;

  beforeAll(async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "localhost", r));
    portalPort = (probe.address() as AddressInfo).port;
    portalOrigin = `http://localhost:${portalPort}`;
    await new Promise<void>((r) => probe.close(() => r()));
    stack = await startLocalStack({ persist: false });
    worker = await startWorker({
      ...stack.vars,
      DEV_LOGIN: "true",
      APP_ENV: "development",
      CORS_ORIGINS: [stack.vars.CORS_ORIGINS, portalOrigin].join(","),
    });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    pageErrors = collectPageErrors(page);
  });

  afterAll(async () => {
    await browser?.close();
    await worker?.close();
    await stack?.close();
  });

  const notice = () => page.locator("#notice");
  const alert = () => page.locator("#error");
  const row = (service: string) => page.locator(`tr[data-service="${service}"]`);
  const cells = async (service: string) => (await row(service).locator("td").allInnerTexts()).map((t) => t.trim());

  /** Types a key with the keyboard and submits with Enter, as a keyboard user would. */
  async function saveWithKeyboard(label: string, key: string) {
    await page.getByLabel(label, { exact: true }).focus();
    await page.keyboard.type(key, { delay: 0 });
    await page.keyboard.press("Enter");
  }

  it("offers the dev sign-in and signs in as the dev tenant admin", async () => {
    await page.goto(`${worker.url}/byok`);
    const signIn = page.getByRole("button", { name: "Sign in as dev admin" });
    await signIn.waitFor();
    expect(await page.getByRole("heading", { name: "Provider keys" }).isVisible()).toBe(true);
    await screenshot(page, "01-sign-in");

    await signIn.focus();
    await page.keyboard.press("Enter");
    await notice().getByText("Signed in as the development tenant admin.").waitFor();
    await page.getByText("No provider keys yet. Add one below.").waitFor();
    expect(await page.locator("#who").textContent()).toContain("dev-admin · tenant dedede00");
    await screenshot(page, "02-signed-in-empty");
  });

  it("saves an OpenAI key and an Anthropic key, checked with the provider, and lists both with hint, version, check and dates", async () => {
    await saveWithKeyboard("OpenAI API key", OPENAI_KEY);
    await notice().getByText("Saved the OpenAI key (****WXYZ, version 1).").waitFor();
    expect(await notice().textContent()).toContain("The provider check: the OpenAI key works.");
    expect(await page.getByLabel("OpenAI API key", { exact: true }).inputValue()).toBe("");

    await saveWithKeyboard("Anthropic API key", ANTHROPIC_KEY);
    await notice().getByText("Saved the Anthropic key (****ABCD, version 1).").waitFor();
    await row("anthropic").waitFor();

    const openai = await cells("openai");
    expect(openai[0]).toContain("OpenAI");
    expect(openai.slice(1, 3)).toEqual(["****WXYZ", "v1"]);
    expect(openai[3]).toMatch(/^Verified\s.*\d{4}/); // the provider's verdict and when, formatted
    expect(openai.slice(4, 6)).toEqual(["Never", "—"]); // last used, expires
    expect(openai[6]).toMatch(/\d{4}/); // updated
    expect((await cells("anthropic")).slice(1, 3)).toEqual(["****ABCD", "v1"]);
    expect(await row("openai").locator("time").first().getAttribute("datetime")).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The form now offers rotation and shows the current hint.
    expect(await page.locator("#cur-openai").textContent()).toBe("Current key ****WXYZ · v1. Saving again rotates it.");
    await screenshot(page, "03-two-keys");
  });

  it("keeps no key value anywhere in the page: DOM, inputs, sessionStorage, localStorage", async () => {
    const where = await page.evaluate(() => ({
      html: document.documentElement.outerHTML,
      // Typed fields only (a checkbox's or radio's value is its fixed choice, e.g. "posts").
      inputs: Array.from(
        document.querySelectorAll<HTMLInputElement>("input:not([type=checkbox]):not([type=radio])"),
        (i) => i.value,
      ),
      session: Object.entries(sessionStorage).flat(),
      local: Object.entries(localStorage).flat(),
      url: location.href,
    }));
    for (const key of ALL_KEYS) {
      expect(where.html).not.toContain(key);
      expect(where.inputs).not.toContain(key);
      expect(where.session.join("\n")).not.toContain(key);
      expect(where.local.join("\n")).not.toContain(key);
      expect(where.url).not.toContain(key);
    }
    expect(where.inputs.every((v) => v === "")).toBe(true);
    // Only the bearer token is kept (sessionStorage, this tab); nothing in localStorage.
    expect(where.local).toEqual([]);
    expect(where.session[0]).toBe("brain.byok.token");
  });

  it("shows and hides a typed key with the keyboard, and never autocompletes it", async () => {
    const input = page.getByLabel("OpenAI API key", { exact: true });
    expect(await input.getAttribute("type")).toBe("password");
    expect(await input.getAttribute("autocomplete")).toBe("off");
    await input.focus();
    await page.keyboard.type("sk-proj-typedButNotSaved");
    await page.keyboard.press("Tab");
    const toggle = page.locator('button.toggle[aria-controls="key-openai"]');
    expect(await toggle.evaluate((b) => b === document.activeElement)).toBe(true);
    await page.keyboard.press("Space");
    expect(await input.getAttribute("type")).toBe("text");
    expect(await toggle.getAttribute("aria-pressed")).toBe("true");
    await page.keyboard.press("Space");
    expect(await input.getAttribute("type")).toBe("password");
    await input.fill("");
  });

  it("rotates a key by saving again: version 2 with the new hint", async () => {
    await saveWithKeyboard("OpenAI API key", ROTATED_KEY);
    await notice().getByText("Rotated the OpenAI key (****ROT8, version 2).").waitFor();
    await row("openai").getByText("v2").waitFor();
    expect((await cells("openai")).slice(1, 3)).toEqual(["****ROT8", "v2"]);
    await screenshot(page, "04-rotated");
  });

  it("does not store a key the provider rejects: says so beside the field, the stored version stays", async () => {
    await saveWithKeyboard("OpenAI API key", REVOKED_KEY);
    const fieldError = page.locator('form[data-service="openai"] .field-error');
    await fieldError.getByText("Code: provider_key_rejected").waitFor();
    expect(await fieldError.textContent()).toContain("It was not stored");
    expect(await page.getByLabel("OpenAI API key", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByLabel("OpenAI API key", { exact: true }).inputValue()).toBe("");
    expect((await cells("openai")).slice(1, 4)).toEqual(["****ROT8", "v2", expect.stringMatching(/^Verified/)]);
  });

  it("checks a stored key again on request and shows the new verdict", async () => {
    const before = await row("openai").locator("td.check time").getAttribute("datetime");
    await page.getByRole("button", { name: "Check the OpenAI key again" }).click();
    await notice()
      .getByText("Checked the OpenAI key (****ROT8, version 2). The provider check: the OpenAI key works.")
      .waitFor();
    await page.waitForFunction(
      (b) => document.querySelector('tr[data-service="openai"] td.check time')?.getAttribute("datetime") !== b,
      before,
    );
    expect((await cells("openai"))[3]).toMatch(/^Verified/);
    expect(await page.getByRole("button", { name: "Check the OpenAI key again" }).isEnabled()).toBe(true);
  });

  it("shows a shape warning (stored anyway) and marks a key expiring within 14 days", async () => {
    const soon = new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10);
    await page.locator("#exp-openai").fill(soon);
    await saveWithKeyboard("OpenAI API key", ODD_SHAPE_KEY);
    await notice().getByText("Rotated the OpenAI key (****ODD1, version 3).").waitFor();
    expect(await notice().locator(".msg.warn").textContent()).toContain("does not look like an openai key");
    await row("openai").getByText("Expires soon").waitFor();
    const cols = await cells("openai");
    expect(cols.slice(1, 3)).toEqual(["****ODD1", "v3"]);
    expect(cols[5]).toContain("Expires soon");
    expect(await row("openai").locator("td:nth-child(6) time").getAttribute("datetime")).toBe(`${soon}T00:00:00.000Z`);
    expect(await page.locator("#exp-openai").inputValue()).toBe("");
    await screenshot(page, "04b-expiring-soon");
  });

  it("explains a rejected key next to its field", async () => {
    await saveWithKeyboard("OpenAI API key", "sk-ant-api03-wrongSlot0123456789abcdef");
    const fieldError = page.locator('form[data-service="openai"] .field-error');
    await fieldError.getByText("is an anthropic key (sk-ant-…), not an openai key", { exact: false }).waitFor();
    expect(await fieldError.textContent()).toContain("Code: validation_failed");
    expect(await page.getByLabel("OpenAI API key", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByLabel("OpenAI API key", { exact: true }).inputValue()).toBe("");
  });

  it("saves a key for another service, shown by its own name even when it is an Object.prototype member", async () => {
    await page.getByLabel("Service", { exact: true }).fill("constructor");
    await saveWithKeyboard("API key", OTHER_KEY);
    await notice().getByText("Saved the constructor key (****OTHR, version 1).").waitFor();
    await row("constructor").waitFor();
    const cols = await cells("constructor");
    expect(cols[0]).toContain("constructor");
    expect(cols.slice(1, 3)).toEqual(["****OTHR", "v1"]);
    expect(await page.getByLabel("Service", { exact: true }).inputValue()).toBe("");
    await page.getByRole("button", { name: "Delete constructor key" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete key" }).click();
    await row("constructor").waitFor({ state: "detached" });
  });

  it("deletes a key only after confirmation", async () => {
    const del = page.getByRole("button", { name: "Delete Anthropic key" });
    await del.click();
    const dialog = page.getByRole("dialog", { name: "Delete the Anthropic key?" });
    await dialog.waitFor();
    await screenshot(page, "05-confirm-delete");
    // Escape cancels: nothing is deleted and focus returns to the button.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect(await row("anthropic").count()).toBe(1);
    expect(await del.evaluate((b) => b === document.activeElement)).toBe(true);

    await page.keyboard.press("Enter");
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Delete key" }).click();
    await notice().getByText("Deleted the Anthropic key.").waitFor();
    await row("anthropic").waitFor({ state: "detached" });
    expect(await row("openai").count()).toBe(1);
    await screenshot(page, "06-deleted");
  });

  it("shows a clear error when Vault is sealed, and clears the key field", async () => {
    stack.vault!.seal();
    try {
      await saveWithKeyboard("Anthropic API key", SEALED_TRY_KEY);
      await alert().getByText("The secret store is unavailable; retry later.").waitFor();
      expect(await alert().textContent()).toContain("Code: vault_unavailable");
      expect(await page.getByLabel("Anthropic API key", { exact: true }).inputValue()).toBe("");
      expect(await page.getByRole("button", { name: "Save key" }).first().isEnabled()).toBe(true);
      await screenshot(page, "07-vault-sealed");
    } finally {
      stack.vault!.unseal();
    }
    expect(await page.content()).not.toContain(SEALED_TRY_KEY);
  });

  it("ran under its CSP without script errors or violations", () => {
    // Failed API calls log "Failed to load resource"; anything else (e.g. "Refused to …") is a bug.
    expect(pageErrors.filter((e) => !e.includes("Failed to load resource"))).toEqual([]);
  });

  it("takes a token from a #token= fragment and removes it from the address bar", async () => {
    const session = await (await fetch(`${worker.url}/dev/session`, { method: "POST" })).json();
    const fresh = await browser.context.newPage();
    await fresh.goto(`${worker.url}/byok#token=${session.token}`);
    await fresh.locator('tr[data-service="openai"]').waitFor();
    expect(fresh.url()).toBe(`${worker.url}/byok`);
    await fresh.close();
  });

  it("takes a token from the embedding portal by postMessage, and ignores other origins", async () => {
    const session = await (await fetch(`${worker.url}/dev/session`, { method: "POST" })).json();
    const portal = await startPortal(portalPort, worker.url, session.token);
    try {
      const p = await browser.context.newPage();
      await p.goto(portalOrigin);
      const frame = p.frames().find((f) => f.url() === `${worker.url}/byok`)!;
      expect(frame).toBeDefined();
      await frame.locator('tr[data-service="openai"]').waitFor();
      await screenshot(p, "08-embedded-in-portal");
      await p.close();

      // A message from an origin that is not a configured portal is ignored.
      const other = await browser.context.newPage();
      await other.goto(`${worker.url}/byok`);
      await other.evaluate(
        (t) => window.postMessage({ type: "brain-byok:token", token: t }, "*"),
        session.token as string,
      );
      await other.waitForTimeout(300);
      expect(await other.locator("#app").isHidden()).toBe(true);
      expect(await other.locator("#signin").isVisible()).toBe(true);
      await other.close();
    } finally {
      // Chromium keeps its connections alive; close them or close() waits for ever.
      portal.closeAllConnections();
      await new Promise<void>((r) => portal.close(() => r()));
    }
  });
});
