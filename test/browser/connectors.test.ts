/**
 * The BYOK page's Connectors section in a real browser, against the local
 * stack (WordPress and Shopify stand-ins, the Worker on workerd running the
 * sync Workflow): add, refuse bad credentials, Sync now and follow the run,
 * delete with the knowledge choice, and a member's read-only view.
 * Steps share one page and run in order, like a tenant admin's session.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_SHOPIFY_TOKEN } from "../../local-stack/shopify/server";
import { startLocalStack, type LocalStack } from "../../local-stack/stack";
import { DEV_WP_APP_PASSWORD, DEV_WP_USER } from "../../local-stack/wordpress/server";
import { chromiumMissing, collectPageErrors, launchBrowser, screenshot, type Browser } from "./support/browser";
import { control, devToken, secretsInPage, withoutUsageReport } from "./support/session";
import { startWorker, type RunningWorker } from "./support/worker";

const OPENAI_KEY = "sk-proj-connectorsPageKey0123456789abcdEMBD";
const WRONG_WP_PASSWORD = "wxyz WXYZ 9876 ijkl MNOP 0000";
const WRONG_SHOP_TOKEN = "shpat_ffffffffffffffffffffffffffff0000";
const SECRETS = [
  DEV_WP_APP_PASSWORD,
  DEV_WP_APP_PASSWORD.replace(/ /g, ""),
  WRONG_WP_PASSWORD,
  DEV_SHOPIFY_TOKEN,
  WRONG_SHOP_TOKEN,
];
/** The small site and shop of this file: 12 posts + 3 pages, 8 products. */
const SITE_ITEMS = 15;

describe.skipIf(chromiumMissing)("BYOK page: connectors in chromium", () => {
  let stack: LocalStack;
  let worker: RunningWorker;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  let siteUrl: string;
  let publicSiteUrl: string;
  let shopUrl: string;

  beforeAll(async () => {
    stack = await startLocalStack({ persist: false });
    worker = await startWorker({ ...stack.vars, DEV_LOGIN: "true", APP_ENV: "development" });
    siteUrl = (await control(stack.wordpress.url, "sites", "POST", { name: "page", posts: 12, pages: 3, drafts: 1 }))!
      .url;
    publicSiteUrl = (await control(stack.wordpress.url, "sites", "POST", { name: "public", posts: 3, pages: 0 }))!.url;
    shopUrl = (await control(stack.shopify.url, "shops", "POST", { name: "page", products: 8 }))!.url;
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
  const wpForm = () => page.locator('form[data-connector-type="wordpress"]');
  const shopForm = () => page.locator('form[data-connector-type="shopify"]');
  const row = (name: string) => page.locator("#connector-rows tr", { has: page.getByText(name, { exact: true }) });
  const cells = async (name: string) => (await row(name).locator("td").allInnerTexts()).map((t) => t.trim());

  async function fillWordPress(o: { name?: string; url: string; user?: string; password?: string }) {
    await page
      .getByLabel("Name")
      .first()
      .fill(o.name ?? "");
    await wpForm().getByLabel("Site URL").fill(o.url);
    if (o.user !== undefined) await page.getByLabel("Username", { exact: true }).fill(o.user);
    if (o.password !== undefined) await page.getByLabel("Application password", { exact: true }).fill(o.password);
  }

  it("signs in and shows an empty Connectors section with a form per type", async () => {
    await page.goto(`${worker.url}/byok`);
    await page.getByRole("button", { name: "Sign in as dev admin" }).click();
    await page.getByText("No connectors yet. Add a site or shop below.").waitFor();
    expect(await page.getByRole("heading", { name: "Connectors" }).isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: "Connect WordPress" }).isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: "Connect Shopify" }).isVisible()).toBe(true);
    // Credential fields are write-only: password inputs, never autocompleted.
    for (const label of ["Application password", "Admin API access token"]) {
      const input = page.getByLabel(label, { exact: true });
      expect(await input.getAttribute("type")).toBe("password");
      expect(await input.getAttribute("autocomplete")).toBe("off");
    }
  });

  it("explains WordPress's refusal of the credentials next to the form, and clears the password", async () => {
    await fillWordPress({ name: "Support site", url: siteUrl, user: DEV_WP_USER, password: WRONG_WP_PASSWORD });
    await page.getByRole("button", { name: "Connect WordPress" }).click();
    const box = wpForm().locator(".field-error");
    await box.getByText("WordPress refused the user name or application password (HTTP 401).").waitFor();
    expect(await box.textContent()).toContain("Code: connector_check_failed");
    expect(await page.getByLabel("Application password", { exact: true }).inputValue()).toBe("");
    expect(await wpForm().getByLabel("Site URL").inputValue()).toBe(siteUrl);
    expect(await page.getByText("No connectors yet. Add a site or shop below.").isVisible()).toBe(true);
    await screenshot(page, "connectors-01-bad-credentials");
  });

  it("marks the field a validation problem names", async () => {
    await page.getByLabel("Application password", { exact: true }).fill("not an application password");
    await page.getByRole("button", { name: "Connect WordPress" }).click();
    const box = wpForm().locator(".field-error");
    await box.getByText("must be a WordPress application password", { exact: false }).waitFor();
    expect(await box.textContent()).toContain("Code: validation_failed");
    expect(await page.getByLabel("Application password", { exact: true }).getAttribute("aria-invalid")).toBe("true");
  });

  it("connects the WordPress site: listed with its address and credential hints only", async () => {
    await fillWordPress({ name: "Support site", url: siteUrl, user: DEV_WP_USER, password: DEV_WP_APP_PASSWORD });
    await page.getByRole("button", { name: "Connect WordPress" }).click();
    await notice().getByText("Connected the WordPress “Support site”. Sync now to bring its content in.").waitFor();
    await row("Support site").waitFor();
    const [name, source, status, lastRun, documents] = await cells("Support site");
    expect(name).toContain("WordPress");
    expect(source).toContain(siteUrl);
    expect(source).toContain("editor · ****5678");
    expect(status).toContain("Never synced");
    expect(status).toContain("Manual only");
    expect(lastRun).toBe("—");
    expect(documents).toBe("0");
    // The form is reset: nothing typed is left.
    expect(await wpForm().getByLabel("Site URL").inputValue()).toBe("");
    expect(await page.getByLabel("Username", { exact: true }).inputValue()).toBe("");
  });

  it("a sync without the tenant's OpenAI key fails, and the row and the alert say why", async () => {
    await page.getByRole("button", { name: "Sync Support site now" }).click();
    await notice().getByText("Started a sync of “Support site”.").waitFor();
    await row("Support site").and(page.locator('[data-status="failed"]')).waitFor();
    const lastRun = (await cells("Support site"))[3]!;
    expect(lastRun).toContain("Code: provider_key_missing");
    expect(lastRun).toMatch(/Step: /);
    expect(await alert().textContent()).toContain("The sync of “Support site” failed at step");
    expect(await alert().textContent()).toContain("Code: provider_key_missing");
    expect((await cells("Support site"))[2]).toContain("Failed");
    await screenshot(page, "connectors-02-sync-failed");
  });

  it("Sync now follows the run: syncing while the site rate-limits, then synced with its counts", async () => {
    await page.getByLabel("OpenAI API key", { exact: true }).fill(OPENAI_KEY);
    await page.getByRole("button", { name: "Save key" }).first().click();
    await notice().getByText("Saved the OpenAI key", { exact: false }).waitFor();

    // The site answers 429 until told otherwise: the run waits (Retry-After), so it is seen running.
    await control(stack.wordpress.url, "sites/page/faults", "PUT", { status: 429, retryAfter: 1 });
    try {
      await page.getByRole("button", { name: "Sync Support site now" }).click();
      const running = row("Support site").and(page.locator('[data-status="running"]'));
      await running.waitFor();
      const [, , status, lastRun] = (await running.locator("td").allInnerTexts()).map((t) => t.trim());
      expect(status).toContain("Syncing…");
      expect(lastRun).toMatch(/^Started /);
      // One run at a time: Sync now is off while this one runs.
      expect(await page.getByRole("button", { name: "Sync Support site now" }).isDisabled()).toBe(true);
      await screenshot(page, "connectors-03-syncing");
    } finally {
      await control(stack.wordpress.url, "sites/page/faults", "DELETE");
    }
    const counts = `${SITE_ITEMS} seen · ${SITE_ITEMS} added · 0 updated · 0 unchanged · 0 removed · 0 failed`;
    await notice().getByText(`Synced “Support site”: ${counts}.`).waitFor({ timeout: 45_000 });
    // The list is reloaded once the run ended (the documents count comes with it).
    const synced = row("Support site").and(page.locator('[data-status="succeeded"]'));
    await synced.getByRole("cell", { name: String(SITE_ITEMS), exact: true }).waitFor();
    const [, , status, lastRun, documents] = (await synced.locator("td").allInnerTexts()).map((t) => t.trim());
    expect(status).toContain("Synced");
    expect(lastRun).toContain(counts);
    expect(lastRun).toMatch(/\d+(\.\d)? s/);
    expect(documents).toBe(String(SITE_ITEMS));
    expect(await page.getByRole("button", { name: "Sync Support site now" }).isEnabled()).toBe(true);
    await screenshot(page, "connectors-04-synced");
  });

  it("connects a Shopify shop with its access token, after explaining a wrong one", async () => {
    await page.getByLabel("Name", { exact: true }).nth(1).fill("Shop");
    await shopForm().getByLabel("Shop address").fill(shopUrl);
    await page.getByLabel("Admin API access token", { exact: true }).fill(WRONG_SHOP_TOKEN);
    await page.getByRole("button", { name: "Connect Shopify" }).click();
    const box = shopForm().locator(".field-error");
    await box.getByText("Code: connector_check_failed", { exact: false }).waitFor();
    expect(await box.textContent()).toMatch(/Shopify/);
    expect(await page.getByLabel("Admin API access token", { exact: true }).inputValue()).toBe("");

    await page.getByLabel("Admin API access token", { exact: true }).fill(DEV_SHOPIFY_TOKEN);
    await page.getByLabel("Sync schedule").nth(1).selectOption({ label: "Daily" });
    await page.getByRole("button", { name: "Connect Shopify" }).click();
    await notice().getByText("Connected the Shopify “Shop”.", { exact: false }).waitFor();
    await row("Shop").waitFor();
    const [name, source, status] = await cells("Shop");
    expect(name).toContain("Shopify");
    expect(source).toContain(shopUrl);
    expect(source).toContain(`****${DEV_SHOPIFY_TOKEN.slice(-4)}`);
    expect(status).toContain("Daily");
  });

  it("connects a public WordPress site without credentials", async () => {
    await page.getByLabel("Public site: read without credentials").check();
    expect(await page.getByLabel("Username", { exact: true }).isHidden()).toBe(true);
    expect(await page.getByLabel("Application password", { exact: true }).isHidden()).toBe(true);
    await fillWordPress({ url: publicSiteUrl });
    await page.getByRole("button", { name: "Connect WordPress" }).click();
    // No name given: the site's host names it.
    const host = new URL(publicSiteUrl).host;
    await notice().getByText(`Connected the WordPress “${host}”.`, { exact: false }).waitFor();
    await row(host).waitFor();
    expect((await cells(host))[1]).toContain("Anonymous (public content)");
    // The form is back to its defaults, credentials shown again.
    expect(await page.getByLabel("Public site: read without credentials").isChecked()).toBe(false);
    expect(await page.getByLabel("Username", { exact: true }).isVisible()).toBe(true);
    await screenshot(page, "connectors-05-three-connectors");
  });

  it("keeps no credential anywhere in the page: DOM, inputs, storage", async () => {
    expect(await secretsInPage(page, SECRETS)).toEqual([]);
  });

  it("a member sees the connectors, and a change refused with 403 turns the section read-only", async () => {
    const member = await browser.context.newPage();
    const errors = collectPageErrors(member);
    await withoutUsageReport(member);
    await member.goto(`${worker.url}/byok#token=${await devToken(["member"])}`);
    const memberRow = member.locator("#connector-rows tr", { has: member.getByText("Support site", { exact: true }) });
    await memberRow.waitFor();
    expect(await memberRow.textContent()).toContain(`${SITE_ITEMS} seen`);
    await member.getByRole("button", { name: "Sync Support site now" }).click();
    const memberAlert = member.locator("#error");
    await memberAlert.getByText("Only admins can sync connectors", { exact: false }).waitFor();
    expect(await memberAlert.textContent()).toContain("Code: forbidden");
    expect(await member.locator("#connectors-readonly").isVisible()).toBe(true);
    expect(await member.getByRole("button", { name: "Connect WordPress" }).isDisabled()).toBe(true);
    expect(await member.getByRole("button", { name: "Connect Shopify" }).isDisabled()).toBe(true);
    expect(await member.getByRole("button", { name: "Delete connector Support site" }).isDisabled()).toBe(true);
    expect(await member.getByRole("button", { name: "Sync Support site now" }).isDisabled()).toBe(true);
    expect(await member.getByRole("button", { name: "Edit connector Support site" }).isDisabled()).toBe(true);
    await screenshot(member, "connectors-06-member-read-only");
    expect(errors.filter((e) => !e.includes("Failed to load resource"))).toEqual([]);
    await member.close();
  });

  it("deletes a connector after confirmation, keeping or removing its documents as chosen", async () => {
    const del = page.getByRole("button", { name: "Delete connector Support site" });
    await del.click();
    const dialog = page.getByRole("dialog", { name: "Delete the connector “Support site”?" });
    await dialog.waitFor();
    expect(await dialog.getByRole("group", { name: `The ${SITE_ITEMS} documents it synced` }).isVisible()).toBe(true);
    expect(await dialog.getByLabel("Remove them from the knowledge base").isChecked()).toBe(true);
    // Escape cancels: nothing deleted, focus back on the button.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect(await row("Support site").count()).toBe(1);
    expect(await del.evaluate((b) => b === document.activeElement)).toBe(true);

    await del.click();
    await dialog.getByLabel("Keep them as ordinary documents, no longer updated").check();
    await screenshot(page, "connectors-07-confirm-delete");
    await dialog.getByRole("button", { name: "Delete connector" }).click();
    await notice()
      .getByText(`Deleted the connector “Support site”; kept ${SITE_ITEMS} documents as ordinary knowledge.`)
      .waitFor();
    await row("Support site").waitFor({ state: "detached" });

    // Kept: the documents are still in the tenant's knowledge base.
    const token = await page.evaluate(() => sessionStorage.getItem("brain.byok.token"));
    const docs = await fetch(`${worker.url}/knowledge/documents?limit=100`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(docs.status).toBe(200);
    expect(((await docs.json()) as { items: unknown[] }).items).toHaveLength(SITE_ITEMS);

    await page.getByRole("button", { name: "Delete connector Shop" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete connector" }).click();
    await notice().getByText("Deleted the connector “Shop”; removed 0 documents.").waitFor();
    await row("Shop").waitFor({ state: "detached" });
    expect(await page.locator("#connector-rows tr").count()).toBe(1);
  });

  it("ran under its CSP without script errors or violations", () => {
    expect(pageErrors.filter((e) => !e.includes("Failed to load resource"))).toEqual([]);
  });
});
