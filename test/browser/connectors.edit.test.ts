/**
 * Editing a connector on the BYOK page in a real browser, against the local stack:
 * the Edit dialog shows the stored values and credential hints (never credentials),
 * a refusal appears on the line of the field it names, a save renames, reschedules,
 * rescopes and rotates the credentials (a new Vault version, checked with the site),
 * moves the connector to another address (its credentials checked there) and changes its content,
 * and a member's attempt turns the section read-only.
 * Steps share one page and run in order, like a tenant admin's session.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_SHOPIFY_TOKEN } from "../../local-stack/shopify/server";
import { DEV_WP_APP_PASSWORD, DEV_WP_USER } from "../../local-stack/wordpress/server";
import type { BrainApi } from "../../src/client";
import { chromiumMissing, collectPageErrors, screenshot } from "./support/browser";
import { control, devToken, type SignedIn, secretsInPage, signedIn, withoutUsageReport } from "./support/session";

/** The site's second user: rotating to it must be checked with the site and then used. */
const ROTATED_USER = "rotator";
const ROTATED_PASSWORD = "QRST uvwx 2468 ABCD efgh 1357";
const WRONG_PASSWORD = "wxyz WXYZ 9876 ijkl MNOP 0000";
const WRONG_SHOP_TOKEN = "shpat_ffffffffffffffffffffffffffff0000";
const SECRETS = [
  DEV_WP_APP_PASSWORD,
  ROTATED_PASSWORD,
  ROTATED_PASSWORD.replace(/ /g, ""),
  WRONG_PASSWORD,
  DEV_SHOPIFY_TOKEN,
  WRONG_SHOP_TOKEN,
];

describe.skipIf(chromiumMissing)("BYOK page: editing connectors in chromium", () => {
  let world: SignedIn;
  let worker: SignedIn["worker"];
  let browser: SignedIn["browser"];
  let page: Page;
  let api: BrainApi;
  let siteId: string;
  let shopId: string;

  beforeAll(async () => {
    world = await signedIn();
    ({ worker, browser, page, api } = world);
    const { stack } = world;
    const site = (await control(stack.wordpress.url, "sites", "POST", {
      name: "edit",
      posts: 2,
      pages: 0,
      users: { [DEV_WP_USER]: DEV_WP_APP_PASSWORD, [ROTATED_USER]: ROTATED_PASSWORD },
    }))!.url;
    const shop = (await control(stack.shopify.url, "shops", "POST", { name: "edit", products: 2 }))!.url;
    // Set-up through the API: the page's part here is editing.
    await api.agents.$post({ json: { agent_id: "support-bot", name: "Support bot" } });
    await api.agents.$post({ json: { agent_id: "sales-bot", name: "Sales bot" } });
    siteId = (
      await api.connectors.create({
        type: "wordpress",
        name: "Support site",
        settings: { site_url: site },
        credentials: { username: DEV_WP_USER, application_password: DEV_WP_APP_PASSWORD },
      })
    ).id;
    shopId = (
      await api.connectors.create({
        type: "shopify",
        name: "Shop",
        settings: { shop_url: shop },
        credentials: { access_token: DEV_SHOPIFY_TOKEN },
        agent_id: "sales-bot",
        schedule_minutes: 15,
      })
    ).id;
    await page.reload();
  });

  afterAll(async () => await world?.close());

  const notice = () => page.locator("#notice");
  const dialog = () => page.getByRole("dialog");
  const row = (name: string) => page.locator("#connector-rows tr", { has: page.getByText(name, { exact: true }) });
  const cells = async (name: string) => (await row(name).locator("td").allInnerTexts()).map((t) => t.trim());
  const save = () => dialog().getByRole("button", { name: "Save changes" }).click();
  const errorLine = (id: string) => page.locator(`#${id}-error`);

  it("opens Edit filled from the connector, with the stored credentials as hints only", async () => {
    await page.getByRole("button", { name: "Edit connector Support site" }).click();
    const d = page.getByRole("dialog", { name: "Edit the WordPress “Support site”" });
    await d.waitFor();
    expect(await d.getByLabel("Name", { exact: true }).inputValue()).toBe("Support site");
    expect(await d.getByLabel("Name", { exact: true }).evaluate((e) => e === document.activeElement)).toBe(true);
    expect(await d.getByLabel("Sync schedule").inputValue()).toBe("");
    // The tenant's agents are offered, the shared scope first and selected.
    const agent = d.getByLabel("Agent scope");
    await agent.locator("option", { hasText: "Support bot (support-bot)" }).waitFor({ state: "attached" });
    expect(await agent.locator("option").allTextContents()).toEqual([
      "Every agent (shared)",
      "Sales bot (sales-bot)",
      "Support bot (support-bot)",
    ]);
    expect(await agent.inputValue()).toBe("");
    // Write-only: the hints say what is stored; the fields are empty password inputs.
    expect(await d.getByText("Stored: editor · ****5678 (version 1).", { exact: false }).isVisible()).toBe(true);
    const password = d.getByLabel("New application password");
    expect(await password.getAttribute("type")).toBe("password");
    expect(await password.inputValue()).toBe("");
    expect(await d.getByLabel("New username").inputValue()).toBe("");
    // Only this type's credentials are offered.
    expect(await d.getByLabel("New admin API access token").isHidden()).toBe(true);
    await screenshot(page, "connectors-edit-01-open");
  });

  it("says so when nothing changed, and Escape closes without saving, focus back on Edit", async () => {
    await save();
    await dialog().getByText("Nothing to save: change a field or enter new credentials.").waitFor();
    await page.keyboard.press("Escape");
    await dialog().waitFor({ state: "hidden" });
    const edit = page.getByRole("button", { name: "Edit connector Support site" });
    expect(await edit.evaluate((b) => b === document.activeElement)).toBe(true);
    expect((await cells("Support site"))[2]).toContain("Manual only");
  });

  it("shows each refusal on the line of the field it names, clearing the password every time", async () => {
    await page.getByRole("button", { name: "Edit connector Support site" }).click();
    const d = dialog();
    // An empty name, caught before sending.
    await d.getByLabel("Name", { exact: true }).fill("");
    await save();
    await errorLine("edit-name").getByText("Enter a name.").waitFor();
    expect(await d.getByLabel("Name", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    // Typing clears the field's error.
    await d.getByLabel("Name", { exact: true }).fill("Help center");
    expect(await errorLine("edit-name").textContent()).toBe("");

    // A password without its user: the API's credentials rule, on the credentials' line.
    await d.getByLabel("New application password").fill(ROTATED_PASSWORD);
    await save();
    await errorLine("edit-wordpress-credentials")
      .getByText("give both username and application_password", { exact: false })
      .waitFor();
    expect(await d.getByLabel("New application password").inputValue()).toBe("");
    expect(await d.getByLabel("New username").getAttribute("aria-invalid")).toBe("true");

    // A malformed password: the API names the field, its line says why.
    await d.getByLabel("New username").fill(ROTATED_USER);
    await d.getByLabel("New application password").fill("not an application password");
    await save();
    await errorLine("edit-wp-password")
      .getByText("must be a WordPress application password", { exact: false })
      .waitFor();
    expect(await d.getByLabel("New application password").getAttribute("aria-invalid")).toBe("true");
    expect(await d.getByLabel("New application password").inputValue()).toBe("");

    // WordPress refuses the password: its answer on the credentials' line; nothing was saved.
    await d.getByLabel("New application password").fill(WRONG_PASSWORD);
    await save();
    await errorLine("edit-wordpress-credentials")
      .getByText("WordPress refused the user name or application password (HTTP 401).")
      .waitFor();
    expect(await d.getByLabel("New application password").inputValue()).toBe("");
    expect(await d.isVisible()).toBe(true);
    await screenshot(page, "connectors-edit-02-refused");
    const stored = await api.connectors.get(siteId);
    expect(stored.name).toBe("Support site");
    expect(stored.credentials).toEqual({ hints: { username: "editor", application_password: "****5678" }, version: 1 });
  });

  it("saves a new name, schedule, agent scope and rotated credentials in one go", async () => {
    const d = dialog();
    await d.getByLabel("Sync schedule").selectOption({ label: "Daily" });
    await d.getByLabel("Agent scope").selectOption("support-bot");
    await d.getByLabel("New username").fill(ROTATED_USER);
    await d.getByLabel("New application password").fill(ROTATED_PASSWORD);
    await save();
    await notice()
      .getByText(
        "Saved the connector “Help center”: renamed; schedule: Daily; agents: support-bot; new credentials checked and stored (version 2).",
      )
      .waitFor();
    await d.waitFor({ state: "hidden" });
    const [name, source, status] = await cells("Help center");
    expect(name).toContain("Help center");
    expect(source).toContain(`${ROTATED_USER} · ****1357`);
    expect(status).toContain("Daily");
    expect(status).toContain("Agent: support-bot");
    expect(await row("Support site").count()).toBe(0);
    // Focus stays on the row's Edit button.
    const edit = page.getByRole("button", { name: "Edit connector Help center" });
    expect(await edit.evaluate((b) => b === document.activeElement)).toBe(true);

    // What the API holds now: the new version, the new user's hints, the scope and schedule.
    const stored = await api.connectors.get(siteId);
    expect(stored).toMatchObject({ name: "Help center", schedule_minutes: 1440, agent_id: "support-bot" });
    expect(stored.credentials).toEqual({
      hints: { username: ROTATED_USER, application_password: "****1357" },
      version: 2,
    });
    await screenshot(page, "connectors-edit-03-saved");
  });

  it("reopens with the saved values, and sets the scope back to every agent", async () => {
    await page.getByRole("button", { name: "Edit connector Help center" }).click();
    const d = dialog();
    await d.getByText("Stored: rotator · ****1357 (version 2).", { exact: false }).waitFor();
    expect(await d.getByLabel("Sync schedule").inputValue()).toBe("1440");
    await d.getByLabel("Agent scope").locator("option", { hasText: "Sales bot" }).waitFor({ state: "attached" });
    expect(await d.getByLabel("Agent scope").inputValue()).toBe("support-bot");
    await d.getByLabel("Agent scope").selectOption({ label: "Every agent (shared)" });
    await save();
    await notice().getByText("Saved the connector “Help center”: agents: every agent.").waitFor();
    expect((await cells("Help center"))[2]).toContain("All agents");
    expect((await api.connectors.get(siteId)).agent_id).toBeNull();
  });

  it("moves a connector to another address and changes its content; refusals on the address's and content's lines", async () => {
    const { stack } = world;
    // A site that does not know the connector's user, and one that does.
    const stranger = (await control(stack.wordpress.url, "sites", "POST", {
      name: "edit-stranger",
      posts: 1,
      pages: 0,
      users: { [DEV_WP_USER]: DEV_WP_APP_PASSWORD },
    }))!.url;
    const moved = (await control(stack.wordpress.url, "sites", "POST", {
      name: "edit-moved",
      posts: 3,
      pages: 1,
      users: { [ROTATED_USER]: ROTATED_PASSWORD },
    }))!.url;
    const before = await api.connectors.get(siteId);
    await page.getByRole("button", { name: "Edit connector Help center" }).click();
    const d = dialog();
    const url = d.getByLabel("Site URL");
    expect(await url.inputValue()).toBe(before.settings.site_url);
    expect(await d.getByLabel("Posts").isChecked()).toBe(true);
    expect(await d.getByLabel("Pages").isChecked()).toBe(true);

    // No address: caught before sending.
    await url.fill("");
    await save();
    await errorLine("edit-wp-site").getByText("Enter the address.").waitFor();
    expect(await url.getAttribute("aria-invalid")).toBe("true");

    // The stored credentials are checked at the new address first: refused there, on the address's line.
    await url.fill(stranger);
    await save();
    await errorLine("edit-wp-site").getByText("WordPress refused", { exact: false }).waitFor();
    expect((await api.connectors.get(siteId)).settings.site_url).toBe(before.settings.site_url);

    // No content type: the API's rule, on the content's line.
    await url.fill(moved);
    await d.getByLabel("Posts").uncheck();
    await d.getByLabel("Pages").uncheck();
    await save();
    await errorLine("edit-wp-content").locator("span").waitFor();
    expect((await api.connectors.get(siteId)).settings).toEqual(before.settings);

    await d.getByLabel("Posts").check();
    await save();
    await notice().getByText(`Saved the connector “Help center”: address: ${moved}; content types: posts.`).waitFor();
    expect((await cells("Help center"))[1]).toContain(moved);
    const stored = await api.connectors.get(siteId);
    expect(stored.settings).toEqual({ site_url: moved, content_types: ["posts"] });
    expect(stored.credentials.version).toBe(2);

    // Reopened: the fields show what is stored now.
    await page.getByRole("button", { name: "Edit connector Help center" }).click();
    expect(await dialog().getByLabel("Site URL").inputValue()).toBe(moved);
    expect(await dialog().getByLabel("Pages").isChecked()).toBe(false);
    await page.keyboard.press("Escape");
    await dialog().waitFor({ state: "hidden" });
    await screenshot(page, "connectors-edit-04-moved");
  });

  it("rotates a Shopify token, keeping a schedule the list does not offer", async () => {
    await page.getByRole("button", { name: "Edit connector Shop" }).click();
    const d = page.getByRole("dialog", { name: "Edit the Shopify “Shop”" });
    await d.waitFor();
    // 15 minutes was set through the API: shown as it is, not replaced by a listed choice.
    expect(await d.getByLabel("Sync schedule").locator("option:checked").textContent()).toBe("Every 15 min");
    await d.getByLabel("Agent scope").locator("option", { hasText: "Support bot" }).waitFor({ state: "attached" });
    expect(await d.getByLabel("Agent scope").inputValue()).toBe("sales-bot");
    expect(await d.getByLabel("New username").isHidden()).toBe(true);
    await d.getByText(`Stored: ****${DEV_SHOPIFY_TOKEN.slice(-4)} (version 1).`, { exact: false }).waitFor();

    await d.getByLabel("New admin API access token").fill(WRONG_SHOP_TOKEN);
    await save();
    await errorLine("edit-shopify-credentials").getByText("Shopify", { exact: false }).waitFor();
    expect(await d.getByLabel("New admin API access token").inputValue()).toBe("");

    await d.getByLabel("New admin API access token").fill(DEV_SHOPIFY_TOKEN);
    await save();
    await notice().getByText("Saved the connector “Shop”: new credentials checked and stored (version 2).").waitFor();
    const stored = await api.connectors.get(shopId);
    expect(stored).toMatchObject({ schedule_minutes: 15, agent_id: "sales-bot", credentials: { version: 2 } });
    expect((await cells("Shop"))[2]).toContain("Every 15 min");
  });

  it("keeps no credential anywhere in the page: DOM, inputs, storage", async () => {
    expect(await secretsInPage(page, SECRETS)).toEqual([]);
  });

  it("a member's edit is refused (403): the dialog closes, the alert says why, Edit turns off", async () => {
    const member = await browser.context.newPage();
    const errors = collectPageErrors(member);
    await withoutUsageReport(member);
    await member.goto(`${worker.url}/byok#token=${await devToken(["member"])}`);
    await member.getByRole("button", { name: "Edit connector Help center" }).click();
    const d = member.getByRole("dialog", { name: "Edit the WordPress “Help center”" });
    await d.getByLabel("Name", { exact: true }).fill("Renamed by a member");
    await d.getByRole("button", { name: "Save changes" }).click();
    await member.locator("#error").getByText("Only admins can edit connectors", { exact: false }).waitFor();
    expect(await d.isHidden()).toBe(true);
    expect(await member.locator("#connectors-readonly").isVisible()).toBe(true);
    expect(await member.getByRole("button", { name: "Edit connector Help center" }).isDisabled()).toBe(true);
    expect(await member.getByRole("button", { name: "Edit connector Shop" }).isDisabled()).toBe(true);
    expect((await api.connectors.get(siteId)).name).toBe("Help center");
    expect(errors.filter((e) => !e.includes("Failed to load resource"))).toEqual([]);
    await member.close();
  });

  it("ran under its CSP without script errors or violations", () => {
    expect(world.pageErrors.filter((e) => !e.includes("Failed to load resource"))).toEqual([]);
  });
});
