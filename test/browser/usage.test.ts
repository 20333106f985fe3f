/**
 * The BYOK page's Usage panel in a real browser, against the local stack: real /v1 calls
 * (one signed in, two with a tenant API key) become this month's usage by model and by
 * key, shown with the API's exact costs; an admin sets, exceeds and removes the monthly
 * budget, the workspace's and an API key's; a member sees only their own calls and the page read-only from the start.
 * Steps share one page and run in order.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BrainApi, UsageReport } from "../../src/client";
import { chromiumMissing, collectPageErrors, screenshot } from "./support/browser";
import { devToken, type SignedIn, signedIn } from "./support/session";

const OPENAI_KEY = "sk-proj-usagePanelKey0123456789abcdefghUSGE";

/** The API's money as the page shows it: at least two decimals, every digit kept. */
const money = (usd: string) => {
  const [whole, frac = ""] = usd.split(".");
  return `$${whole}.${frac.padEnd(2, "0")}`;
};

describe.skipIf(chromiumMissing)("BYOK page: usage and budget in chromium", () => {
  let world: SignedIn;
  let page: Page;
  let api: BrainApi;
  let apiKey: { key: string; hint: string };

  async function chat(bearer: string) {
    const res = await fetch(`${world.worker.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] }),
    });
    return res;
  }

  /** The report once the audit consumer has rolled up `requests` calls (it runs after the responses). */
  async function reportWith(requests: number, groupBy: "model" | "api_key"): Promise<UsageReport> {
    const until = Date.now() + 30_000;
    for (;;) {
      const r = await api.usage.report({ group_by: groupBy });
      if (r.totals.requests >= requests || Date.now() > until) return r;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  beforeAll(async () => {
    world = await signedIn();
    ({ page, api } = world);
    await api.vault.storeKey("openai", OPENAI_KEY);
    const created = await api.apiKeys.create({ name: "Batch job" });
    apiKey = { key: created.key, hint: created.key_hint };
    const token = (await page.evaluate(() => sessionStorage.getItem("brain.byok.token")))!;
    for (const bearer of [token, apiKey.key, apiKey.key]) expect((await chat(bearer)).status).toBe(200);
    expect((await reportWith(3, "model")).totals.requests).toBe(3);
    await page.reload();
  });

  afterAll(async () => await world?.close());

  const notice = () => page.locator("#notice");
  const budget = () => page.locator("#budget");
  /** The totals as the page names them: { Requests: "3", Cost: "$…", … }. */
  const totalsOf = async (p: Page) =>
    await p
      .locator("#usage-totals > div")
      .evaluateAll((items) =>
        Object.fromEntries(items.map((i) => [i.querySelector("dt")?.textContent, i.querySelector("dd")?.textContent])),
      );
  const cells = async (table: string) =>
    await page
      .locator(`#${table} tbody tr`)
      .evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll("td"), (td) => td.textContent ?? "")));

  it("shows this month's calls by model and by API key, with the API's exact costs", async () => {
    const byModel = await api.usage.report({ group_by: "model" });
    const byKey = await api.usage.report({ group_by: "api_key" });
    await page.locator("#usage-by-model tbody tr[data-key]").first().waitFor();
    expect(await totalsOf(page)).toEqual({
      Requests: "3",
      Tokens: byModel.totals.total_tokens.toLocaleString("en-US"),
      Cost: money(byModel.totals.cost_usd),
    });
    expect(await page.locator("#usage-range").textContent()).toMatch(/^\w{3} 1, \d{4} – .* \(UTC days\)\./);

    const model = byModel.groups.find((g) => g.key === "gpt-4o-mini")!;
    expect(model.requests).toBe(3);
    expect(await cells("usage-by-model")).toEqual([
      ["gpt-4o-mini", "3", `${model.prompt_tokens} / ${model.completion_tokens}`, money(model.cost_usd)],
    ]);
    // Calls with the key group under it, by name and hint; the signed-in call under no key.
    const rows = await cells("usage-by-key");
    const withKey = byKey.groups.find((g) => g.key !== null)!;
    const signedInCalls = byKey.groups.find((g) => g.key === null)!;
    expect(rows).toHaveLength(2);
    expect(rows).toContainEqual([
      `Batch job (${apiKey.hint})`,
      "2",
      `${withKey.prompt_tokens} / ${withKey.completion_tokens}`,
      money(withKey.cost_usd),
    ]);
    expect(rows).toContainEqual([
      "Signed-in users (no API key)",
      "1",
      `${signedInCalls.prompt_tokens} / ${signedInCalls.completion_tokens}`,
      money(signedInCalls.cost_usd),
    ]);
    expect(await budget().getByText("No monthly budget: provider calls are not limited by spend.").isVisible()).toBe(
      true,
    );
    expect(await budget().getByRole("button", { name: "Remove budget" }).isHidden()).toBe(true);
    await screenshot(page, "usage-01-report");
  });

  it("refuses a bad amount beside the field, then sets the budget and shows its spend", async () => {
    const field = budget().getByLabel("Monthly limit (USD)");
    await budget().getByRole("button", { name: "Set budget" }).click();
    await page.locator("#budget-limit-error").getByText("Enter an amount in USD, such as 250.00.").waitFor();
    await field.fill("12.345");
    await budget().getByRole("button", { name: "Set budget" }).click();
    await page.locator("#budget-limit-error").getByText("at most two decimals", { exact: false }).waitFor();
    expect(await field.getAttribute("aria-invalid")).toBe("true");
    expect((await api.usage.budgets()).budgets).toEqual([]);

    await field.fill("250");
    await budget().getByRole("button", { name: "Set budget" }).click();
    await notice().getByText("Set the monthly budget to $250.00.").waitFor();
    const [stored] = (await api.usage.budgets()).budgets;
    expect(stored).toMatchObject({ scope: "tenant", monthly_limit_usd: "250", exceeded: false });
    const state = await page.locator("#budget-state").textContent();
    expect(state).toMatch(
      new RegExp(
        `^\\${money(stored!.spent_usd)} of \\$250\\.00 spent in \\w{3} \\d{4} \\(UTC\\) · \\${money(stored!.remaining_usd)} left\\.$`,
      ),
    );
    expect(await page.locator("#budget-meter").isVisible()).toBe(true);
    expect(await field.inputValue()).toBe("250.00");
    expect(await budget().getByRole("button", { name: "Update budget" }).isVisible()).toBe(true);
    await screenshot(page, "usage-02-budget");
  });

  it("shows an exceeded budget, and provider calls are refused with 402 meanwhile", async () => {
    await budget().getByLabel("Monthly limit (USD)").fill("0");
    await budget().getByRole("button", { name: "Update budget" }).click();
    await notice().getByText("Set the monthly budget to $0.00.").waitFor();
    await budget().getByText("Exceeded: provider calls are refused").waitFor();
    const refused = await chat(apiKey.key);
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("budget_exceeded");
    await screenshot(page, "usage-03-exceeded");
  });

  it("removes the budget; calls go through again", async () => {
    await budget().getByRole("button", { name: "Remove budget" }).click();
    await notice().getByText("Removed the monthly budget", { exact: false }).waitFor();
    await budget().getByText("No monthly budget: provider calls are not limited by spend.").waitFor();
    expect(await budget().getByRole("button", { name: "Remove budget" }).isHidden()).toBe(true);
    expect((await api.usage.budgets()).budgets).toEqual([]);
    expect((await chat(apiKey.key)).status).toBe(200);
  });

  it("an API key's own budget: chosen in 'Budget of', set, exceeded for that key only, removed", async () => {
    const keyId = (await api.apiKeys.list()).items.find((k) => k.name === "Batch job")!.id;
    const budgetOf = budget().getByLabel("Budget of");
    await budgetOf.selectOption({ label: `API key Batch job (${apiKey.hint})` });
    await budget().getByText("No monthly budget for this key", { exact: false }).waitFor();
    await budget().getByLabel("Monthly limit (USD)").fill("0");
    await budget().getByRole("button", { name: "Set budget" }).click();
    await notice().getByText(`Set the monthly budget of API key Batch job (${apiKey.hint}) to $0.00.`).waitFor();
    expect((await api.usage.budgets()).budgets).toEqual([
      expect.objectContaining({ scope: "api_key", api_key_id: keyId, monthly_limit_usd: "0", exceeded: true }),
    ]);
    await budget().getByText("Exceeded: provider calls are refused").waitFor();
    expect(await budget().locator("#budget-state").textContent()).toContain("spent with this key");
    // The key's calls are refused; signed-in calls are not (the workspace has no budget).
    expect((await chat(apiKey.key)).status).toBe(402);
    const token = (await page.evaluate(() => sessionStorage.getItem("brain.byok.token")))!;
    expect((await chat(token)).status).toBe(200);
    // The workspace's own budget is still unset, shown when chosen again.
    await budgetOf.selectOption({ label: "the whole workspace" });
    await budget().getByText("No monthly budget: provider calls are not limited by spend.").waitFor();
    await screenshot(page, "usage-04-key-budget");

    await budgetOf.selectOption({ value: keyId });
    await budget().getByRole("button", { name: "Remove budget" }).click();
    await notice().getByText(`Removed the monthly budget of API key Batch job (${apiKey.hint}).`).waitFor();
    expect((await api.usage.budgets()).budgets).toEqual([]);
    expect((await chat(apiKey.key)).status).toBe(200);
  });

  it("a member sees only their own calls, no budget, and the page read-only from the start", async () => {
    const member = await world.browser.context.newPage();
    const errors = collectPageErrors(member);
    await member.goto(`${world.worker.url}/byok#token=${await devToken(["member"])}`);
    await member.locator("#usage-scope").waitFor();
    expect(await member.locator("#usage-scope").textContent()).toContain("Your own calls only");
    // This member made no call: nothing of the tenant's shows.
    await member.locator("#usage-by-model").getByText("No calls yet this month.").waitFor();
    expect(await totalsOf(member)).toEqual({ Requests: "0", Tokens: "0", Cost: "$0.00" });
    expect(await member.locator("#budget-state").textContent()).toBe("The workspace's budget is shown to admins.");
    expect(await member.locator("#budget-form").isHidden()).toBe(true);
    expect(await member.locator("#budget-for-row").isHidden()).toBe(true);
    // Read-only before trying anything: the changes the page offers are off.
    expect(await member.locator("#connectors-readonly").isVisible()).toBe(true);
    expect(await member.locator("#apikeys-readonly").isVisible()).toBe(true);
    expect(await member.getByRole("button", { name: "Create API key" }).isDisabled()).toBe(true);
    expect(await member.getByRole("button", { name: "Connect WordPress" }).isDisabled()).toBe(true);
    expect(await member.getByRole("button", { name: `Revoke API key Batch job` }).isDisabled()).toBe(true);
    expect(await member.locator("#error").textContent()).toBe("");
    await screenshot(member, "usage-05-member");
    expect(errors.filter((e) => !e.includes("Failed to load resource"))).toEqual([]);
    await member.close();
  });

  it("ran under its CSP without script errors or violations", () => {
    expect(world.pageErrors.filter((e) => !e.includes("Failed to load resource"))).toEqual([]);
  });
});
