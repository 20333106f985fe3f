/**
 * The BYOK page's Developer section (tenant API keys) in a real browser: create a key
 * with allowances, a limit and an expiry, see it exactly once (copy button, "you will
 * not see it again") and never again in the page, list it by hint, revoke it after a
 * confirmation (the key is refused from then on), refusals on their field's line, and
 * a member's read-only view. Steps share one page and run in order.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY_RATE_LIMIT_TIERS } from "../../src/api-keys/rate-limit";
import type { BrainApi } from "../../src/client";
import { chromiumMissing, collectPageErrors, screenshot } from "./support/browser";
import { devToken, type SignedIn, secretsInPage, signedIn, withoutUsageReport } from "./support/session";

const KEY_SHAPE = /^bgk_[0-9A-Za-z]{43}$/;

describe.skipIf(chromiumMissing)("BYOK page: developer API keys in chromium", () => {
  let world: SignedIn;
  let worker: SignedIn["worker"];
  let browser: SignedIn["browser"];
  let page: Page;
  let api: BrainApi;
  /** The keys the page showed once, to check they are gone from it. */
  const shown: string[] = [];

  beforeAll(async () => {
    world = await signedIn();
    ({ worker, browser, page, api } = world);
    await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: worker.url });
    await api.agents.$post({ json: { agent_id: "support-bot", name: "Support bot" } });
    await page.reload();
  });

  afterAll(async () => await world?.close());

  const notice = () => page.locator("#notice");
  const form = () => page.locator("#apikey-form");
  const create = () => form().getByRole("button", { name: "Create API key" }).click();
  const row = (name: string) => page.locator("#apikey-rows tr", { has: page.getByText(name, { exact: true }) });
  const cells = async (name: string) => (await row(name).locator("td").allInnerTexts()).map((t) => t.trim());
  const v1Models = async (key: string) =>
    await fetch(`${worker.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });

  it("shows an empty list and a form offering the allowed rate limits and the tenant's agents", async () => {
    await page.getByText("No API keys yet. Create one below.").waitFor();
    expect(await page.getByRole("heading", { name: "Developer: API keys" }).isVisible()).toBe(true);
    expect(await form().getByLabel("Rate limit").locator("option").allTextContents()).toEqual([
      "No limit of its own",
      ...API_KEY_RATE_LIMIT_TIERS.map((n) => `${n} requests a minute`),
    ]);
    await form().getByLabel("Support bot support-bot").waitFor();
    expect(await form().getByLabel("gpt-4o-mini", { exact: true }).isChecked()).toBe(false);
  });

  it("shows refusals on the line of the field they name", async () => {
    await create();
    await page.locator("#apikey-name-error").getByText("Enter a name.").waitFor();
    expect(await form().getByLabel("Name").getAttribute("aria-invalid")).toBe("true");

    await form().getByLabel("Name").fill("CI pipeline");
    await form().getByLabel("Expires on").fill("2020-01-01");
    await form().getByLabel("gpt-4o-mini", { exact: true }).check();
    await form().getByLabel("Other models").fill("gpt-4o-mini");
    await create();
    await page.locator("#apikey-expires_at-error").getByText("expires_at must be in the future").waitFor();
    await page.locator("#apikey-allowed_models-error").getByText("allowed_models must not repeat a model").waitFor();
    expect(await form().getByLabel("Expires on").getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByText("No API keys yet. Create one below.").isVisible()).toBe(true);
    await screenshot(page, "developer-01-refused");
  });

  it("creates a key and shows it exactly once, with a copy button and a clear warning", async () => {
    await form().getByLabel("Expires on").fill("2030-06-30");
    await form().getByLabel("Other models").fill("azure-openai/prod");
    await form().getByLabel("Support bot support-bot").check();
    await form().getByLabel("Rate limit").selectOption({ label: "60 requests a minute" });
    await create();
    const dialog = page.getByRole("dialog", { name: "Your new API key" });
    await dialog.waitFor();
    expect(await dialog.getByText("Copy it now: you will not see it again.").isVisible()).toBe(true);
    const key = await dialog.getByLabel("API key").inputValue();
    shown.push(key);
    expect(key).toMatch(KEY_SHAPE);
    expect(await dialog.getByLabel("API key").getAttribute("readonly")).not.toBeNull();
    await screenshot(page, "developer-02-shown-once");

    await dialog.getByRole("button", { name: "Copy" }).click();
    await dialog.getByText("Copied to the clipboard.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);

    // The key works, within its allowances: /v1/models lists only what it may call.
    const models = await v1Models(key);
    expect(models.status).toBe(200);
    expect(((await models.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toEqual([
      "agent:support-bot",
    ]);

    await dialog.getByRole("button", { name: "I have copied it" }).click();
    await dialog.waitFor({ state: "hidden" });
    const hint = `bgk_****${key.slice(-4)}`;
    await notice().getByText(`Created the API key “CI pipeline” (${hint}). Only its hint is kept.`).waitFor();
    // Gone from the page: not in the DOM, any input, or storage.
    expect(await secretsInPage(page, [key])).toEqual([]);

    const [name, shownHint, allowed, limit, lastUsed, expires, status] = await cells("CI pipeline");
    expect(name).toContain("Created");
    expect(shownHint).toBe(hint);
    expect(allowed).toBe("gpt-4o-mini, azure-openai/prod, agent:support-bot");
    expect(limit).toBe("60/min");
    expect(lastUsed).toBe("Never");
    expect(expires).toContain("Jun 30, 2030");
    expect(status).toBe("Active");
    // The form is back to its defaults.
    expect(await form().getByLabel("Name").inputValue()).toBe("");
    expect(await form().getByLabel("Support bot support-bot").isChecked()).toBe(false);
  });

  it("creates a key without allowances: every model and agent, no limit of its own, no expiry", async () => {
    await form().getByLabel("Name").fill("Notebook");
    await create();
    const dialog = page.getByRole("dialog", { name: "Your new API key" });
    await dialog.waitFor();
    const key = await dialog.getByLabel("API key").inputValue();
    shown.push(key);
    expect(key).toMatch(KEY_SHAPE);
    expect(key).not.toBe(shown[0]);
    // Escape closes it too, and the key goes with it.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    // The dialog's close event (fired after it is hidden) takes the key away and says so.
    await notice().getByText("Created the API key “Notebook”", { exact: false }).waitFor();
    expect(await secretsInPage(page, shown)).toEqual([]);
    await row("Notebook").waitFor();
    const [, , allowed, limit, , expires, status] = await cells("Notebook");
    expect([allowed, limit, expires, status]).toEqual(["Every model and agent", "—", "Never", "Active"]);
    // Newest first.
    expect(await page.locator("#apikey-rows tr .name").allTextContents()).toEqual(["Notebook", "CI pipeline"]);
  });

  it("revokes a key after confirmation; the key is refused from then on", async () => {
    const revoke = page.getByRole("button", { name: "Revoke API key CI pipeline" });
    await revoke.click();
    const dialog = page.getByRole("dialog", { name: /^Revoke the API key “CI pipeline” \(bgk_\*\*\*\*.{4}\)\?$/ });
    await dialog.waitFor();
    // Escape cancels: nothing revoked, focus back on the button.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    expect(await revoke.evaluate((b) => b === document.activeElement)).toBe(true);
    expect((await cells("CI pipeline"))[6]).toBe("Active");
    expect((await v1Models(shown[0]!)).status).toBe(200);

    await revoke.click();
    await screenshot(page, "developer-03-confirm-revoke");
    await dialog.getByRole("button", { name: "Revoke key" }).click();
    await notice().getByText("Revoked the API key “CI pipeline”", { exact: false }).waitFor();
    await row("CI pipeline").and(page.locator('[data-status="revoked"]')).waitFor();
    expect((await cells("CI pipeline"))[6]).toContain("Revoked");
    expect(await revoke.isDisabled()).toBe(true);
    expect((await v1Models(shown[0]!)).status).toBe(401);
    // The other key still works.
    expect((await v1Models(shown[1]!)).status).toBe(200);
    await screenshot(page, "developer-04-revoked");
  });

  it("a member sees the keys by hint; a create refused with 403 turns the page read-only", async () => {
    const member = await browser.context.newPage();
    const errors = collectPageErrors(member);
    await withoutUsageReport(member);
    await member.goto(`${worker.url}/byok#token=${await devToken(["member"])}`);
    const memberRow = member.locator("#apikey-rows tr", { has: member.getByText("Notebook", { exact: true }) });
    await memberRow.waitFor();
    expect(await memberRow.textContent()).toContain(`bgk_****${shown[1]!.slice(-4)}`);
    await member.locator("#apikey-form").getByLabel("Name").fill("Member's key");
    await member.getByRole("button", { name: "Create API key" }).click();
    const alert = member.locator("#error");
    await alert.getByText("Only admins can create API keys", { exact: false }).waitFor();
    expect(await alert.textContent()).toContain("Code: forbidden");
    expect(await member.locator("#apikeys-readonly").isVisible()).toBe(true);
    expect(await member.getByRole("button", { name: "Create API key" }).isDisabled()).toBe(true);
    expect(await member.getByRole("button", { name: "Revoke API key Notebook" }).isDisabled()).toBe(true);
    // Every change the page offers needs the admin role: the connectors section is read-only too.
    expect(await member.locator("#connectors-readonly").isVisible()).toBe(true);
    expect(await member.getByRole("button", { name: "Connect WordPress" }).isDisabled()).toBe(true);
    expect(await member.getByRole("dialog").count()).toBe(0);
    expect((await api.apiKeys.list()).items.map((k) => k.name)).toEqual(["Notebook", "CI pipeline"]);
    await screenshot(member, "developer-05-member-read-only");
    expect(errors.filter((e) => !e.includes("Failed to load resource"))).toEqual([]);
    await member.close();
  });

  it("keeps no key in the page once its dialog closed: DOM, inputs, storage", async () => {
    expect(shown).toHaveLength(2);
    expect(await secretsInPage(page, shown)).toEqual([]);
  });

  it("ran under its CSP without script errors or violations", () => {
    expect(world.pageErrors.filter((e) => !e.includes("Failed to load resource"))).toEqual([]);
  });
});
